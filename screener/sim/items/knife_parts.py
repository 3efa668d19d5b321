"""Knife blades and handles.

A blade runs from its heel (x = 0) to its tip towards +x, spine towards +y; handles run
back from the blade along -x.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from screener.sim.geometry import Cylinder, Part, Pose, box
from screener.sim.items.outlines import Outline, Point, bezier, convex_pieces, rounded, split_convex
from screener.sim.items.parts import STEEL, convex_prism, insert, polygon_parts, rod
from screener.sim.items.random_draws import chance, pick, uniform


def blade_outline(kind: str, length: float, height: float, rng: np.random.Generator
                   ) -> Outline:
    """A blade from the heel (x = 0) to the tip (x = length); spine at y = 0, edge at -height.

    Kinds: chef, paring, santoku, boning, bread (serrated edge), drop, tanto, clip (concave
    clip, optionally a saw-backed spine).
    """
    h, lb = height, length
    if kind == "tanto":
        x_t = lb * uniform(rng, 0.75, 0.88)
        tip = -h * uniform(rng, 0.05, 0.2)
        return [(0.0, -h), (x_t, -h), (lb, tip), (lb * 0.97, 0.0), (0.0, 0.0)]
    tip_height = {"chef": (0.6, 0.8), "paring": (0.4, 0.65), "santoku": (0.85, 0.95),
                  "boning": (0.2, 0.45), "bread": (0.45, 0.6), "drop": (0.35, 0.55),
                  "clip": (0.3, 0.5)}[kind]
    y_tip = -h * uniform(rng, *tip_height)
    edge_ctrl = (lb * uniform(rng, 0.62, 0.85), -h)
    x_belly = min(lb * uniform(rng, 0.3, 0.5), edge_ctrl[0] - 5.0)
    if kind == "bread":
        edge = _serrated((0.0, -h), (lb * 0.88, -h), uniform(rng, 3.0, 5.0), uniform(rng, 0.8, 1.4))
        edge += bezier((lb * 0.88, -h), (lb, -h), (lb, y_tip), 5)[1:]
    else:
        edge = [(0.0, -h), *bezier((x_belly, -h), edge_ctrl, (lb, y_tip), 8)]
    spine_ctrl = (lb * uniform(rng, 0.6, 0.8), 0.0)
    x_spine = min(lb * uniform(rng, 0.3, 0.55), spine_ctrl[0] - 5.0)
    if kind == "clip":
        x_clip = lb * uniform(rng, 0.55, 0.7)
        sag = -y_tip * uniform(rng, 0.2, 0.45)
        clip = bezier((lb, y_tip), ((lb + x_clip) / 2, y_tip / 2 - sag), (x_clip, 0.0), 6)[1:]
        spine = clip + _saw_back(rng, x_clip, lb) + [(0.0, 0.0)]
    else:
        spine = bezier((lb, y_tip), spine_ctrl, (x_spine, 0.0), 8)[1:]
        spine += [(0.0, 0.0)]
    return edge + spine


def _serrated(a: Point, b: Point, pitch: float, depth: float) -> Outline:
    """Scallops along the straight edge from ``a`` to ``b`` (the blade above it)."""
    count = max(int(math.dist(a, b) / pitch), 1)
    pts: Outline = [a]
    for k in range(count):
        t0, t1 = k / count, (k + 1) / count
        mid = (t0 + t1) / 2
        pts.append((a[0] + (b[0] - a[0]) * mid, a[1] + depth))
        pts.append((a[0] + (b[0] - a[0]) * t1, a[1]))
    return pts


def _saw_back(rng: np.random.Generator, x_clip: float, length: float) -> Outline:
    """Saw teeth on the spine between x_clip and the heel (right to left), or none."""
    if not chance(rng, 0.35):
        return []
    x1, x0 = x_clip - 0.05 * length, x_clip - uniform(rng, 0.25, 0.4) * length
    pitch = uniform(rng, 4.0, 6.0)
    teeth: Outline = []
    x = x1
    while x - pitch > x0:
        teeth += [(x, 0.0), (x - 0.6 * pitch, uniform(rng, 2.0, 3.0))]
        x -= pitch
    return [*teeth, (x, 0.0)]


def blade_parts(outline: Outline, height: float, thickness: float, material: str,
                bevel: float = 0.45) -> list[Part]:
    """Blade prisms: the spine band full thickness, the ground edge band thinner."""
    parts: list[Part] = []
    for piece in convex_pieces(outline):
        above, below = split_convex(piece, (0.0, -height * bevel), (1.0, 0.0))
        if above:
            parts.append(convex_prism(above, thickness, material))
        if below:
            parts.append(convex_prism(below, 0.5 * thickness, material))
    return parts


def _handle_outline(x_front: float, length: float, y_top: float, height: float,
                    rng: np.random.Generator) -> Outline:
    """A slab handle outline, front edge square at ``x_front``, bellied, with a rounded butt."""
    belly = height * uniform(rng, 0.0, 0.12)
    flare = height * uniform(rng, 0.0, 0.15)
    x_mid, x_end = x_front - 0.5 * length, x_front - length
    pts = [(x_front, y_top), (x_front, y_top - height), (x_mid, y_top - height - belly),
           (x_end, y_top - height - flare), (x_end, y_top + flare * 0.5),
           (x_mid, y_top + belly * 0.3)]
    return rounded(pts, [0.0, 0.0, 0.0, height * 0.3, height * 0.3, 0.0], steps=3, closed=True)


def scaled_handle(x_front: float, length: float, y_top: float, height: float,
                  tang_t: float, rng: np.random.Generator) -> list[Part]:
    """Full tang: a steel tang the shape of the handle between two scales held by rivets."""
    outline = _handle_outline(x_front, length, y_top, height, rng)
    parts = polygon_parts(outline, tang_t, STEEL)
    scale_mat = pick(rng, ("wood", "wood", "pom", "nylon", "fr4", "polycarbonate"))
    scale_t = uniform(rng, 3.5, 7.0)
    rivet_mat = pick(rng, ("brass", STEEL, "aluminium", "copper"))
    rivets = int(rng.integers(2, 4))
    r = uniform(rng, 1.8, 2.8)
    for side in (-1.0, 1.0):
        z = side * (tang_t + scale_t) / 2
        parts += polygon_parts(outline, scale_t, scale_mat, Pose.at(z=z))
        for k in range(rivets):
            x = x_front - length * (0.18 + 0.62 * k / (rivets - 1))
            parts += insert(Cylinder(r, r, scale_t), Pose.at(x, y_top - height / 2, z),
                            rivet_mat, scale_mat)
    return parts


def moulded_handle(x_front: float, length: float, y_top: float, height: float,
                   tang_t: float, tang_mat: str, material: str,
                   rng: np.random.Generator) -> list[Part]:
    """A moulded slab handle with a narrower hidden tang inside it."""
    outline = _handle_outline(x_front, length, y_top, height, rng)
    thick = uniform(rng, 13.0, 22.0)
    parts = polygon_parts(outline, thick, material)
    tang_len = length * uniform(rng, 0.45, 0.85)
    tang_h = height * uniform(rng, 0.3, 0.6)
    y_c = y_top - height / 2
    shape = box(tang_len, tang_h, tang_t)
    parts += insert(shape, Pose.at(x_front - tang_len / 2, y_c), tang_mat, material)
    return parts


def round_handle(x_front: float, y_c: float, segments: Sequence[tuple[float, str]],
                 ry: float, rz: float, tang: tuple[float, float, float]) -> list[Part]:
    """A round grip along -x from ``x_front``: slices (length, material), each holding its
    length of a hidden tang (length, height, thickness) while the tang lasts."""
    parts: list[Part] = []
    x = x_front
    tang_end = x_front - tang[0]
    for seg_len, material in segments:
        mid = x - seg_len / 2
        parts.append(rod(seg_len, rz, material, Pose.at(mid, y_c), radius2=ry))
        inside = max(min(x, x_front) - max(x - seg_len, tang_end), 0.0)
        if inside > 0.05:
            piece = box(inside, tang[1], tang[2])
            parts += insert(piece, Pose.at(x - inside / 2, y_c), STEEL, material)
        x -= seg_len
    return parts


def stacked_segments(rng: np.random.Generator, total: float) -> list[tuple[float, str]]:
    """Leather washers with occasional metal or fibre spacers, front to back."""
    segments: list[tuple[float, str]] = []
    spacer = pick(rng, ("brass", "aluminium", "fr4"))
    left = total
    while left > 0.5:
        if segments and segments[-1][1] == "leather" and chance(rng, 0.35):
            piece = (min(uniform(rng, 1.0, 2.5), left), spacer)
        else:
            piece = (min(uniform(rng, 5.0, 9.0), left), "leather")
        segments.append(piece)
        left -= piece[0]
    return segments
