"""Detection metrics with COCO semantics: matching, average precision, mAP.

Everything here is pure numpy on boxes, scores and labels; nothing reads files or runs a
model. The rules are those of pycocotools' ``COCOeval`` for boxes (``iouType="bbox"``),
re-implemented so that Screener does not depend on it:

- **IoU** of corner boxes ``x0, y0, x1, y1`` in continuous pixels (no ``+1``). For a
  *crowd* ground-truth box the union is the detection's own area (intersection over the
  detection), as COCO does.
- **Matching**, per image and label, at each IoU threshold ``t``: detections best score
  first (stable on ties), at most ``max_detections`` of them; each takes the unmatched
  ground-truth box with the highest IoU ``>= t``, preferring boxes that are not ignored.
  A non-crowd box is matched at most once; a crowd box any number of times. A detection
  matched to an *ignored* box (COCO ``iscrowd``, VOC ``difficult``) counts neither as a
  hit nor as a false alarm; so do ignored boxes left unmatched.
- **Average precision**: all detections of a label over all images, best score first
  (stable: image order, then score order within an image); cumulative precision and
  recall; precision made non-increasing from the right (the envelope); then the mean of
  the envelope at the 101 recall points 0, 0.01, ..., 1 (COCO's 101-point
  interpolation), 0 where a recall point is never reached.
- A label with **no ground truth** has no AP (``None``; COCO's -1) and is left out of
  the mean. A label with ground truth and no detections has AP 0.
- **mAP@0.5** is the mean AP at IoU 0.5 over labels with ground truth; **mAP@0.5:0.95**
  the mean over those labels and the ten IoU thresholds 0.50, 0.55, ..., 0.95.
- **Object size** (COCO ``areaRng``): for the "small", "medium" and "large" figures a
  ground-truth box whose area (pixels) lies outside the range is ignored, and so is an
  unmatched detection outside it; the default range takes every box.

The tests check these numbers against hand-computed curves and against a brute-force
reference written from the definitions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Box = tuple[float, float, float, float]

#: COCO's ten IoU thresholds 0.50, 0.55, ..., 0.95 (computed as pycocotools does).
IOU_THRESHOLDS: FloatArray = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1,
                                         endpoint=True)
#: COCO's 101 recall points 0.00, 0.01, ..., 1.00.
RECALL_POINTS: FloatArray = np.linspace(0.0, 1.0, int(np.round((1.00 - 0.0) / 0.01)) + 1,
                                        endpoint=True)
#: Most detections per image and label that count, as COCO's ``maxDets`` 100.
COCO_MAX_DETECTIONS = 100
#: Every box, whatever its area (COCO's area range "all").
ALL_SIZES: tuple[float, float] = (0.0, 1e10)
#: COCO's object sizes by box area in pixels: small up to 32^2, medium to 96^2, large above.
SIZE_RANGES: dict[str, tuple[float, float]] = {
    "small": (0.0, 32.0**2), "medium": (32.0**2, 96.0**2), "large": (96.0**2, 1e10)}
_EPS = float(np.spacing(1))


@dataclass(frozen=True)
class GroundTruthBox:
    """A ground-truth box of one label. ``ignore``: neither a hit nor a miss (COCO
    ``iscrowd``, VOC ``difficult``); ``crowd``: matched by intersection over the
    detection's area, any number of times (COCO ``iscrowd``)."""

    label: str
    box: Box
    ignore: bool = False
    crowd: bool = False


@dataclass(frozen=True)
class PredictedBox:
    """A detection: label, score and box. ``operating``: it passes the model's operating
    threshold for its class (what the screener would see flagged)."""

    label: str
    score: float
    box: Box
    operating: bool = True


@dataclass(frozen=True)
class ImageMatch:
    """The matching of one image's detections of one label, in match order (best score
    first, at most ``max_detections``). Arrays over IoU thresholds ``T`` and detections
    ``D``."""

    scores: FloatArray  # (D,)
    matched: BoolArray  # (T, D): matched to some ground-truth box at that threshold
    ignored: BoolArray  # (T, D): matched to an ignored box: neither hit nor false alarm
    operating: BoolArray  # (D,)
    gt_count: int  # ground-truth boxes that are not ignored
    gt_ignored: int
    order: NDArray[np.intp]  # (D,): each detection's index in match_image's input


