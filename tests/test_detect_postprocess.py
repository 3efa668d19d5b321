"""Decoding, per-class thresholds and class-aware NMS (checked against a brute-force
reference)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx_builders import v5_tensor, v8_tensor

from screener.detect import OutputLayout, parse_manifest
from screener.detect.postprocess import (
    OutputShapeError,
    box_iou,
    nms,
    postprocess,
    select_candidates,
    split_output,
)
from screener.detect.preprocess import plan_letterbox


def reference_nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray,
                  threshold: float) -> list[int]:
    """Textbook greedy NMS, one pair at a time, per class."""

    def iou(a: list[float], b: list[float]) -> float:
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
        return inter / union if union > 0 else 0.0

    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept: list[int] = []
    for i in order:
        if all(classes[k] != classes[i] or iou(list(boxes[k]), list(boxes[i])) <= threshold
               for k in kept):
            kept.append(i)
    return kept


@pytest.mark.parametrize("seed", range(25))
def test_nms_matches_the_brute_force_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    count = int(rng.integers(0, 120))
    corners = rng.random((count, 2)) * 100
    sizes = rng.random((count, 2)) * 40 + 1
    boxes = np.concatenate([corners, corners + sizes], axis=1)
    scores = np.round(rng.random(count), 2)  # rounding makes ties
    classes = rng.integers(0, 3, count)
    threshold = float(rng.choice([0.1, 0.3, 0.45, 0.7]))
    kept = nms(boxes, scores, classes, threshold)
    expected = reference_nms(boxes, scores, classes, threshold)
    assert kept.tolist() == expected
    assert nms(boxes, scores, classes, threshold, max_keep=5).tolist() == expected[:5]


def test_nms_is_class_aware() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]],
                     dtype=np.float64)
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    same = nms(boxes, scores, np.array([0, 0, 0, 0]), 0.45)
    assert same.tolist() == [0, 3]  # overlapping same-class boxes suppressed
    different = nms(boxes, scores, np.array([0, 0, 1, 0]), 0.45)
    assert different.tolist() == [0, 2, 3]  # a different class is kept
    assert nms(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), 0.5).tolist() == []


def test_box_iou() -> None:
    ious = box_iou(np.array([0.0, 0, 10, 10]),
                   np.array([[0.0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30], [3, 3, 3, 3]]))
    np.testing.assert_allclose(ious, [1.0, 1 / 3, 0.0, 0.0])


def test_split_output_layouts() -> None:
    v8 = v8_tensor([(10, 20, 4, 6)], [[0.1, 0.7]])
    boxes, scores = split_output(v8, OutputLayout.YOLOV8, 2)
    np.testing.assert_allclose(boxes, [[10, 20, 4, 6]])
    np.testing.assert_allclose(scores, [[0.1, 0.7]], rtol=1e-6)
    v5 = v5_tensor([(10, 20, 4, 6)], [0.5], [[0.2, 0.8]])
    boxes, scores = split_output(v5, OutputLayout.YOLOV5, 2)
    np.testing.assert_allclose(scores, [[0.1, 0.4]], rtol=1e-6)  # objectness x class
    with pytest.raises(OutputShapeError, match="not YOLOv5 \\[1, N, 8\\]"):
        split_output(v5, OutputLayout.YOLOV5, 3)
    with pytest.raises(OutputShapeError, match="not YOLOv8"):
        split_output(v8[0], OutputLayout.YOLOV8, 2)


def test_per_class_thresholds_and_multi_label() -> None:
    boxes = np.array([[10, 10, 4, 4], [30, 30, 4, 4], [50, 50, 4, 4]], dtype=np.float64)
    scores = np.array([[0.5, 0.35], [0.1, 0.3], [0.2, 0.1]])
    thresholds = np.array([0.4, 0.3])
    single = select_candidates(boxes, scores, thresholds)
    assert single.class_ids.tolist() == [0, 1]
    np.testing.assert_allclose(single.scores, [0.5, 0.3])
    np.testing.assert_allclose(single.boxes[0], [8, 8, 12, 12])
    multi = select_candidates(boxes, scores, thresholds, multi_label=True)
    assert list(zip(multi.class_ids.tolist(), multi.scores.tolist(), strict=True)) == \
        [(0, 0.5), (1, 0.35), (1, 0.3)]


def test_broken_candidates_are_dropped() -> None:
    boxes = np.array([[10, 10, 4, 4], [np.nan, 10, 4, 4], [10, 10, 0, 4], [10, 10, 4, 4]])
    scores = np.array([[0.9], [0.9], [0.9], [np.nan]])
    found = select_candidates(boxes, scores, np.array([0.25]))
    assert len(found) == 1 and found.scores.tolist() == [0.9]


def manifest(**thresholds: object) -> object:
    return parse_manifest({
        "manifest_version": 1, "name": "m", "version": "1", "model_sha256": "0" * 64,
        "classes": [{"name": "gun", "category": "gun"}, {"name": "knife", "category": "knife"}],
        "input": {"kind": "pseudo-colour", "size": [64, 64]}, "output": {"layout": "yolov8"},
        "thresholds": thresholds,
    }, "m.json")


def test_postprocess_maps_back_caps_and_drops_padding_boxes() -> None:
    out = v8_tensor(
        [(32, 32, 32, 16), (33, 32, 32, 16), (32, 32, 32, 16), (10, 4, 8, 6), (50, 30, 4, 4)],
        [[0.9, 0.0], [0.8, 0.0], [0.0, 0.7], [0.95, 0.0], [0.5, 0.0]],
    )
    plan = plan_letterbox((128, 256), (64, 64))
    found = postprocess(out, manifest(), plan)  # type: ignore[arg-type]
    # (10, 4, 8, 6) lies in the padding above the image: dropped after clipping
    assert found.class_ids.tolist() == [0, 1, 0]
    np.testing.assert_allclose(found.scores, [0.9, 0.7, 0.5], rtol=1e-6)
    np.testing.assert_array_equal(found.boxes[0], [64, 32, 192, 96])
    np.testing.assert_array_equal(found.boxes[1], [64, 32, 192, 96])
    capped = postprocess(out, manifest(max_detections=2), plan)  # type: ignore[arg-type]
    assert capped.class_ids.tolist() == [0, 1]
    strict = postprocess(out, manifest(per_class={"gun": 0.85}), plan)  # type: ignore[arg-type]
    assert strict.class_ids.tolist() == [0, 1]
    loose = postprocess(out, manifest(nms_iou=0.99), plan)  # type: ignore[arg-type]
    assert loose.class_ids.tolist() == [0, 0, 1, 0]
