"""Render a view with an enhancement function: the display pipeline's entry point.

Typical use (the UI's render worker does the same)::

    prepared = prepare_scan(scan)                 # once per scan: index images (cached)
    available_functions(prepared[0])              # {"standard": None, "zeff-colour": "...", ...}
    rgba = render(prepared[0], "organic-only", Adjustments(gamma=1.4), out=buffer)

:func:`prepare` reduces a view to its index image once (:mod:`screener.imaging.view_index`)
and caches it per view object. A table-driven function is then one ``np.take`` into a
64K-entry RGBA table; a spatial one (super or edge enhancement) first runs one OpenCV
filter on the index's top byte, in work buffers kept with the prepared view. Functions
that need more material information than a view has are refused with a reason
(:func:`available_functions`), never rendered wrongly.

Everything here is pure numpy/OpenCV; results are RGBA ``uint8`` arrays of shape
``(rows, columns, 4)``.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from screener.errors import ScreenerError
from screener.imaging.enhance import Adjustments, EnhancementFunction, Spatial
from screener.imaging.enhance import edge_enhance as _edge_enhance
from screener.imaging.enhance import super_enhance as _super_enhance
from screener.imaging.lut import HIGH_BYTE, apply_table, lookup_table
from screener.imaging.presets import Preset, PresetSet, shipped_presets
from screener.imaging.view_index import Classifier, MaterialDetail, build_index
from screener.scan.model import Capability, Scan, View

NO_CALIBRATION: Final = "no dual-energy calibration was given for this view"


class FunctionUnavailableError(ScreenerError):
    """The function needs material information this view does not have."""

    def __init__(self, view: str, function: str, reason: str) -> None:
        self.view = view
        self.function = function
        self.reason = reason
        super().__init__(f"view {view!r}: {function} is unavailable: it {reason}")


class PreparedView:
    """A view reduced for display: its index image and what it knows about materials.

    ``missing`` says why material information is absent or limited (``None`` when the view
    has a calibrated Zeff per pixel). Work buffers and the latest result of each spatial step
    are allocated on first use and kept, so that switching functions allocates nothing.
    """

    def __init__(self, name: str, index: NDArray[np.uint16], materials: MaterialDetail,
                 missing: str | None) -> None:  # fmt: skip
        self.name = name
        self.index = index
        self.materials = materials
        self.missing = missing
        self._lock = threading.Lock()
        self._work: dict[str, NDArray[Any]] = {}
        self._spatial: dict[Spatial, tuple[tuple[float, ...], NDArray[np.uint16]]] = {}

    @property
    def shape(self) -> tuple[int, int]:
        rows, cols = self.index.shape
        return int(rows), int(cols)

    def _buffer(self, key: str, dtype: type[np.generic]) -> NDArray[Any]:
        buffer = self._work.get(key)
        if buffer is None:
            buffer = self._work[key] = np.empty(self.shape, dtype=dtype)
        return buffer

    def fill(self, function: EnhancementFunction, table: NDArray[np.uint32],
             out: NDArray[np.uint32]) -> None:  # fmt: skip
        """``out[...] = table[index]``, after ``function``'s spatial step if it has one."""
        if function.table_driven:
            apply_table(table, self.index, out)
            return
        with self._lock:
            apply_table(table, self._spatial_index(function), out)

    def forget_spatial(self) -> None:
        """Drop the cached spatial results (they are recomputed on the next render)."""
        with self._lock:
            self._spatial.clear()

    def _spatial_index(self, function: EnhancementFunction) -> NDArray[np.uint16]:
        """The index with its top byte replaced by the spatial step's 8-bit result.

        Kept per kind of spatial step while its parameters stay the same: the step depends
        on the view and its own parameters only, so changing adjustments, colouring or
        going back to the function costs one table lookup.
        """
        params = _spatial_params(function)
        cached = self._spatial.get(function.spatial)
        if cached is not None and cached[0] == params:
            return cached[1]
        index = cached[1] if cached is not None else np.empty(self.shape, dtype=np.uint16)
        level8: NDArray[np.uint8] = self._buffer("level8", np.uint8)
        result: NDArray[np.uint8] = self._buffer("result8", np.uint8)
        np.right_shift(self.index, 8, out=level8, casting="unsafe")
        if function.spatial is Spatial.CLAHE:
            _super_enhance(level8, function.clip_limit, function.tile_rows, out=result)
        else:
            _edge_enhance(level8, function.amount, function.sigma_px, out=result)
        np.copyto(index, self.index)
        index.view(np.uint8).reshape(*self.shape, 2)[..., HIGH_BYTE] = result
        self._spatial[function.spatial] = (params, index)
        return index


def _spatial_params(function: EnhancementFunction) -> tuple[float, ...]:
    if function.spatial is Spatial.CLAHE:
        return (function.clip_limit, float(function.tile_rows))
    if function.spatial is Spatial.UNSHARP:
        return (function.amount, function.sigma_px)
    raise ValueError(f"{function.base!r} has no spatial step")


_CACHE: weakref.WeakKeyDictionary[View, tuple[Classifier | None, PreparedView]] = (
    weakref.WeakKeyDictionary()
)
_CACHE_LOCK = threading.Lock()


