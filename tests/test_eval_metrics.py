"""Detection metrics: hand-computed PR curves, edge cases, a brute-force reference written
from the definitions, and figures pycocotools gave on the same cases."""

from __future__ import annotations

import io
import random
from contextlib import redirect_stdout
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from screener.detect.metrics import (
    IOU_THRESHOLDS,
    RECALL_POINTS,
    SIZE_RANGES,
    GroundTruthBox,
    ImageRecord,
    OperatingPoint,
    PredictedBox,
    evaluate,
    iou_matrix,
    match_image,
)

G = GroundTruthBox


def det(label: str, score: float, box: tuple[float, float, float, float],
        operating: bool = True) -> PredictedBox:
    return PredictedBox(label, score, box, operating)


A = (0.0, 0.0, 10.0, 10.0)
B = (20.0, 0.0, 30.0, 10.0)
C = (40.0, 0.0, 50.0, 10.0)
FAR = (100.0, 100.0, 110.0, 110.0)


def one_label(records: list[ImageRecord], label: str = "knife", **kwargs: Any):
    return evaluate(records, [label], **kwargs).label(label)


# COCO divides by (hits + false alarms + eps): a perfect precision is 1 - 1.1e-16.


# --------------------------------------------------------------------------- constants


def test_coco_thresholds_and_recall_points() -> None:
    assert IOU_THRESHOLDS.size == 10
    np.testing.assert_allclose(IOU_THRESHOLDS, [0.5 + 0.05 * i for i in range(10)])
    assert RECALL_POINTS.size == 101
    assert RECALL_POINTS[0] == 0.0 and RECALL_POINTS[50] == 0.5 and RECALL_POINTS[-1] == 1.0


def test_iou_matrix_plain_crowd_and_touching() -> None:
    det = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 0, 20, 10]], float)
    gt = np.array([[0, 0, 10, 10], [0, 0, 100, 100]], float)
    ious = iou_matrix(det, gt, np.array([False, True]))
    assert ious[0, 0] == 1.0
    assert ious[1, 0] == pytest.approx(50 / 150)
    assert ious[2, 0] == 0.0  # touching edges do not overlap
    assert ious[0, 1] == 1.0  # crowd: intersection over the detection's own area
    assert ious[1, 1] == 1.0
    assert iou_matrix(np.zeros((0, 4)), gt).shape == (0, 2)


# --------------------------------------------------------------------------- hand-computed


def test_known_curve_hit_false_alarm_hit() -> None:
    """2 objects; ranked hit, false alarm, hit. Precision 1, 1/2, 2/3 at recall 1/2, 1/2,
    1; envelope 1, 2/3, 2/3. 51 recall points (0 .. 0.50) get 1, 50 points get 2/3:
    AP = (51 + 50 * 2/3) / 101 = 253 / 303."""
    record = ImageRecord(
        [G("knife", A), G("knife", B)],
        [det("knife", 0.9, A), det("knife", 0.8, FAR), det("knife", 0.7, B)],
    )
    metrics = one_label([record])
    expected = float(Fraction(253, 303))
    assert metrics.ap50 == pytest.approx(expected, abs=1e-12)
    assert metrics.ap50_95 == pytest.approx(expected, abs=1e-12)  # exact boxes: every IoU
    np.testing.assert_allclose(metrics.curve_recall, [0.5, 0.5, 1.0])
    np.testing.assert_allclose(metrics.curve_precision, [1.0, 0.5, 2 / 3])
    np.testing.assert_allclose(metrics.interpolated[:51], 1.0)
    np.testing.assert_allclose(metrics.interpolated[51:], 2 / 3)


def test_false_alarm_first_then_hit() -> None:
    """Precision 0 then 1/2 at recall 0 then 1: the envelope is 1/2 everywhere."""
    record = ImageRecord([G("knife", A)], [det("knife", 0.9, FAR), det("knife", 0.5, A)])
    assert one_label([record]).ap50 == pytest.approx(0.5, abs=1e-12)


def test_half_the_objects_found_perfectly() -> None:
    """Recall stops at 1/2: recall points 0 .. 0.50 get 1, the rest 0: AP = 51/101."""
    record = ImageRecord([G("knife", A), G("knife", B)], [det("knife", 0.9, A)])
    metrics = one_label([record])
    assert metrics.ap50 == pytest.approx(51 / 101, abs=1e-12)
    assert metrics.recall[0] == 0.5


