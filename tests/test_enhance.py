"""Enhancement functions: lookup tables against the direct formula, semantics, presets."""

from __future__ import annotations

import dataclasses
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from screener.imaging.colour import Palette, invert
from screener.imaging.enhance import (
    Adjustments,
    Colouring,
    Density,
    colour_formula,
    edge_enhance,
    lightness,
    make_function,
)
from screener.imaging.lut import adjustment_curve, lookup_table
from screener.imaging.presets import (
    PresetFileError,
    UnknownFunctionError,
    load_presets,
    parse_presets,
    shipped_presets,
)
from screener.imaging.view_index import (
    A_MAX,
    CODE_BITS,
    CODE_CLASS,
    CODE_MASK,
    CODE_ZEFF,
    LEVELS,
    ZEFF_BINS,
    level_of,
    material_codes,
)

PRESETS = shipped_presets()
NAMES = PRESETS.names
ORGANIC, INORGANIC, METAL, IMPENETRABLE, BACKGROUND = 1, 2, 3, 4, 0
WHITE = (255, 255, 255)


def random_adjustments(rng: np.random.Generator) -> Adjustments:
    lo = float(rng.uniform(0.0, 6.0))
    return Adjustments(
        brightness=float(rng.uniform(-0.3, 0.3)),
        contrast=float(rng.uniform(0.5, 2.0)),
        gamma=float(rng.uniform(0.5, 2.5)),
        invert=bool(rng.integers(0, 2)),
        window=(lo, lo + float(rng.uniform(0.5, 4.0))),
    )


