"""Physics layer: materials, attenuation tables, scanner profiles, detector model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from screener.errors import SimulationError
from screener.physics.detector import (
    MIN_TRANSMISSION,
    detect,
    dual_energy_transmission,
    log_attenuation,
)
from screener.physics.elements import effective_z
from screener.physics.materials import MATERIALS, get_material
from screener.physics.profiles import PROFILES, ChannelSpectrum, ScannerProfile, get_profile
from screener.physics.tables import load_attenuation, load_npz

CABIN = "cabin-160kv-dual-layer"
CARGO = "cargo-6mv-dual-energy"

REQUIRED_MATERIALS = [
    "cotton",
    "leather",
    "rubber",
    "polyethylene",
    "pom",
    "abs",
    "polycarbonate",
    "nylon",
    "paper",
    "wood",
    "water",
    "sugar",
    "explosive",
    "glass",
    "salt",
    "fr4",
    "silicon",
    "ceramic",
    "aluminium",
    "iron",
    "brass",
    "copper",
    "zinc",
    "lead",
    "tungsten",
    "li_ion",
    "skin_care",
    "zirconia",
]

# NIST (Hubbell & Seltzer, NISTIR 5632) mass attenuation with coherent scattering, cm^2/g.
# (Lead at 6 MeV is 0.04391 there; 0.0445 sometimes quoted is about 1.3 % higher.)
NIST_MEV = {
    "water": {1000: 0.07072, 2000: 0.04942, 4000: 0.03403, 6000: 0.02770},
    "aluminium": {1000: 0.06146, 2000: 0.04324, 4000: 0.03106, 6000: 0.02655},
    "iron": {1000: 0.05995, 2000: 0.04265, 4000: 0.03312, 6000: 0.03057},
    "copper": {1000: 0.05901, 2000: 0.04205, 4000: 0.03318, 6000: 0.03108},
    "tungsten": {1000: 0.06618, 2000: 0.04433, 4000: 0.04038, 6000: 0.04210},
    "lead": {1000: 0.07102, 2000: 0.04606, 4000: 0.04197, 6000: 0.04391},
}


def _mono_profile(energy_kev: float) -> ScannerProfile:
    channels = [
        ChannelSpectrum(name, "test", np.array([energy_kev]), np.array([1.0]), 1e4)
        for name in ("low", "high")
    ]
    return ScannerProfile("mono", "test", channels[0], channels[1], 0.0, 0.0)


def _attenuation(profile: ScannerProfile, maps: dict[str, float]) -> tuple[float, float]:
    arrays = {m: np.full((1, 1), v, dtype=np.float32) for m, v in maps.items()}
    t_low, t_high = dual_energy_transmission(arrays, profile)
    return float(log_attenuation(t_low)[0, 0]), float(log_attenuation(t_high)[0, 0])


def _ratio_at_a_high(profile: ScannerProfile, material: str, a_high: float) -> float:
    """A_low / A_high of ``material`` at the mass thickness where A_high equals ``a_high``."""
    rho_t = np.geomspace(1e-3, 500.0, 3000).astype(np.float32)[None, :]
    t_low, t_high = dual_energy_transmission({material: rho_t}, profile)
    a_low = -np.log(np.maximum(t_low[0].astype(np.float64), 1e-30))
    a_hi = -np.log(np.maximum(t_high[0].astype(np.float64), 1e-30))
    assert a_hi[0] < a_high < a_hi[-1]
    return float(np.interp(a_high, a_hi, a_low)) / a_high


# --- materials ----------------------------------------------------------------------------


def test_material_library_holds_the_names_the_simulator_uses() -> None:
    assert set(REQUIRED_MATERIALS) <= set(MATERIALS)
    assert "air" not in MATERIALS
    for name, material in MATERIALS.items():
        assert material.name == name
        assert sum(material.composition.values()) == pytest.approx(1.0, abs=1e-9)
        assert material.density > 0
    assert get_material("cotton").density == pytest.approx(0.4, abs=0.05)
    assert get_material("paper").density == pytest.approx(0.8, abs=0.05)
    assert get_material("explosive").density == pytest.approx(1.7, abs=0.05)
    assert get_material("li_ion").density == pytest.approx(2.5, abs=0.1)


def test_effective_atomic_numbers_fall_in_the_screening_colour_classes() -> None:
    for organic in ("cotton", "polyethylene", "water", "sugar", "explosive", "nylon", "paper"):
        assert effective_z(get_material(organic).composition) < 10
    for inorganic in ("aluminium", "glass", "salt", "silicon"):
        assert 10 < effective_z(get_material(inorganic).composition) < 18
    for metal in ("iron", "copper", "brass", "lead", "tungsten", "zirconia"):
        assert effective_z(get_material(metal).composition) > 18


def test_unknown_names_raise_simulation_error_listing_the_valid_ones() -> None:
    with pytest.raises(SimulationError, match="unobtainium") as err:
        get_material("unobtainium")
    assert "water" in str(err.value) and "tungsten" in str(err.value)
    with pytest.raises(SimulationError) as err:
        get_profile("airport-9000")
    assert CABIN in str(err.value) and CARGO in str(err.value)
    with pytest.raises(SimulationError, match="valid materials"):
        load_attenuation().mu_rho("unobtainium", np.array([60.0]))
    with pytest.raises(SimulationError, match="unobtainium"):
        dual_energy_transmission({"unobtainium": np.ones((2, 2), np.float32)}, PROFILES[CABIN])


# --- attenuation tables ------------------------------------------------------------------


def test_tables_agree_with_xraylib_below_800_kev() -> None:
    xraylib = pytest.importorskip("xraylib", reason="xraylib (dev extra) is not installed")
    table = load_attenuation()
    energies = np.array([15.0, 30.0, 61.3, 87.5, 88.5, 100.0, 151.7, 345.0, 500.0, 790.0])
    for name in ("polyethylene", "water", "aluminium", "iron", "lead", "tungsten", "li_ion"):
        composition = get_material(name).composition
        expected = [
            sum(
                f * xraylib.CS_Total(xraylib.SymbolToAtomicNumber(el), float(e))
                for el, f in composition.items()
            )
            for e in energies
        ]
        np.testing.assert_allclose(table.mu_rho(name, energies), expected, rtol=3e-3)


@pytest.mark.parametrize("material", sorted(NIST_MEV))
def test_mev_extension_matches_nist(material: str) -> None:
    table = load_attenuation()
    reference = NIST_MEV[material]
    energies = np.array(sorted(reference), dtype=np.float64)
    got = table.mu_rho(material, energies)
    want = np.array([reference[e] for e in sorted(reference)])
    tolerance = 0.025 if material in ("lead", "tungsten") else 0.01  # docs/physics.md
    np.testing.assert_allclose(got, want, rtol=tolerance)


def test_mev_extension_joins_xraylib_continuously_at_800_kev() -> None:
    table = load_attenuation()
    for material in ("water", "iron", "lead"):
        below, at, above = table.mu_rho(material, np.array([790.0, 800.0, 810.0]))
        assert above < at < below
        # the step across 800 keV continues the step below it (no jump, no kink > 0.3 %)
        assert (above / at) / (at / below) == pytest.approx(1.0, abs=3e-3)


def test_table_rejects_energies_outside_its_range() -> None:
    with pytest.raises(SimulationError, match="outside"):
        load_attenuation().mu_rho("water", np.array([5.0]))


# --- spectra ---------------------------------------------------------------------------


def test_profiles_have_normalised_spectra_with_the_expected_mean_energies() -> None:
    for profile in PROFILES.values():
        for channel in (profile.low, profile.high):
            assert channel.weights.sum() == pytest.approx(1.0, abs=1e-9)
            assert np.all(channel.weights > 0)
            assert channel.open_beam_quanta > 100
            assert channel.description
        assert profile.low.mean_energy_kev < profile.high.mean_energy_kev
    cabin = PROFILES[CABIN]
    assert 55 < cabin.low.mean_energy_kev < 70
    assert 85 < cabin.high.mean_energy_kev < 100
    assert cabin.low.energies_kev.max() < 160
    cargo = PROFILES[CARGO]
    assert cargo.low.energies_kev.max() < 4000 < cargo.high.energies_kev.max() < 6000


def test_binned_spectrum_reproduces_the_fine_one_across_the_lead_k_edge() -> None:
    table = load_attenuation()
    data = load_npz("spectra.npz")
    fine_e = data[f"{CABIN}__fine_energies_kev"]
    for channel in ("low", "high"):
        fine_w = data[f"{CABIN}__fine_{channel}"]
        for material, rho_t in (("lead", 0.3), ("tungsten", 0.3), ("iron", 3.0)):
            mu = table.mu_rho(material, fine_e)
            a_fine = -np.log(np.sum(fine_w * np.exp(-mu * rho_t)))
            a_low, a_high = _attenuation(PROFILES[CABIN], {material: rho_t})
            a_binned = a_low if channel == "low" else a_high
            assert a_binned == pytest.approx(a_fine, rel=0.01)


# --- transmission ------------------------------------------------------------------------


def test_cabin_ratio_rises_with_atomic_number_at_equal_attenuation() -> None:
    """R = A_low/A_high at matched A_high (how dual energy is calibrated)."""
    profile = PROFILES[CABIN]
    for a_high in (0.5, 1.0, 2.0):
        ratios = [
            _ratio_at_a_high(profile, m, a_high)
            for m in ("polyethylene", "water", "aluminium", "iron", "copper")
        ]
        assert all(a < b for a, b in itertools.pairwise(ratios)), ratios
        # Lead's K edge (88 keV) lies inside the high channel, which raises A_high: lead's
        # R sits between water and iron, not above copper (real physics of 160 kV systems).
        lead = _ratio_at_a_high(profile, "lead", a_high)
        assert ratios[1] < lead < ratios[3]


def test_cabin_ratio_ordered_at_equal_small_mass_thickness() -> None:
    profile = PROFILES[CABIN]
    ratios = []
    for m in ("polyethylene", "water", "aluminium", "iron", "copper"):
        a_low, a_high = _attenuation(profile, {m: 0.01})
        ratios.append(a_low / a_high)
    assert all(a < b for a, b in itertools.pairwise(ratios)), ratios


def test_a_zirconia_blade_shows_like_steel_not_like_alumina() -> None:
    """Ceramic knives are zirconia (Zr, Z 40, K edge 18 keV, 6 g/cm^3): a 2.5 mm blade
    attenuates the low channel more than a 2.5 mm steel blade does and about ten times as
    much as 2.5 mm of alumina (2.59, 1.81 and 0.26), and its dual-energy ratio at matched
    A_high is a metal's."""
    profile = PROFILES[CABIN]

    def low_attenuation_of_blade(material: str, thickness_cm: float = 0.25) -> float:
        mass_thickness = thickness_cm * get_material(material).density  # g/cm^2
        return _attenuation(profile, {material: mass_thickness})[0]

    zirconia_low = low_attenuation_of_blade("zirconia")
    assert zirconia_low > 1.3 * low_attenuation_of_blade("iron")
    assert zirconia_low > 8 * low_attenuation_of_blade("ceramic")
    for a_high in (0.5, 1.0, 2.0):
        zirconia = _ratio_at_a_high(profile, "zirconia", a_high)
        assert zirconia > _ratio_at_a_high(profile, "iron", a_high)
        assert zirconia > _ratio_at_a_high(profile, "aluminium", a_high) + 0.3


