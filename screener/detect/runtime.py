"""The detector runtime: load an ONNX model with its manifest, run it on views, return
detections in view pixels.

:meth:`Detector.load` reads the model file once, checks its sha256 against the manifest
(and, if given, the pin from the settings) *before* onnxruntime parses a byte of it, then
builds the session from those same bytes: what was verified is what runs. Every failure
is a :class:`~screener.detect.errors.DetectorUnavailableError`; the workstation shows
``error.ui_message`` ("AI unavailable: ...") and keeps working.

The runtime does not render images: :meth:`Detector.detect_scan` takes a function that
gives the model's input image for a view (see :mod:`screener.detect.inputs`), so it stays
independent of the display pipeline. It is synchronous and thread-safe; the UI calls it
from its worker, never from the GUI thread.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray

from screener.detect.errors import (
    DetectorUnavailableError,
    ModelHashMismatchError,
    ModelManifestError,
)
from screener.detect.manifest import (
    EMBEDDED_KEY,
    Category,
    InputKind,
    ModelManifest,
    OutputLayout,
    Shape,
    find_sidecar,
    load_manifest_file,
    manifest_from_ultralytics,
    read_manifest_text,
    show_shape,
)
from screener.detect.postprocess import Decoded, OutputShapeError
from screener.detect.preprocess import Letterbox, prepare
from screener.detect.test_time import RunModel, candidates, detect_passes
from screener.detect.view_fusion import belt_intervals, fused_and_passing
from screener.scan.belt import share_belt
from screener.scan.model import Scan, View

#: Largest model file loaded (protobuf's own limit is 2 GiB).
MAX_MODEL_BYTES = 2**31 - 1
_FLOAT_INPUTS: dict[str, type[np.floating[Any]]] = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
}

#: Gives the model's input image for a view (see :mod:`screener.detect.inputs`).
RenderFn = Callable[[View], Any]


@dataclass(frozen=True)
class Detection:
    """One flagged object in one view. ``box`` is x0, y0, x1, y1 in the view's stored
    pixels as continuous pixel corners (x = column), like ``LabelledObject.box``."""

    view: str
    class_name: str
    category: Category
    score: float
    box: tuple[float, float, float, float]

    @property
    def is_threat(self) -> bool:
        return self.category.is_threat

    def to_json(self) -> dict[str, Any]:
        return {
            "view": self.view,
            "class": self.class_name,
            "category": self.category.value,
            "threat": self.is_threat,
            "score": round(self.score, 6),
            "box": [round(v, 3) for v in self.box],
        }


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _first_line(exc: BaseException, limit: int = 300) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _shape(node: Any) -> tuple[int | None, ...]:
    """An ONNX value's shape, ``None`` for symbolic or unknown dimensions."""
    dims = node.shape if isinstance(node.shape, list | tuple) else []
    return tuple(d if isinstance(d, int) and d > 0 else None for d in dims)


