"""The Scan model: one bag or container, one or more views, one or two energy channels.

Images are *transmission*: the fraction of the open-beam signal that reached the detector.
They are kept in the dtype they were recorded in so that a file round-trips bit-exactly:
``uint16`` with a ``full_scale`` (the open-beam value, for example 65535 or 4095), or
``float32`` with ``full_scale == 1.0``. ``View.transmission`` gives float32 in [0, 1].

Not every source has two energies. ``Scan.metadata.source_kind`` says what a scan lacks:
a dual-energy scan has ``high`` and ``low``; a single-energy image (GDXray) has ``high``
only; a pseudo-colour export (SIXray) has no raw energies at all: ``high`` is an
approximate transmission read from the colour's brightness and ``material_class`` the
material read from its hue. :func:`missing_capabilities` gives the reason, per missing
capability, that a function needing both energies shows when it is disabled.

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

from screener.errors import ChannelUnavailableError

#: The dtypes a channel may have.
CHANNEL_DTYPES = (np.dtype(np.uint16), np.dtype(np.float32))


class SourceKind(StrEnum):
    """What kind of data a scan came from, and so what it can and cannot show."""

    #: simulator output: both energies, exactly known physics
    SIMULATED_DUAL_ENERGY = "simulated-dual-energy"
    #: a real scanner's two raw energy channels (also real arrays such as ZCON)
    DUAL_ENERGY = "dual-energy"
    #: one channel only (GDXray): ``high`` is meaningful, there is no ``low``
    SINGLE_ENERGY = "single-energy"
    #: a scanner's rendered colour export (SIXray): no raw energies; ``high`` is an
    #: approximate transmission from the colour's brightness, ``material_class`` comes
    #: from its hue
    PSEUDO_COLOUR = "pseudo-colour"

    @property
    def is_dual_energy(self) -> bool:
        """Whether scans of this kind carry a low- and a high-energy channel."""
        return self in (SourceKind.DUAL_ENERGY, SourceKind.SIMULATED_DUAL_ENERGY)

    @property
    def has_material_class(self) -> bool:
        """Whether scans of this kind carry a stored per-pixel ``material_class``."""
        return self is SourceKind.PSEUDO_COLOUR


#: ``View.material_class`` codes (the same integers as ``MaterialClass`` in the display
#: pipeline): 0 background or air, 1 organic (orange), 2 inorganic or mixed (green),
#: 3 metal (blue), 4 impenetrable (black).
MATERIAL_BACKGROUND = 0
MATERIAL_ORGANIC = 1
MATERIAL_INORGANIC = 2
MATERIAL_METAL = 3
MATERIAL_IMPENETRABLE = 4
MATERIAL_CLASS_MAX = MATERIAL_IMPENETRABLE


class Capability(StrEnum):
    """What a function may need from a scan; keys of :func:`missing_capabilities`."""

    #: a low- and a high-energy channel: material colours from the energy ratio (Zeff),
    #: low-/high-energy-only displays, TIP composed in both channels
    DUAL_ENERGY = "dual_energy"
    #: a per-pixel material class, from dual energy or from a pseudo-colour export's hues
    MATERIAL_CLASS = "material_class"
    #: transmission as the detector measured it, not read back from a rendered image:
    #: density readings, attenuation-based enhancement, physical TIP composition
    MEASURED_TRANSMISSION = "measured_transmission"


class BeltDirection(StrEnum):
    """Which way the belt carried the object past the detector, as seen on screen."""

    LEFT_TO_RIGHT = "left-to-right"
    RIGHT_TO_LEFT = "right-to-left"


Channel = NDArray[np.uint16] | NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class View:
    """One projection of the object.

    ``high`` is always present. ``low`` is the low-energy channel, ``None`` for
    single-energy and pseudo-colour scans. ``material_class`` (uint8, same shape, codes
    ``MATERIAL_*`` 0..4) is present only for pseudo-colour scans, whose material comes
    from the export's hues rather than from two energies.
    """

    name: str
    high: Channel
    low: Channel | None
    full_scale: float
    pixel_pitch_mm: tuple[float, float]  # (rows, columns)
    belt_direction: BeltDirection = BeltDirection.LEFT_TO_RIGHT
    material_class: NDArray[np.uint8] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.high.shape
        return int(rows), int(cols)

    @property
    def has_dual_energy(self) -> bool:
        """Whether this view has a low-energy channel beside the high-energy one."""
        return self.low is not None

    @property
    def channels(self) -> tuple[str, ...]:
        """The channel names this view holds: ``("high", "low")`` or ``("high",)``."""
        return ("high", "low") if self.low is not None else ("high",)

    def transmission(self, channel: str) -> NDArray[np.float32]:
        """Channel ``"high"`` or ``"low"`` as float32 transmission in [0, 1].

        Raises :class:`~screener.errors.ChannelUnavailableError` for ``"low"`` on a view
        without a low-energy channel: check :attr:`has_dual_energy` first.
        """
        if channel not in ("high", "low"):
            raise ValueError(f"channel must be 'high' or 'low', not {channel!r}")
        data = self.high if channel == "high" else self.low
        if data is None:
            raise ChannelUnavailableError(
                f"view {self.name!r} has no low-energy channel (single-energy or "
                "pseudo-colour scan); check View.has_dual_energy before asking for it"
            )
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

    @property
    def has_dual_energy(self) -> bool:
        """Whether every view has both energy channels."""
        return all(view.has_dual_energy for view in self.views)

    @property
    def missing_capabilities(self) -> dict[str, str]:
        """See :func:`missing_capabilities`."""
        return missing_capabilities(self)


def missing_capabilities(scan: Scan) -> dict[str, str]:
    """Each :class:`Capability` this scan lacks, with the reason a screener is shown.

    Empty for dual-energy and simulated scans. Functions that need a capability listed
    here are disabled (or run on the approximation the reason names) and the UI shows
    the reason, e.g. ``{"dual_energy": "single-energy image: material colours need a
    low-energy channel"}``.
    """
    kind = scan.metadata.source_kind
    if kind is SourceKind.SINGLE_ENERGY:
        return {
            Capability.DUAL_ENERGY.value:
                "single-energy image: material colours need a low-energy channel",
            Capability.MATERIAL_CLASS.value:
                "single-energy image: one channel carries no material information, "
                "only density",
        }
    if kind is SourceKind.PSEUDO_COLOUR:
        return {
            Capability.DUAL_ENERGY.value:
                "pseudo-colour export: no raw energy channels; material colours come "
                "from the export's hues (approximate)",
            Capability.MEASURED_TRANSMISSION.value:
                "pseudo-colour export: transmission is approximated from the image "
                "brightness; densities and TIP composition are approximate",
        }
    if not scan.has_dual_energy:  # cannot happen for a validated scan; say so if it does
        return {Capability.DUAL_ENERGY.value: "a view lacks its low-energy channel"}
    return {}


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
