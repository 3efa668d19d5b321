"""View fusion: belt intervals, one-to-one partners, the rescoring rule, and the runtime
rescoring a scan's views before the thresholds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx_builders import manifest_document, sha256_of, v8_tensor, write_manifest, write_model

from screener.detect import Detector
from screener.detect.manifest import ViewFusionPlan
from screener.detect.postprocess import Decoded
from screener.detect.runtime import Detection
from screener.detect.view_fusion import belt_intervals, fuse_views, interval_iou, partners
from screener.scan.belt import belt_mm, share_belt, x_at_belt_mm
from screener.scan.model import BeltDirection, View

Row = tuple[float, float, float, float, float, int]  # x0, y0, x1, y1, score, class
PLAN = ViewFusionPlan(belt_overlap=0.7, partner_weight=0.75, alone_factor=0.5)


def decoded(*rows: Row) -> Decoded:
    array = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    return Decoded(array[:, :4], array[:, 4], array[:, 5].astype(np.int64))


def view(name: str, rows: int = 128, columns: int = 256, pitch: float = 2.0,
         belt: BeltDirection = BeltDirection.LEFT_TO_RIGHT) -> View:
    return View(name, np.ones((rows, columns), np.float32), None, 1.0, (1.5, pitch), belt)


def scores_of(found: Decoded) -> list[tuple[float, int]]:
    return [(round(float(s), 6), int(c)) for s, c in zip(found.scores, found.class_ids,
                                                         strict=True)]


# ------------------------------------------------------------------ the belt axis


@pytest.mark.parametrize("belt", list(BeltDirection))
def test_belt_position_and_column_are_inverse(belt: BeltDirection) -> None:
    v = view("top", belt=belt)
    for x in (0.0, 10.5, 256.0):
        assert x_at_belt_mm(v, belt_mm(v, x)) == pytest.approx(x)
    assert belt_mm(v, 0.0) == (0.0 if belt is BeltDirection.LEFT_TO_RIGHT else 512.0)


def test_a_box_covers_the_same_belt_in_views_of_either_direction() -> None:
    box = np.array([[16.0, 0.0, 48.0, 20.0]])
    left = belt_intervals(view("top"), box)
    right = belt_intervals(view("side", belt=BeltDirection.RIGHT_TO_LEFT), box)
    assert left.tolist() == [[32.0, 96.0]]
    assert right.tolist() == [[416.0, 480.0]]  # (256 - 48) * 2 to (256 - 16) * 2
    mirrored = np.array([[208.0, 5.0, 240.0, 9.0]])
    assert belt_intervals(view("side", belt=BeltDirection.RIGHT_TO_LEFT),
                          mirrored).tolist() == left.tolist()
    assert belt_intervals(view("top"), np.zeros((0, 4))).shape == (0, 2)


def test_views_share_the_belt_only_when_they_are_as_long() -> None:
    assert share_belt([view("top"), view("side", rows=90)])
    assert share_belt([view("top"), view("side", columns=512, pitch=1.0)])  # same 512 mm
    assert share_belt([view("top"), view("side", columns=252)])  # within 2 %
    assert not share_belt([view("top"), view("side", columns=240)])
    assert not share_belt([])


def test_interval_iou() -> None:
    a = np.array([[0.0, 10.0], [0.0, 0.0]])
    b = np.array([[5.0, 15.0], [20.0, 30.0], [0.0, 10.0]])
    assert interval_iou(a, b).round(6).tolist() == [[0.333333, 0.0, 1.0], [0.0, 0.0, 0.0]]


# ------------------------------------------------------------------ partners and scores


def test_partners_are_one_to_one_strongest_pair_first() -> None:
    a = decoded((0, 0, 100, 9, 0.9, 1), (2, 30, 100, 40, 0.2, 1), (0, 0, 100, 9, 0.8, 0))
    b = decoded((1, 50, 99, 60, 0.1, 1), (0, 70, 100, 80, 0.6, 1))
    belts_a = a.boxes[:, [0, 2]]
    belts_b = b.boxes[:, [0, 2]]
    # 0.9 * 0.6 first; then the 0.2 takes the 0.1; the class-0 detection has no partner
    assert partners(a, belts_a, b, belts_b, 0.7) == [(0, 1), (1, 0)]
    assert partners(a, belts_a, b, belts_b, 0.995) == [(0, 1)]  # 98/100 is too little
    assert partners(a, belts_a, decoded(), np.zeros((0, 2)), 0.7) == []


def test_a_partner_raises_a_score_and_a_lone_detection_loses_half() -> None:
    top = decoded((0, 0, 100, 9, 0.8, 1), (200, 0, 220, 9, 0.6, 2))
    side = decoded((0, 40, 100, 50, 0.05, 1))
    fused = fuse_views([top, side], [t.boxes[:, [0, 2]] for t in (top, side)], PLAN)
    # top: 1 - 0.2 * (1 - 0.75 * 0.05); alone: 0.5 * 0.6. side: 1 - 0.95 * (1 - 0.75 * 0.8)
    assert scores_of(fused[0]) == [(0.8075, 1), (0.3, 2)]
    assert scores_of(fused[1]) == [(0.62, 1)]
    assert fused[1].boxes.tolist() == [[0, 40, 100, 50]]  # boxes stay where they were


def test_the_best_partner_over_several_views_counts_and_results_are_best_first() -> None:
    views = [decoded((0, 0, 50, 9, 0.1, 0), (60, 0, 90, 9, 0.3, 0)),
             decoded((0, 0, 50, 9, 0.2, 0)), decoded((1, 0, 50, 9, 0.9, 0))]
    fused = fuse_views(views, [v.boxes[:, [0, 2]] for v in views],
                       ViewFusionPlan(belt_overlap=0.7, partner_weight=1.0, alone_factor=1.0))
    assert scores_of(fused[0]) == [(0.91, 0), (0.3, 0)]  # 1 - 0.9 * (1 - 0.9); kept as is
    assert fused[0].boxes[0].tolist() == [0, 0, 50, 9]


def test_one_view_is_left_as_it_is() -> None:
    only = decoded((0, 0, 50, 9, 0.1, 0))
    assert fuse_views([only], [only.boxes[:, [0, 2]]], PLAN) == [only]


def test_without_weight_or_penalty_fusion_changes_nothing() -> None:
    rng = np.random.default_rng(3)
    views = []
    for _ in range(2):
        x0 = rng.uniform(0, 200, 30)
        boxes = np.column_stack([x0, rng.uniform(0, 50, 30), x0 + 30, rng.uniform(60, 90, 30)])
        scores = np.sort(rng.uniform(0, 1, 30))[::-1]
        views.append(Decoded(boxes, scores, rng.integers(0, 3, 30).astype(np.int64)))
    neutral = ViewFusionPlan(belt_overlap=0.5, partner_weight=0.0, alone_factor=1.0)
    fused = fuse_views(views, [v.boxes[:, [0, 2]] for v in views], neutral)
    for before, after in zip(views, fused, strict=True):
        assert after.scores.tolist() == pytest.approx(before.scores.tolist())


# ------------------------------------------------------------------ the runtime

# A 128 x 256 image in a 64 x 64 input: scale 1/4, 16 rows of padding above. The model
# answers every view alike: a knife at 0.2 in the middle, a handgun at 0.8 to the left.
IMAGE = np.full((128, 256), 90, dtype=np.uint8)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_model(tmp_path / "threats.onnx",
                       v8_tensor([(32, 32, 32, 16), (8, 20, 8, 8)],
                                 [[0.0, 0.2, 0.0], [0.8, 0.0, 0.0]]), channels=1)


def load(model: Path, fusion: dict[str, float] | None) -> Detector:
    document = manifest_document(sha256=sha256_of(model), score=0.3)
    if fusion is not None:
        document["view_fusion"] = fusion
    return Detector.load(model, write_manifest(model.with_suffix(".json"), document))


def found(by_view: dict[str, list[Detection]]) -> dict[str, list[tuple[str, float]]]:
    return {name: [(d.class_name, round(d.score, 4)) for d in detections]
            for name, detections in by_view.items()}


def test_the_runtime_rescores_views_before_the_thresholds(model: Path) -> None:
    pair = [view("top"), view("side", rows=128)]
    plain = load(model, None)
    assert found(plain.detect_views(pair, [IMAGE, IMAGE])) == {
        "top": [("handgun", 0.8)], "side": [("handgun", 0.8)]}
    fusing = load(model, PLAN.to_json())
    # the knife (0.2, under the 0.3 threshold) is backed by its partner: 1 - 0.8 * 0.85
    assert found(fusing.detect_views(pair, [IMAGE, IMAGE])) == {
        "top": [("handgun", 0.92), ("knife", 0.32)],
        "side": [("handgun", 0.92), ("knife", 0.32)]}
    assert fusing.describe()["view_fusion"] == PLAN.to_json()


def test_a_view_mirrored_on_the_belt_pairs_by_belt_position(model: Path) -> None:
    # In a view whose belt runs right to left the handgun (left of centre on screen) lies
    # at the other end of the belt: it has no partner and loses half; the centred knife
    # is at the same belt position in both views and keeps its partner.
    pair = [view("top"), view("side", belt=BeltDirection.RIGHT_TO_LEFT)]
    assert found(load(model, PLAN.to_json()).detect_views(pair, [IMAGE, IMAGE])) == {
        "top": [("handgun", 0.4), ("knife", 0.32)],
        "side": [("handgun", 0.4), ("knife", 0.32)]}


def test_views_that_do_not_share_a_belt_and_single_views_are_not_fused(model: Path) -> None:
    fusing = load(model, PLAN.to_json())
    unrelated = [view("top"), view("side", columns=256, pitch=3.0)]
    assert found(fusing.detect_views(unrelated, [IMAGE, IMAGE])) == {
        "top": [("handgun", 0.8)], "side": [("handgun", 0.8)]}
    assert found(fusing.detect_views([view("top")], [IMAGE])) == {"top": [("handgun", 0.8)]}
    with pytest.raises(ValueError, match="2 views but 1 images"):
        fusing.detect_views(unrelated, [IMAGE])
