"""The TIP projector: physical composition, noise, placement, measures, validation.

Bags and FTIs here are built from material maps with the physics module (no simulator
scenes, no FTI library): a belt, a thin nylon shell, blocks of cotton, lead or steel, and
steel plates as threats. Every view is small (300 x 400 pixels) so the whole file runs in
a few seconds.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime

import numpy as np
import pytest

from screener.imaging.calibration import MaterialClass
from screener.imaging.render import classifier_for, prepare, render
from screener.imaging.view_index import decode
from screener.physics.detector import detect, dual_energy_transmission
from screener.physics.profiles import get_profile
from screener.scan.model import BeltDirection, Scan, ScanMetadata, SourceKind, View
from screener.tip.fti import FtiCategory, FtiImage
from screener.tip.measures import opaque_attenuation
from screener.tip.placement import Pose, RotationMode, find_outline, warp_fti
from screener.tip.projector import (
    REJECT_HIDDEN,
    REJECT_OUTSIDE,
    FtiTooLargeError,
    InvalidFtiError,
    NoBagError,
    NoiseModel,
    NoPlacementError,
    ProfileMismatchError,
    ProjectionError,
    ProjectionOptions,
    UnmeasuredTransmissionError,
    compose_channel,
    estimate_noise,
    outline_for,
    project_scan,
    project_view,
)

CABIN = "cabin-160kv-dual-layer"
PROFILE = get_profile(CABIN)
NOISE = NoiseModel.from_profile(PROFILE)
SHAPE = (300, 400)
PITCH = (0.5, 0.5)
#: Shell of the test bag: rows and columns of its outer edge.
BAG = (30, 270, 30, 370)
#: No randomness in the pose: as captured, no flip, true size.
FIXED = ProjectionOptions(rotation=RotationMode.NONE, flip_probability=0.0, scale_jitter=0.0)
EXACT = dataclasses.replace(FIXED, add_noise=False)


# --------------------------------------------------------------------------------------
# Building views and FTIs


def _maps(shape: tuple[int, int] = SHAPE, *, belt: bool = True) -> dict[str, np.ndarray]:
    maps = {m: np.zeros(shape, np.float32) for m in ("rubber", "nylon", "cotton", "lead", "iron")}
    if belt:
        maps["rubber"][:] = 0.5  # T_high about 0.91, as the simulator's belt
    r0, r1, c0, c1 = BAG
    shell = np.zeros(shape, bool)
    shell[r0:r1, c0:c1] = True
    shell[r0 + 4 : r1 - 4, c0 + 4 : c1 - 4] = False
    maps["nylon"][shell] = 1.0
    return maps


def _view(maps: dict[str, np.ndarray], *, seed: int = 0, dtype: str = "uint16",
          noisy: bool = True, name: str = "top", pitch: tuple[float, float] = PITCH,
          dual: bool = True, belt_direction: BeltDirection = BeltDirection.LEFT_TO_RIGHT
          ) -> View:  # fmt: skip
    used = {m: a for m, a in maps.items() if a.any()}
    t_low, t_high = dual_energy_transmission(used, PROFILE)
    rng = np.random.default_rng(seed)
    if noisy:
        t_high = detect(t_high, PROFILE.high, PROFILE, rng)
        t_low = detect(t_low, PROFILE.low, PROFILE, rng)
    if dtype == "uint16":
        high = np.rint(t_high * 65535).astype(np.uint16)
        low = np.rint(t_low * 65535).astype(np.uint16)
        scale = 65535.0
    else:
        high, low, scale = t_high.astype(np.float32), t_low.astype(np.float32), 1.0
    return View(name, high, low if dual else None, scale, pitch, belt_direction)


def shell_bag(*, organic: bool = True, seed: int = 0, dtype: str = "uint16",
              noisy: bool = True, belt: bool = True) -> View:  # fmt: skip
    """Belt, a nylon shell; inside, cotton (1.5 g/cm^2) on the left half, air on the right."""
    maps = _maps(belt=belt)
    if organic:
        maps["cotton"][40:260, 40:200] = 1.5
    return _view(maps, seed=seed, dtype=dtype, noisy=noisy)


def steel_fti(shape: tuple[int, int] = (30, 60), iron: float = 2.4, *, pitch: float = 0.5,
              profile: str = CABIN, ellipse: bool = True) -> FtiImage:  # fmt: skip
    """A steel plate (iron mass thickness ``iron`` g/cm^2), elliptic or rectangular."""
    h, w = shape
    if ellipse:
        yy, xx = np.mgrid[0:h, 0:w]
        mask = ((yy - (h - 1) / 2) / (h / 2)) ** 2 + ((xx - (w - 1) / 2) / (w / 2)) ** 2 <= 1.0
    else:
        mask = np.ones(shape, bool)
    t_low, t_high = dual_energy_transmission({"iron": mask.astype(np.float32) * iron}, PROFILE)
    return uniform_fti(t_high, t_low, mask, pitch=pitch, profile=profile)


def uniform_fti(high: np.ndarray | float, low: np.ndarray | float, mask: np.ndarray, *,
                pitch: float = 0.5, profile: str = CABIN, fti_id: str = "test-fti"
                ) -> FtiImage:  # fmt: skip
    shape = mask.shape
    t_high = np.where(mask, np.broadcast_to(high, shape), 1.0).astype(np.float32)
    t_low = np.where(mask, np.broadcast_to(low, shape), 1.0).astype(np.float32)
    return FtiImage(fti_id, "article-1", FtiCategory.KNIFE, "steel plate", (0.0, 0.0, 0.0),
                    "tests", "2025-01-01", profile, pitch, t_high, t_low, mask)  # fmt: skip


def _scan(views: tuple[View, ...], *, profile: str = CABIN,
          kind: SourceKind = SourceKind.SIMULATED_DUAL_ENERGY) -> Scan:  # fmt: skip
    meta = ScanMetadata("BAG-1", "station", "lane", datetime(2025, 1, 1, tzinfo=UTC),
                        "tests", kind, profile, "low", "high")  # fmt: skip
    return Scan(meta, views)


def _box(p, array: np.ndarray) -> np.ndarray:
    x0, y0, x1, y1 = p.box
    return array[y0:y1, x0:x1]


# --------------------------------------------------------------------------------------
# Composition physics


@pytest.mark.parametrize("rotation", [RotationMode.NONE, RotationMode.ANY])
def test_noise_free_composite_is_the_product_and_attenuations_add(rotation):
    bag = shell_bag(dtype="float32")
    fti = steel_fti()
    options = dataclasses.replace(ProjectionOptions(add_noise=False), rotation=rotation)
    p = project_view(bag, fti, 3, profile=CABIN, options=options)
    assert p.view.high.dtype == np.float32 and p.view.full_scale == 1.0
    for name, placed in (("high", p.placed_high), ("low", p.placed_low)):
        before = bag.transmission(name)
        after = p.view.transmission(name)
        np.testing.assert_allclose(_box(p, after), _box(p, before) * placed, rtol=1e-6, atol=0)
        a_sum = -np.log(_box(p, before)) - np.log(placed)
        np.testing.assert_allclose(-np.log(_box(p, after)), a_sum, rtol=1e-5, atol=1e-6)
        # every pixel the FTI does not touch is bit for bit the bag's
        untouched = ~p.full_mask()
        assert np.array_equal(after[untouched], before[untouched])
        assert (placed[p.mask] < 1.0).any() and np.all(placed[~p.mask] == 1.0)


def test_uint16_view_keeps_dtype_and_scale_and_rounds_the_product():
    bag = shell_bag()
    p = project_view(bag, steel_fti(), 5, profile=CABIN, options=ProjectionOptions(add_noise=False))
    assert p.view.high.dtype == np.uint16 and p.view.low is not None
    assert p.view.low.dtype == np.uint16 and p.view.full_scale == bag.full_scale
    product = _box(p, bag.transmission("high")) * p.placed_high
    np.testing.assert_allclose(_box(p, p.view.transmission("high")), product, atol=0.51 / 65535)
    assert p.view.high is not bag.high and np.array_equal(
        p.view.high[~p.full_mask()], bag.high[~p.full_mask()])


def test_as_captured_pose_places_the_fti_pixels_unchanged():
    fti = steel_fti((31, 57))
    p = project_view(shell_bag(), fti, 1, profile=CABIN, options=FIXED)
    assert p.mask.shape == fti.shape and np.array_equal(p.mask, fti.mask)
    np.testing.assert_array_equal(p.placed_high, fti.high)
    np.testing.assert_array_equal(p.placed_low, fti.low)
    assert p.transform.angle_deg == 0.0 and not p.transform.flipped
    assert p.transform.scale == 1.0 and p.transform.pitch_scale == (1.0, 1.0)
    x0, y0, _, _ = p.box
    m = np.array(p.transform.matrix)
    np.testing.assert_allclose(m @ [0.0, 0.0, 1.0], [x0, y0])  # FTI pixel (0, 0) -> box corner


def _uniform_bag(t_bag: float, seed: int) -> View:
    """A float32 view: air, and a block of uniform transmission ``t_bag`` with exactly the
    detector model's white noise (no blur) in each channel."""
    rng = np.random.default_rng(seed)
    channels = []
    for spectrum in (PROFILE.high, PROFILE.low):
        t = np.full(SHAPE, 0.95, np.float32)
        t[20:280, 20:380] = t_bag
        sd = np.sqrt(t / spectrum.open_beam_quanta + PROFILE.electronic_noise**2)
        channels.append((t + sd * rng.standard_normal(SHAPE)).astype(np.float32))
    return View("top", channels[0], channels[1], 1.0, PITCH)


