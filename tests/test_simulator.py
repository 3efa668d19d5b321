"""The simulator end to end: determinism, labels across views, physics visible in the pixels."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from screener.errors import SimulationError
from screener.scan import read_ground_truth, read_scan, write_scan
from screener.scan.store import file_sha256
from screener.sim.generate import CABIN_VIEWS, SimulatedScan, simulate_bag, simulate_cargo

WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def armed_bag() -> SimulatedScan:
    return simulate_bag(11, "suitcase", ("handgun", "knife"), acquired_at=WHEN)


def test_same_seed_gives_the_same_file_bytes(tmp_path, armed_bag):
    again = simulate_bag(11, "suitcase", ("handgun", "knife"), acquired_at=WHEN)
    first = write_scan(tmp_path / "a.h5", armed_bag.scan, armed_bag.truth)
    second = write_scan(tmp_path / "b.h5", again.scan, again.truth)
    assert file_sha256(first) == file_sha256(second)


def test_different_seeds_give_different_bags(armed_bag):
    other = simulate_bag(12, "suitcase", ("handgun", "knife"), acquired_at=WHEN)
    top_a = armed_bag.scan.view("top").high
    top_b = other.scan.view("top").high
    assert np.mean(top_a != top_b) > 0.2


def test_views_match_the_cabin_geometry(armed_bag):
    scan = armed_bag.scan
    assert [v.name for v in scan.views] == [g.name for g in CABIN_VIEWS]
    for view, geometry in zip(scan.views, CABIN_VIEWS, strict=True):
        assert view.shape == geometry.shape
        assert view.high.dtype == np.uint16
        assert view.pixel_pitch_mm == geometry.pitch_mm
    assert scan.metadata.source_kind.value == "simulated-dual-energy"
    assert "kV" in scan.metadata.channel_low


def test_every_box_covers_exactly_its_mask(armed_bag):
    for objects in armed_bag.truth.objects_by_view.values():
        assert objects, "a packed suitcase must hold labelled objects"
        for obj in objects:
            x0, y0, x1, y1 = obj.box
            assert obj.mask.shape == (y1 - y0, x1 - x0)
            # tight box: the mask touches all four sides
            assert obj.mask[0].any() and obj.mask[-1].any()
            assert obj.mask[:, 0].any() and obj.mask[:, -1].any()


def test_objects_span_the_same_belt_extent_in_both_views(armed_bag):
    """Both views share the belt axis (columns), so each object's column range agrees."""
    top = {o.object_id: o for o in armed_bag.truth.objects_by_view["top"]}
    side = {o.object_id: o for o in armed_bag.truth.objects_by_view["side"]}
    assert set(top) == set(side)
    for object_id, obj in top.items():
        other = side[object_id]
        assert obj.label == other.label
        assert abs(obj.box[0] - other.box[0]) <= 2, obj.label
        assert abs(obj.box[2] - other.box[2]) <= 2, obj.label


def test_requested_threats_are_labelled_as_threats(armed_bag):
    assert armed_bag.truth.threat_labels == {"handgun", "knife"}
    clean = simulate_bag(5, "tray", (), acquired_at=WHEN)
    assert clean.truth.threat_labels == set()


def test_metal_shows_a_higher_dual_energy_ratio_than_clothing(armed_bag):
    """R = A_low / A_high rises with Zeff: the gun's pixels must read more metallic.

    Compared where nothing else rigid is on the ray: gun pixels crossed by no other
    labelled object but clothing, against pixels crossed by clothing alone."""
    view = armed_bag.scan.view("top")
    a_low = -np.log(np.maximum(view.transmission("low"), 1e-4))
    a_high = -np.log(np.maximum(view.transmission("high"), 1e-4))
    usable = (a_high > 0.2) & (a_high < 4)

    def footprint(label: str | None = None, rigid: bool = False) -> np.ndarray:
        """How many labelled objects (of ``label``, or every one but clothing) cover each
        pixel of the view."""
        count = np.zeros(a_high.shape, dtype=int)
        for obj in armed_bag.truth.objects_by_view["top"]:
            if (obj.label == label) or (rigid and obj.label != "clothing"):
                x0, y0, x1, y1 = obj.box
                count[y0:y1, x0:x1] += obj.mask
        return count

    rigid = footprint(rigid=True)
    gun = (footprint("handgun") > 0) & (rigid == 1) & usable
    clothing = (footprint("clothing") > 0) & (rigid == 0) & usable
    assert gun.sum() > 500 and clothing.sum() > 500
    gun_ratio = float(np.median(a_low[gun] / a_high[gun]))
    clothing_ratio = float(np.median(a_low[clothing] / a_high[clothing]))
    assert gun_ratio > clothing_ratio + 0.1


def test_a_threat_leaves_the_rest_of_the_bag_as_it_was():
    """Threats come from their own stream and go in last: the same seed gives the same
    benign bag, object for object and pixel for pixel of every label, with and without."""
    clean = simulate_bag(3, "suitcase", acquired_at=WHEN)
    armed = simulate_bag(3, "suitcase", ("knife",), acquired_at=WHEN)
    for view, objects in clean.truth.objects_by_view.items():
        benign = [obj for obj in armed.truth.objects_by_view[view] if not obj.threat]
        assert [(o.object_id, o.label, o.box) for o in benign] == \
            [(o.object_id, o.label, o.box) for o in objects]
        assert all(np.array_equal(a.mask, b.mask) for a, b in zip(benign, objects, strict=True))
    assert armed.truth.threat_labels == {"knife"}


def test_ground_truth_round_trips_through_the_file(tmp_path, armed_bag):
    path = write_scan(tmp_path / "bag.h5", armed_bag.scan, armed_bag.truth)
    truth = read_ground_truth(path)
    assert truth is not None
    for name, objects in armed_bag.truth.objects_by_view.items():
        stored = truth.objects_by_view[name]
        assert [o.box for o in stored] == [o.box for o in objects]
        assert all(np.array_equal(a.mask, b.mask) for a, b in zip(stored, objects, strict=True))
    assert read_scan(path).metadata.bag_id == armed_bag.scan.metadata.bag_id


def test_unknown_threat_and_kind_are_refused_with_the_valid_names():
    with pytest.raises(SimulationError, match="handgun"):
        simulate_bag(1, "suitcase", ("bazooka",))
    with pytest.raises(SimulationError, match="suitcase"):
        simulate_bag(1, "wardrobe")


@pytest.mark.slow
def test_cargo_scan_is_one_large_side_view_with_its_threat():
    sim = simulate_cargo(3, ("handgun",), acquired_at=WHEN)
    (view,) = sim.scan.views
    assert view.name == "side"
    assert view.shape == (2000, 6000)
    assert sim.truth.threat_labels == {"handgun"}
    assert "MV" in sim.scan.metadata.channel_high
    # a loaded container stops much of the beam somewhere, but not everywhere
    t_high = view.transmission("high")
    assert t_high.min() < 0.2 < t_high.max()
