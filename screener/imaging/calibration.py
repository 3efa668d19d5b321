"""Dual-energy calibration: ``(A_high, A_low)`` -> effective atomic number and material class.

A calibration is built per scanner profile from noise-free step wedges of reference materials
(polyethylene, POM, water, aluminium, iron, lead) simulated with the profile's spectra. For each
reference it keeps the curve ``R = A_low / A_high`` against ``A_high``; a pixel's Zeff is read
off between the curves that bracket its ``R`` at its ``A_high`` (see :func:`classify_direct`).
The result is tabulated on an ``(A_high, R)`` grid indexed straight from float32 bit patterns,
so :func:`classify` is one float32 division, two integer shifts, a few in-place integer
operations and two table gathers: no logarithm, no float64 temporary.

The table index
---------------
For a positive float32 ``x`` the bit pattern shifted right by ``s`` bits, ``q(x) = bits >> s``,
is the exponent followed by the top ``23 - s`` mantissa bits: a piecewise-linear logarithm with
``2**(23 - s)`` steps per octave. Row ``i`` holds ``q(A_high) = high_index_origin + i`` (64
steps per octave: the curves change slowly with A_high) and column ``j`` holds
``q(R) = ratio_index_origin + j`` (128 steps per octave at 160 kV, 256 at MeV where the curves
lie within a few per cent of each other). A cell is thus an exact rectangle in
``(A_high, R)``, at most 1/64 of an octave by ``1/steps`` of an octave. Pixels off the table
clamp to its edge rows and columns (row 0 is air, the last row impenetrable).

Why divide: indexing columns by ``q(A_low) - q(A_high)`` avoids the division, but then a
cell's spread in R is the sum of its A_high and A_low steps, so R is resolved only as finely
as A_high is: the MeV table would need four times as many rows (tried: 2856 x 269 instead of
717 x 123). The float32 division is one pass over the image, under a millisecond.

Run time needs numpy only; building needs :mod:`screener.physics` (and cv2 through it).
Regenerate the shipped files with ``python -m screener.imaging.build_calibration``; see
docs/calibration.md.
"""

from __future__ import annotations

import functools
import io
import json
import math
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from numpy.typing import NDArray

from screener.atomic_files import written_atomically
from screener.errors import ScreenerError

if TYPE_CHECKING:
    from screener.physics.profiles import ChannelSpectrum, ScannerProfile

FloatArray = NDArray[np.float64]

#: The ``format`` field of every calibration file.
FORMAT_NAME: Final = "screener-dual-energy-calibration"
#: Version of the file layout this module writes and reads.
FORMAT_VERSION: Final = 1
#: Reference materials of the step wedges (names in :mod:`screener.physics.materials`).
DEFAULT_REFERENCES: Final = ("polyethylene", "pom", "water", "aluminium", "iron", "lead")
#: Zeff below this is organic (orange), from here to METAL_MIN_ZEFF inorganic (green).
ORGANIC_MAX_ZEFF: Final = 10.0
#: Zeff from this up is metal (blue).
METAL_MIN_ZEFF: Final = 18.0
#: A pixel is background (air) while A_high is below this many open-beam noise sigmas.
BACKGROUND_SIGMAS: Final = 3.0
#: A channel carries material information while its signal-to-noise ratio is at least this
#: (the Rose criterion); a pixel is impenetrable when either channel falls below it.
MIN_CHANNEL_SNR: Final = 5.0
#: Step-wedge mass thicknesses (g/cm^2), log-spaced; points with A_high below
#: WEDGE_MIN_A (float32 rounding of T near 1) or A_low above WEDGE_MAX_A are dropped.
WEDGE_MASS_THICKNESS: Final = np.geomspace(1e-4, 3e3, 561)
WEDGE_MIN_A: Final = 1e-3
WEDGE_MAX_A: Final = 20.0
#: Common A_high grid on which the reference curves are kept (log-spaced, 20 per octave).
CURVE_A_HIGH: Final = np.geomspace(2.0**-10, 2.0**6, 16 * 20 + 1)
#: Table rows per octave of A_high (row index = float32 bits of A_high >> 17).
HIGH_STEPS_PER_OCTAVE: Final = 64
#: Allowed table columns per octave of R.
RATIO_STEPS_CHOICES: Final = (128, 256, 512)
#: Columns beyond the outermost reference curves on each side, in octaves of R.
RATIO_MARGIN_OCTAVES: Final = 0.125
#: Name pattern of the shipped files in ``screener/imaging/data``.
DATA_FILE_PATTERN: Final = "calibration-{profile}.npz"
REGENERATE_HINT: Final = "regenerate it with: python -m screener.imaging.build_calibration"

_FLOAT32_MANTISSA_BITS: Final = 23


class MaterialClass(IntEnum):
    """What a pixel shows as, from its effective atomic number and its attenuation."""

    BACKGROUND = 0  # nothing attenuating: A_high within the open-beam noise
    ORGANIC = 1  # Zeff below about 10 (orange)
    INORGANIC = 2  # inorganic or mixed, Zeff about 10-18 (green)
    METAL = 3  # Zeff above about 18 (blue)
    IMPENETRABLE = 4  # too few photons in a channel to tell materials (black)


