"""Benign things found in bags, each built from convex parts of real materials.

Every maker takes a random generator and returns a :class:`SceneObject` centred at the
origin, lying flat with its largest extent along x (millimetres). Hollow pieces are a
solid part with a ``negative`` part of the same material wholly inside it; contents (a
drink, a battery, a circuit board) are separate parts inside that cavity, so no two
positive parts of one object overlap, except where two coincident parts deliberately
describe a mixture (sugar dissolved in water).

The construction helpers at the top (hollow boxes, rods, frusta, convex outlines) are
also used by :mod:`screener.sim.containers` and :mod:`screener.sim.cargo`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar

import numpy as np

from screener.sim.geometry import (
    Cylinder,
    Ellipsoid,
    FloatArray,
    HalfSpaces,
    Part,
    Pose,
    SceneObject,
    Shape,
    box,
    prism,
)
from screener.sim.labels import BENIGN_CLASSES

__all__ = [
    "BENIGN_MAKERS",
    "CLOTHING_STYLES",
    "Vec",
    "align_z",
    "centred",
    "convex_outline",
    "finish",
    "frustum",
    "hollow",
    "intersect",
    "local_bounds",
    "moved",
    "part",
    "rod",
    "rounded_box",
    "rounded_rect",
    "rounded_shell",
    "segment_outline",
    "tube",
]

T = TypeVar("T")

#: A point or vector in millimetres: a tuple or a numpy array of three numbers.
Vec = Sequence[float] | FloatArray

# --------------------------------------------------------------------------------------
# Construction helpers
# --------------------------------------------------------------------------------------


def part(shape: Shape, material: str, at: Vec = (0.0, 0.0, 0.0),
         rot: Sequence[float] = (0.0, 0.0, 0.0), *, scale: float = 1.0,
         negative: bool = False, rotation: FloatArray | None = None) -> Part:
    """A part at position ``at`` rotated by ``rot`` (rx, ry, rz radians) or by ``rotation``."""
    if rotation is None:
        pose = Pose.at(float(at[0]), float(at[1]), float(at[2]),
                       rx=float(rot[0]), ry=float(rot[1]), rz=float(rot[2]))
    else:
        pose = Pose(np.asarray(rotation, dtype=np.float64), np.asarray(at, dtype=np.float64))
    return Part(shape, material, pose, scale, negative)


def hollow(outer: Shape, inner: Shape, material: str, at: Vec = (0.0, 0.0, 0.0),
           rot: Sequence[float] = (0.0, 0.0, 0.0), *, scale: float = 1.0,
           rotation: FloatArray | None = None) -> list[Part]:
    """A solid ``outer`` with the (smaller, same-centred) ``inner`` removed."""
    return [
        part(outer, material, at, rot, scale=scale, rotation=rotation),
        part(inner, material, at, rot, scale=scale, negative=True, rotation=rotation),
    ]


def align_z(direction: Vec) -> FloatArray:
    """A rotation whose local z axis points along ``direction`` (a right-handed frame)."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    helper = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(helper, d)
    u /= np.linalg.norm(u)
    v = np.cross(d, u)
    return np.column_stack([u, v, d])


def rod(material: str, a: Vec, b: Vec, radius: float, *,
        scale: float = 1.0, ry: float | None = None) -> Part:
    """A solid round (or elliptic, with ``ry``) bar from point ``a`` to point ``b``."""
    pa = np.asarray(a, dtype=np.float64)
    pb = np.asarray(b, dtype=np.float64)
    length = float(np.linalg.norm(pb - pa))
    shape = Cylinder(radius, radius if ry is None else ry, length)
    return part(shape, material, (pa + pb) / 2, scale=scale, rotation=align_z(pb - pa))


def tube(material: str, a: Vec, b: Vec, radius: float, wall: float,
         *, end_wall: float | None = None, scale: float = 1.0) -> list[Part]:
    """A closed tube (wall ``wall``, end caps ``end_wall``) from ``a`` to ``b``."""
    pa = np.asarray(a, dtype=np.float64)
    pb = np.asarray(b, dtype=np.float64)
    length = float(np.linalg.norm(pb - pa))
    cap = wall if end_wall is None else end_wall
    rotation = align_z(pb - pa)
    centre = (pa + pb) / 2
    return hollow(Cylinder(radius, radius, length),
                  Cylinder(radius - wall, radius - wall, length - 2 * cap),
                  material, centre, scale=scale, rotation=rotation)


def convex_outline(points: Sequence[tuple[float, float]] | FloatArray) -> list[tuple[float, float]]:
    """The convex hull of 2-D points, counter-clockwise, without collinear points."""
    pts = sorted({(round(float(p[0]), 6), round(float(p[1]), 6)) for p in points})
    if len(pts) < 3:
        raise ValueError("an outline needs three distinct points")

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 1e-9:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 1e-9:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def rounded_rect(sx: float, sy: float, radius: float, steps: int = 3) -> list[tuple[float, float]]:
    """A rectangle ``sx`` by ``sy`` with corners rounded to ``radius`` (a convex polygon)."""
    r = max(min(radius, sx / 2 - 0.01, sy / 2 - 0.01), 0.0)
    points: list[tuple[float, float]] = []
    centres = [(sx / 2 - r, sy / 2 - r), (-sx / 2 + r, sy / 2 - r),
               (-sx / 2 + r, -sy / 2 + r), (sx / 2 - r, -sy / 2 + r)]
    for k, (cx, cy) in enumerate(centres):
        for j in range(steps + 1):
            phi = (k + j / steps) * math.pi / 2
            points.append((cx + r * math.cos(phi), cy + r * math.sin(phi)))
    return convex_outline(points)


def segment_outline(radius: float, level: float, steps: int = 16) -> list[tuple[float, float]]:
    """The part of a disc of ``radius`` below the line y = ``level`` (a liquid in a lying can)."""
    level = min(max(level, -radius * 0.98), radius * 0.999)
    half_angle = math.acos(level / radius)  # angle from +y to where the level meets the circle
    start = half_angle
    stop = 2 * math.pi - half_angle
    points = [(-radius * math.sin(a), radius * math.cos(a))
              for a in np.linspace(start, stop, steps)]
    return convex_outline(points)


def frustum(r0: float, r1: float, length: float, sides: int = 16) -> HalfSpaces:
    """A truncated cone along z (``sides``-gon): radius ``r0`` at z = -length/2, ``r1`` at +."""
    h = length
    a0 = r0 * math.cos(math.pi / sides)
    a1 = r1 * math.cos(math.pi / sides)
    norm = math.hypot(h, a1 - a0)
    normals = []
    offsets = []
    for k in range(sides):
        psi = (k + 0.5) * 2 * math.pi / sides
        normals.append([h * math.cos(psi) / norm, h * math.sin(psi) / norm, -(a1 - a0) / norm])
        offsets.append(h * (a0 + a1) / 2 / norm)
    normals += [[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]]
    offsets += [h / 2, h / 2]
    phis = np.arange(sides) * 2 * math.pi / sides
    hull = np.vstack([
        np.column_stack([r0 * np.cos(phis), r0 * np.sin(phis), np.full(sides, -h / 2)]),
        np.column_stack([r1 * np.cos(phis), r1 * np.sin(phis), np.full(sides, h / 2)]),
    ])
    return HalfSpaces(np.asarray(normals, dtype=np.float64),
                      np.asarray(offsets, dtype=np.float64), hull)


