"""The TIP projector: an FTI multiplied into one view, or every view, of a real bag.

Typical use (the workflow does this when the scheduler says "project")::

    result = project_scan(scan, fti, rng)          # every view; or views="top"
    result.scan                                    # what the screener is shown
    result.projections[0].record()                 # box, transform, measures: for the audit

Physics (DESIGN.md, "TIP composition is physical"; docs/tip-projection.md):

* **Composition.** Transmissions multiply per channel, ``T = T_bag * T_fti`` (log
  attenuations add), on the view's own pixels; the display pipeline then re-derives
  colours from ``(A_high, A_low)``, so the threat is coloured by what it and the bag are.
* **Noise.** The FTI is a high-dose, effectively noise-free capture; the bag was measured
  with the scanner's noise. Multiplying scales the bag's noise by ``T_fti``, so noise is
  added to give each pixel the detector model's variance at the composite transmission:
  ``var_add = T_bag T_fti (1 - T_fti) / N + e^2 (1 - T_fti^2)`` (N: open-beam quanta of the
  channel, e: electronic noise as a fraction of the open beam). N and e come from the scan's
  scanner profile; for a profile Screener does not know they are estimated from the view's
  air regions (:func:`estimate_noise`) and the projection says so.
* **Placement.** Inside the bag outline (:mod:`screener.tip.placement`), turned by any
  angle in the view plane, mirrored half the time, ±10 % in size, rescaled from the FTI's
  pixel pitch to the view's; never where more than ``max_opacity`` of the threat would lie
  behind impenetrable regions. After ``max_attempts`` rejected candidates the projector
  raises :class:`NoPlacementError` (the scheduler then shows the real bag without an FTI).
* **Measures.** Superposition, clutter and opacity of each placement
  (:mod:`screener.tip.measures`).

Only the FTI's box is converted and composed; each channel of the view is copied once.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import cv2
import numpy as np
from numpy.typing import NDArray

from screener.errors import ScreenerError
from screener.physics.profiles import PROFILES, ScannerProfile
from screener.scan.belt import belt_mm, x_at_belt_mm
from screener.scan.model import Channel, Scan, SourceKind, View
from screener.tip.fti import FtiImage
from screener.tip.measures import (
    CLUTTER_EDGE_THRESHOLD,
    ImageFactors,
    bag_attenuation,
    edge_map,
    measure,
    opaque_attenuation,
)
from screener.tip.placement import (
    BagOutline,
    Pose,
    RotationMode,
    WarpedFti,
    draw_pose,
    find_outline,
    propose_position,
    warp_fti,
)

Float32Array = NDArray[np.float32]
BoolArray = NDArray[np.bool_]

#: Scanner profile names that mean "not known" (imports write "unknown").
UNKNOWN_PROFILES: Final = frozenset({"", "unknown"})
#: Noise is estimated on square tiles of about this many pixels a side...
NOISE_TILE_PX: Final = 8
#: ...from air alone when at least this many tiles are air...
MIN_AIR_TILES: Final = 32
#: ...sampling at most this many tiles.
NOISE_SAMPLE_TILES: Final = 1024
#: Air whose pixels sit at the open-beam value more often than this is saturated.
SATURATED_FRACTION: Final = 0.01
#: Largest open-beam quanta an estimate reports (a noise-free image).
MAX_ESTIMATED_QUANTA: Final = 1e12
#: Positions tried for each further view of a scan, per candidate pose.
ROWS_PER_VIEW: Final = 20


# --------------------------------------------------------------------------------------
# Errors


class ProjectionError(ScreenerError):
    """An FTI cannot be projected into this scan or view."""


class InvalidFtiError(ProjectionError):
    """The FTI breaks its data model (shapes, transmissions in (0, 1], a non-empty mask)."""

    def __init__(self, fti_id: str, problem: str) -> None:
        self.fti_id = fti_id
        self.problem = problem
        super().__init__(f"FTI {fti_id!r}: {problem}. Re-import it into the FTI library.")


class UnmeasuredTransmissionError(ProjectionError):
    """The view's transmission was not measured (a pseudo-colour export): multiplying an
    FTI into brightness read back from colours would not be physical."""

    def __init__(self, view: str) -> None:
        self.view = view
        super().__init__(
            f"view {view!r} is a pseudo-colour export: its transmission is read back from "
            "colours, not measured, so TIP cannot be composed physically. Project only "
            "into dual- or single-energy scans."
        )


class ProfileMismatchError(ProjectionError):
    """The FTI was captured with other energy channels than the scan's scanner."""

    def __init__(self, fti_id: str, fti_profile: str, scan_profile: str) -> None:
        self.fti_id = fti_id
        self.fti_profile = fti_profile
        self.scan_profile = scan_profile
        super().__init__(
            f"FTI {fti_id!r} was captured on scanner profile {fti_profile!r} but the scan "
            f"comes from {scan_profile!r}: their energy channels differ, so the composite's "
            "colours would be wrong. Use FTIs of this scanner, or set "
            "allow_profile_mismatch to accept the approximation."
        )


