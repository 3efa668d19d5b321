"""Model manifests: what a detector's ONNX file means and how to feed it.

A manifest names the model's classes and their threat category, the kind and size of
input image it takes, how pixels are normalised, how its output tensor is laid out and
its default thresholds. It comes from one of three places (docs/detector.md):

1. a sidecar JSON file beside the model (``threats.json`` or ``threats.onnx.json`` for
   ``threats.onnx``), which pins the model file by its sha256;
2. the ONNX ``metadata_props`` key ``screener_manifest`` (the same JSON, without the
   sha256: a file cannot hold its own hash);
3. for third-party YOLOv5 / YOLOv8 / YOLO11 exports without either, the metadata
   ultralytics writes (``names``, ``imgsz``, ``task``) and the model's tensor shapes.

Parsing trusts nothing: every problem is a :class:`ModelManifestError` that names the file
and the field. Nothing here imports onnxruntime; shapes are passed in.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from screener.detect.errors import ModelManifestError
from screener.sim.labels import BENIGN_CLASSES, THREAT_CLASSES

#: The manifest schema version this Screener writes and reads.
MANIFEST_VERSION = 1
#: ONNX ``metadata_props`` key of an embedded manifest.
EMBEDDED_KEY = "screener_manifest"
#: Largest manifest or metadata value parsed, in characters (a guard against absurd files).
MAX_MANIFEST_CHARS = 1_000_000

DEFAULT_SCORE_THRESHOLD = 0.25
DEFAULT_NMS_IOU = 0.45
DEFAULT_MAX_DETECTIONS = 300
DEFAULT_FUSION_IOU = 0.55
DEFAULT_BELT_OVERLAP = 0.7
#: Letterbox padding of 8-bit inputs, as ultralytics pads.
ULTRALYTICS_PAD = 114.0

_SHA256 = re.compile(r"[0-9a-f]{64}")
_E = TypeVar("_E", bound=StrEnum)


class Category(StrEnum):
    """What a class means at the checkpoint. The threat values are those of
    :class:`screener.sim.labels.ThreatCategory`; ``benign`` classes are never flagged."""

    GUN = "gun"
    KNIFE = "knife"
    IED = "ied"
    OTHER = "other"
    BENIGN = "benign"

    @property
    def is_threat(self) -> bool:
        return self is not Category.BENIGN


class InputKind(StrEnum):
    """The image a model takes."""

    #: Screener's standard pseudo-colour rendering: uint8 (rows, columns, 3), RGB
    PSEUDO_COLOUR = "pseudo-colour"
    #: 8-bit greyscale: uint8 (rows, columns)
    GREYSCALE = "greyscale"
    #: both energy channels as float32 transmission in [0, 1]: (rows, columns, 2), high then low
    DUAL_ENERGY = "dual-energy"

    @property
    def channels(self) -> int:
        return {"pseudo-colour": 3, "greyscale": 1, "dual-energy": 2}[self.value]

    @property
    def channel_orders(self) -> tuple[str, ...]:
        """Allowed ``input.channel_order`` values; the first is the default."""
        return {
            "pseudo-colour": ("RGB", "BGR"),
            "greyscale": ("grey",),
            "dual-energy": ("high-low", "low-high"),
        }[self.value]

    @property
    def default_scale(self) -> float:
        return 1.0 if self is InputKind.DUAL_ENERGY else 1.0 / 255.0

    @property
    def default_pad_value(self) -> float:
        """Letterbox padding in input units: grey 114 for 8-bit images (as ultralytics),
        open beam (transmission 1.0, air) for dual-energy."""
        return 1.0 if self is InputKind.DUAL_ENERGY else ULTRALYTICS_PAD


class OutputLayout(StrEnum):
    """How the model's single output tensor is laid out."""

    #: ``[1, N, 5 + nc]``: cx, cy, w, h, objectness, class scores (YOLOv5)
    YOLOV5 = "yolov5"
    #: ``[1, 4 + nc, N]``: cx, cy, w, h, class scores (YOLOv8, YOLO11)
    YOLOV8 = "yolov8"

    def attributes(self, num_classes: int) -> int:
        """Length of one candidate's record."""
        return num_classes + (5 if self is OutputLayout.YOLOV5 else 4)


