"""Dual-energy calibration: step-wedge lookup from (A_high, A_low) to Zeff and material class."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from screener.errors import ScreenerError
from screener.imaging.calibration import (
    FORMAT_VERSION,
    Calibration,
    CalibrationError,
    CalibrationFileError,
    MaterialClass,
    build_calibration,
    calibration_bytes,
    calibration_header,
    classify,
    classify_direct,
    get_calibration,
    load_calibration,
    save_calibration,
    shipped_profiles,
)
from screener.physics.detector import detect, dual_energy_transmission, log_attenuation
from screener.physics.materials import get_material
from screener.physics.profiles import get_profile

CABIN = "cabin-160kv-dual-layer"
CARGO = "cargo-6mv-dual-energy"
ORG, INO, MET = MaterialClass.ORGANIC, MaterialClass.INORGANIC, MaterialClass.METAL


@pytest.fixture(scope="module")
def fresh() -> dict[str, Calibration]:
    """Calibrations built now from the physics tables (not the shipped files)."""
    return {name: build_calibration(get_profile(name)) for name in (CABIN, CARGO)}


def slab(profile: str, material: str, cm: float, shape: tuple[int, int] = (1, 1)):
    """Noise-free (T_low, T_high) of a uniform slab ``cm`` thick."""
    rho_t = np.full(shape, get_material(material).density * cm, dtype=np.float32)
    return dual_energy_transmission({material: rho_t}, get_profile(profile))


def classify_slab(cal: Calibration, material: str, cm: float) -> tuple[float, int, float]:
    t_low, t_high = slab(cal.profile, material, cm)
    a_high = log_attenuation(t_high)
    zeff, classes = classify(a_high, log_attenuation(t_low), cal)
    return float(zeff[0, 0]), int(classes[0, 0]), float(a_high[0, 0])


# --- reference materials, noise-free --------------------------------------------------

# (material, thicknesses in cm, expected class, Zeff tolerance). Cabin thicknesses span
# A_high 0.1-3.8; cargo ones A_high 1.3-5.9, where MeV dual energy can tell materials apart
# (below A_high ~0.7 the curves lie within the pixel noise: see docs/calibration.md).
REFERENCE_CASES = {
    CABIN: [
        ("polyethylene", (1.0, 3.0, 10.0, 30.0), ORG, 0.3),
        ("pom", (1.0, 3.0, 10.0), ORG, 0.3),
        ("water", (1.0, 3.0, 10.0, 20.0), ORG, 0.3),
        ("aluminium", (0.1, 0.3, 1.0, 3.0), INO, 0.3),
        ("iron", (0.05, 0.1, 0.3), MET, 0.3),
    ],
    CARGO: [
        ("polyethylene", (30.0, 60.0, 100.0), ORG, 2.0),
        ("pom", (25.0, 50.0, 80.0), ORG, 2.0),
        ("water", (30.0, 60.0, 100.0), ORG, 2.0),
        ("aluminium", (10.0, 20.0, 30.0), INO, 3.0),
        ("iron", (3.0, 6.0, 10.0), MET, 3.0),
    ],
}


@pytest.mark.parametrize("profile", [CABIN, CARGO])
def test_reference_materials_classify_to_their_class_and_zeff(fresh, profile):
    cal = fresh[profile]
    ref_z = dict(zip(cal.reference_names, cal.reference_zeff, strict=True))
    for material, thicknesses, expected, tolerance in REFERENCE_CASES[profile]:
        for cm in thicknesses:
            zeff, cls, a_high = classify_slab(cal, material, cm)
            where = f"{material} {cm} cm (A_high {a_high:.2f})"
            assert cls == expected, f"{where}: class {MaterialClass(cls).name}"
            assert abs(zeff - ref_z[material]) <= tolerance, f"{where}: Zeff {zeff:.2f}"


def test_reference_zeff_values_are_the_power_law_ones(fresh):
    z = dict(zip(fresh[CABIN].reference_names, fresh[CABIN].reference_zeff, strict=True))
    assert list(z) == ["polyethylene", "pom", "water", "aluminium", "iron", "lead"]
    assert z["polyethylene"] == pytest.approx(5.44, abs=0.01)
    assert z["water"] == pytest.approx(7.42, abs=0.01)
    assert z["aluminium"] == pytest.approx(13.0) and z["lead"] == pytest.approx(82.0)
    assert z["iron"] == pytest.approx(25.96, abs=0.01)


# --- other materials of the physics table -------------------------------------------

OTHER_CASES = {
    CABIN: [
        ("sugar", 5.0, ORG),
        ("explosive", 3.0, ORG),
        ("cotton", 10.0, ORG),
        ("paper", 3.0, ORG),
        ("glass", 1.0, INO),
        ("salt", 3.0, INO),
        ("silicon", 1.0, INO),
        ("copper", 0.2, MET),
        ("brass", 0.2, MET),
        ("zinc", 0.2, MET),
        ("li_ion", 0.5, MET),
    ],
    CARGO: [
        ("sugar", 60.0, ORG),
        ("explosive", 30.0, ORG),
        ("cotton", 150.0, ORG),
        ("glass", 15.0, INO),
        ("salt", 40.0, INO),
        ("copper", 5.0, MET),
        ("brass", 5.0, MET),
    ],
}


@pytest.mark.parametrize("profile", [CABIN, CARGO])
def test_other_materials_classify_sensibly(fresh, profile):
    for material, cm, expected in OTHER_CASES[profile]:
        zeff, cls, a_high = classify_slab(fresh[profile], material, cm)
        assert cls == expected, (
            f"{material} {cm} cm (A_high {a_high:.2f}): {MaterialClass(cls).name}, Zeff {zeff:.1f}"
        )


def test_cabin_lead_reads_as_a_light_mixture_then_impenetrable(fresh):
    """Documented behaviour: lead's K edge sits in the high channel (docs/calibration.md)."""
    cal = fresh[CABIN]
    for mm in (0.05, 0.1, 0.3):
        zeff, cls, _ = classify_slab(cal, "lead", mm / 10.0)
        assert cls == INO and 10.0 <= zeff < 13.5, f"lead {mm} mm: Zeff {zeff:.1f}"
    zeff, cls, _ = classify_slab(cal, "lead", 0.1)
    assert cls == ORG and 8.0 < zeff < 10.0  # 1 mm: between water and aluminium, nearer water
    for mm in (1.5, 3.0, 10.0):
        assert classify_slab(cal, "lead", mm / 10.0)[1] == MaterialClass.IMPENETRABLE
    assert "lead" in cal.reference_names  # kept for the figure, never an anchor at 160 kV