class NoPlacementError(ProjectionError):
    """No acceptable placement was found; ``rejections`` counts the reasons."""

    def __init__(self, fti_id: str, view: str, attempts: int,
                 rejections: Mapping[str, int], detail: str = "") -> None:  # fmt: skip
        self.fti_id = fti_id
        self.view = view
        self.attempts = attempts
        self.rejections = dict(rejections)
        reasons = ", ".join(f"{n} {why}" for why, n in self.rejections.items() if n)
        tail = f": {reasons}" if reasons else ""
        extra = f" ({detail})" if detail else ""
        super().__init__(f"FTI {fti_id!r}: no placement in view {view!r} after {attempts} "
                         f"attempts{tail}{extra}")  # fmt: skip


class FtiTooLargeError(NoPlacementError):
    """The FTI is larger than the bag (or the view) it should go into."""


class NoBagError(NoPlacementError):
    """No bag or container outline was found in the view (an empty belt)."""


#: Rejection reasons counted in :attr:`NoPlacementError.rejections`.
REJECT_OUTSIDE: Final = "outside the bag outline"
REJECT_HIDDEN: Final = "hidden behind opaque regions"


# --------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class ProjectionOptions:
    """How the projector places and composes (settings are data: DESIGN.md rule 7).

    ``max_opacity``: reject a placement where more than this fraction of the FTI's pixels
    lie over opaque bag pixels (``None``: accept any, even fully hidden). ``opaque_a_high``
    overrides the opaque floor derived from the noise model. ``add_noise=False`` composes
    the bare product (for tests and ground truth).
    """

    rotation: RotationMode = RotationMode.ANY
    small_angle_deg: float = 10.0
    flip_probability: float = 0.5
    scale_jitter: float = 0.10
    max_opacity: float | None = 0.5
    max_attempts: int = 50
    add_noise: bool = True
    margin_mm: float = 3.0
    closing_mm: float = 10.0
    opaque_a_high: float | None = None
    clutter_edge_threshold: float = CLUTTER_EDGE_THRESHOLD
    allow_profile_mismatch: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "rotation", RotationMode(self.rotation))
        checks = {
            "small_angle_deg": 0.0 <= self.small_angle_deg <= 45.0,
            "flip_probability": 0.0 <= self.flip_probability <= 1.0,
            "scale_jitter": 0.0 <= self.scale_jitter < 0.5,
            "max_opacity": self.max_opacity is None or 0.0 <= self.max_opacity <= 1.0,
            "max_attempts": self.max_attempts >= 1,
            "margin_mm": self.margin_mm >= 0.0,
            "closing_mm": self.closing_mm >= 0.0,
            "opaque_a_high": self.opaque_a_high is None or self.opaque_a_high > 0.0,
            "clutter_edge_threshold": self.clutter_edge_threshold > 0.0,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            values = ", ".join(f"{n}={getattr(self, n)!r}" for n in bad)
            raise ProjectionError(f"projection options out of range: {values}")

    @property
    def outline_key(self) -> tuple[float, float]:
        return (self.margin_mm, self.closing_mm)


DEFAULT_OPTIONS: Final = ProjectionOptions()


# --------------------------------------------------------------------------------------
# Noise


@dataclass(frozen=True)
class ChannelNoise:
    """One channel's detector noise: ``var(T) = T / quanta + electronic^2``."""

    quanta: float
    electronic: float = 0.0

    def variance(self, t: float) -> float:
        return t / self.quanta + self.electronic**2


@dataclass(frozen=True)
class NoiseModel:
    """The detector noise of a scan's channels and where the numbers came from."""

    high: ChannelNoise
    low: ChannelNoise | None
    source: str
    estimated: bool = False

    @classmethod
    def from_profile(cls, profile: ScannerProfile) -> NoiseModel:
        e = float(profile.electronic_noise)
        return cls(ChannelNoise(float(profile.high.open_beam_quanta), e),
                   ChannelNoise(float(profile.low.open_beam_quanta), e),
                   f"scanner profile {profile.name!r}")  # fmt: skip

    def channel(self, name: str) -> ChannelNoise:
        if name == "high":
            return self.high
        if self.low is None:
            raise ProjectionError(f"noise model ({self.source}) has no low-energy channel")
        return self.low

    def opaque_a_high(self) -> float:
        """The opaque floor of the high channel (SNR 5, see measures.opaque_attenuation)."""
        return opaque_attenuation(self.high.quanta, self.high.electronic)


def _robust_variance(values: Float32Array) -> float:
    """Variance from the median absolute deviation (Gaussian-consistent)."""
    if values.size == 0:
        return 0.0
    med = float(np.median(values))
    mad = float(np.median(np.abs(values - np.float32(med))))
    return (1.4826 * mad) ** 2


def _tile_blocks(channel: Channel, tile: int, tiles: NDArray[np.intp],
                 n_cols: int) -> Float32Array:  # fmt: skip
    """The ``tile`` x ``tile`` pixel blocks of the given flat tile indices."""
    i, j = np.divmod(tiles, n_cols)
    r = (i[:, None] * tile + np.arange(tile)[None, :])[:, :, None]
    c = (j[:, None] * tile + np.arange(tile)[None, :])[:, None, :]
    out: Float32Array = channel[r, c].astype(np.float32)
    return out


def _spread(indices: NDArray[np.intp]) -> NDArray[np.intp]:
    """At most NOISE_SAMPLE_TILES of ``indices``, evenly spread (deterministic)."""
    if indices.size <= NOISE_SAMPLE_TILES:
        return indices
    pick = np.linspace(0, indices.size - 1, NOISE_SAMPLE_TILES).astype(np.intp)
    out: NDArray[np.intp] = indices[pick]
    return out


def _estimate_channel(channel: Channel, full_scale: float,
                      outline: BagOutline) -> tuple[float, str]:  # fmt: skip
    """Open-beam quanta of one channel, assuming quantum-limited noise (e = 0)."""
    m = max(1, math.ceil(NOISE_TILE_PX / outline.step))  # outline cells per tile side
    tile = m * outline.step
    n_rows, n_cols = outline.air_cells.shape[0] // m, outline.air_cells.shape[1] // m
    if n_rows == 0 or n_cols == 0:
        return MAX_ESTIMATED_QUANTA, "the view is too small to estimate noise from"
    air_tiles = outline.air_cells[: n_rows * m, : n_cols * m].reshape(n_rows, m, n_cols, m)
    air = np.flatnonzero(air_tiles.all(axis=(1, 3)).reshape(-1))
    scale = np.float32(1.0 / full_scale)
    blocks = None
    if air.size >= MIN_AIR_TILES:
        blocks = _tile_blocks(channel, tile, _spread(air), n_cols) * scale
        # air at the open-beam value is clipped there (half its noise cut off): not usable
        if np.count_nonzero(blocks >= np.float32(1.0)) > SATURATED_FRACTION * blocks.size:
            blocks = None
    if blocks is not None:
        quant_var = (1.0 / full_scale) ** 2 / 12.0  # uniform quantisation of the counts
        diffs = (blocks[:, :, 1:] - blocks[:, :, :-1]).reshape(-1)
        var = max(_robust_variance(diffs) / 2.0 - quant_var, 0.0)
        level = float(np.mean(blocks, dtype=np.float64))
        where = f"{blocks.shape[0]} air tiles"
    else:
        every = _spread(np.arange(n_rows * n_cols, dtype=np.intp))
        blocks = _tile_blocks(channel, tile, every, n_cols) * scale
        means = blocks.mean(axis=(1, 2))
        keep = (means > 0.05) & (means < 0.98 * outline.air_transmission)
        if not keep.any():
            return MAX_ESTIMATED_QUANTA, "no usable pixels to estimate noise from"
        # Poisson: var(T) = T / N, so pixels scaled by 1/sqrt(T) have variance 1/N; their
        # second differences cancel smooth shading and have variance 6/N
        scaled = blocks[keep] / np.sqrt(means[keep])[:, None, None]
        second = scaled[:, :, 2:] - 2.0 * scaled[:, :, 1:-1] + scaled[:, :, :-2]
        var = _robust_variance(second.reshape(-1)) / 6.0
        level = 1.0
        where = f"{int(keep.sum())} tiles across the image (too little unsaturated air)"
    if var <= 0.0:
        return MAX_ESTIMATED_QUANTA, f"no measurable noise in {where}"
    return min(level / var, MAX_ESTIMATED_QUANTA), where


def estimate_noise(view: View, outline: BagOutline | None = None) -> NoiseModel:
    """The noise of ``view``'s channels, estimated from the view itself.

    From pixel-to-pixel differences along rows in the air (cells well away from the bag
    outline): with white, quantum-limited noise ``var(T) = T / N``, so
    ``N = mean(T) / (var(diff) / 2)``, the variance taken robustly from the median absolute
    deviation. With too little air, differences across the whole image are scaled by
    ``1 / sqrt(T)`` and pooled. Electronic noise is taken as zero (it cannot be told from
    quantum noise at one transmission level). Detector blur that correlates neighbouring
    pixels' noise makes the estimate of N too high (the added noise too low).
    """
    if outline is None:
        outline = _outline(view, None, DEFAULT_OPTIONS)
    n_high, where = _estimate_channel(view.high, view.full_scale, outline)
    low = None
    if view.low is not None:
        n_low, _ = _estimate_channel(view.low, view.full_scale, outline)
        low = ChannelNoise(n_low)
    source = (f"estimated from view {view.name!r} ({where}; quantum-limited, "
              f"N_high = {n_high:.4g})")  # fmt: skip
    return NoiseModel(ChannelNoise(n_high), low, source, estimated=True)


# --------------------------------------------------------------------------------------
# Caches: the prepared FTI, and per view its outline and estimated noise


@dataclass(frozen=True, eq=False)
class _PreparedFti:
    stack: Float32Array  # (rows, cols, 4): high, low, mask as 0/1, unused
    area_px: int
    inscribed_radius_px: float  # largest disc inside the mask (FTI pixels)


_FTI_CACHE: weakref.WeakKeyDictionary[FtiImage, _PreparedFti] = weakref.WeakKeyDictionary()
_VIEW_CACHE: weakref.WeakKeyDictionary[View, dict[Any, Any]] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _prepare_fti(fti: FtiImage) -> _PreparedFti:
    with _LOCK:
        cached = _FTI_CACHE.get(fti)
    if cached is not None:
        return cached
    high = np.asarray(fti.high)
    low = np.asarray(fti.low)
    mask = np.asarray(fti.mask)
    if high.ndim != 2 or low.shape != high.shape or mask.shape != high.shape:
        raise InvalidFtiError(fti.fti_id, f"high {high.shape}, low {low.shape} and mask "
                              f"{mask.shape} must be 2D and the same shape")  # fmt: skip
    if not mask.any():
        raise InvalidFtiError(fti.fti_id, "its mask is empty")
    if not (math.isfinite(fti.pixel_pitch_mm) and fti.pixel_pitch_mm > 0.0):
        raise InvalidFtiError(fti.fti_id, f"pixel pitch {fti.pixel_pitch_mm!r} mm is not positive")
    for name, t in (("high", high), ("low", low)):
        inside = t[mask]
        if not (np.all(np.isfinite(inside)) and inside.min() > 0.0 and inside.max() <= 1.0):
            raise InvalidFtiError(fti.fti_id, f"{name} transmissions must lie in (0, 1]")
    stack = np.zeros((*high.shape, 4), dtype=np.float32)  # 4 planes warp fastest
    stack[..., :2] = 1.0
    stack[..., 0][mask] = high[mask]
    stack[..., 1][mask] = low[mask]
    stack[..., 2] = mask
    padded = np.pad(mask, 1).astype(np.uint8)
    radius = float(cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE).max())
    prepared = _PreparedFti(stack, int(np.count_nonzero(mask)), max(radius - 0.5, 0.0))
    with _LOCK:
        _FTI_CACHE[fti] = prepared
    return prepared


