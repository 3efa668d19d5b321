"""The threat item library: labels, determinism, anatomy, hollows and projected footprints."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from screener.sim import labels
from screener.sim.geometry import Part, Pose, SceneObject, random_rotation
from screener.sim.items import threats
from screener.sim.items.parts import bounds, corners
from screener.sim.items.pistols import Pistol
from screener.sim.items.soundness import soundness
from screener.sim.projection import MASK_THRESHOLD_MM, ViewGeometry, project

SEEDS = range(6)
#: A coarse top view of the whole 300 x 200 mm area, quick enough for many projections.
COARSE_TOP = ViewGeometry.top((200, 300), (1.0, 1.0))
METALS = {"iron", "brass", "copper", "zinc", "lead", "tungsten", "aluminium"}


@functools.cache
def _make(name: str, seed: int) -> SceneObject:
    return threats.THREAT_MAKERS[name](np.random.default_rng(seed))


def _centred_in_view(obj: SceneObject, rotation: np.ndarray | None = None) -> SceneObject:
    """The object turned by ``rotation`` and moved to the middle of the view, on the belt."""
    turned = obj.placed(Pose(np.eye(3) if rotation is None else rotation, np.zeros(3)))
    lo, hi = turned.world_bounds()
    shift = np.array([150.0, 100.0, 0.0]) - (lo + hi) / 2
    shift[2] = 2.0 - lo[2]
    return turned.placed(Pose(np.eye(3), shift))


def _signature(obj: SceneObject) -> list[tuple[str, bool, float, bytes]]:
    return [(p.material, p.negative, p.density_scale, corners([p]).round(9).tobytes())
            for p in obj.parts]


# --------------------------------------------------------------------------- registry


def test_every_threat_class_has_a_maker():
    assert set(threats.THREAT_MAKERS) == set(labels.THREAT_CLASSES)


@pytest.mark.parametrize("name", sorted(labels.THREAT_CLASSES))
def test_makers_return_labelled_threats_lying_flat_at_the_origin(name):
    for seed in SEEDS:
        obj = _make(name, seed)
        assert obj.label == name
        assert obj.threat is True
        assert len(obj.parts) >= 3
        assert all(isinstance(p, Part) for p in obj.parts)
        lo, hi = bounds(obj.parts)
        np.testing.assert_allclose((lo + hi) / 2, 0.0, atol=1e-6)
        extent = hi - lo
        assert extent[0] >= extent[1] >= extent[2] > 0
        assert extent[0] <= 340.0, f"{name} seed {seed} is {extent[0]:.0f} mm long"


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("name", sorted(labels.THREAT_CLASSES))
def test_same_seed_gives_identical_parts(name):
    maker = threats.THREAT_MAKERS[name]
    first = maker(np.random.default_rng(7))
    again = maker(np.random.default_rng(7))
    assert first is not again
    assert _signature(first) == _signature(again)


@pytest.mark.parametrize("name", sorted(labels.THREAT_CLASSES))
def test_different_seeds_give_different_articles(name):
    extents = {tuple(np.round(np.ptp(corners(_make(name, s).parts), axis=0), 3)) for s in SEEDS}
    assert len(extents) == len(SEEDS), f"{name}: articles repeat across seeds"


# --------------------------------------------------------------------------- construction


@pytest.mark.parametrize("name", sorted(labels.THREAT_CLASSES))
def test_no_overlapping_material_and_no_negative_outside_its_host(name):
    for seed in range(3):
        overlap, deficit = soundness(list(_make(name, seed).parts), np.random.default_rng(0),
                                     5000)
        assert overlap == 0.0, f"{name} seed {seed}: pieces overlap"
        assert deficit == 0.0, f"{name} seed {seed}: a negative piece sticks out of its host"


@pytest.mark.parametrize("name", sorted(labels.THREAT_CLASSES))
def test_projected_mass_thickness_is_never_negative(name):
    """Positive minus negative mass thickness, before the projector's clamp, is >= 0."""
    rng = np.random.default_rng(3)
    for seed in range(2):
        obj = _centred_in_view(_make(name, seed), random_rotation(rng))
        solid = SceneObject(obj.label, tuple(p for p in obj.parts if not p.negative),
                            pose=obj.pose)
        holes = tuple(Part(p.shape, p.material, p.pose, p.density_scale)
                      for p in obj.parts if p.negative)
        full = project([solid], COARSE_TOP).areal_density
        cut = project([SceneObject("holes", holes, pose=obj.pose)], COARSE_TOP).areal_density
        for material, removed in cut.items():
            assert material in full, f"{name}: a hole in {material} that the object lacks"
            assert (full[material] - removed).min() > -1e-3


def test_a_barrel_bore_makes_its_axis_thinner_than_a_solid_rod():
    pistol = Pistol(np.random.default_rng(5))
    barrel = pistol.barrel(chambered=False)
    solid = [p for p in barrel if not p.negative]
    view = ViewGeometry.top((120, 500), (0.25, 0.5))
    place = Pose.at(10.0, 15.0 - pistol.y_bore, 20.0)
    hollow_map = project([SceneObject("barrel", tuple(barrel), pose=place)], view)
    rod_map = project([SceneObject("rod", tuple(solid), pose=place)], view)
    row = 60  # centre at y = 15.125 mm, 0.125 mm off the bore axis
    col = int((10.0 + pistol.breech + 0.7 * (pistol.length - pistol.breech)) / 0.5)
    hollow = float(hollow_map.areal_density["iron"][row, col])
    rod = float(rod_map.areal_density["iron"][row, col])
    bore = pistol.cal.bullet_radius + 0.05
    expected = rod - 0.1 * 7.85 * 2 * np.sqrt(bore**2 - 0.125**2)
    assert hollow == pytest.approx(expected, abs=0.02)
    assert 0.0 < hollow < 0.6 * rod