def test_ap_across_iou_thresholds() -> None:
    """A box with IoU 0.72 hits at 0.50 .. 0.70 (5 thresholds) and misses above."""
    record = ImageRecord([G("knife", A)], [det("knife", 0.9, (0.0, 0.0, 10.0, 7.2))])
    metrics = one_label([record])
    assert metrics.ap is not None
    np.testing.assert_allclose(metrics.ap, [1.0] * 5 + [0.0] * 5, atol=1e-12)
    assert metrics.ap50 == pytest.approx(1.0)
    assert metrics.ap50_95 == pytest.approx(0.5)
    assert metrics.ap_at(0.75) == 0.0


def test_perfect_detector_and_means() -> None:
    records = [
        ImageRecord([G("knife", A), G("handgun", B)],
                    [det("knife", 0.8, A), det("handgun", 0.6, B)]),
        ImageRecord([G("knife", C)], [det("knife", 0.3, C)]),
    ]
    summary = evaluate(records, ["handgun", "knife"])
    assert summary.map50 == pytest.approx(1.0) and summary.map50_95 == pytest.approx(1.0)
    assert [m.label for m in summary.labels] == ["handgun", "knife"]


def test_ranking_across_images() -> None:
    """Detections of all images are ranked together: image 2's hit (0.95) comes before
    image 1's false alarm (0.9) and hit (0.5)."""
    records = [
        ImageRecord([G("knife", A)], [det("knife", 0.9, FAR), det("knife", 0.5, A)]),
        ImageRecord([G("knife", B)], [det("knife", 0.95, B)]),
    ]
    # ranked: hit, false alarm, hit -> the 253/303 curve
    assert one_label(records).ap50 == pytest.approx(253 / 303, abs=1e-12)


# --------------------------------------------------------------------------- edge cases


def test_no_detections_gives_zero_and_counts_in_the_mean() -> None:
    records = [ImageRecord([G("knife", A), G("handgun", B)], [det("handgun", 0.9, B)])]
    summary = evaluate(records, ["handgun", "knife"])
    knife = summary.label("knife")
    assert knife.ap50 == 0.0 and knife.detections == 0
    assert knife.operating.recall == 0.0 and knife.operating.precision is None
    assert summary.map50 == pytest.approx(0.5)


def test_no_ground_truth_gives_no_ap_and_stays_out_of_the_mean() -> None:
    records = [ImageRecord([G("knife", A)], [det("knife", 0.9, A), det("handgun", 0.8, B)])]
    summary = evaluate(records, ["handgun", "knife"])
    handgun = summary.label("handgun")
    assert handgun.ap is None and handgun.ap50 is None and handgun.ap50_95 is None
    assert handgun.operating == OperatingPoint(1, 0, 1, 0)
    assert handgun.operating.precision == 0.0 and handgun.operating.recall is None
    assert summary.map50 == pytest.approx(1.0)
    assert [m.label for m in summary.scored] == ["knife"]


def test_nothing_at_all() -> None:
    summary = evaluate([ImageRecord()], ["knife"])
    assert summary.label("knife").ap is None
    assert summary.map50 is None and summary.map50_95 is None
    assert summary.operating.precision is None and summary.operating.recall is None


def test_duplicate_detections_are_false_alarms() -> None:
    record = ImageRecord([G("knife", A)], [det("knife", 0.9, A), det("knife", 0.8, A),
                                          det("knife", 0.7, (0.0, 0.0, 10.0, 9.0))])
    metrics = one_label([record])
    assert metrics.ap50 == pytest.approx(1.0)  # the duplicates rank below the hit
    assert metrics.operating == OperatingPoint(3, 1, 2, 0)
    assert metrics.operating.precision == pytest.approx(1 / 3)


def test_other_labels_never_match() -> None:
    record = ImageRecord([G("knife", A)], [det("handgun", 0.9, A)])
    summary = evaluate([record], ["knife", "handgun"])
    assert summary.label("knife").ap50 == 0.0
    assert summary.label("handgun").operating.false_positives == 1


