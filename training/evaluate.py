"""Held-out evaluation: average precision, probability of detection, false alarms per bag.

Detections are made exactly as the runtime makes them: the model's ``[1, 4 + nc, N]``
output goes through ``screener.detect.test_time.detect_passes`` (best class per
candidate, class-aware NMS at IoU 0.45, boxes mapped back to view pixels, each test-time
pass fused, each bag's views fused by ``screener.detect.view_fusion`` where the manifest
asks, then per-class thresholds), here with a low score floor so that thresholds can be
swept afterwards. Greedy NMS visits boxes best first and a box is only suppressed by a
better one, and a test-time pass keeps candidates to a fixed floor whatever the
thresholds, so raising a threshold afterwards gives the same detections as running with
it.

Definitions (both views of a bag are scored; a bag is one scan):

* **hit**: a ground-truth threat in a view is detected when a detection of the **same
  class** overlaps it with IoU >= 0.3 (``HIT_IOU``).
* **probability of detection (PD)**: hits / ground-truth threats, counted per view.
  ``pd_bag_object`` counts a threat as detected when it is hit in at least one view.
* **false alarm**: a detection that flags no threat: IoU < 0.3 with every ground-truth
  threat box of that view (any class) **and** its centre inside none of them. A
  detection on a threat with the wrong class is a misclassification, not a false alarm.
* **false alarms per bag**: false alarms in both views / bags.
* **operating point**: per class, the highest score threshold whose PD on the
  *calibration* half of the held-out bags (even bag numbers) is at least the target;
  PD and false alarms are then reported on the *test* half (odd bag numbers), which took
  no part in choosing them.
* **AP**: COCO-style 101-point interpolated average precision per class, one-to-one
  matching at IoU 0.5 (and 0.5:0.95 in steps of 0.05), over all held-out views, by
  ``screener.detect.metrics``: the same code, and so the same figure, as
  ``screener eval-detector``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.detect.manifest import (
    SINGLE_PASS,
    ModelManifest,
    TestTimePlan,
    ViewFusionPlan,
    parse_manifest,
)
from screener.detect.metrics import (
    GroundTruthBox,
    ImageRecord,
    PredictedBox,
    evaluate,
    iou_matrix,
)
from screener.detect.postprocess import Decoded
from screener.detect.test_time import RunModel, candidates, detect_passes
from screener.detect.view_fusion import fused_and_passing
from screener.sim.labels import THREAT_CLASSES
from training.data import HeldOutView

HIT_IOU = 0.3
#: Score floor of the evaluation run (no operating threshold goes below it).
SCORE_FLOOR = 0.01
EVAL_MAX_DETECTIONS = 100


@dataclass(frozen=True)
class ViewResult:
    """Detections (view pixels) and ground truth of one held-out view."""

    bag: int
    view: str
    boxes: NDArray[np.float64]
    scores: NDArray[np.float64]
    classes: NDArray[np.int64]
    gt_boxes: NDArray[np.float64]
    gt_labels: NDArray[np.int64]
    gt_ids: NDArray[np.int64]


def floor_manifest(classes: Sequence[str], size: tuple[int, int], kind: str,
                   test_time: TestTimePlan = SINGLE_PASS,
                   view_fusion: ViewFusionPlan | None = None) -> ModelManifest:
    """A manifest like the shipped one, with every threshold at the evaluation floor."""
    document = {
        "manifest_version": 1, "name": "eval", "version": "0", "model_sha256": "0" * 64,
        "classes": [{"name": c, "category": THREAT_CLASSES[c].value} for c in classes],
        "input": {"kind": kind, "size": list(size)},
        "output": {"layout": "yolov8"},
        "thresholds": {"score": SCORE_FLOOR, "nms_iou": 0.45,
                       "max_detections": EVAL_MAX_DETECTIONS},
        "test_time": test_time.to_json(),
    }
    if view_fusion is not None:
        document["view_fusion"] = view_fusion.to_json()
    return parse_manifest(document, "evaluation")


def detect_view(run: RunModel, tensor: NDArray[np.float32], manifest: ModelManifest,
                view: HeldOutView) -> ViewResult:
    """One held-out view's detections (every test-time pass of ``manifest``, as the
    runtime runs them) and its ground truth. ``run`` runs the model on an input tensor.
    With a ``view_fusion`` plan the detections go down to the test-time floor, for
    :func:`fuse_bag_views` to rescore and hold to the thresholds."""
    decoded = (detect_passes if manifest.view_fusion is None else candidates)(
        run, tensor, manifest, view.plan)
    return ViewResult(view.bag, view.view, decoded.boxes, decoded.scores, decoded.class_ids,
                      np.asarray(view.boxes, np.float64).reshape(-1, 4),
                      np.asarray(view.labels, np.int64), np.asarray(view.object_ids, np.int64))


def fuse_bag_views(results: Sequence[ViewResult], manifest: ModelManifest) -> list[ViewResult]:
    """The views of each bag rescored by each other (``manifest.view_fusion``, as the
    runtime's ``Detector.detect_views`` does), then held to the thresholds; ``results``
    as they are without a plan. The simulator's views of a bag share pixel pitch and belt
    direction, so a box's columns are its extent along the belt."""
    if manifest.view_fusion is None:
        return list(results)
    bags: dict[int, list[int]] = {}
    for index, result in enumerate(results):
        bags.setdefault(result.bag, []).append(index)
    fused: dict[int, ViewResult] = {}
    for members in bags.values():
        views = [results[i] for i in members]
        found = [Decoded(r.boxes, r.scores, r.classes) for r in views]
        belts = [np.sort(r.boxes[:, [0, 2]], axis=1) for r in views]
        for index, result, kept in zip(members, views,
                                       fused_and_passing(found, belts, manifest), strict=True):
            fused[index] = replace(result, boxes=kept.boxes, scores=kept.scores,
                                   classes=kept.class_ids)
    return [fused[i] for i in range(len(results))]


def hit_scores(results: Sequence[ViewResult], class_id: int) -> NDArray[np.float64]:
    """For each ground-truth threat of the class: the best score of a same-class detection
    with IoU >= HIT_IOU (0 when none), i.e. the highest threshold at which it is hit."""
    out: list[float] = []
    for r in results:
        gt = r.gt_boxes[r.gt_labels == class_id]
        if len(gt) == 0:
            continue
        mine = r.classes == class_id
        ious = iou_matrix(gt, r.boxes[mine])
        scores = r.scores[mine]
        for row in ious:
            ok = row >= HIT_IOU
            out.append(float(scores[ok].max()) if ok.any() else 0.0)
    return np.asarray(out, dtype=np.float64)


def choose_thresholds(results: Sequence[ViewResult], classes: Sequence[str],
                      target_pd: float) -> dict[str, float]:
    """Per class, the highest threshold with PD >= target on ``results`` (the floor when
    even the floor does not reach it)."""
    chosen: dict[str, float] = {}
    for c, name in enumerate(classes):
        scores = np.sort(hit_scores(results, c))[::-1]
        if scores.size == 0:
            chosen[name] = SCORE_FLOOR
            continue
        k = int(np.ceil(target_pd * scores.size)) - 1
        chosen[name] = float(max(scores[k], SCORE_FLOOR))
    return chosen


def false_alarm_scores(results: Sequence[ViewResult], class_id: int) -> NDArray[np.float64]:
    """Scores of the class's detections that flag no threat (see :func:`operating_point`);
    whether a detection is a false alarm does not depend on any threshold."""
    out = [float(s) for r in results
           for box, s, c in zip(r.boxes, r.scores, r.classes, strict=True)
           if c == class_id and not _flags_threat(box, r.gt_boxes)]
    return np.asarray(out, dtype=np.float64)


def choose_thresholds_pooled(results: Sequence[ViewResult], classes: Sequence[str],
                             target_pd: float, class_min_pd: float) -> dict[str, float]:
    """Per-class thresholds that reach ``target_pd`` over all threats together with the
    fewest false alarms, each class keeping at least ``class_min_pd`` (where reachable).

    Each class starts at the highest threshold giving it ``class_min_pd``; then, greedily,
    the class whose threshold can drop to a lower hit score at the fewest added false alarms
    per added hit is lowered, until the pooled PD reaches the target.
    """
    hits = [np.sort(hit_scores(results, c))[::-1] for c in range(len(classes))]
    fas = [np.sort(false_alarm_scores(results, c)) for c in range(len(classes))]
    total = sum(h.size for h in hits)
    need = int(np.ceil(target_pd * total))

    def fa_at(c: int, taken: int) -> int:
        if taken == 0:
            return 0
        limit = max(float(hits[c][taken - 1]), SCORE_FLOOR)
        return int(fas[c].size - np.searchsorted(fas[c], limit, side="left"))

    def reachable(c: int) -> int:
        return int(np.count_nonzero(hits[c] > 0))

    taken = [min(int(np.ceil(class_min_pd * h.size)), reachable(c)) for c, h in enumerate(hits)]
    while sum(taken) < need:
        best: tuple[float, int, int] | None = None
        for c in range(len(classes)):
            base = fa_at(c, taken[c])
            for j in range(taken[c] + 1, reachable(c) + 1):
                ratio = (fa_at(c, j) - base) / (j - taken[c])
                if best is None or ratio < best[0]:
                    best = (ratio, c, j)
        if best is None:
            break
        taken[best[1]] = best[2]
    chosen = {}
    for c, name in enumerate(classes):
        if hits[c].size == 0:
            chosen[name] = 0.5  # no evidence either way: a middling default
        elif taken[c] == 0:
            chosen[name] = SCORE_FLOOR
        else:
            chosen[name] = float(max(hits[c][taken[c] - 1], SCORE_FLOOR))
    return chosen


def _flags_threat(box: NDArray[np.float64], gt: NDArray[np.float64]) -> bool:
    if len(gt) == 0:
        return False
    if float(iou_matrix(box[None], gt).max()) >= HIT_IOU:
        return True
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return bool(np.any((gt[:, 0] <= cx) & (cx <= gt[:, 2]) & (gt[:, 1] <= cy) & (cy <= gt[:, 3])))


def operating_point(results: Sequence[ViewResult], classes: Sequence[str],
                    thresholds: dict[str, float]) -> dict[str, Any]:
    """PD (per view and per bag object), misclassifications and false alarms at the
    given per-class thresholds."""
    limits = np.asarray([thresholds[c] for c in classes])
    hits = np.zeros(len(classes), dtype=np.int64)
    totals = np.zeros(len(classes), dtype=np.int64)
    category_hits = 0
    false_alarms = 0
    bags: set[int] = set()
    clean_bags: dict[int, bool] = {}
    alarmed_clean: set[int] = set()
    fa_by_class = np.zeros(len(classes), dtype=np.int64)
    detections = 0
    object_hit: dict[tuple[int, int], bool] = {}
    object_class: dict[tuple[int, int], int] = {}
    categories = [THREAT_CLASSES[c] for c in classes]
    for r in results:
        bags.add(r.bag)
        clean_bags[r.bag] = clean_bags.get(r.bag, True) and len(r.gt_boxes) == 0
        keep = r.scores >= limits[r.classes] if len(r.scores) else np.zeros(0, bool)
        boxes, det_classes = r.boxes[keep], r.classes[keep]
        detections += int(keep.sum())
        ious = iou_matrix(r.gt_boxes, boxes)
        for g, (label, oid) in enumerate(zip(r.gt_labels, r.gt_ids, strict=True)):
            totals[label] += 1
            overlap = ious[g] >= HIT_IOU if len(boxes) else np.zeros(0, bool)
            hit = bool(np.any(overlap & (det_classes == label)))
            hits[label] += hit
            same_category = [categories[int(d)] == categories[int(label)]
                             for d in det_classes[overlap]]
            category_hits += bool(any(same_category))
            key = (r.bag, int(oid))
            object_hit[key] = object_hit.get(key, False) or hit
            object_class[key] = int(label)
        for box, cls in zip(boxes, det_classes, strict=True):
            if not _flags_threat(box, r.gt_boxes):
                false_alarms += 1
                fa_by_class[cls] += 1
                if len(r.gt_boxes) == 0:
                    alarmed_clean.add(r.bag)
    n_bags = max(len(bags), 1)
    n_clean = sum(clean_bags.values())
    clean_fa = sum(1 for r in results if clean_bags[r.bag]
                   for box, s, c in zip(r.boxes, r.scores, r.classes, strict=True)
                   if s >= limits[c] and not _flags_threat(box, r.gt_boxes))
    obj_total = np.zeros(len(classes), dtype=np.int64)
    obj_hits = np.zeros(len(classes), dtype=np.int64)
    for key, hit in object_hit.items():
        obj_total[object_class[key]] += 1
        obj_hits[object_class[key]] += hit
    return {
        "thresholds": {c: round(thresholds[c], 4) for c in classes},
        "bags": len(bags),
        "clean_bags": n_clean,
        "threats_per_view_total": int(totals.sum()),
        "pd": float(hits.sum() / max(totals.sum(), 1)),
        "pd_per_class": {c: _ratio(hits[i], totals[i]) for i, c in enumerate(classes)},
        "threats_per_class": {c: int(totals[i]) for i, c in enumerate(classes)},
        "pd_same_category": float(category_hits / max(totals.sum(), 1)),
        "pd_bag_object": float(obj_hits.sum() / max(obj_total.sum(), 1)),
        "pd_bag_object_per_class": {c: _ratio(obj_hits[i], obj_total[i])
                                    for i, c in enumerate(classes)},
        "false_alarms": false_alarms,
        "false_alarms_per_bag": false_alarms / n_bags,
        "false_alarms_per_clean_bag": clean_fa / max(n_clean, 1),
        "clean_bags_with_false_alarm": len(alarmed_clean) / max(n_clean, 1),
        "false_alarms_by_class": {c: int(fa_by_class[i]) for i, c in enumerate(classes)},
        "detections_per_bag": detections / n_bags,
    }


def _ratio(a: int | np.integer[Any], b: int | np.integer[Any]) -> float | None:
    return float(a / b) if b else None


def ap_table(results: Sequence[ViewResult], classes: Sequence[str]) -> dict[str, Any]:
    """AP@0.5 and AP@0.5:0.95 per class and their means, computed by
    ``screener.detect.metrics`` (the code behind ``screener eval-detector``); a class
    without ground truth has none (null)."""
    images = [ImageRecord(
        ground_truth=[GroundTruthBox(classes[int(label)], _box(box))
                      for box, label in zip(r.gt_boxes, r.gt_labels, strict=True)],
        detections=[PredictedBox(classes[int(label)], float(score), _box(box))
                    for box, score, label in zip(r.boxes, r.scores, r.classes, strict=True)])
        for r in results]
    summary = evaluate(images, classes)
    return {
        "map50": summary.map50,
        "map50_95": summary.map50_95,
        "ap50": {m.label: _round(m.ap50) for m in summary.labels},
        "ap50_95": {m.label: _round(m.ap50_95) for m in summary.labels},
    }


def _box(values: NDArray[np.float64]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in values)
    return x0, y0, x1, y1


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def pd_curve(results: Sequence[ViewResult], classes: Sequence[str],
             targets: Sequence[float] = (0.8, 0.85, 0.9, 0.95)) -> list[dict[str, Any]]:
    """False alarms per bag at several PD targets (thresholds chosen on the same results:
    an in-sample trade-off curve, for the model card)."""
    rows = []
    for target in targets:
        point = operating_point(results, classes, choose_thresholds(results, classes, target))
        rows.append({"target_pd": target, "pd": round(point["pd"], 4),
                     "false_alarms_per_bag": round(point["false_alarms_per_bag"], 4)})
    return rows