class Flip(StrEnum):
    """A mirror image of the model input, for test-time passes
    (:mod:`screener.detect.test_time`)."""

    HORIZONTAL = "horizontal"
    VERTICAL = "vertical"
    BOTH = "both"

    @property
    def mirrors_x(self) -> bool:
        return self is not Flip.VERTICAL

    @property
    def mirrors_y(self) -> bool:
        return self is not Flip.HORIZONTAL


@dataclass(frozen=True)
class TestTimePlan:
    """The passes a model runs per image: the input as given, then each of ``flips``;
    their detections are fused at ``fusion_iou``."""

    __test__ = False  # not a pytest test class, whatever its name

    flips: tuple[Flip, ...] = ()
    fusion_iou: float = DEFAULT_FUSION_IOU

    @property
    def passes(self) -> tuple[Flip | None, ...]:
        return (None, *self.flips)

    def to_json(self) -> dict[str, Any]:
        return {"flips": [f.value for f in self.flips], "fusion_iou": self.fusion_iou}


#: One pass per image: what a model runs unless its manifest asks for test-time flips.
SINGLE_PASS = TestTimePlan()


@dataclass(frozen=True)
class ViewFusionPlan:
    """How the detections of a scan's views back each other up
    (:mod:`screener.detect.view_fusion`): two detections of one class in two views are
    partners when their extents along the belt overlap at ``belt_overlap`` or more
    (intersection over union of the two intervals); a detection's score ``s`` becomes
    ``1 - (1 - s)(1 - partner_weight * p)`` with its partner's score ``p``, or
    ``alone_factor * s`` when no other view has a partner for it."""

    belt_overlap: float = DEFAULT_BELT_OVERLAP
    partner_weight: float = 1.0
    alone_factor: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {"belt_overlap": self.belt_overlap, "partner_weight": self.partner_weight,
                "alone_factor": self.alone_factor}


class ManifestSource(StrEnum):
    SIDECAR = "sidecar"
    EMBEDDED = "embedded"
    ULTRALYTICS = "ultralytics-metadata"


@dataclass(frozen=True)
class ClassSpec:
    name: str
    category: Category

    @property
    def is_threat(self) -> bool:
        return self.category.is_threat


@dataclass(frozen=True)
class Normalisation:
    """``x[c] = (pixel[c] * scale - mean[c]) / std[c]`` after putting channels in
    ``channel_order``; one mean and std per channel."""

    scale: float
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channel_order: str


@dataclass(frozen=True)
class ModelManifest:
    """Everything the runtime needs to know about a model. Build with :func:`parse_manifest`,
    :func:`load_manifest_file` or :func:`manifest_from_ultralytics`."""

    name: str
    version: str
    model_sha256: str | None
    classes: tuple[ClassSpec, ...]
    input_kind: InputKind
    input_size: tuple[int, int]  # (height, width)
    normalisation: Normalisation
    pad_value: float
    output_layout: OutputLayout
    output_name: str | None = None
    score_threshold: float = DEFAULT_SCORE_THRESHOLD
    class_thresholds: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    nms_iou: float = DEFAULT_NMS_IOU
    max_detections: int = DEFAULT_MAX_DETECTIONS
    multi_label: bool = False
    test_time: TestTimePlan = SINGLE_PASS
    view_fusion: ViewFusionPlan | None = None
    manifest_version: int = MANIFEST_VERSION
    source: ManifestSource = ManifestSource.SIDECAR
    origin: str = ""  # where it was read, for messages

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    def threshold_for(self, class_name: str) -> float:
        return self.class_thresholds.get(class_name, self.score_threshold)

    def thresholds(self) -> tuple[float, ...]:
        """The score threshold of each class, in class order."""
        return tuple(self.threshold_for(c.name) for c in self.classes)

    def to_json(self) -> dict[str, Any]:
        """The manifest as its JSON document (schema ``manifest_version``)."""
        document: dict[str, Any] = {
            "manifest_version": self.manifest_version,
            "name": self.name,
            "version": self.version,
        }
        if self.model_sha256 is not None:
            document["model_sha256"] = self.model_sha256
        document["classes"] = [{"name": c.name, "category": c.category.value}
                               for c in self.classes]
        document["input"] = {
            "kind": self.input_kind.value,
            "size": list(self.input_size),
            "channel_order": self.normalisation.channel_order,
            "scale": self.normalisation.scale,
            "mean": list(self.normalisation.mean),
            "std": list(self.normalisation.std),
            "pad_value": self.pad_value,
        }
        document["output"] = {"layout": self.output_layout.value}
        if self.output_name is not None:
            document["output"]["name"] = self.output_name
        document["thresholds"] = {
            "score": self.score_threshold,
            "per_class": dict(self.class_thresholds),
            "nms_iou": self.nms_iou,
            "max_detections": self.max_detections,
            "multi_label": self.multi_label,
        }
        if self.test_time.flips:
            document["test_time"] = self.test_time.to_json()
        if self.view_fusion is not None:
            document["view_fusion"] = self.view_fusion.to_json()
        return document


