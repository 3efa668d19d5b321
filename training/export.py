"""ONNX export (decode in the graph, YOLOv8 layout) and the sidecar manifest.

The sidecar follows docs/detector.md (manifest_version 1) and pins the model file by its
sha256; :func:`check_with_runtime` loads the pair with ``screener.detect.Detector`` exactly
as the workstation will.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from screener.detect.manifest import Flip, TestTimePlan, ViewFusionPlan
from screener.sim.labels import THREAT_CLASSES
from training.model import Detector, ExportWrapper

OPSET = 17
MODEL_NAME = "screener-threats"
#: The shipped models run each view twice, as given and mirrored left to right, and fuse
#: the two (screener.detect.test_time): on phase 11's 300 held-out demo bags this raised
#: mAP@0.5 from 0.737 to 0.760 and SIXray from 0.229 to 0.263 (a vertical flip, or all
#: four orientations, did no better; training/README.md, "Test-time flip").
TEST_TIME = TestTimePlan((Flip.HORIZONTAL,))
#: The shipped models' detections in a scan's two views back each other up
#: (screener.detect.view_fusion): chosen on 120 bags of `screener demo --seed 11`, kept
#: apart from every set the model card reports (training/README.md, "View fusion").
VIEW_FUSION = ViewFusionPlan(belt_overlap=0.7, partner_weight=0.75, alone_factor=0.5)


def export_onnx(model: Detector, path: Path, input_size: tuple[int, int], *,
                grey: bool = False) -> None:
    """Write ``model`` (a copy, on the CPU, in eval mode) as ONNX with a fixed
    ``(1, C, H, W)`` input ``images`` and output ``output0`` ``[1, 4 + nc, N]``."""
    wrapper = ExportWrapper(copy.deepcopy(model).cpu().float().eval(), input_size, grey=grey)
    wrapper.eval()
    channels = 1 if grey else 3
    dummy = torch.zeros(1, channels, *input_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(wrapper, (dummy,), str(path), input_names=["images"],
                      output_names=["output0"], opset_version=OPSET, do_constant_folding=True,
                      dynamo=False)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_document(model_path: Path, classes: tuple[str, ...], input_size: tuple[int, int],
                      thresholds: dict[str, float], version: str, *, grey: bool = False
                      ) -> dict[str, Any]:  # fmt: skip
    """The sidecar manifest of ``model_path`` (which must already be written)."""
    per_class = {c: round(float(thresholds[c]), 4) for c in classes}
    return {
        "manifest_version": 1,
        "name": MODEL_NAME + ("-grey" if grey else ""),
        "version": version,
        "model_sha256": sha256_file(model_path),
        "classes": [{"name": c, "category": THREAT_CLASSES[c].value} for c in classes],
        "input": {
            "kind": "greyscale" if grey else "pseudo-colour",
            "size": list(input_size),
            "channel_order": "grey" if grey else "RGB",
            "scale": 1.0 / 255.0,
            "mean": [0.0] if grey else [0.0, 0.0, 0.0],
            "std": [1.0] if grey else [1.0, 1.0, 1.0],
            "pad_value": 114,
        },
        "output": {"layout": "yolov8", "name": "output0"},
        "thresholds": {
            "score": round(min(per_class.values()), 4),
            "per_class": per_class,
            "nms_iou": 0.45,
            "max_detections": 100,
            "multi_label": False,
        },
        "test_time": TEST_TIME.to_json(),
        "view_fusion": VIEW_FUSION.to_json(),
    }


def write_manifest(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def check_with_runtime(model_path: Path, images: list[np.ndarray[Any, Any]],
                       threads: int = 2) -> dict[str, Any]:
    """Load with ``screener.detect.Detector`` (sidecar, sha256 check) and time
    ``detect_image`` on ``images`` with ``threads`` onnxruntime threads."""
    from screener.detect import Detector as RuntimeDetector

    detector = RuntimeDetector.load(model_path, threads=threads)
    detector.detect_image(images[0])  # warm-up
    times = []
    for image in images:
        start = time.perf_counter()
        detector.detect_image(image)
        times.append(time.perf_counter() - start)
    return {"sha256": detector.model_sha256, "threads": threads,
            "ms_per_view_median": round(1000 * float(np.median(times)), 1),
            "views_timed": len(times)}


def onnx_outputs(model_path: Path, tensor: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Raw output of the ONNX file for one ``(1, C, H, W)`` input (onnxruntime, CPU)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    result = session.run(None, {session.get_inputs()[0].name: tensor.astype(np.float32)})
    return np.asarray(result[0])
