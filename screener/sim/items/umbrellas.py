"""Folded umbrellas: telescopic shaft, ribs, canopy, handle."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Cylinder, Part, SceneObject
from screener.sim.items.parts import ALONG_X, benign_article, hollow, rod_between, tube_between
from screener.sim.items.random_draws import pick, uniform


def make_umbrella(rng: np.random.Generator) -> SceneObject:
    """A folded umbrella: telescopic steel shaft, ribs, nylon canopy, plastic handle."""
    length = uniform(rng, 230, 330)
    rib_material = pick(rng, ["iron", "aluminium"], [2, 1])
    shaft_r = uniform(rng, 4.5, 6.0)
    parts: list[Part] = []
    # Telescopic shaft: an outer tube holding a thinner one.
    parts += tube_between((0, 0, 0), (length, 0, 0), shaft_r, 0.5, "iron")
    parts += tube_between((0.6, 0, 0), (length * 0.8, 0, 0), shaft_r - 0.8, 0.4, "iron")
    ribs = int(rng.integers(6, 10))
    rib_r = uniform(rng, 0.8, 1.3)
    ring = shaft_r + rib_r + 1.5
    for k in range(ribs):
        phi = 2 * math.pi * k / ribs
        y, z = ring * math.cos(phi), ring * math.sin(phi)
        parts.append(rod_between((length * 0.08, y, z), (length * 0.95, y, z), rib_r, rib_material))
    # Canopy wrapped around the ribs.
    canopy_in = ring + rib_r + 0.5
    canopy_out = canopy_in + uniform(rng, 6, 14)
    flat = uniform(rng, 0.7, 1.0)
    clen = length * 0.92
    parts += hollow(Cylinder(canopy_out * flat, canopy_out, clen),
                    Cylinder(canopy_in * flat if canopy_in * flat > ring + rib_r + 0.2
                             else canopy_in, canopy_in, clen - 2.0),
                    "nylon", (length * 0.5, 0, 0), ALONG_X, density_scale=uniform(rng, 0.3, 0.55))
    # Handle and tip.
    handle_len = uniform(rng, 60, 100)
    handle_r = uniform(rng, 11, 15)
    handle_material = pick(rng, ["abs", "rubber", "wood"])
    parts.append(rod_between((-handle_len - 0.01, 0, 0), (-0.01, 0, 0), handle_r, handle_material))
    parts.append(rod_between((length + 0.01, 0, 0), (length + 15, 0, 0), shaft_r + 1, "abs"))
    return benign_article("umbrella", parts)