def _read_model(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise DetectorUnavailableError(path, f"model file is {size} bytes; ONNX models "
                                           "over 2 GiB are not supported")
        return path.read_bytes()
    except FileNotFoundError:
        raise DetectorUnavailableError(path, "model file not found") from None
    except IsADirectoryError:
        raise DetectorUnavailableError(path, "model path is a folder, not an ONNX file") \
            from None
    except OSError as exc:
        raise DetectorUnavailableError(path, f"model file cannot be read: "
                                       f"{exc.strerror or exc}") from None


def _session(path: Path, data: bytes, threads: int) -> Any:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only; we report them ourselves
    # a workstation shares its cores with the GUI: idle workers sleep instead of spinning
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(data, sess_options=options,
                                    providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own (pybind) exception types
        raise DetectorUnavailableError(path, f"not an ONNX model onnxruntime can load "
                                       f"({_first_line(exc)})") from None


class Detector:
    """A loaded model and its manifest. Build with :meth:`load`."""

    def __init__(self, *, session: Any, manifest: ModelManifest, model_path: Path,
                 model_sha256: str, threads: int, input_name: str, output_name: str,
                 input_dtype: type[np.floating[Any]]) -> None:
        self._session = session
        self._manifest = manifest
        self._model_path = model_path
        self._model_sha256 = model_sha256
        self._threads = threads
        self._input_name = input_name
        self._output_name = output_name
        self._input_dtype = input_dtype

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls,
        model_path: Path | str,
        manifest_path: Path | str | None = None,
        *,
        threads: int = 0,
        expected_sha256: str | None = None,
        category_map: Mapping[str, Category | str] | None = None,
    ) -> Detector:
        """Load ``model_path`` (ONNX) with its manifest.

        The manifest is ``manifest_path`` if given, else a sidecar beside the model
        (``x.json`` or ``x.onnx.json``), else the model's embedded ``screener_manifest``
        metadata, else ultralytics metadata (``names``, ``imgsz``) with the layout read
        from the output shape. A sidecar pins the model's sha256; ``expected_sha256``
        (from the settings) pins it for any source. ``threads`` is onnxruntime's
        intra-op thread count (0: its default, one per core). ``category_map`` gives
        categories for third-party class names (manifests say their own).

        Raises :class:`DetectorUnavailableError` (or its subclasses
        :class:`ModelManifestError`, :class:`ModelHashMismatchError`) for every failure.
        """
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
            raise ValueError(f"threads must be a whole number >= 0, not {threads!r}")
        path = Path(model_path)
        data = _read_model(path)
        sha = _sha256(data)
        if expected_sha256 is not None and sha != expected_sha256.strip().lower():
            raise ModelHashMismatchError(path, "the configured model pin",
                                         expected_sha256.strip().lower(), sha)
        manifest: ModelManifest | None = None
        sidecar = Path(manifest_path) if manifest_path is not None else find_sidecar(path)
        if sidecar is not None:
            manifest = load_manifest_file(sidecar)
            if manifest.model_sha256 != sha:
                raise ModelHashMismatchError(path, f"its manifest {sidecar}",
                                             str(manifest.model_sha256), sha)
        session = _session(path, data, threads)
        inputs, outputs = session.get_inputs(), session.get_outputs()
        if len(inputs) != 1:
            names = ", ".join(i.name for i in inputs)
            raise DetectorUnavailableError(path, f"model has {len(inputs)} inputs ({names}); "
                                           "a detector takes exactly one image input")
        if not outputs:
            raise DetectorUnavailableError(path, "model has no outputs")
        image_input = inputs[0]
        input_shape = _shape(image_input)
        if len(input_shape) != 4:
            raise DetectorUnavailableError(
                path, f"model input '{image_input.name}' has rank {len(input_shape)} "
                f"(shape {image_input.shape}); a detector takes one NCHW image, rank 4")
        input_dtype = _FLOAT_INPUTS.get(image_input.type)
        if input_dtype is None:
            raise DetectorUnavailableError(path, f"model input '{image_input.name}' is "
                                           f"{image_input.type}; only float32 or float16 "
                                           "image inputs are supported")
        if manifest is None:
            metadata: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)
            origin = str(path)
            if EMBEDDED_KEY in metadata:
                manifest = read_manifest_text(metadata[EMBEDDED_KEY],
                                              f"{path} (metadata '{EMBEDDED_KEY}')",
                                              embedded=True)
            else:
                output_shape = _shape(outputs[0])
                manifest = manifest_from_ultralytics(metadata, input_shape, output_shape,
                                                     origin, category_map)
        output = cls._pick_output(path, manifest, outputs)
        cls._check_fit(path, manifest, input_shape, _shape(output))
        return cls(session=session, manifest=manifest, model_path=path, model_sha256=sha,
                   threads=threads, input_name=image_input.name, output_name=output.name,
                   input_dtype=input_dtype)

    @staticmethod
    def _pick_output(path: Path, manifest: ModelManifest, outputs: list[Any]) -> Any:
        if manifest.output_name is None:
            return outputs[0]
        for output in outputs:
            if output.name == manifest.output_name:
                return output
        names = ", ".join(o.name for o in outputs)
        raise ModelManifestError(manifest.origin or path, "output.name",
                                 f"{manifest.output_name!r} is not an output of the model "
                                 f"(outputs: {names})")

    @staticmethod
    def _check_fit(path: Path, manifest: ModelManifest, input_shape: Shape,
                   output_shape: Shape) -> None:
        """Refuse a manifest that contradicts the model's fixed dimensions."""
        origin = manifest.origin or str(path)
        batch, channels, height, width = input_shape
        if batch not in (None, 1):
            raise DetectorUnavailableError(path, f"model input batch size is {batch}; "
                                           "only batch 1 (or a free batch) is supported")
        if channels is not None and channels != manifest.input_kind.channels:
            raise ModelManifestError(origin, "input.kind", f"{manifest.input_kind.value!r} "
                                     f"needs {manifest.input_kind.channels} channels but the "
                                     f"model's input has {channels} "
                                     f"(shape {show_shape(input_shape)})")
        for axis, (fixed, wanted) in enumerate(zip((height, width), manifest.input_size,
                                                   strict=True)):
            if fixed is not None and fixed != wanted:
                side = ("height", "width")[axis]
                raise ModelManifestError(origin, "input.size", f"is "
                                         f"{list(manifest.input_size)} but the model's input "
                                         f"is {show_shape(input_shape)} ({side})")
        if not output_shape:
            return  # unknown rank: checked on the first inference
        if len(output_shape) != 3:
            raise ModelManifestError(origin, "output.layout", f"the model's output has rank "
                                     f"{len(output_shape)} ({show_shape(output_shape)}), not 3")
        attributes = manifest.output_layout.attributes(manifest.num_classes)
        axis = 2 if manifest.output_layout is OutputLayout.YOLOV5 else 1
        if output_shape[axis] is not None and output_shape[axis] != attributes:
            raise ModelManifestError(
                origin, "output.layout",
                f"{manifest.output_layout.value} with {manifest.num_classes} classes needs "
                f"{attributes} values per candidate on axis {axis}, but the model's output "
                f"is {show_shape(output_shape)}")

    # ------------------------------------------------------------------ properties

    @property
    def manifest(self) -> ModelManifest:
        return self._manifest

    @property
    def model_path(self) -> Path:
        return self._model_path

    @property
    def model_sha256(self) -> str:
        """The sha256 of the exact bytes running, for the audit log."""
        return self._model_sha256

    @property
    def threads(self) -> int:
        """The intra-op thread count asked for (0: onnxruntime's default)."""
        return self._threads

    @property
    def input_kind(self) -> InputKind:
        return self._manifest.input_kind

    @property
    def session_options(self) -> Any:
        """onnxruntime's options of the live session (thread counts, for checks)."""
        return self._session.get_session_options()

    def describe(self) -> dict[str, Any]:
        """What an audit event or a report says about the model."""
        return {
            "path": os.fspath(self._model_path),
            "sha256": self._model_sha256,
            "name": self._manifest.name,
            "version": self._manifest.version,
            "manifest": self._manifest.source.value,
            "input_kind": self._manifest.input_kind.value,
            "input_size": list(self._manifest.input_size),
            "layout": self._manifest.output_layout.value,
            "classes": len(self._manifest.classes),
            "test_time_flips": [f.value for f in self._manifest.test_time.flips],
            "view_fusion": None if self._manifest.view_fusion is None
            else self._manifest.view_fusion.to_json(),
        }

    # ------------------------------------------------------------------ running

    def detect_image(self, image: Any, view: str = "") -> list[Detection]:
        """Detections in one image of the model's input kind, best score first.

        ``image``: pseudo-colour uint8 (rows, columns, 3) RGB; greyscale uint8 (rows,
        columns); dual-energy float32 (rows, columns, 2) transmission, high then low.
        Boxes are in ``image`` pixels. One image has no other view to back it up, so
        view fusion does not apply (:meth:`detect_views` does it). A wrong image raises
        :class:`~screener.detect.errors.DetectionInputError`; a failed inference
        :class:`DetectorUnavailableError`.
        """
        decoded = self._decode(image, view, lambda run, tensor, plan: detect_passes(
            run, tensor, self._manifest, plan))
        return self._detections(decoded, view)

    def detect_views(self, views: Sequence[View], images: Sequence[Any]
                     ) -> dict[str, list[Detection]]:
        """Detections in each of ``views`` of one scan, given the model's input image of
        each (``images``, in the same order), by view name.

        With a ``view_fusion`` plan in the manifest and two or more views that cover the
        same belt, every view's detections are first taken down to the test-time floor,
        rescored by their partners in the other views (:mod:`screener.detect.view_fusion`),
        and only then held to the class thresholds; otherwise each view is
        :meth:`detect_image`."""
        if len(views) != len(images):
            raise ValueError(f"{len(views)} views but {len(images)} images")
        fusion = self._manifest.view_fusion
        if fusion is None or len(views) < 2 or not share_belt(views):
            return {v.name: self.detect_image(image, v.name)
                    for v, image in zip(views, images, strict=True)}
        found = [self._decode(image, v.name, lambda run, tensor, plan: candidates(
            run, tensor, self._manifest, plan)) for v, image in zip(views, images, strict=True)]
        belts = [belt_intervals(v, f.boxes) for v, f in zip(views, found, strict=True)]
        kept = fused_and_passing(found, belts, self._manifest)
        return {v.name: self._detections(f, v.name) for v, f in zip(views, kept, strict=True)}

    def detect_scan(self, scan: Scan, render_fn: RenderFn,
                    views: tuple[str, ...] | None = None) -> dict[str, list[Detection]]:
        """Detections in every view of ``scan`` (or the named ``views``), by view name in
        the scan's order (:meth:`detect_views`). ``render_fn(view)`` gives the model's
        input image for a view."""
        chosen = scan.views if views is None else tuple(scan.view(n) for n in views)
        return self.detect_views(chosen, [render_fn(view) for view in chosen])

    def _decode(self, image: Any, view: str,
                passes: Callable[[RunModel, NDArray[Any], Letterbox], Decoded]) -> Decoded:
        """``passes(run, tensor, plan)`` on ``image`` prepared for the model, with errors
        named after ``view``."""
        what = f"view {view!r}" if view else "image"
        tensor, plan = prepare(image, self._manifest, what)

        def run(model_input: NDArray[Any]) -> NDArray[Any]:
            try:
                result = self._session.run([self._output_name],
                                           {self._input_name: model_input.astype(
                                               self._input_dtype)})
            except Exception as exc:  # onnxruntime's own exception types
                raise DetectorUnavailableError(self._model_path, f"inference failed on "
                                               f"{what} ({_first_line(exc)})") from None
            output: NDArray[Any] = result[0]
            return output

        try:
            return passes(run, tensor, plan)
        except OutputShapeError as exc:
            raise DetectorUnavailableError(self._model_path, str(exc)) from None

    def _detections(self, decoded: Decoded, view: str) -> list[Detection]:
        classes = self._manifest.classes
        return [
            Detection(
                view=view,
                class_name=classes[int(c)].name,
                category=classes[int(c)].category,
                score=float(s),
                box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            )
            for b, s, c in zip(decoded.boxes, decoded.scores, decoded.class_ids, strict=True)
        ]
