"""Drinks containers lying on their side, partly full: PET and glass bottles, cans,
vacuum flasks."""

from __future__ import annotations

import numpy as np

from screener.sim.geometry import Cylinder, Part, SceneObject, prism
from screener.sim.items.outlines import segment_outline
from screener.sim.items.parts import ALONG_X, benign_article, frustum, hollow, part
from screener.sim.items.random_draws import pick, uniform


def _liquid(material_fill: str) -> list[tuple[str, float]]:
    """(material, density scale) pairs that make up a fill, mixtures as coincident parts."""
    if material_fill == "water":
        return [("water", 1.0)]
    if material_fill == "soft_drink":  # about 10 % sucrose by mass, solution density 1.04
        return [("water", 0.936), ("sugar", 0.104 / 0.85)]
    if material_fill == "wine":
        return [("water", 0.99)]
    if material_fill == "oil":
        return [("polyethylene", 0.92 / 0.95)]
    raise ValueError(material_fill)


def _lying_fill(radius: float, length: float, fraction: float, x_centre: float,
                fill: str) -> list[Part]:
    """Liquid in a horizontal round cavity (axis along x) filled to ``fraction`` of its depth."""
    level = -radius + 2 * radius * fraction
    outline = segment_outline(radius, level)
    # prism frame: outline x -> world y, outline y -> world z, extrusion z -> world x
    rotation = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return [part(prism(outline, length), material, (x_centre, 0, 0), density_scale=scale,
                 rotation=rotation) for material, scale in _liquid(fill)]


def make_bottle(rng: np.random.Generator) -> SceneObject:
    """A drinks bottle, can or flask lying on its side, partly full of liquid."""
    style = pick(rng, ["pet", "glass", "can", "flask"], [4, 2, 1.5, 1])
    fraction = uniform(rng, 0.25, 0.95)
    fill = pick(rng, ["water", "soft_drink", "wine", "oil"], [4, 3, 1, 0.3])
    parts: list[Part] = []
    if style == "can":
        r, length, wall = 33.0, uniform(rng, 115, 168), 0.12
        parts += hollow(Cylinder(r, r, length), Cylinder(r - wall, r - wall, length - 0.6),
                        "aluminium", (0, 0, 0), ALONG_X)
        parts += _lying_fill(r - wall - 0.05, length - 0.7, max(fraction, 0.8), 0.0,
                             pick(rng, ["water", "soft_drink"]))
        return benign_article("bottle", parts)
    if style == "flask":  # double-walled steel vacuum flask
        r, length = uniform(rng, 33, 40), uniform(rng, 200, 280)
        parts += hollow(Cylinder(r, r, length), Cylinder(r - 0.6, r - 0.6, length - 1.2),
                        "iron", (0, 0, 0), ALONG_X)
        ri, li = r - 5.0, length - 14.0
        parts += hollow(Cylinder(ri, ri, li), Cylinder(ri - 0.5, ri - 0.5, li - 1.0),
                        "iron", (-3.0, 0, 0), ALONG_X)
        parts += _lying_fill(ri - 0.55, li - 1.1, fraction, -3.0, fill)
        parts.append(part(Cylinder(r * 0.8, r * 0.8, 30.0), "polyethylene",
                          (length / 2 + 15.01, 0, 0), ALONG_X))
        return benign_article("bottle", parts)
    glass = style == "glass"
    material = "glass" if glass else "polyethylene"
    scale = 1.0 if glass else 1.45  # PET is denser than polyethylene
    wall = uniform(rng, 2.5, 4.5) if glass else uniform(rng, 0.3, 0.5)
    r = uniform(rng, 34, 40) if glass else uniform(rng, 28, 45)
    body = uniform(rng, 150, 210) if glass else uniform(rng, 120, 230)
    shoulder = uniform(rng, 30, 70)
    neck_r = 14.0 if glass else 13.0
    neck = uniform(rng, 40, 80) if glass else 18.0
    x0 = -(body + shoulder + neck) / 2
    # Body, shoulder (a frustum) and neck, each closed, end to end along x.
    xb = x0 + body / 2
    parts += hollow(Cylinder(r, r, body), Cylinder(r - wall, r - wall, body - 2 * wall),
                    material, (xb, 0, 0), ALONG_X, density_scale=scale)
    xs = x0 + body + shoulder / 2 + 0.01
    parts += hollow(frustum(r, neck_r, shoulder),
                    frustum(r - wall * 1.2, neck_r - wall * 1.2, shoulder - 2 * wall),
                    material, (xs, 0, 0), ALONG_X, density_scale=scale)
    xn = x0 + body + shoulder + neck / 2 + 0.02
    parts += hollow(Cylinder(neck_r, neck_r, neck),
                    Cylinder(neck_r - wall, neck_r - wall, neck - 2 * wall),
                    material, (xn, 0, 0), ALONG_X, density_scale=scale)
    parts += _lying_fill(r - wall - 0.05, body - 2 * wall - 0.1, fraction, xb, fill)
    # Cap or cork.
    cap_len = 18.0 if not glass else uniform(rng, 12, 40)
    cap_material = "polyethylene" if not glass else pick(rng, ["aluminium", "wood"])
    cap_r = neck_r + 1.5 if cap_material != "wood" else neck_r - wall - 0.2
    cap_x = x0 + body + shoulder + neck + cap_len / 2 + 0.03
    if cap_material == "wood":  # a cork inside the neck
        cap_len = min(cap_len, neck - 2 * wall - 0.2)
        cap_x = xn + (neck - 2 * wall) / 2 - cap_len / 2 - 0.05
        parts.append(part(Cylinder(cap_r, cap_r, cap_len), "wood", (cap_x, 0, 0), ALONG_X,
                          density_scale=0.4))
    elif cap_material == "aluminium":
        parts += hollow(Cylinder(cap_r, cap_r, cap_len),
                        Cylinder(cap_r - 0.3, cap_r - 0.3, cap_len - 0.6), "aluminium",
                        (cap_x, 0, 0), ALONG_X)
    else:
        parts += hollow(Cylinder(cap_r, cap_r, cap_len),
                        Cylinder(cap_r - 1.2, cap_r - 1.2, cap_len - 2.4), "polyethylene",
                        (cap_x, 0, 0), ALONG_X)
    return benign_article("bottle", parts)
