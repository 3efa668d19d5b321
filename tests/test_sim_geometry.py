"""Chord lengths of the convex solids: exact along axes, volume-preserving in any pose."""

from __future__ import annotations

import math

import numpy as np
import pytest

from screener.physics.materials import get_material
from screener.sim.geometry import (
    Cylinder,
    Ellipsoid,
    Part,
    Pose,
    SceneObject,
    box,
    prism,
    random_rotation,
)
from screener.sim.projection import ViewGeometry, project

PITCH = 0.25
VIEW = ViewGeometry.top((480, 480), (PITCH, PITCH))  # 120 x 120 mm
CENTRE = (60.0, 60.0, 60.0)

QUAD = [(0.0, 0.0), (30.0, 0.0), (40.0, 20.0), (10.0, 30.0)]


def _shoelace(outline: list[tuple[float, float]]) -> float:
    pairs = zip(outline, outline[1:] + outline[:1], strict=True)
    return 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs))


SOLIDS = {
    "box": (box(40, 24, 10), 40 * 24 * 10),
    "prism": (prism(QUAD, 12), 12 * _shoelace(QUAD)),
    "ellipsoid": (Ellipsoid(25, 15, 8), 4 / 3 * math.pi * 25 * 15 * 8),
    "cylinder": (Cylinder(12, 7, 50), math.pi * 12 * 7 * 50),
}


def _projected_volume(obj: SceneObject, view: ViewGeometry = VIEW) -> float:
    """Integral of path length over the image plane (mm³) = the solid's volume."""
    projected = project([obj], view)
    assert len(projected.footprints) == 1
    # water has density 1 g/cm³: mass thickness g/cm² * 10 = path length in mm
    return float(projected.areal_density["water"].sum()) * 10 * PITCH * PITCH


@pytest.mark.parametrize("name", sorted(SOLIDS))
def test_projected_volume_equals_the_solid_volume_in_any_pose(name):
    shape, volume = SOLIDS[name]
    rng = np.random.default_rng(7)
    for _ in range(4):
        pose = Pose(random_rotation(rng), np.array(CENTRE))
        obj = SceneObject("thing", (Part(shape, "water"),), pose=pose)
        assert _projected_volume(obj) == pytest.approx(volume, rel=0.01)


def test_chord_through_an_axis_aligned_box_is_its_height():
    obj = SceneObject("thing", (Part(box(20, 20, 7.5), "water"),), pose=Pose.at(*CENTRE))
    thickness_mm = project([obj], VIEW).areal_density["water"] * 10
    assert thickness_mm.max() == pytest.approx(7.5, abs=1e-3)
    assert np.count_nonzero(thickness_mm) == pytest.approx((20 / PITCH) ** 2, rel=0.02)


def test_side_view_sees_the_height_across_the_belt():
    obj = SceneObject("thing", (Part(box(20, 33, 7.5), "water"),), pose=Pose.at(*CENTRE))
    side = ViewGeometry.side((480, 480), (PITCH, PITCH))
    thickness_mm = project([obj], side).areal_density["water"] * 10
    assert thickness_mm.max() == pytest.approx(33, abs=1e-3)


def test_negative_part_hollows_out_its_parent():
    tube = SceneObject(
        "tube",
        (Part(Cylinder(10, 10, 80), "iron"), Part(Cylinder(8, 8, 80.5), "iron", negative=True)),
        pose=Pose.at(*CENTRE, ry=math.pi / 2),  # axis along the belt
    )
    density = get_material("iron").density
    thickness_mm = project([tube], VIEW).areal_density["iron"] * 10 / density
    # grazing the bore: the longest chord, 2·sqrt(R² - r²), sampled at pixel centres
    assert thickness_mm.max() == pytest.approx(2 * math.sqrt(10**2 - 8**2), rel=0.05)
    centre_row = int(CENTRE[1] / PITCH)
    assert thickness_mm[centre_row, int(CENTRE[0] / PITCH)] == pytest.approx(4.0, abs=0.05)
    assert thickness_mm.min() >= 0.0


def test_footprint_box_is_tight_around_the_mask():
    obj = SceneObject("thing", (Part(Ellipsoid(20, 10, 5), "water"),), pose=Pose.at(*CENTRE))
    (footprint,) = project([obj], VIEW).footprints
    x0, y0, x1, y1 = footprint.box
    assert (x1 - x0) * PITCH == pytest.approx(40, abs=2 * PITCH)
    assert (y1 - y0) * PITCH == pytest.approx(20, abs=2 * PITCH)
    assert footprint.mask.shape == (y1 - y0, x1 - x0)


def test_prism_refuses_a_non_convex_outline():
    with pytest.raises(ValueError, match="convex"):
        prism([(0, 0), (10, 0), (5, 2), (10, 10), (0, 10)], 3)