def test_overlapping_crowd_of_objects_takes_best_free_match() -> None:
    """Three overlapping objects. The best detection takes the object it overlaps most;
    the next, whose best object is taken, falls back to its next best above the threshold."""
    objects = [G("knife", (0.0, 0.0, 10.0, 10.0)), G("knife", (2.0, 0.0, 12.0, 10.0)),
               G("knife", (4.0, 0.0, 14.0, 10.0))]
    dets = [det("knife", 0.9, (2.0, 0.0, 12.0, 10.0)),   # = object 2
            det("knife", 0.8, (1.5, 0.0, 11.5, 10.0)),   # best is object 2 (taken) -> object 1
            det("knife", 0.7, (3.0, 0.0, 13.0, 10.0))]   # object 2 taken, 3 (0.82) over 1 (0.54)
    match = match_image(np.array([d.box for d in dets]), np.array([d.score for d in dets]),
                        np.array([o.box for o in objects]), iou_thresholds=np.array([0.5]))
    assert match.matched[0].tolist() == [True, True, True]
    assert one_label([ImageRecord(objects, dets)]).ap50 == pytest.approx(1.0)
    # at IoU 0.85 only the exact box hits
    strict = match_image(np.array([d.box for d in dets]), np.array([d.score for d in dets]),
                         np.array([o.box for o in objects]), iou_thresholds=np.array([0.85]))
    assert strict.matched[0].tolist() == [True, False, False]


def test_ignored_object_is_neither_hit_nor_miss() -> None:
    """A difficult (ignored) object: a detection on it is not a false alarm, and missing
    it is not a miss."""
    record = ImageRecord([G("knife", A), G("knife", B, ignore=True)],
                         [det("knife", 0.9, B), det("knife", 0.8, A)])
    metrics = one_label([record])
    assert metrics.gt_count == 1 and metrics.gt_ignored == 1
    assert metrics.ap50 == pytest.approx(1.0)
    assert metrics.operating == OperatingPoint(2, 1, 0, 0)
    missed = one_label([ImageRecord([G("knife", A), G("knife", B, ignore=True)],
                                    [det("knife", 0.9, A)])])
    assert missed.ap50 == pytest.approx(1.0)


def test_crowd_region_absorbs_every_detection_inside() -> None:
    crowd = G("knife", (0.0, 0.0, 100.0, 100.0), ignore=True, crowd=True)
    inside = [det("knife", 0.9 - 0.1 * i, (10.0 * i, 50.0, 10.0 * i + 5, 55.0)) for i in range(5)]
    record = ImageRecord([crowd, G("knife", (200.0, 200.0, 210.0, 210.0))],
                         [*inside, det("knife", 0.1, (200.0, 200.0, 210.0, 210.0))])
    metrics = one_label([record])
    assert metrics.ap50 == pytest.approx(1.0)  # five ignored detections, then the hit
    assert metrics.operating.false_positives == 0
    # a plain object is preferred to an ignored one even at a lower IoU
    preferred = match_image(np.array([[0.0, 0.0, 10.0, 10.0]]), np.array([0.9]),
                            np.array([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 7.0]]),
                            gt_ignore=np.array([True, False]), iou_thresholds=np.array([0.5]))
    assert preferred.matched[0, 0] and not preferred.ignored[0, 0]


def test_at_most_max_detections_per_image_and_label() -> None:
    dets = [det("knife", 1.0 - i / 1000, FAR) for i in range(100)] + [det("knife", 0.001, A)]
    record = ImageRecord([G("knife", A)], dets)
    assert one_label([record]).ap50 == 0.0  # the hit is the 101st
    # without the cap: precision 1/101 at the only hit, the envelope everywhere
    assert one_label([record], max_detections=None).ap50 == pytest.approx(1 / 101, abs=1e-12)
    assert one_label([record], max_detections=None).recall[0] == 1.0


def test_operating_point_counts_only_detections_over_the_threshold() -> None:
    record = ImageRecord([G("knife", A), G("knife", B)],
                         [det("knife", 0.9, A, True), det("knife", 0.4, FAR, True),
                          det("knife", 0.2, B, False)])
    metrics = one_label([record])
    assert metrics.operating == OperatingPoint(2, 1, 1, 1)
    assert metrics.operating.precision == 0.5 and metrics.operating.recall == 0.5
    assert metrics.recall[0] == 1.0  # the floor detections still extend the curve