def test_added_noise_has_zero_mean_and_the_detector_models_variance_at_the_composite():
    t_bag, t_fti = 0.5, {"high": 0.4, "low": 0.3}
    mask = np.ones((40, 40), bool)
    fti = uniform_fti(t_fti["high"], t_fti["low"], mask)
    diffs: dict[str, list[np.ndarray]] = {"high": [], "low": []}
    around_truth: dict[str, list[np.ndarray]] = {"high": [], "low": []}
    for seed in range(30):
        bag = _uniform_bag(t_bag, seed)
        p = project_view(bag, fti, seed, profile=CABIN, options=FIXED)
        for name in ("high", "low"):
            composite = _box(p, p.view.transmission(name))
            product = _box(p, bag.transmission(name)) * t_fti[name]
            diffs[name].append((composite - product).ravel())
            around_truth[name].append((composite - t_bag * t_fti[name]).ravel())
    for name, spectrum in (("high", PROFILE.high), ("low", PROFILE.low)):
        d = np.concatenate(diffs[name]).astype(np.float64)
        n_quanta, e = spectrum.open_beam_quanta, PROFILE.electronic_noise
        var_add = t_bag * t_fti[name] * (1 - t_fti[name]) / n_quanta + e**2 * (1 - t_fti[name]**2)
        assert abs(d.mean()) < 4 * math.sqrt(var_add / d.size)
        assert d.var() == pytest.approx(var_add, rel=0.03)
        total = np.concatenate(around_truth[name]).astype(np.float64)
        t_out = t_bag * t_fti[name]
        assert total.var() == pytest.approx(t_out / n_quanta + e**2, rel=0.03)