def _view_cached(view: View, key: Any) -> Any:
    with _LOCK:
        return _VIEW_CACHE.get(view, {}).get(key)


def _view_store(view: View, key: Any, value: Any) -> None:
    with _LOCK:
        _VIEW_CACHE.setdefault(view, {})[key] = value


def _outline(view: View, noise: NoiseModel | None, options: ProjectionOptions) -> BagOutline:
    """The view's bag outline, cached per view object and outline settings. The outline's
    contrast threshold needs the air noise: from ``noise``, else from a first outline with
    the minimum contrast (only used to find the air)."""
    key = ("outline", options.outline_key, noise)
    cached = _view_cached(view, key)
    if cached is not None:
        assert isinstance(cached, BagOutline)
        return cached
    sigma = math.sqrt(noise.high.variance(1.0)) if noise is not None else 0.0
    outline = find_outline(view.high, view.full_scale, view.pixel_pitch_mm,
                           noise_sigma_air=sigma, margin_mm=options.margin_mm,
                           closing_mm=options.closing_mm)  # fmt: skip
    _view_store(view, key, outline)
    return outline


def outline_for(view: View, *, noise: NoiseModel | None = None,
                options: ProjectionOptions | None = None) -> BagOutline:  # fmt: skip
    """The bag outline the projector uses for ``view`` (computed once per view object and
    settings, then cached); pass it back as ``outline=`` or precompute it off the hot path."""
    return _outline(view, noise, options or DEFAULT_OPTIONS)