# --------------------------------------------------------------------------- references


def brute_force_ap(records: list[ImageRecord], label: str, threshold: float) -> float | None:
    """AP from the definitions: rank every detection (score, then image, then position);
    match each to the free object of highest IoU >= threshold; AP = mean over the 101
    recall points r of the best precision at any cut-off reaching recall >= r."""
    ranked = []
    total = 0
    for i, record in enumerate(records):
        objects = [g.box for g in record.ground_truth if g.label == label]
        total += len(objects)
        for j, d in enumerate([d for d in record.detections if d.label == label]):
            ranked.append((-d.score, i, j, d.box))
    if total == 0:
        return None
    free = {i: [g.box for g in r.ground_truth if g.label == label] for i, r in enumerate(records)}
    taken: dict[int, set[int]] = {i: set() for i in free}
    hits = []
    for _, i, _, box in sorted(ranked, key=lambda item: item[:3]):
        best, best_iou = None, threshold
        for k, obj in enumerate(free[i]):
            if k in taken[i]:
                continue
            x0, y0 = max(box[0], obj[0]), max(box[1], obj[1])
            x1, y1 = min(box[2], obj[2]), min(box[3], obj[3])
            inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
            union = ((box[2] - box[0]) * (box[3] - box[1])
                     + (obj[2] - obj[0]) * (obj[3] - obj[1]) - inter)
            iou = inter / union
            if iou >= best_iou and (best is None or iou > best_iou):
                best, best_iou = k, iou
        if best is not None:
            taken[i].add(best)
        hits.append(best is not None)
    points = []
    found = 0
    for n, hit in enumerate(hits, start=1):
        found += hit
        points.append((found / total, found / n))
    total_precision = 0.0
    for r in np.linspace(0.0, 1.0, 101):
        reaching = [p for rc, p in points if rc >= r]
        total_precision += max(reaching) if reaching else 0.0
    return total_precision / 101


def random_case(seed: int, crowd: bool = False) -> list[ImageRecord]:
    """Random overlapping objects and detections, made only with ``random.random()``
    (its sequence is fixed across Python versions), scores on a coarse grid for ties."""
    rnd = random.Random(seed)
    labels = ("a", "b", "c")
    records = []
    for _ in range(2 + int(rnd.random() * 20)):
        truth, dets = [], []
        for _ in range(int(rnd.random() * 6)):
            label = labels[int(rnd.random() * 3)]
            x, y = rnd.random() * 150, rnd.random() * 150
            w, h = 5 + rnd.random() * 55, 5 + rnd.random() * 55
            is_crowd = crowd and rnd.random() < 0.1
            truth.append(G(label, (x, y, x + w, y + h), ignore=is_crowd, crowd=is_crowd))
            for _ in range(int(rnd.random() * 4)):
                dx, dy = (rnd.random() - 0.5) * 16, (rnd.random() - 0.5) * 16
                dw, dh = (rnd.random() - 0.5) * 16, (rnd.random() - 0.5) * 16
                name = label if rnd.random() < 0.8 else labels[int(rnd.random() * 3)]
                score = round(rnd.random(), 1)
                dets.append(det(name, score, (x + dx, y + dy, x + dx + max(w + dw, 1.0),
                                              y + dy + max(h + dh, 1.0))))
        for _ in range(int(rnd.random() * 4)):
            x, y = rnd.random() * 150, rnd.random() * 150
            w, h = 5 + rnd.random() * 55, 5 + rnd.random() * 55
            dets.append(det(labels[int(rnd.random() * 3)], round(rnd.random(), 2),
                            (x, y, x + w, y + h)))
        records.append(ImageRecord(truth, dets))
    return records


@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force_reference(seed: int) -> None:
    records = random_case(seed)
    summary = evaluate(records, ["a", "b", "c"])
    for metrics in summary.labels:
        for t_index, threshold in enumerate(IOU_THRESHOLDS):
            reference = brute_force_ap(records, metrics.label, float(threshold))
            if reference is None:
                assert metrics.ap is None
            else:
                assert metrics.ap is not None
                assert metrics.ap[t_index] == pytest.approx(reference, abs=1e-12)


