"""Outline building for item factories: 2-D polygons and polylines in millimetres.

Outlines are lists of ``(x, y)`` points; :mod:`screener.sim.items.parts` extrudes them into
convex prisms. The helpers here:

* :func:`clean_outline`, :func:`is_convex`, :func:`signed_area` — tidy and test an outline;
* :func:`convex_pieces` — cut any simple (possibly non-convex) outline into convex polygons
  that share edges (ear clipping, then Hertel-Mehlhorn merging);
* :func:`split_convex` — cut a convex outline along a line (a blade's edge bevel);
* :func:`convex_outline` — the convex hull of a set of points;
* :func:`rect`, :func:`rounded_rect`, :func:`segment_outline`, :func:`arc`, :func:`bezier`,
  :func:`rounded`, :func:`scale_outline` — common shapes, curves and fillets;
* :func:`stroke_outlines`, :func:`offset_polyline` — a band of constant width along a
  polyline (a wire, a trigger guard, a spring), one convex quadrilateral per segment, mitred
  so that neighbours share an edge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from screener.sim.geometry import FloatArray

Point = tuple[float, float]
Outline = list[Point]

_EPS = 1e-9


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


def convex_outline(points: Sequence[Point] | FloatArray) -> Outline:
    """The convex hull of 2-D points, counter-clockwise, without collinear points."""
    pts = sorted({(round(float(p[0]), 6), round(float(p[1]), 6)) for p in points})
    if len(pts) < 3:
        raise ValueError("an outline needs three distinct points")
    lower: Outline = []
    for p in pts:
        while len(lower) >= 2 and _cross(lower[-2], lower[-1], p) <= 1e-9:
            lower.pop()
        lower.append(p)
    upper: Outline = []
    for p in reversed(pts):
        while len(upper) >= 2 and _cross(upper[-2], upper[-1], p) <= 1e-9:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def rect(x0: float, y0: float, x1: float, y1: float) -> Outline:
    """The rectangle with corners (x0, y0) and (x1, y1), counter-clockwise when x0 < x1 and
    y0 < y1."""
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def rounded_rect(sx: float, sy: float, radius: float, steps: int = 3) -> Outline:
    """A rectangle ``sx`` by ``sy`` centred at the origin with corners rounded to ``radius``
    (a convex polygon, ``steps`` segments per corner)."""
    r = max(min(radius, sx / 2 - 0.01, sy / 2 - 0.01), 0.0)
    points: Outline = []
    centres = [(sx / 2 - r, sy / 2 - r), (-sx / 2 + r, sy / 2 - r),
               (-sx / 2 + r, -sy / 2 + r), (sx / 2 - r, -sy / 2 + r)]
    for k, (cx, cy) in enumerate(centres):
        for j in range(steps + 1):
            phi = (k + j / steps) * math.pi / 2
            points.append((cx + r * math.cos(phi), cy + r * math.sin(phi)))
    return convex_outline(points)


def segment_outline(radius: float, level: float, steps: int = 16) -> Outline:
    """The part of a disc of ``radius`` below the line y = ``level`` (a liquid in a lying can)."""
    level = min(max(level, -radius * 0.98), radius * 0.999)
    half_angle = math.acos(level / radius)  # angle from +y to where the level meets the circle
    start = half_angle
    stop = 2 * math.pi - half_angle
    points = [(-radius * math.sin(a), radius * math.cos(a))
              for a in np.linspace(start, stop, steps)]
    return convex_outline(points)
