"""ONNX threat detector: model manifests, preprocessing, decoding, NMS, the runtime.

Public API::

    from screener.detect import Detector, DetectorUnavailableError
    detector = Detector.load("models/threats.onnx", threads=2)
    detections = detector.detect_scan(scan, render_fn)   # {view name: [Detection, ...]}

See docs/detector.md for the manifest schema, third-party models and errors.
"""

from screener.detect.errors import (
    DetectionInputError,
    DetectorUnavailableError,
    ModelHashMismatchError,
    ModelManifestError,
)
from screener.detect.manifest import (
    MANIFEST_VERSION,
    Category,
    ClassSpec,
    InputKind,
    ManifestSource,
    ModelManifest,
    Normalisation,
    OutputLayout,
    load_manifest_file,
    parse_manifest,
)
from screener.detect.runtime import Detection, Detector, RenderFn

__all__ = [
    "MANIFEST_VERSION",
    "Category",
    "ClassSpec",
    "Detection",
    "DetectionInputError",
    "Detector",
    "DetectorUnavailableError",
    "InputKind",
    "ManifestSource",
    "ModelHashMismatchError",
    "ModelManifest",
    "ModelManifestError",
    "Normalisation",
    "OutputLayout",
    "RenderFn",
    "load_manifest_file",
    "parse_manifest",
]