def test_cargo_lead_is_metal_thin_and_thick(fresh):
    cal = fresh[CARGO]
    for cm in (0.1, 1.0, 5.0, 10.0):  # thin: photoelectric tail; thick: pair production
        zeff, cls, a_high = classify_slab(cal, "lead", cm)
        assert cls == MET, f"lead {cm} cm (A_high {a_high:.2f}): Zeff {zeff:.1f}"


# --- noise ----------------------------------------------------------------------------

NOISY_CASES = {
    CABIN: [
        ("polyethylene", 5.0, ORG),
        ("water", 5.0, ORG),
        ("explosive", 3.0, ORG),
        ("aluminium", 1.0, INO),
        ("glass", 1.0, INO),
        ("iron", 0.2, MET),
        ("copper", 0.2, MET),
    ],
    CARGO: [
        ("polyethylene", 60.0, ORG),
        ("water", 50.0, ORG),
        ("explosive", 30.0, ORG),
        ("aluminium", 20.0, INO),
        ("glass", 15.0, INO),
        ("iron", 5.0, MET),
    ],
}


@pytest.mark.parametrize("profile", [CABIN, CARGO])
def test_uniform_slabs_with_detector_noise(fresh, profile):
    """Single pixels at 160 kV; 3 x 3 means at MeV, whose single-pixel R noise is ~0.4 %."""
    cal, prof = fresh[profile], get_profile(profile)
    rng = np.random.default_rng(20240611)
    for material, cm, expected in NOISY_CASES[profile]:
        t_low, t_high = slab(profile, material, cm, (96, 96))
        a_high = log_attenuation(detect(t_high, prof.high, prof, rng))
        a_low = log_attenuation(detect(t_low, prof.low, prof, rng))
        if profile == CARGO:
            a_high, a_low = cv2.blur(a_high, (3, 3)), cv2.blur(a_low, (3, 3))
        _, classes = classify(a_high, a_low, cal)
        right = float(np.mean(classes == expected))
        assert right > 0.9, f"{material} {cm} cm: {right:.1%} {MaterialClass(expected).name}"


