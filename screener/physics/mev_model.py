"""Analytic photon cross sections above xraylib's range (800 keV) up to the linac energies.

xraylib's cross-section tables stop at 800.03 keV ("Spline extrapolation is not allowed"),
but a 6 MV cargo linac emits photons up to 6 MeV. Above the anchor energy ``E0`` (800 keV)
each element's mass attenuation is the sum of four terms, each joined to xraylib at ``E0``
so the total is continuous there:

* **Incoherent (Compton)**: Klein-Nishina per electron times Z. At ``E0`` xraylib's value,
  which includes electron binding, is 0.1-1.1 % lower than Z x KN; that ratio is kept at
  ``E0`` and relaxed as ``E0/E`` because binding matters less as the energy rises.
* **Coherent (Rayleigh)**: xraylib's value at ``E0`` falling as ``E^-2`` (form-factor limit);
  it is below 0.3 % of the total above 1 MeV.
* **Photoelectric**: xraylib's value at ``E0`` continued with the energy dependence of
  Sauter's relativistic K-shell cross section (Heitler, *Quantum Theory of Radiation*,
  eq. 21.18), which goes from about ``E^-2.3`` at 800 keV towards ``E^-1``. A plain power
  law with xraylib's last slope underestimates lead by 8 % at 2-3 MeV.
* **Pair production** in the nuclear field (about Z^2) and in the electron field (triplet,
  about Z): Urban's parametrisation ``sigma = (Z+1) (F1 Z + F2 Z^2 + F3)`` (GEANT3 manual
  PHYS211, used by Geant4's G4BetheHeitlerModel) of the Hubbell, Gimm & Overbo (1980)
  tables, which are Bethe-Heitler with screening and Coulomb corrections. Below its 1.5 MeV
  limit the value at 1.5 MeV is scaled by ``((E - 2mc^2)/(1.5 MeV - 2mc^2))^2``.
  Plain Born-approximation Bethe-Heitler (Maximon's formulas) was tried first: it misses
  the Coulomb enhancement near threshold and left lead 7 % low at 2-3 MeV and 8 % high at
  10 MeV.

Against NIST (Hubbell & Seltzer) between 1 and 10 MeV the totals agree within 0.5 % for
C, water, Al, Fe and Cu and within 2.1 % for W and Pb (tests/test_physics.py and
docs/physics.md hold the figures).

This module is pure numpy; build_tables.py feeds it xraylib's values at ``E0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ELECTRON_MASS_KEV = 510.99895
CLASSICAL_ELECTRON_RADIUS_CM = 2.8179403262e-13
AVOGADRO = 6.02214076e23
BARN_CM2 = 1e-24

FloatArray = NDArray[np.float64]


def klein_nishina_cm2(e_kev: FloatArray) -> FloatArray:
    """Klein-Nishina total cross section per free electron, cm^2."""
    k = np.asarray(e_kev, dtype=np.float64) / ELECTRON_MASS_KEV
    log_term = np.log1p(2.0 * k)
    bracket = (
        (1.0 + k) / k**2 * (2.0 * (1.0 + k) / (1.0 + 2.0 * k) - log_term / k)
        + log_term / (2.0 * k)
        - (1.0 + 3.0 * k) / (1.0 + 2.0 * k) ** 2
    )
    result: FloatArray = 2.0 * np.pi * CLASSICAL_ELECTRON_RADIUS_CM**2 * bracket
    return result


def klein_nishina_energy_transfer_fraction(e_kev: FloatArray, n_angles: int = 4001) -> FloatArray:
    """Mean fraction of the photon energy given to the Compton electron (free electrons).

    Integrates the Klein-Nishina angular distribution numerically (trapezoid in cos theta).
    """
    k = np.asarray(e_kev, dtype=np.float64)[:, None] / ELECTRON_MASS_KEV
    mu = np.linspace(-1.0, 1.0, n_angles)[None, :]
    ratio = 1.0 / (1.0 + k * (1.0 - mu))  # scattered / incident energy
    dsigma = ratio**2 * (ratio + 1.0 / ratio - (1.0 - mu**2))
    total = np.asarray(np.trapezoid(dsigma, mu, axis=1), dtype=np.float64)
    transferred = np.asarray(np.trapezoid(dsigma * (1.0 - ratio), mu, axis=1), dtype=np.float64)
    result: FloatArray = transferred / total
    return result


# Urban's coefficients (microbarn), GEANT3 PHYS211 / Geant4 G4BetheHeitlerModel.
_URBAN_A = (8.7842e2, -1.9625e3, 1.2949e3, -2.0028e2, 1.2575e1, -2.8333e-1)
_URBAN_B = (-1.0342e1, 1.7692e1, -8.2381, 1.3063, -9.0815e-2, 2.3586e-3)
_URBAN_C = (-4.5263e2, 1.1161e3, -8.6749e2, 2.1773e2, -2.0467e1, 6.5372e-1)
_URBAN_LOW_LIMIT_KEV = 1500.0


def pair_production_cm2(z: int, e_kev: FloatArray) -> FloatArray:
    """Pair production per atom (nuclear + electron field), cm^2; zero below 2 mc^2."""
    e = np.asarray(e_kev, dtype=np.float64)
    x = np.log(np.maximum(e, _URBAN_LOW_LIMIT_KEV) / ELECTRON_MASS_KEV)
    powers = np.stack([x**i for i in range(6)])
    f1 = np.asarray(_URBAN_A) @ powers
    f2 = np.asarray(_URBAN_B) @ powers
    f3 = np.asarray(_URBAN_C) @ powers
    sigma = (z + 1.0) * (f1 * z + f2 * z * z + f3) * 1e-6 * BARN_CM2
    threshold = 2.0 * ELECTRON_MASS_KEV
    below = e < _URBAN_LOW_LIMIT_KEV
    scale = ((e - threshold) / (_URBAN_LOW_LIMIT_KEV - threshold)) ** 2
    sigma = np.where(below, sigma * scale, sigma)
    result: FloatArray = np.where(e <= threshold, 0.0, np.maximum(sigma, 0.0))
    return result


def sauter_shape(e_kev: FloatArray) -> FloatArray:
    """Energy dependence of Sauter's K-shell photoelectric cross section (arbitrary scale)."""
    k = np.asarray(e_kev, dtype=np.float64) / ELECTRON_MASS_KEV
    gamma = k + 1.0
    beta_gamma = np.sqrt(gamma**2 - 1.0)
    log_term = np.log((gamma + beta_gamma) / (gamma - beta_gamma))
    result: FloatArray = (
        beta_gamma**3
        / k**5
        * (4.0 / 3.0 + gamma * (gamma - 2.0) / (gamma + 1.0)
           * (1.0 - log_term / (2.0 * gamma * beta_gamma)))
    )  # fmt: skip
    return result


