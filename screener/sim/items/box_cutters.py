"""Utility knives (box cutters): snap-off segmented blades and trapezoid blades."""

from __future__ import annotations

import numpy as np

from screener.sim.geometry import Part, Pose
from screener.sim.items.outlines import rounded
from screener.sim.items.parts import STEEL, block, convex_prism, polygon_parts
from screener.sim.items.random_draws import chance, pick, uniform


def utility_knife(rng: np.random.Generator) -> list[Part]:
    """Box cutter: a snap-off segmented blade in a hollow plastic body with a steel channel and
    slider, or a trapezoid blade in a hollow die-cast body with spare blades inside."""
    if chance(rng, 0.55):
        return _snap_off_cutter(rng)
    return _trapezoid_cutter(rng)


def _snap_off_cutter(rng: np.random.Generator) -> list[Part]:
    blade_h = pick(rng, (9.0, 18.0, 18.0, 25.0))
    body_len = uniform(rng, 115.0, 165.0)
    wall = uniform(rng, 1.5, 2.5)
    body_h = blade_h + 2 * wall + uniform(rng, 2.0, 6.0)
    body_z = uniform(rng, 8.0, 14.0)
    material = pick(rng, ("abs", "polycarbonate", "pom", "nylon"))
    back = uniform(rng, 6.0, 12.0)
    cavity = (body_len - back, body_h - 2 * wall, body_z - 2 * wall)
    parts = [block((body_len, body_h, body_z), (-body_len / 2, 0.0, 0.0), material),
             block(cavity, (-cavity[0] / 2, 0.0, 0.0), material, negative=True)]
    exposed = uniform(rng, 8.0, 60.0)
    slant = blade_h * 0.6
    blade_len = min(uniform(rng, 80.0, 110.0), cavity[0] - 2.0 - slant + exposed)
    parts += _snap_off_blade(exposed, blade_len, blade_h, slant,
                             uniform(rng, 7.0, 13.0) * (blade_h / 18.0) ** 0.5)
    channel_z = cavity[2] / 2 - 0.35
    if channel_z > 0.9:
        parts.append(block((cavity[0] - 2.0, blade_h + 1.0, 0.5),
                           (-cavity[0] / 2, 0.0, -channel_z), STEEL))
    slider_x = exposed - blade_len + uniform(rng, 5.0, 20.0)
    parts.append(block((uniform(rng, 12.0, 20.0), 3.0, body_z * 0.6),
                       (min(slider_x, -8.0), body_h / 2 + 1.5, 0.0),
                       pick(rng, (material, "zinc", STEEL))))
    return parts


def _snap_off_blade(x_tip: float, length: float, height: float, slant: float,
                    segment: float) -> list[Part]:
    """A segmented blade: slanted parallelogram segments with thinner score lines between."""
    lo, hi, score = -height / 2, height / 2, 0.4
    parts: list[Part] = []
    x0 = x_tip
    x_rear = x_tip - length
    while x0 - x_rear > 0.5:
        x1 = max(x0 - segment, x_rear)
        start = x1 + score if x1 > x_rear else x1
        parts.append(convex_prism([(start, lo), (x0, lo), (x0 - slant, hi), (start - slant, hi)],
                                  0.5, STEEL))
        if x1 > x_rear:
            parts.append(convex_prism([(x1, lo), (start, lo), (start - slant, hi),
                                       (x1 - slant, hi)], 0.3, STEEL))
        x0 = x1
    return parts


def _trapezoid_cutter(rng: np.random.Generator) -> list[Part]:
    body_len = uniform(rng, 140.0, 175.0)
    body_h = uniform(rng, 28.0, 38.0)
    body_z = uniform(rng, 14.0, 20.0)
    material = pick(rng, ("aluminium", "zinc", "abs", "aluminium"))
    wall = uniform(rng, 1.5, 2.5) if material != "abs" else uniform(rng, 2.0, 3.0)
    nose = min(max(body_h * uniform(rng, 0.6, 0.75), 20.0 + 2 * wall), body_h - 3.0)
    outline = [(0.0, -body_h / 2), (0.0, -body_h / 2 + nose), (-body_len * 0.3, body_h / 2),
               (-body_len, body_h / 2), (-body_len, -body_h / 2)]
    outline = rounded(outline, [0.0, 2.0, 10.0, 5.0, 5.0], steps=3, closed=True)
    parts = polygon_parts(outline, body_z, material)
    inner = [(0.0, -body_h / 2 + wall), (0.0, -body_h / 2 + nose - wall),
             (-body_len * 0.3 - wall, body_h / 2 - wall), (-body_len + wall, body_h / 2 - wall),
             (-body_len + wall, -body_h / 2 + wall)]
    parts += polygon_parts(inner, body_z - 2 * wall, material, negative=True)
    blade = [(0.0, 0.0), (61.0, 0.0), (61.0 - 19.0 * 0.55, 19.0), (19.0 * 0.55, 19.0)]
    exposed = uniform(rng, 6.0, 20.0)
    y0 = -body_h / 2 + wall + 0.3
    parts.append(convex_prism(blade, 0.63, STEEL, Pose.at(exposed - 61.0, y0)))
    for k in range(int(rng.integers(0, 4))):
        z = (k + 1) * 0.8 * (1 if k % 2 == 0 else -1)
        if abs(z) + 0.35 < (body_z - 2 * wall) / 2:
            parts.append(convex_prism(blade, 0.63, STEEL,
                                      Pose.at(-body_len + wall + 4.0, y0, z)))
    return parts
