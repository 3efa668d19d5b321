"""Evaluate a detector on an annotated set: class maps, running the model, the report, the
PR-curve figure.

The pieces, in the order ``screener eval-detector`` uses them:

1. :func:`~screener.detect.datasets.read_dataset` reads the set (VOC, YOLO, COCO, scans).
2. :func:`load_class_map` reads a class map (or :func:`identity_class_map`), and
   :func:`resolve_scoring` checks it against the model: which dataset classes are scored
   as which of the model's labels (class names, or categories), which are left out.
3. :func:`load_detectors` loads the model twice from the same bytes: as it runs at the
   checkpoint (operating thresholds) and with a low score floor for the PR curve.
4. :func:`predict` runs the model on every sample. It takes ``make_input(scan)``, which
   gives the model's input image for each view: the CLI passes the display pipeline's
   rendering, so this module does not depend on :mod:`screener.imaging`.
5. :func:`evaluate_predictions` matches and scores (:mod:`screener.detect.metrics`),
   :func:`write_pr_curve` draws the curves (matplotlib, Agg, imported only there).

Docs: docs/detector.md, Evaluation.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from itertools import groupby
from pathlib import Path
from typing import Any

from screener.detect.datasets import Dataset, Sample
from screener.detect.errors import DetectionInputError
from screener.detect.false_alarms import NamedBox, false_alarm_sources
from screener.detect.manifest import Category, ModelManifest, normalise_class_name
from screener.detect.metrics import (
    ALL_SIZES,
    COCO_MAX_DETECTIONS,
    IOU_THRESHOLDS,
    SIZE_RANGES,
    GroundTruthBox,
    ImageRecord,
    LabelMetrics,
    PredictedBox,
    Summary,
    evaluate,
)
from screener.detect.runtime import Detection, Detector
from screener.errors import ScreenerError
from screener.scan.hdf5 import ScanLimits
from screener.scan.imports import load_any
from screener.scan.model import Scan, View

CLASSMAP_VERSION = 1
#: Score floor for the PR curve and AP (ultralytics' ``val`` uses 0.001 as well).
DEFAULT_SCORE_FLOOR = 0.001
#: Largest class-map file read, in bytes.
MAX_CLASSMAP_BYTES = 1024 * 1024
_CLASSMAP_KEYS = {"classmap_version", "level", "classes", "reasons", "notes"}

#: Gives, for one scan, the function that makes the model's input image for a view.
InputMaker = Callable[[Scan], Callable[[View], Any]]


class ClassMapError(ScreenerError):
    """A class map is missing, malformed or names a class the model does not have."""

    hint = "Fix the class map (docs/detector.md, Evaluation)."

    def __init__(self, origin: Path | str, problem: str) -> None:
        self.origin = str(origin)
        self.problem = " ".join(problem.split())
        super().__init__(f"{self.origin}: {self.problem}. {self.hint}")


class Level(StrEnum):
    """What a dataset class is mapped to: one of the model's class names, or a category."""

    CLASS = "class"
    CATEGORY = "category"


# --------------------------------------------------------------------------- class maps


@dataclass(frozen=True)
class ClassMap:
    """Dataset class name -> the model's label (a class name, or a category with level
    ``category``), or None: left out on purpose. Names are compared after
    :func:`~screener.detect.manifest.normalise_class_name` (``Razor Blade`` =
    ``razor_blade``). ``identity``: a name not listed maps to the model label of the same
    name, if there is one."""

    level: Level
    entries: Mapping[str, str | None]
    origin: str
    reasons: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    identity: bool = False

    def lookup(self, name: str) -> tuple[bool, str | None]:
        """(listed, target) for a dataset class name."""
        key = normalise_class_name(name)
        for given, target in self.entries.items():
            if normalise_class_name(given) == key:
                return True, target
        return False, None

    def reason(self, name: str) -> str | None:
        key = normalise_class_name(name)
        return next((text for given, text in self.reasons.items()
                     if normalise_class_name(given) == key), None)

    def to_json(self) -> dict[str, Any]:
        return {"origin": self.origin, "level": self.level.value,
                "identity": self.identity, "classes": dict(self.entries),
                "notes": self.notes}