def _estimated_noise(view: View, options: ProjectionOptions) -> NoiseModel:
    key = ("noise", options.outline_key)
    cached = _view_cached(view, key)
    if cached is not None:
        assert isinstance(cached, NoiseModel)
        return cached
    noise = estimate_noise(view, _outline(view, None, options))
    _view_store(view, key, noise)
    return noise


# --------------------------------------------------------------------------------------
# Composition (general: training composes with the same functions)


def compose_channel(t_bag: Float32Array, t_fti: Float32Array, noise: ChannelNoise | None,
                    rng: np.random.Generator | None) -> Float32Array:  # fmt: skip
    """``T_bag * T_fti`` with the noise that brings it to the detector model's variance.

    ``t_bag`` is the measured (noisy) bag, ``t_fti`` the noise-free article, both float32
    transmissions of the same shape. Without ``noise`` (or ``rng``) the bare product,
    clipped to [0, 1]. With it, ``var_add = T_bag T_fti (1 - T_fti) / N + e^2 (1 - T_fti^2)``
    of Gaussian noise is added (``T_bag`` standing in for the bag's noise-free value) and
    the result is clipped to ``[1 / N, 1]`` as the detector model clips.
    """
    bag = np.asarray(t_bag, dtype=np.float32)
    art = np.asarray(t_fti, dtype=np.float32)
    out = bag * art
    if noise is None or rng is None:
        np.clip(out, np.float32(0.0), np.float32(1.0), out=out)
        return out
    var = out * (np.float32(1.0) - art)
    var *= np.float32(1.0 / noise.quanta)
    if noise.electronic > 0.0:
        var += np.float32(noise.electronic**2) * (np.float32(1.0) - art * art)
    np.maximum(var, np.float32(0.0), out=var)
    np.sqrt(var, out=var)
    var *= rng.standard_normal(out.shape, dtype=np.float32)
    out += var
    np.clip(out, np.float32(min(1.0 / noise.quanta, 1.0)), np.float32(1.0), out=out)
    return out


