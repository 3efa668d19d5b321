"""Clothing and shoes: folded shirts, jeans, jumpers, jackets, rolled or bundled
garments; sneakers, dress shoes and boots."""

from __future__ import annotations

import math

import numpy as np

from screener.sim.geometry import Cylinder, Ellipsoid, Part, Pose, SceneObject, box, prism
from screener.sim.items.outlines import convex_outline, rounded_rect
from screener.sim.items.parts import ALONG_X, benign_article, hollow, intersect, part, place
from screener.sim.items.random_draws import chance, pick, uniform


def _zip_line(x0: float, x1: float, y: float, z: float, material: str) -> list[Part]:
    """Zip teeth as a thin metal or plastic strip with its slider, lying on z = ``z``."""
    length = x1 - x0
    teeth = part(box(length, 5.0, 1.6), material, ((x0 + x1) / 2, y, z + 0.8),
                 density_scale=0.55 if material != "pom" else 0.8)
    slider = part(box(14.0, 9.0, 3.0), "zinc" if material != "pom" else "pom",
                  (x1 + 9.0, y, z + 1.5))
    return [teeth, slider]


def _folded_stack(rng: np.random.Generator, sx: float, sy: float, layers: int,
                  layer_t: tuple[float, float], density: tuple[float, float],
                  material: str = "cotton") -> tuple[list[Part], float]:
    """Folded fabric: stacked soft slabs, each with rolled fold edges. Returns (parts, top z)."""
    parts: list[Part] = []
    z = 0.0
    for _ in range(layers):
        t = uniform(rng, *layer_t)
        lx = sx * uniform(rng, 0.9, 1.03)
        ly = sy * uniform(rng, 0.88, 1.03)
        yaw = uniform(rng, -0.05, 0.05)
        dx, dy = uniform(rng, -8, 8), uniform(rng, -8, 8)
        scale = uniform(rng, *density)
        layer = [part(prism(rounded_rect(lx, ly, uniform(rng, 8, 30), steps=2), t), material,
                      (0, 0, 0), density_scale=scale)]
        # The fabric turns over at the fold: a rounded edge of double cloth on one or both ends.
        for side in (-1.0, 1.0):
            if chance(rng, 0.7):
                layer.append(part(Cylinder(t / 2, t / 2, ly * 0.94),
                                  material, (side * (lx / 2 + t / 2 - 0.01), 0, 0),
                                  (math.pi / 2, 0, 0), density_scale=scale * 0.9))
        # Occasional seams, pockets and collars: thin denser patches on top of the layer.
        patch_top = 0.0
        for _ in range(int(rng.integers(0, 3))):
            px, py = uniform(rng, 40, lx * 0.5), uniform(rng, 20, ly * 0.4)
            cx = uniform(rng, -(lx - px) / 2, (lx - px) / 2)
            cy = uniform(rng, -(ly - py) / 2, (ly - py) / 2)
            pt = uniform(rng, 0.8, 2.5)
            layer.append(part(prism(rounded_rect(px, py, 6), pt), material,
                              (cx, cy, t / 2 + patch_top + pt / 2 + 0.01),
                              density_scale=min(scale * 1.6, 1.0)))
            patch_top += pt + 0.02  # patches lie on one another, never through
        parts += place(layer, Pose.at(dx, dy, z + t / 2, rz=yaw))
        z += t + patch_top + (uniform(rng, 0.2, 3.0) if layer_t[1] > 10 else 0.2)
    # Sleeves or a hood folded over the top: soft elongated rolls lying across the stack.
    mean_scale = sum(density) / 2
    for _ in range(int(rng.integers(0, 3))):  # one on the other
        rz = uniform(rng, *layer_t) * 0.8
        length = uniform(rng, 0.3, 0.45) * sx
        parts.append(part(Ellipsoid(length, uniform(rng, 25, 45), rz), material,
                          (uniform(rng, -sx * 0.2, sx * 0.2), uniform(rng, -sy * 0.25, sy * 0.25),
                           z + rz + 0.05), (0, 0, uniform(rng, -0.8, 0.8)),
                          density_scale=mean_scale * uniform(rng, 0.9, 1.3)))
        z += 2 * rz + 0.1
    return parts, z + 1.0


#: The kinds of garment :func:`make_clothing` makes.
CLOTHING_STYLES = ("shirt", "jeans", "knit", "jacket", "rolled", "bundle")


