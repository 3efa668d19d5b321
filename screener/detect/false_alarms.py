"""What the false alarms at the operating point lie on.

A false alarm is a detection that passes its class's operating threshold and is no hit
at IoU 0.5, under the same greedy COCO matching as the operating point of
:mod:`screener.detect.metrics` (a detection on an ignored box is neither), so each
label's false alarms here add up to its operating point's false positives.

Each false alarm is put down to the named object whose box overlaps it most, if that
IoU reaches :data:`MIN_OVERLAP_IOU`, by the object's dataset class name: an annotated
object of another class (a gun part flagged as a handgun), of its own class (a second
box on one object, or a box too loose to count as a hit), or a context object that is
never scored (a simulated bag's umbrella or cable). Otherwise it lies on
:data:`NOTHING`: clutter or background. This tells a trainer or a model builder which
articles a detector mistakes for threats, which the PR curve cannot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from screener.detect.metrics import (
    COCO_MAX_DETECTIONS,
    Box,
    FloatArray,
    ImageRecord,
    PredictedBox,
    iou_matrix,
    match_label,
)

#: Least IoU with an object's box for a false alarm to be put down to that object.
MIN_OVERLAP_IOU = 0.1
#: What a false alarm lies on when no named object's box overlaps it that much.
NOTHING = "no matching object"
_AT_IOU_50 = np.array([0.5])


@dataclass(frozen=True)
class NamedBox:
    """An object in an image by its dataset class name, box in pixel corners."""

    name: str
    box: Box


def false_alarm_sources(records: Sequence[ImageRecord],
                        named_objects: Sequence[Sequence[NamedBox]],
                        labels: Sequence[str], *,
                        max_detections: int | None = COCO_MAX_DETECTIONS
                        ) -> dict[str, Counter[str]]:
    """For each label, how many of its false alarms lie on each kind of object.

    ``named_objects[i]``: every named object in ``records[i]``'s image (annotated,
    whether scored or not, and context objects)."""
    if len(records) != len(named_objects):
        raise ValueError(f"{len(records)} images but named objects for {len(named_objects)}")
    sources: dict[str, Counter[str]] = {label: Counter() for label in labels}
    for record, objects in zip(records, named_objects, strict=True):
        boxes = np.asarray([o.box for o in objects], dtype=np.float64).reshape(-1, 4)
        for label in sources:
            for alarm in operating_false_alarms(record, label, max_detections):
                sources[label][_lies_on(alarm.box, objects, boxes)] += 1
    return sources


def operating_false_alarms(record: ImageRecord, label: str,
                           max_detections: int | None = COCO_MAX_DETECTIONS
                           ) -> list[PredictedBox]:
    """``record``'s detections of ``label`` that pass the operating threshold and are no
    hit at IoU 0.5, best score first."""
    matched = match_label(record, label, iou_thresholds=_AT_IOU_50,
                          max_detections=max_detections)
    if matched is None:
        return []
    match, detections = matched
    alarm = match.operating & ~match.matched[0] & ~match.ignored[0]
    return [detections[int(i)] for i in match.order[alarm]]


def _lies_on(box: Box, objects: Sequence[NamedBox], boxes: FloatArray) -> str:
    if not objects:
        return NOTHING
    overlap = iou_matrix(np.asarray([box], dtype=np.float64), boxes)[0]
    best = int(np.argmax(overlap))
    return objects[best].name if overlap[best] >= MIN_OVERLAP_IOU else NOTHING