def test_compose_channel_without_noise_is_the_clipped_product():
    bag = np.array([[0.5, 1.0, 0.2]], np.float32)
    art = np.array([[0.5, 0.3, 1.0]], np.float32)
    np.testing.assert_array_equal(compose_channel(bag, art, None, None), bag * art)


def test_colours_rederived_metal_over_air_and_organic_not_elsewhere():
    classifier = classifier_for(CABIN)
    assert not isinstance(classifier, str)
    bag = shell_bag(belt=False)  # the belt would show as a thin organic layer
    fti = steel_fti((40, 80), iron=2.4, ellipse=False)

    def classes(view: View) -> np.ndarray:
        return decode(prepare(view, classifier).index)[1]

    before = classes(bag)
    over_air = project_view(bag, fti, 0, profile=CABIN, pose=Pose(), centre=(150.0, 290.0))
    over_cotton = project_view(bag, fti, 0, profile=CABIN, pose=Pose(), centre=(150.0, 110.0))
    for p, underneath in ((over_air, MaterialClass.BACKGROUND),
                          (over_cotton, MaterialClass.ORGANIC)):  # fmt: skip
        core = np.zeros(bag.shape, bool)
        x0, y0, x1, y1 = p.box
        core[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3] = True
        assert np.mean(before[core] == underneath) > 0.9
        after = classes(p.view)
        assert np.mean(after[core] == MaterialClass.METAL) > 0.9
        rgba = render(prepare(p.view, classifier), "standard")
        rgb = rgba[core][:, :3].astype(int)
        assert np.mean(rgb[:, 2] > rgb[:, 0] + 20) > 0.9  # blue, not orange
        # where the FTI is absent the cotton stays organic and the air background
        away = ~p.full_mask()
        cotton, air = np.zeros(bag.shape, bool), np.zeros(bag.shape, bool)
        cotton[45:255, 45:195] = True
        air[45:255, 205:355] = True
        assert np.mean(after[away & cotton] == MaterialClass.ORGANIC) > 0.95
        assert np.mean(after[away & air] == MaterialClass.BACKGROUND) > 0.95
        assert np.mean(after[away & (cotton | air)] == MaterialClass.METAL) < 0.002