def intersect(a: HalfSpaces, b: HalfSpaces, b_pose: Pose | None = None) -> HalfSpaces:
    """The intersection of two convex polytopes (``b`` placed by ``b_pose`` in ``a``'s frame).

    The footprint hull is the one of ``a`` or ``b`` with the smaller bounding box, which holds
    the intersection; it is conservative, never too small.
    """
    pose = Pose() if b_pose is None else b_pose
    b_normals = b.normals @ pose.rotation.T
    b_offsets = b.offsets + b_normals @ pose.translation
    b_hull = pose.apply(b.hull)

    def volume(points: FloatArray) -> float:
        return float(np.prod(points.max(axis=0) - points.min(axis=0)))

    hull = a.hull if volume(a.hull) <= volume(b_hull) else b_hull
    normals = list(a.normals)
    offsets = list(a.offsets)
    for n, o in zip(b_normals, b_offsets, strict=True):  # drop planes ``a`` already has
        if not any(float(n @ m) > 1 - 1e-9 and abs(o - p) < 1e-6
                   for m, p in zip(normals, offsets, strict=True)):
            normals.append(n)
            offsets.append(o)
    return HalfSpaces(np.asarray(normals, dtype=np.float64),
                      np.asarray(offsets, dtype=np.float64), hull)


def rounded_box(sx: float, sy: float, sz: float, r_xy: float, r_xz: float = 0.0,
                r_yz: float = 0.0, steps: int = 2) -> HalfSpaces:
    """A box centred at the origin with its edges rounded (polygonal, ``steps`` per quarter).

    ``r_xy`` rounds the edges parallel to z, ``r_xz`` those parallel to y, ``r_yz`` those
    parallel to x. Each rounding adds ``4 * steps`` planes, which costs projection time.
    """
    shape = prism(rounded_rect(sx, sy, r_xy, steps), sz)
    if r_xz > 0:
        shape = intersect(shape, prism(rounded_rect(sx, sz, r_xz, steps), sy),
                          Pose.at(rx=math.pi / 2))
    if r_yz > 0:
        cyclic = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        shape = intersect(shape, prism(rounded_rect(sy, sz, r_yz, steps), sx),
                          Pose(cyclic, np.zeros(3)))
    return shape


def rounded_shell(sx: float, sy: float, sz: float, radius: float, wall: float, material: str,
                  at: Vec = (0.0, 0.0, 0.0), *, scale: float = 1.0) -> list[Part]:
    """A closed box with vertical edges rounded to ``radius`` and walls ``wall`` thick; the
    cavity's corners are rounded to ``radius - wall`` so that it stays inside the shell."""
    return hollow(prism(rounded_rect(sx, sy, radius), sz),
                  prism(rounded_rect(sx - 2 * wall, sy - 2 * wall, max(radius - wall, 0.0)),
                        sz - 2 * wall), material, at, scale=scale)


def moved(parts: Sequence[Part], pose: Pose) -> list[Part]:
    """``parts`` moved rigidly by ``pose`` (applied after their own poses)."""
    return [Part(p.shape, p.material, p.pose.then(pose), p.density_scale, p.negative)
            for p in parts]


def local_bounds(parts: Sequence[Part]) -> tuple[FloatArray, FloatArray]:
    """Axis-aligned bounds (min, max) of ``parts`` in their common frame."""
    pts = np.vstack([p.pose.apply(p.shape.corners()) for p in parts])
    return pts.min(axis=0), pts.max(axis=0)


def centred(parts: Sequence[Part]) -> list[Part]:
    """``parts`` shifted so that their bounding box is centred at the origin."""
    lo, hi = local_bounds(parts)
    centre = (lo + hi) / 2
    return moved(parts, Pose(np.eye(3), -centre))


def finish(label: str, parts: Sequence[Part], threat: bool = False) -> SceneObject:
    """An object from ``parts``: centred, turned so its longest side runs along x."""
    lo, hi = local_bounds(parts)
    size = hi - lo
    if size[1] > size[0]:
        parts = moved(parts, Pose.at(rz=math.pi / 2))
    return SceneObject(label, tuple(centred(parts)), threat)


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _pick(rng: np.random.Generator, options: Sequence[T],
          weights: Sequence[float] | None = None) -> T:
    if weights is None:
        return options[int(rng.integers(len(options)))]
    w = np.asarray(weights, dtype=np.float64)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


def _chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


_ALONG_X = (0.0, math.pi / 2, 0.0)  # rot that turns a z-axis cylinder to lie along +x

# --------------------------------------------------------------------------------------
# Clothing
# --------------------------------------------------------------------------------------


def _zip_line(x0: float, x1: float, y: float, z: float, material: str) -> list[Part]:
    """Zip teeth as a thin metal or plastic strip with its slider, lying on z = ``z``."""
    length = x1 - x0
    teeth = part(box(length, 5.0, 1.6), material, ((x0 + x1) / 2, y, z + 0.8),
                 scale=0.55 if material != "pom" else 0.8)
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
        t = _u(rng, *layer_t)
        lx = sx * _u(rng, 0.9, 1.03)
        ly = sy * _u(rng, 0.88, 1.03)
        yaw = _u(rng, -0.05, 0.05)
        dx, dy = _u(rng, -8, 8), _u(rng, -8, 8)
        scale = _u(rng, *density)
        layer = [part(prism(rounded_rect(lx, ly, _u(rng, 8, 30), steps=2), t), material, (0, 0, 0),
                      scale=scale)]
        # The fabric turns over at the fold: a rounded edge of double cloth on one or both ends.
        for side in (-1.0, 1.0):
            if _chance(rng, 0.7):
                layer.append(part(Cylinder(t / 2, t / 2, ly * 0.94),
                                  material, (side * (lx / 2 + t / 2 - 0.01), 0, 0),
                                  (math.pi / 2, 0, 0), scale=scale * 0.9))
        # Occasional seams, pockets and collars: thin denser patches on top of the layer.
        patch_top = 0.0
        for _ in range(int(rng.integers(0, 3))):
            px, py = _u(rng, 40, lx * 0.5), _u(rng, 20, ly * 0.4)
            cx = _u(rng, -(lx - px) / 2, (lx - px) / 2)
            cy = _u(rng, -(ly - py) / 2, (ly - py) / 2)
            pt = _u(rng, 0.8, 2.5)
            layer.append(part(prism(rounded_rect(px, py, 6), pt), material,
                              (cx, cy, t / 2 + patch_top + pt / 2 + 0.01),
                              scale=min(scale * 1.6, 1.0)))
            patch_top += pt + 0.02  # patches lie on one another, never through
        parts += moved(layer, Pose.at(dx, dy, z + t / 2, rz=yaw))
        z += t + patch_top + (_u(rng, 0.2, 3.0) if layer_t[1] > 10 else 0.2)
    # Sleeves or a hood folded over the top: soft elongated rolls lying across the stack.
    mean_scale = sum(density) / 2
    for _ in range(int(rng.integers(0, 3))):  # one on the other
        rz = _u(rng, *layer_t) * 0.8
        length = _u(rng, 0.3, 0.45) * sx
        parts.append(part(Ellipsoid(length, _u(rng, 25, 45), rz), material,
                          (_u(rng, -sx * 0.2, sx * 0.2), _u(rng, -sy * 0.25, sy * 0.25),
                           z + rz + 0.05), (0, 0, _u(rng, -0.8, 0.8)),
                          scale=mean_scale * _u(rng, 0.9, 1.3)))
        z += 2 * rz + 0.1
    return parts, z + 1.0


#: The kinds of garment :func:`make_clothing` makes.
CLOTHING_STYLES = ("shirt", "jeans", "knit", "jacket", "rolled", "bundle")


