"""Held-out evaluation: average precision, probability of detection, false alarms per bag.

Detections are made exactly as the runtime makes them: the model's ``[1, 4 + nc, N]``
output goes through ``screener.detect.postprocess.postprocess`` (best class per candidate,
per-class thresholds, class-aware NMS at IoU 0.45, boxes mapped back to view pixels), here
with a low score floor so that thresholds can be swept afterwards. Greedy NMS visits boxes
best first and a box is only suppressed by a better one, so raising a threshold afterwards
gives the same detections as running with it.

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
  matching at IoU 0.5 (and 0.5:0.95 in steps of 0.05), over all held-out views.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.detect.manifest import ModelManifest, parse_manifest
from screener.detect.postprocess import postprocess
from screener.detect.preprocess import Letterbox
from screener.sim.labels import THREAT_CLASSES

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


def floor_manifest(classes: Sequence[str], size: tuple[int, int], kind: str) -> ModelManifest:
    """A manifest like the shipped one, with every threshold at the evaluation floor."""
    document = {
        "manifest_version": 1, "name": "eval", "version": "0", "model_sha256": "0" * 64,
        "classes": [{"name": c, "category": THREAT_CLASSES[c].value} for c in classes],
        "input": {"kind": kind, "size": list(size)},
        "output": {"layout": "yolov8"},
        "thresholds": {"score": SCORE_FLOOR, "nms_iou": 0.45,
                       "max_detections": EVAL_MAX_DETECTIONS},
    }
    return parse_manifest(document, "evaluation")


@functools.cache
def _floor_manifest(classes: tuple[str, ...], size: tuple[int, int]) -> ModelManifest:
    return floor_manifest(classes, size, "pseudo-colour")


def decode_view(args: tuple[NDArray[np.float32], Letterbox, tuple[str, ...], int, str,
                            NDArray[Any], NDArray[Any], NDArray[Any]]) -> ViewResult:
    """One view's output ``(4 + nc, N)`` -> its :class:`ViewResult` (runs in a worker)."""
    output, plan, classes, bag, view, gt_boxes, gt_labels, gt_ids = args
    manifest = _floor_manifest(classes, plan.target_size)
    decoded = postprocess(output[None], manifest, plan)
    return ViewResult(bag, view, decoded.boxes, decoded.scores, decoded.class_ids,
                      np.asarray(gt_boxes, np.float64).reshape(-1, 4),
                      np.asarray(gt_labels, np.int64), np.asarray(gt_ids, np.int64))


def iou_matrix(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """IoU (len(a), len(b)) of corner boxes."""
    if a.size == 0 or b.size == 0:
        return np.zeros((a.reshape(-1, 4).shape[0], b.reshape(-1, 4).shape[0]))
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out: NDArray[np.float64] = np.divide(inter, union, out=np.zeros_like(inter),
                                         where=union > 0)
    return out


def average_precision(results: Sequence[ViewResult], class_id: int, iou_thr: float) -> float:
    """COCO 101-point AP of one class; NaN when the class has no ground truth."""
    records: list[tuple[float, bool]] = []
    n_gt = 0
    for r in results:
        gt = r.gt_boxes[r.gt_labels == class_id]
        n_gt += len(gt)
        mine = np.nonzero(r.classes == class_id)[0]
        if mine.size == 0:
            continue
        if len(gt) == 0:  # every detection is a false positive
            records.extend((float(s), False) for s in r.scores[mine])
            continue
        order = mine[np.argsort(-r.scores[mine], kind="stable")]
        ious = iou_matrix(r.boxes[order], gt)
        taken = np.zeros(len(gt), dtype=bool)
        for i, det in enumerate(order):
            hit = False
            if len(gt):
                candidates = np.where(taken, -1.0, ious[i])
                j = int(np.argmax(candidates))
                if candidates[j] >= iou_thr:
                    taken[j] = True
                    hit = True
            records.append((float(r.scores[det]), hit))
    if n_gt == 0:
        return float("nan")
    if not records:
        return 0.0
    records.sort(key=lambda t: -t[0])
    tp = np.cumsum([h for _, h in records])
    fp = np.cumsum([not h for _, h in records])
    recall = tp / n_gt
    precision = tp / np.maximum(tp + fp, 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    points = np.linspace(0, 1, 101)
    idx = np.searchsorted(recall, points, side="left")
    sampled = np.where(idx < len(precision), precision[np.minimum(idx, len(precision) - 1)], 0.0)
    return float(np.mean(sampled))


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


def _mean(values: Sequence[float]) -> float:
    """Mean of the values that are not NaN (NaN when none is)."""
    finite = [v for v in values if not np.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def ap_table(results: Sequence[ViewResult], classes: Sequence[str]) -> dict[str, Any]:
    """AP@0.5 and AP@0.5:0.95 per class and their means."""
    ap50 = {c: average_precision(results, i, 0.5) for i, c in enumerate(classes)}
    ap5095 = {c: _mean([average_precision(results, i, t)
                        for t in np.arange(0.5, 0.96, 0.05)])
              for i, c in enumerate(classes)}
    return {
        "map50": _mean(list(ap50.values())),
        "map50_95": _mean(list(ap5095.values())),
        "ap50": {c: round(v, 4) for c, v in ap50.items()},
        "ap50_95": {c: round(v, 4) for c, v in ap5095.items()},
    }


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