def iou_matrix(detections: FloatArray, ground_truth: FloatArray,
               crowd: BoolArray | None = None) -> FloatArray:
    """IoU of each detection (D, 4) with each ground-truth box (G, 4), corner boxes, shape
    (D, G). For crowd boxes the union is the detection's area. 0 where the union is 0."""
    dets = np.asarray(detections, dtype=np.float64).reshape(-1, 4)
    gts = np.asarray(ground_truth, dtype=np.float64).reshape(-1, 4)
    x0 = np.maximum(dets[:, None, 0], gts[None, :, 0])
    y0 = np.maximum(dets[:, None, 1], gts[None, :, 1])
    x1 = np.minimum(dets[:, None, 2], gts[None, :, 2])
    y1 = np.minimum(dets[:, None, 3], gts[None, :, 3])
    inter = np.clip(x1 - x0, 0.0, None) * np.clip(y1 - y0, 0.0, None)
    det_area = ((dets[:, 2] - dets[:, 0]) * (dets[:, 3] - dets[:, 1]))[:, None]
    gt_area = ((gts[:, 2] - gts[:, 0]) * (gts[:, 3] - gts[:, 1]))[None, :]
    union = det_area + gt_area - inter
    if crowd is not None and np.any(crowd):
        union = np.where(np.asarray(crowd, dtype=bool)[None, :], det_area, union)
    result: FloatArray = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return result


def match_image(
    det_boxes: FloatArray,
    det_scores: FloatArray,
    gt_boxes: FloatArray,
    *,
    gt_ignore: BoolArray | None = None,
    gt_crowd: BoolArray | None = None,
    det_operating: BoolArray | None = None,
    iou_thresholds: FloatArray = IOU_THRESHOLDS,
    max_detections: int | None = COCO_MAX_DETECTIONS,
    area_range: tuple[float, float] = ALL_SIZES,
) -> ImageMatch:
    """Greedy matching of one image's detections of one label (COCO ``evaluateImg``).

    Ground truth whose area lies outside ``area_range`` is ignored, and so are detections
    outside it that match nothing."""
    scores_in = np.asarray(det_scores, dtype=np.float64).reshape(-1)
    boxes_in = np.asarray(det_boxes, dtype=np.float64).reshape(-1, 4)
    gts_in = np.asarray(gt_boxes, dtype=np.float64).reshape(-1, 4)
    n_gt = gts_in.shape[0]
    ignore_in = np.zeros(n_gt, bool) if gt_ignore is None else np.asarray(gt_ignore, bool)
    crowd_in = np.zeros(n_gt, bool) if gt_crowd is None else np.asarray(gt_crowd, bool)
    ignore_in = ignore_in | crowd_in | _outside(gts_in, area_range)  # crowd: as in COCO
    operating_in = (np.ones(scores_in.shape, bool) if det_operating is None
                    else np.asarray(det_operating, bool).reshape(-1))
    # ground truth: boxes that count first, ignored ones last (stable)
    gt_order = np.argsort(ignore_in, kind="mergesort")
    gts, ignore, crowd = gts_in[gt_order], ignore_in[gt_order], crowd_in[gt_order]
    det_order = np.argsort(-scores_in, kind="mergesort")
    if max_detections is not None:
        det_order = det_order[:max_detections]
    dets, scores, operating = boxes_in[det_order], scores_in[det_order], operating_in[det_order]
    thresholds = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
    n_t, n_d = thresholds.size, dets.shape[0]
    matched = np.zeros((n_t, n_d), bool)
    ignored = np.zeros((n_t, n_d), bool)
    if n_d and n_gt:
        ious_array = iou_matrix(dets, gts, crowd)
        ious: list[list[float]] = ious_array.tolist()
        best_of: list[float] = ious_array.max(axis=1).tolist()
        is_crowd: list[bool] = crowd.tolist()
        is_ignored: list[bool] = ignore.tolist()
        for t_index, threshold in enumerate(thresholds.tolist()):
            limit = min(threshold, 1 - 1e-10)
            gt_taken = [False] * n_gt
            for d in range(n_d):
                if best_of[d] < limit:
                    continue  # overlaps no box enough: unmatched
                row = ious[d]
                best_iou = limit
                best = -1
                for g in range(n_gt):
                    if gt_taken[g] and not is_crowd[g]:
                        continue
                    if best > -1 and not is_ignored[best] and is_ignored[g]:
                        break  # a box that counts was found; ignored ones come after
                    if row[g] < best_iou:
                        continue
                    best_iou = row[g]
                    best = g
                if best == -1:
                    continue
                matched[t_index, d] = True
                ignored[t_index, d] = is_ignored[best]
                gt_taken[best] = True
    ignored |= ~matched & _outside(dets, area_range)[None, :]
    return ImageMatch(scores=scores, matched=matched, ignored=ignored, operating=operating,
                      gt_count=int(np.count_nonzero(~ignore)),
                      gt_ignored=int(np.count_nonzero(ignore)), order=det_order)


def _outside(boxes: FloatArray, area_range: tuple[float, float]) -> BoolArray:
    """Boxes whose area lies outside ``area_range`` (its bounds count as inside)."""
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    result: BoolArray = (area < area_range[0]) | (area > area_range[1])
    return result


