"""The ONNX detector runtime as the workflow's AI: :class:`ModelAi`.

:class:`screener.detect.runtime.Detector` runs one model on images; the workflow wants a
:class:`~screener.workflow.ai.Detector` that takes a whole scan. :class:`ModelAi` is the
adapter. Like ``screener detect``, it picks the shipped model for each scan's kind
(``threats-grey.onnx`` for single-energy scans, ``threats.onnx`` otherwise) unless one
model is configured for every scan, loads each model once (sha256 checked by the
runtime before a byte is parsed), builds the model's input from the display pipeline
(the image as the screener sees it) and returns :class:`AiDetection` with each class's
category.

Two ways in:

* :meth:`ModelAi.detect` satisfies the protocol, for ``ScreeningSession.run_ai``. The
  protocol's ``name`` and ``model_sha256`` then describe the model that ran last (the
  standard model's before any scan), which is what ``run_detector`` reads right after.
* :meth:`ModelAi.analyse` returns a complete :class:`AiResult` naming the model that
  ran on *this* scan, ``unavailable`` with the reason on any failure. It is
  thread-safe, so the workstation's inference worker calls it and hands the result to
  ``ScreeningSession.record_ai``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.detect.errors import DetectionInputError, DetectorUnavailableError
from screener.detect.inputs import dual_energy
from screener.detect.manifest import InputKind
from screener.detect.runtime import Detection
from screener.detect.runtime import Detector as ModelRuntime
from screener.detect.shipped import STANDARD_MODEL, shipped_model
from screener.errors import ScreenerError
from screener.scan.model import Scan, SourceKind, View
from screener.workflow.ai import AiDetection, AiResult, AiStatus

NO_MODEL = ("no detection model is installed (models/threats.onnx or threats-grey.onnx is "
            "missing); run `make model` or configure a model file")
#: The display function whose rendering each input kind is (docs/detector.md).
RENDER_FUNCTIONS: Mapping[InputKind, str] = {InputKind.PSEUDO_COLOUR: "standard",
                                             InputKind.GREYSCALE: "greyscale"}

Loader = Callable[[Path], ModelRuntime]
#: Optional model inputs made elsewhere (the UI's own rendering), by view name.
Inputs = Mapping[str, NDArray[Any]]


def _load(path: Path) -> ModelRuntime:
    return ModelRuntime.load(path, threads=0)


@dataclass(frozen=True)
class ModelChoice:
    """Which model runs on a scan kind: its file, or why there is none."""

    path: Path | None
    reason: str | None = None


class ModelAi:
    """The ONNX runtime adapted to :class:`screener.workflow.ai.Detector`.

    ``model``: one model for every scan (``screener detect --model``); ``None`` picks the
    shipped model per scan kind. ``loader`` loads a model file (tests inject failures).
    Loading is lazy: the first scan of a kind loads its model, and a model that fails to
    load is retried on the next scan (a model restored on disk comes back).
    """

    def __init__(self, model: Path | str | None = None, *, loader: Loader = _load,
                 locate: Callable[[SourceKind | None], Path | None] = shipped_model) -> None:
        self._model = None if model is None else Path(model)
        self._loader = loader
        self._locate = locate
        self._lock = threading.Lock()
        self._loaded: dict[Path, ModelRuntime] = {}
        self._last: ModelRuntime | None = None

    # ------------------------------------------------------------ the protocol
    @property
    def name(self) -> str:
        runtime = self._last or self._peek(SourceKind.SIMULATED_DUAL_ENERGY)
        if runtime is None:
            return self._model.name if self._model is not None else STANDARD_MODEL
        return _describe(runtime)

    @property
    def model_sha256(self) -> str | None:
        runtime = self._last or self._peek(SourceKind.SIMULATED_DUAL_ENERGY)
        return None if runtime is None else runtime.model_sha256

    def detect(self, scan: Scan, scan_sha256: str) -> list[AiDetection]:
        """Every view's detections; raises (a :class:`ScreenerError`) when the model is
        missing, cannot load or fails on this scan, which the session logs as
        ``unavailable`` with the reason."""
        runtime = self.runtime_for(scan)
        self._last = runtime
        return self._run(runtime, scan, None)

    # ------------------------------------------------------------ for the UI's worker
    def analyse(self, scan: Scan, scan_sha256: str, inputs: Inputs | None = None) -> AiResult:
        """The AI result for ``scan``, naming the model that ran on it. Never raises for a
        detector failure: that is an ``unavailable`` result with the reason. ``inputs``
        may give the model's input image per view when the caller has rendered it."""
        try:
            runtime = self.runtime_for(scan)
        except ScreenerError as exc:
            return AiResult.unavailable(self.name, _reason(exc), None)
        try:
            detections = self._run(runtime, scan, inputs)
        except Exception as exc:  # any inference failure: screening goes on without AI
            return AiResult.unavailable(_describe(runtime), _reason(exc),
                                        runtime.model_sha256)
        return AiResult(AiStatus.OK, _describe(runtime), runtime.model_sha256,
                        tuple(detections))

    def choice(self, kind: SourceKind | None) -> ModelChoice:
        """The model file for scans of ``kind``."""
        if self._model is not None:
            return ModelChoice(self._model)
        path = self._locate(kind)
        return ModelChoice(path, None if path is not None else NO_MODEL)

    def runtime_for(self, scan: Scan) -> ModelRuntime:
        """The loaded model for ``scan``'s kind (loaded now if need be)."""
        choice = self.choice(scan.metadata.source_kind)
        if choice.path is None:
            raise DetectorUnavailableError(None, choice.reason or NO_MODEL)
        return self._runtime(choice.path)

    def _runtime(self, path: Path) -> ModelRuntime:
        with self._lock:
            runtime = self._loaded.get(path)
            if runtime is None:
                runtime = self._loaded[path] = self._loader(path)
        return runtime

    def warm_up(self, kind: SourceKind = SourceKind.SIMULATED_DUAL_ENERGY) -> str | None:
        """Load the model for scans of ``kind`` and run it once on a blank image, so that
        the first bag does not wait for either. Returns why the AI is unavailable, or
        None when it is ready."""
        choice = self.choice(kind)
        if choice.path is None:
            return choice.reason or NO_MODEL
        try:
            runtime = self._runtime(choice.path)
            runtime.detect_image(_blank(runtime.input_kind), "warm-up")
        except Exception as exc:  # reported to the screener as the AI's state
            return _reason(exc)
        return None

    def input_kind(self, scan: Scan) -> InputKind:
        """What image the model for ``scan`` takes (loads it if need be)."""
        return self.runtime_for(scan).input_kind

    # ------------------------------------------------------------ internals
    def _peek(self, kind: SourceKind) -> ModelRuntime | None:
        choice = self.choice(kind)
        with self._lock:
            return None if choice.path is None else self._loaded.get(choice.path)

    def _run(self, runtime: ModelRuntime, scan: Scan, inputs: Inputs | None
             ) -> list[AiDetection]:  # fmt: skip
        make = model_input(runtime.input_kind, scan)
        images = []
        for view in scan.views:
            given = None if inputs is None else inputs.get(view.name)
            images.append(given if given is not None else make(view))
        by_view = runtime.detect_views(scan.views, images)
        return [_adapt(d) for view in scan.views for d in by_view[view.name]]


