"""The Scan model: one bag or container, one or more views, two energy channels per view.

Images are *transmission*: the fraction of the open-beam signal that reached the detector.
They are kept in the dtype they were recorded in so that a file round-trips bit-exactly:
``uint16`` with a ``full_scale`` (the open-beam value, for example 65535 or 4095), or
``float32`` with ``full_scale == 1.0``. ``View.transmission`` gives float32 in [0, 1].

Ground truth (what the simulator put in the bag) is deliberately *not* part of
:class:`Scan`: it lives in :class:`GroundTruth`, is written to its own HDF5 group and
is read only by an explicit call, so the workstation cannot show it to a screener.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

#: The dtypes a channel may have.
CHANNEL_DTYPES = (np.dtype(np.uint16), np.dtype(np.float32))


class SourceKind(StrEnum):
    """What kind of data a scan came from, and so what it can and cannot show."""

    SIMULATED_DUAL_ENERGY = "simulated-dual-energy"
    DUAL_ENERGY = "dual-energy"


class BeltDirection(StrEnum):
    """Which way the belt carried the object past the detector, as seen on screen."""

    LEFT_TO_RIGHT = "left-to-right"
    RIGHT_TO_LEFT = "right-to-left"


Channel = NDArray[np.uint16] | NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class View:
    """One projection of the object: a high- and a low-energy transmission image."""

    name: str
    high: Channel
    low: Channel
    full_scale: float
    pixel_pitch_mm: tuple[float, float]  # (rows, columns)
    belt_direction: BeltDirection = BeltDirection.LEFT_TO_RIGHT

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.high.shape
        return int(rows), int(cols)

    def transmission(self, channel: str) -> NDArray[np.float32]:
        """Channel ``"high"`` or ``"low"`` as float32 transmission in [0, 1]."""
        if channel not in ("high", "low"):
            raise ValueError(f"channel must be 'high' or 'low', not {channel!r}")
        data = self.high if channel == "high" else self.low
        return (data.astype(np.float32) / np.float32(self.full_scale)).astype(np.float32)


@dataclass(frozen=True)
class ScanMetadata:
    """Who scanned what, where and when, with which channels."""

    bag_id: str
    station: str
    lane: str
    acquired_at: datetime  # timezone-aware, UTC
    source: str  # scanner make/model, or simulator name and version
    source_kind: SourceKind
    scanner_profile: str
    channel_low: str  # e.g. "160 kV, front layer 0.4 mm CsI"
    channel_high: str

    def __post_init__(self) -> None:
        if self.acquired_at.tzinfo is None:
            raise ValueError("acquired_at must be timezone-aware (UTC)")
        object.__setattr__(self, "acquired_at", self.acquired_at.astimezone(UTC))
        object.__setattr__(self, "source_kind", SourceKind(self.source_kind))


@dataclass(frozen=True, eq=False)
class Scan:
    """A validated scan: metadata and its views, in display order."""

    metadata: ScanMetadata
    views: tuple[View, ...]

    def view(self, name: str) -> View:
        for view in self.views:
            if view.name == name:
                return view
        names = ", ".join(v.name for v in self.views)
        raise KeyError(f"no view named {name!r}; this scan has: {names}")


@dataclass(frozen=True, eq=False)
class LabelledObject:
    """One object as it shows in one view: class, pixel-corner box and mask inside the box."""

    object_id: int
    label: str
    threat: bool
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in pixel corners (x = column)
    mask: NDArray[np.bool_]  # shape (y1 - y0, x1 - x0)


@dataclass(frozen=True, eq=False)
class GroundTruth:
    """What is really in a simulated scan, per view name. Never shown to a screener."""

    objects_by_view: dict[str, tuple[LabelledObject, ...]] = field(default_factory=dict)

    @property
    def threat_labels(self) -> set[str]:
        return {o.label for objs in self.objects_by_view.values() for o in objs if o.threat}