class CalibrationError(ScreenerError):
    """A calibration is missing, unknown, stale or cannot be read."""


class CalibrationFileError(CalibrationError):
    """A calibration file cannot be accepted. Names the file, the field and the problem."""

    def __init__(self, path: Path | str, field: str, problem: str) -> None:
        self.path = str(path)
        self.field = field
        self.problem = " ".join(problem.split())
        super().__init__(f"{self.path}: {field}: {self.problem}. Re-install Screener or "
                         f"{REGENERATE_HINT}")  # fmt: skip


@dataclass(frozen=True, eq=False)
class Calibration:
    """A per-profile lookup from ``(A_high, A_low)`` to Zeff and :class:`MaterialClass`.

    Row ``i`` of the tables holds pixels with ``q_h(A_high) = high_index_origin + i`` and
    column ``j`` those with ``q_r(A_low / A_high) = ratio_index_origin + j``, where
    ``q_h(x) = float32 bits of x >> high_index_shift`` and likewise ``q_r`` with
    ``ratio_index_shift`` (see the module docstring). ``zeff`` is NaN where the class is
    BACKGROUND or IMPENETRABLE. The reference curves (``curve_ratio[m]``
    is R of ``reference_names[m]`` on ``curve_a_high``, NaN where the wedge ran out of
    photons) are kept so the table can be rebuilt, checked and drawn.
    """

    profile: str
    format_version: int
    high_index_shift: int
    ratio_index_shift: int
    high_index_origin: int
    ratio_index_origin: int
    zeff: NDArray[np.float32]
    material_class: NDArray[np.uint8]
    background_a_high: float
    impenetrable_a_high: float
    impenetrable_a_low: float
    organic_max_zeff: float
    metal_min_zeff: float
    reference_names: tuple[str, ...]
    reference_zeff: FloatArray
    curve_a_high: FloatArray
    curve_ratio: FloatArray
    provenance: Mapping[str, str | float]

    def __post_init__(self) -> None:
        for name in ("zeff", "material_class", "reference_zeff", "curve_a_high", "curve_ratio"):
            array = getattr(self, name)
            if array.flags.writeable:
                array = array.copy()
                array.setflags(write=False)
                object.__setattr__(self, name, array)

    @property
    def high_steps_per_octave(self) -> int:
        """Table rows per factor of two in A_high."""
        return 1 << (_FLOAT32_MANTISSA_BITS - self.high_index_shift)

    @property
    def ratio_steps_per_octave(self) -> int:
        """Table columns per factor of two in R."""
        return 1 << (_FLOAT32_MANTISSA_BITS - self.ratio_index_shift)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the tables."""
        rows, cols = self.zeff.shape
        return int(rows), int(cols)

    def a_high_axis(self, fraction: float = 0.5) -> NDArray[np.float32]:
        """A_high at ``fraction`` of the way through each row (0: lower edges), ``(rows,)``."""
        q = np.arange(self.shape[0], dtype=np.int64) + self.high_index_origin
        return _q_to_float(q, self.high_index_shift, fraction)

    def ratio_axis(self, fraction: float = 0.5) -> NDArray[np.float32]:
        """R at ``fraction`` of the way through each column (0: lower edges), ``(columns,)``."""
        q = np.arange(self.shape[1], dtype=np.int64) + self.ratio_index_origin
        return _q_to_float(q, self.ratio_index_shift, fraction)

    def cell_index(
        self, a_high: NDArray[np.float32], a_low: NDArray[np.float32]
    ) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
        """(row, column) of each pixel's table cell, clamped to the table."""
        rows, cols = self.shape
        ah = np.ascontiguousarray(a_high, dtype=np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.divide(np.ascontiguousarray(a_low, dtype=np.float32), ah)
        # A_high <= 0 lands in row 0 (air) whatever R is; R's bits become its column in place.
        col = ratio.view(np.int32)
        np.right_shift(col, self.ratio_index_shift, out=col)
        col -= np.int32(self.ratio_index_origin)
        np.clip(col, 0, cols - 1, out=col)
        row = np.right_shift(ah.view(np.int32), self.high_index_shift)
        row -= np.int32(self.high_index_origin)
        np.clip(row, 0, rows - 1, out=row)
        return row, col


# --------------------------------------------------------------------------------------
# Run time: the fast lookup

#: Pixels per block in :func:`classify`: the block's temporaries (about 1 MB) stay in cache.
CLASSIFY_BLOCK: Final = 1 << 16


def classify(
    a_high: NDArray[np.float32], a_low: NDArray[np.float32], cal: Calibration
) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """Zeff (float32, NaN for background and impenetrable) and class (uint8) per pixel.

    ``a_high`` and ``a_low`` are log attenuations ``-ln T`` of the same shape (float32;
    other dtypes are converted). Negative values count as no attenuation, values beyond the
    table clamp to its edges (very large A is impenetrable). About 8 ms for 1000 x 1500 px on
    one core (docs/calibration.md).

    Per block of pixels: R = A_low / A_high in float32, its bits shifted right in place give
    the column, A_high's bits shifted give the row, both are clamped, the flat index is
    ``row * columns + column`` and the two tables are gathered with :func:`numpy.take`.
    Blocks keep the temporaries in cache: on the whole image at once the same steps take
    two to three times as long (measured).
    """
    ah = np.ascontiguousarray(a_high, dtype=np.float32)
    al = np.ascontiguousarray(a_low, dtype=np.float32)
    if ah.shape != al.shape:
        raise ValueError(f"a_high {ah.shape} and a_low {al.shape} must have the same shape")
    zeff = np.empty(ah.shape, dtype=np.float32)
    classes = np.empty(ah.shape, dtype=np.uint8)
    flat_h, flat_l = ah.reshape(-1), al.reshape(-1)
    bits_h = flat_h.view(np.int32)
    out_z, out_c = zeff.reshape(-1), classes.reshape(-1)
    rows, cols = cal.shape
    r_lo, h_lo = cal.ratio_index_origin, cal.high_index_origin
    r_hi, h_hi = r_lo + cols - 1, h_lo + rows - 1
    offset = np.int32(h_lo * cols + r_lo)
    z_table, c_table = cal.zeff.reshape(-1), cal.material_class.reshape(-1)
    block = max(1, min(CLASSIFY_BLOCK, flat_h.size))
    ratio_buf = np.empty(block, dtype=np.float32)
    row_buf = np.empty(block, dtype=np.int32)
    index_buf = np.empty(block, dtype=np.intp)
    with np.errstate(divide="ignore", invalid="ignore"):
        for start in range(0, flat_h.size, block):
            stop = min(flat_h.size, start + block)
            n = stop - start
            ratio, row, index = ratio_buf[:n], row_buf[:n], index_buf[:n]
            # A_high <= 0 is row 0 (air) whatever R is, so 0/0 and x/0 need no care.
            np.divide(flat_l[start:stop], flat_h[start:stop], out=ratio)
            col = ratio.view(np.int32)
            np.right_shift(col, cal.ratio_index_shift, out=col)
            np.clip(col, r_lo, r_hi, out=col)
            np.right_shift(bits_h[start:stop], cal.high_index_shift, out=row)
            np.clip(row, h_lo, h_hi, out=row)
            row *= np.int32(cols)
            row += col
            row -= offset
            index[...] = row  # int32 -> intp once: np.take would convert per call
            np.take(z_table, index, out=out_z[start:stop], mode="clip")
            np.take(c_table, index, out=out_c[start:stop], mode="clip")
    return zeff, classes


# --------------------------------------------------------------------------------------
# The calibration itself: Zeff between reference curves


def _float_to_q(x: float, shift: int) -> int:
    """Table index of one positive number: its float32 bits shifted right by ``shift``."""
    return int(np.array([x], dtype=np.float32).view(np.int32)[0]) >> shift


def _q_to_float(q: NDArray[np.int64], shift: int, fraction: float) -> NDArray[np.float32]:
    """The float32 at ``fraction`` of the way through table cell ``q`` (0: lower edge)."""
    bits = (q << shift) + int(fraction * (1 << shift))
    return bits.astype(np.int32).view(np.float32)


def _curve_ratios(
    a_high: FloatArray, curve_a_high: FloatArray, curve_ratio: FloatArray
) -> FloatArray:
    """R of every reference curve at each A_high, shape (P, M); NaN past a curve's end.

    Linear in log A_high; below the grid a curve keeps its thinnest value (R tends to a
    constant as the thickness goes to zero).
    """
    x = np.log(np.maximum(a_high, curve_a_high[0]))
    grid = np.log(curve_a_high)
    out = np.empty((a_high.size, curve_ratio.shape[0]), dtype=np.float64)
    for m in range(curve_ratio.shape[0]):
        out[:, m] = np.interp(x, grid, curve_ratio[m], right=np.nan)
    return out


def _anchors(ratios: FloatArray) -> NDArray[np.bool_]:
    """Which references may anchor the Zeff scale at each point (references sorted by Zeff).

    A reference is dropped where its R lies strictly between the R of two *lighter*
    references: superposing those two gives the same (A_high, A_low) at some mix, so that
    point cannot mean the heavier material. This drops lead throughout the 160 kV profile
    (its K edge sits in the high channel) and iron and lead where their MeV curves fall among
    the lighter ones; no direction of R against Z is assumed.
    """
    valid = ~np.isnan(ratios)
    lo = np.where(valid, ratios, np.inf)
    hi = np.where(valid, ratios, -np.inf)
    lighter_min = np.minimum.accumulate(lo, axis=1)
    lighter_max = np.maximum.accumulate(hi, axis=1)
    lighter_min = np.concatenate([np.full_like(lo[:, :1], np.inf), lighter_min[:, :-1]], axis=1)
    lighter_max = np.concatenate([np.full_like(hi[:, :1], -np.inf), lighter_max[:, :-1]], axis=1)
    inside = (lighter_min < ratios) & (ratios < lighter_max)
    result: NDArray[np.bool_] = valid & ~inside
    return result


def _zeff_on_curves(
    a_high: FloatArray,
    ratio: FloatArray,
    curve_a_high: FloatArray,
    curve_ratio: FloatArray,
    reference_zeff: FloatArray,
) -> FloatArray:
    """Zeff at each (A_high, R): linear in R between the anchor curves that bracket it.

    The anchors at a point's A_high, ordered by their R there, define a piecewise-linear
    Zeff(R) through their reference Zeff values, constant beyond the outermost two (clamped).
    ``reference_zeff`` must be increasing (curves sorted light to heavy).
    """
    ratios = _curve_ratios(a_high, curve_a_high, curve_ratio)
    keep = _anchors(ratios)
    n_kept = keep.sum(axis=1)
    r_key = np.where(keep, ratios, np.inf)
    order = np.argsort(r_key, axis=1, kind="stable")
    r_sorted = np.take_along_axis(r_key, order, axis=1)
    z_sorted = reference_zeff[order]
    below = (r_sorted < ratio[:, None]).sum(axis=1)
    upper = np.clip(below, 1, np.maximum(n_kept - 1, 1))
    rows = np.arange(ratio.size)
    r0, r1 = r_sorted[rows, upper - 1], r_sorted[rows, np.minimum(upper, r_sorted.shape[1] - 1)]
    z0, z1 = z_sorted[rows, upper - 1], z_sorted[rows, np.minimum(upper, r_sorted.shape[1] - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.clip((ratio - r0) / (r1 - r0), 0.0, 1.0)
    t = np.where(np.isfinite(t), t, 0.0)
    zeff = np.where(n_kept >= 2, z0 + t * (z1 - z0), z0)
    result: FloatArray = np.where(n_kept >= 1, zeff, np.nan)
    return result


def classify_direct(
    a_high: NDArray[np.floating[Any]], a_low: NDArray[np.floating[Any]], cal: Calibration
) -> tuple[NDArray[np.float32], NDArray[np.uint8]]:
    """What :func:`classify` tabulates, computed exactly per pixel from the reference curves.

    Slow (float64, every curve interpolated at every pixel): for tests and for building the
    tables, which hold this function's value at the centre of each cell.
    """
    ah = np.asarray(a_high, dtype=np.float64)
    al = np.asarray(a_low, dtype=np.float64)
    if ah.shape != al.shape:
        raise ValueError(f"a_high {ah.shape} and a_low {al.shape} must have the same shape")
    flat_h, flat_l = ah.reshape(-1), al.reshape(-1)
    zeff = np.full(flat_h.shape, np.nan, dtype=np.float64)
    classes = np.empty(flat_h.shape, dtype=np.uint8)
    background = ~(flat_h >= cal.background_a_high)  # NaN counts as background
    dark = ~background & ((flat_h > cal.impenetrable_a_high) | ~(flat_l <= cal.impenetrable_a_low))
    seen = np.flatnonzero(~background & ~dark)
    chunk = 1 << 16
    for start in range(0, seen.size, chunk):
        idx = seen[start : start + chunk]
        zeff[idx] = _zeff_on_curves(flat_h[idx], flat_l[idx] / flat_h[idx], cal.curve_a_high,
                                    cal.curve_ratio, cal.reference_zeff)  # fmt: skip
    classes[:] = MaterialClass.METAL
    classes[zeff < cal.metal_min_zeff] = MaterialClass.INORGANIC
    classes[zeff < cal.organic_max_zeff] = MaterialClass.ORGANIC
    classes[background] = MaterialClass.BACKGROUND
    classes[dark] = MaterialClass.IMPENETRABLE
    return zeff.astype(np.float32).reshape(ah.shape), classes.reshape(ah.shape)


# --------------------------------------------------------------------------------------
# Building: step wedges, thresholds from the noise model, the table


def a_noise_sigma(channel: ChannelSpectrum, electronic_noise: float, transmission: float) -> float:
    """Standard deviation of ``A = -ln T`` for one pixel at ``transmission``.

    Quantum noise on ``open_beam_quanta * T`` plus additive electronic noise (fraction of the
    open beam), as in :func:`screener.physics.detector.detect`: ``sigma_T^2 = T/N + e^2`` and
    ``sigma_A = sigma_T / T``.
    """
    n = channel.open_beam_quanta
    return math.sqrt(transmission / n + electronic_noise**2) / transmission


def background_threshold(profile: ScannerProfile, sigmas: float = BACKGROUND_SIGMAS) -> float:
    """A_high below which a pixel is air: ``sigmas`` times the open-beam noise of A_high."""
    return sigmas * a_noise_sigma(profile.high, profile.electronic_noise, 1.0)


def impenetrable_threshold(
    channel: ChannelSpectrum, electronic_noise: float, min_snr: float = MIN_CHANNEL_SNR
) -> float:
    """Largest A at which the channel's signal-to-noise ratio is still ``min_snr``.

    With ``n = N T`` detected quanta and electronic noise ``e N`` (in quanta) the SNR is
    ``n / sqrt(n + (e N)^2)``; it equals ``s`` at ``n = (s^2 + sqrt(s^4 + 4 s^2 (e N)^2)) / 2``,
    so ``A_max = ln(N / n)``. For ``s = 5`` and no electronic noise that is 25 quanta.
    """
    n_open = channel.open_beam_quanta
    s2 = min_snr**2
    quanta = (s2 + math.sqrt(s2 * s2 + 4.0 * s2 * (electronic_noise * n_open) ** 2)) / 2.0
    return math.log(n_open / quanta)


def ratio_noise_log2(profile: ScannerProfile, a_high: float, ratio: float) -> float:
    """Single-pixel standard deviation of ``log2(R)`` at (A_high, R), both channels' noise."""
    a_low = ratio * a_high
    e = profile.electronic_noise
    rel_h = a_noise_sigma(profile.high, e, math.exp(-a_high)) / a_high
    rel_l = a_noise_sigma(profile.low, e, math.exp(-a_low)) / a_low
    return math.hypot(rel_h, rel_l) / math.log(2.0)


def _wedge_curves(
    profile: ScannerProfile, references: Sequence[str]
) -> tuple[FloatArray, FloatArray]:
    """(A_high grid, R of each reference on it) from noise-free step wedges."""
    from screener.physics.detector import dual_energy_transmission, log_attenuation

    thickness = np.asarray(WEDGE_MASS_THICKNESS, dtype=np.float32)[None, :]
    grid = np.asarray(CURVE_A_HIGH, dtype=np.float64)
    curves = np.empty((len(references), grid.size), dtype=np.float64)
    for m, name in enumerate(references):
        t_low, t_high = dual_energy_transmission({name: thickness}, profile)
        a_low = log_attenuation(t_low)[0].astype(np.float64)
        a_high = log_attenuation(t_high)[0].astype(np.float64)
        use = (a_high >= WEDGE_MIN_A) & (a_low <= WEDGE_MAX_A)
        if np.count_nonzero(use) < 10 or np.any(np.diff(a_high[use]) <= 0.0):
            raise CalibrationError(f"step wedge of {name!r} gives no usable curve for "
                                   f"profile {profile.name!r}")  # fmt: skip
        x = np.log(a_high[use])
        r = a_low[use] / a_high[use]
        curves[m] = np.interp(np.log(grid), x, r, left=r[0], right=np.nan)
    return grid, curves


def _ratio_steps(profile: ScannerProfile, grid: FloatArray, curves: FloatArray) -> int:
    """Columns per octave of R: rounding error at most a quarter of the pixel noise.

    A column is at most ``1/steps`` of an octave wide, so rounding R to it is an error of
    standard deviation at most ``1 / (steps sqrt(12))`` octaves. This picks the coarsest of
    128, 256, 512 that keeps it below a quarter of the smallest single-pixel noise of log2(R)
    on the reference curves at ``A_high = 1`` (so it adds at most 3 % to that noise): 128 at
    160 kV, 512 at MeV where the curves lie within a few per cent of each other.
    """
    ratios = _curve_ratios(np.array([1.0]), grid, curves)[0]
    sigma = min(ratio_noise_log2(profile, 1.0, float(r)) for r in ratios if np.isfinite(r))
    for steps in RATIO_STEPS_CHOICES:
        if 1.0 / (steps * math.sqrt(12.0)) <= sigma / 4.0:
            return steps
    return RATIO_STEPS_CHOICES[-1]


def build_calibration(
    profile: ScannerProfile,
    *,
    references: Sequence[str] = DEFAULT_REFERENCES,
    organic_max_zeff: float = ORGANIC_MAX_ZEFF,
    metal_min_zeff: float = METAL_MIN_ZEFF,
    background_sigmas: float = BACKGROUND_SIGMAS,
    min_channel_snr: float = MIN_CHANNEL_SNR,
    ratio_steps_per_octave: int | None = None,
) -> Calibration:
    """Simulate step wedges of ``references`` at ``profile``'s spectra and tabulate the lookup.

    Reference Zeff values are the power-law ones of :func:`screener.physics.elements.effective_z`
    (polyethylene 5.44, POM 6.95, water 7.42, aluminium 13, iron 25.96, lead 82).
    Thresholds come from the profile's noise: background below ``background_sigmas`` open-beam
    sigmas of A_high, impenetrable where either channel's SNR drops below ``min_channel_snr``.
    """
    from screener.physics.elements import effective_z
    from screener.physics.materials import get_material
    from screener.physics.scanner_specs import PROFILE_SPECS, fingerprint

    if not 0.0 < organic_max_zeff < metal_min_zeff:
        raise ValueError("need 0 < organic_max_zeff < metal_min_zeff")
    zs = {name: effective_z(get_material(name).composition) for name in references}
    ordered = sorted(references, key=lambda name: zs[name])
    ref_z = np.array([zs[name] for name in ordered], dtype=np.float64)
    if np.any(np.diff(ref_z) <= 0.0):
        raise ValueError("reference materials must have distinct Zeff values")
    grid, curves = _wedge_curves(profile, ordered)

    e = profile.electronic_noise
    a_bg = background_threshold(profile, background_sigmas)
    a_imp_high = impenetrable_threshold(profile.high, e, min_channel_snr)
    a_imp_low = impenetrable_threshold(profile.low, e, min_channel_snr)
    steps = ratio_steps_per_octave or _ratio_steps(profile, grid, curves)
    if steps not in RATIO_STEPS_CHOICES:
        raise ValueError(f"ratio_steps_per_octave must be one of {RATIO_STEPS_CHOICES}")
    high_shift = _FLOAT32_MANTISSA_BITS - round(math.log2(HIGH_STEPS_PER_OCTAVE))
    ratio_shift = _FLOAT32_MANTISSA_BITS - round(math.log2(steps))

    # Row 0 lies wholly below the background threshold and the last row wholly above the
    # impenetrable one, so clamping out-of-range pixels to the edge rows is exact.
    high_origin = _float_to_q(a_bg, high_shift) - 1
    rows = _float_to_q(a_imp_high, high_shift) + 2 - high_origin
    in_rows = (grid >= a_bg / 2.0) & (grid <= a_imp_high * 2.0)
    seen = curves[:, in_rows]
    margin = 2.0**RATIO_MARGIN_OCTAVES
    ratio_origin = _float_to_q(float(np.nanmin(seen)) / margin, ratio_shift)
    cols = _float_to_q(float(np.nanmax(seen)) * margin, ratio_shift) + 1 - ratio_origin

    provenance: dict[str, str | float] = {
        "profile_description": profile.description,
        "profile_fingerprint": (
            fingerprint(PROFILE_SPECS[profile.name]) if profile.name in PROFILE_SPECS else ""
        ),
        "open_beam_quanta_low": profile.low.open_beam_quanta,
        "open_beam_quanta_high": profile.high.open_beam_quanta,
        "electronic_noise": e,
        "wedge_mass_thickness_g_cm2": (
            f"{len(WEDGE_MASS_THICKNESS)} log-spaced from {WEDGE_MASS_THICKNESS[0]:g} to "
            f"{WEDGE_MASS_THICKNESS[-1]:g}, A_high >= {WEDGE_MIN_A:g}, A_low <= {WEDGE_MAX_A:g}"
        ),
    }
    empty = np.zeros((rows, cols), dtype=np.float32)
    draft = Calibration(
        profile=profile.name,
        format_version=FORMAT_VERSION,
        high_index_shift=high_shift,
        ratio_index_shift=ratio_shift,
        high_index_origin=high_origin,
        ratio_index_origin=ratio_origin,
        zeff=empty,
        material_class=empty.astype(np.uint8),
        background_a_high=a_bg,
        impenetrable_a_high=a_imp_high,
        impenetrable_a_low=a_imp_low,
        organic_max_zeff=float(organic_max_zeff),
        metal_min_zeff=float(metal_min_zeff),
        reference_names=tuple(ordered),
        reference_zeff=ref_z,
        curve_a_high=grid,
        curve_ratio=curves,
        provenance=provenance,
    )
    centre_high = draft.a_high_axis().astype(np.float64)[:, None]
    centre_ratio = draft.ratio_axis().astype(np.float64)[None, :]
    zeff, classes = classify_direct(
        np.broadcast_to(centre_high, (rows, cols)), centre_high * centre_ratio, draft
    )
    return _replace_tables(draft, zeff, classes)


def _replace_tables(
    cal: Calibration, zeff: NDArray[np.float32], classes: NDArray[np.uint8]
) -> Calibration:
    return Calibration(**{**_fields(cal), "zeff": zeff, "material_class": classes})


def _fields(cal: Calibration) -> dict[str, Any]:
    return {name: getattr(cal, name) for name in cal.__dataclass_fields__}


# --------------------------------------------------------------------------------------
# Files

_ARRAYS: Final = ("zeff", "material_class", "reference_zeff", "curve_a_high", "curve_ratio")
_DTYPES: Final = {
    "zeff": np.dtype(np.float32),
    "material_class": np.dtype(np.uint8),
    "reference_zeff": np.dtype(np.float64),
    "curve_a_high": np.dtype(np.float64),
    "curve_ratio": np.dtype(np.float64),
}


def calibration_header(cal: Calibration) -> dict[str, Any]:
    """The JSON header of a calibration file (everything but the arrays)."""
    return {
        "format": FORMAT_NAME,
        "format_version": cal.format_version,
        "profile": cal.profile,
        "high_index_shift": cal.high_index_shift,
        "ratio_index_shift": cal.ratio_index_shift,
        "high_steps_per_octave": cal.high_steps_per_octave,
        "ratio_steps_per_octave": cal.ratio_steps_per_octave,
        "high_index_origin": cal.high_index_origin,
        "ratio_index_origin": cal.ratio_index_origin,
        "shape": list(cal.shape),
        "background_a_high": cal.background_a_high,
        "impenetrable_a_high": cal.impenetrable_a_high,
        "impenetrable_a_low": cal.impenetrable_a_low,
        "organic_max_zeff": cal.organic_max_zeff,
        "metal_min_zeff": cal.metal_min_zeff,
        "reference_names": list(cal.reference_names),
        "classes": {c.name.lower(): int(c) for c in MaterialClass},
        "provenance": dict(cal.provenance),
    }


def calibration_bytes(cal: Calibration) -> bytes:
    """The calibration file's bytes: an npz (zip of .npy, deflated) with a JSON ``header``.

    Written with fixed zip timestamps, so the same calibration always gives the same bytes.
    """
    header = json.dumps(calibration_header(cal), sort_keys=True, indent=1)
    members: list[tuple[str, NDArray[Any]]] = [("header", np.array(header))]
    members += [(key, np.asarray(getattr(cal, key))) for key in _ARRAYS]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, array in members:
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return buffer.getvalue()


def save_calibration(cal: Calibration, path: Path | str) -> None:
    """Write ``cal`` as a compressed npz with a JSON header (atomically: temp file, rename)."""
    with written_atomically(Path(path)) as aside:
        aside.write_bytes(calibration_bytes(cal))


def load_calibration(path: Path | str, *, profile: str | None = None) -> Calibration:
    """Read and validate a calibration file; ``profile`` if given must match the file's.

    Raises :class:`CalibrationFileError` naming the file and the field for anything wrong:
    unreadable, not an npz, wrong format or version, other profile, missing or malformed
    field, wrong dtype or shape, values out of range.
    """
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise CalibrationFileError(source, "file", f"cannot be read ({exc.strerror})") from exc
    return _parse(data, str(source), profile)


def _parse(data: bytes, source: str, profile: str | None) -> Calibration:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise CalibrationFileError(source, "file", f"not a calibration npz file ({exc})") from exc
    header = _header(arrays, source)
    fields = _header_fields(header, source, profile)
    rows, cols = fields.pop("shape")
    n_refs = len(fields["reference_names"])
    for key in _ARRAYS:
        if key not in arrays:
            raise CalibrationFileError(source, key, "array is missing")
        if arrays[key].dtype != _DTYPES[key]:
            raise CalibrationFileError(source, key, f"dtype is {arrays[key].dtype}, "
                                       f"expected {_DTYPES[key]}")  # fmt: skip
    n_curve = arrays["curve_a_high"].shape[0] if arrays["curve_a_high"].ndim == 1 else -1
    shapes = {
        "zeff": (rows, cols),
        "material_class": (rows, cols),
        "reference_zeff": (n_refs,),
        "curve_a_high": (n_curve,),
        "curve_ratio": (n_refs, n_curve),
    }
    for key, shape in shapes.items():
        if arrays[key].shape != shape or min(shape) < 1:
            raise CalibrationFileError(source, key, f"shape is {arrays[key].shape}, "
                                       f"expected {shape}")  # fmt: skip
    _check_values(arrays, source)
    return Calibration(**fields, **{key: arrays[key] for key in _ARRAYS})


def _header(arrays: Mapping[str, NDArray[Any]], source: str) -> dict[str, Any]:
    if "header" not in arrays:
        raise CalibrationFileError(source, "header", "missing: this is not a calibration file")
    try:
        header = json.loads(str(arrays["header"]))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CalibrationFileError(source, "header", f"not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise CalibrationFileError(source, "header", "is not a JSON object")
    if header.get("format") != FORMAT_NAME:
        raise CalibrationFileError(
            source, "format", f"is {header.get('format')!r}, expected {FORMAT_NAME!r}"
        )
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise CalibrationFileError(source, "format_version", f"is {version!r}, not an integer")
    if version > FORMAT_VERSION:
        raise CalibrationFileError(
            source,
            "format_version",
            f"is {version}: written by a newer Screener (this one reads version {FORMAT_VERSION})",
        )
    if version != FORMAT_VERSION:
        raise CalibrationFileError(
            source,
            "format_version",
            f"is {version}, which this Screener no longer reads (it reads {FORMAT_VERSION})",
        )
    return header


def _header_fields(header: Mapping[str, Any], source: str, profile: str | None) -> dict[str, Any]:
    def get(key: str, kind: type | tuple[type, ...]) -> Any:
        value = header.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CalibrationFileError(source, key, f"is {value!r}, expected "
                                       f"{getattr(kind, '__name__', kind)}")  # fmt: skip
        return value

    def number(key: str, low: float = 0.0) -> float:
        value = float(get(key, (int, float)))
        if not (math.isfinite(value) and value > low):
            raise CalibrationFileError(source, key, f"is {value!r}, expected a finite number "
                                       f"above {low:g}")  # fmt: skip
        return value

    name = get("profile", str)
    if profile is not None and name != profile:
        raise CalibrationFileError(
            source, "profile", f"is {name!r}, expected a calibration for {profile!r}"
        )
    shifts = {key: get(key, int) for key in ("high_index_shift", "ratio_index_shift")}
    for key, shift in shifts.items():
        if not 14 <= shift <= 20:  # 8 to 512 steps per octave
            raise CalibrationFileError(source, key, f"is {shift}, expected 14 to 20")
    shape = get("shape", list)
    if len(shape) != 2 or not all(isinstance(n, int) and n > 0 for n in shape):
        raise CalibrationFileError(source, "shape", f"is {shape!r}, expected [rows, columns]")
    names = get("reference_names", list)
    if not names or not all(isinstance(n, str) for n in names):
        raise CalibrationFileError(source, "reference_names", f"is {names!r}")
    provenance = get("provenance", dict)
    if not all(isinstance(v, (str, int, float)) for v in provenance.values()):
        raise CalibrationFileError(source, "provenance", "values must be strings or numbers")
    fields: dict[str, Any] = {
        "profile": name,
        "format_version": header["format_version"],
        **shifts,
        "high_index_origin": get("high_index_origin", int),
        "ratio_index_origin": get("ratio_index_origin", int),
        "shape": (shape[0], shape[1]),
        "background_a_high": number("background_a_high"),
        "impenetrable_a_high": number("impenetrable_a_high"),
        "impenetrable_a_low": number("impenetrable_a_low"),
        "organic_max_zeff": number("organic_max_zeff"),
        "metal_min_zeff": number("metal_min_zeff"),
        "reference_names": tuple(names),
        "provenance": provenance,
    }
    rows, cols = fields["shape"]
    last_row, last_col = fields["high_index_origin"] + rows, fields["ratio_index_origin"] + cols
    if not (fields["high_index_origin"] >= 0 and last_row * cols + last_col < 2**31):
        # classify() forms row * columns + column in int32
        raise CalibrationFileError(source, "high_index_origin", "puts the table out of range")
    if not fields["background_a_high"] < fields["impenetrable_a_high"]:
        raise CalibrationFileError(source, "impenetrable_a_high", "is not above background_a_high")
    if not fields["organic_max_zeff"] < fields["metal_min_zeff"]:
        raise CalibrationFileError(source, "metal_min_zeff", "is not above organic_max_zeff")
    return fields


def _check_values(arrays: Mapping[str, NDArray[Any]], source: str) -> None:
    classes = arrays["material_class"]
    if classes.max() > max(MaterialClass):
        raise CalibrationFileError(
            source, "material_class", f"holds {int(classes.max())}, not a material class"
        )
    shows_zeff = (classes >= MaterialClass.ORGANIC) & (classes <= MaterialClass.METAL)
    if not np.array_equal(np.isfinite(arrays["zeff"]), shows_zeff):
        raise CalibrationFileError(source, "zeff", "must be finite exactly where the class is "
                                   "organic, inorganic or metal")  # fmt: skip
    ref_z = arrays["reference_zeff"]
    if not (np.all(np.isfinite(ref_z)) and np.all(np.diff(ref_z) > 0.0) and ref_z[0] > 0.0):
        raise CalibrationFileError(source, "reference_zeff", "must be positive and increasing")
    grid = arrays["curve_a_high"]
    if not (np.all(np.isfinite(grid)) and grid[0] > 0.0 and np.all(np.diff(grid) > 0.0)):
        raise CalibrationFileError(source, "curve_a_high", "must be positive and increasing")
    curves = arrays["curve_ratio"]
    if not np.all(np.isnan(curves) | (curves > 0.0)) or np.isnan(curves[:, 0]).any():
        raise CalibrationFileError(source, "curve_ratio", "must be positive (NaN past the end)")


# --------------------------------------------------------------------------------------
# Shipped calibrations


def shipped_profiles() -> tuple[str, ...]:
    """Profiles with a calibration file in ``screener/imaging/data``, sorted."""
    prefix, suffix = DATA_FILE_PATTERN.split("{profile}")
    folder = resources.files("screener.imaging") / "data"
    try:
        names = [entry.name for entry in folder.iterdir()]
    except (FileNotFoundError, NotADirectoryError):
        return ()
    return tuple(sorted(n[len(prefix) : -len(suffix)] for n in names
                        if n.startswith(prefix) and n.endswith(suffix)))  # fmt: skip


@functools.cache
def get_calibration(profile_name: str) -> Calibration:
    """The shipped calibration of ``profile_name`` (loaded once, then cached).

    Raises :class:`CalibrationError` for a profile without a calibration (listing the ones
    there are), :class:`CalibrationFileError` for a damaged file, and CalibrationError if the
    file was built for other spectra or noise than the simulator's current profile.
    """
    known = shipped_profiles()
    if profile_name not in known:
        raise CalibrationError(
            f"no dual-energy calibration for scanner profile {profile_name!r}; calibrated "
            f"profiles: {', '.join(known) or 'none (' + REGENERATE_HINT + ')'}"
        )
    filename = DATA_FILE_PATTERN.format(profile=profile_name)
    resource = resources.files("screener.imaging") / "data" / filename
    source = f"screener/imaging/data/{filename}"
    try:
        data = resource.read_bytes()
    except OSError as exc:
        raise CalibrationFileError(source, "file", f"cannot be read ({exc})") from exc
    cal = _parse(data, source, profile_name)
    _check_current(cal, source)
    return cal


def _check_current(cal: Calibration, source: str) -> None:
    """Refuse a shipped calibration made for other spectra or noise than the current profile."""
    from screener.physics.profiles import PROFILES
    from screener.physics.scanner_specs import PROFILE_SPECS, fingerprint

    profile = PROFILES.get(cal.profile)
    if profile is None:
        return  # a real scanner's calibration: nothing simulated to compare with
    now: dict[str, str | float] = {
        "profile_fingerprint": fingerprint(PROFILE_SPECS[cal.profile]),
        "open_beam_quanta_low": profile.low.open_beam_quanta,
        "open_beam_quanta_high": profile.high.open_beam_quanta,
        "electronic_noise": profile.electronic_noise,
    }
    stale = [key for key, value in now.items() if cal.provenance.get(key) != value]
    if stale:
        raise CalibrationError(
            f"{source}: calibration is stale for profile {cal.profile!r} (changed: "
            f"{', '.join(stale)}); {REGENERATE_HINT}"
        )