# --------------------------------------------------------------------------------------
# Placement


def _ellipse_bag(seed: int = 0) -> tuple[View, np.ndarray]:
    maps = _maps(belt=True)
    maps["nylon"][:] = 0.0
    yy, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    inside = ((yy - 150) / 120.0) ** 2 + ((xx - 200) / 170.0) ** 2 <= 1.0
    maps["cotton"][inside] = 0.8
    maps["iron"][120:140, 150:260] = 0.5  # something inside
    return _view(maps, seed=seed), inside


def test_placements_lie_inside_the_bag_outline_for_many_seeds():
    bag, inside = _ellipse_bag()
    fti = steel_fti((24, 70))
    outline = outline_for(bag, noise=NOISE)
    assert not outline.allowed[~inside].any()
    assert outline.allowed.sum() > 0.7 * inside.sum()
    angles, centres = [], []
    for seed in range(60):
        p = project_view(bag, fti, seed, profile=CABIN, outline=outline)
        full = p.full_mask()
        assert full.sum() >= fti.mask.sum() * 0.8**2
        assert not (full & ~outline.allowed).any()
        assert not (full & ~inside).any()
        angles.append(p.transform.angle_deg)
        centres.append(p.transform.centre)
    assert np.ptp(angles) > 180  # any angle
    assert np.ptp(np.array(centres)[:, 1]) > 150  # spread over the bag


def test_outline_is_cached_per_view_and_matches_a_direct_call():
    bag, _ = _ellipse_bag()
    first = outline_for(bag, noise=NOISE)
    assert outline_for(bag, noise=NOISE) is first
    direct = find_outline(bag.high, bag.full_scale, bag.pixel_pitch_mm,
                          noise_sigma_air=math.sqrt(NOISE.high.variance(1.0)), margin_mm=3.0,
                          closing_mm=10.0)  # fmt: skip
    assert np.array_equal(direct.allowed, first.allowed)
    assert direct.air_transmission == pytest.approx(0.915, abs=0.01)  # the belt


def test_empty_belt_has_no_bag():
    empty = _view({"rubber": np.full(SHAPE, 0.5, np.float32)}, seed=1)
    with pytest.raises(NoBagError):
        project_view(empty, steel_fti(), 0, profile=CABIN)


def _lead_bag(fraction: float) -> View:
    """The shell bag with a lead sheet over the left ``fraction`` of its inside."""
    maps = _maps()
    maps["cotton"][40:260, 40:360] = 0.5
    maps["lead"][34:266, 34 : 34 + round(fraction * 332)] = 8.0
    return _view(maps, seed=2)


def test_placements_hidden_behind_lead_are_rejected_unless_allowed():
    full_lead = _lead_bag(1.0)
    fti = steel_fti()
    with pytest.raises(NoPlacementError) as caught:
        project_view(full_lead, fti, 0, profile=CABIN,
                     options=ProjectionOptions(max_attempts=20))  # fmt: skip
    assert caught.value.rejections[REJECT_HIDDEN] > 0
    assert caught.value.attempts == 20
    assert "hidden behind opaque regions" in str(caught.value)
    allowed = project_view(full_lead, fti, 0, profile=CABIN,
                           options=ProjectionOptions(max_opacity=None))  # fmt: skip
    assert allowed.measures.opacity == 1.0
    half = _lead_bag(0.5)
    for seed in range(15):
        p = project_view(half, fti, seed, profile=CABIN, options=ProjectionOptions(max_opacity=0.2))
        assert p.measures.opacity <= 0.2