def identity_class_map() -> ClassMap:
    """The map used without ``--classes``: each dataset class is scored as the model class
    of the same (normalised) name; other classes are left out."""
    return ClassMap(Level.CLASS, {}, "(no class map: names matched as they are)",
                    identity=True)


def shipped_class_maps() -> dict[str, Path]:
    """The class maps shipped in ``screener/detect/classmaps``, by name (file stem)."""
    folder = resources.files("screener.detect") / "classmaps"
    found: dict[str, Path] = {}
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.name.endswith(".json") and entry.is_file():
                found[entry.name[:-5]] = Path(str(entry))
    return dict(sorted(found.items()))


def load_class_map(spec: Path | str) -> ClassMap:
    """A class map from a JSON file, or a shipped map by name (``sixray``, ``gdxray``,
    ``gdxray-categories``). See docs/detector.md, Evaluation, for the schema."""
    text_spec = str(spec)
    shipped = shipped_class_maps()
    path = Path(spec)
    if text_spec in shipped and not path.exists():
        path = shipped[text_spec]
    try:
        size = path.stat().st_size
        if size > MAX_CLASSMAP_BYTES:
            raise ClassMapError(path, f"{size} bytes: too large for a class map")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        names = ", ".join(shipped) or "none"
        raise ClassMapError(path, f"no such file, and not a shipped class map (shipped: "
                            f"{names})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ClassMapError(path, f"cannot be read ({exc})") from None
    return parse_class_map(text, str(path))


def parse_class_map(text: str, origin: str) -> ClassMap:
    """Parse a class map document (JSON, schema ``classmap_version`` 1)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ClassMapError(origin, f"not valid JSON ({exc.msg} at line {exc.lineno})") \
            from None
    if not isinstance(data, dict):
        raise ClassMapError(origin, "the top level must be a JSON object")
    unknown = sorted(set(data) - _CLASSMAP_KEYS)
    if unknown:
        raise ClassMapError(origin, f"unknown field(s) {', '.join(map(repr, unknown))}; "
                            f"allowed: {', '.join(sorted(_CLASSMAP_KEYS))}")
    version = data.get("classmap_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise ClassMapError(origin, "field 'classmap_version' must be a whole number (1)")
    if version > CLASSMAP_VERSION:
        raise ClassMapError(origin, f"classmap_version {version} is newer than this Screener "
                            f"reads ({CLASSMAP_VERSION}); upgrade Screener")
    try:
        level = Level(data.get("level", "class"))
    except ValueError:
        raise ClassMapError(origin, f"field 'level' is {data.get('level')!r}; use 'class' or "
                            "'category'") from None
    classes = data.get("classes")
    if not isinstance(classes, dict) or not classes:
        raise ClassMapError(origin, "field 'classes' must be a non-empty object "
                            "{dataset class: model class or null}")
    seen: dict[str, str] = {}
    for name, target in classes.items():
        if not name.strip():
            raise ClassMapError(origin, "field 'classes' has an empty dataset class name")
        if target is not None and (not isinstance(target, str) or not target.strip()):
            raise ClassMapError(origin, f"classes.{name}: {target!r} is not a class name or "
                                "null")
        key = normalise_class_name(name)
        if key in seen:
            raise ClassMapError(origin, f"classes: {seen[key]!r} and {name!r} are the same "
                                "name (names are compared in lower case, spaces as '_')")
        seen[key] = name
        if level is Level.CATEGORY and target is not None and target not in set(Category):
            raise ClassMapError(origin, f"classes.{name}: {target!r} is not a category; use "
                                f"one of {', '.join(c.value for c in Category)}")
    reasons = data.get("reasons", {})
    if not isinstance(reasons, dict) or not all(isinstance(v, str) for v in reasons.values()):
        raise ClassMapError(origin, "field 'reasons' must be an object {dataset class: text}")
    notes = data.get("notes", "")
    if not isinstance(notes, str):
        raise ClassMapError(origin, "field 'notes' must be a string")
    entries = {name: (None if target is None else target.strip())
               for name, target in classes.items()}
    return ClassMap(level, entries, origin, dict(reasons), notes)


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Scoring:
    """How a dataset's classes and a model's detections meet.

    ``labels``: the labels scored (model class names, or categories), in the model's
    order. ``mapping``: dataset class -> label. ``excluded``: dataset class -> why it is
    not scored. ``label_of``: model class -> label (class name or its category).
    ``thresholds``: label -> the operating thresholds of the model classes behind it.
    ``unused``: class-map entries naming no class of the dataset (typos show here).
    ``not_detectable``: scored labels no model class gives (every such object is missed).
    """

    level: Level
    labels: tuple[str, ...]
    mapping: Mapping[str, str]
    excluded: Mapping[str, str]
    label_of: Mapping[str, str]
    thresholds: Mapping[str, tuple[float, ...]]
    unused: tuple[str, ...] = ()
    not_detectable: tuple[str, ...] = ()


def resolve_scoring(class_map: ClassMap, manifest: ModelManifest,
                    dataset_classes: Sequence[str]) -> Scoring:
    """Check ``class_map`` against the model and the dataset's class names.

    A target that is not one of the model's classes (level ``class``) raises
    :class:`ClassMapError` naming the entry. Dataset classes mapped to null, missing from
    an explicit map, or (without a map) matching no model class are left out of scoring
    and listed in ``excluded``.
    """
    if class_map.level is Level.CLASS:
        label_of = {c.name: c.name for c in manifest.classes}
        valid = {normalise_class_name(c.name): c.name for c in manifest.classes}
    else:
        label_of = {c.name: c.category.value for c in manifest.classes}
        valid = {c.value: c.value for c in Category}
    mapping: dict[str, str] = {}
    excluded: dict[str, str] = {}
    for name in dataset_classes:
        listed, target = class_map.lookup(name)
        if listed and target is None:
            excluded[name] = class_map.reason(name) or "left out by the class map"
            continue
        if not listed:
            if class_map.identity and normalise_class_name(name) in valid:
                mapping[name] = valid[normalise_class_name(name)]
            elif class_map.identity:
                excluded[name] = "no model class of that name (pass --classes MAP)"
            else:
                excluded[name] = "not in the class map"
            continue
        assert target is not None
        resolved = valid.get(normalise_class_name(target)) if class_map.level is Level.CLASS \
            else valid.get(target)
        if resolved is None:
            known = ", ".join(c.name for c in manifest.classes)
            raise ClassMapError(class_map.origin, f"classes.{name}: {target!r} is not one of "
                                f"the model's classes ({known})")
        mapping[name] = resolved
    targets = set(mapping.values())
    if class_map.level is Level.CLASS:
        order = [c.name for c in manifest.classes]
    else:
        order = [c.value for c in Category]
    labels = tuple(label for label in order if label in targets)
    thresholds = {label: tuple(sorted({manifest.threshold_for(c) for c, lab in label_of.items()
                                       if lab == label}))
                  for label in labels}
    given = set(label_of.values())
    listed_names = {normalise_class_name(n) for n in dataset_classes}
    unused = tuple(name for name in class_map.entries
                   if normalise_class_name(name) not in listed_names)
    return Scoring(level=class_map.level, labels=labels, mapping=mapping, excluded=excluded,
                   label_of=label_of, thresholds=thresholds, unused=unused,
                   not_detectable=tuple(label for label in labels if label not in given))


# --------------------------------------------------------------------------- the model


def load_detectors(model: Path | str, manifest_path: Path | str | None = None, *,
                   threads: int = 0, score_floor: float = DEFAULT_SCORE_FLOOR
                   ) -> tuple[Detector, Detector]:
    """(the detector as it runs, the same model with its score thresholds lowered to
    ``score_floor``).

    The second is loaded from the same file with a copy of the first's manifest whose
    ``thresholds.score`` is ``min(score_floor, lowest operating threshold)`` and whose
    per-class thresholds are removed, pinned to the sha256 of the bytes the first
    loaded. Everything else (NMS, maximum detections, multi-label) is unchanged, so the
    detections at or above a class's operating threshold are exactly those the first
    gives; the rest extend the PR curve.
    """
    if not (isinstance(score_floor, int | float) and 0.0 <= score_floor <= 1.0):
        raise ValueError(f"score_floor must lie in [0, 1], not {score_floor!r}")
    operating = Detector.load(model, manifest_path, threads=threads)
    document = operating.manifest.to_json()
    document["model_sha256"] = operating.model_sha256
    floor = min([float(score_floor), *operating.manifest.thresholds()])
    document["thresholds"]["score"] = floor
    document["thresholds"]["per_class"] = {}
    with tempfile.TemporaryDirectory(prefix="screener-eval-") as folder:
        copy = Path(folder) / "evaluation-manifest.json"
        copy.write_text(json.dumps(document), encoding="utf-8")
        low = Detector.load(model, copy, threads=threads,
                            expected_sha256=operating.model_sha256)
    return operating, low


@dataclass(frozen=True)
class Prediction:
    """The model's detections on one sample, and the image's size."""

    sample: Sample
    rows: int
    columns: int
    detections: tuple[Detection, ...]
    seconds: float = 0.0


def predict(detector: Detector, dataset: Dataset, make_input: InputMaker,
            limits: ScanLimits | None = None,
            progress: Callable[[int, int, Sample], None] | None = None
            ) -> Iterator[Prediction]:
    """Run ``detector`` on every sample of ``dataset``. The samples of one scan (its
    views, consecutive in a dataset) are read once and run together, as the workstation
    runs a scan, so that a model whose manifest asks for view fusion sees every view.
    ``make_input(scan)`` gives the function that makes a view's model input."""
    total = len(dataset.samples)
    done = 0
    for source, group in groupby(dataset.samples, key=lambda sample: sample.source):
        samples = list(group)
        scan = load_any(source, limits)
        make = make_input(scan)
        views = [_view_of(scan, sample) for sample in samples]
        started = time.perf_counter()
        try:
            found = detector.detect_views(views, [make(view) for view in views])
        except DetectionInputError as exc:
            raise DetectionInputError(f"{source}, {exc.what}", exc.problem) from None
        each = (time.perf_counter() - started) / len(samples)
        for sample, view in zip(samples, views, strict=True):
            done += 1
            if progress is not None:
                progress(done, total, sample)
            rows, columns = view.shape
            yield Prediction(sample, rows, columns, tuple(found[view.name]), each)


def _view_of(scan: Scan, sample: Sample) -> View:
    if sample.view is None:
        return scan.views[0]
    names = [v.name for v in scan.views]
    if sample.view not in names:
        raise DetectionInputError(str(sample.source), f"no view named {sample.view!r}")
    return scan.view(sample.view)


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Evaluation:
    """The figures of one evaluation and what went into them."""

    summary: Summary
    scoring: Scoring
    images: int
    gt_excluded: Mapping[str, int]  # dataset class -> boxes left out of scoring
    unscored_detections: Mapping[str, int]  # model class -> detections not scored
    detections: int  # all detections at or above the floor
    operating_detections: int  # of which at or above the operating threshold
    inference_seconds: float
    by_size: Mapping[str, Summary] = field(default_factory=dict)  # by SIZE_RANGES name
    # label -> what its false alarms at the operating point lie on -> how many
    false_alarms_on: Mapping[str, Counter[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        summary = self.summary
        return {
            "level": self.scoring.level.value,
            "iou_thresholds": [round(float(t), 2) for t in summary.iou_thresholds],
            "recall_points": 101,
            "max_detections_per_image": summary.max_detections,
            "images": self.images,
            "map50": _round(summary.map50),
            "map50_95": _round(summary.map50_95),
            "labels_with_ground_truth": len(summary.scored),
            "classes": [self._label_json(m) for m in summary.labels],
            "operating_point": summary.operating.to_json(),
            "by_size": {name: self._size_json(name, part) for name, part in self.by_size.items()},
            "false_alarms_on": {label: dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0])))
                                for label, sources in self.false_alarms_on.items() if sources},
            "detections": self.detections,
            "operating_detections": self.operating_detections,
            "unscored_detections": dict(self.unscored_detections),
            "ground_truth_left_out": dict(self.gt_excluded),
            "mapping": dict(self.scoring.mapping),
            "excluded_classes": dict(self.scoring.excluded),
            "unused_map_entries": list(self.scoring.unused),
            "not_detectable": list(self.scoring.not_detectable),
            "inference_seconds": round(self.inference_seconds, 3),
            "seconds_per_image": round(self.inference_seconds / self.images, 4)
            if self.images else None,
        }

    def _label_json(self, metrics: LabelMetrics) -> dict[str, Any]:
        return {
            "label": metrics.label,
            "dataset_classes": sorted(n for n, lab in self.scoring.mapping.items()
                                      if lab == metrics.label),
            "ground_truth": metrics.gt_count,
            "ignored_ground_truth": metrics.gt_ignored,
            "detections": metrics.detections,
            "ap50": _round(metrics.ap50),
            "ap75": _round(metrics.ap_at(0.75)) if _has(metrics, 0.75) else None,
            "ap50_95": _round(metrics.ap50_95),
            "recall_max50": _recall_at_50(metrics),
            "operating_thresholds": list(self.scoring.thresholds.get(metrics.label, ())),
            "operating": metrics.operating.to_json(),
        }

    @staticmethod
    def _size_json(name: str, summary: Summary) -> dict[str, Any]:
        low, high = SIZE_RANGES[name]
        return {
            "area_px": [low, None if high >= ALL_SIZES[1] else high],
            "map50": _round(summary.map50),
            "map50_95": _round(summary.map50_95),
            "classes": [{"label": m.label, "ground_truth": m.gt_count, "ap50": _round(m.ap50),
                         "recall_max50": _recall_at_50(m)} for m in summary.labels],
        }