@pytest.mark.parametrize(("profile", "cm"), [(CABIN, 3.0), (CARGO, 40.0)])
def test_very_thick_steel_is_impenetrable(fresh, profile, cm):
    cal, prof = fresh[profile], get_profile(profile)
    assert classify_slab(cal, "iron", cm)[1] == MaterialClass.IMPENETRABLE
    t_low, t_high = slab(profile, "iron", cm, (64, 64))
    rng = np.random.default_rng(1)
    a_high = log_attenuation(detect(t_high, prof.high, prof, rng))
    a_low = log_attenuation(detect(t_low, prof.low, prof, rng))
    zeff, classes = classify(a_high, a_low, cal)
    assert np.all(classes == MaterialClass.IMPENETRABLE)
    assert np.all(np.isnan(zeff))


@pytest.mark.parametrize("profile", [CABIN, CARGO])
def test_air_is_background(fresh, profile):
    cal, prof = fresh[profile], get_profile(profile)
    zeros = np.zeros((64, 64), dtype=np.float32)
    zeff, classes = classify(zeros, zeros, cal)
    assert np.all(classes == MaterialClass.BACKGROUND) and np.all(np.isnan(zeff))
    rng = np.random.default_rng(2)
    ones = np.ones((128, 128), dtype=np.float32)
    a_high = log_attenuation(detect(ones, prof.high, prof, rng))
    a_low = log_attenuation(detect(ones, prof.low, prof, rng))
    _, classes = classify(a_high, a_low, cal)
    assert np.mean(classes == MaterialClass.BACKGROUND) > 0.99  # 3 sigma: 0.13 % expected


# --- the fast table against the direct computation -----------------------------------