def test_fixed_placement_that_is_rejected_raises_at_once():
    with pytest.raises(NoPlacementError) as caught:
        project_view(shell_bag(), steel_fti(), 0, profile=CABIN, pose=Pose(), centre=(5.0, 5.0))
    assert caught.value.attempts == 1 and caught.value.rejections[REJECT_OUTSIDE] == 1


# --------------------------------------------------------------------------------------
# Measures


def test_measures_over_air_dense_cotton_lead_and_clutter():
    bag = shell_bag(organic=True)
    fti = steel_fti((30, 60), ellipse=False)
    air = project_view(bag, fti, 0, profile=CABIN, pose=Pose(), centre=(150.0, 290.0))
    dense = project_view(bag, fti, 0, profile=CABIN, pose=Pose(), centre=(150.0, 110.0))
    assert abs(air.measures.superposition) < 0.01
    assert air.measures.opacity == 0.0 and air.measures.clutter < 0.01
    # superposition reads the cotton's own A_high above the belt's (noise-free physics)
    one = np.ones((1, 1), np.float32)
    _, t_both = dual_energy_transmission({"cotton": 1.5 * one, "rubber": 0.5 * one}, PROFILE)
    _, t_belt = dual_energy_transmission({"rubber": 0.5 * one}, PROFILE)
    a_cotton = float(np.log(t_belt[0, 0]) - np.log(t_both[0, 0]))
    assert dense.measures.superposition == pytest.approx(a_cotton, abs=0.01)
    assert dense.measures.superposition > 0.2 > air.measures.superposition
    assert dense.measures.opacity == 0.0
    lead = project_view(_lead_bag(1.0), fti, 0, profile=CABIN, pose=Pose(), centre=(150.0, 200.0),
                        options=ProjectionOptions(max_opacity=None))  # fmt: skip
    assert lead.measures.opacity == 1.0
    a_belt = float(-np.log(t_belt[0, 0]))
    assert lead.measures.superposition == pytest.approx(lead.opaque_a_high - a_belt, abs=0.01)
    assert lead.opaque_a_high == pytest.approx(opaque_attenuation(
        PROFILE.high.open_beam_quanta, PROFILE.electronic_noise))
    # clutter: steel bars 3 pixels wide every 10 pixels across the box
    maps = _maps()
    for c in range(40, 360, 10):
        maps["iron"][40:260, c : c + 3] = 1.6
    bars = project_view(_view(maps), fti, 0, profile=CABIN, pose=Pose(), centre=(150.0, 200.0))
    assert bars.measures.clutter > 0.3
    assert dense.measures.clutter < 0.02


def test_same_seed_same_projection_other_seed_other():
    bag = shell_bag()
    fti = steel_fti()
    a = project_view(bag, fti, 42, profile=CABIN)
    b = project_view(bag, fti, np.random.default_rng(42), profile=CABIN)
    c = project_view(bag, fti, 43, profile=CABIN)
    assert a.record() == b.record()
    assert np.array_equal(a.view.high, b.view.high) and np.array_equal(a.view.low, b.view.low)
    assert a.record() != c.record()


# --------------------------------------------------------------------------------------
# Input validation


def test_fti_larger_than_the_bag():
    big = steel_fti((280, 380), ellipse=False)
    with pytest.raises(FtiTooLargeError) as caught:
        project_view(shell_bag(), big, 0, profile=CABIN)
    assert "bag outline" in str(caught.value)
    wide = steel_fti((270, 270))  # a disc wider than the bag is high
    with pytest.raises(FtiTooLargeError, match="disc"):
        project_view(shell_bag(), wide, 0, profile=CABIN)
    # small in area but longer than the bag in every direction
    rod = steel_fti((6, 520), ellipse=False)
    with pytest.raises(NoPlacementError) as caught:
        project_view(shell_bag(), rod, 0, profile=CABIN, options=ProjectionOptions(max_attempts=10))
    assert caught.value.rejections[REJECT_OUTSIDE] == 10