def make_clothing(rng: np.random.Generator, style: str | None = None) -> SceneObject:
    """A folded shirt, jeans, a jumper, a padded jacket, a rolled T-shirt or underwear.

    ``style`` (one of :data:`CLOTHING_STYLES`) picks the garment; by default it is random.
    """
    if style is None:
        style = _pick(rng, list(CLOTHING_STYLES), [3, 2, 2, 1.2, 1, 1])
    elif style not in CLOTHING_STYLES:
        raise ValueError(f"unknown clothing style {style!r}; valid: {', '.join(CLOTHING_STYLES)}")
    parts: list[Part] = []
    if style == "rolled":
        length = _u(rng, 200, 300)
        r = _u(rng, 30, 50)
        flat = _u(rng, 0.6, 0.9)
        turns = int(rng.integers(2, 4))
        scale = _u(rng, 0.3, 0.55)
        # Concentric wraps of cloth with thin air gaps (the soft spiral of a roll).
        radii = np.linspace(r, r * 0.35, turns + 1)
        for k in range(turns):
            outer, inner = float(radii[k]), float(radii[k + 1]) + 1.0
            parts += hollow(Cylinder(outer * flat, outer, length - 6 * k),
                            Cylinder(inner * flat, inner, length - 6 * k - 2),
                            "cotton", (0, 0, 0), _ALONG_X, scale=scale * _u(rng, 0.8, 1.2))
        parts.append(part(Cylinder(radii[-1] * flat, float(radii[-1]), length - 6 * turns),
                          "cotton", (0, 0, 0), _ALONG_X, scale=scale))
        return finish("clothing", parts)
    if style == "bundle":  # socks and underwear: a few soft balls side by side
        x = 0.0
        for _ in range(int(rng.integers(2, 5))):
            rx, ry, rz = _u(rng, 40, 70), _u(rng, 35, 55), _u(rng, 15, 30)
            yaw = _u(rng, -0.4, 0.4)
            half_x = math.hypot(rx * math.cos(yaw), ry * math.sin(yaw))  # turned extent
            parts.append(part(Ellipsoid(rx, ry, rz), "cotton", (x + half_x, _u(rng, -15, 15), 0),
                              (0, 0, yaw), scale=_u(rng, 0.35, 0.6)))
            x += 2 * half_x + 1.0
        return finish("clothing", parts)
    if style == "shirt":
        sx, sy = _u(rng, 260, 340), _u(rng, 190, 260)
        parts, top = _folded_stack(rng, sx, sy, int(rng.integers(3, 6)), (3, 8), (0.3, 0.55))
        button_material = _pick(rng, ["pom", "abs", "brass"], [3, 2, 0.5])
        for k in range(int(rng.integers(0, 7))):
            parts.append(part(Cylinder(5.5, 5.5, 2.0), button_material,
                              (-sx * 0.35 + k * sx * 0.13, _u(rng, -4, 4), top + 1.0)))
    elif style == "jeans":
        sx, sy = _u(rng, 300, 380), _u(rng, 220, 280)
        parts, top = _folded_stack(rng, sx, sy, int(rng.integers(3, 5)), (5, 9), (0.55, 0.8))
        parts += _zip_line(-60, 60, _u(rng, -40, 40), top, _pick(rng, ["brass", "zinc"]))
        parts.append(part(Cylinder(8.5, 8.5, 3.0), "brass", (-80, 0, top + 1.5)))
        for k in range(int(rng.integers(4, 8))):  # rivets at the pocket corners
            parts.append(part(Cylinder(4.0, 4.0, 2.0), "copper",
                              (_u(rng, -sx * 0.4, sx * 0.4), _u(rng, -sy * 0.4, sy * 0.4),
                               top + 1.0 + 2.2 * k)))
    elif style == "knit":
        sx, sy = _u(rng, 280, 360), _u(rng, 220, 280)
        parts, top = _folded_stack(rng, sx, sy, int(rng.integers(2, 4)), (12, 22), (0.25, 0.45))
    else:  # padded jacket with a long zip and snaps
        sx, sy = _u(rng, 340, 420), _u(rng, 250, 320)
        parts, top = _folded_stack(rng, sx, sy, int(rng.integers(2, 4)), (18, 30), (0.15, 0.3),
                                   material=_pick(rng, ["nylon", "cotton"], [2, 1]))
        zip_material = _pick(rng, ["brass", "zinc", "pom"], [2, 1, 2])
        parts += _zip_line(-sx * 0.42, sx * 0.35, _u(rng, -30, 30), top, zip_material)
        for k in range(int(rng.integers(0, 6))):
            parts.append(part(Cylinder(6.0, 6.0, 3.0), _pick(rng, ["brass", "iron"]),
                              (-sx * 0.35 + k * 60.0, 45.0, top + 1.5)))
    return finish("clothing", parts)


# --------------------------------------------------------------------------------------
# Shoes
# --------------------------------------------------------------------------------------


def make_shoe(rng: np.random.Generator) -> SceneObject:
    """A shoe: rubber or foam sole, hollow leather or mesh upper, eyelets, sometimes a shank."""
    style = _pick(rng, ["sneaker", "dress", "boot"], [3, 2, 1])
    length = _u(rng, 245, 305)
    width = length * _u(rng, 0.34, 0.39)
    a, w = length / 2, width / 2
    sole_outline = convex_outline([
        (a, 0.0), (a - 12, w * 0.75), (a - 45, w), (a * 0.1, w * 0.95), (-a * 0.55, w * 0.78),
        (-a + 10, w * 0.6), (-a, 0.0), (-a + 10, -w * 0.6), (-a * 0.55, -w * 0.78),
        (a * 0.1, -w * 0.95), (a - 45, -w), (a - 12, -w * 0.75),
    ])
    parts: list[Part] = []
    if style == "sneaker":
        outsole_t, mid_t = _u(rng, 3, 5), _u(rng, 15, 28)
        parts.append(part(prism(sole_outline, outsole_t), "rubber", (0, 0, outsole_t / 2)))
        parts.append(part(prism(sole_outline, mid_t), "polyethylene",
                          (0, 0, outsole_t + mid_t / 2 + 0.01), scale=_u(rng, 0.25, 0.45)))
        sole_top = outsole_t + mid_t + 0.02
        upper_material, upper_wall, upper_scale = "nylon", _u(rng, 2, 3.5), _u(rng, 0.4, 0.6)
        height = _u(rng, 60, 80)
    else:
        sole_t = _u(rng, 8, 14)
        parts.append(part(prism(sole_outline, sole_t), "rubber", (0, 0, sole_t / 2)))
        if _chance(rng, 0.6):  # steel shank in the arch, set into the sole
            shank = box(_u(rng, 80, 110), 14.0, 1.6)
            parts.append(part(shank, "rubber", (-a * 0.25, 0, sole_t / 2), negative=True))
            parts.append(part(shank, "iron", (-a * 0.25, 0, sole_t / 2)))
        heel_t = _u(rng, 15, 30)
        heel_outline = convex_outline([(p[0], p[1]) for p in sole_outline if p[0] < -a * 0.5]
                                      + [(-a * 0.45, w * 0.7), (-a * 0.45, -w * 0.7)])
        parts.append(part(prism(heel_outline, heel_t), "rubber", (0, 0, -heel_t / 2 - 0.01)))
        sole_top = sole_t + 0.01
        upper_material, upper_wall, upper_scale = "leather", _u(rng, 1.6, 2.4), 1.0
        height = _u(rng, 60, 75) if style == "dress" else _u(rng, 120, 170)
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
    parts.append(part(outer, upper_material, (0, 0, sole_top), scale=upper_scale))
    parts.append(part(cavity, upper_material, (0, 0, sole_top), scale=upper_scale,
                      negative=True))
    # Eyelets along the opening, on top of the upper.
    eyelet = _pick(rng, ["brass", "iron", "none"], [2, 1, 1]) if style != "sneaker" else "none"
    if eyelet != "none":
        for k in range(5):
            x = a * 0.15 - k * a * 0.12
            z = sole_top + height * 0.55 + (height * 0.45) * (a * 0.2 - x) / (a * 0.65) + 1.2
            for side in (-1, 1):
                parts.append(part(Cylinder(3.0, 3.0, 1.5), eyelet, (x, side * 12.0, z)))
    if _chance(rng, 0.35):  # a pair of rolled socks stuffed inside
        parts.append(part(Ellipsoid(45, 22, 14), "cotton",
                          (a * 0.2, 0, sole_top + upper_wall + 15), scale=0.5))
    return finish("shoe", parts)


# --------------------------------------------------------------------------------------
# Books
# --------------------------------------------------------------------------------------


