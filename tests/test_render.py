"""Rendering views: index images, availability, the render API, spatial steps, goldens.

Golden images live in tests/golden (small PNGs). After an intended change of the colours,
the presets or the index layout, regenerate them and look at them before committing:

    SCREENER_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/test_render.py -k golden
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from screener.imaging import view_index
from screener.imaging.colour import invert
from screener.imaging.enhance import Adjustments, make_function
from screener.imaging.lut import TAKE_BLOCK
from screener.imaging.presets import UnknownFunctionError, shipped_presets
from screener.imaging.render import (
    NO_CALIBRATION,
    FunctionUnavailableError,
    PreparedView,
    available_functions,
    classifier_for,
    prepare,
    prepare_scan,
    render,
)
from screener.imaging.view_index import CODE_CLASS, CODE_MASK, MaterialDetail, build_index
from screener.scan.model import Scan, ScanMetadata, SourceKind, View

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("SCREENER_REGEN_GOLDEN") == "1"
PRESETS = shipped_presets()
MATERIAL_FUNCTIONS = {"standard", "organic-only", "inorganic-only", "metal-only", "zeff-colour",
                      "lighten"}
#: Ratio R = A_low / A_high of the wedge view's bands (cabin-like: polyethylene, water,
#: aluminium, iron, a mixture, polyethylene again under a brass wire).
BAND_RATIOS = (1.145, 1.22, 1.52, 2.0, 1.3, 1.15)


def stand_in_classifier(a_high: np.ndarray, a_low: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A private stand-in for the calibration: Zeff from R, thresholds like the cabin's."""
    ratio = a_low / np.maximum(a_high, 1e-6)
    zeff = np.interp(ratio, [1.10, 1.145, 1.219, 1.522, 2.023, 2.2],
                     [5.0, 5.44, 7.42, 13.0, 26.0, 29.0]).astype(np.float32)
    classes = np.where(zeff < 10.0, 1, np.where(zeff < 18.0, 2, 3)).astype(np.uint8)
    background = a_high < 0.05
    dark = (a_high > 5.0) | (a_low > 5.6)
    classes[background] = 0
    classes[dark] = 4
    zeff[background | dark] = np.nan
    return zeff, classes