def test_cargo_ratio_falls_with_atomic_number_where_pair_production_dominates() -> None:
    """At MeV energies mu rises with energy for heavy elements (pair production), so R
    falls with Z; thin lead still shows the photoelectric effect of the spectrum's tail."""
    profile = PROFILES[CARGO]
    for a_high in (1.0, 2.0, 4.0):
        ratios = [
            _ratio_at_a_high(profile, m, a_high)
            for m in ("polyethylene", "water", "aluminium", "iron")
        ]
        assert all(a > b for a, b in itertools.pairwise(ratios)), ratios
    iron = _ratio_at_a_high(profile, "iron", 4.0)
    assert _ratio_at_a_high(profile, "lead", 4.0) < iron - 0.02
    assert _ratio_at_a_high(profile, "lead", 0.1) > _ratio_at_a_high(profile, "iron", 0.1)
    assert all(_ratio_at_a_high(profile, m, 2.0) > 1.0 for m in ("water", "iron", "lead"))


@pytest.mark.parametrize("energy_kev", [30.0, 100.0, 4000.0])
def test_monochromatic_attenuation_is_linear_in_thickness(energy_kev: float) -> None:
    profile = _mono_profile(energy_kev)
    for material in ("water", "iron"):
        a1, _ = _attenuation(profile, {material: 1.5})
        a2, _ = _attenuation(profile, {material: 3.0})
        assert a2 == pytest.approx(2.0 * a1, rel=1e-5)
        mu = load_attenuation().mu_rho(material, np.array([energy_kev]))[0]
        assert a1 == pytest.approx(mu * 1.5, rel=1e-5)