@pytest.mark.parametrize(("fti_pitch", "view_pitch"),
                         [(1.0, (0.5, 0.5)), (0.25, (0.5, 0.5)), (0.5, (0.5, 1.0))])
def test_fti_is_rescaled_to_the_views_pixel_pitch(fti_pitch, view_pitch):
    fti = steel_fti((40, 80), pitch=fti_pitch, ellipse=False)
    maps = _maps()
    bag = _view(maps, pitch=view_pitch)
    p = project_view(bag, fti, 0, profile=CABIN, options=EXACT)
    x0, y0, x1, y1 = p.box
    expect_h = 40 * fti_pitch / view_pitch[0]
    expect_w = 80 * fti_pitch / view_pitch[1]
    assert y1 - y0 == pytest.approx(expect_h, abs=2)
    assert x1 - x0 == pytest.approx(expect_w, abs=2)
    assert p.transform.pitch_scale == (fti_pitch / view_pitch[0], fti_pitch / view_pitch[1])
    # steel keeps its transmission: rescaling does not change how much one pixel attenuates
    core = p.placed_high[2:-2, 2:-2]
    assert core.mean() == pytest.approx(float(fti.high[fti.mask].mean()), rel=0.01)


@pytest.mark.parametrize(("fti_pitch", "seed"), [(0.5, 0), (0.5, 1), (0.3, 2), (0.8, 3)])
def test_transform_matrix_maps_the_fti_onto_where_it_was_placed(fti_pitch, seed):
    fti = steel_fti((30, 70), pitch=fti_pitch, ellipse=False)
    options = ProjectionOptions(add_noise=False)
    p = project_view(shell_bag(), fti, seed, profile=CABIN, options=options)
    ys, xs = np.nonzero(fti.mask)
    m = np.array(p.transform.matrix)
    mapped = m @ np.stack([xs.mean(), ys.mean(), 1.0])
    pys, pxs = np.nonzero(p.full_mask())
    np.testing.assert_allclose(mapped, [pxs.mean(), pys.mean()], atol=0.75)
    np.testing.assert_allclose(p.transform.centre, mapped[::-1], atol=1e-6)
    corner = m @ [0.0, 0.0, 1.0]  # FTI pixel (0, 0) lands on a placed pixel
    assert p.full_mask()[round(corner[1]), round(corner[0])]
    assert abs(np.linalg.det(m[:, :2])) == pytest.approx(
        (p.transform.scale * fti_pitch / 0.5) ** 2, rel=1e-6)


def test_single_energy_view_composes_the_high_channel_only():
    bag = dataclasses.replace(shell_bag(dtype="float32"), low=None)
    p = project_view(bag, steel_fti(), 0, profile="unknown", options=EXACT)
    assert p.view.low is None and p.placed_low is None
    np.testing.assert_allclose(_box(p, p.view.high), _box(p, bag.high) * p.placed_high,
                               rtol=1e-6)  # fmt: skip
    assert any("single-energy" in note for note in p.notes)
    scan = _scan((bag,), profile="unknown", kind=SourceKind.SINGLE_ENERGY)
    assert project_scan(scan, steel_fti(), 0).scan.views[0].low is None


def test_pseudo_colour_views_are_refused():
    bag = shell_bag()
    colour = dataclasses.replace(bag, low=None,
                                 material_class=np.zeros(bag.shape, np.uint8))  # fmt: skip
    with pytest.raises(UnmeasuredTransmissionError, match="not measured"):
        project_view(colour, steel_fti(), 0)
    scan = _scan((colour,), profile="unknown", kind=SourceKind.PSEUDO_COLOUR)
    with pytest.raises(UnmeasuredTransmissionError):
        project_scan(scan, steel_fti(), 0)