@dataclass(frozen=True)
class OperatingPoint:
    """Hits and false alarms among detections that pass the operating threshold, at
    IoU 0.5. ``precision`` is None without such detections, ``recall`` None without
    ground truth."""

    detections: int
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        counted = self.true_positives + self.false_positives
        return None if counted == 0 else self.true_positives / counted

    @property
    def recall(self) -> float | None:
        total = self.true_positives + self.false_negatives
        return None if total == 0 else self.true_positives / total

    def __add__(self, other: OperatingPoint) -> OperatingPoint:
        return OperatingPoint(self.detections + other.detections,
                              self.true_positives + other.true_positives,
                              self.false_positives + other.false_positives,
                              self.false_negatives + other.false_negatives)

    def to_json(self) -> dict[str, Any]:
        return {
            "detections": self.detections,
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "precision": _round(self.precision),
            "recall": _round(self.recall),
        }


@dataclass(frozen=True)
class LabelMetrics:
    """Every figure for one label. ``ap`` holds the AP at each IoU threshold (None
    without ground truth). ``curve_recall``/``curve_precision``/``curve_scores``: the raw
    cumulative curve at the first threshold (IoU 0.5), one point per detection in rank
    order; ``interpolated``: the envelope at the 101 recall points (what AP averages)."""

    label: str
    gt_count: int
    gt_ignored: int
    detections: int
    iou_thresholds: FloatArray
    ap: FloatArray | None  # (T,)
    recall: FloatArray  # (T,) final recall at each threshold
    curve_recall: FloatArray
    curve_precision: FloatArray
    curve_scores: FloatArray
    interpolated: FloatArray  # (101,) at IoU 0.5
    operating: OperatingPoint

    def _threshold_index(self, iou: float) -> int:
        hits = np.nonzero(np.isclose(self.iou_thresholds, iou))[0]
        if hits.size == 0:
            raise ValueError(f"IoU {iou} is not one of the evaluated thresholds")
        return int(hits[0])

    def ap_at(self, iou: float) -> float | None:
        """AP at one of the IoU thresholds (None without ground truth)."""
        return None if self.ap is None else float(self.ap[self._threshold_index(iou)])

    def recall_at(self, iou: float) -> float | None:
        """The share of objects some detection (at any score kept) matches at one of the
        IoU thresholds (None without ground truth)."""
        return None if not self.gt_count else float(self.recall[self._threshold_index(iou)])

    @property
    def ap50(self) -> float | None:
        return self.ap_at(0.5)

    @property
    def ap50_95(self) -> float | None:
        """Mean AP over all IoU thresholds (COCO's AP for one label)."""
        return None if self.ap is None else float(np.mean(self.ap))


def accumulate(label: str, matches: Sequence[ImageMatch],
               iou_thresholds: FloatArray = IOU_THRESHOLDS) -> LabelMetrics:
    """AP and the PR curve of one label over every image's matching (COCO ``accumulate``)."""
    thresholds = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
    n_t = thresholds.size
    gt_count = sum(m.gt_count for m in matches)
    gt_ignored = sum(m.gt_ignored for m in matches)
    if matches:
        scores = np.concatenate([m.scores for m in matches])
        matched = np.concatenate([m.matched for m in matches], axis=1)
        ignored = np.concatenate([m.ignored for m in matches], axis=1)
        operating = np.concatenate([m.operating for m in matches])
    else:
        scores = np.zeros(0)
        matched = ignored = np.zeros((n_t, 0), bool)
        operating = np.zeros(0, bool)
    order = np.argsort(-scores, kind="mergesort")
    scores, matched, ignored = scores[order], matched[:, order], ignored[:, order]
    operating = operating[order]
    hits = matched & ~ignored
    false_alarms = ~matched & ~ignored
    n_d = scores.size
    ap = np.zeros(n_t) if gt_count else None
    final_recall = np.zeros(n_t)
    curve_recall = curve_precision = np.zeros(0)
    interpolated = np.zeros(RECALL_POINTS.size)
    for t in range(n_t):
        tp = np.cumsum(hits[t], dtype=np.float64)
        fp = np.cumsum(false_alarms[t], dtype=np.float64)
        rc = tp / gt_count if gt_count else np.zeros(n_d)
        pr = tp / (fp + tp + _EPS)
        envelope = np.maximum.accumulate(pr[::-1])[::-1] if n_d else pr
        at = np.searchsorted(rc, RECALL_POINTS, side="left")
        q = np.zeros(RECALL_POINTS.size)
        valid = at < n_d
        q[valid] = envelope[at[valid]]
        if ap is not None:
            ap[t] = float(np.mean(q))
        final_recall[t] = rc[-1] if n_d else 0.0
        if t == 0:
            curve_recall, curve_precision, interpolated = rc, pr, q
    op_hits = int(np.count_nonzero(hits[0] & operating)) if n_t else 0
    op_false = int(np.count_nonzero(false_alarms[0] & operating)) if n_t else 0
    point = OperatingPoint(detections=int(np.count_nonzero(operating)),
                           true_positives=op_hits, false_positives=op_false,
                           false_negatives=gt_count - op_hits)
    return LabelMetrics(label=label, gt_count=gt_count, gt_ignored=gt_ignored, detections=n_d,
                        iou_thresholds=thresholds, ap=ap, recall=final_recall,
                        curve_recall=curve_recall, curve_precision=curve_precision,
                        curve_scores=scores, interpolated=interpolated, operating=point)


