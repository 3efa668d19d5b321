"""Postprocessing: decode YOLO outputs, apply per-class thresholds, class-aware NMS, map
boxes back to view pixels. Pure numpy.

Decoding follows ultralytics: YOLOv5 scores are objectness x class score, YOLOv8/YOLO11
scores are the class scores; boxes are centre x, centre y, width, height in model-input
pixels. By default each candidate keeps its best class only (as ultralytics' ``predict``);
with ``multi_label`` every class whose score passes its threshold is a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.detect.manifest import ModelManifest, OutputLayout
from screener.detect.preprocess import Letterbox

#: Candidates kept (best scores first) before NMS, as ultralytics' ``max_nms``.
MAX_NMS_CANDIDATES = 30_000

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class Decoded:
    """Detections as arrays: ``boxes`` (K, 4) x0, y0, x1, y1; ``scores`` (K,);
    ``class_ids`` (K,), best score first."""

    boxes: FloatArray
    scores: FloatArray
    class_ids: IntArray

    def __len__(self) -> int:
        return int(self.scores.shape[0])


class OutputShapeError(ValueError):
    """The output tensor does not have the shape the layout and class count require."""


def split_output(output: NDArray[Any], layout: OutputLayout,
                 num_classes: int) -> tuple[FloatArray, FloatArray]:
    """``[1, N, 5+nc]`` or ``[1, 4+nc, N]`` -> centre boxes (N, 4) and class scores (N, nc)."""
    array = np.asarray(output, dtype=np.float64)
    attributes = layout.attributes(num_classes)
    if layout is OutputLayout.YOLOV5:
        if array.ndim != 3 or array.shape[0] != 1 or array.shape[2] != attributes:
            raise OutputShapeError(f"output shape {list(array.shape)} is not YOLOv5 "
                                   f"[1, N, {attributes}] for {num_classes} classes")
        records = array[0]
        scores = records[:, 4:5] * records[:, 5:]
    else:
        if array.ndim != 3 or array.shape[0] != 1 or array.shape[1] != attributes:
            raise OutputShapeError(f"output shape {list(array.shape)} is not YOLOv8 "
                                   f"[1, {attributes}, N] for {num_classes} classes")
        records = array[0].T
        scores = records[:, 4:]
    return records[:, :4], scores


def centre_to_corners(boxes: FloatArray) -> FloatArray:
    """cx, cy, w, h -> x0, y0, x1, y1."""
    half = boxes[:, 2:4] / 2.0
    return np.concatenate([boxes[:, 0:2] - half, boxes[:, 0:2] + half], axis=1)


def select_candidates(centre_boxes: FloatArray, class_scores: FloatArray,
                      thresholds: NDArray[np.floating[Any]],
                      multi_label: bool = False) -> Decoded:
    """Candidates whose score passes their class's threshold (``score >= threshold``),
    corner boxes, best first, at most :data:`MAX_NMS_CANDIDATES`. Candidates with a
    non-finite box or score, or a box without area, are dropped."""
    finite = np.all(np.isfinite(centre_boxes), axis=1) & (centre_boxes[:, 2] > 0) \
        & (centre_boxes[:, 3] > 0)
    scores = np.where(np.isfinite(class_scores), class_scores, -np.inf)
    limits = np.asarray(thresholds, dtype=np.float64)[None, :]
    if multi_label:
        rows, cols = np.nonzero((scores >= limits) & finite[:, None])
        picked = scores[rows, cols]
    else:
        cols = np.argmax(scores, axis=1)  # a manifest has at least one class
        best = scores[np.arange(scores.shape[0]), cols]
        keep = finite & (best >= limits[0, cols])
        rows = np.nonzero(keep)[0]
        cols = cols[rows]
        picked = best[rows]
    order = np.argsort(-picked, kind="stable")[:MAX_NMS_CANDIDATES]
    return Decoded(
        boxes=centre_to_corners(centre_boxes[rows[order]]),
        scores=picked[order].astype(np.float64),
        class_ids=cols[order].astype(np.int64),
    )


def box_iou(box: FloatArray, boxes: FloatArray) -> FloatArray:
    """IoU of one corner box with each of ``boxes`` (K, 4); 0 where the union is empty."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0.0, None) * np.clip(y1 - y0, 0.0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    result: FloatArray = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return result


def nms(boxes: FloatArray, scores: FloatArray, class_ids: IntArray,
        iou_threshold: float, max_keep: int | None = None) -> IntArray:
    """Greedy class-aware non-maximum suppression.

    Visits boxes best score first (ties: lower index first); a box is suppressed by an
    already kept box of the *same class* whose IoU with it is greater than
    ``iou_threshold``. Boxes of different classes never suppress each other. Returns the
    kept indices, best score first; with ``max_keep``, the first ``max_keep`` of them
    (and it stops there, so the cost is at most ``max_keep`` passes over the boxes).
    """
    order = np.argsort(-np.asarray(scores), kind="stable")
    boxes = np.asarray(boxes, dtype=np.float64)
    classes = np.asarray(class_ids)
    keep: list[int] = []
    limit = order.size if max_keep is None else max_keep
    while order.size and len(keep) < limit:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        same = classes[rest] == classes[best]
        overlap = np.zeros(rest.shape, dtype=bool)
        if np.any(same):
            overlap[same] = box_iou(boxes[best], boxes[rest[same]]) > iou_threshold
        order = rest[~overlap]
    return np.asarray(keep, dtype=np.int64)


def mirror_centres(centres: FloatArray, input_size: tuple[int, int],
                   mirror: tuple[bool, bool]) -> FloatArray:
    """Centre boxes (N, 4: cx, cy, w, h) found on a model input mirrored in x and/or y
    (``mirror``), in the unmirrored input's pixels. ``input_size`` is (height, width)."""
    if not any(mirror):
        return centres
    out = centres.copy()
    height, width = input_size
    if mirror[0]:
        out[:, 0] = width - out[:, 0]
    if mirror[1]:
        out[:, 1] = height - out[:, 1]
    return out


def postprocess(output: NDArray[Any], manifest: ModelManifest, plan: Letterbox, *,
                mirror: tuple[bool, bool] = (False, False),
                score_floor: float | None = None) -> Decoded:
    """One image's output tensor -> detections in source (view) pixels, best first, at most
    ``manifest.max_detections``.

    Candidate boxes are mapped back through the letterbox and clipped to the image; those
    that lie wholly in the padding (no area left) are dropped. NMS then runs on the
    model-input boxes (as ultralytics) and stops at ``max_detections``. ``mirror`` (x, y)
    says the input was mirrored (a test-time pass, :mod:`screener.detect.test_time`), and
    ``score_floor``, when given, replaces every class threshold (a pass keeps more
    candidates than the fused result will).
    """
    centre, class_scores = split_output(output, manifest.output_layout, manifest.num_classes)
    centre = mirror_centres(centre, manifest.input_size, mirror)
    thresholds = np.asarray(manifest.thresholds() if score_floor is None
                            else [score_floor] * manifest.num_classes, dtype=np.float64)
    candidates = select_candidates(centre, class_scores, thresholds, manifest.multi_label)
    source = plan.to_source(candidates.boxes)
    inside = np.nonzero((source[:, 2] > source[:, 0]) & (source[:, 3] > source[:, 1]))[0]
    kept = inside[nms(candidates.boxes[inside], candidates.scores[inside],
                      candidates.class_ids[inside], manifest.nms_iou,
                      max_keep=manifest.max_detections)]
    return Decoded(
        boxes=source[kept],
        scores=candidates.scores[kept],
        class_ids=candidates.class_ids[kept],
    )