# --------------------------------------------------------------------------- categories

_GUN_WORDS = {
    "gun", "guns", "pistol", "pistols", "handgun", "handguns", "revolver", "revolvers",
    "rifle", "rifles", "shotgun", "firearm", "firearms", "gun_part", "gun_parts", "gunpart",
    "ammunition", "ammo", "bullet", "bullets", "cartridge", "cartridges",
}
_KNIFE_WORDS = {
    "knife", "knives", "blade", "blades", "dagger", "daggers", "scissors", "scissor",
    "razor", "razor_blade", "razor_blades", "cutter", "box_cutter", "sword", "machete",
    "bayonet",
}
_IED_WORDS = {
    "ied", "ieds", "explosive", "explosives", "bomb", "bombs", "grenade", "grenades",
    "detonator", "detonators",
}


def normalise_class_name(name: str) -> str:
    """``"Box Cutter"`` -> ``"box_cutter"``: how class names are compared with the word lists."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def guess_category(name: str, category_map: Mapping[str, Category | str] | None = None) -> Category:
    """The category of a third-party class name.

    ``category_map`` (the user's, matched after :func:`normalise_class_name`) wins; then
    Screener's own classes (:mod:`screener.sim.labels`); then word lists (pistol -> gun,
    scissors -> knife, grenade -> ied). Anything else is ``other``: an unknown class is a
    threat until someone says it is benign (fail closed).
    """
    key = normalise_class_name(name)
    if category_map:
        for given, category in category_map.items():
            if normalise_class_name(given) == key:
                return Category(category)
    if key in THREAT_CLASSES:
        return Category(THREAT_CLASSES[key].value)
    if key in BENIGN_CLASSES:
        return Category.BENIGN
    if key in _GUN_WORDS:
        return Category.GUN
    if key in _KNIFE_WORDS:
        return Category.KNIFE
    if key in _IED_WORDS:
        return Category.IED
    return Category.OTHER


# --------------------------------------------------------------------------- parsing


class _Fields:
    """Reads one JSON object, naming each field by its dotted path in errors."""

    def __init__(self, origin: str, data: Any, prefix: str) -> None:
        self.origin = origin
        self.prefix = prefix
        if not isinstance(data, dict):
            raise ModelManifestError(origin, prefix or "(document)",
                                     f"must be a JSON object, not {_json_type(data)}")
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, problem: str) -> ModelManifestError:
        return ModelManifestError(self.origin, self.name(key), problem)

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def raw(self, key: str, *, required: bool) -> Any:
        self.used.add(key)
        if not self.has(key):
            if required:
                raise self.error(key, "is missing")
            return None
        return self.data[key]

    def text(self, key: str, *, required: bool = True) -> str | None:
        value = self.raw(key, required=required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, not {_short(value)}")
        return value

    def number(self, key: str, default: float, *, low: float, high: float,
               low_open: bool = False) -> float:
        value = self.raw(key, required=False)
        if value is None:
            return default
        number = _as_number(value)
        if number is None:
            raise self.error(key, f"must be a number, not {_short(value)}")
        too_low = number <= low if low_open else number < low
        if too_low or number > high:
            bracket = "(" if low_open else "["
            raise self.error(key, f"must lie in {bracket}{low:g}, {high:g}], not {number:g}")
        return number

    def integer(self, key: str, default: int, *, low: int) -> int:
        value = self.raw(key, required=False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, not {_short(value)}")
        if value < low:
            raise self.error(key, f"must be at least {low}, not {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, not {_short(value)}")
        return value

    def child(self, key: str, *, required: bool) -> _Fields:
        value = self.raw(key, required=required)
        return _Fields(self.origin, {} if value is None else value, self.name(key))

    def refuse_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.error(unknown[0], "is not a manifest field (misspelt? see "
                             "docs/detector.md for the schema)")


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _per_channel(fields: _Fields, key: str, default: float, channels: int,
                 *, nonzero: bool) -> tuple[float, ...]:
    value = fields.raw(key, required=False)
    if value is None:
        return (default,) * channels
    values = value if isinstance(value, list) else [value]
    if isinstance(value, list) and len(values) != channels:
        raise fields.error(key, f"must have one value per input channel ({channels}), "
                           f"not {len(values)}")
    numbers = [_as_number(v) for v in values]
    if any(n is None for n in numbers):
        raise fields.error(key, f"must be a finite number or a list of them, not {_short(value)}")
    checked = [n for n in numbers if n is not None]
    if nonzero and any(n == 0 for n in checked):
        raise fields.error(key, "must not be zero (it divides)")
    return tuple(checked) * (channels if len(checked) == 1 and channels > 1 else 1)


def _size(fields: _Fields, key: str) -> tuple[int, int]:
    value = fields.raw(key, required=True)
    if (not isinstance(value, list) or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) for v in value)):
        raise fields.error(key, f"must be [height, width] in pixels, not {_short(value)}")
    height, width = value
    if height < 1 or width < 1 or height > 16384 or width > 16384:
        raise fields.error(key, f"must be between 1 and 16384 pixels each, not {value}")
    return int(height), int(width)


def _enum(fields: _Fields, key: str, kind: type[_E]) -> _E:
    return _enum_value(fields, key, fields.raw(key, required=True), kind)


def _enum_value(fields: _Fields, key: str, value: Any, kind: type[_E]) -> _E:
    """``value`` (read from ``key``) as a member of ``kind``, or an error naming ``key``."""
    allowed = ", ".join(repr(member.value) for member in kind)
    if not isinstance(value, str):
        raise fields.error(key, f"must be one of {allowed}, not {_short(value)}")
    try:
        return kind(value)
    except ValueError:
        raise fields.error(key, f"must be one of {allowed}, not {value!r}") from None


def parse_manifest(data: Any, origin: str, *, embedded: bool = False) -> ModelManifest:
    """Validate a manifest document (already decoded from JSON).

    ``origin`` names where it came from in every error. A sidecar manifest must pin the
    model by ``model_sha256``; an ``embedded`` one must not carry it.
    """
    top = _Fields(origin, data, "")
    version = top.raw("manifest_version", required=True)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise top.error("manifest_version", f"must be a whole number >= 1, not {_short(version)}")
    if version > MANIFEST_VERSION:
        raise top.error("manifest_version", f"is {version}; this Screener reads manifests up "
                        f"to version {MANIFEST_VERSION}: upgrade Screener to use this model")
    name = top.text("name")
    model_version = top.text("version")
    assert name is not None and model_version is not None
    sha = _model_sha256(top, embedded=embedded)
    classes = _classes(top)

    inputs = top.child("input", required=True)
    kind = _enum(inputs, "kind", InputKind)
    size = _size(inputs, "size")
    order = inputs.text("channel_order", required=False) or kind.channel_orders[0]
    if order not in kind.channel_orders:
        raise inputs.error("channel_order", f"must be one of {list(kind.channel_orders)} for "
                           f"{kind.value!r} input, not {order!r}")
    scale = inputs.number("scale", kind.default_scale, low=0.0, high=1e6, low_open=True)
    mean = _per_channel(inputs, "mean", 0.0, kind.channels, nonzero=False)
    std = _per_channel(inputs, "std", 1.0, kind.channels, nonzero=True)
    pad = inputs.number("pad_value", kind.default_pad_value, low=-1e6, high=1e6)
    inputs.refuse_unknown()

    output = top.child("output", required=True)
    layout = _enum(output, "layout", OutputLayout)
    output_name = output.text("name", required=False)
    output.refuse_unknown()

    limits = top.child("thresholds", required=False)
    score = limits.number("score", DEFAULT_SCORE_THRESHOLD, low=0.0, high=1.0)
    per_class = _class_thresholds(limits, {c.name for c in classes})
    nms_iou = limits.number("nms_iou", DEFAULT_NMS_IOU, low=0.0, high=1.0, low_open=True)
    max_detections = limits.integer("max_detections", DEFAULT_MAX_DETECTIONS, low=1)
    multi_label = limits.boolean("multi_label", False)
    limits.refuse_unknown()
    test_time = _test_time(top.child("test_time", required=False))
    view_fusion = _view_fusion(top)
    top.refuse_unknown()

    return ModelManifest(
        name=name,
        version=model_version,
        model_sha256=sha,
        classes=classes,
        input_kind=kind,
        input_size=size,
        normalisation=Normalisation(scale, mean, std, order),
        pad_value=pad,
        output_layout=layout,
        output_name=output_name,
        score_threshold=score,
        class_thresholds=MappingProxyType(per_class),
        nms_iou=nms_iou,
        max_detections=max_detections,
        multi_label=multi_label,
        test_time=test_time,
        view_fusion=view_fusion,
        manifest_version=version,
        source=ManifestSource.EMBEDDED if embedded else ManifestSource.SIDECAR,
        origin=origin,
    )


def _test_time(fields: _Fields) -> TestTimePlan:
    flips = fields.raw("flips", required=False)
    if flips is None:
        flips = []
    if not isinstance(flips, list):
        raise fields.error("flips", f"must be a list of {[f.value for f in Flip]}, "
                           f"not {_short(flips)}")
    chosen: list[Flip] = []
    for index, value in enumerate(flips):
        flip = _enum_value(fields, f"flips[{index}]", value, Flip)
        if flip in chosen:
            raise fields.error(f"flips[{index}]", f"{flip.value!r} is listed twice")
        chosen.append(flip)
    fusion_iou = fields.number("fusion_iou", DEFAULT_FUSION_IOU, low=0.0, high=1.0,
                               low_open=True)
    fields.refuse_unknown()
    return TestTimePlan(tuple(chosen), fusion_iou)


def _view_fusion(top: _Fields) -> ViewFusionPlan | None:
    """The ``view_fusion`` block, or None when the manifest has none (or null)."""
    present = top.has("view_fusion")
    fields = top.child("view_fusion", required=False)
    if not present:
        return None
    plan = ViewFusionPlan(
        belt_overlap=fields.number("belt_overlap", DEFAULT_BELT_OVERLAP, low=0.0, high=1.0,
                                   low_open=True),
        partner_weight=fields.number("partner_weight", 1.0, low=0.0, high=1.0),
        alone_factor=fields.number("alone_factor", 1.0, low=0.0, high=1.0),
    )
    fields.refuse_unknown()
    return plan


def _model_sha256(top: _Fields, *, embedded: bool) -> str | None:
    if embedded:
        if top.has("model_sha256"):
            raise top.error("model_sha256", "must not be set in a manifest embedded in the "
                            "model (a file cannot hold its own hash); pin the model with a "
                            "sidecar manifest or the expected sha256 instead")
        top.raw("model_sha256", required=False)
        return None
    value = top.raw("model_sha256", required=True)
    if not isinstance(value, str) or not _SHA256.fullmatch(value.lower()):
        raise top.error("model_sha256", f"must be 64 hexadecimal digits, not {_short(value)}")
    return value.lower()


def _classes(top: _Fields) -> tuple[ClassSpec, ...]:
    value = top.raw("classes", required=True)
    if not isinstance(value, list) or not value:
        raise top.error("classes", "must be a non-empty list of {\"name\", \"category\"}")
    specs: list[ClassSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(value):
        entry = _Fields(top.origin, item, f"classes[{index}]")
        name = entry.text("name")
        assert name is not None
        if name in seen:
            raise entry.error("name", f"{name!r} is listed twice")
        seen.add(name)
        specs.append(ClassSpec(name, _enum(entry, "category", Category)))
        entry.refuse_unknown()
    return tuple(specs)


def _class_thresholds(limits: _Fields, names: set[str]) -> dict[str, float]:
    value = limits.raw("per_class", required=False)
    if value is None:
        return {}
    per_class = _Fields(limits.origin, value, limits.name("per_class"))
    result: dict[str, float] = {}
    for class_name in sorted(per_class.data):
        if class_name not in names:
            raise per_class.error(class_name, "is not one of the model's classes")
        result[class_name] = per_class.number(class_name, DEFAULT_SCORE_THRESHOLD,
                                              low=0.0, high=1.0)
    return result


def read_manifest_text(text: str, origin: str, *, embedded: bool = False) -> ModelManifest:
    """Parse a manifest from JSON text."""
    if len(text) > MAX_MANIFEST_CHARS:
        raise ModelManifestError(origin, None, f"manifest is larger than "
                                 f"{MAX_MANIFEST_CHARS} characters; refusing to parse it")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelManifestError(origin, None, f"not valid JSON: {exc.msg} at line "
                                 f"{exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ModelManifestError(origin, None, "not valid JSON: nested too deeply") from None
    return parse_manifest(data, origin, embedded=embedded)


def load_manifest_file(path: Path | str) -> ModelManifest:
    """Read and validate a sidecar manifest file."""
    source = Path(path)
    try:
        with source.open("rb") as handle:
            raw = handle.read(MAX_MANIFEST_CHARS * 4 + 1)
    except FileNotFoundError:
        raise ModelManifestError(source, None, "manifest file not found") from None
    except OSError as exc:
        raise ModelManifestError(source, None, f"manifest cannot be read: "
                                 f"{exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelManifestError(source, None, "manifest is not UTF-8 text") from None
    return read_manifest_text(text, str(source))


def sidecar_candidates(model_path: Path) -> tuple[Path, Path]:
    """Where a sidecar manifest of ``model_path`` may lie: ``x.json`` and ``x.onnx.json``."""
    return model_path.with_suffix(".json"), model_path.with_name(model_path.name + ".json")


def find_sidecar(model_path: Path) -> Path | None:
    """The sidecar manifest beside the model, if there is exactly one; two is an error."""
    found = [p for p in dict.fromkeys(sidecar_candidates(model_path))
             if p != model_path and p.is_file()]
    if len(found) > 1:
        raise ModelManifestError(model_path, None, f"two sidecar manifests ({found[0].name} "
                                 f"and {found[1].name}); remove the one that is not current")
    return found[0] if found else None


# --------------------------------------------------------------------------- ultralytics

Shape = Sequence[int | None]  # None: a dimension with no fixed size


def show_shape(shape: Shape) -> str:
    """``[1, ?, 8400]``: a shape with its free dimensions as ``?``."""
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _literal(metadata: Mapping[str, str], key: str, origin: str) -> Any:
    text = metadata[key]
    if len(text) > MAX_MANIFEST_CHARS:
        raise ModelManifestError(origin, f"metadata_props.{key}", "value is too large")
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ModelManifestError(origin, f"metadata_props.{key}",
                                 f"cannot be read as a Python literal: {_short(text)}") from None


def parse_ultralytics_names(metadata: Mapping[str, str], origin: str) -> tuple[str, ...]:
    """Class names from ultralytics' ``names`` metadata: ``"{0: 'person', 1: 'bicycle'}"``
    (or a list, as older YOLOv5 exports write), indices 0..nc-1 without gaps."""
    key = "metadata_props.names"
    if "names" not in metadata:
        raise ModelManifestError(origin, key, "is missing: the model has no Screener manifest "
                                 "(sidecar JSON or metadata 'screener_manifest') and no "
                                 "ultralytics class names, so its classes are unknown; "
                                 "write a sidecar manifest")
    value = _literal(metadata, "names", origin)
    if isinstance(value, list | tuple):
        value = dict(enumerate(value))
    if not isinstance(value, dict) or not value:
        raise ModelManifestError(origin, key, f"must be a non-empty dict of index: name, not "
                                 f"{_short(metadata['names'])}")
    names: dict[int, str] = {}
    for index, name in value.items():
        try:
            number = int(index)
        except (TypeError, ValueError):
            raise ModelManifestError(origin, key, f"index {index!r} is not a whole number") \
                from None
        if isinstance(index, bool | float) or not isinstance(name, str) or not name.strip():
            raise ModelManifestError(origin, key, f"entry {index!r}: {name!r} is not "
                                     "index: non-empty name")
        names[number] = name
    if sorted(names) != list(range(len(names))):
        raise ModelManifestError(origin, key, f"indices must run 0..{len(names) - 1} "
                                 "without gaps")
    ordered = tuple(names[i] for i in range(len(names)))
    if len(set(ordered)) != len(ordered):
        duplicate = next(n for n in ordered if ordered.count(n) > 1)
        raise ModelManifestError(origin, key, f"class {duplicate!r} is listed twice")
    return ordered


def _ultralytics_size(metadata: Mapping[str, str], input_shape: Shape,
                      origin: str) -> tuple[int, int]:
    static: tuple[int, int] | None = None
    if len(input_shape) == 4 and input_shape[2] is not None and input_shape[3] is not None:
        static = int(input_shape[2]), int(input_shape[3])
    from_metadata: tuple[int, int] | None = None
    if "imgsz" in metadata:
        value = _literal(metadata, "imgsz", origin)
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value, value]
        if (not isinstance(value, list | tuple) or len(value) != 2
                or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)):
            raise ModelManifestError(origin, "metadata_props.imgsz", f"must be [height, "
                                     f"width], not {_short(metadata['imgsz'])}")
        from_metadata = int(value[0]), int(value[1])
    if static and from_metadata and static != from_metadata:
        raise ModelManifestError(origin, "metadata_props.imgsz", f"says {list(from_metadata)} "
                                 f"but the model's input is {show_shape(input_shape)}")
    size = static or from_metadata
    if size is None:
        raise ModelManifestError(origin, "metadata_props.imgsz", "is missing and the model's "
                                 "input size is not fixed; write a sidecar manifest with "
                                 "input.size")
    return size


def infer_layout(output_shape: Shape, num_classes: int, origin: str) -> OutputLayout:
    """YOLOv5 (``[1, N, 5+nc]``) or YOLOv8/YOLO11 (``[1, 4+nc, N]``) from the output shape."""
    shape = list(output_shape)
    if len(shape) != 3:
        raise ModelManifestError(origin, "output.layout", f"cannot infer the layout: the "
                                 f"output has rank {len(shape)} ({show_shape(shape)}), not 3")
    _, rows, columns = shape
    if rows is None and columns is None:
        raise ModelManifestError(origin, "output.layout", f"cannot infer the layout: the "
                                 f"output's size {show_shape(shape)} is not fixed; write a "
                                 "sidecar manifest")
    v5 = columns == num_classes + 5
    v8 = rows == num_classes + 4
    # Both fit only for [1, nc + 4, nc + 5]: a handful of candidates, which only a test
    # graph has; read it as YOLOv8 (a manifest says otherwise where it must).
    if v8:
        return OutputLayout.YOLOV8
    if v5:
        return OutputLayout.YOLOV5
    raise ModelManifestError(
        origin, "output.layout",
        f"output shape {show_shape(shape)} is neither YOLOv5 [1, N, {num_classes + 5}] nor "
        f"YOLOv8 [1, {num_classes + 4}, N] for the {num_classes} classes in 'names' (end-to-end "
        "exports with NMS inside the model are not supported)",
    )


def manifest_from_ultralytics(
    metadata: Mapping[str, str],
    input_shape: Shape,
    output_shape: Shape,
    origin: str,
    category_map: Mapping[str, Category | str] | None = None,
) -> ModelManifest:
    """A manifest for a third-party YOLOv5 / YOLOv8 / YOLO11 export, as ultralytics runs it:
    RGB pseudo-colour input scaled by 1/255, letterboxed with grey 114, default thresholds.
    Categories come from :func:`guess_category`. No sha256 is pinned."""
    task = metadata.get("task", "detect").strip().lower()
    if task != "detect":
        raise ModelManifestError(origin, "metadata_props.task", f"is {task!r}; only detection "
                                 "models ('detect') are supported")
    if metadata.get("end2end", "False").strip().lower() == "true":
        raise ModelManifestError(origin, "metadata_props.end2end", "the model has NMS built "
                                 "in (end-to-end export); export it without end2end")
    names = parse_ultralytics_names(metadata, origin)
    size = _ultralytics_size(metadata, input_shape, origin)
    layout = infer_layout(output_shape, len(names), origin)
    kind = InputKind.PSEUDO_COLOUR
    model_name = metadata.get("description", "").strip() or Path(origin).stem
    return ModelManifest(
        name=model_name,
        version=metadata.get("version", "").strip() or "unknown",
        model_sha256=None,
        classes=tuple(ClassSpec(n, guess_category(n, category_map)) for n in names),
        input_kind=kind,
        input_size=size,
        normalisation=Normalisation(kind.default_scale, (0.0,) * 3, (1.0,) * 3, "RGB"),
        pad_value=ULTRALYTICS_PAD,
        output_layout=layout,
        source=ManifestSource.ULTRALYTICS,
        origin=origin,
    )