def make_book(rng: np.random.Generator) -> SceneObject:
    """A paperback, a hardback with boards, a notebook with a wire spiral, or a magazine."""
    style = _pick(rng, ["paperback", "hardback", "notebook", "magazine"], [3, 2, 1, 1])
    sx, sy = _u(rng, 175, 300), _u(rng, 120, 215)
    sy = min(sy, sx * 0.85)
    parts: list[Part] = []
    if style == "magazine":
        t = _u(rng, 3, 8)
        parts.append(part(box(sx, sy, t), "paper", scale=_u(rng, 1.1, 1.4)))
    elif style == "hardback":
        t = _u(rng, 15, 50)
        board = _u(rng, 2.0, 3.0)
        parts.append(part(box(sx - 6, sy - 4, t), "paper", (2, 0, 0), scale=_u(rng, 0.85, 1.0)))
        for side in (-1, 1):
            parts.append(part(box(sx, sy, board), "paper",
                              (0, 0, side * (t / 2 + board / 2 + 0.01)), scale=0.9))
        parts.append(part(box(board, sy, t), "paper", (-sx / 2 + board / 2 - 0.02, 0, 0),
                          scale=0.9))
        parts[0] = part(box(sx - 6 - board, sy - 4, t), "paper", (board / 2 + 2, 0, 0),
                        scale=parts[0].density_scale)
    else:
        t = _u(rng, 8, 35)
        parts.append(part(box(sx, sy, t), "paper", scale=_u(rng, 0.85, 1.0)))
        if style == "notebook":  # wire coil through holes along the spine
            t_coil = t + 6
            rc = t_coil / 2
            for k in range(int(sy / 9) - 1):
                y = -sy / 2 + 9 * (k + 1)
                parts += hollow(Cylinder(rc, rc, 1.0), Cylinder(rc - 0.9, rc - 0.9, 0.98),
                                "iron", (-sx / 2 - 0.5 - rc, y, 0), (math.pi / 2, 0, 0))
    return finish("book", parts)


# --------------------------------------------------------------------------------------
# Electronics
# --------------------------------------------------------------------------------------


def _cells_row(n: int, x0: float, x1: float, y: float, z: float, cell_y: float,
               cell_t: float, gap: float = 2.0) -> list[Part]:
    """``n`` pouch cells side by side along x in [x0, x1], centred on (y, z)."""
    cell_x = (x1 - x0 - gap * (n - 1)) / n
    return [part(box(cell_x, cell_y, cell_t), "li_ion",
                 (x0 + cell_x / 2 + k * (cell_x + gap), y, z)) for k in range(n)]


def make_laptop(rng: np.random.Generator) -> SceneObject:
    """A closed laptop: case, keyboard plate, board with chips, heat pipes, battery, screws."""
    old = _chance(rng, 0.2)
    lx, ly = _u(rng, 300, 365), _u(rng, 210, 250)
    base_t = _u(rng, 24, 30) if old else _u(rng, 12, 17)
    lid_t = _u(rng, 5, 8)
    case = "abs" if old else _pick(rng, ["aluminium", "abs"], [3, 2])
    wall = 1.0 if case == "aluminium" else 2.0
    parts: list[Part] = []
    corner = _u(rng, 5, 12)
    outline = rounded_rect(lx, ly, corner)
    inner_outline = rounded_rect(lx - 2 * wall, ly - 2 * wall, corner - wall)
    parts += [part(prism(outline, base_t), case, (0, 0, base_t / 2)),
              part(prism(inner_outline, base_t - 2 * wall), case, (0, 0, base_t / 2),
                   negative=True)]
    # Lid: a thin shell with the display glass and light guide inside.
    lid_z = base_t + 0.3 + lid_t / 2
    glass_t = 0.7 if not old else 1.5
    lid_t = max(lid_t, 2 * wall + glass_t + 1.5)
    lid_z = base_t + 0.3 + lid_t / 2
    parts += [part(prism(outline, lid_t), case, (0, 0, lid_z)),
              part(prism(inner_outline, lid_t - 2 * wall), case, (0, 0, lid_z), negative=True)]
    parts.append(part(box(lx - 2 * wall - 12, ly - 2 * wall - 14, glass_t), "glass",
                      (0, -2, lid_z - (lid_t - 2 * wall) / 2 + glass_t / 2 + 0.05)))
    parts.append(part(box(lx - 2 * wall - 12, ly - 2 * wall - 14, 0.6), "polycarbonate",
                      (0, -2, lid_z - (lid_t - 2 * wall) / 2 + glass_t + 0.45)))
    # Cavity of the base: z from zb to zt; front (y < 0) holds the battery, back the board.
    zb, zt = wall + 0.05, base_t - wall - 0.05
    ix, iy = lx - 2 * wall - 2, ly - 2 * wall - 2
    kb_t = 1.6
    # Keyboard: steel backing plate and plastic keys under the top wall, over the middle.
    parts.append(part(box(ix * 0.82, iy * 0.42, 0.3), "iron", (0, iy * 0.12, zt - kb_t - 0.2)))
    parts.append(part(box(ix * 0.82, iy * 0.42, kb_t - 0.1), "abs",
                      (0, iy * 0.12, zt - kb_t / 2)))
    below = zt - kb_t - 0.6  # everything else sits below the keyboard
    if old:  # 18650 cells in steel cans, in a row across the front
        n = int(rng.integers(4, 7))
        span = n * 19.0
        x0 = -span / 2
        for k in range(n):
            x = x0 + 9.5 + 19.0 * k
            y = -iy / 2 + 34.0
            parts += tube("iron", (x, y - 32.5, zb + 9.2), (x, y + 32.5, zb + 9.2), 9.0, 0.3)
            parts.append(rod("li_ion", (x, y - 32.0, zb + 9.2), (x, y + 32.0, zb + 9.2), 8.6))
        battery_depth = 68.0
    else:
        n = int(rng.integers(3, 7))
        cell_y = _u(rng, 55, 75)
        cell_t = min(below - zb - 0.4, _u(rng, 4.5, 7.0))
        parts += _cells_row(n, -ix * 0.42, ix * 0.42, -iy / 2 + cell_y / 2 + 4,
                            zb + cell_t / 2 + 0.2, cell_y, cell_t)
        battery_depth = cell_y + 8
        # Trackpad glass over the battery, under the top wall
        parts.append(part(box(ix * 0.35, 65.0, 0.6), "glass",
                          (0, -iy / 2 + 38.0, zt - 0.35)))
    # Main board behind the battery.
    board_y0 = -iy / 2 + battery_depth + 3
    board_y1 = iy / 2 - 20  # hinges and back screws behind it
    board_t = 1.2
    board_z = zb + 0.8 + board_t / 2
    bx = ix * _u(rng, 0.55, 0.8)
    board_cx = _u(rng, -(ix - bx) / 2, (ix - bx) / 2)
    by = board_y1 - board_y0
    board_cy = (board_y0 + board_y1) / 2
    parts.append(part(box(bx, by, board_t), "fr4", (board_cx, board_cy, board_z)))
    chip_z = board_z + board_t / 2
    cpu_x = board_cx + _u(rng, -bx * 0.2, bx * 0.2)
    parts.append(part(box(24.0, 24.0, 1.0), "fr4", (cpu_x, board_cy, chip_z + 0.51)))
    parts.append(part(box(12.0, 11.0, 0.8), "silicon", (cpu_x, board_cy, chip_z + 1.42)))
    chip_y = board_cy + (by / 2 - 9.0 if by > 50 else 0.0)
    for k in range(int(rng.integers(2, 6))):  # memory and storage chips in a row
        cx = board_cx - bx / 2 + 8 + 14 * k
        if abs(cx - cpu_x) < 19 and abs(chip_y - board_cy) < 19:
            continue
        if cx < board_cx + bx / 2 - 6:
            parts.append(part(box(11.0, 13.0, 1.0), "silicon", (cx, chip_y, chip_z + 0.51)))
    # Copper heat pipes from the CPU to a fin stack at the back corner.
    fin_x = ix / 2 - 22 if cpu_x < ix / 2 - 60 else -ix / 2 + 22
    pipe_z = chip_z + 1.9 + 1.3
    space = below - pipe_z - 1.5
    if space > 0:
        for k in range(int(rng.integers(1, 4))):
            y = board_cy + (k - 1) * 8.0
            parts.append(rod("copper", (cpu_x, y, pipe_z), (fin_x, y, pipe_z), 3.5, ry=1.2))
        parts.append(part(box(14.0, 40.0, min(space + 2.0, 5.0)), "copper",
                          (fin_x + math.copysign(7.01, fin_x), board_cy, pipe_z)))
    # Speaker magnets at the front corners and screw bosses around the edge.
    for side in (-1, 1):
        parts.append(part(box(12.0, 10.0, 3.0), "iron", (side * (ix / 2 - 12), -iy / 2 + 12,
                                                          zb + 1.6)))
    for k in range(int(rng.integers(6, 11))):
        t = k / 10
        if t < 0.5:
            sx, sy = -ix / 2 + 3 + (ix - 6) * 2 * t, -iy / 2 + 3
        else:
            sx, sy = -ix / 2 + 3 + (ix - 6) * (2 * t - 1), iy / 2 - 3
        parts.append(part(Cylinder(1.1, 1.1, 4.0), "iron", (sx, sy, zb + 2.1)))
    # Hinges at the back.
    for side in (-1, 1):
        parts.append(part(box(24.0, 8.0, min(below - zb - 1, 6.0)), _pick(rng, ["zinc", "iron"]),
                          (side * ix * 0.33, iy / 2 - 13, zb + min(below - zb - 1, 6.0) / 2)))
    return finish("laptop", parts)