def _box_transmission(channel: Channel, full_scale: float, top: int, left: int,
                      shape: tuple[int, int]) -> Float32Array:  # fmt: skip
    box = channel[top : top + shape[0], left : left + shape[1]]
    out: Float32Array = box.astype(np.float32)
    out *= np.float32(1.0 / full_scale)
    return out


def _store(channel: Channel, composite: Float32Array, full_scale: float) -> Channel:
    """``composite`` (transmission) in the channel's dtype and scale."""
    if channel.dtype == np.uint16:
        counts = composite * np.float32(full_scale)
        np.rint(counts, out=counts)
        np.clip(counts, 0.0, 65535.0, out=counts)
        return counts.astype(np.uint16)
    if full_scale == 1.0:
        return composite
    return (composite * np.float32(full_scale)).astype(np.float32)


def compose_view(view: View, top: int, left: int, fti_high: Float32Array,
                 fti_low: Float32Array | None, mask: BoolArray, noise: NoiseModel | None,
                 rng: np.random.Generator | None) -> View:  # fmt: skip
    """A new view: ``view`` with a placed FTI (its box at ``(top, left)``, transmissions of
    the box's shape, 1.0 outside ``mask``) composed per channel by :func:`compose_channel`.

    Each channel is copied once; only the pixels under ``mask`` are converted and computed,
    all others keep their stored values bit for bit. A view without a low channel
    (single-energy) gets the FTI's high channel only and ``fti_low`` is ignored.
    """
    shape = (int(mask.shape[0]), int(mask.shape[1]))
    channels: dict[str, Channel] = {}
    pairs: list[tuple[str, Channel, Float32Array]] = [("high", view.high, fti_high)]
    if view.low is not None:
        if fti_low is None:
            raise ProjectionError(f"view {view.name!r} has two channels but the FTI has no "
                                  "low-energy transmission")  # fmt: skip
        pairs.append(("low", view.low, fti_low))
    scale = np.float32(1.0 / view.full_scale)
    for name, channel, art in pairs:
        new = channel.copy()
        region = new[top : top + shape[0], left : left + shape[1]]
        bag = region[mask].astype(np.float32)
        bag *= scale
        composite = compose_channel(bag, art[mask], noise.channel(name) if noise else None, rng)
        region[mask] = _store(channel, composite, view.full_scale)
        channels[name] = new
    return dataclasses.replace(view, high=channels["high"], low=channels.get("low"))


# --------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Transform:
    """Where and how the FTI was placed in one view.

    ``matrix`` maps FTI pixel coordinates ``(x = column, y = row, 1)`` to view pixel
    coordinates ``(x, y)``; ``centre`` is where the FTI's centre landed ``(row, column)``;
    ``pitch_scale`` is FTI pitch over view pitch ``(rows, columns)``.
    """

    angle_deg: float
    flipped: bool
    scale: float
    pitch_scale: tuple[float, float]
    top: int
    left: int
    centre: tuple[float, float]
    matrix: tuple[tuple[float, float, float], tuple[float, float, float]]


@dataclass(frozen=True, eq=False)
class Projection:
    """One FTI composed into one view.

    ``box`` is ``(x0, y0, x1, y1)`` in pixel corners (x = column), like the simulator's
    labels; ``mask`` (the box's shape) marks the pixels the FTI changed; ``placed_high`` and
    ``placed_low`` are the FTI's transmissions as placed (1.0 outside ``mask``; ``placed_low``
    None for a single-energy view).
    """

    fti_id: str
    view: View
    box: tuple[int, int, int, int]
    mask: BoolArray
    placed_high: Float32Array
    placed_low: Float32Array | None
    transform: Transform
    measures: ImageFactors
    noise: NoiseModel
    opaque_a_high: float
    attempts: int
    notes: tuple[str, ...] = ()
    a_air: float = 0.0  # the empty belt's high-energy attenuation in this view

    @property
    def superposition_share(self) -> float:
        """Superposition as a share, in [0, 1], of the way from the empty belt to the
        opaque floor: ``S / (A_opaque - A_air)``; how TIP scoring bins it."""
        span = self.opaque_a_high - self.a_air
        if not math.isfinite(span) or span <= 0.0:
            return 0.0
        return min(1.0, max(0.0, self.measures.superposition / span))

    def full_mask(self) -> BoolArray:
        """The placed mask at the view's full size."""
        out = np.zeros(self.view.shape, dtype=bool)
        x0, y0, x1, y1 = self.box
        out[y0:y1, x0:x1] = self.mask
        return out

    def record(self) -> dict[str, Any]:
        """What the audit event keeps of this projection (JSON-ready)."""
        t = self.transform
        return {
            "fti_id": self.fti_id,
            "view": self.view.name,
            "box": list(self.box),
            "transform": {"angle_deg": round(t.angle_deg, 4), "flipped": t.flipped,
                          "scale": round(t.scale, 6), "top": t.top, "left": t.left,
                          "pitch_scale": [round(s, 6) for s in t.pitch_scale]},
            "measures": {k: round(v, 6) for k, v in self.measures.as_dict().items()},
            "noise": self.noise.source,
            "opaque_a_high": round(self.opaque_a_high, 6),
            "attempts": self.attempts,
            "notes": list(self.notes),
        }  # fmt: skip