def cell_inputs(function: Any, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What an index value stands for, from the documented layout (not from lut.py)."""
    level = (index >> CODE_BITS).astype(np.int64)
    code = index & CODE_MASK
    if not function.table_driven:
        level = level & ~3
    if function.density is Density.EQUALISED:
        value = (level >> 2) / 255.0
    else:
        value = A_MAX * (level / (LEVELS - 1)) ** 2
    return value.astype(np.float32), CODE_CLASS[code], CODE_ZEFF[code]


def table_rgb(table: np.ndarray, index: np.ndarray) -> np.ndarray:
    rgba = table[index].view(np.uint8).reshape(*index.shape, 4)
    assert (rgba[..., 3] == 255).all()
    return rgba[..., :3]


# --------------------------------------------------------------------------------------
# Every lookup table agrees with the direct formula


@pytest.mark.parametrize("name", NAMES)
def test_every_lookup_table_agrees_with_the_direct_formula(name: str) -> None:
    preset = PRESETS.get(name)
    rng = np.random.default_rng(zlib.crc32(name.encode()))  # the same values every run
    for adjustments in (preset.adjustments, *(random_adjustments(rng) for _ in range(3))):
        table = lookup_table(preset.function, adjustments)
        index = rng.integers(0, 1 << 16, size=20_000, dtype=np.uint16)
        value, classes, zeff = cell_inputs(preset.function, index)
        expected = colour_formula(preset.function, value, classes, zeff, adjustments)
        diff = np.abs(table_rgb(table, index).astype(int) - expected.astype(int))
        assert diff.max() <= 1, (name, adjustments)  # float32 rounding at a 12-bit step
        assert (diff == 0).mean() > 0.999


@pytest.mark.parametrize("name", [p.name for p in PRESETS.presets if p.function.table_driven])
def test_tables_on_random_pixels_match_the_formula_within_quantisation(name: str) -> None:
    """Random (A, class, Zeff) pixels: table lookup of their index against the formula on the
    raw attenuation. Zeff enters at its bin's centre (0.25-0.5 Zeff wide bins). (The spatial
    functions' tables are checked cell by cell above, their filters in test_render.)"""
    preset = PRESETS.get(name)
    rng = np.random.default_rng(7)
    n = 20_000
    a = (rng.random(n) ** 2 * 10.0).astype(np.float32)
    classes = rng.integers(0, 5, n).astype(np.uint8)
    zeff = rng.uniform(5.0, 29.0, n).astype(np.float32)
    zeff[(classes == BACKGROUND) | (classes == IMPENETRABLE)] = np.nan
    codes = material_codes(zeff, classes)
    index = (level_of(a) << np.uint16(CODE_BITS)) | codes
    table = lookup_table(preset.function, preset.adjustments)
    expected = colour_formula(preset.function, a, classes, CODE_ZEFF[codes], preset.adjustments)
    diff = np.abs(table_rgb(table, index).astype(int) - expected.astype(int))
    assert diff.max() <= 2, name
    assert np.array_equal(CODE_CLASS[codes], classes)


def test_zeff_bins_hold_their_zeff_and_class() -> None:
    rng = np.random.default_rng(3)
    for cls, z0, z1, bins in ZEFF_BINS:
        z = rng.uniform(z0, z1, 5000).astype(np.float32)
        codes = material_codes(z, np.full(z.shape, cls, np.uint8))
        assert (CODE_CLASS[codes] == cls).all()
        assert np.abs(CODE_ZEFF[codes] - z).max() <= (z1 - z0) / bins / 2 + 1e-5
    # out of range clamps into the class; NaN (no Zeff) is fine for every class
    codes = material_codes(np.array([1.0, 99.0, np.nan], np.float32),
                           np.array([ORGANIC, METAL, INORGANIC], np.uint8))
    assert list(CODE_CLASS[codes]) == [ORGANIC, METAL, INORGANIC]


def test_level_quantisation_is_fine_where_the_eye_needs_it() -> None:
    a = np.linspace(0.0, A_MAX, 200_001, dtype=np.float32)
    level = level_of(a)
    assert level.min() == 0 and level.max() == LEVELS - 1
    assert (np.diff(level.astype(int)) >= 0).all()
    represented = A_MAX * (level / (LEVELS - 1.0)) ** 2
    half_bin = np.sqrt(A_MAX * a) / (LEVELS - 1) + 1e-4
    assert (np.abs(represented - a) <= half_bin).all()
    standard = np.exp(-a / 2.0)
    assert np.abs(np.exp(-represented / 2.0) - standard).max() < 0.5 / 255


def test_adjustment_curve_is_the_formula() -> None:
    adjustments = Adjustments(brightness=0.1, contrast=1.5, gamma=2.0)
    x = np.arange(4096) / 4095.0
    y = np.clip((x ** (1 / 2.0) - 0.5) * 1.5 + 0.6, 0, 1)
    curve = adjustment_curve(adjustments)
    assert np.abs(curve[:4096].astype(int) - np.rint(y * 255)).max() <= 1
    assert curve[4096] == 255  # alpha


# --------------------------------------------------------------------------------------
# Semantics


def render_cells(name: str, a: np.ndarray, classes: np.ndarray,
                 adjustments: Adjustments | None = None) -> np.ndarray:
    """Table lookup for pixels of given attenuation and class (Zeff: mid-class)."""
    preset = PRESETS.get(name)
    mid = {ORGANIC: 7.0, INORGANIC: 13.0, METAL: 26.0}
    zeff = np.array([mid.get(int(c), np.nan) for c in classes.ravel()], np.float32)
    codes = material_codes(zeff.reshape(classes.shape), classes)
    index = (level_of(a) << np.uint16(CODE_BITS)) | codes
    return table_rgb(lookup_table(preset.function, adjustments or preset.adjustments), index)


def brightness(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(int).sum(axis=-1)


def test_standard_colours_are_what_screeners_see() -> None:
    a = np.full(4, 1.0, np.float32)
    organic, inorganic, metal, dark = render_cells(
        "standard", a, np.array([ORGANIC, INORGANIC, METAL, IMPENETRABLE], np.uint8))
    assert organic[0] > organic[1] > organic[2]  # orange
    assert inorganic[1] > inorganic[0] and inorganic[1] > inorganic[2]  # green
    assert metal[2] > metal[0] and metal[2] > metal[1]  # blue
    assert tuple(dark) == (0, 0, 0)  # impenetrable: black
    # darker means more attenuation, for every class; nothing in the beam is white
    ramp = np.linspace(0.0, 8.0, 400, dtype=np.float32)
    for cls in (BACKGROUND, ORGANIC, INORGANIC, METAL):
        rgb = render_cells("standard", ramp, np.full(ramp.shape, cls, np.uint8))
        assert (np.diff(brightness(rgb)) <= 0).all()
        assert tuple(rgb[0]) == WHITE


def test_organic_only_removes_metal_pixels() -> None:
    a = np.linspace(0.2, 4.5, 300, dtype=np.float32)
    for name, kept in (("organic-only", ORGANIC), ("inorganic-only", INORGANIC),
                       ("metal-only", METAL)):
        for cls in (ORGANIC, INORGANIC, METAL):
            rgb = render_cells(name, a, np.full(a.shape, cls, np.uint8))
            standard = render_cells("standard", a, np.full(a.shape, cls, np.uint8))
            if cls == kept:
                assert np.array_equal(rgb, standard)
            else:
                assert (rgb == 255).all(), (name, cls)  # removed: painted as background
    # impenetrable stays black: something there still hides what lies behind it
    assert (render_cells("organic-only", a, np.full(a.shape, IMPENETRABLE, np.uint8)) == 0).all()


@pytest.mark.parametrize("name", NAMES)
def test_inverse_is_its_own_inverse(name: str) -> None:
    a = np.linspace(0.0, 9.0, 500, dtype=np.float32)
    classes = np.resize(np.array([0, 1, 2, 3, 4], np.uint8), a.shape)
    preset = PRESETS.get(name)
    plain = dataclasses.replace(preset.adjustments, invert=False)
    inverted = dataclasses.replace(preset.adjustments, invert=True)
    image = render_cells(name, a, classes, plain)
    assert np.array_equal(render_cells(name, a, classes, inverted), invert(image))
    assert np.array_equal(invert(invert(image)), image)
    rgba = np.concatenate([image, np.full((*image.shape[:-1], 1), 7, np.uint8)], axis=-1)
    assert (invert(rgba)[..., 3] == 7).all()  # alpha untouched


def test_inverse_preset_is_the_negative_of_greyscale() -> None:
    a = np.linspace(0.0, 9.0, 500, dtype=np.float32)
    classes = np.full(a.shape, ORGANIC, np.uint8)
    grey = render_cells("greyscale", a, classes)
    assert (grey[:, 0] == grey[:, 1]).all() and (grey[:, 1] == grey[:, 2]).all()
    assert np.array_equal(render_cells("inverse", a, classes), 255 - grey)


def test_variable_density_is_monotonic_in_its_window() -> None:
    a = np.linspace(0.0, 8.0, 801, dtype=np.float32)
    for colour in ("grey", "auto"):
        function = make_function("variable-density", {"colour": colour})
        for cls in (BACKGROUND, ORGANIC, INORGANIC, METAL):
            classes = np.full(a.shape, cls, np.uint8)
            zeff = np.full(a.shape, {1: 7.0, 2: 13.0, 3: 26.0}.get(cls, np.nan), np.float32)
            previous = None
            for lo in np.arange(0.0, 5.0, 0.25):
                window = Adjustments(window=(float(lo), float(lo) + 2.0))
                rgb = colour_formula(function, a, classes, zeff, window)
                level = brightness(rgb)
                assert (np.diff(level) <= 0).all()  # darker with attenuation
                assert (level[a < lo] == 765).all()  # thinner than the window: white
                if colour == "grey" or cls == BACKGROUND:
                    assert (level[a > lo + 2.0] == 0).all()  # denser: black
                if previous is not None:
                    assert (level >= previous).all()  # sliding up lightens every pixel
                previous = level
    with pytest.raises(ValueError, match="window"):
        Adjustments(window=(3.0, 1.0))


def test_high_penetration_shows_dense_regions_lighter() -> None:
    a = np.array([0.2, 3.0, 5.0], np.float32)
    classes = np.full(a.shape, METAL, np.uint8)
    standard = brightness(render_cells("standard", a, classes))
    high = brightness(render_cells("high-penetration", a, classes))
    assert (high[1:] > standard[1:] + 60).all()


def test_zeff_colour_moves_from_orange_to_blue() -> None:
    function = PRESETS.get("zeff-colour").function
    zeff = np.array([6.0, 13.0, 25.0], np.float32)
    classes = np.array([ORGANIC, INORGANIC, METAL], np.uint8)
    rgb = colour_formula(function, np.full(3, 1.2, np.float32), classes, zeff, Adjustments())
    assert rgb[0, 0] > rgb[0, 2] and rgb[1, 1] > rgb[1, 0] and rgb[2, 2] > rgb[2, 0]
    unknown = colour_formula(function, np.full(3, 1.2, np.float32), classes,
                             np.full(3, np.nan, np.float32), Adjustments())
    standard = colour_formula(PRESETS.get("standard").function, np.full(3, 1.2, np.float32),
                              classes, zeff, Adjustments())
    assert np.array_equal(unknown, standard)  # no Zeff: the class colour


def test_unknown_material_is_grey() -> None:
    for name in ("high-penetration", "super-enhancement", "variable-density"):
        function = PRESETS.get(name).function
        assert function.colouring is Colouring.AUTO
        rgb = colour_formula(function, np.linspace(0, 1, 50), np.full(50, 255, np.uint8),
                             np.full(50, np.nan, np.float32), Adjustments())
        assert (rgb[:, 0] == rgb[:, 1]).all() and (rgb[:, 1] == rgb[:, 2]).all()


def test_lightness_formulas() -> None:
    a = np.array([0.0, 1.0, 2.0, 4.0], np.float32)
    standard = make_function("standard", {"density_scale": 2.0})
    assert np.allclose(lightness(standard, a, Adjustments()), np.exp(-a / 2.0))
    window = make_function("variable-density")
    assert np.allclose(lightness(window, a, Adjustments(window=(1.0, 3.0))), [1, 1, 0.5, 0])


def test_edge_enhance_is_an_unsharp_mask() -> None:
    import cv2

    rng = np.random.default_rng(2)
    level8 = cv2.GaussianBlur(rng.integers(0, 256, (64, 80), dtype=np.uint8), (0, 0), 3)
    level8[20:40, 30:50] += 40
    out = edge_enhance(level8, 1.5, 2.0)
    blurred = cv2.GaussianBlur(level8.astype(np.float32), (9, 9), 2.0,
                               borderType=cv2.BORDER_REPLICATE)
    expected = np.clip(level8 + 1.5 * (level8 - blurred), 0, 255)
    # 8-bit arithmetic: the fixed-point blur rounds (about 0.5, times the amount), the sum rounds
    assert np.abs(out.astype(float) - expected).max() <= 1.5


# --------------------------------------------------------------------------------------
# Presets are data


def test_shipped_presets_cover_every_function_of_the_issue() -> None:
    bases = {p.function.base for p in PRESETS.presets}
    assert bases == {"standard", "greyscale", "material-only", "high-penetration",
                     "super-enhancement", "edge-enhancement", "variable-density",
                     "zeff-colour"}
    assert {"inverse", "organic-only", "inorganic-only", "metal-only"} <= set(NAMES)
    assert PRESETS.get("inverse").adjustments.invert
    assert len({p.shortcut for p in PRESETS.presets}) == len(NAMES)
    assert all(p.label and p.description for p in PRESETS.presets)
    with pytest.raises(UnknownFunctionError, match="standard"):
        PRESETS.get("x-ray-vision")


def shipped_json() -> dict[str, Any]:
    from importlib import resources

    text = (resources.files("screener.imaging") / "presets.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


def mutate(path: str, value: Any) -> dict[str, Any]:
    data = shipped_json()
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = data
    for key in keys[:-1]:
        node = node[key]
    if value is KeyError:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return data


@pytest.mark.parametrize(("path", "value", "field", "problem"), [
    ("format", "something-else", "format", "expected"),
    ("format_version", 2, "format_version", "newer"),
    ("format_version", "1", "format_version", "integer"),
    ("presets", [], "presets", "non-empty"),
    ("presets.3.function", "x-ray-vision", "presets[3].function", "unknown base function"),
    ("presets.3.params", {"show": "plutonium"}, "presets[3].params.show", "one or more"),
    ("presets.3.params", {}, "presets[3].params.show", "needs the classes"),
    ("presets.8.params.amount", -1, "presets[8].params.amount", "(0, 20]"),
    ("presets.8.params.radius", 2, "presets[8].params.radius", "not a parameter"),
    ("presets.1.name", "Grey Scale", "presets[1].name", "lower-case"),
    ("presets.1.name", "standard", "presets[1].name", "already used by presets[0]"),
    ("presets.1.shortcut", "f1", "presets[1].shortcut", "already used by presets[0]"),
    ("presets.1.label", "", "presets[1].label", "non-empty"),
    ("presets.1.colour", "red", "presets[1].colour", "unknown field"),
    ("presets.2.adjustments.invert", "yes", "presets[2].adjustments.invert", "true or false"),
    ("presets.2.adjustments.gamma", 0, "presets[2].adjustments.gamma", "[0.05, 20]"),
    ("presets.2.adjustments.hue", 3, "presets[2].adjustments.hue", "unknown adjustment"),
    ("presets.9.params.default_window", [3, 1], "presets[9].params.default_window", "lo < hi"),
    ("palette.organic", [300, 0, 0], "palette.organic", "0-255"),
    ("palette.pivot", 1.5, "palette.pivot", "between 0 and 1"),
    ("palette.zeff_stops", [[9, [0, 0, 0]], [6, [1, 1, 1]]], "palette.zeff_stops", "increase"),
])  # fmt: skip
def test_a_bad_preset_file_names_the_file_and_the_field(
    tmp_path: Path, path: str, value: Any, field: str, problem: str
) -> None:
    bad = tmp_path / "site-presets.json"
    bad.write_text(json.dumps(mutate(path, value)))
    with pytest.raises(PresetFileError) as caught:
        load_presets(bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}: {field}: "), message
    assert problem in message
    assert caught.value.field == field


def test_preset_file_errors_for_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(PresetFileError, match="cannot be read"):
        load_presets(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": ')
    with pytest.raises(PresetFileError, match=r"not valid JSON.*line 1"):
        load_presets(broken)
    with pytest.raises(PresetFileError, match="JSON object"):
        parse_presets("[1, 2]", "list.json")


def test_a_site_preset_file_round_trips(tmp_path: Path) -> None:
    data = shipped_json()
    data["palette"]["organic"] = [250, 120, 0]
    data["presets"].append({"name": "dense-metal", "label": "Dense metal",
                            "function": "material-only", "params": {"show": ["metal"],
                            "density_scale": 4.0}, "adjustments": {"gamma": 1.5}})
    path = tmp_path / "site.json"
    path.write_text(json.dumps(data))
    presets = load_presets(path)
    dense = presets.get("dense-metal")
    assert dense.function.palette.organic == (250, 120, 0)
    assert dense.function.density_scale == 4.0 and dense.adjustments.gamma == 1.5
    assert dense.shortcut is None
    assert presets.palette == dense.function.palette != Palette()