def make_clothing(rng: np.random.Generator, style: str | None = None) -> SceneObject:
    """A folded shirt, jeans, a jumper, a padded jacket, a rolled T-shirt or underwear.

    ``style`` (one of :data:`CLOTHING_STYLES`) picks the garment; by default it is random.
    """
    if style is None:
        style = pick(rng, list(CLOTHING_STYLES), [3, 2, 2, 1.2, 1, 1])
    elif style not in CLOTHING_STYLES:
        raise ValueError(f"unknown clothing style {style!r}; valid: {', '.join(CLOTHING_STYLES)}")
    parts: list[Part] = []
    if style == "rolled":
        length = uniform(rng, 200, 300)
        r = uniform(rng, 30, 50)
        flat = uniform(rng, 0.6, 0.9)
        turns = int(rng.integers(2, 4))
        scale = uniform(rng, 0.3, 0.55)
        # Concentric wraps of cloth with thin air gaps (the soft spiral of a roll).
        radii = np.linspace(r, r * 0.35, turns + 1)
        for k in range(turns):
            outer, inner = float(radii[k]), float(radii[k + 1]) + 1.0
            parts += hollow(Cylinder(outer * flat, outer, length - 6 * k),
                            Cylinder(inner * flat, inner, length - 6 * k - 2),
                            "cotton", (0, 0, 0), ALONG_X,
                            density_scale=scale * uniform(rng, 0.8, 1.2))
        parts.append(part(Cylinder(radii[-1] * flat, float(radii[-1]), length - 6 * turns),
                          "cotton", (0, 0, 0), ALONG_X, density_scale=scale))
        return benign_article("clothing", parts)
    if style == "bundle":  # socks and underwear: a few soft balls side by side
        x = 0.0
        for _ in range(int(rng.integers(2, 5))):
            rx, ry, rz = uniform(rng, 40, 70), uniform(rng, 35, 55), uniform(rng, 15, 30)
            yaw = uniform(rng, -0.4, 0.4)
            half_x = math.hypot(rx * math.cos(yaw), ry * math.sin(yaw))  # turned extent
            parts.append(part(Ellipsoid(rx, ry, rz), "cotton",
                              (x + half_x, uniform(rng, -15, 15), 0), (0, 0, yaw),
                              density_scale=uniform(rng, 0.35, 0.6)))
            x += 2 * half_x + 1.0
        return benign_article("clothing", parts)
    if style == "shirt":
        sx, sy = uniform(rng, 260, 340), uniform(rng, 190, 260)
        parts, top = _folded_stack(rng, sx, sy, int(rng.integers(3, 6)), (3, 8), (0.3, 0.55))
        button_material = pick(rng, ["pom", "abs", "brass"], [3, 2, 0.5])
        for k in range(int(rng.integers(0, 7))):
            parts.append(part(Cylinder(5.5, 5.5, 2.0), button_material,
                              (-sx * 0.35 + k * sx * 0.13, uniform(rng, -4, 4), top + 1.0)))
    elif style == "jeans":
        sx, sy = uniform(rng, 300, 380), uniform(rng, 220, 280)
        parts, top = _folded_stack(rng, sx, sy, int(rng.integers(3, 5)), (5, 9), (0.55, 0.8))
        parts += _zip_line(-60, 60, uniform(rng, -40, 40), top, pick(rng, ["brass", "zinc"]))
        parts.append(part(Cylinder(8.5, 8.5, 3.0), "brass", (-80, 0, top + 1.5)))
        for k in range(int(rng.integers(4, 8))):  # rivets at the pocket corners
            parts.append(part(Cylinder(4.0, 4.0, 2.0), "copper",
                              (uniform(rng, -sx * 0.4, sx * 0.4), uniform(rng, -sy * 0.4, sy * 0.4),
                               top + 1.0 + 2.2 * k)))
    elif style == "knit":
        sx, sy = uniform(rng, 280, 360), uniform(rng, 220, 280)
        parts, top = _folded_stack(rng, sx, sy, int(rng.integers(2, 4)), (12, 22), (0.25, 0.45))
    else:  # padded jacket with a long zip and snaps
        sx, sy = uniform(rng, 340, 420), uniform(rng, 250, 320)
        parts, top = _folded_stack(rng, sx, sy, int(rng.integers(2, 4)), (18, 30), (0.15, 0.3),
                                   material=pick(rng, ["nylon", "cotton"], [2, 1]))
        zip_material = pick(rng, ["brass", "zinc", "pom"], [2, 1, 2])
        parts += _zip_line(-sx * 0.42, sx * 0.35, uniform(rng, -30, 30), top, zip_material)
        for k in range(int(rng.integers(0, 6))):
            parts.append(part(Cylinder(6.0, 6.0, 3.0), pick(rng, ["brass", "iron"]),
                              (-sx * 0.35 + k * 60.0, 45.0, top + 1.5)))
    return benign_article("clothing", parts)