def wedge_arrays(shape: tuple[int, int] = (48, 128)) -> tuple[np.ndarray, np.ndarray]:
    """(A_high, R): attenuation rising left to right, one material per band of rows, a
    thinner square and a denser thin wire to give the spatial functions something to do."""
    rows, cols = shape
    a_high = np.tile(np.linspace(0.0, 7.0, cols, dtype=np.float32), (rows, 1))
    ratio = np.repeat(np.array(BAND_RATIOS, np.float32), -(-rows // len(BAND_RATIOS)))[:rows]
    ratio = np.repeat(ratio[:, None], cols, axis=1)
    a_high[rows // 4: rows // 2, cols // 3: cols // 2] *= 0.6
    a_high[rows - 5: rows - 3, 10: cols - 10] += 1.2
    ratio[rows - 5: rows - 3, 10: cols - 10] = 1.9
    return a_high, ratio


def wedge_view(kind: str = "dual", dtype: str = "uint16", name: str = "top") -> View:
    a_high, ratio = wedge_arrays()
    t_high, t_low = np.exp(-a_high), np.exp(-a_high * ratio)
    if dtype == "uint16":
        high = np.rint(t_high * 65535).astype(np.uint16)
        low = np.rint(t_low * 65535).astype(np.uint16)
        full_scale = 65535.0
    else:
        high, low, full_scale = t_high.astype(np.float32), t_low.astype(np.float32), 1.0
    if kind == "dual":
        return View(name, high, low, full_scale, (0.5, 0.5))
    if kind == "single":
        return View(name, high, None, full_scale, (1.0, 1.0))
    _, classes = stand_in_classifier(a_high, a_high * ratio)
    return View(name, high, None, full_scale, (1.0, 1.0), material_class=classes)


def make_scan(views: tuple[View, ...], kind: SourceKind, profile: str) -> Scan:
    meta = ScanMetadata("BAG-1", "station", "lane", datetime(2025, 1, 1, tzinfo=UTC), "test",
                        kind, profile, "low", "high")
    return Scan(meta, views)


@pytest.fixture
def dual() -> PreparedView:
    return prepare(wedge_view(), stand_in_classifier)


# --------------------------------------------------------------------------------------
# Index images


def test_the_index_holds_level_and_material() -> None:
    view = wedge_view()
    prepared = prepare(view, stand_in_classifier)
    assert prepared.materials is MaterialDetail.ZEFF and prepared.missing is None
    a_high, ratio = wedge_arrays()
    level = prepared.index >> view_index.CODE_BITS
    counts = np.rint(np.exp(-a_high) * 65535)
    expected = view_index.level_of(-np.log(np.maximum(counts, 0.5) / 65535))
    assert np.array_equal(level, expected)
    classes = CODE_CLASS[prepared.index & CODE_MASK]
    _, want = stand_in_classifier(a_high, a_high * ratio)
    assert (classes == want).mean() > 0.97  # 16-bit counts move a few pixels across a boundary
    assert not prepared.index.flags.writeable


def test_decode_tells_what_a_pixel_stands_for() -> None:
    index = np.array([(512 << 6) | 2, (0 << 6) | 0, (1023 << 6) | 1, (100 << 6) | 3],
                     np.uint16)
    a, classes, zeff = view_index.decode(index)
    assert np.allclose(a, [12.0 * (512 / 1023) ** 2, 0.0, 12.0, 12.0 * (100 / 1023) ** 2])
    assert list(classes) == [255, 0, 4, 1]  # unknown, background, impenetrable, organic
    assert np.isnan(zeff).all()  # no Zeff in any of these codes


def test_float32_views_index_like_uint16_views() -> None:
    as_uint16 = prepare(wedge_view(dtype="uint16"), stand_in_classifier).index
    as_float = prepare(wedge_view(dtype="float32"), stand_in_classifier).index
    level_diff = (as_uint16 >> 6).astype(int) - (as_float >> 6).astype(int)
    assert np.abs(level_diff).max() <= 1
    assert ((as_uint16 & CODE_MASK) == (as_float & CODE_MASK)).mean() > 0.97


def test_index_blocks_do_not_show(monkeypatch: pytest.MonkeyPatch) -> None:
    view = wedge_view()
    whole, _ = build_index(view.high, view.full_scale, low=view.low,
                           classifier=stand_in_classifier)
    monkeypatch.setattr(view_index, "BLOCK_PIXELS", 300)  # 2 rows of 128 per block
    blocks, _ = build_index(view.high, view.full_scale, low=view.low,
                            classifier=stand_in_classifier)
    assert np.array_equal(whole, blocks)


def test_prepare_is_cached_per_view_and_classifier() -> None:
    view = wedge_view()
    first = prepare(view, stand_in_classifier)
    assert prepare(view, stand_in_classifier) is first
    other = prepare(view, None)
    assert other is not first and other.materials is MaterialDetail.NONE
    assert other.missing == NO_CALIBRATION


# --------------------------------------------------------------------------------------
# What each source can show


def test_single_energy_views_disable_material_functions_with_a_reason() -> None:
    prepared = prepare(wedge_view("single"))
    assert prepared.materials is MaterialDetail.NONE
    available = available_functions(prepared)
    assert list(available) == list(PRESETS.names)
    for name, reason in available.items():
        if name in MATERIAL_FUNCTIONS:
            assert reason is not None and "single-energy" in reason, name
            with pytest.raises(FunctionUnavailableError, match="single-energy"):
                render(prepared, name)
        else:
            assert reason is None, name
            rgb = render(prepared, name)[..., :3]
            assert (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all()


def test_pseudo_colour_views_show_classes_but_not_zeff() -> None:
    prepared = prepare(wedge_view("pseudo"))
    assert prepared.materials is MaterialDetail.CLASSES
    available = available_functions(prepared)
    assert available["zeff-colour"] is not None and "Zeff" in available["zeff-colour"]
    assert all(reason is None for name, reason in available.items() if name != "zeff-colour")
    standard = render(prepared, "standard")
    dual = render(prepare(wedge_view(), stand_in_classifier), "standard")
    organic_band = (slice(0, 8), slice(20, 60))  # R = 1.145: organic in both
    assert np.abs(standard[organic_band].astype(int) - dual[organic_band]).max() <= 1


def test_scan_reasons_come_from_the_scan_or_its_calibration(
    make_scan: Callable[..., tuple[Scan, object]],
) -> None:
    single, _ = make_scan(kind="single-energy")
    reason = available_functions(prepare_scan(single)[0])["standard"]
    assert reason is not None and reason.startswith("needs material information (single-energy")
    pseudo, _ = make_scan(kind="pseudo-colour", views=2)
    prepared = prepare_scan(pseudo)
    assert [p.materials for p in prepared] == [MaterialDetail.CLASSES] * 2
    assert "pseudo-colour export" in (available_functions(prepared[0])["zeff-colour"] or "")
    uncalibrated, _ = make_scan()  # profile "cabin-160kV": no calibration ships for it
    reason = available_functions(prepare_scan(uncalibrated)[0])["organic-only"]
    assert reason is not None and "no dual-energy calibration" in reason
    assert "cabin-160kV" in reason


def test_unknown_function_names_the_known_ones(dual: PreparedView) -> None:
    with pytest.raises(UnknownFunctionError, match="organic-only"):
        render(dual, "organic-everything")


# --------------------------------------------------------------------------------------
# The render API


def test_render_fills_the_given_buffer_and_allocates_nothing_image_sized() -> None:
    import tracemalloc

    a_high, ratio = wedge_arrays((256, 512))
    view = View("big", np.rint(np.exp(-a_high) * 65535).astype(np.uint16),
                np.rint(np.exp(-a_high * ratio) * 65535).astype(np.uint16), 65535.0, (1.0, 1.0))
    prepared = prepare(view, stand_in_classifier)
    out = np.zeros((*prepared.shape, 4), np.uint8)
    assert render(prepared, "standard", out=out) is out
    assert (out[..., 3] == 255).all() and out[..., :3].any()
    adjustments = Adjustments(gamma=1.3)
    for name in PRESETS.names:
        render(prepared, name, adjustments, out=out)  # build tables, allocate work buffers
    tracemalloc.start()
    for name in PRESETS.names:
        render(prepared, name, adjustments, out=out)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # the only temporary is numpy's intp copy of one block of indices (256 KB), whatever the
    # size of the image (here 131 072 pixels, four blocks)
    assert peak <= TAKE_BLOCK * np.dtype(np.intp).itemsize + 16_384, peak
    with pytest.raises(ValueError, match="C-contiguous uint8"):
        render(prepared, "standard", out=np.zeros((*prepared.shape, 3), np.uint8))


def test_render_takes_a_preset_a_function_or_a_name(dual: PreparedView) -> None:
    preset = PRESETS.get("inverse")
    by_name = render(dual, "inverse")
    assert np.array_equal(render(dual, preset), by_name)
    assert np.array_equal(render(dual, preset.function, preset.adjustments), by_name)
    assert np.array_equal(invert(render(dual, preset.function)), by_name)


def test_adjustments_compose_with_every_function(dual: PreparedView) -> None:
    for name in PRESETS.names:
        base = render(dual, name, Adjustments()).astype(int)
        brighter = render(dual, name, Adjustments(brightness=0.2)).astype(int)
        assert (brighter[..., :3] >= base[..., :3]).all(), name
        assert (brighter[..., :3] > base[..., :3]).any(), name


def test_spatial_results_are_cached_until_their_parameters_change(dual: PreparedView) -> None:
    first = render(dual, "super-enhancement").copy()
    assert np.array_equal(render(dual, "super-enhancement", Adjustments(invert=True)),
                          invert(first))
    dual.forget_spatial()
    assert np.array_equal(render(dual, "super-enhancement"), first)
    coarser = make_function("super-enhancement", {"tile_rows": 2})
    assert not np.array_equal(render(dual, coarser), first)
    assert np.array_equal(render(dual, "super-enhancement"), first)


def test_super_enhancement_raises_local_contrast() -> None:
    rng = np.random.default_rng(0)
    a_high = 3.0 + 0.05 * cv2.GaussianBlur(rng.standard_normal((96, 96)).astype(np.float32),
                                           (0, 0), 2)
    high = np.rint(np.exp(-a_high) * 65535).astype(np.uint16)
    prepared = prepare(View("v", high, None, 65535.0, (1.0, 1.0)))
    grey = render(prepared, "greyscale")[..., 0].astype(float)
    enhanced = render(prepared, "super-enhancement")[..., 0].astype(float)
    assert enhanced.std() > 3 * grey.std()


def test_edge_enhancement_overshoots_at_edges() -> None:
    a_high = np.full((40, 80), 1.0, np.float32)
    a_high[:, 40:] = 2.0
    high = np.rint(np.exp(-a_high) * 65535).astype(np.uint16)
    prepared = prepare(View("v", high, None, 65535.0, (1.0, 1.0)))
    plain = render(prepared, "greyscale")[20, :, 0].astype(int)
    edges = render(prepared, "edge-enhancement")[20, :, 0].astype(int)
    assert edges[38] > plain[38] and edges[41] < plain[41]  # brighter / darker at the step
    assert abs(edges[5] - plain[5]) <= 2 and abs(edges[75] - plain[75]) <= 2  # flat: as is


# --------------------------------------------------------------------------------------
# Real calibration (skipped while none is shipped)


def test_real_calibration_colours_reference_materials() -> None:
    from screener.physics.detector import dual_energy_transmission
    from screener.physics.profiles import get_profile

    profile_name = "cabin-160kv-dual-layer"
    classifier = classifier_for(profile_name)
    if isinstance(classifier, str):
        pytest.skip(f"no shipped calibration: {classifier}")
    shape = (30, 60)
    maps = {m: np.zeros(shape, np.float32) for m in ("polyethylene", "aluminium", "iron")}
    maps["polyethylene"][0:10] = 3.0  # g/cm^2
    maps["aluminium"][10:20] = 2.0
    maps["iron"][20:30] = 1.5
    t_low, t_high = dual_energy_transmission(maps, get_profile(profile_name))
    view = View("top", np.rint(t_high * 65535).astype(np.uint16),
                np.rint(t_low * 65535).astype(np.uint16), 65535.0, (0.5, 0.5))
    prepared = prepare(view, classifier)
    rgb = render(prepared, "standard")[..., :3].astype(int)
    organic, inorganic, metal = rgb[5, 30], rgb[15, 30], rgb[25, 30]
    assert organic[0] > organic[1] > organic[2], organic
    assert inorganic[1] > max(inorganic[0], inorganic[2]), inorganic
    assert metal[2] > max(metal[0], metal[1]), metal


# --------------------------------------------------------------------------------------
# Golden images


def golden_cases() -> list[tuple[str, str, str]]:
    """(file stem, view kind, preset) for every preset on the dual wedge, plus two more."""
    cases = [(f"dual-{name}", "dual", name) for name in PRESETS.names]
    return [*cases, ("single-super-enhancement", "single", "super-enhancement"),
            ("pseudo-standard", "pseudo", "standard")]


@pytest.mark.parametrize(("stem", "kind", "name"), golden_cases())
def test_golden_images(stem: str, kind: str, name: str) -> None:
    view = wedge_view(kind)
    prepared = prepare(view, stand_in_classifier if kind == "dual" else None)
    bgr = cv2.cvtColor(render(prepared, name), cv2.COLOR_RGBA2BGR)
    path = GOLDEN / f"{stem}.png"
    if REGENERATE:
        GOLDEN.mkdir(exist_ok=True)
        cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not path.exists():
        pytest.fail(f"{path} is missing: run with SCREENER_REGEN_GOLDEN=1 and look at it")
    golden = cv2.imread(str(path), cv2.IMREAD_COLOR)
    diff = np.abs(golden.astype(int) - bgr.astype(int))
    # one level of float rounding is allowed (other CPUs' exp/pow); nothing more
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01, f"{stem}: differs from {path}"


def test_goldens_stay_small() -> None:
    total = sum(p.stat().st_size for p in GOLDEN.glob("*"))
    assert total < 200_000