@dataclass(frozen=True, eq=False)
class ScanProjection:
    """One FTI composed into one or more views of a scan: the new scan and each view's
    projection, in the scan's view order."""

    scan: Scan
    fti_id: str
    projections: tuple[Projection, ...] = field(default_factory=tuple)

    def projection(self, view: str) -> Projection:
        for p in self.projections:
            if p.view.name == view:
                return p
        raise KeyError(f"the FTI was not projected into a view named {view!r}")


# --------------------------------------------------------------------------------------
# The projector


@dataclass
class _Target:
    """One view to project into, with what the projector knows about it."""

    view: View
    outline: BagOutline
    noise: NoiseModel
    a_opaque: float
    notes: list[str]


@dataclass(frozen=True)
class _Candidate:
    target: _Target
    pose: Pose
    warped: WarpedFti
    top: int
    left: int
    t_bag: Float32Array  # the bag's high transmission over the box


def _as_rng(rng: np.random.Generator | int) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _check_view(view: View) -> None:
    if view.material_class is not None:
        raise UnmeasuredTransmissionError(view.name)


def _profile_notes(fti: FtiImage, profile: str | None, options: ProjectionOptions) -> list[str]:
    if profile is None or profile in UNKNOWN_PROFILES:
        return [f"the scan's scanner profile is unknown: the FTI's channels (profile "
                f"{fti.scanner_profile!r}) are assumed to match the scan's"]  # fmt: skip
    if profile != fti.scanner_profile:
        if not options.allow_profile_mismatch:
            raise ProfileMismatchError(fti.fti_id, fti.scanner_profile, profile)
        return [f"FTI captured on profile {fti.scanner_profile!r}, scan from {profile!r} "
                "(allowed by settings; colours are approximate)"]  # fmt: skip
    return []


def _target(view: View, profile: str | None, noise: NoiseModel | None,
            options: ProjectionOptions, outline: BagOutline | None,
            notes: Sequence[str]) -> _Target:  # fmt: skip
    _check_view(view)
    notes = list(notes)
    if noise is None:
        known = PROFILES.get(profile) if profile is not None else None
        if known is not None:
            noise = NoiseModel.from_profile(known)
        else:
            noise = _estimated_noise(view, options)
            what = "unknown" if profile in UNKNOWN_PROFILES or profile is None else \
                f"{profile!r}, which Screener has no noise model for"
            notes.append(f"scanner profile {what}: noise {noise.source}")
    if view.low is None:
        notes.append("single-energy view: the FTI's high-energy channel was composed into "
                     "its only channel")  # fmt: skip
    if outline is None:
        # an estimated noise model was itself found with the minimum-contrast outline
        outline = _outline(view, None if noise.estimated else noise, options)
    elif outline.allowed.shape != view.shape:
        raise ProjectionError(f"the outline given has shape {outline.allowed.shape}, view "
                              f"{view.name!r} has {view.shape}")  # fmt: skip
    a_opaque = options.opaque_a_high if options.opaque_a_high is not None \
        else noise.opaque_a_high()
    return _Target(view, outline, noise, a_opaque, notes)


def _pitch_scale(fti: FtiImage, view: View) -> tuple[float, float]:
    rows, cols = view.pixel_pitch_mm
    return (fti.pixel_pitch_mm / rows, fti.pixel_pitch_mm / cols)


def _check_size(fti: FtiImage, prepared: _PreparedFti, target: _Target,
                options: ProjectionOptions) -> None:  # fmt: skip
    """Fail at once, with a clear reason, when no attempt could succeed."""
    view = target.view
    if target.outline.is_empty:
        raise NoBagError(fti.fti_id, view.name, 0, {},
                         "no bag or container outline was found: the belt looks empty")  # fmt: skip
    smallest = 1.0 - options.scale_jitter
    area_mm2 = prepared.area_px * (fti.pixel_pitch_mm * smallest) ** 2
    outline_mm2 = target.outline.allowed_px * view.pixel_pitch_mm[0] * view.pixel_pitch_mm[1]
    if area_mm2 > outline_mm2:
        raise FtiTooLargeError(fti.fti_id, view.name, 0, {},
                               f"the article covers {area_mm2:.0f} mm^2, the inside of the bag "
                               f"outline {outline_mm2:.0f} mm^2")  # fmt: skip
    radius_mm = prepared.inscribed_radius_px * fti.pixel_pitch_mm * smallest
    room_mm = (target.outline.max_clearance_px + target.outline.step) * max(view.pixel_pitch_mm)
    if radius_mm > room_mm:
        raise FtiTooLargeError(fti.fti_id, view.name, 0, {},
                               f"the article holds a disc of radius {radius_mm:.0f} mm, the "
                               f"bag outline none wider than {room_mm:.0f} mm")  # fmt: skip


