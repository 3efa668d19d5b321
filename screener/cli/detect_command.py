"""``screener detect FILE``: run the AI threat detector on a scan file, headless."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from screener.config import Settings
from screener.detect import Detection, Detector, DetectorUnavailableError, InputKind
from screener.detect.errors import DetectionInputError
from screener.detect.shipped import shipped_model
from screener.scan import Scan, View, file_kind, file_sha256, read_scan
from screener.workflow.ai import AiDetection, AiResult, AiStatus
from screener.workflow.model_ai import RENDER_FUNCTIONS, model_input

NO_MODEL = (
    "no detection model is installed (models/threats.onnx is missing): pass one with "
    "--model PATH (an ONNX file with a Screener manifest, or a YOLOv5/YOLOv8/YOLO11 "
    "detection export with its class names)"
)

def _threads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (one per core) or more, not {value}")
    return value


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    detect = commands.add_parser(
        "detect", help="run the AI threat detector on a scan file",
        description="Run an ONNX threat detector on every view of a scan file and print its "
        "detections (boxes in view pixels). See docs/detector.md.",
    )
    detect.add_argument("file", type=Path, help="scan file")
    detect.add_argument("--model", type=Path,
                        help="ONNX model (default: the shipped model for the scan's kind, "
                        "models/threats.onnx or, for single-energy scans, threats-grey.onnx)")
    detect.add_argument("--manifest", type=Path,
                        help="model manifest JSON (default: <model>.json beside the model, "
                        "else the model's metadata)")
    detect.add_argument("--view", action="append", dest="views", metavar="VIEW",
                        help="only this view (repeat for more; default: all views)")
    detect.add_argument("--json", action="store_true", help="print JSON instead of text")
    detect.add_argument("--threads", type=_threads, default=0,
                        help="inference threads (default 0: one per core)")
    detect.add_argument("--tdr", type=Path, metavar="OUT.dcs",
                        help="also write the detections as a DICOS Threat Detection Report "
                        "(MACHINE; ALARM if a detection is a threat, else CLEAR) referring to "
                        "the scan's DX images: those of a .dcs FILE, else DX images exported "
                        "beside OUT.dcs (docs/dicos.md)")
    detect.set_defaults(run=run_detect)


def input_maker(kind: InputKind, scan: Scan) -> tuple[Callable[[View], Any], str]:
    """The function giving the model's input image for a view of ``scan`` (the one the
    workstation's AI uses: :func:`screener.workflow.model_ai.model_input`), and its
    description."""
    if kind is InputKind.DUAL_ENERGY:
        described = "dual-energy transmission (high, low)"
    else:
        described = f"display rendering '{RENDER_FUNCTIONS[kind]}'"
    return model_input(kind, scan), described


def run_detect(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    dicos = file_kind(args.file) == "dicos"
    if dicos:
        from screener.scan.dicos import read_dicos  # pydicom takes ~0.2 s to import

        scan = read_dicos(args.file, settings.scan_limits)
    else:
        scan = read_scan(args.file, settings.scan_limits)
    model = args.model or shipped_model(scan.metadata.source_kind)
    if model is None:
        raise DetectorUnavailableError(None, NO_MODEL)
    detector = Detector.load(model, args.manifest, threads=args.threads)
    names = [v.name for v in scan.views]
    for name in args.views or ():
        if name not in names:
            raise DetectionInputError(str(args.file), f"no view named {name!r}; this scan "
                                      f"has: {', '.join(names)}")
    views = tuple(dict.fromkeys(args.views)) if args.views else None
    make_input, described = input_maker(detector.input_kind, scan)
    started = time.perf_counter()
    found = detector.detect_scan(scan, make_input, views)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    report = summarise(args.file, scan, detector, found, described)
    if args.tdr is not None:
        report["tdr"] = write_tdr(args.tdr, args.file if dicos else None, scan, detector,
                                  found, elapsed_ms)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print_text(report)
    return 0


def write_tdr(out: Path, dicos_file: Path | None, scan: Scan, detector: Detector,
              found: dict[str, list[Detection]], elapsed_ms: float) -> dict[str, Any]:
    """Write the MACHINE TDR of ``found``; the DX images it refers to are ``dicos_file``'s
    scan, or exported beside ``out`` first. Returns what the report says about it."""
    from screener.detect.tdr import write_machine_tdr
    from screener.scan.dicos_export import write_dicos_dx

    exported = [] if dicos_file is not None else write_dicos_dx(scan, out.parent)
    images: Path | list[Path] = dicos_file if dicos_file is not None else exported
    model = detector.manifest
    detections = tuple(
        AiDetection(view=d.view, box=d.box, label=d.class_name, category=d.category.value,
                    score=d.score)
        for ds in found.values() for d in ds
    )
    result = AiResult(AiStatus.OK, f"{model.name} {model.version}", detector.model_sha256,
                      detections)
    alarm = any(d.is_threat for ds in found.values() for d in ds)
    path = write_machine_tdr(out, images, result, decision_time=datetime.now(UTC),
                             processing_ms=max(elapsed_ms, 0.001))
    return {"path": str(path), "alarm_decision": "ALARM" if alarm else "CLEAR",
            "objects": len(detections), "dx_exported": [str(p) for p in exported]}


def summarise(path: Path, scan: Scan, detector: Detector,
              found: dict[str, list[Detection]], described: str) -> dict[str, Any]:
    """What ``detect`` prints, as data."""
    all_found = [d for ds in found.values() for d in ds]
    return {
        "file": str(path),
        "scan_sha256": file_sha256(path),
        "bag_id": scan.metadata.bag_id,
        "model": detector.describe(),
        "threads": detector.threads,
        "input": described,
        "views": [
            {
                "name": view.name,
                "rows": view.shape[0],
                "columns": view.shape[1],
                "detections": [d.to_json() for d in found[view.name]],
            }
            for view in scan.views
            if view.name in found
        ],
        "detections": len(all_found),
        "threats": sum(d.is_threat for d in all_found),
    }


def print_text(report: dict[str, Any]) -> None:
    model = report["model"]
    print(f"scan     {report['file']} (sha256 {report['scan_sha256']})")
    print(f"model    {model['name']} {model['version']} (sha256 {model['sha256']}), "
          f"manifest: {model['manifest']}")
    print(f"input    {model['input_kind']} {model['input_size'][0]} x {model['input_size'][1]}, "
          f"from {report['input']}")
    for view in report["views"]:
        detections = view["detections"]
        print(f"view {view['name']}: {len(detections) or 'no'} "
              f"detection{'' if len(detections) == 1 else 's'}")
        for d in detections:
            x0, y0, x1, y1 = d["box"]
            flag = "THREAT" if d["threat"] else "benign"
            print(f"  {d['class']:16s} {d['category']:7s} {flag:6s} {d['score']:.3f}  "
                  f"x {x0:.1f}-{x1:.1f}  y {y0:.1f}-{y1:.1f}")
    print(f"total    {report['detections']} detections, {report['threats']} flagged as threats")
    tdr = report.get("tdr")
    if tdr is not None:
        for dx in tdr["dx_exported"]:
            print(f"dx       {dx}")
        print(f"tdr      {tdr['path']} ({tdr['alarm_decision']}, {tdr['objects']} potential "
              "threat objects)")
