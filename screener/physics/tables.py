"""Load the precomputed mass-attenuation table (made by build_tables.py, shipped as npz)."""

from __future__ import annotations

import functools
import io
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from screener.errors import SimulationError
from screener.physics.materials import MATERIALS

REGENERATE_HINT = "regenerate them with: python -m screener.physics.build_tables"


def read_data_file(name: str) -> bytes:
    """Bytes of a file in ``screener/physics/data``; SimulationError if it is missing."""
    resource = resources.files("screener.physics") / "data" / name
    try:
        return resource.read_bytes()
    except (FileNotFoundError, OSError) as exc:
        raise SimulationError(f"physics table {name} is missing; {REGENERATE_HINT}") from exc


def load_npz(name: str) -> dict[str, NDArray[np.generic]]:
    """All arrays of an npz file in the data folder, read eagerly."""
    with np.load(io.BytesIO(read_data_file(name)), allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@dataclass(frozen=True)
class AttenuationTable:
    """Mass attenuation coefficients (total with coherent scattering) of every material."""

    energies_kev: NDArray[np.float64]  # (E,), increasing
    materials: tuple[str, ...]
    mass_attenuation: NDArray[np.float64]  # (M, E) cm^2/g

    def index(self, material: str) -> int:
        """Row of ``material``; SimulationError listing the valid names if unknown."""
        try:
            return self.materials.index(material)
        except ValueError:
            raise SimulationError(
                f"unknown material {material!r}; valid materials: {', '.join(self.materials)}"
            ) from None

    def mu_rho(self, material: str, energies_kev: NDArray[np.float64]) -> NDArray[np.float64]:
        """mu/rho (cm^2/g) at ``energies_kev``, interpolated linearly in log-log.

        Energies must lie within the table (10 keV to 6.5 MeV). The table holds points a
        millionth below and above each absorption edge, so edges stay sharp.
        """
        e = np.asarray(energies_kev, dtype=np.float64)
        lo, hi = self.energies_kev[0], self.energies_kev[-1]
        if e.size and (np.min(e) < lo or np.max(e) > hi):
            raise SimulationError(
                f"energies {np.min(e):g}-{np.max(e):g} keV lie outside the attenuation "
                f"table ({lo:g}-{hi:g} keV)"
            )
        row = self.mass_attenuation[self.index(material)]
        result: NDArray[np.float64] = np.exp(
            np.interp(np.log(e), np.log(self.energies_kev), np.log(row))
        )
        return result


@functools.cache
def load_attenuation() -> AttenuationTable:
    """The shipped attenuation table; SimulationError if it is missing or stale."""
    data = load_npz("attenuation.npz")
    materials = tuple(str(m) for m in data["materials"])
    built = json.loads(str(data["compositions_json"]))
    current = {
        name: {el: round(f, 10) for el, f in m.composition.items()} for name, m in MATERIALS.items()
    }
    if built != current:
        changed = sorted(set(built) ^ set(current) | {
            n for n in set(built) & set(current) if built[n] != current[n]
        })  # fmt: skip
        raise SimulationError(
            f"attenuation table is stale (materials changed: {', '.join(changed)}); "
            f"{REGENERATE_HINT}"
        )
    energies = np.asarray(data["energies_kev"], dtype=np.float64)
    table = np.asarray(data["mass_attenuation"], dtype=np.float64)
    energies.setflags(write=False)
    table.setflags(write=False)
    return AttenuationTable(energies_kev=energies, materials=materials, mass_attenuation=table)