def _recall_at_50(metrics: LabelMetrics) -> float | None:
    """``recall_max50``: None without ground truth or without the IoU 0.5 threshold."""
    return _round(metrics.recall_at(0.5)) if _has(metrics, 0.5) else None


def _has(metrics: LabelMetrics, iou: float) -> bool:
    return bool(any(math.isclose(float(t), iou) for t in metrics.iou_thresholds))


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)


def records_for(predictions: Sequence[Prediction], scoring: Scoring,
                manifest: ModelManifest) -> tuple[list[ImageRecord], Counter[str], Counter[str]]:
    """Ground truth and detections of each prediction in the scored labels; counts of the
    boxes and detections left out (by dataset class, by model class)."""
    records: list[ImageRecord] = []
    gt_left: Counter[str] = Counter()
    det_left: Counter[str] = Counter()
    for item in predictions:
        truth: list[GroundTruthBox] = []
        for obj in item.sample.objects_in_pixels(item.rows, item.columns):
            label = scoring.mapping.get(obj.name)
            if label is None:
                gt_left[obj.name] += 1
                continue
            truth.append(GroundTruthBox(label, obj.box, obj.ignore, obj.crowd))
        boxes: list[PredictedBox] = []
        for det in item.detections:
            label = scoring.label_of.get(det.class_name)
            if label is None or label not in scoring.labels:
                det_left[det.class_name] += 1
                continue
            boxes.append(PredictedBox(label, det.score, det.box,
                                      det.score >= manifest.threshold_for(det.class_name)))
        records.append(ImageRecord(truth, boxes, item.sample.name))
    return records, gt_left, det_left