def make_shoe(rng: np.random.Generator) -> SceneObject:
    """A shoe: rubber or foam sole, hollow leather or mesh upper, eyelets, sometimes a shank."""
    style = pick(rng, ["sneaker", "dress", "boot"], [3, 2, 1])
    length = uniform(rng, 245, 305)
    width = length * uniform(rng, 0.34, 0.39)
    a, w = length / 2, width / 2
    sole_outline = convex_outline([
        (a, 0.0), (a - 12, w * 0.75), (a - 45, w), (a * 0.1, w * 0.95), (-a * 0.55, w * 0.78),
        (-a + 10, w * 0.6), (-a, 0.0), (-a + 10, -w * 0.6), (-a * 0.55, -w * 0.78),
        (a * 0.1, -w * 0.95), (a - 45, -w), (a - 12, -w * 0.75),
    ])
    parts: list[Part] = []
    if style == "sneaker":
        outsole_t, mid_t = uniform(rng, 3, 5), uniform(rng, 15, 28)
        parts.append(part(prism(sole_outline, outsole_t), "rubber", (0, 0, outsole_t / 2)))
        parts.append(part(prism(sole_outline, mid_t), "polyethylene",
                          (0, 0, outsole_t + mid_t / 2 + 0.01),
                          density_scale=uniform(rng, 0.25, 0.45)))
        sole_top = outsole_t + mid_t + 0.02
        upper_material = "nylon"
        upper_wall, upper_scale = uniform(rng, 2, 3.5), uniform(rng, 0.4, 0.6)
        height = uniform(rng, 60, 80)
    else:
        sole_t = uniform(rng, 8, 14)
        parts.append(part(prism(sole_outline, sole_t), "rubber", (0, 0, sole_t / 2)))
        if chance(rng, 0.6):  # steel shank in the arch, set into the sole
            shank = box(uniform(rng, 80, 110), 14.0, 1.6)
            parts.append(part(shank, "rubber", (-a * 0.25, 0, sole_t / 2), negative=True))
            parts.append(part(shank, "iron", (-a * 0.25, 0, sole_t / 2)))
        heel_t = uniform(rng, 15, 30)
        heel_outline = convex_outline([(p[0], p[1]) for p in sole_outline if p[0] < -a * 0.5]
                                      + [(-a * 0.45, w * 0.7), (-a * 0.45, -w * 0.7)])
        parts.append(part(prism(heel_outline, heel_t), "rubber", (0, 0, -heel_t / 2 - 0.01)))
        sole_top = sole_t + 0.01
        upper_material, upper_wall, upper_scale = "leather", uniform(rng, 1.6, 2.4), 1.0
        height = uniform(rng, 60, 75) if style == "dress" else uniform(rng, 120, 170)
    # The upper: the sole outline extruded up, cut by the shoe's side profile, hollow.
    uw = width * 1.1
    profile = convex_outline([
        (-a, 0.0), (a, 0.0), (a, 12.0), (a - 25, 34.0), (a * 0.2, height * 0.55),
        (-a * 0.45, height), (-a + 8, height), (-a, height * 0.4),
    ])
    e = upper_wall
    inner_profile = convex_outline([
        (-a, e), (a, e), (a, 12.0 - e), (a - 25, 34.0 - e), (a * 0.2, height * 0.55 - e),
        (-a * 0.45, height - e), (-a + 8, height - e), (-a, height * 0.4),
    ])
    upright = Pose.at(rx=math.pi / 2)  # the profile's y becomes z
    upper_outline = convex_outline([(x * 0.97, y * 0.95) for x, y in sole_outline])
    inner_outline = convex_outline([(x * 0.97 * (1 - e / a), y * 0.95 * (1 - e / w) - 0.0)
                                    for x, y in sole_outline])
    outer = intersect(prism(upper_outline, 2 * height + 2), prism(profile, uw), upright)
    cavity = intersect(prism(inner_outline, 2 * height), prism(inner_profile, uw), upright)
    parts.append(part(outer, upper_material, (0, 0, sole_top), density_scale=upper_scale))
    parts.append(part(cavity, upper_material, (0, 0, sole_top), density_scale=upper_scale,
                      negative=True))
    # Eyelets along the opening, on top of the upper.
    eyelet = pick(rng, ["brass", "iron", "none"], [2, 1, 1]) if style != "sneaker" else "none"
    if eyelet != "none":
        for k in range(5):
            x = a * 0.15 - k * a * 0.12
            z = sole_top + height * 0.55 + (height * 0.45) * (a * 0.2 - x) / (a * 0.65) + 1.2
            for side in (-1, 1):
                parts.append(part(Cylinder(3.0, 3.0, 1.5), eyelet, (x, side * 12.0, z)))
    if chance(rng, 0.35):  # a pair of rolled socks stuffed inside
        parts.append(part(Ellipsoid(45, 22, 14), "cotton",
                          (a * 0.2, 0, sole_top + upper_wall + 15), density_scale=0.5))
    return benign_article("shoe", parts)
