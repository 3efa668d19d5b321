"""What false alarms lie on (screener/detect/false_alarms.py): the rules for putting an
alarm down to an object, and agreement with the operating point's false-alarm count."""

from __future__ import annotations

import numpy as np
import pytest

from screener.detect.false_alarms import (
    MIN_OVERLAP_IOU,
    NOTHING,
    NamedBox,
    false_alarm_sources,
)
from screener.detect.metrics import GroundTruthBox, ImageRecord, PredictedBox, evaluate

KNIFE = (10.0, 10.0, 50.0, 20.0)
GUN = (100.0, 100.0, 140.0, 130.0)
UMBRELLA = (200.0, 10.0, 400.0, 30.0)
IGNORED_KNIFE = (10.0, 200.0, 50.0, 210.0)


def _one_bag() -> tuple[ImageRecord, list[NamedBox]]:
    truth = [GroundTruthBox("knife", KNIFE), GroundTruthBox("handgun", GUN),
             GroundTruthBox("knife", IGNORED_KNIFE, ignore=True)]
    detections = [
        PredictedBox("knife", 0.9, KNIFE),  # the hit
        PredictedBox("knife", 0.8, (12.0, 10.0, 52.0, 20.0)),  # a second box on the knife
        PredictedBox("knife", 0.7, (102.0, 100.0, 142.0, 130.0)),  # on the handgun
        PredictedBox("knife", 0.6, (200.0, 10.0, 300.0, 30.0)),  # on half the umbrella
        PredictedBox("knife", 0.5, (395.0, 10.0, 420.0, 30.0)),  # touches it: IoU 0.023
        PredictedBox("knife", 0.4, (600.0, 600.0, 640.0, 610.0)),  # on nothing
        PredictedBox("knife", 0.3, (200.0, 10.0, 400.0, 30.0), operating=False),
        PredictedBox("knife", 0.9, IGNORED_KNIFE),  # on an ignored box: no false alarm
        PredictedBox("handgun", 0.95, GUN),
    ]
    named = [NamedBox("Knife", KNIFE), NamedBox("Gun", GUN), NamedBox("Knife", IGNORED_KNIFE),
             NamedBox("umbrella", UMBRELLA)]
    return ImageRecord(truth, detections), named


def test_each_false_alarm_is_put_down_to_the_object_it_overlaps_most() -> None:
    record, named = _one_bag()
    sources = false_alarm_sources([record], [named], ["handgun", "knife"])
    assert sources["knife"] == {"Knife": 1, "Gun": 1, "umbrella": 1, NOTHING: 2}
    assert sources["handgun"] == {}


def test_an_alarm_just_short_of_the_least_overlap_lies_on_nothing() -> None:
    # IoU with the umbrella (200 x 20) of a box 200 x 20 overlapping it by a width w:
    # w / (400 - w); MIN_OVERLAP_IOU is reached at w = 400 t / (1 + t)
    edge = 400 * MIN_OVERLAP_IOU / (1 + MIN_OVERLAP_IOU)
    named = [NamedBox("umbrella", UMBRELLA)]
    for width, expected in ((edge + 0.5, "umbrella"), (edge - 0.5, NOTHING)):
        alarm = PredictedBox("knife", 0.9, (400.0 - width, 10.0, 600.0 - width, 30.0))
        sources = false_alarm_sources([ImageRecord((), [alarm])], [named], ["knife"])
        assert sources["knife"] == {expected: 1}


def test_the_sources_add_up_to_the_operating_false_alarms() -> None:
    """Random images with ignored and crowd boxes, detections below the threshold and
    more detections than the per-image cap: each label's alarms here are exactly the
    operating point's false positives."""
    rng = np.random.default_rng(11)
    labels = ["a", "b", "c"]

    def box() -> tuple[float, float, float, float]:
        x, y = rng.uniform(0, 200, 2)
        w, h = rng.uniform(5, 60, 2)
        return (float(x), float(y), float(x + w), float(y + h))

    records, named = [], []
    for _ in range(60):
        truth = [GroundTruthBox(str(rng.choice(labels)), box(), ignore=bool(rng.random() < 0.1),
                                crowd=bool(rng.random() < 0.05))
                 for _ in range(int(rng.integers(0, 5)))]
        detections = []
        for _ in range(int(rng.integers(0, 12))):
            if truth and rng.random() < 0.5:  # near a ground-truth box
                x0, y0, x1, y1 = truth[int(rng.integers(len(truth)))].box
                jitter = rng.normal(0, 4, 4)
                where = (x0 + jitter[0], y0 + jitter[1], x1 + jitter[2], y1 + jitter[3])
            else:
                where = box()
            detections.append(PredictedBox(str(rng.choice(labels)), float(rng.random()),
                                           tuple(float(v) for v in where),
                                           operating=bool(rng.random() < 0.7)))
        records.append(ImageRecord(truth, detections))
        named.append([NamedBox(g.label, g.box) for g in truth] +
                     [NamedBox("context", box()) for _ in range(2)])
    for cap in (100, 3):
        summary = evaluate(records, labels, max_detections=cap)
        sources = false_alarm_sources(records, named, labels, max_detections=cap)
        counted = {label: sum(sources[label].values()) for label in labels}
        assert counted == {m.label: m.operating.false_positives for m in summary.labels}
    assert sum(counted.values()) > 50


def test_named_objects_must_come_for_every_image() -> None:
    record, named = _one_bag()
    with pytest.raises(ValueError, match="2 images but named objects for 1"):
        false_alarm_sources([record, record], [named], ["knife"])
