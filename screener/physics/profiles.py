"""Scanner profiles: the two detected spectra of a dual-energy scanner, plus blur and noise.

The spectra are built by build_tables.py from :mod:`screener.physics.scanner_specs` and
loaded here from ``data/spectra.npz`` (at import: the file is a few tens of kB).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from screener.errors import SimulationError
from screener.physics.scanner_specs import PROFILE_SPECS, ChannelSpec, ProfileSpec, fingerprint
from screener.physics.tables import REGENERATE_HINT, load_npz


@dataclass(frozen=True)
class ChannelSpectrum:
    """One energy channel as the detector sees it, rebinned to a few dozen energies."""

    name: str  # "low" or "high"
    description: str  # human text stored in scan metadata
    energies_kev: NDArray[np.float64]  # (K,) bin energies
    # (K,) detected-signal weights, sum 1 (energy-integrating detector: fluence x absorbed
    # fraction x deposited energy)
    weights: NDArray[np.float64]
    open_beam_quanta: float  # effective detected quanta per pixel in the open beam

    @property
    def mean_energy_kev(self) -> float:
        """Signal-weighted mean energy."""
        return float(np.sum(self.energies_kev * self.weights))


@dataclass(frozen=True)
class ScannerProfile:
    """A dual-energy scanner: two channels, detector blur and electronic noise."""

    name: str
    description: str
    low: ChannelSpectrum
    high: ChannelSpectrum
    blur_sigma_px: float  # detector point-spread (Gaussian sigma, pixels)
    electronic_noise: float  # additive Gaussian noise sigma, as a fraction of open beam


def _readonly(a: NDArray[np.generic]) -> NDArray[np.float64]:
    out = np.array(a, dtype=np.float64)
    out.setflags(write=False)
    return out


def _channel(data: Mapping[str, NDArray[np.generic]], spec: ProfileSpec,
             channel: ChannelSpec) -> ChannelSpectrum:  # fmt: skip
    p = f"{spec.name}__"
    energies = _readonly(data[p + "energies_kev"])
    weights = _readonly(data[p + f"{channel.name}_weights"])
    keep = weights > 0.0
    return ChannelSpectrum(
        name=channel.name,
        description=channel.label(),
        energies_kev=_readonly(energies[keep]),
        weights=_readonly(weights[keep]),
        open_beam_quanta=float(data[p + f"{channel.name}_quanta"]),
    )


def _load_profiles() -> Mapping[str, ScannerProfile]:
    data = load_npz("spectra.npz")
    profiles: dict[str, ScannerProfile] = {}
    for spec in PROFILE_SPECS.values():
        key = f"{spec.name}__fingerprint"
        if key not in data or str(data[key]) != fingerprint(spec):
            raise SimulationError(
                f"spectra for profile {spec.name!r} are missing or stale; {REGENERATE_HINT}"
            )
        profiles[spec.name] = ScannerProfile(
            name=spec.name,
            description=spec.description,
            low=_channel(data, spec, spec.low),
            high=_channel(data, spec, spec.high),
            blur_sigma_px=spec.blur_sigma_px,
            electronic_noise=spec.electronic_noise,
        )
    return MappingProxyType(profiles)


#: All scanner profiles by name.
PROFILES: Mapping[str, ScannerProfile] = _load_profiles()


def get_profile(name: str) -> ScannerProfile:
    """The profile called ``name``; SimulationError listing valid names if unknown."""
    try:
        return PROFILES[name]
    except KeyError:
        raise SimulationError(
            f"unknown scanner profile {name!r}; valid profiles: {', '.join(PROFILES)}"
        ) from None
