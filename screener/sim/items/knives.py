"""Knives: kitchen, folding pocket, dagger or combat, utility (box cutter) and ceramic."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from screener.sim.geometry import Cylinder, Part, Pose, SceneObject
from screener.sim.items.box_cutters import utility_knife
from screener.sim.items.knife_parts import (
    blade_outline,
    blade_parts,
    moulded_handle,
    round_handle,
    scaled_handle,
    stacked_segments,
)
from screener.sim.items.outlines import arc, rect, rounded, split_convex
from screener.sim.items.parts import (
    STEEL,
    block,
    convex_prism,
    insert,
    place,
    polygon_parts,
    rod,
    threat_article,
)
from screener.sim.items.random_draws import chance, pick, uniform

_HANDLE_PLASTICS = ("pom", "nylon", "polyethylene", "abs", "polycarbonate", "rubber")


def _kitchen_knife(rng: np.random.Generator) -> list[Part]:
    kind = pick(rng, ("chef", "chef", "paring", "santoku", "boning", "bread"))
    length = {"chef": (150.0, 215.0), "paring": (70.0, 100.0), "santoku": (130.0, 180.0),
              "boning": (120.0, 160.0), "bread": (180.0, 215.0)}[kind]
    lb = uniform(rng, *length)
    ratio = {"chef": (0.2, 0.27), "paring": (0.18, 0.26), "santoku": (0.25, 0.32),
             "boning": (0.12, 0.17), "bread": (0.13, 0.17)}[kind]
    h = lb * uniform(rng, *ratio)
    t = uniform(rng, 1.4, 2.6)
    parts = blade_parts(blade_outline(kind, lb, h, rng), h, t, STEEL)
    handle_len = uniform(rng, 95.0, 125.0) if lb > 110 else uniform(rng, 75.0, 100.0)
    handle_h = min(uniform(rng, 17.0, 25.0), max(h, 16.0))
    y_top = uniform(rng, -1.0, 2.5)
    x_front = 0.0
    if chance(rng, 0.5):
        bol = uniform(rng, 6.0, 14.0)
        bol_outline = [(0.0, min(y_top, 0.0)), (0.0, -h * 0.98), (-bol, y_top - handle_h),
                       (-bol, y_top)]
        parts.append(convex_prism(bol_outline, uniform(rng, 8.0, 13.0), STEEL))
        x_front = -bol
    if chance(rng, 0.55):
        parts += scaled_handle(x_front, handle_len, y_top, handle_h, t, rng)
    else:
        material = pick(rng, ("wood", *_HANDLE_PLASTICS))
        parts += moulded_handle(x_front, handle_len, y_top, handle_h, t, STEEL, material, rng)
    return parts


def _folding_knife(rng: np.random.Generator) -> list[Part]:
    """Pocket knife: blade on a pivot between liners and scales; open or folded shut."""
    handle_len = uniform(rng, 80.0, 125.0)
    handle_h = uniform(rng, 14.0, 22.0)
    lb = handle_len * uniform(rng, 0.72, 0.9) - 8.0
    hb = handle_h * uniform(rng, 0.8, 1.05)
    tb = uniform(rng, 2.0, 3.5)
    kind = pick(rng, ("drop", "drop", "clip", "tanto"))
    outline = blade_outline(kind, lb, hb, rng)
    tang = arc(0.0, -hb / 2, hb / 2, hb / 2, math.pi / 2, 1.5 * math.pi, 7)
    pivot = (handle_len - 8.0, handle_h / 2)  # from the butt end, mid-height
    folding_outline = outline[:-1] + tang
    open_blade = chance(rng, 0.6)
    angle = 0.0 if open_blade else math.pi
    blade_pose = Pose.at(0.0, hb / 2).then(Pose.at(pivot[0], pivot[1], rz=angle))
    parts = place(blade_parts(folding_outline, hb, tb, STEEL), blade_pose)
    gap = tb + 0.5
    liner_t = uniform(rng, 0.8, 1.3) if chance(rng, 0.6) else 0.0
    scale_mat = pick(rng, ("aluminium", "fr4", "wood", "nylon", "pom", "aluminium"))
    scale_t = uniform(rng, 2.0, 4.0)
    handle = rounded(rect(0.0, 0.0, handle_len, handle_h), handle_h * 0.35, steps=3, closed=True)
    for side in (-1.0, 1.0):
        z_liner = side * (gap + liner_t) / 2
        z_scale = side * (gap / 2 + liner_t + scale_t / 2)
        if liner_t > 0:
            parts += polygon_parts(handle, liner_t, STEEL, Pose.at(z=z_liner))
        parts += polygon_parts(handle, scale_t, scale_mat, Pose.at(z=z_scale))
        parts += insert(Cylinder(3.0, 3.0, scale_t), Pose.at(*pivot, z_scale), STEEL, scale_mat)
    room = handle_len - 8.0 - lb - 3.0 if not open_blade else handle_len - 8.0 - hb / 2 - 3.0
    if room > 4.0:
        spacer = min(room, handle_len * 0.45)
        parts.append(block((spacer, handle_h * 0.3, gap), (1.0 + spacer / 2, handle_h * 0.8, 0.0),
                           pick(rng, (STEEL, "aluminium", "nylon"))))
    if chance(rng, 0.6):
        z = gap / 2 + liner_t + scale_t + 0.5
        clip = rect(4.0, handle_h * 0.45, 4.0 + handle_len * uniform(rng, 0.5, 0.7),
                    handle_h * 0.85)
        parts.append(convex_prism(clip, 1.0, STEEL, Pose.at(z=z)))
    return parts


def _fighting_knife(rng: np.random.Generator) -> list[Part]:
    """Dagger (double-edged, central ridge) or combat/bowie knife (clip point), with a cross
    guard, a round grip over a hidden tang and a pommel."""
    dagger = chance(rng, 0.45)
    lb = uniform(rng, 100.0, 200.0)
    t = uniform(rng, 3.0, 4.0) if dagger else uniform(rng, 3.5, 5.0)
    if dagger:
        hb = uniform(rng, 22.0, 36.0)
        half = hb / 2
        outline = [(0.0, -half), (lb * uniform(rng, 0.55, 0.75), -half * 0.85), (lb, 0.0),
                   (lb * uniform(rng, 0.55, 0.75), half * 0.85), (0.0, half)]
        parts: list[Part] = []
        ridge = half * uniform(rng, 0.25, 0.4)
        top, rest = split_convex(outline, (0.0, ridge), (1.0, 0.0))
        middle, bottom = split_convex(rest, (0.0, -ridge), (1.0, 0.0))
        parts += [convex_prism(middle, t, STEEL), convex_prism(top, 0.5 * t, STEEL),
                  convex_prism(bottom, 0.5 * t, STEEL)]
        y_c = 0.0
    else:
        hb = uniform(rng, 26.0, 42.0)
        kind = pick(rng, ("clip", "clip", "drop", "tanto"))
        parts = blade_parts(blade_outline(kind, lb, hb, rng), hb, t, STEEL)
        y_c = -hb / 2
    guard_t = uniform(rng, 4.0, 9.0)
    guard_h = hb + 2 * uniform(rng, 6.0, 18.0)
    guard_mat = pick(rng, (STEEL, STEEL, "brass", "aluminium"))
    parts.append(block((guard_t, guard_h, uniform(rng, 6.0, 12.0)), (-guard_t / 2, y_c, 0.0),
                       guard_mat))
    grip_len = uniform(rng, 95.0, 125.0)
    ry, rz = uniform(rng, 11.0, 15.0), uniform(rng, 9.0, 13.0)
    style = pick(rng, ("moulded", "stacked"))
    if style == "moulded":
        segments = [(grip_len, pick(rng, ("rubber", "nylon", "wood", "polycarbonate")))]
    else:
        segments = stacked_segments(rng, grip_len)
    tang = (grip_len * uniform(rng, 0.7, 0.98), ry * 0.8, uniform(rng, 3.0, 5.0))
    parts += round_handle(-guard_t, y_c, segments, ry, rz, tang)
    pommel_len = uniform(rng, 8.0, 20.0)
    parts.append(rod(pommel_len, rz * uniform(rng, 1.0, 1.25),
                     pick(rng, (STEEL, "brass", "aluminium")),
                     Pose.at(-guard_t - grip_len - pommel_len / 2, y_c),
                     radius2=ry * uniform(rng, 1.0, 1.2)))
    return parts


def _ceramic_knife(rng: np.random.Generator) -> list[Part]:
    """Zirconia blade (no metal at all) on a moulded plastic handle.

    Ceramic kitchen knives are yttria-stabilised zirconia, 6 g/cm^3 with zirconium's K edge
    at 18 keV: they show up on X-ray about as strongly as a steel blade of the same shape.
    """
    kind = pick(rng, ("chef", "paring", "santoku"))
    lb = uniform(rng, 75.0, 100.0) if kind == "paring" else uniform(rng, 120.0, 180.0)
    h = lb * (uniform(rng, 0.18, 0.25) if kind != "santoku" else uniform(rng, 0.25, 0.3))
    t = uniform(rng, 1.8, 3.0)
    parts = blade_parts(blade_outline(kind, lb, h, rng), h, t, "zirconia")
    handle_len = uniform(rng, 85.0, 120.0)
    handle_h = min(uniform(rng, 16.0, 24.0), max(h, 15.0))
    material = pick(rng, ("pom", "abs", "polycarbonate", "polyethylene", "nylon"))
    parts += moulded_handle(0.0, handle_len, uniform(rng, -1.0, 2.0), handle_h, t, "zirconia",
                            material, rng)
    return parts


def make_knife(rng: np.random.Generator) -> SceneObject:
    """Knife: a kitchen knife, a folding pocket knife, a dagger or combat knife, a utility
    knife (box cutter) or a ceramic knife; 80-330 mm long.

    The blade is steel (1.4-5 mm thick, thinner along the ground edge) with a pointed or
    rounded tip: chef, paring, santoku, boning, serrated bread, drop-point, tanto or
    clip-point (concave clip, sometimes a saw back). Kitchen knives have a steel bolster
    sometimes, and a full tang between wooden or plastic scales with rivets, or a hidden tang
    in a moulded handle. A pocket knife folds on a pivot between steel liners and scales
    (aluminium, G10, wood, plastic) with a back spacer and a pocket clip; the blade is open or
    folded into the handle. Daggers are double-edged with a central ridge; daggers and combat
    knives have a cross guard, a round grip (moulded, or stacked leather washers with spacers)
    over a hidden tang, and a pommel. A box cutter is a thin segmented snap-off blade or a
    trapezoid blade in a hollow plastic or die-cast body. A ceramic knife has a zirconia
    blade and tang in a plastic handle: no metal at all.
    """
    kind = pick(rng, ("kitchen", "kitchen", "folding", "fighting", "utility", "ceramic"))
    builders: dict[str, Callable[[np.random.Generator], list[Part]]] = {
        "kitchen": _kitchen_knife, "folding": _folding_knife, "fighting": _fighting_knife,
        "utility": utility_knife, "ceramic": _ceramic_knife,
    }
    return threat_article("knife", builders[kind](rng))