def model_input(kind: InputKind, scan: Scan) -> Callable[[View], NDArray[Any]]:
    """The function giving a model of input ``kind`` its image for a view of ``scan``:
    the display pipeline's 'standard' (pseudo-colour) or 'greyscale' rendering, or both
    energies' transmission."""
    if kind is InputKind.DUAL_ENERGY:
        return dual_energy
    from screener.imaging.render import FunctionUnavailableError, prepare_scan, render

    function = RENDER_FUNCTIONS[kind]
    prepared = dict(zip((v.name for v in scan.views), prepare_scan(scan), strict=True))

    def make(view: View) -> NDArray[np.uint8]:
        try:
            rgba = render(prepared[view.name], function)
        except FunctionUnavailableError as exc:
            raise DetectionInputError(
                f"view {view.name!r}", f"the model takes the {kind.value} display rendering "
                f"('{function}'), which this view cannot give: {exc.reason}") from None
        return rgba_to_model_input(kind, rgba)

    return make


def rgba_to_model_input(kind: InputKind, rgba: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """A display rendering (RGBA) as the model's input: RGB, or one grey channel."""
    if kind is InputKind.GREYSCALE:
        return np.ascontiguousarray(rgba[:, :, 0])
    return np.ascontiguousarray(rgba[:, :, :3])


def _blank(kind: InputKind) -> NDArray[Any]:
    """An empty belt (full transmission) in the model's input kind."""
    if kind is InputKind.DUAL_ENERGY:
        return np.ones((64, 64, 2), dtype=np.float32)
    if kind is InputKind.GREYSCALE:
        return np.full((64, 64), 255, dtype=np.uint8)
    return np.full((64, 64, 3), 255, dtype=np.uint8)


def _adapt(detection: Detection) -> AiDetection:
    return AiDetection(view=detection.view, box=detection.box, label=detection.class_name,
                       category=detection.category.value, score=detection.score)


def _describe(runtime: ModelRuntime) -> str:
    manifest = runtime.manifest
    return f"{manifest.name} {manifest.version}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, DetectorUnavailableError):
        return exc.reason
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
