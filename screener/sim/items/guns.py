"""Handguns and gun parts: whole pistols and revolvers, or one major component of one."""

from __future__ import annotations

import numpy as np

from screener.sim.geometry import SceneObject
from screener.sim.items.parts import threat_article
from screener.sim.items.pistols import Pistol
from screener.sim.items.random_draws import chance, pick, uniform
from screener.sim.items.revolvers import Revolver


def make_handgun(rng: np.random.Generator) -> SceneObject:
    """Handgun: a self-loading pistol or a revolver, compact to full size (about 140-250 mm).

    A pistol is a steel slide (a box hollowed in front of the breech face, sights on top)
    riding on a frame; inside the slide a steel barrel with a thick chamber and a rifled bore,
    and a recoil spring on its guide rod. The frame is polymer (acetal or nylon, with steel
    rail inserts) or metal (steel or aluminium, with a hammer and grip scales of wood,
    rubber or plastic held by steel screws). The grip is raked back 14-22 degrees behind the
    trigger and holds the magazine well; a ring-shaped trigger guard hangs in front of it with
    a curved trigger inside. A magazine (steel tube, base plate, follower, coil spring) sits in
    the well, usually with cartridges (brass cases, lead bullets) in one or two columns, and
    sometimes a round is chambered.

    A revolver is a steel or aluminium frame with a window for the cylinder (five to eight
    chambers bored through a steel drum, some loaded with live rounds or fired cases), a top
    strap over it, a barrel in line with the top chamber, an ejector rod or shroud under the
    barrel, a hammer with a spur, a trigger guard and trigger, and a round-butted grip of two
    wooden or rubber panels around a steel grip frame.
    """
    groups = Revolver(rng).parts() if chance(rng, 0.3) else Pistol(rng).components()
    return threat_article("handgun", [p for group in groups.values() for p in group])


def make_gun_part(rng: np.random.Generator) -> SceneObject:
    """Gun part: one major component of a handgun on its own.

    One of: a pistol slide (steel box hollowed in front of the breech, sights on top),
    sometimes with its barrel and recoil spring inside; a bare barrel (thick chamber, bore);
    a pistol frame/receiver with grip, trigger guard and trigger (polymer with steel inserts,
    or metal with grip scales); a magazine, empty or partly loaded; or a revolver cylinder
    with its chambers, empty or loaded.
    """
    kind = pick(rng, ("slide", "slide_assembly", "barrel", "frame", "magazine", "cylinder"))
    if kind == "cylinder":
        revolver = Revolver(rng)
        return threat_article("gun_part", revolver.cylinder(uniform(rng, 0.0, 1.0)))
    pistol = Pistol(rng)
    if kind == "slide":
        parts = pistol.slide()
    elif kind == "slide_assembly":
        parts = pistol.slide() + pistol.barrel(False) + pistol.recoil_spring()
    elif kind == "barrel":
        parts = pistol.barrel(False)
    elif kind == "frame":
        parts = pistol.frame()
    else:
        rounds = int(rng.integers(0, 16)) if chance(rng, 0.5) else 0
        parts = pistol.magazine(rounds, seated=False)
    return threat_article("gun_part", parts)