def evaluate_predictions(predictions: Sequence[Prediction], scoring: Scoring,
                         manifest: ModelManifest, *,
                         max_detections: int | None = COCO_MAX_DETECTIONS) -> Evaluation:
    """Score ``predictions`` (from :func:`predict`) with COCO rules; detections pass the
    operating point when their score reaches their class's threshold in ``manifest``."""
    records, gt_left, det_left = records_for(predictions, scoring, manifest)
    summary = evaluate(records, scoring.labels, iou_thresholds=IOU_THRESHOLDS,
                       max_detections=max_detections)
    by_size = {name: evaluate(records, scoring.labels, iou_thresholds=IOU_THRESHOLDS,
                              max_detections=max_detections, area_range=area_range)
               for name, area_range in SIZE_RANGES.items()}
    named = [[NamedBox(o.name, o.box) for o in (*p.sample.objects_in_pixels(p.rows, p.columns),
                                                 *p.sample.context_in_pixels(p.rows, p.columns))]
             for p in predictions]
    all_detections = [d for p in predictions for d in p.detections]
    return Evaluation(
        summary=summary,
        scoring=scoring,
        images=len(predictions),
        gt_excluded=dict(sorted(gt_left.items())),
        unscored_detections=dict(sorted(det_left.items())),
        detections=len(all_detections),
        operating_detections=sum(d.score >= manifest.threshold_for(d.class_name)
                                 for d in all_detections),
        inference_seconds=sum(p.seconds for p in predictions),
        by_size=by_size,
        false_alarms_on=false_alarm_sources(records, named, scoring.labels,
                                            max_detections=max_detections),
    )


