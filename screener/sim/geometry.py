"""Convex solids, poses and exact chord lengths along parallel rays.

The simulator builds every object from convex parts. For a bundle of parallel rays the
length of each ray inside a convex solid has a closed form, so a projection is exact
(no voxels) and costs only the pixels under each part's footprint. Hollow things (a
bottle, a suitcase shell) are a solid plus a *negative* part wholly inside it, so chord
lengths subtract.

World frame, in millimetres: x along the belt, y across the belt, z up from the belt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
Float32Array = NDArray[np.float32]


def rotation_matrix(rx: float, ry: float, rz: float) -> FloatArray:
    """Rotation about x, then y, then z (radians), as a 3x3 matrix acting on column vectors."""
    cx, sx = math.cos(rx), math.sin(rx)
    cy, sy = math.cos(ry), math.sin(ry)
    cz, sz = math.cos(rz), math.sin(rz)
    rot_x = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]], dtype=np.float64)
    rot_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]], dtype=np.float64)
    rot_z = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]], dtype=np.float64)
    return rot_z @ rot_y @ rot_x


def random_rotation(rng: np.random.Generator) -> FloatArray:
    """A rotation drawn uniformly from SO(3) (via a random unit quaternion)."""
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ],
        dtype=np.float64,
    )


@dataclass(frozen=True)
class Pose:
    """A rigid transform: ``world = rotation @ local + translation`` (millimetres)."""

    rotation: FloatArray = field(default_factory=lambda: np.eye(3))
    translation: FloatArray = field(default_factory=lambda: np.zeros(3))

    @staticmethod
    def at(x: float = 0.0, y: float = 0.0, z: float = 0.0, *,
           rx: float = 0.0, ry: float = 0.0, rz: float = 0.0) -> Pose:
        """A pose from a position and rotations about x, y, z (radians, applied in that order)."""
        return Pose(rotation_matrix(rx, ry, rz), np.array([x, y, z], dtype=np.float64))

    def then(self, outer: Pose) -> Pose:
        """This pose followed by ``outer``: a part pose placed by an object pose."""
        return Pose(
            outer.rotation @ self.rotation,
            outer.rotation @ self.translation + outer.translation,
        )

    def apply(self, points: FloatArray) -> FloatArray:
        """Map local points of shape (N, 3) to the world."""
        return points @ self.rotation.T + self.translation


@dataclass(frozen=True)
class RayGrid:
    """A rectangular grid of parallel rays in a solid's own frame.

    Ray (i, j) starts at ``origin + i * step_row + j * step_col`` and runs along the unit
    ``direction``. Because the starts are affine in (i, j), every quantity a convex solid
    needs (a plane's signed distance, a quadric's terms) is a sum of a row vector and a
    column vector: no per-pixel 3-vectors are ever built.
    """

    origin: FloatArray
    step_row: FloatArray
    step_col: FloatArray
    rows: int
    cols: int
    direction: FloatArray

    def affine(self, normal: FloatArray, constant: float = 0.0) -> Float32Array:
        """``constant + normal · start(i, j)`` for every ray, shape (rows, cols)."""
        row_term = np.arange(self.rows, dtype=np.float32) * np.float32(normal @ self.step_row)
        col_term = np.arange(self.cols, dtype=np.float32) * np.float32(normal @ self.step_col)
        col_term += np.float32(constant + float(normal @ self.origin))
        return row_term[:, None] + col_term[None, :]

    def squared_norm(self, scale: FloatArray) -> Float32Array:
        """``|start(i, j) / scale|²`` for every ray (scale divides each axis)."""
        b, u, v = self.origin / scale, self.step_row / scale, self.step_col / scale
        i = np.arange(self.rows, dtype=np.float32)
        j = np.arange(self.cols, dtype=np.float32)
        row_term = i * i * np.float32(u @ u) + i * np.float32(2.0 * b @ u) + np.float32(b @ b)
        col_term = j * j * np.float32(v @ v) + j * np.float32(2.0 * b @ v)
        cross = np.float32(2.0 * u @ v) * i
        return row_term[:, None] + col_term[None, :] + cross[:, None] * j[None, :]


class ConvexShape(Protocol):
    """A convex solid in its own frame, centred near the origin."""

    def chords(self, rays: RayGrid) -> Float32Array:
        """Length (mm) inside the solid of each ray of the grid, shape (rows, cols)."""
        ...

    def corners(self) -> FloatArray:
        """Points (N, 3) whose convex hull contains the solid; used for footprints."""
        ...


def _box_corners(hx: float, hy: float, hz: float) -> FloatArray:
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    return signs * np.array([hx, hy, hz], dtype=np.float64)


def _quadric_chords(a: float, half_b: Float32Array,
                    c: Float32Array) -> tuple[Float32Array, Float32Array]:
    """Entry and exit parameters of ``a t² + 2 half_b t + c = 0`` (empty where no root)."""
    disc = half_b * half_b - a * c
    root = np.sqrt(np.maximum(disc, 0.0))
    hit = disc > 0
    t_in = np.where(hit, (-half_b - root) / a, np.inf)
    t_out = np.where(hit, (-half_b + root) / a, -np.inf)
    return t_in, t_out


def _slab(rays: RayGrid, normal: FloatArray, half: float,
          t_in: Float32Array, t_out: Float32Array) -> tuple[Float32Array, Float32Array]:
    """Clip the intervals to the slab ``|normal · x| <= half``."""
    n_dot_d = float(normal @ rays.direction)
    position = rays.affine(normal)
    if abs(n_dot_d) > 1e-12:
        t_a = (-half - position) / n_dot_d
        t_b = (half - position) / n_dot_d
        return np.maximum(t_in, np.minimum(t_a, t_b)), np.minimum(t_out, np.maximum(t_a, t_b))
    outside = np.abs(position) > half
    return t_in, np.where(outside, -np.inf, t_out)


def _lengths(t_in: Float32Array, t_out: Float32Array) -> Float32Array:
    lengths = t_out - t_in
    lengths[~(lengths > 0) | ~np.isfinite(lengths)] = 0.0
    return lengths


@dataclass(frozen=True)
class HalfSpaces:
    """The convex set ``normals @ x <= offsets``: boxes, wedges, prisms of any convex outline."""

    normals: FloatArray  # (P, 3), unit rows
    offsets: FloatArray  # (P,)
    hull: FloatArray  # (N, 3) vertices, for footprints

    def chords(self, rays: RayGrid) -> Float32Array:
        shape = (rays.rows, rays.cols)
        t_in = np.full(shape, -np.inf, dtype=np.float32)
        t_out = np.full(shape, np.inf, dtype=np.float32)
        for normal, offset in zip(self.normals, self.offsets, strict=True):
            n_dot_d = float(normal @ rays.direction)
            if abs(n_dot_d) > 1e-12:
                # where the ray crosses the plane: t = (offset - n·start) / (n·d)
                crossing = rays.affine(-normal / n_dot_d, offset / n_dot_d)
                if n_dot_d > 0:
                    np.minimum(t_out, crossing, out=t_out)
                else:
                    np.maximum(t_in, crossing, out=t_in)
            else:  # ray parallel to the plane: wholly inside or wholly outside it
                t_out[rays.affine(normal) > offset] = -np.inf
        return _lengths(t_in, t_out)

    def corners(self) -> FloatArray:
        return self.hull


def box(sx: float, sy: float, sz: float) -> HalfSpaces:
    """A box of full side lengths (sx, sy, sz) mm centred at the origin."""
    return prism([(-sx / 2, -sy / 2), (sx / 2, -sy / 2), (sx / 2, sy / 2), (-sx / 2, sy / 2)], sz)


def prism(outline: list[tuple[float, float]], thickness: float) -> HalfSpaces:
    """A convex polygon in the xy plane (counter-clockwise, mm) extruded over |z| <= thickness/2.

    Raises ValueError when the outline is not convex and counter-clockwise, because a
    non-convex outline would silently give wrong chord lengths.
    """
    pts = np.asarray(outline, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[0] < 3 or pts.shape[1] != 2:
        raise ValueError("prism outline needs at least three (x, y) points")
    edges = np.roll(pts, -1, axis=0) - pts
    following = np.roll(edges, -1, axis=0)
    turns = edges[:, 0] * following[:, 1] - edges[:, 1] * following[:, 0]
    if np.any(turns <= 0):
        raise ValueError("prism outline must be convex and counter-clockwise")
    lengths = np.hypot(edges[:, 0], edges[:, 1])
    side_normals = np.stack([edges[:, 1] / lengths, -edges[:, 0] / lengths, np.zeros(len(pts))], 1)
    side_offsets = np.einsum("ij,ij->i", side_normals[:, :2], pts)
    half = thickness / 2
    normals = np.vstack([side_normals, [[0, 0, 1], [0, 0, -1]]])
    offsets = np.concatenate([side_offsets, [half, half]])
    hull = np.vstack([np.column_stack([pts, np.full(len(pts), z)]) for z in (-half, half)])
    return HalfSpaces(normals, offsets, hull)


@dataclass(frozen=True)
class Ellipsoid:
    """An ellipsoid with semi-axes (rx, ry, rz) mm centred at the origin."""

    rx: float
    ry: float
    rz: float

    def chords(self, rays: RayGrid) -> Float32Array:
        radii = np.array([self.rx, self.ry, self.rz])
        d = rays.direction / radii
        a = float(d @ d)
        half_b = rays.affine(d / radii)  # (start / radii) · (direction / radii)
        c = rays.squared_norm(radii) - 1.0
        return _lengths(*_quadric_chords(a, half_b, c))

    def corners(self) -> FloatArray:
        return _box_corners(self.rx, self.ry, self.rz)


@dataclass(frozen=True)
class Cylinder:
    """An elliptic cylinder along z: x²/rx² + y²/ry² <= 1, |z| <= length/2 (mm)."""

    rx: float
    ry: float
    length: float

    def chords(self, rays: RayGrid) -> Float32Array:
        # in the xy plane only: a huge z scale removes z from the quadratic form
        scale = np.array([self.rx, self.ry, np.inf])
        d = rays.direction / scale
        a = float(d @ d)
        if a > 1e-18:
            t_in, t_out = _quadric_chords(a, rays.affine(d / scale), rays.squared_norm(scale) - 1.0)
        else:  # ray along the axis: inside the ellipse for its whole length, or not at all
            inside = rays.squared_norm(scale) <= 1.0
            t_in = np.where(inside, -np.inf, np.inf)
            t_out = np.where(inside, np.inf, -np.inf)
        t_in, t_out = _slab(rays, np.array([0.0, 0.0, 1.0]), self.length / 2, t_in, t_out)
        return _lengths(t_in, t_out)

    def corners(self) -> FloatArray:
        return _box_corners(self.rx, self.ry, self.length / 2)


Shape = HalfSpaces | Ellipsoid | Cylinder


@dataclass(frozen=True)
class Part:
    """One convex piece of an object, of one material.

    ``density_scale`` scales the material's bulk density (a loosely packed jumper is
    mostly air). ``negative`` parts remove material: they must lie wholly inside a
    positive part of the same material in the same object.
    """

    shape: Shape
    material: str
    pose: Pose = field(default_factory=Pose)
    density_scale: float = 1.0
    negative: bool = False


@dataclass(frozen=True)
class SceneObject:
    """A physical item: its parts in its own frame, what it is, and where it lies."""

    label: str
    parts: tuple[Part, ...]
    threat: bool = False
    pose: Pose = field(default_factory=Pose)

    def placed(self, pose: Pose) -> SceneObject:
        """The same item moved by ``pose`` (applied after its current pose)."""
        return SceneObject(self.label, self.parts, self.threat, self.pose.then(pose))

    def world_parts(self) -> list[tuple[Part, Pose]]:
        """Each part with its pose in the world frame."""
        return [(part, part.pose.then(self.pose)) for part in self.parts]

    def world_corners(self) -> FloatArray:
        """Corner points in the world frame whose hull holds the whole item."""
        return np.vstack([pose.apply(part.shape.corners()) for part, pose in self.world_parts()])

    def world_bounds(self) -> tuple[FloatArray, FloatArray]:
        """Axis-aligned world bounding box (min corner, max corner) in mm."""
        pts = self.world_corners()
        return pts.min(axis=0), pts.max(axis=0)
