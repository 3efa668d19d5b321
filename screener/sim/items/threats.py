"""Threat articles: handguns, gun parts, ammunition, knives, improvised explosive devices, grenades.

Each maker draws one article from a random generator and returns a
:class:`~screener.sim.geometry.SceneObject` labelled with its class from
:data:`screener.sim.labels.THREAT_CLASSES`. The article lies in its own frame: centred at the
origin, flat (longest extent along x, thinnest along z), in millimetres; the bag packer gives
it a pose. Articles are unions of convex parts that abut without overlapping; hollow pieces
(a barrel's bore, a cartridge case, a grenade body) are a solid with a negative part inside.
Dimensions, proportions, materials and which parts are present all vary with the generator,
and the same generator state always gives the same article.

The makers live with their article family: :mod:`~screener.sim.items.guns` (built from
:mod:`~screener.sim.items.pistols`, :mod:`~screener.sim.items.revolvers`,
:mod:`~screener.sim.items.magazines`, :mod:`~screener.sim.items.triggers` and
:mod:`~screener.sim.items.cartridges`), :mod:`~screener.sim.items.ammunition`,
:mod:`~screener.sim.items.knives` (with :mod:`~screener.sim.items.knife_parts` and
:mod:`~screener.sim.items.box_cutters`), :mod:`~screener.sim.items.ieds` (with
:mod:`~screener.sim.items.ied_components` and :mod:`~screener.sim.items.ied_charges`) and
:mod:`~screener.sim.items.grenades`. This module is their registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from screener.sim.geometry import SceneObject
from screener.sim.items.ammunition import make_ammunition
from screener.sim.items.grenades import make_grenade
from screener.sim.items.guns import make_gun_part, make_handgun
from screener.sim.items.ieds import make_ied
from screener.sim.items.knives import make_knife

__all__ = [
    "THREAT_MAKERS",
    "make_ammunition",
    "make_grenade",
    "make_gun_part",
    "make_handgun",
    "make_ied",
    "make_knife",
]

#: Maker per threat class; the keys are exactly those of ``labels.THREAT_CLASSES``.
THREAT_MAKERS: Mapping[str, Callable[[np.random.Generator], SceneObject]] = MappingProxyType({
    "handgun": make_handgun,
    "gun_part": make_gun_part,
    "ammunition": make_ammunition,
    "knife": make_knife,
    "ied": make_ied,
    "grenade": make_grenade,
})
