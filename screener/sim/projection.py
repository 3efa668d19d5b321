"""Parallel-beam projection of a 3D scene to per-material mass-thickness maps and labels.

A line-scan X-ray system sees each object along one direction per view. The simulator
approximates the fan beam by parallel rays (no magnification, see docs/simulator.md);
all views share the belt axis, so an object's extent along the belt is the same in every
view, which the tests check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from screener.physics.materials import get_material
from screener.sim.geometry import Float32Array, FloatArray, Pose, RayGrid, SceneObject

Window = tuple[int, int, int, int]  # r0, r1, c0, c1: a pixel window of a view

#: Objects thinner than this along a ray (mm of material) do not count as "seen" there.
MASK_THRESHOLD_MM = 0.3


@dataclass(frozen=True)
class ViewGeometry:
    """Where a view's pixels lie in the world and which way its rays go.

    Pixel (row r, col c) centre is ``origin + (c + ½)·pitch_col·col_axis +
    (r + ½)·pitch_row·row_axis``; its ray runs along ``direction`` through that point.
    """

    name: str
    shape: tuple[int, int]  # rows, cols
    pitch_mm: tuple[float, float]  # rows, cols
    origin: FloatArray
    row_axis: FloatArray
    col_axis: FloatArray
    direction: FloatArray

    @staticmethod
    def top(shape: tuple[int, int], pitch_mm: tuple[float, float]) -> ViewGeometry:
        """Looking down at the belt: columns along the belt (x), rows across it (y)."""
        return ViewGeometry(
            "top", shape, pitch_mm, np.zeros(3),
            row_axis=np.array([0.0, 1.0, 0.0]), col_axis=np.array([1.0, 0.0, 0.0]),
            direction=np.array([0.0, 0.0, -1.0]),
        )

    @staticmethod
    def side(shape: tuple[int, int], pitch_mm: tuple[float, float]) -> ViewGeometry:
        """Looking across the belt: columns along the belt (x), rows downwards from the roof."""
        height = shape[0] * pitch_mm[0]
        return ViewGeometry(
            "side", shape, pitch_mm, np.array([0.0, 0.0, height]),
            row_axis=np.array([0.0, 0.0, -1.0]), col_axis=np.array([1.0, 0.0, 0.0]),
            direction=np.array([0.0, 1.0, 0.0]),
        )

    def to_pixels(self, points: FloatArray) -> FloatArray:
        """World points (N, 3) to continuous (row, col) image coordinates (N, 2)."""
        rel = points - self.origin
        rows = rel @ self.row_axis / self.pitch_mm[0]
        cols = rel @ self.col_axis / self.pitch_mm[1]
        return np.column_stack([rows, cols])

    def footprint(self, corners: FloatArray) -> Window | None:
        """Pixel window (r0, r1, c0, c1) whose centres may see the hull of ``corners``."""
        rc = self.to_pixels(corners)
        r0 = max(int(np.floor(rc[:, 0].min() - 0.5)), 0)
        r1 = min(int(np.ceil(rc[:, 0].max() + 0.5)), self.shape[0])
        c0 = max(int(np.floor(rc[:, 1].min() - 0.5)), 0)
        c1 = min(int(np.ceil(rc[:, 1].max() + 0.5)), self.shape[1])
        if r0 >= r1 or c0 >= c1:
            return None
        return r0, r1, c0, c1

    def rays(self, window: Window, pose: Pose) -> RayGrid:
        """The rays of the pixels in ``window``, in the frame of a solid placed at ``pose``."""
        r0, _, c0, _ = window
        first = (
            self.origin
            + (r0 + 0.5) * self.pitch_mm[0] * self.row_axis
            + (c0 + 0.5) * self.pitch_mm[1] * self.col_axis
        )
        to_local = pose.rotation.T
        return RayGrid(
            origin=to_local @ (first - pose.translation),
            step_row=to_local @ (self.pitch_mm[0] * self.row_axis),
            step_col=to_local @ (self.pitch_mm[1] * self.col_axis),
            rows=window[1] - window[0],
            cols=window[3] - window[2],
            direction=to_local @ self.direction,
        )


@dataclass(frozen=True)
class ObjectFootprint:
    """Where one scene object shows in one view: pixel-corner box and its mask inside it."""

    object_index: int
    label: str
    threat: bool
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 (pixel corners; x = column)
    mask: NDArray[np.bool_]  # (y1 - y0, x1 - x0)


@dataclass(frozen=True)
class ProjectedView:
    """Mass thickness (g/cm²) per material and the footprints of labelled objects."""

    geometry: ViewGeometry
    areal_density: dict[str, NDArray[np.float32]]
    footprints: tuple[ObjectFootprint, ...]


def project(objects: Sequence[SceneObject], geometry: ViewGeometry,
            labelled: Sequence[bool] | None = None) -> ProjectedView:
    """Project ``objects`` into one view.

    ``labelled[i]`` says whether object ``i`` gets a footprint (the bag shell does not).
    """
    areal: dict[str, NDArray[np.float32]] = {}
    footprints: list[ObjectFootprint] = []
    for index, obj in enumerate(objects):
        window = geometry.footprint(obj.world_corners())
        if window is None:
            continue
        wants_label = labelled is None or labelled[index]
        thickness = _project_object(obj, geometry, window, areal, wants_label)
        if thickness is not None:
            footprint = _footprint(index, obj, thickness, window)
            if footprint is not None:
                footprints.append(footprint)
    for layer in areal.values():
        np.maximum(layer, 0.0, out=layer)  # round-off where negative parts cancel exactly
    return ProjectedView(geometry, areal, tuple(footprints))


def _project_object(obj: SceneObject, geometry: ViewGeometry, window: Window,
                    areal: dict[str, NDArray[np.float32]],
                    wants_thickness: bool) -> Float32Array | None:
    """Add the object's mass thickness to ``areal``; return its path length map if wanted."""
    r0, r1, c0, c1 = window
    thickness = np.zeros((r1 - r0, c1 - c0), dtype=np.float32) if wants_thickness else None
    for part, pose in obj.world_parts():
        part_window = geometry.footprint(pose.apply(part.shape.corners()))
        if part_window is None:
            continue
        chords = part.shape.chords(geometry.rays(part_window, pose))
        sign = -1.0 if part.negative else 1.0
        pr0, pr1, pc0, pc1 = part_window
        if thickness is not None:
            patch = thickness[pr0 - r0:pr1 - r0, pc0 - c0:pc1 - c0]
            patch += chords if sign > 0 else -chords
        density = get_material(part.material).density * part.density_scale
        layer = areal.get(part.material)
        if layer is None:
            layer = areal[part.material] = np.zeros(geometry.shape, dtype=np.float32)
        # mm -> cm: mass thickness in g/cm² is rho [g/cm³] * t [cm]
        chords *= np.float32(sign * 0.1 * density)
        layer[pr0:pr1, pc0:pc1] += chords
    return thickness


def _footprint(index: int, obj: SceneObject, thickness: Float32Array,
               window: Window) -> ObjectFootprint | None:
    seen = thickness > MASK_THRESHOLD_MM
    if not seen.any():
        return None
    hit_rows = np.flatnonzero(seen.any(axis=1))
    hit_cols = np.flatnonzero(seen.any(axis=0))
    y0, y1 = int(hit_rows[0]), int(hit_rows[-1]) + 1
    x0, x1 = int(hit_cols[0]), int(hit_cols[-1]) + 1
    r0, _, c0, _ = window
    return ObjectFootprint(
        index, obj.label, obj.threat,
        (c0 + x0, r0 + y0, c0 + x1, r0 + y1),
        seen[y0:y1, x0:x1].copy(),
    )