# --------------------------------------------------------------------------- figure


def write_pr_curve(evaluation: Evaluation, path: Path | str, title: str = "") -> Path:
    """Draw each scored label's precision-recall curve at IoU 0.5 (the interpolated
    precision COCO averages, at the 101 recall points, up to the highest recall reached)
    with its operating point marked, and write it as a PNG. Needs matplotlib (Agg;
    pyplot is not used)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ScreenerError("the PR-curve figure needs matplotlib: pip install matplotlib, "
                            "or pass --no-pr-curve") from None
    from screener.detect.metrics import RECALL_POINTS

    target = Path(path)
    figure = Figure(figsize=(7.0, 5.0), dpi=150)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    drawn = 0
    for metrics in evaluation.summary.labels:
        if metrics.ap is None:
            continue
        reached = float(metrics.recall[0]) + 1e-12 >= RECALL_POINTS
        line = axes.plot(RECALL_POINTS[reached], metrics.interpolated[reached], linewidth=1.6,
                         label=f"{metrics.label} (AP50 {metrics.ap50 or 0.0:.3f}, "
                         f"n={metrics.gt_count})")[0]
        point = metrics.operating
        if point.recall is not None and point.precision is not None:
            axes.plot([point.recall], [point.precision], marker="o", markersize=7,
                      color=line.get_color(), markeredgecolor="black")
        drawn += 1
    axes.plot([], [], linestyle="none", marker="o", color="grey", markeredgecolor="black",
              label="operating threshold")
    axes.set_xlim(0.0, 1.0)
    axes.set_ylim(0.0, 1.02)
    axes.set_xlabel("recall")
    axes.set_ylabel("precision (interpolated)")
    summary = evaluation.summary
    heading = title or "precision-recall at IoU 0.5"
    if summary.map50 is not None:
        heading += f"\nmAP@0.5 {summary.map50:.3f}, mAP@0.5:0.95 {summary.map50_95 or 0.0:.3f}"
    axes.set_title(heading, fontsize=10)
    axes.grid(True, alpha=0.3)
    if drawn == 0:
        axes.text(0.5, 0.5, "no scored class has ground truth", ha="center", va="center")
    axes.legend(loc="lower left", fontsize=8)
    figure.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        figure.savefig(target, format="png")
    except OSError as exc:
        raise ScreenerError(f"{target}: the PR-curve figure cannot be written "
                            f"({exc.strerror or exc})") from None
    return target