@dataclass(frozen=True)
class ImageRecord:
    """One image's ground truth and detections, every label together."""

    ground_truth: Sequence[GroundTruthBox] = ()
    detections: Sequence[PredictedBox] = ()
    name: str = ""


@dataclass(frozen=True)
class Summary:
    """Per-label metrics and the means over labels with ground truth."""

    labels: tuple[LabelMetrics, ...]
    iou_thresholds: FloatArray = field(default_factory=lambda: IOU_THRESHOLDS.copy())
    max_detections: int | None = COCO_MAX_DETECTIONS

    @property
    def scored(self) -> tuple[LabelMetrics, ...]:
        """Labels with ground truth: those the means are over."""
        return tuple(m for m in self.labels if m.ap is not None)

    @property
    def map50(self) -> float | None:
        values = [m.ap50 for m in self.scored]
        return float(np.mean([v for v in values if v is not None])) if values else None

    @property
    def map50_95(self) -> float | None:
        values = [m.ap50_95 for m in self.scored]
        return float(np.mean([v for v in values if v is not None])) if values else None

    @property
    def operating(self) -> OperatingPoint:
        """All labels together (micro average)."""
        total = OperatingPoint(0, 0, 0, 0)
        for m in self.labels:
            total = total + m.operating
        return total

    def label(self, name: str) -> LabelMetrics:
        for m in self.labels:
            if m.label == name:
                return m
        raise KeyError(name)


def _as_array(boxes: Sequence[Box]) -> FloatArray:
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def evaluate(images: Sequence[ImageRecord], labels: Sequence[str], *,
             iou_thresholds: FloatArray = IOU_THRESHOLDS,
             max_detections: int | None = COCO_MAX_DETECTIONS,
             area_range: tuple[float, float] = ALL_SIZES) -> Summary:
    """Match and accumulate every label in ``labels`` over ``images`` (in their order),
    counting only objects of ``area_range`` (:data:`SIZE_RANGES`).

    Ground truth and detections whose label is not in ``labels`` are left out; the
    caller decides (and reports) what is scored.
    """
    wanted = list(dict.fromkeys(labels))
    thresholds = np.asarray(iou_thresholds, dtype=np.float64).reshape(-1)
    per_label: dict[str, list[ImageMatch]] = {name: [] for name in wanted}
    for image in images:
        for name in wanted:
            matched = match_label(image, name, iou_thresholds=thresholds,
                                  max_detections=max_detections, area_range=area_range)
            if matched is not None:
                per_label[name].append(matched[0])
    return Summary(labels=tuple(accumulate(name, per_label[name], thresholds)
                                for name in wanted),
                   iou_thresholds=thresholds, max_detections=max_detections)


def match_label(image: ImageRecord, label: str, *,
                iou_thresholds: FloatArray = IOU_THRESHOLDS,
                max_detections: int | None = COCO_MAX_DETECTIONS,
                area_range: tuple[float, float] = ALL_SIZES,
                ) -> tuple[ImageMatch, list[PredictedBox]] | None:
    """:func:`match_image` on ``image``'s ground truth and detections of ``label``, and
    those detections (``ImageMatch.order`` indexes them); None when it has neither."""
    gts = [g for g in image.ground_truth if g.label == label]
    dets = [d for d in image.detections if d.label == label]
    if not gts and not dets:
        return None
    match = match_image(
        _as_array([d.box for d in dets]),
        np.asarray([d.score for d in dets], dtype=np.float64),
        _as_array([g.box for g in gts]),
        gt_ignore=np.asarray([g.ignore for g in gts], bool),
        gt_crowd=np.asarray([g.crowd for g in gts], bool),
        det_operating=np.asarray([d.operating for d in dets], bool),
        iou_thresholds=iou_thresholds,
        max_detections=max_detections,
        area_range=area_range,
    )
    return match, dets


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)