def make_phone(rng: np.random.Generator) -> SceneObject:
    """A smartphone: aluminium frame, glass faces, battery, board, camera, sometimes a case."""
    lx, ly, t = _u(rng, 138, 165), _u(rng, 66, 78), _u(rng, 7.4, 9.0)
    rail = _u(rng, 1.2, 2.0)
    frame = _pick(rng, ["aluminium", "iron", "polycarbonate"], [5, 1, 1])
    back = _pick(rng, ["glass", "polycarbonate"], [3, 1])
    parts: list[Part] = []
    for side in (-1, 1):  # side rails along x, end rails between them
        parts.append(part(box(lx, rail, t), frame, (0, side * (ly / 2 - rail / 2), 0)))
        parts.append(part(box(rail, ly - 2 * rail - 0.02, t), frame,
                          (side * (lx / 2 - rail / 2), 0, 0)))
    gx, gy = lx - 2 * rail - 0.04, ly - 2 * rail - 0.04
    g = 0.7
    parts.append(part(box(gx, gy, g), "glass", (0, 0, t / 2 - g / 2)))
    parts.append(part(box(gx, gy, g), back, (0, 0, -t / 2 + g / 2)))
    zb, zt = -t / 2 + g + 0.05, t / 2 - g - 0.05
    cav = zt - zb
    batt_t = cav - 1.3
    batt_x = lx * _u(rng, 0.5, 0.6)
    parts.append(part(box(batt_x, gy - 6, batt_t), "li_ion",
                      (-lx / 2 + rail + 11 + batt_x / 2, 0, zb + batt_t / 2 + 0.1)))
    board_x = lx - 2 * rail - batt_x - 18
    board_cx = lx / 2 - rail - 2 - board_x / 2
    parts.append(part(box(board_x, gy - 8, 0.8), "fr4", (board_cx, 0, zb + 0.5)))
    chip_xs = board_cx + np.linspace(-board_x * 0.3, board_x * 0.3, int(rng.integers(2, 4)))
    for cx in chip_xs:  # processor, memory, modem side by side on the board
        parts.append(part(box(min(9.0, board_x * 0.18), 9.0, 0.8), "silicon",
                          (float(cx), _u(rng, -gy * 0.25, gy * 0.25), zb + 1.31)))
    # Camera module: lens glass in an aluminium barrel, bump below the back face.
    cam_x, cam_y = lx / 2 - 18, ly / 2 - 18
    for k in range(int(rng.integers(1, 4))):
        parts += [part(Cylinder(5.5, 5.5, 1.6), "aluminium",
                       (cam_x - 13 * k, cam_y, -t / 2 - 0.8 - 0.01)),
                  part(Cylinder(4.0, 4.0, 3.0), "glass", (cam_x - 13 * k, cam_y, zb + 1.8 + 1.5))]
    # Speaker magnet at the bottom end.
    parts.append(part(box(10.0, 14.0, 2.5), "iron", (-lx / 2 + rail + 6, gy * 0.25,
                                                     zb + 1.3)))
    if _chance(rng, 0.35):  # protective case
        ct = 1.4
        case_material = _pick(rng, ["rubber", "polycarbonate"])
        lo, hi = local_bounds(parts)
        size = hi - lo
        centre = (lo + hi) / 2
        # corners rounded little enough that the boxy phone fits the cavity
        outer = prism(rounded_rect(size[0] + 2 * ct, size[1] + 2 * ct, 2 * ct), size[2] + 2 * ct)
        parts += hollow(outer, box(size[0] + 0.02, size[1] + 0.02, size[2] + 0.02),
                        case_material, centre)
    return finish("phone", parts)


def make_charger(rng: np.random.Generator) -> SceneObject:
    """A wall charger or laptop power brick: plastic case, transformer, capacitor, board."""
    brick = _chance(rng, 0.5)
    if brick:
        lx, ly, lz = _u(rng, 95, 140), _u(rng, 48, 68), _u(rng, 26, 33)
    else:
        lx, ly, lz = _u(rng, 42, 62), _u(rng, 38, 55), _u(rng, 24, 32)
    wall = 1.8
    parts = rounded_shell(lx, ly, lz, 6.0, wall, "abs")
    zb = -lz / 2 + wall + 0.05
    ix, iy = lx - 2 * wall - 0.2, ly - 2 * wall - 0.2
    parts.append(part(box(ix, iy, 1.2), "fr4", (0, 0, zb + 0.6)))
    top = zb + 1.25
    height = lz / 2 - wall - 0.05 - top
    # Transformer: copper winding around a ferrite core (modelled as iron), on the board.
    cr = min(iy * 0.3, height / 2 - 0.2, 14.0)
    coil_len = min(ix * 0.3, 30.0)
    tx = ix / 2 - coil_len / 2 - 3
    axis = (tx - coil_len / 2, 0, top + cr + 0.1), (tx + coil_len / 2, 0, top + cr + 0.1)
    parts += tube("copper", *axis, cr, cr * 0.5, end_wall=0.01, scale=0.55)
    parts.append(rod("iron", (axis[0][0] + 0.5, 0, top + cr + 0.1),
                     (axis[1][0] - 0.5, 0, top + cr + 0.1), cr * 0.45, scale=0.7))
    # Electrolytic capacitor: an aluminium can with a rolled paper-and-foil winding inside.
    cap_r = min(height / 2 - 0.3, 8.0)
    cap_len = min(ix * 0.35, 30.0)
    cx = -ix / 2 + cap_len / 2 + 2
    if cx + cap_len / 2 < tx - coil_len / 2 - 1:
        cap_axis = (cx - cap_len / 2, iy * 0.2, top + cap_r + 0.1), \
                   (cx + cap_len / 2, iy * 0.2, top + cap_r + 0.1)
        parts += tube("aluminium", *cap_axis, cap_r, 0.4)
        parts.append(rod("paper", (cap_axis[0][0] + 0.5, iy * 0.2, top + cap_r + 0.1),
                         (cap_axis[1][0] - 0.5, iy * 0.2, top + cap_r + 0.1), cap_r - 0.5,
                         scale=1.3))
    if not brick:  # mains pins outside the case
        for side in (-1, 1):
            parts.append(part(box(16.0, 2.0, 6.5), "brass",
                              (-lx / 2 - 8.0, side * 9.0, 0)))
    else:  # a socket and a short strain relief for the cable
        parts.append(part(box(4.0, 12.0, 8.0), "brass", (-ix / 2 + 2.2, -iy * 0.25, top + 5)))
    return finish("charger", parts)