def _random_inside(cal: Calibration, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random (A_high, A_low) whose cells lie inside the table (not clamped)."""
    rng = np.random.default_rng(seed)
    h_lo, h_hi = cal.a_high_axis(0.0)[1], cal.a_high_axis(1.0)[-2]
    r_lo, r_hi = cal.ratio_axis(0.0)[0], cal.ratio_axis(1.0)[-1]
    a_high = np.exp(rng.uniform(np.log(h_lo), np.log(h_hi), n)).astype(np.float32)
    ratio = np.exp(rng.uniform(np.log(r_lo), np.log(r_hi), n))
    return a_high, (a_high * ratio).astype(np.float32)


@pytest.mark.parametrize("profile", [CABIN, CARGO])
def test_fast_lookup_matches_direct_computation(fresh, profile):
    cal = fresh[profile]
    a_high, a_low = _random_inside(cal, 20_000, seed=5)
    zeff, classes = classify(a_high, a_low, cal)
    row, col = cal.cell_index(a_high, a_low)
    # The table holds the direct computation at each cell's centre, indexed exactly.
    centre_h = cal.a_high_axis()[row].astype(np.float64)
    centre_r = cal.ratio_axis()[col].astype(np.float64)
    assert np.all(cal.a_high_axis(0.0)[row] <= a_high)
    assert np.all(a_high < cal.a_high_axis(1.0)[row])
    z_centre, c_centre = classify_direct(centre_h, centre_h * centre_r, cal)
    assert np.array_equal(classes, c_centre)
    assert np.array_equal(zeff, z_centre, equal_nan=True)
    # And that is the exact per-pixel value to within the variation across the cell.
    z_exact, c_exact = classify_direct(a_high, a_low, cal)
    corners = []
    for fh in (0.0, 0.999):
        for fr in (0.0, 0.999):
            h = cal.a_high_axis(fh)[row].astype(np.float64)
            corners.append(classify_direct(h, h * cal.ratio_axis(fr)[col], cal))
    z_corner = np.stack([z for z, _ in corners] + [z_centre, z_exact])
    c_corner = np.stack([c for _, c in corners] + [c_centre])
    both = np.isfinite(zeff) & np.isfinite(z_exact)
    finite = np.isfinite(z_corner)
    spread = np.where(finite, z_corner, -np.inf).max(axis=0) - np.where(
        finite, z_corner, np.inf
    ).min(axis=0)
    inside = np.abs(zeff - z_exact) <= spread + 1e-3
    assert np.mean(inside[both]) > 0.995
    assert np.mean(np.abs(zeff - z_exact)[both]) < (0.05 if profile == CABIN else 0.5)
    boundary_cell = np.any(c_corner != c_corner[0], axis=0)
    assert np.all((classes == c_exact) | boundary_cell)
    assert np.mean(classes == c_exact) > 0.97


def test_classify_edge_inputs(fresh):
    cal = fresh[CABIN]
    a_high = np.array([[0.0, -1.0, 1e-9, 50.0, 1.0, 1.0]], dtype=np.float32)
    a_low = np.array([[0.0, 0.0, 0.0, 60.0, -1.0, 100.0]], dtype=np.float32)
    zeff, classes = classify(a_high, a_low, cal)
    assert zeff.dtype == np.float32 and classes.dtype == np.uint8 and zeff.shape == (1, 6)
    assert list(classes[0, :3]) == [MaterialClass.BACKGROUND] * 3  # nothing, negative, tiny
    assert classes[0, 3] == MaterialClass.IMPENETRABLE
    assert classes[0, 4] == ORG  # R below every curve clamps to the lightest reference
    # R = 100 lies off the table (no material comes near): it clamps to the last column,
    # whose class is that of the highest-R reference (iron at 160 kV), whatever A_low says.
    assert classes[0, 5] == MET
    _, c64 = classify(a_high.astype(np.float64), a_low.astype(np.float64), cal)
    assert np.array_equal(c64, classes)
    big = np.full((300, 700), 0.5, dtype=np.float32)  # several blocks
    assert np.all(classify(big, big * 1.2, cal)[1] == ORG)
    with pytest.raises(ValueError, match="same shape"):
        classify(a_high, a_low[:, :3], cal)


def test_thresholds_follow_the_noise_model(fresh):
    cabin, cargo = fresh[CABIN], fresh[CARGO]
    n_high = get_profile(CABIN).high.open_beam_quanta  # about 3600
    # 3 open-beam sigmas of A_high: 3 * sqrt(1/N + e^2), e = 3e-4 for the cabin profile.
    assert cabin.background_a_high == pytest.approx(3.0 * np.sqrt(1 / n_high + 3e-4**2))
    # SNR 5 with no electronic noise would be 25 quanta: A = ln(N / 25); noise lowers it.
    assert np.log(n_high / 27) < cabin.impenetrable_a_high < np.log(n_high / 25)
    assert cargo.impenetrable_a_high > 8.5 and cargo.background_a_high < 0.005
    assert cabin.ratio_steps_per_octave == 128 and cargo.ratio_steps_per_octave == 256


# --- files ------------------------------------------------------------------------------


def test_shipped_files_equal_a_fresh_build(fresh):
    assert set(shipped_profiles()) == {CABIN, CARGO}
    for name, new in fresh.items():
        old = get_calibration(name)
        assert calibration_header(old) == calibration_header(new)
        np.testing.assert_allclose(old.curve_ratio, new.curve_ratio, rtol=1e-6)
        # the log-spaced grid, to a few ulp (numpy's exp and log may round the last bit
        # differently from one release to the next)
        np.testing.assert_allclose(old.curve_a_high, new.curve_a_high, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(old.reference_zeff, new.reference_zeff)
        np.testing.assert_allclose(old.zeff, new.zeff, atol=1e-3, equal_nan=True)
        differ = old.material_class != new.material_class
        # float rounding may only flip a cell whose Zeff sits on a class boundary
        near = np.minimum(np.abs(new.zeff - new.organic_max_zeff), np.abs(new.zeff - 18.0))
        assert np.all(near[differ] < 1e-3), "shipped calibration is stale: regenerate it"
        assert np.count_nonzero(differ) <= 5


def test_sidecar_json_matches_the_npz():
    import hashlib
    from importlib import resources

    folder = resources.files("screener.imaging") / "data"
    for name in (CABIN, CARGO):
        data = (folder / f"calibration-{name}.npz").read_bytes()
        sidecar = json.loads((folder / f"calibration-{name}.json").read_text(encoding="utf-8"))
        assert sidecar["sha256"] == hashlib.sha256(data).hexdigest()
        assert sidecar["header"] == calibration_header(get_calibration(name))
        assert len(data) < 1_000_000


def test_get_calibration_is_cached_and_names_known_profiles():
    assert get_calibration(CABIN) is get_calibration(CABIN)
    with pytest.raises(CalibrationError, match=f"{CABIN}.*{CARGO}|{CARGO}.*{CABIN}") as info:
        get_calibration("airport-9000")
    assert "airport-9000" in str(info.value)
    assert isinstance(info.value, ScreenerError)


def test_save_load_round_trip(fresh, tmp_path):
    for name, cal in fresh.items():
        path = tmp_path / f"{name}.npz"
        save_calibration(cal, path)
        back = load_calibration(path, profile=name)
        assert calibration_header(back) == calibration_header(cal)
        for field in ("zeff", "material_class", "reference_zeff", "curve_a_high", "curve_ratio"):
            a, b = getattr(cal, field), getattr(back, field)
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), field
        assert path.read_bytes() == calibration_bytes(cal)  # same calibration, same bytes
        assert not back.zeff.flags.writeable


def _rewrite(src: Path, dst: Path, changes: dict) -> None:
    """Copy an npz, replacing members (a dict header is JSON-encoded; None removes one)."""
    with np.load(src, allow_pickle=False) as npz:
        members = {key: npz[key] for key in npz.files}
    for key, value in changes.items():
        if value is None:
            members.pop(key)
        elif isinstance(value, dict):
            members[key] = np.array(json.dumps(value))
        else:
            members[key] = value
    np.savez(dst, **members)


def test_bad_files_raise_a_typed_error_naming_file_and_field(fresh, tmp_path):
    good = tmp_path / "good.npz"
    save_calibration(fresh[CABIN], good)
    header = calibration_header(fresh[CABIN])
    zeff = fresh[CABIN].zeff

    def expect(path: Path, field: str, text: str = "", **kwargs) -> None:
        with pytest.raises(CalibrationFileError) as info:
            load_calibration(path, **kwargs)
        err = info.value
        assert err.field == field and str(path) in str(err) and text in str(err), str(err)
        assert isinstance(err, ScreenerError) and "\n" not in str(err)

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip at all")
    expect(garbage, "file", "not a calibration npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[:5000])
    expect(truncated, "file")
    expect(tmp_path / "missing.npz", "file", "cannot be read")

    cases = {
        "newer": ({"header": {**header, "format_version": FORMAT_VERSION + 1}},
                  "format_version", "newer Screener"),
        "older": ({"header": {**header, "format_version": 0}}, "format_version", ""),
        "format": ({"header": {**header, "format": "something-else"}}, "format", ""),
        "no_header": ({"header": None}, "header", "missing"),
        "bad_shift": ({"header": {**header, "ratio_index_shift": 40}}, "ratio_index_shift", ""),
        "bad_threshold": ({"header": {**header, "background_a_high": -1.0}},
                          "background_a_high", ""),
        "dtype": ({"zeff": zeff.astype(np.float64)}, "zeff", "float64"),
        "shape": ({"material_class": fresh[CABIN].material_class[:-1]}, "material_class",
                  "shape"),
        "class_value": ({"material_class": np.full_like(fresh[CABIN].material_class, 9)},
                        "material_class", "9"),
        "missing_array": ({"curve_ratio": None}, "curve_ratio", "missing"),
    }  # fmt: skip
    for label, (change, field, text) in cases.items():
        path = tmp_path / f"{label}.npz"
        _rewrite(good, path, change)
        expect(path, field, text)
    expect(good, "profile", CARGO, profile=CARGO)


def test_npz_members_are_plain_arrays(fresh):
    """The file is an ordinary npz: any numpy reads it without pickle."""
    with zipfile.ZipFile(io.BytesIO(calibration_bytes(fresh[CARGO]))) as archive:
        names = sorted(archive.namelist())
    assert names == sorted(
        f"{k}.npy"
        for k in ("header", "zeff", "material_class", "reference_zeff", "curve_a_high",
                  "curve_ratio")
    )  # fmt: skip
