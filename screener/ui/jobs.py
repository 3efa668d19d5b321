"""The heavy steps of a bag on its way to the screen, as plain functions (Qt-free).

The worker lanes (:mod:`screener.ui.render_worker`) run them off the GUI thread:

* :func:`load_bag`: read (or import) the file, hash it, prepare every view for display
  and render it with the current function;
* :func:`render_frames`: render the views with another function or adjustments;
* :func:`analyse_bag`: run the AI on the image as displayed;
* :func:`store_bag`: put the scan's bytes into the write-once scan store, so that the
  sha256 every event names can always be tied to the exact bytes.

A native ``.h5`` file is known by the sha256 of its bytes and stored after it is on
screen (storing re-reads it twice to validate; that must not delay the first paint). An
imported PNG, JPEG or ``.npy`` becomes a native file in the store first: its identity is
the sha256 of that file (``ScanStore.add_scan``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.errors import ScanStoreError
from screener.imaging.enhance import Adjustments
from screener.imaging.presets import PresetSet, shipped_presets
from screener.imaging.render import (
    FunctionUnavailableError,
    PreparedView,
    available_functions,
    prepare_scan,
    render,
)
from screener.scan.hdf5 import ScanLimits, read_scan
from screener.scan.imports import file_kind, load_any
from screener.scan.model import Scan
from screener.scan.store import ScanStore, file_sha256
from screener.workflow.ai import AiResult, Detector, run_detector
from screener.workflow.model_ai import RENDER_FUNCTIONS, ModelAi, rgba_to_model_input

#: File names a watch folder picks up (lower case).
DICOS_SUFFIX = ".dcs"
SCAN_SUFFIXES = (".h5", ".hdf5", ".png", ".jpg", ".jpeg", ".npy", DICOS_SUFFIX)
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="screener-prepare")


@dataclass(frozen=True)
class Frames:
    """A bag's views rendered with one function: RGBA uint8 per view (None where the view
    cannot show the function, with the reason)."""

    function: str
    adjustments: Adjustments
    images: tuple[NDArray[np.uint8] | None, ...]
    reasons: tuple[str | None, ...]
    render_ms: float = 0.0


@dataclass(frozen=True, eq=False)
class LoadedBag:
    """A scan ready for the screen."""

    path: Path
    source: str
    sha256: str
    scan: Scan
    prepared: tuple[PreparedView, ...]
    available: Mapping[str, str | None]  #: function -> None, or why a view cannot show it
    frames: Frames
    stored: bool  #: already in the scan store (imports are stored to get their identity)
    timings_ms: Mapping[str, float] = field(default_factory=dict)

    @property
    def bag_id(self) -> str:
        return self.scan.metadata.bag_id

    @property
    def view_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.scan.views)


def is_scan_name(path: Path) -> bool:
    """Whether a watch folder takes this file (not hidden, not a partial copy)."""
    name = path.name
    return (not name.startswith(".") and path.suffix.lower() in SCAN_SUFFIXES)


def dicos_lead(path: Path, limits: ScanLimits | None = None) -> bool | None:
    """For a ``.dcs`` file in a watch folder, where a scan arrives as one file per energy
    per view: True when it is the file that stands for its scan (the first of its group:
    queue it, the import reads the others), False when it never is (another file of the
    group, or a Threat Detection Report rather than an image), None when its scan is not
    complete yet (look again). A file the importer refuses for another reason is queued,
    so that the queue shows the error."""
    from screener.errors import DicosGroupError, ScreenerError, UnsupportedDicosObjectError
    from screener.scan.dicos import dicos_group  # pydicom takes ~0.2 s to import

    try:
        group = dicos_group(path, limits)
    except UnsupportedDicosObjectError:
        return False
    except DicosGroupError:
        return None
    except ScreenerError:
        return True
    return group[0] == path


def choose_function(wanted: str, available: Mapping[str, str | None],
                    presets: PresetSet) -> str:
    """``wanted`` if the bag can show it, else the first preset it can show."""
    if available.get(wanted, "unknown") is None:
        return wanted
    for name in presets.names:
        if available.get(name) is None:
            return name
    return wanted


def load_bag(path: Path, source: str, *, function: str, adjustments: Adjustments | None,
             store: ScanStore, limits: ScanLimits | None = None,
             presets: PresetSet | None = None) -> LoadedBag:
    """Read or import ``path`` and make it ready for the screen. Raises a
    :class:`~screener.errors.ScreenerError` naming the file for anything wrong with it."""
    book = presets or shipped_presets()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    native = file_kind(path) == "scan"
    if native:
        hashing = _POOL.submit(file_sha256, path)  # while the file is read and checked
        scan = read_scan(path, limits)
        sha = hashing.result()
    else:
        scan = load_any(path, limits)
        sha = store.add_scan(scan)
    timings["read"] = _ms(start)
    mark = time.perf_counter()
    prepared = prepare_all(scan)
    timings["prepare"] = _ms(mark)
    available = bag_functions(prepared, book)
    chosen = choose_function(function, available, book)
    frames = render_frames(prepared, chosen, adjustments if chosen == function else None,
                           presets=book)
    timings["render"] = frames.render_ms
    return LoadedBag(path, source, sha, scan, prepared, available, frames, not native, timings)


def prepare_all(scan: Scan) -> tuple[PreparedView, ...]:
    """Every view prepared as ``prepare_scan`` does, views in parallel (numpy and OpenCV
    release the GIL). Each view goes through ``prepare_scan`` of a one-view scan with the
    same metadata, so the choice of calibration is exactly the pipeline's own."""
    if len(scan.views) == 1:
        return prepare_scan(scan)
    futures = [_POOL.submit(_prepare_one, Scan(scan.metadata, (view,))) for view in scan.views]
    return tuple(f.result() for f in futures)