# --------------------------------------------------------------------------- anatomy


def test_a_handgun_is_mostly_steel_with_a_gun_sized_footprint():
    for seed in range(6):
        obj = _make("handgun", seed)
        materials = {p.material for p in obj.parts if not p.negative}
        assert "iron" in materials
        assert "brass" in materials or "lead" in materials or len(materials) >= 2
        view = project([_centred_in_view(obj)], COARSE_TOP)
        (footprint,) = view.footprints
        x0, y0, x1, y1 = footprint.box
        assert 100 <= (x1 - x0) * 1.0 <= 260, f"seed {seed}: {x1 - x0} mm long"
        assert 60 <= (y1 - y0) * 1.0 <= 180, f"seed {seed}: {y1 - y0} mm high"
        steel = view.areal_density["iron"] > 0.5  # more than about 0.6 mm of steel
        assert steel.sum() >= 1500, f"seed {seed}: only {steel.sum()} mm² of steel"


def test_gun_parts_are_steel_pieces_smaller_than_a_gun():
    for seed in range(8):
        obj = _make("gun_part", seed)
        assert any(p.material == "iron" and not p.negative for p in obj.parts)
        lo, hi = bounds(obj.parts)
        assert (hi - lo)[0] <= 230.0


def test_knife_blades_are_steel_or_zirconia_and_handles_are_something_else():
    kinds_seen = set()
    for seed in range(30):
        obj = _make("knife", seed)
        blades = [p for p in obj.parts if not p.negative and p.material in ("iron", "zirconia")
                  and np.ptp(corners([p])[:, 2]) <= 5.5 and np.ptp(corners([p])[:, 0]) >= 5.0]
        assert blades, f"seed {seed}: no thin metal or ceramic blade"
        blade_mats = {p.material for p in blades}
        others = {p.material for p in obj.parts if not p.negative} - blade_mats
        assert others, f"seed {seed}: handle of the blade's own material only"
        kinds_seen.add("ceramic" if "zirconia" in blade_mats else "steel")
        if "zirconia" in blade_mats:
            assert not {p.material for p in obj.parts} & METALS, "a ceramic knife has no metal"
        length = np.ptp(corners(obj.parts)[:, 0])
        assert 75.0 <= length <= 335.0
    assert kinds_seen == {"ceramic", "steel"}


def test_an_ied_has_power_wires_detonator_and_main_charge():
    for seed in range(4):
        obj = _make("ied", seed)
        materials = {p.material for p in obj.parts if not p.negative}
        assert {"explosive", "copper", "polyethylene"} <= materials
        assert "lead" in materials  # the detonator's primary charge
        assert materials & {"iron", "li_ion", "zinc"}  # a battery
        explosive = sum(1 for p in obj.parts if p.material == "explosive" and not p.negative)
        assert explosive >= 1
        length = np.ptp(corners(obj.parts)[:, 0])
        assert 100.0 <= length <= 265.0


def test_a_grenade_is_a_filled_body_with_a_fuse_and_a_pin_ring():
    for seed in range(6):
        obj = _make("grenade", seed)
        materials = {p.material for p in obj.parts if not p.negative}
        assert {"explosive", "iron"} <= materials
        assert any(p.negative for p in obj.parts), "the body is hollow"
        length = np.ptp(corners(obj.parts)[:, 0])
        assert 70.0 <= length <= 150.0


def test_ammunition_has_brass_cases_and_bullets():
    for seed in range(8):
        obj = _make("ammunition", seed)
        materials = {p.material for p in obj.parts if not p.negative}
        assert "brass" in materials
        assert materials & {"lead", "copper"}
        assert any(p.negative and p.material == "brass" for p in obj.parts), "hollow cases"


# --------------------------------------------------------------------------- projection


@pytest.mark.parametrize("name", sorted(labels.THREAT_CLASSES))
def test_top_view_footprint_box_tightly_covers_its_mask_and_the_material(name):
    for seed in range(2):
        view = project([_centred_in_view(_make(name, seed))], COARSE_TOP)
        (footprint,) = view.footprints
        assert footprint.label == name and footprint.threat
        x0, y0, x1, y1 = footprint.box
        mask = footprint.mask
        assert mask.shape == (y1 - y0, x1 - x0)
        assert mask[0].any() and mask[-1].any() and mask[:, 0].any() and mask[:, -1].any()
        total = sum(view.areal_density.values())
        outside = total.copy()
        outside[y0:y1, x0:x1] = 0.0
        # outside the box only slivers thinner than the mask threshold, even of lead
        assert outside.max() <= 0.1 * MASK_THRESHOLD_MM * 11.35 + 1e-3
        inside = total[y0:y1, x0:x1]
        assert inside[mask].min() > 0.0