def make_cable(rng: np.random.Generator) -> SceneObject:
    """A coiled or loose cable: plastic jacket around copper conductors, plugs at the ends."""
    r_out = _u(rng, 1.6, 3.5)
    r_cu = r_out * _u(rng, 0.3, 0.45)
    jacket = _pick(rng, ["polyethylene", "rubber", "nylon"], [3, 2, 1])
    path: list[FloatArray] = []
    coiled = _chance(rng, 0.6)
    if coiled:  # loops stacked on each other
        loops = int(rng.integers(2, 5))
        rx, ry = _u(rng, 45, 80), _u(rng, 30, 60)
        per = 10
        phase = _u(rng, 0, 2 * math.pi)
        drift = rng.normal(0, 4.0, size=2)
        for k in range(loops * per + 1):
            phi = phase + 2 * math.pi * k / per
            wobble = 1.0 + 0.08 * math.sin(3 * phi + phase) + _u(rng, -0.04, 0.04)
            turn = k / per
            path.append(np.array([rx * wobble * math.cos(phi) + drift[0] * turn,
                                  ry * wobble * math.sin(phi) + drift[1] * turn,
                                  2.05 * r_out * turn]))
    else:  # loose: a smooth random walk on the plane
        heading = _u(rng, 0, 2 * math.pi)
        p = np.zeros(3)
        path.append(p.copy())
        for _ in range(int(rng.integers(10, 18))):
            heading += _u(rng, -0.7, 0.7)
            p = p + 28.0 * np.array([math.cos(heading), math.sin(heading), 0.0])
            path.append(p.copy())
    parts: list[Part] = []
    for a, b in itertools.pairwise(path):
        parts += tube(jacket, a, b, r_out, r_out - r_cu - 0.05, end_wall=0.02)
        parts.append(rod("copper", a, b, r_cu, scale=0.85))
    # Plugs: a plastic body with a metal shell or pins, in line with the first/last segment.
    for sign, end, prev in ((-1.0, path[0], path[1]), (1.0, path[-1], path[-2])):
        d = (end - prev) / np.linalg.norm(end - prev)
        kind = _pick(rng, ["usb_c", "usb_a", "mains", "barrel"])
        body_len = {"usb_c": 18.0, "usb_a": 24.0, "mains": 35.0, "barrel": 20.0}[kind]
        body_r = {"usb_c": 5.0, "usb_a": 7.0, "mains": 11.0, "barrel": 5.5}[kind]
        b0 = end + d * (r_out * 0.2)
        if coiled:  # a plug thicker than the cable hangs below the bottom loop / above the top
            b0 = b0 + np.array([0.0, 0.0, sign * max(0.0, 0.6 * body_r - 1.05 * r_out + 0.1)])
        b1 = b0 + d * body_len
        parts.append(rod("abs", b0, b1, body_r, ry=body_r * 0.6))
        metal = {"usb_c": "iron", "usb_a": "iron", "mains": "brass", "barrel": "brass"}[kind]
        m_len = {"usb_c": 6.5, "usb_a": 12.0, "mains": 16.0, "barrel": 9.0}[kind]
        m_r = {"usb_c": 4.2, "usb_a": 6.0, "mains": 2.5, "barrel": 2.8}[kind]
        parts += tube(metal, b1 + d * 0.01, b1 + d * m_len, m_r, min(0.4, m_r * 0.2),
                      end_wall=0.3) if kind != "mains" else [
            rod(metal, b1 + d * 0.01, b1 + d * m_len, m_r)]
    return finish("cable", parts)


# --------------------------------------------------------------------------------------
# Containers of liquid
# --------------------------------------------------------------------------------------


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
    return [part(prism(outline, length), material, (x_centre, 0, 0), scale=scale,
                 rotation=rotation) for material, scale in _liquid(fill)]


def make_bottle(rng: np.random.Generator) -> SceneObject:
    """A drinks bottle, can or flask lying on its side, partly full of liquid."""
    style = _pick(rng, ["pet", "glass", "can", "flask"], [4, 2, 1.5, 1])
    fraction = _u(rng, 0.25, 0.95)
    fill = _pick(rng, ["water", "soft_drink", "wine", "oil"], [4, 3, 1, 0.3])
    parts: list[Part] = []
    if style == "can":
        r, length, wall = 33.0, _u(rng, 115, 168), 0.12
        parts += hollow(Cylinder(r, r, length), Cylinder(r - wall, r - wall, length - 0.6),
                        "aluminium", (0, 0, 0), _ALONG_X)
        parts += _lying_fill(r - wall - 0.05, length - 0.7, max(fraction, 0.8), 0.0,
                             _pick(rng, ["water", "soft_drink"]))
        return finish("bottle", parts)
    if style == "flask":  # double-walled steel vacuum flask
        r, length = _u(rng, 33, 40), _u(rng, 200, 280)
        parts += hollow(Cylinder(r, r, length), Cylinder(r - 0.6, r - 0.6, length - 1.2),
                        "iron", (0, 0, 0), _ALONG_X)
        ri, li = r - 5.0, length - 14.0
        parts += hollow(Cylinder(ri, ri, li), Cylinder(ri - 0.5, ri - 0.5, li - 1.0),
                        "iron", (-3.0, 0, 0), _ALONG_X)
        parts += _lying_fill(ri - 0.55, li - 1.1, fraction, -3.0, fill)
        parts.append(part(Cylinder(r * 0.8, r * 0.8, 30.0), "polyethylene",
                          (length / 2 + 15.01, 0, 0), _ALONG_X))
        return finish("bottle", parts)
    glass = style == "glass"
    material = "glass" if glass else "polyethylene"
    scale = 1.0 if glass else 1.45  # PET is denser than polyethylene
    wall = _u(rng, 2.5, 4.5) if glass else _u(rng, 0.3, 0.5)
    r = _u(rng, 34, 40) if glass else _u(rng, 28, 45)
    body = _u(rng, 150, 210) if glass else _u(rng, 120, 230)
    shoulder = _u(rng, 30, 70)
    neck_r = 14.0 if glass else 13.0
    neck = _u(rng, 40, 80) if glass else 18.0
    x0 = -(body + shoulder + neck) / 2
    # Body, shoulder (a frustum) and neck, each closed, end to end along x.
    xb = x0 + body / 2
    parts += hollow(Cylinder(r, r, body), Cylinder(r - wall, r - wall, body - 2 * wall),
                    material, (xb, 0, 0), _ALONG_X, scale=scale)
    xs = x0 + body + shoulder / 2 + 0.01
    parts += hollow(frustum(r, neck_r, shoulder),
                    frustum(r - wall * 1.2, neck_r - wall * 1.2, shoulder - 2 * wall),
                    material, (xs, 0, 0), _ALONG_X, scale=scale)
    xn = x0 + body + shoulder + neck / 2 + 0.02
    parts += hollow(Cylinder(neck_r, neck_r, neck),
                    Cylinder(neck_r - wall, neck_r - wall, neck - 2 * wall),
                    material, (xn, 0, 0), _ALONG_X, scale=scale)
    parts += _lying_fill(r - wall - 0.05, body - 2 * wall - 0.1, fraction, xb, fill)
    # Cap or cork.
    cap_len = 18.0 if not glass else _u(rng, 12, 40)
    cap_material = "polyethylene" if not glass else _pick(rng, ["aluminium", "wood"])
    cap_r = neck_r + 1.5 if cap_material != "wood" else neck_r - wall - 0.2
    cap_x = x0 + body + shoulder + neck + cap_len / 2 + 0.03
    if cap_material == "wood":  # a cork inside the neck
        cap_len = min(cap_len, neck - 2 * wall - 0.2)
        cap_x = xn + (neck - 2 * wall) / 2 - cap_len / 2 - 0.05
        parts.append(part(Cylinder(cap_r, cap_r, cap_len), "wood", (cap_x, 0, 0), _ALONG_X,
                          scale=0.4))
    elif cap_material == "aluminium":
        parts += hollow(Cylinder(cap_r, cap_r, cap_len),
                        Cylinder(cap_r - 0.3, cap_r - 0.3, cap_len - 0.6), "aluminium",
                        (cap_x, 0, 0), _ALONG_X)
    else:
        parts += hollow(Cylinder(cap_r, cap_r, cap_len),
                        Cylinder(cap_r - 1.2, cap_r - 1.2, cap_len - 2.4), "polyethylene",
                        (cap_x, 0, 0), _ALONG_X)
    return finish("bottle", parts)