def _prepare_one(part: Scan) -> PreparedView:
    (prepared,) = prepare_scan(part)
    return prepared


def bag_functions(prepared: tuple[PreparedView, ...], presets: PresetSet
                  ) -> dict[str, str | None]:  # fmt: skip
    """Each preset: None when every view can show it, else the first view's reason."""
    result: dict[str, str | None] = {name: None for name in presets.names}
    for view in prepared:
        for name, reason in available_functions(view, presets).items():
            if reason is not None and result[name] is None:
                result[name] = reason
    return result


def render_frames(prepared: tuple[PreparedView, ...], function: str,
                  adjustments: Adjustments | None, *, presets: PresetSet | None = None,
                  stale: Callable[[], bool] | None = None) -> Frames:
    """Render every view with ``function``; stops early (returning what it has) when
    ``stale()`` says a newer job superseded this one."""
    book = presets or shipped_presets()
    start = time.perf_counter()
    adjust = adjustments or book.get(function).adjustments
    images: list[NDArray[np.uint8] | None] = []
    reasons: list[str | None] = []
    for view in prepared:
        if stale is not None and stale():
            break
        try:
            images.append(render(view, function, adjust, presets=book))
            reasons.append(None)
        except FunctionUnavailableError as exc:
            images.append(None)
            reasons.append(exc.reason)
    return Frames(function, adjust, tuple(images), tuple(reasons), _ms(start))


def analyse_bag(detector: Detector | None, bag: LoadedBag) -> AiResult:
    """The AI's result on ``bag``: ``unavailable`` with the reason on any failure."""
    if isinstance(detector, ModelAi):
        return detector.analyse(bag.scan, bag.sha256, _model_inputs(detector, bag))
    return run_detector(detector, bag.scan, bag.sha256)


def _model_inputs(detector: ModelAi, bag: LoadedBag) -> dict[str, NDArray[Any]] | None:
    """The frames already rendered, when they are what the model takes."""
    try:
        kind = detector.input_kind(bag.scan)
    except Exception:  # the model cannot load: analyse() reports why
        return None
    wanted = RENDER_FUNCTIONS.get(kind)
    frames = bag.frames
    if wanted != frames.function or frames.adjustments != Adjustments() or any(
            image is None for image in frames.images):
        return None
    return {name: rgba_to_model_input(kind, image)
            for name, image in zip(bag.view_names, frames.images, strict=True)
            if image is not None}


def store_bag(store: ScanStore, bag: LoadedBag) -> str:
    """Put ``bag``'s bytes in the scan store; refuses a file that changed since it was
    hashed for the screen."""
    if bag.stored:
        return bag.sha256
    sha = store.add(bag.path)
    if sha != bag.sha256:
        raise ScanStoreError(f"{bag.path}: the file changed after it was read for the screen "
                             f"(sha256 {bag.sha256[:12]}... then {sha[:12]}...); it was not "
                             "screened: send the bag through again")
    return sha


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000