#: pycocotools 2.0.11 (COCOeval, iouType "bbox", all areas, maxDets 100) on
#: random_case(seed, crowd=True) written as COCO JSON (x, y, w, h; iscrowd; area w * h):
#: seed -> (stats[0] mAP@0.5:0.95, stats[1] mAP@0.5).
PYCOCOTOOLS_FIGURES: dict[int, tuple[float, float]] = {
    201: (0.14535203520352033, 0.29207920792079206),  # 3 images, 5 objects, 16 detections
    202: (0.07368527443134314, 0.21816365066801874),  # 17 images, 37 objects (6 crowd), 84
    203: (0.1004092671171879, 0.2116925978312117),  # 3 images, 12 objects (1 crowd), 25
    204: (0.0979053482271304, 0.3322924600152323),  # 9 images, 17 objects (1 crowd), 47
    206: (0.7999999999999999, 0.9999999999999999),  # 2 images, 2 objects (1 crowd), 3
    207: (0.06530216492477936, 0.19789109345717182),  # 12 images, 37 objects (2 crowd), 87
    209: (0.017296564821317296, 0.06037938958731037),  # 13 images, 29 objects (2 crowd), 57
    211: (0.07461232479351174, 0.20530281077948417),  # 13 images, 35 objects (4 crowd), 73
}


@pytest.mark.parametrize("seed", sorted(PYCOCOTOOLS_FIGURES))
def test_matches_pycocotools_figures(seed: int) -> None:
    summary = evaluate(random_case(seed, crowd=True), ["a", "b", "c"])
    expected_map, expected_map50 = PYCOCOTOOLS_FIGURES[seed]
    assert summary.map50_95 == pytest.approx(expected_map, abs=1e-12)
    assert summary.map50 == pytest.approx(expected_map50, abs=1e-12)


