"""Training's held-out evaluation fuses a bag's views as the runtime does
(training/evaluate.py, ``fuse_bag_views``)."""

from __future__ import annotations

import numpy as np
import pytest

from screener.detect.manifest import SINGLE_PASS, ViewFusionPlan
from training.data import CLASSES, INPUT_SIZE
from training.evaluate import SCORE_FLOOR, ViewResult, floor_manifest, fuse_bag_views

KNIFE = CLASSES.index("knife")


def result(bag: int, view: str, *rows: tuple[float, float, float, float, float]) -> ViewResult:
    array = np.asarray(rows, dtype=np.float64).reshape(-1, 5)
    return ViewResult(bag, view, array[:, :4], array[:, 4], np.full(len(array), KNIFE),
                      np.zeros((0, 4)), np.zeros(0, np.int64), np.zeros(0, np.int64))


def test_a_bag_s_views_back_each_other_up_and_bags_stay_apart() -> None:
    plan = ViewFusionPlan(belt_overlap=0.7, partner_weight=1.0, alone_factor=0.5)
    manifest = floor_manifest(CLASSES, INPUT_SIZE, "pseudo-colour", SINGLE_PASS, plan)
    results = [
        result(0, "top", (100, 10, 200, 40, 0.8)),
        result(0, "side", (102, 50, 200, 60, 0.005), (400, 0, 420, 9, 0.015)),
        result(1, "top", (400, 0, 420, 9, 0.9)),  # another bag: no partner for bag 0
        result(1, "side"),
    ]
    fused = fuse_bag_views(results, manifest)
    assert [(r.bag, r.view) for r in fused] == [(r.bag, r.view) for r in results]
    # top: 1 - 0.2 * 0.995; side: 1 - 0.995 * 0.2, and its lone 0.015 halves to 0.0075,
    # under the evaluation floor; bag 1's top is alone
    assert fused[0].scores.tolist() == pytest.approx([0.801])
    assert fused[1].scores.tolist() == pytest.approx([0.801])
    assert fused[1].boxes.tolist() == [[102, 50, 200, 60]]
    assert SCORE_FLOOR > 0.0075
    assert fused[2].scores.tolist() == pytest.approx([0.45])
    assert len(fused[3].scores) == 0


def test_without_a_plan_the_results_are_kept() -> None:
    manifest = floor_manifest(CLASSES, INPUT_SIZE, "pseudo-colour")
    results = [result(0, "top", (0, 0, 10, 10, 0.5))]
    assert fuse_bag_views(results, manifest) == results


def test_the_shipped_plan_is_what_training_evaluates_with() -> None:
    pytest.importorskip("torch", reason="training/export.py needs the train extra")
    from training.export import TEST_TIME, VIEW_FUSION

    manifest = floor_manifest(CLASSES, INPUT_SIZE, "pseudo-colour", TEST_TIME, VIEW_FUSION)
    assert manifest.view_fusion == VIEW_FUSION
    assert manifest.test_time == TEST_TIME
