"""Construction helpers for item factories: convex pieces that abut, hollows, strokes, lathes.

Every simulated item is a union of convex :class:`~screener.sim.geometry.Part` pieces. Two
positive pieces of one object must not overlap (the projection would count that material
twice and show a dark seam), and a negative piece must lie inside positive material of its
own kind. The helpers here build common shapes so that those rules hold by construction:

* :func:`convex_prism` — one extruded convex outline, in any winding, collinear points allowed;
* :func:`polygon_parts` — any simple (possibly non-convex) outline, cut into convex prisms that
  share edges (ear clipping, then Hertel-Mehlhorn merging);
* :func:`stroke_parts` / :func:`ring_parts` — a band of constant width along a polyline or an
  arc (a wire, a trigger guard, a spring), one convex quadrilateral per segment, mitred so that
  neighbours share an edge;
* :func:`split_convex` — cut a convex outline along a line (a blade's edge bevel);
* :func:`rod`, :func:`tube`, :func:`revolved` — cylinders along an axis, hollow tubes, and
  solids of revolution from a radius profile (cartridges, bottles, cans);
* :func:`hollow_box` and :func:`insert` — a box with a cavity, and a piece of one material set
  into another (a rivet in a wooden scale, a steel tang in a plastic handle);
* :func:`place`, :func:`bounds`, :func:`lay_flat` — move a group of parts, measure it, and put
  it in the canonical item frame (centred, longest along x, thinnest along z);
* :func:`rounded`, :func:`bezier`, :func:`arc`, :func:`offset_polyline` — outline and path
  building;
* :func:`soundness` — a Monte Carlo check that no material is counted twice and no negative
  part sticks out of its host (use it in tests of new item factories).

Outlines are lists of ``(x, y)`` points in millimetres; extrusion is along z, centred on
z = 0 before the part's pose applies. Axis names ``"x"``, ``"y"``, ``"z"`` say which local
axis a cylinder runs along.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from screener.sim.geometry import (
    Cylinder,
    Ellipsoid,
    FloatArray,
    HalfSpaces,
    Part,
    Pose,
    Shape,
    box,
    prism,
)

Point = tuple[float, float]
Outline = list[Point]

_EPS = 1e-9

#: Poses that turn a z-axis cylinder so that it runs along the named axis.
_AXIS_POSES: dict[str, Pose] = {
    "x": Pose.at(ry=math.pi / 2),
    "y": Pose.at(rx=-math.pi / 2),
    "z": Pose(),
}


def _pose(pose: Pose | None) -> Pose:
    return Pose() if pose is None else pose


# --------------------------------------------------------------------------- outlines


def signed_area(outline: Sequence[Point]) -> float:
    """Shoelace area of an outline: positive when counter-clockwise (mm²)."""
    pts = np.asarray(outline, dtype=np.float64)
    x, y = pts[:, 0], pts[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def clean_outline(outline: Sequence[Point], tol: float = 1e-6) -> Outline:
    """The outline counter-clockwise, without repeated points or straight-through vertices.

    ``tol`` is in mm: a vertex closer than that to the line through its neighbours goes.
    """
    pts: Outline = [(float(x), float(y)) for x, y in outline]
    if len(pts) >= 3 and signed_area(pts) < 0:
        pts.reverse()
    changed = True
    while changed and len(pts) >= 3:
        changed = False
        for i in range(len(pts)):
            prev, cur, nxt = pts[i - 1], pts[i], pts[(i + 1) % len(pts)]
            base = math.hypot(nxt[0] - prev[0], nxt[1] - prev[1])
            dup = math.hypot(cur[0] - prev[0], cur[1] - prev[1]) <= tol
            if dup or abs(_cross(prev, cur, nxt)) <= tol * max(base, tol):
                del pts[i]
                changed = True
                break
    return pts


def is_convex(outline: Sequence[Point], tol: float = 1e-9) -> bool:
    """Whether a counter-clockwise outline turns left (or goes straight) at every vertex."""
    n = len(outline)
    return n >= 3 and all(
        _cross(outline[i - 1], outline[i], outline[(i + 1) % n]) >= -tol for i in range(n)
    )


def _inside_triangle(p: Point, a: Point, b: Point, c: Point) -> bool:
    return _cross(a, b, p) >= -_EPS and _cross(b, c, p) >= -_EPS and _cross(c, a, p) >= -_EPS


def _triangulate(pts: Outline) -> list[list[int]]:
    """Ear clipping of a counter-clockwise simple polygon; triangles as vertex indices."""
    idx = list(range(len(pts)))
    triangles: list[list[int]] = []
    while len(idx) > 3:
        m = len(idx)
        for k in range(m):
            a, b, c = idx[k - 1], idx[k], idx[(k + 1) % m]
            if _cross(pts[a], pts[b], pts[c]) <= _EPS:
                continue
            others = (pts[j] for j in idx if j not in (a, b, c))
            if any(_inside_triangle(p, pts[a], pts[b], pts[c]) for p in others):
                continue
            triangles.append([a, b, c])
            del idx[k]
            break
        else:
            raise ValueError("outline is not a simple polygon (it crosses itself)")
    triangles.append(idx)
    return triangles


def _merge(p: list[int], q: list[int], pts: Outline) -> list[int] | None:
    """``p`` and ``q`` joined along a shared edge, if they share one and the union is convex."""
    for k in range(len(p)):
        u, v = p[k], p[(k + 1) % len(p)]
        for m in range(len(q)):
            if q[m] == v and q[(m + 1) % len(q)] == u:
                p_rot = p[k + 1:] + p[:k + 1]  # v ... u
                q_rot = q[m + 1:] + q[:m + 1]  # u ... v
                merged = p_rot + q_rot[1:-1]
                if is_convex([pts[i] for i in merged]):
                    return merged
                return None
    return None


def convex_pieces(outline: Sequence[Point]) -> list[Outline]:
    """Cut a simple polygon into convex polygons that share edges and cover it exactly.

    Convex outlines come back whole. Raises ValueError for a self-crossing outline.
    """
    pts = clean_outline(outline)
    if len(pts) < 3:
        raise ValueError("outline has fewer than three distinct corners")
    if is_convex(pts):
        return [pts]
    polys = _triangulate(pts)
    merged = True
    while merged:
        merged = False
        for i in range(len(polys)):
            for j in range(i + 1, len(polys)):
                joined = _merge(polys[i], polys[j], pts)
                if joined is not None:
                    polys[i] = joined
                    del polys[j]
                    merged = True
                    break
            if merged:
                break
    return [clean_outline([pts[i] for i in poly]) for poly in polys]


def split_convex(outline: Sequence[Point], point: Point, direction: Point
                 ) -> tuple[Outline, Outline]:
    """Cut a convex outline by the line through ``point`` along ``direction``.

    Returns (left, right): the parts to the left and right of the directed line; either may be
    empty when the line misses the outline.
    """
    pts = clean_outline(outline)
    px, py = point
    dx, dy = direction

    def side(p: Point) -> float:
        return dx * (p[1] - py) - dy * (p[0] - px)

    left: Outline = []
    right: Outline = []
    n = len(pts)
    for i in range(n):
        a, b = pts[i], pts[(i + 1) % n]
        sa, sb = side(a), side(b)
        if sa >= 0:
            left.append(a)
        if sa <= 0:
            right.append(a)
        if sa * sb < 0:
            t = sa / (sa - sb)
            cut = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
            left.append(cut)
            right.append(cut)
    left = clean_outline(left) if len(left) >= 3 else []
    right = clean_outline(right) if len(right) >= 3 else []
    return (left if len(left) >= 3 else []), (right if len(right) >= 3 else [])


def scale_outline(outline: Sequence[Point], factor: float,
                  centre: Point | None = None) -> Outline:
    """The outline scaled about ``centre`` (default: its vertex mean); < 1 shrinks it inside."""
    pts = np.asarray(outline, dtype=np.float64)
    c = pts.mean(axis=0) if centre is None else np.asarray(centre, dtype=np.float64)
    out = c + (pts - c) * factor
    return [(float(x), float(y)) for x, y in out]


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float,
        n: int) -> Outline:
    """``n`` points on an elliptic arc from angle ``a0`` to ``a1`` (radians, both included)."""
    ts = np.linspace(a0, a1, n)
    return [(cx + rx * math.cos(t), cy + ry * math.sin(t)) for t in ts]


def bezier(p0: Point, p1: Point, p2: Point, n: int) -> Outline:
    """``n`` points on the quadratic Bezier curve with control point ``p1`` (ends included)."""
    ts = np.linspace(0.0, 1.0, n)
    return [
        (float((1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * p1[0] + t * t * p2[0]),
         float((1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * p1[1] + t * t * p2[1]))
        for t in ts
    ]


def rounded(points: Sequence[Point], radius: float | Sequence[float], steps: int = 4,
            closed: bool = False) -> Outline:
    """A polyline (or closed outline) with its corners replaced by quadratic Bezier fillets.

    ``radius`` (mm, per vertex or one for all) is how far back along each edge the fillet
    starts; it is capped at just under half the shorter edge. End points of an open polyline
    stay where they are; a radius of 0 keeps a corner sharp.
    """
    pts = [(float(x), float(y)) for x, y in points]
    n = len(pts)
    radii = [float(radius)] * n if isinstance(radius, int | float) else [float(r) for r in radius]
    out: Outline = []
    for i, p in enumerate(pts):
        end = not closed and i in (0, n - 1)
        if end or radii[i] <= 0:
            out.append(p)
            continue
        a, b = pts[i - 1], pts[(i + 1) % n]
        la, lb = math.dist(a, p), math.dist(p, b)
        r = min(radii[i], 0.49 * la, 0.49 * lb)
        start = (p[0] + (a[0] - p[0]) * r / la, p[1] + (a[1] - p[1]) * r / la)
        stop = (p[0] + (b[0] - p[0]) * r / lb, p[1] + (b[1] - p[1]) * r / lb)
        out.extend(bezier(start, p, stop, steps + 1))
    return out


def offset_polyline(points: Sequence[Point], distance: float) -> Outline:
    """The open polyline moved sideways by ``distance`` (mm, positive to the left), mitred.

    Two offsets of one centreline by more than half a stroke width each give parallel strokes
    that do not touch (twin wires, the two strands of a cable).
    """
    if len(points) < 2:
        raise ValueError("offset_polyline needs at least two points")
    quads = stroke_outlines(points, 2 * abs(distance))
    side = 3 if distance > 0 else 0
    other = 2 if distance > 0 else 1
    return [quads[0][side]] + [quad[other] for quad in quads]


def stroke_outlines(points: Sequence[Point], width: float, closed: bool = False
                    ) -> list[Outline]:
    """Quadrilaterals covering a band of ``width`` centred on a polyline, one per segment.

    Joints are mitred, so consecutive quadrilaterals share an edge and never overlap. Keep
    turns gentle (under about 100 degrees per vertex) and segments longer than the width, or
    a quadrilateral folds over and :func:`convex_prism` raises.
    """
    pts = [(float(x), float(y)) for x, y in points]
    if closed and math.dist(pts[0], pts[-1]) < 1e-9:
        pts = pts[:-1]
    n = len(pts)
    if n < 2:
        raise ValueError("a stroke needs at least two points")
    seg = n if closed else n - 1
    normals: list[tuple[float, float]] = []
    for i in range(seg):
        a, b = pts[i], pts[(i + 1) % n]
        length = math.dist(a, b)
        if length < 1e-9:
            raise ValueError("stroke has a zero-length segment")
        normals.append((-(b[1] - a[1]) / length, (b[0] - a[0]) / length))
    half = width / 2
    offsets: list[tuple[float, float]] = []
    for i in range(n):
        if not closed and i == 0:
            n_in = n_out = normals[0]
        elif not closed and i == n - 1:
            n_in = n_out = normals[-1]
        else:
            n_in, n_out = normals[i - 1], normals[i % seg]
        denom = 1.0 + n_in[0] * n_out[0] + n_in[1] * n_out[1]
        if denom < 0.2:
            raise ValueError("stroke turns too sharply at a vertex")
        offsets.append(((n_in[0] + n_out[0]) / denom * half, (n_in[1] + n_out[1]) / denom * half))
    quads: list[Outline] = []
    for i in range(seg):
        j = (i + 1) % n
        (ax, ay), (bx, by) = pts[i], pts[j]
        (oax, oay), (obx, oby) = offsets[i], offsets[j]
        quads.append([(ax - oax, ay - oay), (bx - obx, by - oby),
                      (bx + obx, by + oby), (ax + oax, ay + oay)])
    return quads


# --------------------------------------------------------------------------- parts


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


def rod(length: float, radius: float, material: str, pose: Pose | None = None, *,
        axis: str = "x", radius2: float | None = None, density_scale: float = 1.0,
        negative: bool = False) -> Part:
    """A solid cylinder centred at the pose, along ``axis``; elliptic if ``radius2`` is given.

    For ``axis="x"`` the cross-section has ``radius`` along z and ``radius2`` along y.
    """
    r2 = radius if radius2 is None else radius2
    return Part(Cylinder(radius, r2, length), material, axis_pose(axis, pose), density_scale,
                negative)


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


def frustum_radius(r0: float, r1: float) -> float:
    """Radius of the cylinder with the volume of a frustum of end radii ``r0`` and ``r1``."""
    return math.sqrt((r0 * r0 + r0 * r1 + r1 * r1) / 3.0)


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


def insert(shape: Shape, pose: Pose, material: str, host_material: str, *,
           host_density_scale: float = 1.0, density_scale: float = 1.0) -> list[Part]:
    """A piece of ``material`` set into a host part: the host loses that volume, the piece fills it.

    The shape must lie inside the host's positive material.
    """
    return [
        Part(shape, host_material, pose, host_density_scale, negative=True),
        Part(shape, material, pose, density_scale),
    ]


def cylinder_between(p0: Sequence[float], p1: Sequence[float], radius: float, material: str,
                     *, density_scale: float = 1.0, negative: bool = False) -> Part:
    """A round rod from 3D point ``p0`` to ``p1`` (mm)."""
    a = np.asarray(p0, dtype=np.float64)
    b = np.asarray(p1, dtype=np.float64)
    axis = b - a
    length = float(np.linalg.norm(axis))
    if length < 1e-9:
        raise ValueError("cylinder_between needs two distinct points")
    z = axis / length
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    rotation = np.column_stack([x, y, z])
    return Part(Cylinder(radius, radius, length), material, Pose(rotation, (a + b) / 2),
                density_scale, negative)


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
    turned = place(items, Pose(rotation, np.zeros(3)))
    lo, hi = bounds(turned)
    return place(turned, Pose(np.eye(3), -(lo + hi) / 2))


# --------------------------------------------------------------------------- checks


def contains(shape: Shape, points: FloatArray) -> NDArray[np.bool_]:
    """Which local points (N, 3) lie inside a shape (boundary included)."""
    if isinstance(shape, HalfSpaces):
        inside: NDArray[np.bool_] = np.all(points @ shape.normals.T <= shape.offsets + 1e-9,
                                           axis=1)
        return inside
    if isinstance(shape, Ellipsoid):
        q = points / np.array([shape.rx, shape.ry, shape.rz])
        within: NDArray[np.bool_] = np.einsum("ij,ij->i", q, q) <= 1.0 + 1e-9
        return within
    radial = (points[:, 0] / shape.rx) ** 2 + (points[:, 1] / shape.ry) ** 2
    return (radial <= 1.0 + 1e-9) & (np.abs(points[:, 2]) <= shape.length / 2 + 1e-9)


def material_counts(parts: Sequence[Part], points: FloatArray) -> dict[str, NDArray[np.int64]]:
    """Per material, how many positive pieces minus negative pieces hold each point (N, 3).

    A sound object has every count 0 or 1 and at most one material at 1 at any point.
    """
    counts: dict[str, NDArray[np.int64]] = {}
    for part in parts:
        local = (points - part.pose.translation) @ part.pose.rotation
        hit = contains(part.shape, local).astype(np.int64)
        tally = counts.setdefault(part.material, np.zeros(len(points), dtype=np.int64))
        tally += -hit if part.negative else hit
    return counts


def soundness(parts: Sequence[Part], rng: np.random.Generator, samples: int = 20000
              ) -> tuple[float, float]:
    """Monte Carlo check of the construction rules over the parts' bounding box.

    Returns (overlap, deficit): the fractions of occupied sample points where material is
    counted more than once (overlapping positives) or less than zero (a negative piece
    outside its host). Both are 0 for a well-built object.
    """
    lo, hi = bounds(parts)
    points = lo + rng.random((samples, 3)) * (hi - lo)
    counts = material_counts(parts, points)
    stack = np.vstack(list(counts.values()))
    total = stack.sum(axis=0)
    occupied = max(int(np.count_nonzero(np.any(stack != 0, axis=0))), 1)
    overlap = int(np.count_nonzero((total > 1) | np.any(stack > 1, axis=0)))
    deficit = int(np.count_nonzero(np.any(stack < 0, axis=0)))
    return overlap / occupied, deficit / occupied