def _toiletry_piece(rng: np.random.Generator) -> list[Part]:
    """One toiletry lying along x at the origin."""
    kind = _pick(rng, ["tube", "bottle", "aerosol", "jar", "razor", "toothbrush"],
                 [3, 3, 2, 1.5, 1, 1])
    parts: list[Part] = []
    if kind == "tube":
        length, r = _u(rng, 100, 190), _u(rng, 14, 22)
        flat = _u(rng, 0.45, 0.7)
        shell = "polyethylene" if _chance(rng, 0.7) else "aluminium"
        wall = 0.45 if shell == "polyethylene" else 0.12
        parts += hollow(Cylinder(r * flat, r, length),
                        Cylinder(r * flat - wall, r - wall, length - 2 * wall), shell,
                        (0, 0, 0), _ALONG_X)
        fill = Cylinder(r * flat - wall - 0.02, r - wall - 0.02, length - 2 * wall - 0.04)
        parts.append(part(fill, "skin_care", (0, 0, 0), _ALONG_X, scale=_u(rng, 0.6, 1.0)))
        parts.append(part(box(8.0, 2 * r + 6, 1.0), shell, (-length / 2 - 4.01, 0, 0)))
        parts.append(part(Cylinder(9.0, 9.0, 14.0), "polyethylene", (length / 2 + 7.01, 0, 0),
                          _ALONG_X))
    elif kind == "bottle":
        lx, ly, lz = _u(rng, 80, 150), _u(rng, 35, 60), _u(rng, 22, 40)
        wall = 0.9
        rr = min(ly, lz) * 0.45
        parts += rounded_shell(lx, ly, lz, rr, wall, "polyethylene")
        fill_h = (lz - 2 * wall - 0.1) * _u(rng, 0.5, 0.95)
        gel = prism(rounded_rect(lx - 2 * wall - 0.1, ly - 2 * wall - 0.1, rr - wall - 0.05),
                    fill_h)
        parts.append(part(gel, "skin_care", (0, 0, -lz / 2 + wall + 0.05 + fill_h / 2)))
        parts.append(part(Cylinder(12.0, 12.0, 20.0), _pick(rng, ["polyethylene", "pom"]),
                          (lx / 2 + 10.01, 0, 0), _ALONG_X))
    elif kind == "aerosol":
        r, length = _u(rng, 22, 27), _u(rng, 120, 160)
        parts += hollow(Cylinder(r, r, length), Cylinder(r - 0.4, r - 0.4, length - 0.8),
                        "aluminium", (0, 0, 0), _ALONG_X)
        level = _u(rng, 0.3, 0.7)
        outline = segment_outline(r - 0.45, -r + 2 * r * level)
        rotation = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
        parts.append(part(prism(outline, length - 0.9), "polyethylene", (0, 0, 0),
                          scale=0.6, rotation=rotation))  # liquefied propellant and product
        parts.append(part(Cylinder(12.5, 12.5, 3.0), "iron", (length / 2 + 1.51, 0, 0),
                          _ALONG_X))  # valve cup
        parts += hollow(Cylinder(r, r, 35.0), Cylinder(r - 1.2, r - 1.2, 32.6), "polyethylene",
                        (length / 2 + 3.02 + 17.5, 0, 0), _ALONG_X)
    elif kind == "jar":
        r, h = _u(rng, 25, 40), _u(rng, 25, 45)
        material = _pick(rng, ["glass", "polyethylene"])
        wall = 3.0 if material == "glass" else 1.5
        parts += hollow(Cylinder(r, r, h), Cylinder(r - wall, r - wall, h - 2 * wall), material)
        parts.append(part(Cylinder(r - wall - 0.05, r - wall - 0.05, h - 2 * wall - 0.1),
                          "skin_care", scale=_u(rng, 0.7, 1.0)))
        parts += hollow(Cylinder(r + 1.5, r + 1.5, 12.0), Cylinder(r, r, 10.0),
                        _pick(rng, ["polyethylene", "aluminium"]), (0, 0, h / 2 + 6.01))
    elif kind == "razor":
        length = _u(rng, 110, 150)
        parts.append(part(box(length, 12.0, 9.0), "abs", (0, 0, 0)))
        parts.append(part(box(12.0, 40.0, 8.0), "abs", (length / 2 + 6.01, 0, 0)))
        for k in range(3):
            parts.append(part(box(1.2, 36.0, 0.1), "iron", (length / 2 + 2 + 3 * k, 0, 4.1)))
    else:
        length = _u(rng, 170, 195)
        parts.append(part(box(length, 11.0, 7.0), _pick(rng, ["polyethylene", "pom"])))
        parts.append(part(box(25.0, 11.0, 10.0), "nylon", (length / 2 - 14, 0, 8.51),
                          scale=0.4))
    return parts


def make_toiletry(rng: np.random.Generator) -> SceneObject:
    """A toiletry or a small kit of them side by side (tubes, gels, aerosol, jar, razor)."""
    n = 1 if _chance(rng, 0.45) else int(rng.integers(2, 5))
    parts: list[Part] = []
    y = 0.0
    for _ in range(n):
        piece = centred(_toiletry_piece(rng))
        lo, hi = local_bounds(piece)
        if hi[1] - lo[1] > hi[0] - lo[0]:
            piece = centred(moved(piece, Pose.at(rz=math.pi / 2)))
            lo, hi = local_bounds(piece)
        width = hi[1] - lo[1]
        parts += moved(piece, Pose.at(_u(rng, -10, 10), y + width / 2, -lo[2]))
        y += width + 2.0
    return finish("toiletry", parts)


# --------------------------------------------------------------------------------------
# Umbrella, keys, coins, belt
# --------------------------------------------------------------------------------------


def make_umbrella(rng: np.random.Generator) -> SceneObject:
    """A folded umbrella: telescopic steel shaft, ribs, nylon canopy, plastic handle."""
    length = _u(rng, 230, 330)
    rib_material = _pick(rng, ["iron", "aluminium"], [2, 1])
    shaft_r = _u(rng, 4.5, 6.0)
    parts: list[Part] = []
    # Telescopic shaft: an outer tube holding a thinner one.
    parts += tube("iron", (0, 0, 0), (length, 0, 0), shaft_r, 0.5)
    parts += tube("iron", (0.6, 0, 0), (length * 0.8, 0, 0), shaft_r - 0.8, 0.4)
    ribs = int(rng.integers(6, 10))
    rib_r = _u(rng, 0.8, 1.3)
    ring = shaft_r + rib_r + 1.5
    for k in range(ribs):
        phi = 2 * math.pi * k / ribs
        y, z = ring * math.cos(phi), ring * math.sin(phi)
        parts.append(rod(rib_material, (length * 0.08, y, z), (length * 0.95, y, z), rib_r))
    # Canopy wrapped around the ribs.
    canopy_in = ring + rib_r + 0.5
    canopy_out = canopy_in + _u(rng, 6, 14)
    flat = _u(rng, 0.7, 1.0)
    clen = length * 0.92
    parts += hollow(Cylinder(canopy_out * flat, canopy_out, clen),
                    Cylinder(canopy_in * flat if canopy_in * flat > ring + rib_r + 0.2
                             else canopy_in, canopy_in, clen - 2.0),
                    "nylon", (length * 0.5, 0, 0), _ALONG_X, scale=_u(rng, 0.3, 0.55))
    # Handle and tip.
    handle_len = _u(rng, 60, 100)
    handle_r = _u(rng, 11, 15)
    parts.append(rod(_pick(rng, ["abs", "rubber", "wood"]), (-handle_len - 0.01, 0, 0),
                     (-0.01, 0, 0), handle_r))
    parts.append(rod("abs", (length + 0.01, 0, 0), (length + 15, 0, 0), shaft_r + 1))
    return finish("umbrella", parts)