def _try(target: _Target, prepared: _PreparedFti, fti: FtiImage, pose: Pose,
         rng: np.random.Generator, options: ProjectionOptions, *,
         centre: tuple[float, float] | None = None, centre_column: float | None = None,
         tries: int = 1) -> _Candidate | str:  # fmt: skip
    """A valid candidate for ``pose`` in ``target`` (up to ``tries`` positions), or the
    reason the last position was rejected."""
    view = target.view
    warped = warp_fti(prepared.stack, fti.pixel_pitch_mm, pose, view.pixel_pitch_mm)
    reason = REJECT_OUTSIDE
    for _ in range(tries):
        found = propose_position(target.outline, warped, rng, centre=centre,
                                 centre_column=centre_column)  # fmt: skip
        if found is None:
            reason = REJECT_OUTSIDE
            continue
        top, left = found
        t_bag = _box_transmission(view.high, view.full_scale, top, left, warped.shape)
        if options.max_opacity is not None and math.isfinite(target.a_opaque):
            floor = np.float32(math.exp(-target.a_opaque))
            hidden = np.count_nonzero(t_bag[warped.mask] < floor) / max(
                1, int(np.count_nonzero(warped.mask)))
            if hidden > options.max_opacity:
                reason = REJECT_HIDDEN
                continue
        return _Candidate(target, pose, warped, top, left, t_bag)
    return reason


def _finish(candidate: _Candidate, fti: FtiImage, rng: np.random.Generator,
            options: ProjectionOptions, attempts: int) -> Projection:  # fmt: skip
    target, warped = candidate.target, candidate.warped
    view = target.view
    top, left = candidate.top, candidate.left
    a_air = -math.log(min(max(target.outline.air_transmission, 1e-12), 1.0))
    factors = measure(candidate.t_bag, warped.mask, target.a_opaque, a_air=a_air,
                      edge_threshold=options.clutter_edge_threshold)  # fmt: skip
    new_view = compose_view(view, top, left, warped.high, warped.low, warped.mask,
                            target.noise if options.add_noise else None, rng)  # fmt: skip
    m = warped.matrix
    matrix = ((float(m[0, 0]), float(m[0, 1]), float(m[0, 2]) + left),
              (float(m[1, 0]), float(m[1, 1]), float(m[1, 2]) + top))  # fmt: skip
    transform = Transform(
        angle_deg=candidate.pose.angle_deg,
        flipped=candidate.pose.flipped,
        scale=candidate.pose.scale,
        pitch_scale=_pitch_scale(fti, view),
        top=top,
        left=left,
        centre=(warped.centre[0] + top, warped.centre[1] + left),
        matrix=matrix,
    )
    h, w = warped.shape
    return Projection(
        fti_id=fti.fti_id,
        view=new_view,
        box=(left, top, left + w, top + h),
        mask=warped.mask,
        placed_high=warped.high,
        placed_low=warped.low if view.low is not None else None,
        transform=transform,
        measures=factors,
        noise=target.noise,
        opaque_a_high=target.a_opaque,
        attempts=attempts,
        notes=tuple(target.notes),
        a_air=a_air,
    )


def _pose(rng: np.random.Generator, options: ProjectionOptions) -> Pose:
    return draw_pose(rng, options.rotation, options.small_angle_deg, options.flip_probability,
                     options.scale_jitter)  # fmt: skip


def project_view(
    view: View,
    fti: FtiImage,
    rng: np.random.Generator | int,
    *,
    profile: str | None = None,
    noise: NoiseModel | None = None,
    options: ProjectionOptions | None = None,
    outline: BagOutline | None = None,
    pose: Pose | None = None,
    centre: tuple[float, float] | None = None,
) -> Projection:
    """Project ``fti`` into ``view`` at a random acceptable placement.

    ``profile`` is the scan's scanner profile name (``None`` or ``"unknown"``: not known;
    the FTI's profile must match a known one unless ``options.allow_profile_mismatch``).
    Noise comes from ``noise``, else from the profile, else is estimated from the view.
    ``outline`` skips finding the bag outline (otherwise cached per view object). ``pose``
    and ``centre`` (view pixels, ``(row, column)``) fix the placement instead of drawing it;
    a fixed placement that is rejected raises at once.

    Raises :class:`UnmeasuredTransmissionError` for a pseudo-colour view,
    :class:`ProfileMismatchError`, :class:`InvalidFtiError`, and :class:`NoPlacementError`
    (:class:`FtiTooLargeError`, :class:`NoBagError`) when no placement is acceptable after
    ``options.max_attempts`` candidates.
    """
    options = options or DEFAULT_OPTIONS
    gen = _as_rng(rng)
    _check_view(view)
    notes = _profile_notes(fti, profile, options)
    prepared = _prepare_fti(fti)
    target = _target(view, profile, noise, options, outline, notes)
    _check_size(fti, prepared, target, options)
    fixed = pose is not None and centre is not None
    attempts = 1 if fixed else options.max_attempts
    rejections = {REJECT_OUTSIDE: 0, REJECT_HIDDEN: 0}
    for attempt in range(1, attempts + 1):
        drawn = pose if pose is not None else _pose(gen, options)
        result = _try(target, prepared, fti, drawn, gen, options, centre=centre)
        if isinstance(result, _Candidate):
            return _finish(result, fti, gen, options, attempt)
        rejections[result] += 1
    raise NoPlacementError(fti.fti_id, view.name, attempts, rejections)