def prepare(view: View, classifier: Classifier | None = None, *,
            missing_reason: str | None = None) -> PreparedView:  # fmt: skip
    """The prepared form of ``view`` (built once per view object and classifier, then cached).

    Materials come from the view's own ``material_class`` (pseudo-colour imports), else from
    ``classifier`` for a dual-energy view, else there are none. ``missing_reason`` overrides
    the built-in explanation of what is missing (``prepare_scan`` passes the scan's own
    reasons, or the calibration error of its scanner profile).
    """
    with _CACHE_LOCK:
        cached = _CACHE.get(view)
    if cached is not None and cached[0] is classifier:
        return cached[1]
    if view.material_class is not None:
        missing: str | None = missing_reason or (
            f"view {view.name!r} comes from a colour export: its material classes were read "
            "from the colours, there is no measured Zeff"
        )
    elif view.low is None:
        missing = missing_reason or (f"view {view.name!r} is single-energy: one channel "
                                     "carries no material information")  # fmt: skip
    elif classifier is None:
        missing = missing_reason or NO_CALIBRATION
    else:
        missing = None
    index, detail = build_index(view.high, view.full_scale, low=view.low, classifier=classifier,
                                material_class=view.material_class)  # fmt: skip
    prepared = PreparedView(view.name, index, detail, missing)
    with _CACHE_LOCK:
        _CACHE[view] = (classifier, prepared)
    return prepared


@functools.cache
def classifier_for(profile: str) -> Classifier | str:
    """The material classifier of a scanner profile's calibration, or why there is none."""
    from screener.imaging.calibration import classify, get_calibration

    try:
        calibration = get_calibration(profile)
    except ScreenerError as exc:
        return str(exc)
    return functools.partial(classify, cal=calibration)


def prepare_scan(scan: Scan) -> tuple[PreparedView, ...]:
    """Every view of ``scan`` prepared, with the calibration of its scanner profile.

    Single-energy and pseudo-colour scans carry their own reasons for what they lack
    (``scan.missing_capabilities``); a dual-energy scan whose profile has no calibration
    gets the calibration's error as its reason.
    """
    missing = scan.missing_capabilities
    reason = missing.get(Capability.MATERIAL_CLASS.value) or missing.get(
        Capability.DUAL_ENERGY.value)
    if not scan.has_dual_energy or any(v.material_class is not None for v in scan.views):
        return tuple(prepare(v, None, missing_reason=reason) for v in scan.views)
    found = classifier_for(scan.metadata.scanner_profile)
    if isinstance(found, str):
        return tuple(prepare(v, None, missing_reason=found) for v in scan.views)
    return tuple(prepare(v, found) for v in scan.views)


def unavailable_reason(view: PreparedView, function: EnhancementFunction) -> str | None:
    """Why ``function`` cannot be shown for ``view``, or ``None`` when it can."""
    needed = function.requires
    if view.materials >= needed:
        return None
    if needed is MaterialDetail.ZEFF and view.materials is MaterialDetail.CLASSES:
        return f"needs a per-pixel Zeff from two energy channels ({view.missing})"
    return f"needs material information ({view.missing})"


def available_functions(view: PreparedView, presets: PresetSet | None = None
                        ) -> dict[str, str | None]:  # fmt: skip
    """Every preset's name, in toolbar order, with ``None`` (available) or the reason not."""
    book = presets or shipped_presets()
    return {p.name: unavailable_reason(view, p.function) for p in book.presets}


def resolve(function: str | Preset | EnhancementFunction, adjustments: Adjustments | None,
            presets: PresetSet | None = None) -> tuple[str, EnhancementFunction, Adjustments]:
    """(label, function, adjustments) for a preset name, a preset or a bare function.

    Adjustments default to the preset's; a bare function's default is no adjustment.
    """
    if isinstance(function, str):
        function = (presets or shipped_presets()).get(function)
    if isinstance(function, Preset):
        return function.label, function.function, adjustments or function.adjustments
    return function.base, function, adjustments or Adjustments()


def render(
    view: PreparedView,
    function: str | Preset | EnhancementFunction,
    adjustments: Adjustments | None = None,
    *,
    presets: PresetSet | None = None,
    out: NDArray[np.uint8] | None = None,
) -> NDArray[np.uint8]:
    """``view`` shown with ``function`` and ``adjustments``, as RGBA uint8 ``(rows, cols, 4)``.

    ``function`` is a preset name (looked up in ``presets``, default the shipped set), a
    :class:`Preset` or an :class:`EnhancementFunction`. ``out``, if given, must be a
    C-contiguous uint8 array of that shape: it is filled and returned, and nothing the size
    of the image is allocated. Raises :class:`FunctionUnavailableError` (with the reason) for
    a function the view lacks the material information for.
    """
    label, fn, adjust = resolve(function, adjustments, presets)
    reason = unavailable_reason(view, fn)
    if reason is not None:
        raise FunctionUnavailableError(view.name, label, reason)
    rows, cols = view.shape
    if out is None:
        out = np.empty((rows, cols, 4), dtype=np.uint8)
    elif out.shape != (rows, cols, 4) or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous uint8 array of shape {(rows, cols, 4)}, "
                         f"not {out.dtype} {out.shape}")  # fmt: skip
    view.fill(fn, lookup_table(fn, adjust), out.view(np.uint32).reshape(rows, cols))
    return out