def test_profile_mismatch_is_refused_unless_allowed():
    fti = steel_fti(profile="cargo-6mv-dual-energy")
    with pytest.raises(ProfileMismatchError, match="cargo-6mv-dual-energy"):
        project_view(shell_bag(), fti, 0, profile=CABIN)
    p = project_view(shell_bag(), fti, 0, profile=CABIN,
                     options=ProjectionOptions(allow_profile_mismatch=True))  # fmt: skip
    assert any("approximate" in note for note in p.notes)


def test_unknown_profile_estimates_the_noise_from_the_bag_image_and_says_so():
    bag = shell_bag(seed=4)
    p = project_view(bag, steel_fti(), 0, profile="unknown")
    assert p.noise.estimated
    assert p.noise.high.quanta == pytest.approx(PROFILE.high.open_beam_quanta, rel=0.1)
    assert p.noise.low is not None
    assert p.noise.low.quanta == pytest.approx(PROFILE.low.open_beam_quanta, rel=0.1)
    assert any("estimated" in note for note in p.notes)
    assert "air tiles" in p.record()["noise"]
    # air at the open beam (clipped at T = 1) is unusable: the estimate says so
    cotton = np.pad(np.full((220, 320), 1.5, np.float32), ((40, 40), (40, 40)))
    no_belt = _view(_maps(belt=False) | {"cotton": cotton}, seed=5)
    noise = estimate_noise(no_belt)
    assert "too little unsaturated air" in noise.source
    assert noise.high.quanta == pytest.approx(PROFILE.high.open_beam_quanta, rel=0.15)


def test_invalid_ftis_and_options_are_refused():
    mask = np.zeros((10, 10), bool)
    with pytest.raises(InvalidFtiError, match="mask is empty"):
        project_view(shell_bag(), uniform_fti(0.5, 0.4, mask), 0, profile=CABIN)
    mask[2:8, 2:8] = True
    with pytest.raises(InvalidFtiError, match=r"\(0, 1\]"):
        project_view(shell_bag(), uniform_fti(1.5, 0.4, mask), 0, profile=CABIN)
    with pytest.raises(ProjectionError, match="max_opacity"):
        ProjectionOptions(max_opacity=1.5)


# --------------------------------------------------------------------------------------
# Whole scans


def _two_views(side_direction: BeltDirection = BeltDirection.LEFT_TO_RIGHT) -> Scan:
    top = shell_bag()
    maps = _maps()
    maps["cotton"][40:200, 60:340] = 1.0
    side = _view(maps, seed=9, name="side", belt_direction=side_direction)
    return _scan((top, side))


@pytest.mark.parametrize("side_direction", list(BeltDirection))
def test_scan_projection_puts_the_fti_at_one_belt_position_in_every_view(side_direction):
    scan = _two_views(side_direction)
    result = project_scan(scan, steel_fti(), 7)
    assert [p.view.name for p in result.projections] == ["top", "side"]
    assert result.scan.metadata == scan.metadata
    top, side = result.projection("top"), result.projection("side")
    assert result.scan.view("top") is top.view and result.scan.view("side") is side.view
    cols = scan.views[0].shape[1]
    side_col = side.transform.centre[1]
    if side_direction is BeltDirection.RIGHT_TO_LEFT:
        side_col = cols - 1 - side_col
        assert side.transform.flipped != top.transform.flipped
    assert side_col == pytest.approx(top.transform.centre[1], abs=0.5)
    assert side.transform.scale == top.transform.scale


def test_scan_projection_into_one_view_leaves_the_others_alone():
    scan = _two_views()
    result = project_scan(scan, steel_fti(), 3, views="side")
    assert result.scan.views[0] is scan.views[0]
    assert result.scan.views[1] is not scan.views[1]
    assert [p.view.name for p in result.projections] == ["side"]
    with pytest.raises(KeyError, match="top, side"):
        project_scan(scan, steel_fti(), 3, views="front")


def test_warp_of_a_quarter_turn_swaps_the_box():
    fti = steel_fti((20, 50), ellipse=False)
    stack = np.dstack([fti.high, fti.low, fti.mask.astype(np.float32)]).astype(np.float32)
    turned = warp_fti(stack, 0.5, Pose(90.0), PITCH)
    assert turned.shape == (50, 20)
    np.testing.assert_allclose(turned.high[turned.mask].min(), fti.high.min(), rtol=1e-5)
