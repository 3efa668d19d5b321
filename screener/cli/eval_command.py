"""``screener eval-detector --data DIR --format F``: measure a detector on an annotated set.

Reads a VOC, YOLO, COCO or scan set (:mod:`screener.detect.datasets`), runs the model on
every image as ``screener detect`` feeds it (:func:`screener.cli.detect_command.input_maker`:
the display pipeline's rendering, or both energies), and prints mAP@0.5, COCO
mAP@0.5:0.95, per-class AP and precision and recall at the model's operating thresholds.
It writes a PR-curve PNG. See docs/detector.md, Evaluation.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from screener.cli.detect_command import NO_MODEL, input_maker
from screener.config import Settings
from screener.detect import Detector, DetectorUnavailableError
from screener.detect.datasets import Dataset, DatasetFormat, Sample, read_dataset
from screener.detect.evaluation import (
    DEFAULT_SCORE_FLOOR,
    Evaluation,
    evaluate_predictions,
    identity_class_map,
    load_class_map,
    load_detectors,
    predict,
    resolve_scoring,
    shipped_class_maps,
    write_pr_curve,
)
from screener.detect.shipped import shipped_model
from screener.errors import ScreenerError
from screener.scan import Scan, View, load_any
from screener.scan.hdf5 import ScanLimits


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must lie in [0, 1], not {value}")
    return value


def _threads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (one per core) or more, not {value}")
    return value


def default_model_path(dataset: Dataset | None = None,
                       limits: ScanLimits | None = None) -> Path | None:
    """The shipped model that fits the set: the greyscale one when its first image is a
    single-energy scan (GDXray-like), else the pseudo-colour one."""
    kind = None
    if dataset is not None and dataset.samples:
        kind = load_any(dataset.samples[0].source, limits).metadata.source_kind
    return shipped_model(kind)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    maps = ", ".join(shipped_class_maps()) or "none"
    parser = commands.add_parser(
        "eval-detector", help="measure a detector on an annotated image set (mAP, PR curve)",
        description="Run an ONNX detector on every image of an annotated set and report "
        "mAP@0.5, COCO mAP@0.5:0.95, per-class AP, and precision and recall at the model's "
        "operating thresholds; write a PR-curve PNG. Images and annotations are paired by "
        "file stem. See docs/detector.md, Evaluation.",
    )
    parser.add_argument("--data", type=Path, required=True, metavar="DIR",
                        help="the annotated set (a folder; for coco also the JSON file)")
    parser.add_argument("--format", required=True, dest="data_format",
                        choices=[f.value for f in DatasetFormat],
                        help="annotation format: Pascal VOC XML, YOLO txt, COCO JSON, or "
                        "Screener scans with ground truth")
    parser.add_argument("--model", type=Path, help="ONNX model (default: the shipped model, "
                        "when there is one)")
    parser.add_argument("--manifest", type=Path, help="model manifest JSON (default: beside "
                        "the model, else the model's metadata)")
    parser.add_argument("--classes", metavar="MAP",
                        help="class map: a JSON file, or a shipped map by name "
                        f"({maps}); default: dataset names matched to the model's as they are")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--pr-curve", type=Path, metavar="PATH",
                        help="where to write the PR-curve PNG (default: "
                        "eval-<data folder name>-pr.png in the current folder)")
    parser.add_argument("--no-pr-curve", action="store_true", help="do not draw the figure")
    parser.add_argument("--score-floor", type=_fraction, default=DEFAULT_SCORE_FLOOR,
                        help="lowest score kept for AP and the PR curve (default "
                        f"{DEFAULT_SCORE_FLOOR})")
    parser.add_argument("--threads", type=_threads, default=0,
                        help="inference threads (default 0: one per core)")
    parser.set_defaults(run=run_eval)


def _progress(done: int, total: int, sample: Sample) -> None:
    print(f"\r{done}/{total} {sample.name[:60]:60s}", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def run_eval(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if not args.no_pr_curve and importlib.util.find_spec("matplotlib") is None:
        raise ScreenerError("the PR-curve figure needs matplotlib: pip install matplotlib, "
                            "or pass --no-pr-curve")
    class_map = identity_class_map() if args.classes is None else load_class_map(args.classes)
    dataset = read_dataset(args.data, args.data_format, settings.scan_limits)
    model = args.model or default_model_path(dataset, settings.scan_limits)
    if model is None:
        raise DetectorUnavailableError(None, NO_MODEL)
    operating, detector = load_detectors(model, args.manifest, threads=args.threads,
                                         score_floor=args.score_floor)
    scoring = resolve_scoring(class_map, operating.manifest, dataset.class_names)
    kind = operating.input_kind
    described: set[str] = set()

    def make_input(scan: Scan) -> Callable[[View], Any]:
        make, text = input_maker(kind, scan)
        described.add(text)
        return make

    progress = _progress if sys.stderr.isatty() else None
    predictions = list(predict(detector, dataset, make_input, settings.scan_limits, progress))
    evaluation = evaluate_predictions(predictions, scoring, operating.manifest)
    curve: Path | None = None
    if not args.no_pr_curve:
        curve = args.pr_curve or Path(f"eval-{_folder_name(args.data)}-pr.png")
        title = (f"{operating.manifest.name} {operating.manifest.version} on "
                 f"{_folder_name(args.data)} ({args.data_format}), IoU 0.5")
        write_pr_curve(evaluation, curve, title)
    report = summarise(dataset, operating, class_map.to_json(), evaluation,
                       ", ".join(sorted(described)),
                       args.score_floor, curve)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)
    return 0


def _folder_name(path: Path) -> str:
    resolved = path.resolve()
    return (resolved.stem if resolved.is_file() else resolved.name) or "data"


def summarise(dataset: Dataset, detector: Detector, class_map: dict[str, Any],
              evaluation: Evaluation, described: str, score_floor: float,
              curve: Path | None) -> dict[str, Any]:
    """What ``eval-detector`` prints, as data."""
    return {
        "dataset": dataset.to_json(),
        "model": detector.describe(),
        "input": described,
        "class_map": class_map,
        "score_floor": score_floor,
        "evaluation": evaluation.to_json(),
        "pr_curve": None if curve is None else str(curve),
    }


def _f(value: float | None, width: int = 7) -> str:
    return f"{'-':>{width}s}" if value is None else f"{value:{width}.3f}"


def _print_false_alarm_sources(sources: dict[str, dict[str, int]], shown: int = 4) -> None:
    """Per class, the ``shown`` kinds of object its false alarms lie on most often."""
    if not sources:
        return
    print("false alarms at the operating thresholds lie on (most often first):")
    for label, counts in sources.items():
        listed = ", ".join(f"{name} {n}" for name, n in list(counts.items())[:shown])
        rest = sum(list(counts.values())[shown:])
        more = f", {rest} on {len(counts) - shown} other kind(s)" if rest else ""
        print(f"         {label}: {listed}{more}")


def print_text(report: dict[str, Any]) -> None:
    data, model, result = report["dataset"], report["model"], report["evaluation"]
    print(f"dataset  {data['path']} ({data['format']}): {data['images']} images from "
          f"{data['files']} files, {data['annotated']} annotated, "
          f"{data['without_annotation']} without annotation (counted as no objects)")
    if data["without_image"]:
        shown = ", ".join(data["without_image"][:5])
        more = len(data["without_image"]) - 5
        print(f"         {len(data['without_image'])} annotation(s) without an image, left "
              f"out: {shown}{f' and {more} more' if more > 0 else ''}")
    objects = ", ".join(f"{k} {v}" for k, v in data["objects"].items()) or "none"
    print(f"objects  {objects}")
    for what, count in data["left_out"].items():
        print(f"         {what}: {count}")
    print(f"model    {model['name']} {model['version']} (sha256 {model['sha256']}), "
          f"{model['input_kind']} input from {report['input']}")
    cmap = report["class_map"]
    mapped = ", ".join(f"{k} -> {v}" for k, v in result["mapping"].items()) or "nothing"
    print(f"classes  {cmap['origin']} (level {cmap['level']}): {mapped}")
    absent: list[str] = []
    for name, why in result["excluded_classes"].items():
        boxes = result["ground_truth_left_out"].get(name, 0)
        if boxes:
            print(f"         not scored: {name} ({boxes} boxes): {why}")
        else:
            absent.append(name)
    if absent:
        print(f"         not scored, no boxes in this set: {', '.join(absent)}")
    if result["unused_map_entries"]:
        print(f"         class-map entries matching no dataset class: "
              f"{', '.join(result['unused_map_entries'])}")
    for label in result["not_detectable"]:
        print(f"         no model class gives {label!r}: every such object counts as missed")
    print()
    print(f"{'class':16s} {'GT':>5s} {'dets':>6s} {'AP50':>7s} {'AP75':>7s} {'AP50:95':>7s}"
          f"  {'thresh':>9s} {'P@thr':>7s} {'R@thr':>7s} {'TP':>5s} {'FP':>5s}")
    for row in result["classes"]:
        op = row["operating"]
        thresholds = row["operating_thresholds"]
        thr = "-" if not thresholds else (f"{thresholds[0]:.2f}" if len(thresholds) == 1
                                          else f"{thresholds[0]:.2f}-{thresholds[-1]:.2f}")
        print(f"{row['label']:16s} {row['ground_truth']:5d} {row['detections']:6d} "
              f"{_f(row['ap50'])} {_f(row['ap75'])} {_f(row['ap50_95'])}  {thr:>9s} "
              f"{_f(op['precision'])} {_f(op['recall'])} {op['true_positives']:5d} "
              f"{op['false_positives']:5d}")
    op = result["operating_point"]
    print()
    print(f"mAP@0.5 {_f(result['map50'], 0)}   mAP@0.5:0.95 {_f(result['map50_95'], 0)}   "
          f"over {result['labels_with_ground_truth']} class(es) with ground truth "
          "(COCO rules: 101-point AP, at most "
          f"{result['max_detections_per_image']} detections per image and class)")
    sizes = [f"{name} {_f(part['map50'], 0)} ({sum(c['ground_truth'] for c in part['classes'])}"
             " objects)" for name, part in result["by_size"].items()]
    if sizes:
        print(f"mAP@0.5 by object size (COCO box areas in image pixels: small up to 32^2, "
              f"medium to 96^2, large above): {', '.join(sizes)}")
    print(f"operating thresholds, all scored classes: precision {_f(op['precision'], 0)}, "
          f"recall {_f(op['recall'], 0)} ({op['true_positives']} hits, "
          f"{op['false_positives']} false alarms, {op['false_negatives']} missed, at IoU 0.5)")
    _print_false_alarm_sources(result["false_alarms_on"])
    unscored = result["unscored_detections"]
    if unscored:
        listed = ", ".join(f"{k} {v}" for k, v in unscored.items())
        print(f"not scored: detections of classes the dataset does not annotate: {listed}")
    print(f"detections {result['detections']} at score >= {report['score_floor']:g} "
          f"({result['operating_detections']} at the operating thresholds); inference "
          f"{result['inference_seconds']:.1f} s")
    if report["pr_curve"]:
        print(f"PR curve written to {report['pr_curve']}")
