"""Benign things found in bags, each built from convex parts of real materials.

Every maker takes a random generator and returns a :class:`SceneObject` centred at the
origin, lying flat with its largest extent along x (millimetres). Hollow pieces are a
solid part with a ``negative`` part of the same material wholly inside it; contents (a
drink, a battery, a circuit board) are separate parts inside that cavity, so no two
positive parts of one object overlap, except where two coincident parts deliberately
describe a mixture (sugar dissolved in water).

The makers live with their kind of thing: :mod:`~screener.sim.items.clothing` (clothing,
shoes), :mod:`~screener.sim.items.books`, :mod:`~screener.sim.items.electronics` (laptops,
phones, chargers, cables), :mod:`~screener.sim.items.bottles`,
:mod:`~screener.sim.items.toiletries`, :mod:`~screener.sim.items.umbrellas` and
:mod:`~screener.sim.items.small_metal` (keys, coins, belt buckles); they are built with the
helpers of :mod:`~screener.sim.items.parts`. This module is their registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import numpy as np

from screener.sim.geometry import SceneObject
from screener.sim.items.books import make_book
from screener.sim.items.bottles import make_bottle
from screener.sim.items.clothing import CLOTHING_STYLES, make_clothing, make_shoe
from screener.sim.items.electronics import make_cable, make_charger, make_laptop, make_phone
from screener.sim.items.small_metal import make_belt_buckle, make_coins, make_keys
from screener.sim.items.toiletries import make_toiletry
from screener.sim.items.umbrellas import make_umbrella
from screener.sim.labels import BENIGN_CLASSES

__all__ = [
    "BENIGN_MAKERS",
    "CLOTHING_STYLES",
    "make_belt_buckle",
    "make_book",
    "make_bottle",
    "make_cable",
    "make_charger",
    "make_clothing",
    "make_coins",
    "make_keys",
    "make_laptop",
    "make_phone",
    "make_shoe",
    "make_toiletry",
    "make_umbrella",
]

_MAKERS: dict[str, Callable[[np.random.Generator], SceneObject]] = {
    "clothing": make_clothing,
    "shoe": make_shoe,
    "book": make_book,
    "laptop": make_laptop,
    "phone": make_phone,
    "charger": make_charger,
    "cable": make_cable,
    "bottle": make_bottle,
    "toiletry": make_toiletry,
    "umbrella": make_umbrella,
    "keys": make_keys,
    "coins": make_coins,
    "belt_buckle": make_belt_buckle,
}

#: Label -> maker for every benign class, in :data:`labels.BENIGN_CLASSES` order.
BENIGN_MAKERS: Mapping[str, Callable[[np.random.Generator], SceneObject]] = MappingProxyType(
    {label: _MAKERS[label] for label in BENIGN_CLASSES}
)