@dataclass(frozen=True)
class Anchor:
    """An element's cross sections (cm^2/g) from xraylib at the anchor energy."""

    z: int
    atomic_weight: float  # g/mol
    energy_kev: float
    photo: float
    compton: float
    rayleigh: float


@dataclass(frozen=True)
class Components:
    """Mass attenuation components, cm^2/g, on an energy grid."""

    photo: FloatArray
    compton: FloatArray
    rayleigh: FloatArray
    pair: FloatArray

    @property
    def total(self) -> FloatArray:
        """Total with coherent scattering, cm^2/g."""
        result: FloatArray = self.photo + self.compton + self.rayleigh + self.pair
        return result


def extend(anchor: Anchor, e_kev: FloatArray) -> Components:
    """Components above the anchor energy, continuous with xraylib at the anchor."""
    e = np.asarray(e_kev, dtype=np.float64)
    if np.any(e < anchor.energy_kev):
        raise ValueError("the MeV model is only used above its anchor energy")
    per_atom_to_mass = AVOGADRO / anchor.atomic_weight
    e0 = np.array([anchor.energy_kev])
    kn_mass = klein_nishina_cm2(e) * anchor.z * per_atom_to_mass
    kn_mass0 = float(klein_nishina_cm2(e0)[0]) * anchor.z * per_atom_to_mass
    binding = anchor.compton / kn_mass0  # slightly below 1
    compton = kn_mass * (1.0 + (binding - 1.0) * anchor.energy_kev / e)
    rayleigh = anchor.rayleigh * (anchor.energy_kev / e) ** 2
    photo = anchor.photo * sauter_shape(e) / float(sauter_shape(e0)[0])
    pair = pair_production_cm2(anchor.z, e) * per_atom_to_mass
    return Components(photo=photo, compton=compton, rayleigh=rayleigh, pair=pair)