def test_polychromatic_doubling_gives_less_than_double_beam_hardening() -> None:
    for name, material, rho_t in ((CABIN, "iron", 2.0), (CARGO, "lead", 50.0)):
        a1 = _attenuation(PROFILES[name], {material: rho_t})
        a2 = _attenuation(PROFILES[name], {material: 2 * rho_t})
        for single, double in zip(a1, a2, strict=True):
            assert single < double < 1.97 * single


def test_attenuation_of_stacked_materials_adds_for_a_monochromatic_beam() -> None:
    profile = _mono_profile(60.0)
    a_water, _ = _attenuation(profile, {"water": 5.0})
    a_steel, _ = _attenuation(profile, {"iron": 0.8})
    a_both, _ = _attenuation(profile, {"water": 5.0, "iron": 0.8})
    assert a_both == pytest.approx(a_water + a_steel, rel=1e-5)


def test_transmission_maps_are_pixelwise() -> None:
    profile = PROFILES[CABIN]
    rho_t = np.zeros((3, 5000), dtype=np.float32)
    rho_t[1, :] = 2.0
    rho_t[2, 2500:] = 2.0
    t_low, t_high = dual_energy_transmission({"water": rho_t, "iron": rho_t / 10}, profile)
    assert t_low.shape == t_high.shape == (3, 5000) and t_low.dtype == np.float32
    assert np.all(t_low[0] == 1.0) and np.all(t_low[2, :2500] == 1.0)
    assert np.allclose(t_low[1], t_low[1, 0]) and np.allclose(t_low[2, 2500:], t_low[1, 0])
    assert 0.0 < t_low[1, 0] < t_high[1, 0] < 1.0