def _key(rng: np.random.Generator, material: str) -> list[Part]:
    """A flat key along +x with its ring hole at the origin."""
    t = _u(rng, 1.8, 2.4)
    bow_r = _u(rng, 11, 15)
    parts: list[Part] = []
    bow = prism(convex_outline([(bow_r * math.cos(a), bow_r * math.sin(a) * 0.9)
                                for a in np.linspace(0, 2 * math.pi, 10, endpoint=False)]), t)
    parts.append(part(bow, material, (bow_r * 0.55, 0, 0)))
    parts.append(part(Cylinder(2.6, 2.6, t - 0.1), material, (0.0, 0, 0), negative=True))
    blade_len = _u(rng, 28, 45)
    blade_w = _u(rng, 6.5, 9)
    bx0 = bow_r * 0.55 + bow_r - 0.5
    parts.append(part(box(blade_len, blade_w, t), material, (bx0 + blade_len / 2, 0, 0)))
    for k in range(int(rng.integers(3, 7))):  # cut teeth along one edge
        depth = _u(rng, 1.5, 3.5)
        x = bx0 + 5 + k * (blade_len - 8) / 6
        parts.append(part(prism([(-2.5, 0.0), (2.5, 0.0), (0.0, depth)], t), material,
                          (x, blade_w / 2 + 0.01, 0)))
    return parts


def make_keys(rng: np.random.Generator) -> SceneObject:
    """A bunch of keys on a steel split ring, sometimes with a car key fob."""
    ring_r = _u(rng, 11, 16)
    wire = 0.9
    parts: list[Part] = []
    segments = 12
    for k in range(segments):
        a0 = 2 * math.pi * k / segments
        a1 = 2 * math.pi * (k + 1) / segments
        parts.append(rod("iron", (ring_r * math.cos(a0), ring_r * math.sin(a0), 0.0),
                         (ring_r * math.cos(a1), ring_r * math.sin(a1), 0.0), wire))
    n = int(rng.integers(1, 6))
    z = wire + 1.4
    for _ in range(n):
        angle = _u(rng, -0.9, 0.9)
        material = _pick(rng, ["brass", "iron"], [3, 2])
        key = _key(rng, material)
        # the key's hole sits on the ring at the angle the key hangs
        hole = np.array([ring_r * math.cos(angle), ring_r * math.sin(angle)])
        parts += moved(key, Pose.at(hole[0], hole[1], z, rz=angle))
        z += 2.6
    if _chance(rng, 0.35):  # car key fob: plastic case, board, coin cell, folding blade
        angle = _u(rng, 2.0, 4.2)
        fob: list[Part] = []
        fob += rounded_shell(60.0, 32.0, 14.0, 10.0, 2.0, "abs", (38.0, 0, 0))
        fob.append(part(box(40.0, 20.0, 1.0), "fr4", (38.0, 0, -4.0)))
        fob.append(part(Cylinder(10.0, 10.0, 3.2), "iron", (45.0, 0, -1.8)))
        fob.append(part(box(40.0, 7.0, 2.5), "iron", (38.0 + 12, 0, 4.2 - 2.5)))
        hole = np.array([ring_r * math.cos(angle), ring_r * math.sin(angle)])
        parts += moved(fob, Pose.at(hole[0] + 8 * math.cos(angle), hole[1] + 8 * math.sin(angle),
                                    z + 7.5, rz=angle))
    return finish("keys", parts)


def make_coins(rng: np.random.Generator) -> SceneObject:
    """A handful of coins, loose or in a leather purse."""
    n = int(rng.integers(3, 13))
    placed: list[tuple[float, float, float, float, float]] = []  # x, y, r, z_bottom, t
    parts: list[Part] = []
    spread = 25.0 + 3.0 * n
    for _ in range(n):
        r = _u(rng, 8, 14)
        t = _u(rng, 1.5, 2.4)
        x, y = _u(rng, -spread, spread), _u(rng, -spread * 0.6, spread * 0.6)
        z0 = 0.0
        for px, py, pr, pz, pt in placed:
            if math.hypot(px - x, py - y) < pr + r + 0.1:
                z0 = max(z0, pz + pt + 0.05)
        placed.append((x, y, r, z0, t))
        kind = _pick(rng, ["copper", "brass", "iron", "zinc", "bimetal"], [2, 2, 2, 1, 1.5])
        centre = (x, y, z0 + t / 2)
        if kind == "bimetal":  # a brass ring around a cupronickel centre
            parts.append(part(Cylinder(r, r, t), "brass", centre))
            parts.append(part(Cylinder(r * 0.7, r * 0.7, t - 0.02), "brass", centre,
                              negative=True))
            parts.append(part(Cylinder(r * 0.7 - 0.05, r * 0.7 - 0.05, t - 0.04), "copper",
                              centre))
        else:
            parts.append(part(Cylinder(r, r, t), kind, centre))
    if _chance(rng, 0.4):  # in a leather purse
        lo, hi = local_bounds(parts)
        size = hi - lo
        wall = 1.5
        # corners rounded little enough that the coins' square bounds fit the cavity
        parts += hollow(prism(rounded_rect(size[0] + 8, size[1] + 8, 6), size[2] + 2 * wall + 1),
                        box(size[0] + 1, size[1] + 1, size[2] + 0.5), "leather", (lo + hi) / 2)
    return finish("coins", parts)


def make_belt_buckle(rng: np.random.Generator) -> SceneObject:
    """A belt buckle (steel frame with prong or die-cast zinc plate), often on a rolled belt."""
    material = _pick(rng, ["iron", "zinc"])
    bx, by = _u(rng, 40, 60), _u(rng, 35, 50)
    bar = _u(rng, 4.5, 8)
    t = _u(rng, 3, 5)
    parts: list[Part] = []
    if _chance(rng, 0.7):  # frame with prong
        for side in (-1, 1):
            parts.append(part(box(bar, by, t), material, (side * (bx / 2 - bar / 2), 0, 0)))
            parts.append(part(box(bx - 2 * bar - 0.02, bar, t), material,
                              (0, side * (by / 2 - bar / 2), 0)))
        # the prong lies across the frame, on top of it
        prong_z = t / 2 + 1.61
        parts.append(rod("iron", (-bx / 2 + bar / 2, 0, prong_z), (bx / 2 + 3, 0, prong_z), 1.6))
    else:  # solid plate with a hook behind it
        parts.append(part(prism(rounded_rect(bx, by, 6), t), material))
        parts.append(part(box(8.0, 10.0, 4.0), material, (bx / 4, 0, -t / 2 - 2.01)))
    if _chance(rng, 0.6):  # the rolled leather belt beside it
        width = by * 0.75
        rr = _u(rng, 40, 55)
        turns_t = _u(rng, 9, 16)
        parts += hollow(Cylinder(rr, rr, width), Cylinder(rr - turns_t, rr - turns_t, width - 0.2),
                        "leather", (bx / 2 + rr + 3, 0, 0), (0, 0, 0))
        parts.append(part(box(12.0, width - 4, 2.0), "brass",
                          (bx / 2 + rr + 3, -rr + turns_t / 2, width / 2 + 1.01)))
    return finish("belt_buckle", parts)


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
