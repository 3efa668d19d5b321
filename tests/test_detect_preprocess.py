"""Letterbox geometry, image checks and normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from screener.detect import DetectionInputError, InputKind, Normalisation, parse_manifest
from screener.detect.preprocess import (
    check_image,
    letterbox,
    normalise,
    plan_letterbox,
    prepare,
)


def ultralytics_plan(shape: tuple[int, int], new_shape: tuple[int, int]) -> tuple[int, ...]:
    """ultralytics.data.augment.LetterBox (auto=False, scaleup=True, center=True)."""
    r = min(new_shape[0] / shape[0], new_shape[1] / shape[1])
    new_unpad = round(shape[1] * r), round(shape[0] * r)
    dw, dh = (new_shape[1] - new_unpad[0]) / 2, (new_shape[0] - new_unpad[1]) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    return new_unpad[1], new_unpad[0], top, bottom, left, right


@pytest.mark.parametrize(
    ("source", "target"),
    [((128, 256), (64, 64)), ((100, 200), (64, 64)), ((480, 640), (640, 640)),
     ((1080, 1920), (640, 640)), ((3000, 1000), (640, 640)), ((37, 91), (320, 480)),
     ((640, 640), (640, 640)), ((10, 10), (640, 640)), ((1, 5000), (64, 64))],
)
def test_letterbox_geometry_matches_ultralytics(source: tuple[int, int],
                                                 target: tuple[int, int]) -> None:
    plan = plan_letterbox(source, target)
    new_h, new_w, top, bottom, left, right = ultralytics_plan(source, target)
    if new_h >= 1:  # ultralytics would fail on a zero-row resize; we keep one row
        assert plan.resized_size == (new_h, new_w)
        assert (plan.pad_top, plan.pad_left) == (top, left)
        assert top + new_h + bottom == target[0] and left + new_w + right == target[1]
    image = np.zeros((*source, 3), dtype=np.uint8)
    boxed, same = letterbox(image, target, 114)
    assert same == plan and boxed.shape == (*target, 3)


def test_letterboxed_image_is_placed_and_padded() -> None:
    image = np.full((128, 256, 3), 7, dtype=np.uint8)
    boxed, plan = letterbox(image, (64, 64), 114)
    assert (plan.pad_top, plan.pad_left, plan.resized_size) == (16, 0, (32, 64))
    assert np.all(boxed[:16] == 114) and np.all(boxed[48:] == 114)
    assert np.all(boxed[16:48] == 7)
    grey, _ = letterbox(np.full((128, 256, 1), 200, np.uint8), (64, 64), 114)
    assert grey.shape == (64, 64, 1) and grey[0, 0, 0] == 114 and grey[20, 3, 0] == 200
    dual, _ = letterbox(np.full((128, 256, 2), 0.25, np.float32), (64, 64), 1.0)
    assert dual.dtype == np.float32 and dual.shape == (64, 64, 2)
    assert dual[0, 0].tolist() == [1.0, 1.0] and dual[20, 3].tolist() == [0.25, 0.25]


def test_boxes_map_back_exactly() -> None:
    plan = plan_letterbox((128, 256), (64, 64))
    model = np.array([[16.0, 24.0, 48.0, 40.0], [0.0, 16.0, 64.0, 48.0]])
    np.testing.assert_array_equal(plan.to_source(model),
                                  [[64, 32, 192, 96], [0, 0, 256, 128]])
    rng = np.random.default_rng(1)
    for source in ((100, 200), (37, 91), (1080, 1920)):
        plan = plan_letterbox(source, (640, 640))
        boxes = rng.random((50, 4)) * ([source[1], source[0]] * 2)
        boxes = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]),
                                np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1)
        np.testing.assert_allclose(plan.to_source(plan.to_model(boxes)), boxes, atol=1e-9)


def test_boxes_are_clipped_to_the_image() -> None:
    plan = plan_letterbox((128, 256), (64, 64))
    clipped = plan.to_source(np.array([[-10.0, 0.0, 70.0, 64.0]]))
    np.testing.assert_array_equal(clipped, [[0, 0, 256, 128]])


def test_image_checks() -> None:
    grey = check_image(np.zeros((5, 6), np.uint8), InputKind.GREYSCALE)
    assert grey.shape == (5, 6, 1)
    with pytest.raises(DetectionInputError, match="shape \\(5, 6\\)"):
        check_image(np.zeros((5, 6), np.uint8), InputKind.PSEUDO_COLOUR)
    with pytest.raises(DetectionInputError, match="dtype uint16"):
        check_image(np.zeros((5, 6, 3), np.uint16), InputKind.PSEUDO_COLOUR)
    with pytest.raises(DetectionInputError, match="dtype uint8"):
        check_image(np.zeros((5, 6, 2), np.uint8), InputKind.DUAL_ENERGY)
    bad = np.zeros((5, 6, 2), np.float32)
    bad[1, 1, 0] = np.nan
    with pytest.raises(DetectionInputError, match="NaN"):
        check_image(bad, InputKind.DUAL_ENERGY, "view 'top'")
    with pytest.raises(DetectionInputError, match="empty"):
        check_image(np.zeros((0, 6, 3), np.uint8), InputKind.PSEUDO_COLOUR)
    assert check_image(np.zeros((5, 6, 2)), InputKind.DUAL_ENERGY).dtype == np.float32


def test_normalisation_and_channel_order() -> None:
    image = np.zeros((2, 2, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 255, 51, 0  # RGB
    rgb = normalise(image, Normalisation(1 / 255, (0, 0, 0), (1, 1, 1), "RGB"))
    np.testing.assert_allclose(rgb[0, 0], [1.0, 0.2, 0.0], rtol=1e-6)
    bgr = normalise(image, Normalisation(1 / 255, (0.5, 0, 0), (0.5, 1, 1), "BGR"))
    np.testing.assert_allclose(bgr[0, 0], [-1.0, 0.2, 1.0], rtol=1e-6)
    dual = np.stack([np.full((2, 2), 0.8), np.full((2, 2), 0.3)], axis=-1).astype(np.float32)
    swapped = normalise(dual, Normalisation(1.0, (0, 0), (1, 1), "low-high"))
    np.testing.assert_allclose(swapped[0, 0], [0.3, 0.8], rtol=1e-6)


def test_prepare_gives_nchw_float32() -> None:
    manifest = parse_manifest({
        "manifest_version": 1, "name": "m", "version": "1", "model_sha256": "0" * 64,
        "classes": [{"name": "knife", "category": "knife"}],
        "input": {"kind": "pseudo-colour", "size": [32, 48]}, "output": {"layout": "yolov8"},
    }, "m.json")
    image = np.full((64, 64, 3), 255, np.uint8)
    tensor, plan = prepare(image, manifest)
    assert tensor.shape == (1, 3, 32, 48) and tensor.dtype == np.float32
    assert tensor.flags["C_CONTIGUOUS"]
    assert (plan.pad_top, plan.pad_left, plan.resized_size) == (0, 8, (32, 32))
    assert tensor[0, :, 0, 0].tolist() == pytest.approx([114 / 255] * 3)
    assert tensor[0, :, 10, 20].tolist() == [1.0, 1.0, 1.0]