def scaled(records: list[ImageRecord], factor: float) -> list[ImageRecord]:
    """The same case with every box scaled, so that some objects are large (over 96^2)."""
    def grow(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        return (box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor)

    return [ImageRecord([G(g.label, grow(g.box), g.ignore, g.crowd) for g in r.ground_truth],
                        [det(d.label, d.score, grow(d.box), d.operating) for d in r.detections])
            for r in records]


#: pycocotools 2.0.11 stats[3:6] (mAP@0.5:0.95 of small, medium and large objects; None
#: for its -1, no such objects) on scaled(random_case(seed, crowd=True), 2.0).
PYCOCOTOOLS_SIZE_FIGURES: dict[int, tuple[float | None, float | None, float | None]] = {
    201: (None, 0.12623762376237624, 0.35),
    202: (0.06311881188118812, 0.06507770473346908, 0.211980198019802),
    203: (0.0, 0.20488448844884485, 0.425),
    205: (0.019306930693069307, 0.057423143413242415, 0.38333333333333325),
    209: (0.0, 0.024030932505015208, None),
    211: (0.0, 0.09407718278093474, 0.10891089108910891),
}


@pytest.mark.parametrize("seed", sorted(PYCOCOTOOLS_SIZE_FIGURES))
def test_matches_pycocotools_figures_by_object_size(seed: int) -> None:
    records = scaled(random_case(seed, crowd=True), 2.0)
    for size, expected in zip(SIZE_RANGES, PYCOCOTOOLS_SIZE_FIGURES[seed], strict=True):
        figure = evaluate(records, ["a", "b", "c"], area_range=SIZE_RANGES[size]).map50_95
        if expected is None:
            assert figure is None, size
        else:
            assert figure == pytest.approx(expected, abs=1e-12), size


def test_object_size_ignores_other_sizes_on_both_sides() -> None:
    small, large = (0.0, 0.0, 20.0, 20.0), (100.0, 100.0, 300.0, 300.0)
    stray_small = (500.0, 500.0, 510.0, 510.0)
    records = [ImageRecord([G("knife", small), G("knife", large)],
                           [det("knife", 0.9, large), det("knife", 0.8, stray_small)])]
    by_size = {name: one_label(records, area_range=rng) for name, rng in SIZE_RANGES.items()}
    # the small knife is missed and the stray small detection is a false alarm among small
    # objects; among large ones it is ignored, so the large knife is found at precision 1
    assert by_size["small"].gt_count == 1 and by_size["small"].ap50 == 0.0
    assert by_size["large"].gt_count == 1 and by_size["large"].ap50 == pytest.approx(1.0)
    assert by_size["large"].operating.false_positives == 0
    assert by_size["medium"].ap50 is None  # no medium knife
    assert [by_size[n].recall_at(0.5) for n in ("small", "medium", "large")] == [0.0, None, 1.0]
    assert one_label(records).ap50 == pytest.approx(51 / 101)  # recall 0 to 0.5 at 1


def test_object_size_bounds_are_inclusive_as_in_cocoeval() -> None:
    """A box of exactly 32^2 or 96^2 pixels counts in both neighbouring sizes."""
    at_32, at_96 = (0.0, 0.0, 32.0, 32.0), (100.0, 100.0, 196.0, 196.0)
    records = [ImageRecord([G("knife", at_32), G("knife", at_96)],
                           [det("knife", 0.9, at_32), det("knife", 0.8, at_96)])]
    counts = {name: one_label(records, area_range=rng).gt_count
              for name, rng in SIZE_RANGES.items()}
    assert counts == {"small": 1, "medium": 2, "large": 1}
    for rng in SIZE_RANGES.values():
        assert one_label(records, area_range=rng).ap50 == pytest.approx(1.0)


def to_coco(records: list[ImageRecord]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    labels = ["a", "b", "c"]
    images, annotations, results = [], [], []
    for i, record in enumerate(records, start=1):
        images.append({"id": i, "file_name": f"{i}.png", "width": 300, "height": 300})
        for g in record.ground_truth:
            w, h = g.box[2] - g.box[0], g.box[3] - g.box[1]
            annotations.append({"id": len(annotations) + 1, "image_id": i,
                                "category_id": labels.index(g.label) + 1,
                                "bbox": [g.box[0], g.box[1], w, h], "area": w * h,
                                "iscrowd": int(g.crowd)})
        for d in record.detections:
            results.append({"image_id": i, "category_id": labels.index(d.label) + 1,
                            "bbox": [d.box[0], d.box[1], d.box[2] - d.box[0],
                                     d.box[3] - d.box[1]], "score": d.score})
    categories = [{"id": k + 1, "name": n} for k, n in enumerate(labels)]
    return {"images": images, "annotations": annotations, "categories": categories}, results


def test_matches_pycocotools_when_installed() -> None:
    """Per class and IoU threshold, against pycocotools itself on 20 random sets (skipped
    without it)."""
    pytest.importorskip("pycocotools", reason="pycocotools is not installed (optional check)")
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    compared = 0
    for seed in range(100, 120):
        records = scaled(random_case(seed, crowd=True), 2.0)
        document, results = to_coco(records)
        if not results:
            continue
        with redirect_stdout(io.StringIO()):
            truth = COCO()
            truth.dataset = document
            truth.createIndex()
            run = COCOeval(truth, truth.loadRes(results), "bbox")
            run.evaluate()
            run.accumulate()
        # COCO's area ranges all, small, medium, large; maxDets 100
        for area, size_range in enumerate([None, *SIZE_RANGES.values()]):
            precision = run.eval["precision"][:, :, :, area, 2]  # T, R, K
            summary = (evaluate(records, ["a", "b", "c"]) if size_range is None
                       else evaluate(records, ["a", "b", "c"], area_range=size_range))
            for k, metrics in enumerate(summary.labels):
                if (precision[:, :, k] == -1).all():
                    assert metrics.ap is None
                else:
                    np.testing.assert_allclose(metrics.ap, precision[:, :, k].mean(axis=1),
                                               atol=1e-12, err_msg=f"seed {seed}, {area}")
                    compared += 1
    assert compared > 80


def test_operating_points_add_up() -> None:
    total = OperatingPoint(3, 2, 1, 4) + OperatingPoint(1, 1, 0, 0)
    assert total == OperatingPoint(4, 3, 1, 4)
    assert [round(v, 3) for v in (total.precision or 0, total.recall or 0)] == [0.75, 0.429]
