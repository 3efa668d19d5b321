"""Atomic weights and helpers that turn chemical formulas and mixtures into mass fractions.

Run-time code needs element compositions as mass fractions but must not depend on xraylib,
so the few standard atomic weights the material library uses live here (IUPAC 2013
conventional values, as tabulated in the CRC Handbook).
"""

from __future__ import annotations

from collections.abc import Mapping

#: Standard atomic weights (g/mol) of the elements the materials and detectors use.
ATOMIC_WEIGHT: Mapping[str, float] = {
    "H": 1.008,
    "Li": 6.94,
    "B": 10.81,
    "C": 12.011,
    "N": 14.007,
    "O": 15.999,
    "F": 18.998,
    "Na": 22.990,
    "Mg": 24.305,
    "Al": 26.982,
    "Si": 28.085,
    "P": 30.974,
    "S": 32.06,
    "Cl": 35.45,
    "K": 39.098,
    "Ca": 40.078,
    "Cr": 51.996,
    "Mn": 54.938,
    "Fe": 55.845,
    "Co": 58.933,
    "Ni": 58.693,
    "Cu": 63.546,
    "Zn": 65.38,
    "Br": 79.904,
    "Y": 88.906,
    "Zr": 91.224,
    "Cd": 112.414,
    "I": 126.904,
    "Cs": 132.905,
    "Gd": 157.25,
    "Hf": 178.49,
    "W": 183.84,
    "Pb": 207.2,
}

#: Atomic numbers for the same elements.
ATOMIC_NUMBER: Mapping[str, int] = {
    "H": 1, "Li": 3, "B": 5, "C": 6, "N": 7, "O": 8, "F": 9, "Na": 11, "Mg": 12, "Al": 13,
    "Si": 14, "P": 15, "S": 16, "Cl": 17, "K": 19, "Ca": 20, "Cr": 24, "Mn": 25, "Fe": 26,
    "Co": 27, "Ni": 28, "Cu": 29, "Zn": 30, "Br": 35, "Y": 39, "Zr": 40, "Cd": 48, "I": 53,
    "Cs": 55, "Gd": 64, "Hf": 72, "W": 74, "Pb": 82,
}  # fmt: skip


def formula(atoms: Mapping[str, float]) -> dict[str, float]:
    """Mass fractions of a compound given atoms per formula unit, e.g. ``{"H": 2, "O": 1}``."""
    masses = {el: n * ATOMIC_WEIGHT[el] for el, n in atoms.items()}
    total = sum(masses.values())
    return {el: m / total for el, m in masses.items()}


def mix(parts: Mapping[str, float] | list[tuple[Mapping[str, float], float]]) -> dict[str, float]:
    """Mass fractions of a mixture.

    ``parts`` is either element -> mass fraction (normalised here) or a list of
    (composition, mass fraction of that component) pairs, whose fractions are normalised.
    """
    out: dict[str, float] = {}
    items: list[tuple[Mapping[str, float], float]] = (
        [({el: 1.0}, w) for el, w in parts.items()] if isinstance(parts, Mapping) else parts
    )
    total = sum(w for _, w in items)
    for comp, w in items:
        for el, f in comp.items():
            out[el] = out.get(el, 0.0) + f * w / total
    return dict(sorted(out.items(), key=lambda kv: ATOMIC_NUMBER[kv[0]]))


def effective_z(composition: Mapping[str, float], exponent: float = 2.94) -> float:
    """Power-law effective atomic number (Spiers/Murty), for documentation and sanity checks.

    ``Zeff = (sum_i f_i Z_i^p)^(1/p)`` with ``f_i`` the electron fraction of element ``i``.
    """
    electrons = {el: w * ATOMIC_NUMBER[el] / ATOMIC_WEIGHT[el] for el, w in composition.items()}
    total = sum(electrons.values())
    s = sum(e / total * ATOMIC_NUMBER[el] ** exponent for el, e in electrons.items())
    return float(s ** (1.0 / exponent))
