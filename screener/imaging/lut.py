"""Lookup tables: every enhancement function, with its adjustments, as 65 536 RGBA colours.

``lookup_table(function, adjustments)[index]`` is the colour of a pixel whose index value
(:mod:`screener.imaging.view_index`) is ``index``: the direct formula
:func:`screener.imaging.enhance.colour_formula` evaluated once per table cell, in two
cached halves: the function's base colour per cell (12-bit RGB) and the adjustments' curve
from 12-bit base to 8-bit display value. Adjustments (brightness, contrast, gamma, inverse,
the variable-density window) change the table, not the image, so moving a slider costs a
table re-map, not a pass over the pixels.

For functions with a spatial step the level's two low bits are ignored: the spatial step
works on the index's top byte (256 levels) and writes its result there.
"""

from __future__ import annotations

import functools
import sys
from typing import Final

import numpy as np
from numpy.typing import NDArray

from screener.imaging.colour import adjust, to_bytes
from screener.imaging.enhance import (
    ADJUST_STEPS,
    Adjustments,
    Density,
    EnhancementFunction,
    base_colour,
)
from screener.imaging.view_index import CODE_CLASS, CODE_ZEFF, LEVELS, TABLE_SIZE, attenuation_of

#: Elements per ``np.take`` call: numpy converts each block's uint16 indices to intp, so a
#: block bounds that temporary (256 KB) and keeps it in cache. ``mode="wrap"`` (every index
#: is below the table size, so it changes nothing) lets numpy write straight into ``out``:
#: the default mode buffers ``out`` and copies it, twice as slow.
TAKE_BLOCK: Final = 1 << 15
#: Base-table value of the alpha channel: the adjustment curve maps it to 255.
OPAQUE: Final = ADJUST_STEPS + 1
#: Byte of a uint16 that holds its top 8 bits.
HIGH_BYTE: Final = 1 if sys.byteorder == "little" else 0


def table_inputs(function: EnhancementFunction) -> tuple[NDArray[np.float32], NDArray[np.uint8],
                                                         NDArray[np.float32]]:  # fmt: skip
    """(value, class, Zeff) that the table cells stand for, shaped to broadcast.

    Value has shape (LEVELS, 1) (one per level), class and Zeff shape (1, CODES) (one per
    material code), so cell ``level << CODE_BITS | code`` is element ``[level, code]``.
    """
    levels = np.arange(LEVELS, dtype=np.uint32)
    if not function.table_driven:
        levels &= np.uint32(~3 & 0xFFFF)
    if function.density is Density.EQUALISED:
        value = ((levels >> 2).astype(np.float32) / np.float32(255.0)).astype(np.float32)
    else:
        value = attenuation_of(levels)
    return value[:, None], CODE_CLASS[None, :], CODE_ZEFF[None, :]


@functools.lru_cache(maxsize=32)
def base_table(function: EnhancementFunction,
               window: tuple[float, float] | None) -> NDArray[np.uint16]:  # fmt: skip
    """The base colour of every cell as 12-bit RGB plus :data:`OPAQUE`, (TABLE_SIZE, 4).

    Depends on the adjustments only through the variable-density ``window``. Read-only.
    """
    value, classes, zeff = table_inputs(function)
    rgb = base_colour(function, value, classes, zeff, Adjustments(window=window))
    steps = np.full((TABLE_SIZE, 4), OPAQUE, dtype=np.uint16)
    steps[:, :3] = np.rint(rgb * np.float32(ADJUST_STEPS)).reshape(TABLE_SIZE, 3)
    steps.setflags(write=False)
    return steps


@functools.lru_cache(maxsize=64)
def adjustment_curve(adjustments: Adjustments) -> NDArray[np.uint8]:
    """The 8-bit output of each 12-bit base colour value under ``adjustments``, and 255 for
    :data:`OPAQUE` (alpha): shape (4097,), read-only."""
    steps = np.arange(ADJUST_STEPS + 1, dtype=np.float32) * np.float32(1.0 / ADJUST_STEPS)
    curve = np.empty(OPAQUE + 1, dtype=np.uint8)
    curve[:OPAQUE] = to_bytes(adjust(steps, adjustments.brightness, adjustments.contrast,
                                     adjustments.gamma))  # fmt: skip
    if adjustments.invert:
        np.subtract(np.uint8(255), curve[:OPAQUE], out=curve[:OPAQUE])
    curve[OPAQUE] = 255
    curve.setflags(write=False)
    return curve


@functools.lru_cache(maxsize=64)
def lookup_table(function: EnhancementFunction, adjustments: Adjustments) -> NDArray[np.uint32]:
    """The RGBA table of ``function`` with ``adjustments``: uint32, read-only, 65 536 entries.

    Each entry's bytes in memory order are R, G, B, A (alpha 255), so the image
    ``table[index]`` viewed as ``uint8`` with a last axis of 4 is RGBA. Built from the
    cached :func:`base_table` and :func:`adjustment_curve`: a brightness, contrast, gamma or
    inverse change re-maps the base table (one ``np.take``, well under a millisecond); a
    window change rebuilds it (a few milliseconds).
    """
    window = function.window(adjustments) if function.density is Density.WINDOW else None
    rgba = np.empty((TABLE_SIZE, 4), dtype=np.uint8)
    np.take(adjustment_curve(adjustments), base_table(function, window), out=rgba, mode="wrap")
    table: NDArray[np.uint32] = rgba.view(np.uint32).reshape(TABLE_SIZE)
    table.setflags(write=False)
    return table


def apply_table(table: NDArray[np.uint32], index: NDArray[np.uint16],
                out: NDArray[np.uint32]) -> None:  # fmt: skip
    """``out[...] = table[index]`` in blocks (no image-sized temporary)."""
    if out.size != index.size or not out.flags.c_contiguous:
        raise ValueError("out must be a C-contiguous array with one element per index value")
    flat_index = index.reshape(-1)
    flat_out = out.reshape(-1)
    for start in range(0, flat_index.size, TAKE_BLOCK):
        stop = start + TAKE_BLOCK
        np.take(table, flat_index[start:stop], out=flat_out[start:stop], mode="wrap")
