"""Turn a packed 3D scene into a dual-energy Scan with ground truth.

One seed fixes everything: the bag, its contents, their poses and the detector noise, so
the same seed gives the same pixels and labels on any machine. Scene, noise and threats
draw from separate streams of one ``SeedSequence``: changing the noise model does not move
the objects, and the same seed gives the same benign bag or load with and without threats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from screener import __version__
from screener.errors import SimulationError
from screener.physics.detector import detect, dual_energy_transmission
from screener.physics.profiles import ScannerProfile, get_profile
from screener.scan.model import (
    BeltDirection,
    GroundTruth,
    LabelledObject,
    Scan,
    ScanMetadata,
    SourceKind,
    View,
)
from screener.sim.cargo import pack_cargo
from screener.sim.geometry import SceneObject
from screener.sim.items.threats import THREAT_MAKERS
from screener.sim.packing import BAG_KINDS, Scene, pack_bag
from screener.sim.projection import ViewGeometry, project

CABIN_PROFILE = "cabin-160kv-dual-layer"
CARGO_PROFILE = "cargo-6mv-dual-energy"
#: Two-view cabin scanner: 500 mm x 400 mm tunnel, 0.5 mm pixels, 750 mm along the belt.
CABIN_VIEWS = (
    ViewGeometry.top((1000, 1500), (0.5, 0.5)),
    ViewGeometry.side((800, 1500), (0.5, 0.5)),
)
#: Single side view of a cargo portal: 4 m high, 12 m along the road, 2 mm pixels.
CARGO_VIEWS = (ViewGeometry.side((2000, 6000), (2.0, 2.0)),)
FULL_SCALE = 65535
#: How often each of packing.BAG_KINDS turns up at a checkpoint (suitcase, backpack, tray).
BAG_KIND_SHARES = (0.55, 0.3, 0.15)
SOURCE = f"Screener simulator {__version__}"


@dataclass(frozen=True, eq=False)
class SimulatedScan:
    """A simulated scan and what is really in it (kept apart: see scan.model)."""

    scan: Scan
    truth: GroundTruth


def simulate_bag(
    seed: int,
    kind: str | None = None,
    threats: Sequence[str] = (),
    *,
    station: str = "sim-station",
    lane: str = "sim-lane",
    acquired_at: datetime | None = None,
) -> SimulatedScan:
    """A cabin-baggage scan (top and side views) of a packed bag with the given threats."""
    scene_rng, noise_rng, threat_rng = _streams(seed)
    kind = kind or str(scene_rng.choice(BAG_KINDS, p=BAG_KIND_SHARES))
    if kind not in BAG_KINDS:
        raise SimulationError(f"unknown bag kind {kind!r}; choose one of: {', '.join(BAG_KINDS)}")
    articles = _make_threats(threats, threat_rng)
    scene = pack_bag(kind, scene_rng, articles, threat_rng=threat_rng)
    meta = _metadata(f"SIM-{kind.upper()}-{seed:08d}", CABIN_PROFILE, station, lane, acquired_at)
    return render_scene(scene, CABIN_VIEWS, get_profile(CABIN_PROFILE), meta, noise_rng)


def simulate_cargo(
    seed: int,
    threats: Sequence[str] = (),
    *,
    station: str = "sim-portal",
    lane: str = "sim-lane",
    acquired_at: datetime | None = None,
) -> SimulatedScan:
    """A cargo-container scan (one side view, 4/6 MV) with the given threats hidden inside."""
    scene_rng, noise_rng, threat_rng = _streams(seed)
    articles = _make_threats(threats, threat_rng)
    scene = pack_cargo(scene_rng, articles, threat_rng=threat_rng)
    meta = _metadata(f"SIM-CARGO-{seed:08d}", CARGO_PROFILE, station, lane, acquired_at)
    return render_scene(scene, CARGO_VIEWS, get_profile(CARGO_PROFILE), meta, noise_rng)


def render_scene(
    scene: Scene,
    geometries: Sequence[ViewGeometry],
    profile: ScannerProfile,
    metadata: ScanMetadata,
    noise_rng: np.random.Generator,
) -> SimulatedScan:
    """Project the scene into every view, apply the physics and the detector, label."""
    views: list[View] = []
    truth: dict[str, tuple[LabelledObject, ...]] = {}
    for geometry in geometries:
        projected = project(scene.objects, geometry, scene.labelled)
        t_low, t_high = dual_energy_transmission(projected.areal_density, profile)
        low = _quantise(detect(t_low, profile.low, profile, noise_rng))
        high = _quantise(detect(t_high, profile.high, profile, noise_rng))
        views.append(
            View(geometry.name, high, low, float(FULL_SCALE), geometry.pitch_mm,
                 BeltDirection.LEFT_TO_RIGHT)
        )
        truth[geometry.name] = tuple(
            LabelledObject(fp.object_index, fp.label, fp.threat, fp.box, fp.mask)
            for fp in projected.footprints
        )
    return SimulatedScan(Scan(metadata, tuple(views)), GroundTruth(truth))


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator,
                                  np.random.Generator]:
    """The scene, noise and threat streams of ``seed`` (spawned children 0, 1 and 2, so the
    scene and noise streams are those of ``spawn(2)``)."""
    if seed < 0:
        raise SimulationError(f"seed must be 0 or more, not {seed}")
    scene_seq, noise_seq, threat_seq = np.random.SeedSequence(seed).spawn(3)
    return (np.random.default_rng(scene_seq), np.random.default_rng(noise_seq),
            np.random.default_rng(threat_seq))


def _make_threats(labels: Sequence[str], rng: np.random.Generator) -> list[SceneObject]:
    unknown = [label for label in labels if label not in THREAT_MAKERS]
    if unknown:
        raise SimulationError(
            f"unknown threat class(es) {', '.join(unknown)}; "
            f"choose from: {', '.join(sorted(THREAT_MAKERS))}"
        )
    return [THREAT_MAKERS[label](rng) for label in labels]


def _metadata(bag_id: str, profile_name: str, station: str, lane: str,
              acquired_at: datetime | None) -> ScanMetadata:
    profile = get_profile(profile_name)
    return ScanMetadata(
        bag_id=bag_id,
        station=station,
        lane=lane,
        acquired_at=acquired_at or datetime.now(UTC),
        source=SOURCE,
        source_kind=SourceKind.SIMULATED_DUAL_ENERGY,
        scanner_profile=profile.name,
        channel_low=profile.low.description,
        channel_high=profile.high.description,
    )


def _quantise(transmission: NDArray[np.float32]) -> NDArray[np.uint16]:
    """Transmission in [0, 1] to 16-bit detector counts, 65535 = open beam."""
    scaled: NDArray[np.float32] = np.clip(transmission, 0.0, 1.0) * np.float32(FULL_SCALE)
    counts: NDArray[np.uint16] = np.rint(scaled).astype(np.uint16)
    return counts
