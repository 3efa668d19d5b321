"""3D scenes for the simulator: benign items, bag shells, packing and cargo.

These tests check the geometry of scenes without projecting them at full resolution, so
they stay fast: where things are, what is labelled, that rigid things do not pass through
each other and that hollow parts are carved out of the material they belong to.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from numpy.typing import NDArray

from screener.errors import SimulationError
from screener.physics.materials import MATERIALS
from screener.sim.cargo import CARGO_VIEW, pack_cargo
from screener.sim.containers import make_belt, make_container
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
)
from screener.sim.items.benign import BENIGN_MAKERS
from screener.sim.items.threats import THREAT_MAKERS
from screener.sim.labels import BENIGN_CLASSES
from screener.sim.packing import BAG_KINDS, Scene, pack_bag
from screener.sim.projection import ViewGeometry, project

#: What both cabin views see: x along the belt, y across it, z up (mm).
CABIN_BOX = (np.zeros(3), np.array([750.0, 500.0, 400.0]))


def _threat(label: str, size: tuple[float, float, float]) -> SceneObject:
    """A plain steel-and-lead stand-in for a threat (the real makers are tested elsewhere)."""
    weight = Part(box(20, 20, 20), "lead", Pose.at(size[0] / 2 + 10.01, 0.0, 0.0))
    return SceneObject(label, (Part(box(*size), "iron"), weight), threat=True)


THREATS = (_threat("knife", (210.0, 28.0, 4.0)), _threat("handgun", (180.0, 130.0, 30.0)))


@pytest.fixture(scope="module")
def bags() -> dict[str, Scene]:
    return {kind: pack_bag(kind, np.random.default_rng(5), THREATS) for kind in BAG_KINDS}


#: Scenes per bag kind for the statistics of where threats lie.
N_ARMED = 20


@pytest.fixture(scope="module")
def armed_bags() -> list[Scene]:
    """Suitcases and backpacks each holding one stand-in threat, a knife or a handgun,
    drawn from their own stream as the simulator does."""
    return [pack_bag(kind, np.random.default_rng(seed), [THREATS[seed % 2]],
                     threat_rng=np.random.default_rng([seed, 7]))
            for kind in ("suitcase", "backpack") for seed in range(N_ARMED)]


# ------------------------------------------------------------------ geometric helpers


def _vertices(shape: HalfSpaces) -> FloatArray:
    """The exact vertices of a convex polytope (every feasible triple-plane point)."""
    points = []
    for i, j, k in itertools.combinations(range(len(shape.offsets)), 3):
        a = shape.normals[[i, j, k]]
        if abs(np.linalg.det(a)) < 1e-9:
            continue
        p = np.linalg.solve(a, shape.offsets[[i, j, k]])
        if np.all(shape.normals @ p <= shape.offsets + 1e-6):
            points.append(p)
    vertices: FloatArray = np.array(points)
    return vertices


def _surface_points(shape: Shape) -> FloatArray:
    """Points on the boundary of a shape whose hull is the shape (or very nearly)."""
    if isinstance(shape, HalfSpaces):
        return _vertices(shape)
    phi = np.linspace(0, 2 * math.pi, 48, endpoint=False)
    if isinstance(shape, Cylinder):
        rim = np.column_stack([shape.rx * np.cos(phi), shape.ry * np.sin(phi)])
        half = shape.length / 2
        rims: FloatArray = np.vstack([np.column_stack([rim, np.full(48, z)])
                                      for z in (-half, half)])
        return rims
    theta = np.linspace(0, math.pi, 13)
    t, p = np.meshgrid(theta, phi)
    unit = np.column_stack([(np.sin(t) * np.cos(p)).ravel(), (np.sin(t) * np.sin(p)).ravel(),
                            np.cos(t).ravel()])
    surface: FloatArray = unit * np.array([shape.rx, shape.ry, shape.rz])
    return surface


def _inside(shape: Shape, points: FloatArray, tol: float = 1e-3) -> NDArray[np.bool_]:
    inside: NDArray[np.bool_]
    if isinstance(shape, HalfSpaces):
        inside = np.all(points @ shape.normals.T <= shape.offsets + tol, axis=1)
    elif isinstance(shape, Ellipsoid):
        scaled = points / np.array([shape.rx, shape.ry, shape.rz])
        inside = np.einsum("ij,ij->i", scaled, scaled) <= 1 + tol
    else:
        radial = (points[:, 0] / shape.rx) ** 2 + (points[:, 1] / shape.ry) ** 2
        inside = (radial <= 1 + tol) & (np.abs(points[:, 2]) <= shape.length / 2 + tol)
    return inside


def _negatives_are_carved_from_their_material(obj: SceneObject) -> list[str]:
    """Names of negative parts not wholly inside a positive part of the same material."""
    bad = []
    for n, neg in enumerate(obj.parts):
        if not neg.negative:
            continue
        pts = neg.pose.apply(_surface_points(neg.shape))
        hosts = [p for p in obj.parts if not p.negative and p.material == neg.material]
        if not any(np.all(_inside(h.shape, (pts - h.pose.translation) @ h.pose.rotation))
                   for h in hosts):
            bad.append(f"{obj.label} part {n} ({neg.material})")
    return bad


def _local_box(obj: SceneObject) -> tuple[FloatArray, FloatArray]:
    pts = np.vstack([p.pose.apply(p.shape.corners()) for p in obj.parts])
    return pts.min(axis=0), pts.max(axis=0)


def _boxes_meet(a: SceneObject, b: SceneObject, n: int = 9) -> bool:
    """Whether a grid of points filling ``a``'s local box falls in ``b``'s local box, or
    the other way round: a sampling test, independent of the packer's separating axes."""
    for first, second in ((a, b), (b, a)):
        lo, hi = _local_box(first)
        axes = [np.linspace(lo[i], hi[i], n) for i in range(3)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
        world = first.pose.apply(grid)
        local = (world - second.pose.translation) @ second.pose.rotation
        lo2, hi2 = _local_box(second)
        if np.any(np.all((local > lo2) & (local < hi2), axis=1)):
            return True
    return False


def _underside(scene: Scene, obj: SceneObject) -> float:
    """Height of ``obj``'s lowest point above the bag's inner floor, as a fraction of the
    inner height (bags lie flat, so the world z is the bag's)."""
    assert scene.inner is not None
    floor = scene.inner.corners()[:, 2].min()
    top = scene.inner.corners()[:, 2].max()
    return float((obj.world_bounds()[0][2] - floor) / (top - floor))


def _poses(scene: Scene) -> list[tuple[str, FloatArray, FloatArray]]:
    """Label, rotation and position of every object that is not a threat."""
    return [(obj.label, obj.pose.rotation, obj.pose.translation) for obj in scene.objects
            if not obj.threat]


def _same_poses(a: list[tuple[str, FloatArray, FloatArray]],
                b: list[tuple[str, FloatArray, FloatArray]]) -> bool:
    return len(a) == len(b) and all(
        la == lb and np.array_equal(ra, rb) and np.array_equal(ta, tb)
        for (la, ra, ta), (lb, rb, tb) in zip(a, b, strict=True))


def _fingerprint(scene: Scene) -> list[tuple[str, tuple[float, ...]]]:
    out = []
    for obj in scene.objects:
        lo, hi = obj.world_bounds()
        out.append((obj.label, tuple(np.round(np.concatenate([lo, hi]), 6))))
    return out


# ------------------------------------------------------------------ benign items


def test_every_benign_class_has_a_maker_of_a_non_threat() -> None:
    assert tuple(BENIGN_MAKERS) == BENIGN_CLASSES
    for label, maker in BENIGN_MAKERS.items():
        for seed in range(3):
            obj = maker(np.random.default_rng(seed))
            assert obj.label == label
            assert obj.threat is False
            assert obj.parts
            assert {p.material for p in obj.parts} <= set(MATERIALS)


def test_benign_items_are_centred_flat_and_longest_along_x() -> None:
    for label, maker in BENIGN_MAKERS.items():
        for seed in range(4):
            lo, hi = maker(np.random.default_rng(seed)).world_bounds()
            size = hi - lo
            assert np.allclose((lo + hi) / 2, 0.0, atol=1e-6), label
            assert size[0] >= size[1] - 1e-9, (label, seed, size)


def test_benign_items_vary_with_the_seed_and_repeat_with_it() -> None:
    for label, maker in BENIGN_MAKERS.items():
        a = maker(np.random.default_rng(1)).world_bounds()
        again = maker(np.random.default_rng(1)).world_bounds()
        shapes = {tuple(np.round(np.concatenate(maker(np.random.default_rng(s)).world_bounds()),
                                 3)) for s in range(4)}
        assert np.array_equal(a[0], again[0]) and np.array_equal(a[1], again[1])
        assert len(shapes) > 1, label


def test_hollow_parts_are_carved_from_their_own_material() -> None:
    bad: list[str] = []
    for maker in BENIGN_MAKERS.values():
        for seed in range(6):
            bad += _negatives_are_carved_from_their_material(maker(np.random.default_rng(seed)))
    for kind in BAG_KINDS:
        for obj in make_container(kind, np.random.default_rng(2)).shell:
            bad += _negatives_are_carved_from_their_material(obj)
    assert not bad


# ------------------------------------------------------------------ containers and belt


def test_belt_covers_the_view_under_the_bags() -> None:
    lo, hi = make_belt(750.0, 500.0).world_bounds()
    assert np.allclose(lo[:2], 0.0) and np.allclose(hi[:2], [750.0, 500.0])
    assert hi[2] == pytest.approx(0.0) and 4.0 <= -lo[2] <= 6.0


def test_containers_hold_their_inner_volume() -> None:
    for kind in BAG_KINDS:
        container = make_container(kind, np.random.default_rng(0))
        inner = container.inner
        assert np.all(inner.hi - inner.lo > 100.0)
        lo, hi = container.bounds()
        assert np.all(lo <= inner.lo) and np.all(inner.hi <= hi)


# ------------------------------------------------------------------ packing


def test_pack_bag_repeats_for_a_seed_and_differs_across_seeds() -> None:
    for kind in BAG_KINDS:
        first = pack_bag(kind, np.random.default_rng(21))
        again = pack_bag(kind, np.random.default_rng(21))
        other = pack_bag(kind, np.random.default_rng(22))
        assert _fingerprint(first) == _fingerprint(again)
        assert first.labelled == again.labelled
        assert _fingerprint(first) != _fingerprint(other)


def test_labelled_contents_lie_in_the_bag_and_in_both_views(bags: dict[str, Scene]) -> None:
    for kind, scene in bags.items():
        assert scene.kind == kind and scene.inner is not None
        assert len(scene.objects) == len(scene.labelled)
        assert scene.objects[0].label == "belt" and not scene.labelled[0]
        for obj, labelled in zip(scene.objects[1:], scene.labelled[1:], strict=True):
            corners = obj.world_corners()
            assert np.all(corners >= CABIN_BOX[0] - 1e-6), (kind, obj.label)
            assert np.all(corners <= CABIN_BOX[1] + 1e-6), (kind, obj.label)
            if labelled:
                assert scene.inner.contains(corners), (kind, obj.label)


def test_rigid_items_do_not_pass_through_each_other(bags: dict[str, Scene]) -> None:
    for kind, scene in bags.items():
        rigid = [obj for obj, labelled in zip(scene.objects, scene.labelled, strict=True)
                 if labelled and obj.label != "clothing"]
        assert len(rigid) >= 3
        for a, b in itertools.combinations(rigid, 2):
            assert not _boxes_meet(a, b), (kind, a.label, b.label)


def test_threats_are_packed_and_labelled(bags: dict[str, Scene]) -> None:
    for scene in bags.values():
        threats = [obj for obj, labelled in zip(scene.objects, scene.labelled, strict=True)
                   if obj.threat and labelled]
        assert sorted(t.label for t in threats) == ["handgun", "knife"]
        assert all(not obj.threat for obj, lab in zip(scene.objects, scene.labelled,
                                                        strict=True) if not lab)


def test_threats_lie_anywhere_in_the_bags_height(armed_bags: list[Scene]) -> None:
    """Threats are not kept low: they lie at the heights the other rigid contents lie at,
    from the floor to near the lid."""
    threats, benign = [], []
    for scene in armed_bags:
        for obj, labelled in zip(scene.objects, scene.labelled, strict=True):
            if obj.threat:
                threats.append(_underside(scene, obj))
            elif labelled and obj.label != "clothing":
                benign.append(_underside(scene, obj))
    heights = np.array(threats)
    assert len(heights) == 2 * N_ARMED
    assert np.mean(heights > 0.4) >= 0.25
    assert np.median(heights) > 0.1  # not at the floor
    assert heights.max() > 0.6
    # no cue either way: as high as the benign contents, neither lower nor higher
    low, high = np.percentile(benign, [25, 75])
    assert low < np.median(heights) < high


def test_threats_in_full_bags_stay_clear_of_rigid_items(armed_bags: list[Scene]) -> None:
    for scene in armed_bags[::4]:
        assert scene.inner is not None
        rigid = [obj for obj, labelled in zip(scene.objects, scene.labelled, strict=True)
                 if labelled and obj.label != "clothing" and not obj.threat]
        (threat,) = [obj for obj in scene.objects if obj.threat]
        assert scene.inner.contains(threat.world_corners())
        for other in rigid:
            assert not _boxes_meet(threat, other), (scene.kind, other.label)


def test_bags_hold_plausible_numbers_of_each_class(armed_bags: list[Scene]) -> None:
    most = {"charger": 2, "laptop": 2, "book": 3, "umbrella": 1, "keys": 1, "shoe": 2,
            "cable": 3, "bottle": 3, "toiletry": 4}
    for scene in armed_bags:
        labels = [obj.label for obj, lab in zip(scene.objects, scene.labelled, strict=True)
                  if lab]
        for label, limit in most.items():
            assert labels.count(label) <= limit, (scene.kind, label, labels.count(label))
        if scene.kind == "backpack":
            assert labels.count("laptop") <= 1


def test_a_threat_leaves_the_benign_bag_as_it_was() -> None:
    """The benign contents come from the scene stream alone and the threat goes in last:
    the same seed packs the same objects in the same poses with and without it. When a
    full bag has no room, items come out to make some, and nothing else changes."""
    for kind in BAG_KINDS:
        for seed in (0, 1):
            clean = _poses(pack_bag(kind, np.random.default_rng(seed)))
            knife = pack_bag(kind, np.random.default_rng(seed), THREATS[:1],
                             threat_rng=np.random.default_rng([seed, 3]))
            assert [obj.label for obj in knife.objects if obj.threat] == ["knife"]
            assert _same_poses(_poses(knife), clean), (kind, seed)
            gun = pack_bag(kind, np.random.default_rng(seed), THREATS[1:],
                           threat_rng=np.random.default_rng([seed, 3]))
            kept = _poses(gun)
            assert all(any(_same_poses([obj], [other]) for other in clean) for obj in kept)
            assert len(clean) - 2 <= len(kept) <= len(clean), (kind, seed)


def test_threats_show_in_both_cabin_views() -> None:
    scene = pack_bag("tray", np.random.default_rng(3), THREATS[:1])
    for geometry in (ViewGeometry.top((250, 375), (2.0, 2.0)),
                     ViewGeometry.side((200, 375), (2.0, 2.0))):
        view = project(scene.objects, geometry, scene.labelled)
        assert [f.label for f in view.footprints if f.threat] == ["knife"]


def test_a_tray_holds_fewer_items_than_a_suitcase() -> None:
    for seed in range(4):
        tray = pack_bag("tray", np.random.default_rng(seed))
        suitcase = pack_bag("suitcase", np.random.default_rng(seed))
        assert 1 <= sum(tray.labelled) < sum(suitcase.labelled)
        assert sum(suitcase.labelled) >= 12


def test_n_items_limits_the_benign_contents() -> None:
    scene = pack_bag("backpack", np.random.default_rng(4), n_items=3)
    assert 1 <= sum(scene.labelled) <= 3


def test_unknown_bag_kind_names_the_valid_ones() -> None:
    with pytest.raises(SimulationError, match=r"suitcase.*backpack.*tray"):
        pack_bag("wardrobe", np.random.default_rng(0))


def test_a_threat_too_big_for_the_bag_is_refused() -> None:
    with pytest.raises(SimulationError, match="does not fit"):
        pack_bag("backpack", np.random.default_rng(0), [_threat("knife", (900, 900, 900))])


# ------------------------------------------------------------------ cargo


def test_cargo_fits_the_portal_view_and_hides_its_threats() -> None:
    scene = pack_cargo(np.random.default_rng(6), THREATS)
    height = CARGO_VIEW.shape[0] * CARGO_VIEW.pitch_mm[0]
    length = CARGO_VIEW.shape[1] * CARGO_VIEW.pitch_mm[1]
    for obj in scene.objects:
        lo, hi = obj.world_bounds()
        assert lo[0] >= 0 and hi[0] <= length, obj.label
        assert lo[2] >= 0 and hi[2] <= height, obj.label
    labelled = [obj for obj, lab in zip(scene.objects, scene.labelled, strict=True) if lab]
    assert sorted(obj.label for obj in labelled) == ["handgun", "knife"]
    assert scene.inner is not None
    assert all(scene.inner.contains(obj.world_corners()) for obj in labelled)
    assert 100 <= sum(len(obj.parts) for obj in scene.objects) <= 800
    bad: list[str] = []
    for obj in scene.objects:
        bad += _negatives_are_carved_from_their_material(obj)
    assert not bad


def test_cargo_threats_turn_every_way_in_a_cavity() -> None:
    """Cargo threats lie in any orientation, so the single side view sometimes sees a
    handgun's profile (taller than 30 px at 2 mm) and not only its edge."""
    heights = []
    for seed in range(5):
        gun = THREAT_MAKERS["handgun"](np.random.default_rng([seed, 1]))
        scene = pack_cargo(np.random.default_rng(seed), [gun],
                           threat_rng=np.random.default_rng([seed, 2]))
        (threat,) = [obj for obj, lab in zip(scene.objects, scene.labelled, strict=True) if lab]
        (footprint,) = project([threat], CARGO_VIEW, [True]).footprints
        heights.append(footprint.box[3] - footprint.box[1])
        hosts = [obj for obj in scene.objects if any(p.negative for p in obj.parts)
                 and obj.label.startswith("cargo_cartons")]
        assert hosts
        assert not [bad for obj in hosts
                    for bad in _negatives_are_carved_from_their_material(obj)]
    assert max(heights) > 30, heights
    assert len(set(heights)) > 2


def test_cargo_load_is_the_same_with_and_without_threats() -> None:
    clean = pack_cargo(np.random.default_rng(8))
    armed = pack_cargo(np.random.default_rng(8), THREATS, threat_rng=np.random.default_rng(80))
    benign = [obj for obj, lab in zip(armed.objects, armed.labelled, strict=True) if not lab]
    assert [obj.label for obj in benign] == [obj.label for obj in clean.objects]
    cut = 0
    for before, after in zip(clean.objects, benign, strict=True):
        kept = SceneObject(after.label, after.parts[:len(before.parts)], after.threat,
                           after.pose)
        assert [p.material for p in kept.parts] == [p.material for p in before.parts]
        assert np.array_equal(kept.world_corners(), before.world_corners())
        extra = after.parts[len(before.parts):]
        assert all(p.negative for p in extra)  # only cavities were added
        cut += len(extra)
    assert cut >= 2
