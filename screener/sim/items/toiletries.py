"""Toiletries: tubes, gel bottles, aerosols, jars, razors and toothbrushes."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Cylinder, Part, Pose, SceneObject, box, prism
from screener.sim.items.outlines import rounded_rect, segment_outline
from screener.sim.items.parts import (
    ALONG_X,
    benign_article,
    bounds,
    centred,
    hollow,
    part,
    place,
    rounded_shell,
)
from screener.sim.items.random_draws import chance, pick, uniform


def _toiletry_piece(rng: np.random.Generator) -> list[Part]:
    """One toiletry lying along x at the origin."""
    kind = pick(rng, ["tube", "bottle", "aerosol", "jar", "razor", "toothbrush"],
                [3, 3, 2, 1.5, 1, 1])
    parts: list[Part] = []
    if kind == "tube":
        length, r = uniform(rng, 100, 190), uniform(rng, 14, 22)
        flat = uniform(rng, 0.45, 0.7)
        shell = "polyethylene" if chance(rng, 0.7) else "aluminium"
        wall = 0.45 if shell == "polyethylene" else 0.12
        parts += hollow(Cylinder(r * flat, r, length),
                        Cylinder(r * flat - wall, r - wall, length - 2 * wall), shell,
                        (0, 0, 0), ALONG_X)
        fill = Cylinder(r * flat - wall - 0.02, r - wall - 0.02, length - 2 * wall - 0.04)
        parts.append(part(fill, "skin_care", (0, 0, 0), ALONG_X,
                          density_scale=uniform(rng, 0.6, 1.0)))
        parts.append(part(box(8.0, 2 * r + 6, 1.0), shell, (-length / 2 - 4.01, 0, 0)))
        parts.append(part(Cylinder(9.0, 9.0, 14.0), "polyethylene", (length / 2 + 7.01, 0, 0),
                          ALONG_X))
    elif kind == "bottle":
        lx, ly, lz = uniform(rng, 80, 150), uniform(rng, 35, 60), uniform(rng, 22, 40)
        wall = 0.9
        rr = min(ly, lz) * 0.45
        parts += rounded_shell(lx, ly, lz, rr, wall, "polyethylene")
        fill_h = (lz - 2 * wall - 0.1) * uniform(rng, 0.5, 0.95)
        gel = prism(rounded_rect(lx - 2 * wall - 0.1, ly - 2 * wall - 0.1, rr - wall - 0.05),
                    fill_h)
        parts.append(part(gel, "skin_care", (0, 0, -lz / 2 + wall + 0.05 + fill_h / 2)))
        parts.append(part(Cylinder(12.0, 12.0, 20.0), pick(rng, ["polyethylene", "pom"]),
                          (lx / 2 + 10.01, 0, 0), ALONG_X))
    elif kind == "aerosol":
        r, length = uniform(rng, 22, 27), uniform(rng, 120, 160)
        parts += hollow(Cylinder(r, r, length), Cylinder(r - 0.4, r - 0.4, length - 0.8),
                        "aluminium", (0, 0, 0), ALONG_X)
        level = uniform(rng, 0.3, 0.7)
        outline = segment_outline(r - 0.45, -r + 2 * r * level)
        rotation = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        parts.append(part(prism(outline, length - 0.9), "polyethylene", (0, 0, 0),
                          density_scale=0.6, rotation=rotation))  # liquefied propellant and product
        parts.append(part(Cylinder(12.5, 12.5, 3.0), "iron", (length / 2 + 1.51, 0, 0),
                          ALONG_X))  # valve cup
        parts += hollow(Cylinder(r, r, 35.0), Cylinder(r - 1.2, r - 1.2, 32.6), "polyethylene",
                        (length / 2 + 3.02 + 17.5, 0, 0), ALONG_X)
    elif kind == "jar":
        r, h = uniform(rng, 25, 40), uniform(rng, 25, 45)
        material = pick(rng, ["glass", "polyethylene"])
        wall = 3.0 if material == "glass" else 1.5
        parts += hollow(Cylinder(r, r, h), Cylinder(r - wall, r - wall, h - 2 * wall), material)
        parts.append(part(Cylinder(r - wall - 0.05, r - wall - 0.05, h - 2 * wall - 0.1),
                          "skin_care", density_scale=uniform(rng, 0.7, 1.0)))
        parts += hollow(Cylinder(r + 1.5, r + 1.5, 12.0), Cylinder(r, r, 10.0),
                        pick(rng, ["polyethylene", "aluminium"]), (0, 0, h / 2 + 6.01))
    elif kind == "razor":
        length = uniform(rng, 110, 150)
        parts.append(part(box(length, 12.0, 9.0), "abs", (0, 0, 0)))
        parts.append(part(box(12.0, 40.0, 8.0), "abs", (length / 2 + 6.01, 0, 0)))
        for k in range(3):
            parts.append(part(box(1.2, 36.0, 0.1), "iron", (length / 2 + 2 + 3 * k, 0, 4.1)))
    else:
        length = uniform(rng, 170, 195)
        parts.append(part(box(length, 11.0, 7.0), pick(rng, ["polyethylene", "pom"])))
        parts.append(part(box(25.0, 11.0, 10.0), "nylon", (length / 2 - 14, 0, 8.51),
                          density_scale=0.4))
    return parts


def make_toiletry(rng: np.random.Generator) -> SceneObject:
    """A toiletry or a small kit of them side by side (tubes, gels, aerosol, jar, razor)."""
    n = 1 if chance(rng, 0.45) else int(rng.integers(2, 5))
    parts: list[Part] = []
    y = 0.0
    for _ in range(n):
        piece = centred(_toiletry_piece(rng))
        lo, hi = bounds(piece)
        if hi[1] - lo[1] > hi[0] - lo[0]:
            piece = centred(place(piece, Pose.at(rz=math.pi / 2)))
            lo, hi = bounds(piece)
        width = hi[1] - lo[1]
        parts += place(piece, Pose.at(uniform(rng, -10, 10), y + width / 2, -lo[2]))
        y += width + 2.0
    return benign_article("toiletry", parts)