def test_transmission_rejects_bad_maps() -> None:
    profile = PROFILES[CABIN]
    with pytest.raises(SimulationError, match="non-negative"):
        dual_energy_transmission({"water": np.full((2, 2), -1.0, np.float32)}, profile)
    with pytest.raises(SimulationError, match="non-negative"):
        dual_energy_transmission({"water": np.full((2, 2), np.nan, np.float32)}, profile)
    with pytest.raises(SimulationError, match="same shape"):
        dual_energy_transmission(
            {"water": np.ones((2, 2), np.float32), "iron": np.ones((2, 3), np.float32)}, profile
        )
    with pytest.raises(SimulationError):
        dual_energy_transmission({}, profile)


# --- detector ------------------------------------------------------------------------------


@pytest.mark.parametrize("expected_quanta", [2000.0, 20.0])
def test_detect_mean_and_variance_follow_quantum_and_electronic_noise(
    expected_quanta: float,
) -> None:
    profile = PROFILES[CABIN]
    channel = profile.low
    n = channel.open_beam_quanta
    t = expected_quanta / n
    image = np.full((400, 500), t, dtype=np.float32)
    out = detect(image, channel, profile, np.random.default_rng(7)).astype(np.float64)
    variance = t / n + profile.electronic_noise**2
    assert out.mean() == pytest.approx(t, abs=5 * np.sqrt(variance / out.size))
    assert out.var() == pytest.approx(variance, rel=0.03)


def test_detect_is_deterministic_per_seed_and_stays_in_range() -> None:
    profile = PROFILES[CARGO]
    channel = profile.high
    image = np.tile(np.geomspace(1e-7, 1.0, 300, dtype=np.float32), (50, 1))
    a = detect(image, channel, profile, np.random.default_rng(1))
    b = detect(image, channel, profile, np.random.default_rng(1))
    c = detect(image, channel, profile, np.random.default_rng(2))
    assert a.dtype == np.float32 and a.shape == image.shape
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() >= np.float32(1.0 / channel.open_beam_quanta) and a.max() <= 1.0


def test_detect_blurs_an_edge() -> None:
    profile = PROFILES[CABIN]
    image = np.ones((64, 64), dtype=np.float32)
    image[:, 32:] = 0.1
    channel = ChannelSpectrum("low", "", profile.low.energies_kev, profile.low.weights, 1e9)
    quiet = ScannerProfile("quiet", "", channel, channel, 1.5, 0.0)
    out = detect(image, channel, quiet, np.random.default_rng(0))
    row = out.mean(axis=0)
    assert 0.1 < row[32] < row[31] < 1.0
    assert row[0] == pytest.approx(1.0, abs=1e-3) and row[-1] == pytest.approx(0.1, abs=1e-3)


def test_log_attenuation_floors_zero_transmission() -> None:
    a = log_attenuation(np.array([[1.0, 0.5, 0.0]], dtype=np.float32))
    assert a.dtype == np.float32
    np.testing.assert_allclose(a[0], [0.0, np.log(2.0), -np.log(MIN_TRANSMISSION)], rtol=1e-6)


def test_stale_attenuation_table_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import screener.physics.tables as tables

    changed = dict(MATERIALS)
    water = get_material("water")
    changed["water"] = type(water)("water", "heavy water?", 1.1, {"H": 0.2, "O": 0.8})
    monkeypatch.setattr(tables, "MATERIALS", changed)
    with pytest.raises(SimulationError, match=r"stale.*water.*build_tables"):
        tables.load_attenuation.__wrapped__()
