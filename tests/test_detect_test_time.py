"""Test-time flips: a mirrored pass is undone to the pixel, weighted box fusion, the seed
floor, threshold-independent fused scores, and the runtime running a manifest's passes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from onnx_builders import manifest_document, sha256_of, v8_tensor, write_manifest, write_model

from screener.detect import Detector
from screener.detect.manifest import Flip, ModelManifest, parse_manifest
from screener.detect.postprocess import Decoded, mirror_centres
from screener.detect.preprocess import plan_letterbox
from screener.detect.test_time import detect_passes, flip_tensor, fuse_passes

Row = tuple[float, float, float, float, float, int]  # x0, y0, x1, y1, score, class


def decoded(*rows: Row) -> Decoded:
    array = np.asarray(rows, dtype=np.float64).reshape(-1, 6)
    return Decoded(array[:, :4], array[:, 4], array[:, 5].astype(np.int64))


def rows_of(found: Decoded) -> list[tuple[float, ...]]:
    return [(*np.round(b, 6).tolist(), round(float(s), 6), int(c))
            for b, s, c in zip(found.boxes, found.scores, found.class_ids, strict=True)]


@pytest.mark.parametrize(("flip", "mirror", "centre"), [
    (Flip.HORIZONTAL, (True, False), (90.0, 20.0)),
    (Flip.VERTICAL, (False, True), (10.0, 44.0)),
    (Flip.BOTH, (True, True), (90.0, 44.0)),
])
def test_each_flip_is_undone_on_the_centres(flip: Flip, mirror: tuple[bool, bool],
                                            centre: tuple[float, float]) -> None:
    assert (flip.mirrors_x, flip.mirrors_y) == mirror
    centres = np.array([[10.0, 20.0, 4.0, 6.0]])
    back = mirror_centres(centres, (64, 100), mirror)
    assert back.tolist() == [[*centre, 4.0, 6.0]]
    assert centres.tolist() == [[10.0, 20.0, 4.0, 6.0]]  # the caller's array is kept


@pytest.mark.parametrize("flip", list(Flip))
def test_a_pixel_found_in_a_flipped_tensor_maps_back_to_where_it_was(flip: Flip) -> None:
    tensor = np.zeros((1, 2, 8, 10), dtype=np.float32)
    tensor[0, :, 2, 3] = 1.0  # the pixel whose centre is x 3.5, y 2.5
    flipped = flip_tensor(tensor, flip)
    assert flipped.flags["C_CONTIGUOUS"] and flipped.sum() == 2.0
    row, column = (int(v[0]) for v in np.nonzero(flipped[0, 0]))
    found = np.array([[column + 0.5, row + 0.5, 1.0, 1.0]])
    back = mirror_centres(found, (8, 10), (flip.mirrors_x, flip.mirrors_y))
    assert back[0, :2].tolist() == [3.5, 2.5]
    assert flip_tensor(tensor, None) is tensor


def test_passes_that_agree_keep_the_box_and_score() -> None:
    same = decoded((10, 10, 50, 30, 0.8, 1))
    assert rows_of(fuse_passes([same, same], 0.55)) == [(10, 10, 50, 30, 0.8, 1)]


def test_a_detection_one_pass_missed_counts_half() -> None:
    fused = fuse_passes([decoded((10, 10, 50, 30, 0.8, 1)), decoded()], 0.55)
    assert rows_of(fused) == [(10, 10, 50, 30, 0.4, 1)]


def test_the_fused_box_is_the_score_weighted_mean() -> None:
    fused = fuse_passes([decoded((10, 10, 50, 30, 0.9, 0)),
                         decoded((14, 10, 54, 30, 0.3, 0))], 0.55)
    # x0 = (0.9 * 10 + 0.3 * 14) / 1.2 = 11; score (0.9 + 0.3) / 2
    assert rows_of(fused) == [(11, 10, 51, 30, 0.6, 0)]


def test_boxes_of_other_classes_or_too_little_overlap_stay_apart() -> None:
    fused = fuse_passes([decoded((10, 10, 50, 30, 0.9, 0), (100, 0, 120, 20, 0.6, 0)),
                         decoded((10, 10, 50, 30, 0.7, 1), (108, 0, 128, 20, 0.4, 0))], 0.55)
    # (100..120) and (108..128) overlap at IoU 12/28 < 0.55
    assert rows_of(fused) == [(10, 10, 50, 30, 0.45, 0), (10, 10, 50, 30, 0.35, 1),
                              (100, 0, 120, 20, 0.3, 0), (108, 0, 128, 20, 0.2, 0)]


def test_a_group_takes_at_most_one_detection_from_each_pass() -> None:
    fused = fuse_passes([decoded((10, 10, 50, 30, 0.9, 0), (11, 10, 51, 30, 0.5, 0)),
                         decoded((10, 10, 50, 30, 0.7, 0))], 0.55)
    assert [round(float(s), 6) for s in fused.scores] == [0.8, 0.25]


def random_passes(rng: np.random.Generator, passes: int, count: int) -> list[Decoded]:
    out = []
    for _ in range(passes):
        corner = rng.uniform(0, 80, (count, 2))
        size = rng.uniform(5, 30, (count, 2))
        scores = np.sort(rng.uniform(0, 1, count))[::-1]
        out.append(Decoded(np.hstack([corner, corner + size]), scores.copy(),
                           rng.integers(0, 3, count).astype(np.int64)))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_a_seed_floor_keeps_exactly_the_groups_that_can_reach_it(seed: int) -> None:
    rng = np.random.default_rng(seed)
    passes = random_passes(rng, 3, 40)
    floor = np.array([0.2, 0.5, 0.35])
    everything = rows_of(fuse_passes(passes, 0.3))
    floored = rows_of(fuse_passes(passes, 0.3, floor))
    reaching = [row for row in everything if row[4] >= floor[int(row[5])]]
    assert [row for row in floored if row[4] >= floor[int(row[5])]] == reaching
    assert set(floored) <= set(everything)
    assert len(floored) < len(everything)


def fake_model(rng: np.random.Generator, candidates: int
               ) -> tuple[NDArray[np.float32], dict[bytes, NDArray[np.float32]]]:
    """An input tensor and a model that answers it and its mirror image differently."""
    tensor = rng.random((1, 1, 64, 64), dtype=np.float32)
    answers = {}
    for flip in (None, Flip.HORIZONTAL):
        centres = np.hstack([rng.uniform(8, 56, (candidates, 2)),
                             rng.uniform(4, 16, (candidates, 2))])
        answers[flip_tensor(tensor, flip).tobytes()] = v8_tensor(
            centres.tolist(), rng.uniform(0, 1, (candidates, 3)).tolist())
    return tensor, answers


@pytest.mark.parametrize("seed", range(3))
def test_thresholds_raised_after_a_low_floor_run_give_what_running_at_them_gives(
        seed: int) -> None:
    tensor, answers = fake_model(np.random.default_rng(seed), 200)

    def run(model_input: NDArray[np.float32]) -> NDArray[np.float32]:
        return answers[np.ascontiguousarray(model_input).tobytes()]

    def manifest(**thresholds: object) -> ModelManifest:
        document = manifest_document(sha256="ab" * 32, nms_iou=0.45, max_detections=1000,
                                     **thresholds)
        document["test_time"] = {"flips": ["horizontal"]}
        return parse_manifest(document, "test")

    plan = plan_letterbox((64, 64), (64, 64))
    low = detect_passes(run, tensor, manifest(score=0.01), plan)
    limits = {"handgun": 0.3, "knife": 0.45, "laptop": 0.2}
    high = detect_passes(run, tensor, manifest(score=0.2, per_class=limits), plan)
    names = ("handgun", "knife", "laptop")
    expected = [row for row in rows_of(low) if row[4] >= limits[names[int(row[5])]]]
    assert rows_of(high) == expected and len(expected) > 3


# A 128 x 256 image in a 64 x 64 input: scale 1/4, 16 rows of padding above.
IMAGE = np.full((128, 256), 90, dtype=np.uint8)


def test_the_runtime_runs_every_pass_the_manifest_asks_for(tmp_path: Path) -> None:
    # The model answers every input with the same two candidates, so the mirrored pass
    # sees the off-centre one on the other side: it is found once on each side (half
    # score), while the centred one is found in both passes (full score).
    path = write_model(tmp_path / "threats.onnx",
                       v8_tensor([(32, 32, 32, 16), (8, 20, 8, 8)],
                                 [[0.9, 0.0, 0.0], [0.0, 0.8, 0.0]]), channels=1)
    document = manifest_document(sha256=sha256_of(path))
    single = Detector.load(path, write_manifest(tmp_path / "single.json", document))
    assert [(d.class_name, d.score, d.box) for d in single.detect_image(IMAGE)] == [
        ("handgun", pytest.approx(0.9), (64.0, 32.0, 192.0, 96.0)),
        ("knife", pytest.approx(0.8), (16.0, 0.0, 48.0, 32.0)),
    ]
    document["test_time"] = {"flips": ["horizontal"]}
    flipped = Detector.load(path, write_manifest(tmp_path / "threats.json", document))
    assert [(d.class_name, d.score, d.box) for d in flipped.detect_image(IMAGE)] == [
        ("handgun", pytest.approx(0.9), (64.0, 32.0, 192.0, 96.0)),
        ("knife", pytest.approx(0.4), (16.0, 0.0, 48.0, 32.0)),
        ("knife", pytest.approx(0.4), (208.0, 0.0, 240.0, 32.0)),
    ]
    document["thresholds"] = {"per_class": {"knife": 0.5}}
    strict = Detector.load(path, write_manifest(tmp_path / "threats.json", document))
    assert [d.class_name for d in strict.detect_image(IMAGE)] == ["handgun"]
