"""The index image: each pixel's quantised attenuation and material in one uint16.

A view does not change while the screener flips through enhancement functions, so it is
reduced once to an index image; every table-driven function is then a single lookup
``lut[index]`` into a 65 536-entry RGBA table (:mod:`screener.imaging.lut`).

Layout of one index value (16 bits)::

    bits 15..6  level: 1024 steps of sqrt(A / A_MAX), A = -ln T_high clipped to [0, A_MAX]
    bits  5..0  material code (64 codes)

The level is companded (square root) so that thin objects, where the eye sees small
changes of A, get fine steps (about 1e-5 near A = 0, 0.005 at A = 0.5, 0.02 at A = 11) and
the top byte alone (``index >> 8``, 256 levels) is a usable 8-bit image for the spatial
functions. Material codes:

====== =============================================================
0      background (nothing attenuating; calibration class 0)
1      impenetrable (too few photons to tell materials; class 4)
2      unknown: the view has no material information (single energy)
3-5    organic, inorganic, metal with no Zeff (pseudo-colour imports)
6-63   organic, inorganic, metal with Zeff in one of :data:`ZEFF_BINS`
====== =============================================================

Zeff is clamped into its class's range so that the continuous-Zeff hue always agrees with
the class colour; within a class the bins are 0.25 (organic), 0.5 (inorganic) and 0.5
(metal) Zeff wide, below the per-pixel noise of a dual-energy Zeff. The metal range ends at
29 (copper): heavier elements show at its top.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import IntEnum
from typing import Final

import numpy as np
from numpy.typing import NDArray

from screener.imaging.calibration import MaterialClass

Float32Array = NDArray[np.float32]
#: ``(a_high, a_low) -> (zeff, material_class)``, e.g. ``calibration.classify`` bound to a
#: calibration. Zeff may be NaN where the class is background or impenetrable.
Classifier = Callable[[Float32Array, Float32Array], tuple[Float32Array, NDArray[np.uint8]]]

LEVEL_BITS: Final = 10
CODE_BITS: Final = 6
LEVELS: Final = 1 << LEVEL_BITS
CODES: Final = 1 << CODE_BITS
TABLE_SIZE: Final = LEVELS * CODES
CODE_MASK: Final = CODES - 1
#: Largest attenuation the index distinguishes (T = 6e-6; a 16-bit count of 0.5 is 11.8).
A_MAX: Final = 12.0
#: Smallest transmission used for a float32 view (uint16 views floor the count at 0.5).
MIN_TRANSMISSION: Final = 1e-12
#: Pixels per block while building an index (bounds the temporaries to a few MB).
BLOCK_PIXELS: Final = 1 << 18


#: In code tables: "this pixel's material is not known" (single-energy views).
UNKNOWN_CLASS: Final = 255

CODE_BACKGROUND: Final = 0
CODE_IMPENETRABLE: Final = 1
CODE_UNKNOWN: Final = 2
#: Class-only codes (pseudo-colour imports), by class.
CLASS_ONLY_CODE: Final = {
    MaterialClass.ORGANIC: 3,
    MaterialClass.INORGANIC: 4,
    MaterialClass.METAL: 5,
}
#: (class, lowest Zeff, highest Zeff, bins) for codes 6..63, in that order. Every bin edge
#: is a multiple of :data:`ZEFF_STEP` above :data:`ZEFF_ORIGIN`.
ZEFF_BINS: Final = (
    (MaterialClass.ORGANIC, 5.0, 10.0, 20),
    (MaterialClass.INORGANIC, 10.0, 18.0, 16),
    (MaterialClass.METAL, 18.0, 29.0, 22),
)
FIRST_ZEFF_CODE: Final = 6
#: Zeff is first cut into steps of ZEFF_STEP from ZEFF_ORIGIN (256 of them, to Zeff 69), then
#: a (class, step) table gives the code.
ZEFF_ORIGIN: Final = 5.0
ZEFF_STEP: Final = 0.25


class MaterialDetail(IntEnum):
    """How much a view knows about materials (ordered: more is better)."""

    NONE = 0  # single energy: attenuation only
    CLASSES = 1  # a material class per pixel (pseudo-colour imports)
    ZEFF = 2  # a Zeff and class per pixel (calibrated dual energy)


# --------------------------------------------------------------------------------------
# Quantisation of attenuation


def level_of(a: NDArray[np.floating]) -> NDArray[np.uint16]:
    """Level (0..1023) of log attenuation ``a``: ``rint(1023 sqrt(clip(a, 0, A_MAX) / A_MAX))``."""
    x = np.clip(np.asarray(a, dtype=np.float32), 0.0, A_MAX) * np.float32(1.0 / A_MAX)
    np.sqrt(x, out=x)
    x *= np.float32(LEVELS - 1)
    out: NDArray[np.uint16] = np.rint(x).astype(np.uint16)
    return out


def attenuation_of(level: NDArray[np.integer] | int) -> Float32Array:
    """The attenuation a level stands for: ``A_MAX (level / 1023) ** 2``."""
    x = np.asarray(level, dtype=np.float32) * np.float32(1.0 / (LEVELS - 1))
    out: Float32Array = (np.float32(A_MAX) * x * x).astype(np.float32)
    return out


@functools.cache
def _count_tables(full_scale: float) -> tuple[Float32Array, NDArray[np.uint16]]:
    """For 16-bit counts: A = -ln(max(count, 0.5) / full_scale) clipped, and its level."""
    counts = np.maximum(np.arange(1 << 16, dtype=np.float64), 0.5)
    a = np.clip(-np.log(counts / full_scale), 0.0, A_MAX).astype(np.float32)
    a.setflags(write=False)
    levels = level_of(a)
    levels.setflags(write=False)
    return a, levels


def attenuation(channel: NDArray[np.uint16] | NDArray[np.float32], full_scale: float
                ) -> Float32Array:  # fmt: skip
    """``A = -ln T`` of a channel as float32, clipped to [0, A_MAX] (counts floored at 0.5)."""
    if channel.dtype == np.uint16:
        table, _ = _count_tables(float(full_scale))
        out: Float32Array = np.take(table, channel.view(np.uint16), mode="wrap")
        return out
    t = np.asarray(channel, dtype=np.float32) / np.float32(full_scale)
    np.maximum(t, np.float32(MIN_TRANSMISSION), out=t)
    np.log(t, out=t)
    np.negative(t, out=t)
    np.clip(t, 0.0, A_MAX, out=t)
    return t


def _levels(channel: NDArray[np.uint16] | NDArray[np.float32], full_scale: float
            ) -> NDArray[np.uint16]:  # fmt: skip
    if channel.dtype == np.uint16:
        _, table = _count_tables(float(full_scale))
        out: NDArray[np.uint16] = np.take(table, channel.view(np.uint16), mode="wrap")
        return out
    return level_of(attenuation(channel, full_scale))


# --------------------------------------------------------------------------------------
# Material codes


def _code_tables() -> tuple[NDArray[np.uint8], Float32Array, NDArray[np.uint16]]:
    """Per code its class and representative Zeff; per (class, Zeff step) its code."""
    code_class = np.full(CODES, UNKNOWN_CLASS, dtype=np.uint8)
    code_zeff = np.full(CODES, np.nan, dtype=np.float32)
    code_class[CODE_BACKGROUND] = MaterialClass.BACKGROUND
    code_class[CODE_IMPENETRABLE] = MaterialClass.IMPENETRABLE
    for cls, code in CLASS_ONLY_CODE.items():
        code_class[code] = cls
    by_step = np.zeros((len(MaterialClass), 256), dtype=np.uint16)
    by_step[MaterialClass.BACKGROUND] = CODE_BACKGROUND
    by_step[MaterialClass.IMPENETRABLE] = CODE_IMPENETRABLE
    step_zeff = ZEFF_ORIGIN + (np.arange(256) + 0.5) * ZEFF_STEP
    code = FIRST_ZEFF_CODE
    for cls, z0, z1, bins in ZEFF_BINS:
        width = (z1 - z0) / bins
        if (width / ZEFF_STEP) % 1.0 or ((z0 - ZEFF_ORIGIN) / ZEFF_STEP) % 1.0:
            raise AssertionError(f"Zeff bins of class {cls.name} are not on the {ZEFF_STEP} grid")
        for b in range(bins):
            code_class[code + b] = cls
            code_zeff[code + b] = z0 + (b + 0.5) * width
        by_step[cls] = code + np.clip(np.floor((step_zeff - z0) / width), 0, bins - 1)
        code += bins
    if code != CODES:
        raise AssertionError(f"ZEFF_BINS fill {code} codes, the layout has {CODES}")
    for table in (code_class, code_zeff, by_step):
        table.setflags(write=False)
    return code_class, code_zeff, by_step.reshape(-1)


CODE_CLASS, CODE_ZEFF, _CODE_BY_STEP = _code_tables()
#: Class-only code of each class (pseudo-colour imports): background 0, organic 3, ...
_CLASS_ONLY_TABLE: Final = np.array(
    [CODE_BACKGROUND, *CLASS_ONLY_CODE.values(), CODE_IMPENETRABLE], dtype=np.uint16
)


def material_codes(zeff: Float32Array, classes: NDArray[np.uint8]) -> NDArray[np.uint16]:
    """Material code of each pixel from its Zeff and calibration class (see module doc).

    Zeff (NaN allowed: background and impenetrable have none) is cut into steps of
    ZEFF_STEP, then ``(class, step)`` is looked up in one table.
    """
    step = np.subtract(zeff, np.float32(ZEFF_ORIGIN), dtype=np.float32)
    step *= np.float32(1.0 / ZEFF_STEP)
    np.fmax(step, np.float32(0.0), out=step)  # fmax/fmin turn NaN into the bound
    np.fmin(step, np.float32(255.0), out=step)
    key = step.astype(np.uint16)
    key |= np.minimum(classes, np.uint8(MaterialClass.IMPENETRABLE)).astype(np.uint16) << 8
    out: NDArray[np.uint16] = np.take(_CODE_BY_STEP, key, mode="wrap")
    return out


def class_only_codes(classes: NDArray[np.uint8]) -> NDArray[np.uint16]:
    """Material code of each pixel of a pseudo-colour import from its class alone."""
    out: NDArray[np.uint16] = np.take(
        _CLASS_ONLY_TABLE, np.minimum(classes, np.uint8(MaterialClass.IMPENETRABLE))
    )
    return out


def decode(index: NDArray[np.uint16]) -> tuple[Float32Array, NDArray[np.uint8], Float32Array]:
    """What an index value stands for: (attenuation, class or 255, representative Zeff)."""
    idx = np.asarray(index, dtype=np.uint16)
    codes = idx & np.uint16(CODE_MASK)
    return attenuation_of(idx >> np.uint16(CODE_BITS)), CODE_CLASS[codes], CODE_ZEFF[codes]


# --------------------------------------------------------------------------------------
# Building an index image


def build_index(
    high: NDArray[np.uint16] | NDArray[np.float32],
    full_scale: float,
    *,
    low: NDArray[np.uint16] | NDArray[np.float32] | None = None,
    classifier: Classifier | None = None,
    material_class: NDArray[np.uint8] | None = None,
) -> tuple[NDArray[np.uint16], MaterialDetail]:
    """The index image of one view, and how much it knows about materials.

    Materials come from ``material_class`` when given (pseudo-colour import), else from
    ``classifier(A_high, A_low)`` when both ``low`` and ``classifier`` are given, else they
    are unknown. Built in blocks of rows so that the temporaries stay a few MB whatever the
    view's size.
    """
    if high.ndim != 2:
        raise ValueError(f"a view's channel must be 2D, not shape {high.shape}")
    rows, cols = high.shape
    if material_class is not None:
        detail = MaterialDetail.CLASSES
        if material_class.shape != high.shape:
            raise ValueError(f"material_class {material_class.shape} and high {high.shape} "
                             "differ in shape")  # fmt: skip
    elif low is not None and classifier is not None:
        detail = MaterialDetail.ZEFF
        if low.shape != high.shape:
            raise ValueError(f"low {low.shape} and high {high.shape} differ in shape")
    else:
        detail = MaterialDetail.NONE
    index = np.empty((rows, cols), dtype=np.uint16)
    step = max(1, BLOCK_PIXELS // max(cols, 1))
    shift = np.uint16(CODE_BITS)
    for r0 in range(0, rows, step):
        r1 = min(rows, r0 + step)
        block = index[r0:r1]
        np.left_shift(_levels(high[r0:r1], full_scale), shift, out=block)
        if detail is MaterialDetail.CLASSES:
            assert material_class is not None
            block |= class_only_codes(material_class[r0:r1])
        elif detail is MaterialDetail.ZEFF:
            assert low is not None and classifier is not None
            a_high = attenuation(high[r0:r1], full_scale)
            a_low = attenuation(low[r0:r1], full_scale)
            zeff, classes = classifier(a_high, a_low)
            block |= material_codes(zeff, classes)
        else:
            block |= np.uint16(CODE_UNKNOWN)
    index.setflags(write=False)
    return index, detail
