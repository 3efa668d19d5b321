"""The physical make-up of each scanner profile: source, filters, detector layers, noise.

build_tables.py turns these specifications into binned detected spectra (spectra.npz);
profiles.py combines the binned spectra with the run-time settings here (blur, noise) into
:class:`~screener.physics.profiles.ScannerProfile`. The spectra file records a fingerprint
of these specifications, so editing them without regenerating the tables fails loudly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from types import MappingProxyType
from typing import Literal

from screener.physics.elements import formula

#: Detector and filter materials that are not luggage: name -> (composition, density).
DETECTOR_MATERIALS = MappingProxyType({
    "CsI": (formula({"Cs": 1, "I": 1}), 4.51),
    "CdWO4": (formula({"Cd": 1, "W": 1, "O": 4}), 7.90),
    "Al": ({"Al": 1.0}, 2.699),
    "Cu": ({"Cu": 1.0}, 8.96),
    "W": ({"W": 1.0}, 19.30),
    "Fe": ({"Fe": 1.0}, 7.874),
})  # fmt: skip


@dataclass(frozen=True)
class Layer:
    """A slab of a detector material (a key of :data:`DETECTOR_MATERIALS`)."""

    material: str
    thickness_mm: float

    def label(self) -> str:
        return f"{self.thickness_mm:g} mm {self.material}"


@dataclass(frozen=True)
class TubeSource:
    """An X-ray tube; its spectrum comes from spekpy (tungsten anode).

    The exposure fields set the open-beam quantum count: photons per pixel =
    spekpy fluence (per mAs at 1 m) x mAs per line x pixel area / distance^2.
    """

    kvp: float
    anode_angle_deg: float
    filters: tuple[Layer, ...]
    tube_current_ma: float
    line_time_ms: float
    pixel_mm: float
    focus_detector_m: float

    def label(self) -> str:
        filt = " + ".join(f.label() for f in self.filters)
        return f"{self.kvp:g} kV W-anode tube, {filt}"


@dataclass(frozen=True)
class LinacSource:
    """A linear accelerator: thick tungsten target bremsstrahlung (analytic, see build_tables).

    ``filters`` is what the photons cross after they are made: the rest of the target, its
    copper backing, the collimator window.
    """

    endpoint_mev: float
    filters: tuple[Layer, ...]

    def label(self) -> str:
        filt = " + ".join(f.label() for f in self.filters)
        return f"{self.endpoint_mev:g} MV linac, W target, {filt}"


@dataclass(frozen=True)
class ChannelSpec:
    """One energy channel: a source, what lies in front of the scintillator, the scintillator.

    ``open_beam_quanta`` None: derived from the tube exposure and the detected spectrum
    (energy-integrating: N_eff = (sum n E)^2 / sum n E^2, the Swank-type count).
    """

    name: Literal["low", "high"]
    source: TubeSource | LinacSource
    in_front: tuple[Layer, ...]
    scintillator: Layer
    open_beam_quanta: float | None = None

    def label(self) -> str:
        """E.g. "160 kV W-anode tube, 1.5 mm Al + 0.05 mm Cu; 0.3 mm CsI behind 1 mm Al"."""
        behind = f" behind {' + '.join(x.label() for x in self.in_front)}" if self.in_front else ""
        return f"{self.source.label()}; {self.scintillator.label()}{behind}"


@dataclass(frozen=True)
class ProfileSpec:
    """Everything needed to build a scanner profile."""

    name: str
    description: str
    low: ChannelSpec
    high: ChannelSpec
    bin_edges_kev: tuple[float, ...]  # rebinned spectrum edges, shared by both channels
    blur_sigma_px: float
    electronic_noise: float


def _edges(start: float, stop: float, step: float, keep: tuple[float, ...]) -> tuple[float, ...]:
    """Regular edges plus ``keep`` (K-edges), dropping regular edges within step/2 of them."""
    regular = [start + i * step for i in range(round((stop - start) / step) + 1)]
    regular = [e for e in regular if all(abs(e - k) >= step / 2 for k in keep)]
    return tuple(sorted(regular + list(keep)))


def _log_edges(start: float, stop: float, n: int, keep: tuple[float, ...]) -> tuple[float, ...]:
    ratio = (stop / start) ** (1.0 / n)
    regular = [start * ratio**i for i in range(n + 1)]
    regular = [e for e in regular if all(abs(e / k - 1.0) >= (ratio - 1.0) / 2 for k in keep)]
    return tuple(sorted(regular + list(keep)))


TUNGSTEN_K_EDGE_KEV = 69.525
LEAD_K_EDGE_KEV = 88.0045

_CABIN_TUBE = TubeSource(
    kvp=160.0,
    anode_angle_deg=15.0,
    # Inherent (glass/oil/window) plus added filtration, typical of 160 kV security tubes.
    filters=(Layer("Al", 1.5), Layer("Cu", 0.05)),
    tube_current_ma=1.0,
    line_time_ms=4.0,  # 0.2 m/s belt, 0.8 mm pixels
    pixel_mm=0.8,
    focus_detector_m=0.9,
)
_CABIN_COVER = Layer("Al", 1.0)  # detector housing window
_CABIN_FRONT = Layer("CsI", 0.3)

_CARGO_FILTERS = (Layer("W", 1.0), Layer("Cu", 2.0))
_CARGO_SCINT = Layer("CdWO4", 30.0)

PROFILE_SPECS: MappingProxyType[str, ProfileSpec] = MappingProxyType({
    "cabin-160kv-dual-layer": ProfileSpec(
        name="cabin-160kv-dual-layer",
        description=(
            "Cabin-baggage line scanner: 160 kV tungsten tube, dual-layer (sandwich) CsI "
            "detector, 0.8 mm pixels"
        ),
        low=ChannelSpec("low", _CABIN_TUBE, (_CABIN_COVER,), _CABIN_FRONT),
        high=ChannelSpec("high", _CABIN_TUBE, (_CABIN_COVER, _CABIN_FRONT, Layer("Cu", 0.5)),
                         Layer("CsI", 3.0)),
        bin_edges_kev=_edges(10.0, 160.0, 5.0, (TUNGSTEN_K_EDGE_KEV, LEAD_K_EDGE_KEV)),
        blur_sigma_px=0.6,
        electronic_noise=3e-4,
    ),
    "cargo-6mv-dual-energy": ProfileSpec(
        name="cargo-6mv-dual-energy",
        description=(
            "Cargo portal: interlaced 4 MV / 6 MV linac (like the Rapiscan Eagle R60), "
            "30 mm CdWO4 detectors"
        ),
        low=ChannelSpec("low", LinacSource(4.0, _CARGO_FILTERS), (), _CARGO_SCINT,
                        open_beam_quanta=3.0e5),
        high=ChannelSpec("high", LinacSource(6.0, _CARGO_FILTERS), (), _CARGO_SCINT,
                         open_beam_quanta=6.0e5),
        bin_edges_kev=_log_edges(100.0, 6000.0, 36, (4000.0,)),
        blur_sigma_px=0.8,
        electronic_noise=2e-5,
    ),
})  # fmt: skip


def fingerprint(spec: ProfileSpec) -> str:
    """A short hash of what shapes the spectra (not blur or noise), stored beside them."""
    spectral = {
        "low": asdict(spec.low),
        "high": asdict(spec.high),
        "bin_edges_kev": spec.bin_edges_kev,
    }
    text = json.dumps(spectral, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