def bag_clutter(view: View, *, profile: str | None = None,
                options: ProjectionOptions | None = None) -> float | None:
    """The bag's clutter: the share of the pixels inside its outline (where an FTI may lie)
    that are edges of the capped high-energy attenuation, as a placement's clutter
    (:func:`screener.tip.measures.clutter`) but over the whole bag rather than one FTI's
    box. ``None`` for a pseudo-colour view (no transmission) and when no bag outline is
    found. TIP scoring bins every screened bag, with
    or without an FTI, by it, so that H and F of a clutter bin come from like bags."""
    if view.material_class is not None:
        return None
    options = options or DEFAULT_OPTIONS
    key = ("bag clutter", options.outline_key, options.clutter_edge_threshold, profile)
    cached = _view_cached(view, key)
    if cached is not None:
        assert isinstance(cached, float)
        return cached
    target = _target(view, profile, None, options, None, [])
    if target.outline.is_empty:
        return None
    edges = edge_map(bag_attenuation(view.transmission("high"), target.a_opaque),
                     options.clutter_edge_threshold)
    region = target.outline.allowed
    share = int(np.count_nonzero(edges & region)) / int(np.count_nonzero(region))
    _view_store(view, key, share)
    return share


def project_scan(
    scan: Scan,
    fti: FtiImage,
    rng: np.random.Generator | int,
    *,
    views: str | Sequence[str] | None = None,
    noise: NoiseModel | Mapping[str, NoiseModel] | None = None,
    options: ProjectionOptions | None = None,
    outlines: Mapping[str, BagOutline] | None = None,
) -> ScanProjection:
    """Project ``fti`` into ``views`` of ``scan`` (a name, several, or ``None``: all) and
    return the new scan.

    In a multi-view scanner the article shows in every view. A 2D FTI library has one image
    per orientation, so the same image (same turn, flip and size) goes into each view,
    centred at the same position along the belt (columns; a view whose belt runs the other
    way is mirrored), each view at its own row inside its own bag outline. The first view
    named is placed first; a candidate is accepted only when every view accepts it.
    Physically the other views would see the article from another side: this is the
    limitation of a 2D library (docs/tip-projection.md).
    """
    options = options or DEFAULT_OPTIONS
    gen = _as_rng(rng)
    if scan.metadata.source_kind is SourceKind.PSEUDO_COLOUR:
        raise UnmeasuredTransmissionError(scan.views[0].name)
    names = [v.name for v in scan.views] if views is None else \
        [views] if isinstance(views, str) else list(views)
    if not names:
        raise ProjectionError("no view named to project into")
    chosen = [scan.view(name) for name in names]  # KeyError names the views there are
    profile = scan.metadata.scanner_profile
    notes = _profile_notes(fti, profile, options)
    prepared = _prepare_fti(fti)
    targets = []
    for view in chosen:
        view_noise = noise.get(view.name) if isinstance(noise, Mapping) else noise
        given = outlines.get(view.name) if outlines is not None else None
        target = _target(view, profile, view_noise, options, given, notes)
        _check_size(fti, prepared, target, options)
        targets.append(target)
    first = targets[0]
    rejections = {REJECT_OUTSIDE: 0, REJECT_HIDDEN: 0}
    for attempt in range(1, options.max_attempts + 1):
        pose = _pose(gen, options)
        primary = _try(first, prepared, fti, pose, gen, options)
        if not isinstance(primary, _Candidate):
            rejections[primary] += 1
            continue
        centre_col = primary.warped.centre[1] + primary.left
        belt_position = belt_mm(first.view, centre_col + 0.5)
        found: list[_Candidate] = [primary]
        for other in targets[1:]:
            mirrored = other.view.belt_direction is not first.view.belt_direction
            result = _try(other, prepared, fti, pose.mirrored() if mirrored else pose, gen,
                          options, centre_column=x_at_belt_mm(other.view, belt_position) - 0.5,
                          tries=ROWS_PER_VIEW)  # fmt: skip
            if not isinstance(result, _Candidate):
                rejections[result] += 1
                break
            found.append(result)
        else:
            projections = [_finish(c, fti, gen, options, attempt) for c in found]
            by_name = {p.view.name: p for p in projections}
            new_views = tuple(by_name[v.name].view if v.name in by_name else v
                              for v in scan.views)  # fmt: skip
            ordered = tuple(by_name[v.name] for v in scan.views if v.name in by_name)
            return ScanProjection(dataclasses.replace(scan, views=new_views), fti.fti_id,
                                  ordered)  # fmt: skip
    raise NoPlacementError(fti.fti_id, ", ".join(names), options.max_attempts, rejections)


__all__ = [
    "DEFAULT_OPTIONS",
    "REJECT_HIDDEN",
    "REJECT_OUTSIDE",
    "BagOutline",
    "ChannelNoise",
    "FtiTooLargeError",
    "ImageFactors",
    "InvalidFtiError",
    "NoBagError",
    "NoPlacementError",
    "NoiseModel",
    "Pose",
    "ProfileMismatchError",
    "Projection",
    "ProjectionError",
    "ProjectionOptions",
    "RotationMode",
    "ScanProjection",
    "Transform",
    "UnmeasuredTransmissionError",
    "bag_clutter",
    "compose_channel",
    "compose_view",
    "estimate_noise",
    "outline_for",
    "project_scan",
    "project_view",
]
