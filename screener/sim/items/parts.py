"""Construction helpers for item factories: convex pieces that abut, hollows, rods, lathes.

Every simulated item is a union of convex :class:`~screener.sim.geometry.Part` pieces. Two
positive pieces of one object must not overlap (the projection would count that material
twice and show a dark seam), and a negative piece must lie inside positive material of its
own kind. The helpers here build common shapes so that those rules hold by construction
(outlines come from :mod:`screener.sim.items.outlines`; :mod:`screener.sim.items.soundness`
checks the rules):

* :func:`part`, :func:`block`, :func:`hollow` — one shape at a position and rotation, an
  axis-aligned box, and a solid with a same-centred piece of it removed;
* :func:`convex_prism`, :func:`polygon_parts` — one extruded convex outline, and any simple
  outline cut into convex prisms that share edges;
* :func:`stroke_parts` / :func:`ring_parts` — a band of constant width along a polyline or an
  arc (a wire, a trigger guard, a spring);
* :func:`rod`, :func:`tube`, :func:`revolved` — cylinders along an axis, hollow tubes, and
  solids of revolution from a radius profile (cartridges, bottles, cans);
  :func:`rod_between` and :func:`tube_between` run from one 3-D point to another;
* :func:`frustum`, :func:`rounded_box`, :func:`intersect` — polygonal cones, boxes with
  rounded edges, and the intersection of two convex polytopes;
* :func:`hollow_box`, :func:`rounded_shell` and :func:`insert` — boxes with a cavity, and a
  piece of one material set into another (a rivet in a wooden scale, a steel tang in a
  plastic handle);
* :func:`place`, :func:`corners`, :func:`bounds`, :func:`centred`, :func:`lay_flat` — move a
  group of parts, measure it, centre it, and put it in the canonical item frame (centred,
  longest along x, thinnest along z);
* :func:`threat_article`, :func:`benign_article` — the finished, labelled scene object.

Extrusion is along z, centred on z = 0 before the part's pose applies. Axis names ``"x"``,
``"y"``, ``"z"`` say which local axis a cylinder runs along.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np

from screener.sim.geometry import (
    Cylinder,
    FloatArray,
    HalfSpaces,
    Part,
    Pose,
    SceneObject,
    Shape,
    box,
    prism,
)
from screener.sim.items.outlines import (
    Point,
    arc,
    clean_outline,
    convex_pieces,
    rounded_rect,
    stroke_outlines,
)

#: Carbon steel, by its name in the material tables.
STEEL = "iron"

#: A point or vector in millimetres: a tuple or a numpy array of three numbers.
Vec = Sequence[float] | FloatArray

#: The ``rot`` (rx, ry, rz radians) of :func:`part` that turns a z-axis cylinder along +x.
ALONG_X = (0.0, math.pi / 2, 0.0)

#: Poses that turn a z-axis cylinder so that it runs along the named axis.
_AXIS_POSES: dict[str, Pose] = {
    "x": Pose.at(ry=math.pi / 2),
    "y": Pose.at(rx=-math.pi / 2),
    "z": Pose(),
}


def _pose(pose: Pose | None) -> Pose:
    return Pose() if pose is None else pose


# --------------------------------------------------------------------------- parts


def part(shape: Shape, material: str, at: Vec = (0.0, 0.0, 0.0),
         rot: Sequence[float] = (0.0, 0.0, 0.0), *, density_scale: float = 1.0,
         negative: bool = False, rotation: FloatArray | None = None) -> Part:
    """A part at position ``at`` rotated by ``rot`` (rx, ry, rz radians) or by ``rotation``."""
    if rotation is None:
        pose = Pose.at(float(at[0]), float(at[1]), float(at[2]),
                       rx=float(rot[0]), ry=float(rot[1]), rz=float(rot[2]))
    else:
        pose = Pose(np.asarray(rotation, dtype=np.float64), np.asarray(at, dtype=np.float64))
    return Part(shape, material, pose, density_scale, negative)


def block(size: tuple[float, float, float], centre: Vec, material: str, *,
          density_scale: float = 1.0, negative: bool = False) -> Part:
    """An axis-aligned box of full ``size`` centred at ``centre``."""
    return part(box(*size), material, centre, density_scale=density_scale, negative=negative)


def hollow(outer: Shape, inner: Shape, material: str, at: Vec = (0.0, 0.0, 0.0),
           rot: Sequence[float] = (0.0, 0.0, 0.0), *, density_scale: float = 1.0,
           rotation: FloatArray | None = None) -> list[Part]:
    """A solid ``outer`` with the (smaller, same-centred) ``inner`` removed, placed as by
    :func:`part`."""
    return [
        part(outer, material, at, rot, density_scale=density_scale, rotation=rotation),
        part(inner, material, at, rot, density_scale=density_scale, negative=True,
             rotation=rotation),
    ]


def convex_prism(outline: Sequence[Point], thickness: float, material: str,
                 pose: Pose | None = None, *, density_scale: float = 1.0,
                 negative: bool = False) -> Part:
    """One prism of a convex outline (either winding; repeated or collinear points are fine)."""
    pts = clean_outline(outline)
    return Part(prism(pts, thickness), material, _pose(pose), density_scale, negative)


def polygon_parts(outline: Sequence[Point], thickness: float, material: str,
                  pose: Pose | None = None, *, density_scale: float = 1.0,
                  negative: bool = False) -> list[Part]:
    """A simple polygon of any shape extruded along z, as abutting convex prisms."""
    return [
        Part(prism(piece, thickness), material, _pose(pose), density_scale, negative)
        for piece in convex_pieces(outline)
    ]


def stroke_parts(points: Sequence[Point], width: float, thickness: float, material: str,
                 pose: Pose | None = None, *, closed: bool = False,
                 density_scale: float = 1.0, negative: bool = False) -> list[Part]:
    """A band of ``width`` along a polyline in the xy plane, ``thickness`` deep along z."""
    return [
        convex_prism(quad, thickness, material, pose, density_scale=density_scale,
                     negative=negative)
        for quad in stroke_outlines(points, width, closed)
    ]


def ring_parts(rx: float, ry: float, width: float, thickness: float, material: str,
               pose: Pose | None = None, *, a0: float = 0.0, a1: float = 2 * math.pi,
               segments: int = 24, density_scale: float = 1.0) -> list[Part]:
    """An elliptic ring (or an arc of one, from ``a0`` to ``a1``) of band ``width`` in xy."""
    full = abs(a1 - a0) >= 2 * math.pi - 1e-9
    if full:
        pts = arc(0.0, 0.0, rx, ry, a0, a0 + 2 * math.pi, segments + 1)[:-1]
    else:
        pts = arc(0.0, 0.0, rx, ry, a0, a1, segments + 1)
    return stroke_parts(pts, width, thickness, material, pose, closed=full,
                        density_scale=density_scale)


def axis_pose(axis: str, pose: Pose | None = None) -> Pose:
    """The pose of a z-axis cylinder turned to run along ``axis``, then placed by ``pose``."""
    return _AXIS_POSES[axis].then(_pose(pose))


def align_z(direction: Vec, reference: Vec = (0.0, 0.0, 1.0),
            fallback: Vec = (1.0, 0.0, 0.0)) -> FloatArray:
    """A rotation whose local z axis points along ``direction`` (a right-handed frame).

    Its local x axis is square to ``reference``, or to ``fallback`` where ``direction`` is
    within about 25 degrees of ``reference``.
    """
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    ref = np.asarray(reference, dtype=np.float64)
    helper = ref if abs(float(d @ ref)) < 0.9 else np.asarray(fallback, dtype=np.float64)
    u = np.cross(helper, d)
    u /= np.linalg.norm(u)
    v = np.cross(d, u)
    return np.column_stack([u, v, d])


def rod(length: float, radius: float, material: str, pose: Pose | None = None, *,
        axis: str = "x", radius2: float | None = None, density_scale: float = 1.0,
        negative: bool = False) -> Part:
    """A solid cylinder centred at the pose, along ``axis``; elliptic if ``radius2`` is given.

    For ``axis="x"`` the cross-section has ``radius`` along z and ``radius2`` along y.
    """
    r2 = radius if radius2 is None else radius2
    return Part(Cylinder(radius, r2, length), material, axis_pose(axis, pose), density_scale,
                negative)


def _segment(p0: Vec, p1: Vec, reference: Vec, fallback: Vec
             ) -> tuple[float, FloatArray, FloatArray]:
    """Length, midpoint and :func:`align_z` rotation of the segment from ``p0`` to ``p1``."""
    a = np.asarray(p0, dtype=np.float64)
    b = np.asarray(p1, dtype=np.float64)
    length = float(np.linalg.norm(b - a))
    if length < 1e-9:
        raise ValueError("a rod or tube between points needs two distinct points")
    return length, (a + b) / 2, align_z(b - a, reference, fallback)


def rod_between(p0: Vec, p1: Vec, radius: float, material: str, *,
                radius2: float | None = None, density_scale: float = 1.0,
                negative: bool = False, reference: Vec = (0.0, 0.0, 1.0),
                fallback: Vec = (1.0, 0.0, 0.0)) -> Part:
    """A solid rod from 3-D point ``p0`` to ``p1`` (mm), round or, with ``radius2``, elliptic.

    The cross-section's ``radius`` lies along the local x axis that :func:`align_z` gives
    with ``reference`` and ``fallback``.
    """
    length, centre, rotation = _segment(p0, p1, reference, fallback)
    shape = Cylinder(radius, radius if radius2 is None else radius2, length)
    return part(shape, material, centre, density_scale=density_scale, negative=negative,
                rotation=rotation)


def tube(length: float, outer_radius: float, inner_radius: float, material: str,
         pose: Pose | None = None, *, axis: str = "x", end_walls: tuple[float, float] = (0, 0),
         density_scale: float = 1.0) -> list[Part]:
    """A tube centred at the pose: a solid rod and a negative bore inside it.

    ``end_walls`` closes the start and the end (mm of wall at -axis and +axis); open ends let
    another piece pass through the bore.
    """
    if not 0 < inner_radius < outer_radius:
        raise ValueError("tube needs 0 < inner_radius < outer_radius")
    start, end = end_walls
    bore_len = length - start - end
    if bore_len <= 0:
        raise ValueError("tube end walls are longer than the tube")
    shift = (start - end) / 2
    offset = np.asarray(axis_pose(axis).rotation @ np.array([0.0, 0.0, shift]))
    bore_pose = Pose(np.eye(3), offset).then(_pose(pose))
    return [
        rod(length, outer_radius, material, pose, axis=axis, density_scale=density_scale),
        rod(bore_len, inner_radius, material, bore_pose, axis=axis,
            density_scale=density_scale, negative=True),
    ]


def tube_between(p0: Vec, p1: Vec, radius: float, wall: float, material: str, *,
                 end_wall: float | None = None, density_scale: float = 1.0) -> list[Part]:
    """A closed round tube from ``p0`` to ``p1``: walls ``wall`` thick, ends ``end_wall``
    thick (by default ``wall``)."""
    length, centre, rotation = _segment(p0, p1, (0.0, 0.0, 1.0), (1.0, 0.0, 0.0))
    cap = wall if end_wall is None else end_wall
    return hollow(Cylinder(radius, radius, length),
                  Cylinder(radius - wall, radius - wall, length - 2 * cap),
                  material, centre, density_scale=density_scale, rotation=rotation)


def frustum_radius(r0: float, r1: float) -> float:
    """Radius of the cylinder with the volume of a frustum of end radii ``r0`` and ``r1``."""
    return math.sqrt((r0 * r0 + r0 * r1 + r1 * r1) / 3.0)


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


def revolved(stations: Sequence[tuple[float, float]], material: str,
             pose: Pose | None = None, *, axis: str = "x", density_scale: float = 1.0,
             negative: bool = False) -> list[Part]:
    """A solid of revolution from ``(position, radius)`` stations along ``axis``.

    Each span between consecutive stations becomes a cylinder with the frustum's volume, so
    the mass is right and the outline steps slightly. Spans must go forwards. A hollow body is
    an outer profile plus a ``negative`` inner profile with the same positions, each inner
    radius smaller than the outer one there.
    """
    parts: list[Part] = []
    for (x0, r0), (x1, r1) in itertools.pairwise(stations):
        if x1 < x0 - 1e-9:
            raise ValueError("revolved stations must go forwards")
        if x1 - x0 < 1e-6:
            continue
        radius = frustum_radius(r0, r1)
        if radius <= 0:
            continue
        offset = np.zeros(3)
        offset["xyz".index(axis)] = (x0 + x1) / 2
        local = Pose(np.eye(3), offset)
        parts.append(rod(x1 - x0, radius, material, local.then(_pose(pose)), axis=axis,
                         density_scale=density_scale, negative=negative))
    return parts


def intersect(a: HalfSpaces, b: HalfSpaces, b_pose: Pose | None = None) -> HalfSpaces:
    """The intersection of two convex polytopes (``b`` placed by ``b_pose`` in ``a``'s frame).

    The footprint hull is the one of ``a`` or ``b`` with the smaller bounding box, which holds
    the intersection; it is conservative, never too small.
    """
    pose = _pose(b_pose)
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


def hollow_box(size: tuple[float, float, float], wall: float | tuple[float, float, float],
               material: str, pose: Pose | None = None, *, density_scale: float = 1.0,
               cavity_offset: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> list[Part]:
    """A closed box of outer ``size`` with walls ``wall`` thick (or per axis), centred at pose.

    ``cavity_offset`` moves the cavity (it must stay inside; a wall may drop to zero, which
    leaves that face open).
    """
    walls = (wall, wall, wall) if isinstance(wall, int | float) else wall
    inner = tuple(s - 2 * w for s, w in zip(size, walls, strict=True))
    if min(inner) <= 0:
        raise ValueError("hollow box walls leave no cavity")
    for s, i, o in zip(size, inner, cavity_offset, strict=True):
        if abs(o) + i / 2 > s / 2 + 1e-9:
            raise ValueError("hollow box cavity pokes out of the box")
    cavity_pose = Pose.at(*cavity_offset).then(_pose(pose))
    return [
        Part(box(*size), material, _pose(pose), density_scale),
        Part(box(*inner), material, cavity_pose, density_scale, negative=True),
    ]


def rounded_shell(sx: float, sy: float, sz: float, radius: float, wall: float, material: str,
                  at: Vec = (0.0, 0.0, 0.0), *, density_scale: float = 1.0) -> list[Part]:
    """A closed box with vertical edges rounded to ``radius`` and walls ``wall`` thick; the
    cavity's corners are rounded to ``radius - wall`` so that it stays inside the shell."""
    return hollow(prism(rounded_rect(sx, sy, radius), sz),
                  prism(rounded_rect(sx - 2 * wall, sy - 2 * wall, max(radius - wall, 0.0)),
                        sz - 2 * wall), material, at, density_scale=density_scale)


def insert(shape: Shape, pose: Pose, material: str, host_material: str, *,
           host_density_scale: float = 1.0, density_scale: float = 1.0) -> list[Part]:
    """A piece of ``material`` set into a host part: the host loses that volume, the piece fills it.

    The shape must lie inside the host's positive material.
    """
    return [
        Part(shape, host_material, pose, host_density_scale, negative=True),
        Part(shape, material, pose, density_scale),
    ]


# --------------------------------------------------------------------------- groups


def place(parts: Iterable[Part], pose: Pose) -> list[Part]:
    """The parts moved by ``pose`` (applied after each part's own pose)."""
    return [
        Part(p.shape, p.material, p.pose.then(pose), p.density_scale, p.negative) for p in parts
    ]


def corners(parts: Iterable[Part]) -> FloatArray:
    """Corner points (N, 3) whose hull holds all the parts, in the parts' common frame."""
    return np.vstack([p.pose.apply(p.shape.corners()) for p in parts])


def bounds(parts: Iterable[Part]) -> tuple[FloatArray, FloatArray]:
    """Axis-aligned box (min corner, max corner) around the parts, in mm."""
    pts = corners(parts)
    return pts.min(axis=0), pts.max(axis=0)


def centred(parts: Iterable[Part]) -> list[Part]:
    """The parts shifted so that their bounding box is centred at the origin."""
    items = list(parts)
    lo, hi = bounds(items)
    return place(items, Pose(np.eye(3), -(lo + hi) / 2))


def lay_flat(parts: Iterable[Part]) -> list[Part]:
    """The parts turned (by quarter turns) and moved so that the group is centred at the origin
    with its longest extent along x and its shortest along z.
    """
    items = list(parts)
    lo, hi = bounds(items)
    order = np.argsort(-(hi - lo), kind="stable")
    rotation = np.zeros((3, 3))
    for new_axis, old_axis in enumerate(order):
        rotation[new_axis, old_axis] = 1.0
    if np.linalg.det(rotation) < 0:
        rotation[2] *= -1.0
    return centred(place(items, Pose(rotation, np.zeros(3))))


def threat_article(label: str, parts: Iterable[Part]) -> SceneObject:
    """A threat object from ``parts``, laid flat (:func:`lay_flat`)."""
    return SceneObject(label, tuple(lay_flat(parts)), threat=True)


def benign_article(label: str, parts: Iterable[Part]) -> SceneObject:
    """A benign object from ``parts``: centred, turned about z so that its longer horizontal
    side runs along x (its up stays up)."""
    items = list(parts)
    lo, hi = bounds(items)
    size = hi - lo
    if size[1] > size[0]:
        items = place(items, Pose.at(rz=math.pi / 2))
    return SceneObject(label, tuple(centred(items)))
