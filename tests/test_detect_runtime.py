"""The detector runtime on tiny ONNX graphs: third-party layouts without a manifest,
sidecar and embedded manifests, the sha256 pin, load failures, threads, whole scans."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto
from onnx_builders import (
    COCO_LIKE,
    manifest_document,
    sha256_of,
    ultralytics_metadata,
    v5_tensor,
    v8_tensor,
    write_manifest,
    write_model,
)

from screener.detect import (
    Category,
    DetectionInputError,
    Detector,
    DetectorUnavailableError,
    InputKind,
    ManifestSource,
    ModelHashMismatchError,
    ModelManifestError,
    OutputLayout,
)
from screener.detect.inputs import dual_energy, greyscale_from_high
from screener.scan import Scan, View

# A 128 x 256 image in a 64 x 64 input: scale 1/4, resized to 32 x 64, 16 rows of padding
# above. Model box (cx 32, cy 32, w 32, h 16) = corners (16, 24, 48, 40) in the input
# = (64, 32, 192, 96) in the image, exactly.
IMAGE = np.full((128, 256, 3), 90, dtype=np.uint8)
BOX_IN_MODEL = (32.0, 32.0, 32.0, 16.0)
BOX_IN_IMAGE = (64.0, 32.0, 192.0, 96.0)


def v8_model(tmp_path: Path, name: str = "yolo11n.onnx", **kwargs: object) -> Path:
    out = v8_tensor(
        [BOX_IN_MODEL, (8, 20, 8, 8), (60, 60, 4, 4)],
        [[0.05, 0.9, 0.1], [0.8, 0.0, 0.0], [0.1, 0.2, 0.24]],
    )
    return write_model(tmp_path / name, out, metadata=ultralytics_metadata(COCO_LIKE),
                       **kwargs)


def test_yolov8_export_loads_without_a_manifest(tmp_path: Path) -> None:
    path = v8_model(tmp_path)
    detector = Detector.load(path)
    manifest = detector.manifest
    assert manifest.source is ManifestSource.ULTRALYTICS
    assert manifest.output_layout is OutputLayout.YOLOV8
    assert manifest.class_names == ("person", "pistol", "knife")
    assert [c.category for c in manifest.classes] == [Category.OTHER, Category.GUN,
                                                      Category.KNIFE]
    assert manifest.input_kind is InputKind.PSEUDO_COLOUR and manifest.input_size == (64, 64)
    assert detector.model_sha256 == sha256_of(path)

    found = detector.detect_image(IMAGE, view="top")
    assert [(d.class_name, d.category) for d in found] == [("pistol", Category.GUN),
                                                           ("person", Category.OTHER)]
    pistol, person = found
    assert pistol.box == BOX_IN_IMAGE
    assert pistol.score == pytest.approx(0.9)
    assert pistol.view == "top" and pistol.is_threat
    # (8, 20, 8, 8) -> corners (4, 16, 12, 24) -> image (16, 0, 48, 32)
    assert person.box == (16.0, 0.0, 48.0, 32.0)
    assert person.score == pytest.approx(0.8)
    # the third candidate's best score 0.24 is under the default threshold 0.25


def test_yolov5_export_loads_without_a_manifest(tmp_path: Path) -> None:
    out = v5_tensor(
        [BOX_IN_MODEL, (8, 20, 8, 8)],
        [0.5, 0.9],
        [[0.1, 0.2, 0.9], [0.2, 0.2, 0.2]],  # 0.5 * 0.9 = 0.45 knife; 0.9 * 0.2 = 0.18
    )
    names = ["person", "pistol", "knife"]  # older YOLOv5 exports write a list
    metadata = {"stride": "32", "names": str(names)}
    path = write_model(tmp_path / "yolov5s.onnx", out, metadata=metadata)
    detector = Detector.load(path)
    assert detector.manifest.output_layout is OutputLayout.YOLOV5
    assert detector.manifest.input_size == (64, 64)  # from the input shape; no imgsz
    (knife,) = detector.detect_image(IMAGE)
    assert knife.class_name == "knife" and knife.category is Category.KNIFE
    assert knife.score == pytest.approx(0.45)
    assert knife.box == BOX_IN_IMAGE


def test_dynamic_shapes_take_the_size_from_imgsz(tmp_path: Path) -> None:
    out = v8_tensor([BOX_IN_MODEL], [[0.0, 0.7, 0.0]])
    path = write_model(tmp_path / "dyn.onnx", out, metadata=ultralytics_metadata(COCO_LIKE),
                       input_shape=["batch", 3, "height", "width"],
                       output_shape=["batch", 7, "anchors"])
    detector = Detector.load(path)
    assert detector.manifest.input_size == (64, 64)
    (found,) = detector.detect_image(IMAGE)
    assert found.box == BOX_IN_IMAGE


def test_end_to_end_and_non_detect_exports_are_refused(tmp_path: Path) -> None:
    out = np.zeros((1, 300, 6), dtype=np.float32)
    path = write_model(tmp_path / "e2e.onnx", out, metadata=ultralytics_metadata(COCO_LIKE))
    with pytest.raises(ModelManifestError) as caught:
        Detector.load(path)
    assert caught.value.field == "output.layout"
    assert "[1, 300, 6]" in str(caught.value) and str(path) in str(caught.value)
    meta = ultralytics_metadata(COCO_LIKE, task="segment")
    seg = write_model(tmp_path / "seg.onnx", v8_tensor([BOX_IN_MODEL], [[0, 0, 0]]),
                      metadata=meta)
    with pytest.raises(ModelManifestError, match="only detection"):
        Detector.load(seg)


def test_a_model_without_class_names_or_manifest_is_refused(tmp_path: Path) -> None:
    path = write_model(tmp_path / "anon.onnx", v8_tensor([BOX_IN_MODEL], [[0.5]]))
    with pytest.raises(ModelManifestError) as caught:
        Detector.load(path)
    assert caught.value.field == "metadata_props.names"
    assert caught.value.ui_message.startswith("AI unavailable: manifest field")


def test_category_map_names_third_party_classes(tmp_path: Path) -> None:
    detector = Detector.load(v8_model(tmp_path), category_map={"Person": "benign"})
    assert detector.manifest.classes[0].category is Category.BENIGN


# --------------------------------------------------------------------------- manifests


def greyscale_model(tmp_path: Path, **kwargs: object) -> Path:
    out = v8_tensor(
        [BOX_IN_MODEL, (34, 33, 30, 16), BOX_IN_MODEL, (8, 20, 8, 8)],
        [[0.6, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.35, 0.0], [0.0, 0.0, 0.3]],
    )
    return write_model(tmp_path / "threats.onnx", out, channels=1,
                       **kwargs)


def test_sidecar_manifest_pins_the_model(tmp_path: Path) -> None:
    path = greyscale_model(tmp_path)
    write_manifest(tmp_path / "threats.json",
                   manifest_document(sha256=sha256_of(path), per_class={"knife": 0.4}))
    detector = Detector.load(path)
    assert detector.manifest.source is ManifestSource.SIDECAR
    found = detector.detect_image(IMAGE[:, :, 0])
    # handgun 0.6 kept; handgun 0.5 overlaps it (IoU 0.8) and is suppressed; knife 0.35
    # is under its own threshold 0.4; laptop 0.3 passes the default 0.25
    assert [(d.class_name, round(d.score, 3)) for d in found] == [("handgun", 0.6),
                                                                  ("laptop", 0.3)]
    assert found[0].box == BOX_IN_IMAGE
    assert not found[1].is_threat


def test_sidecar_with_onnx_json_name_and_explicit_manifest(tmp_path: Path) -> None:
    path = greyscale_model(tmp_path)
    document = manifest_document(sha256=sha256_of(path))
    write_manifest(tmp_path / "threats.onnx.json", document)
    assert Detector.load(path).manifest.name == "tiny-threats"
    elsewhere = write_manifest(tmp_path / "other-place.json", {**document, "name": "other"})
    assert Detector.load(path, elsewhere).manifest.name == "other"
    write_manifest(tmp_path / "threats.json", document)
    with pytest.raises(ModelManifestError, match="two sidecar manifests"):
        Detector.load(path)


def test_sha256_mismatch_is_refused(tmp_path: Path) -> None:
    path = greyscale_model(tmp_path)
    write_manifest(tmp_path / "threats.json", manifest_document(sha256="0" * 64))
    with pytest.raises(ModelHashMismatchError) as caught:
        Detector.load(path)
    message = str(caught.value)
    assert str(path) in message and "0" * 64 in message and sha256_of(path) in message
    assert "refused" in message
    assert caught.value.ui_message.startswith("AI unavailable: model file sha256 is")


def test_a_model_changed_after_its_manifest_is_refused(tmp_path: Path) -> None:
    path = greyscale_model(tmp_path)
    write_manifest(tmp_path / "threats.json", manifest_document(sha256=sha256_of(path)))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ModelHashMismatchError):
        Detector.load(path)


def test_expected_sha256_pins_any_model(tmp_path: Path) -> None:
    path = v8_model(tmp_path)
    assert Detector.load(path, expected_sha256=sha256_of(path).upper()).model_sha256
    with pytest.raises(ModelHashMismatchError, match="configured model pin"):
        Detector.load(path, expected_sha256="a" * 64)


def test_embedded_manifest(tmp_path: Path) -> None:
    document = manifest_document(kind="dual-energy")
    out = v8_tensor([BOX_IN_MODEL], [[0.0, 0.9, 0.0]])
    path = write_model(tmp_path / "de.onnx", out, channels=2,
                       metadata={"screener_manifest": json.dumps(document)})
    detector = Detector.load(path)
    assert detector.manifest.source is ManifestSource.EMBEDDED
    assert detector.input_kind is InputKind.DUAL_ENERGY
    image = np.ones((128, 256, 2), dtype=np.float32)
    (found,) = detector.detect_image(image)
    assert (found.class_name, found.box) == ("knife", BOX_IN_IMAGE)
    with pytest.raises(DetectionInputError, match="dual-energy"):
        detector.detect_image(IMAGE)


def test_embedded_manifest_may_not_carry_a_sha256(tmp_path: Path) -> None:
    document = manifest_document(sha256="0" * 64)
    path = write_model(tmp_path / "m.onnx", v8_tensor([BOX_IN_MODEL], [[0, 0, 0]]),
                       channels=1, metadata={"screener_manifest": json.dumps(document)})
    with pytest.raises(ModelManifestError) as caught:
        Detector.load(path)
    assert caught.value.field == "model_sha256"
    assert "screener_manifest" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"input": {"kind": "pseudo-colour", "size": [64, 64]}}, "input.kind"),
        ({"input": {"kind": "greyscale", "size": [32, 64]}}, "input.size"),
        ({"output": {"layout": "yolov5"}}, "output.layout"),
        ({"classes": [{"name": "knife", "category": "knife"}]}, "output.layout"),
        ({"output": {"layout": "yolov8", "name": "boxes"}}, "output.name"),
    ],
)
def test_a_manifest_that_does_not_fit_the_model_is_refused(
        tmp_path: Path, change: dict[str, object], field: str) -> None:
    path = greyscale_model(tmp_path)
    write_manifest(tmp_path / "threats.json",
                   {**manifest_document(sha256=sha256_of(path)), **change})
    with pytest.raises(ModelManifestError) as caught:
        Detector.load(path)
    assert caught.value.field == field
    assert str(tmp_path / "threats.json") in str(caught.value)


def test_bad_manifest_json_names_the_file(tmp_path: Path) -> None:
    path = greyscale_model(tmp_path)
    (tmp_path / "threats.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelManifestError, match="not valid JSON") as caught:
        Detector.load(path)
    assert str(tmp_path / "threats.json") in str(caught.value)
    with pytest.raises(ModelManifestError, match="manifest file not found"):
        Detector.load(path, tmp_path / "nowhere.json")


# --------------------------------------------------------------------------- load failures


def test_missing_file_folder_and_garbage_are_unavailable(tmp_path: Path) -> None:
    with pytest.raises(DetectorUnavailableError, match="model file not found"):
        Detector.load(tmp_path / "missing.onnx")
    with pytest.raises(DetectorUnavailableError, match="folder"):
        Detector.load(tmp_path)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not a protobuf \x00\x01\x02" * 10)
    with pytest.raises(DetectorUnavailableError) as caught:
        Detector.load(broken)
    message = str(caught.value)
    assert "not an ONNX model onnxruntime can load" in message and str(broken) in message
    assert "\n" not in message
    assert caught.value.ui_message.startswith("AI unavailable: not an ONNX model")
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(v8_model(tmp_path).read_bytes()[:200])
    with pytest.raises(DetectorUnavailableError):
        Detector.load(truncated)


def test_wrong_input_rank_type_and_count_are_unavailable(tmp_path: Path) -> None:
    out = v8_tensor([BOX_IN_MODEL], [[0.0, 0.9, 0.0]])
    meta = ultralytics_metadata(COCO_LIKE)
    rank3 = write_model(tmp_path / "r3.onnx", out, metadata=meta, input_shape=[3, 64, 64])
    with pytest.raises(DetectorUnavailableError, match="rank 3"):
        Detector.load(rank3)
    two = write_model(tmp_path / "two.onnx", out, metadata=meta, extra_input=True)
    with pytest.raises(DetectorUnavailableError, match="2 inputs"):
        Detector.load(two)
    ints = write_model(tmp_path / "int.onnx", out, metadata=meta, input_type=TensorProto.INT32)
    with pytest.raises(DetectorUnavailableError, match="tensor\\(int32\\)"):
        Detector.load(ints)


def test_float16_models_run(tmp_path: Path) -> None:
    out = v8_tensor([BOX_IN_MODEL], [[0.0, 0.75, 0.0]])
    path = write_model(tmp_path / "half.onnx", out, metadata=ultralytics_metadata(COCO_LIKE),
                       input_type=TensorProto.FLOAT16)
    (found,) = Detector.load(path).detect_image(IMAGE)
    assert found.box == BOX_IN_IMAGE and found.score == pytest.approx(0.75)


def test_output_of_the_wrong_shape_at_run_time_is_unavailable(tmp_path: Path) -> None:
    out = np.zeros((1, 9, 5), dtype=np.float32)  # 9 = 4 + 5 classes, but 3 are named
    path = write_model(tmp_path / "odd.onnx", out, metadata=ultralytics_metadata(COCO_LIKE),
                       output_shape=["b", "attributes", "anchors"], opaque_shape=True)
    with pytest.raises(ModelManifestError, match="cannot infer the layout"):
        Detector.load(path)  # no size known before it runs
    write_manifest(tmp_path / "odd.json", manifest_document(
        [("person", "other"), ("pistol", "gun"), ("knife", "knife")],
        sha256=sha256_of(path), kind="pseudo-colour"))
    detector = Detector.load(path)
    with pytest.raises(DetectorUnavailableError, match="not YOLOv8 \\[1, 7, N\\]"):
        detector.detect_image(IMAGE)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thread_count_is_honoured(tmp_path: Path, threads: int) -> None:
    detector = Detector.load(v8_model(tmp_path), threads=threads)
    assert detector.threads == threads
    assert detector.session_options.intra_op_num_threads == threads
    assert detector.session_options.inter_op_num_threads == 1


def test_negative_threads_are_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="threads"):
        Detector.load(v8_model(tmp_path), threads=-1)


def test_wrong_images_are_refused(tmp_path: Path) -> None:
    detector = Detector.load(v8_model(tmp_path))
    with pytest.raises(DetectionInputError, match="view 'side'"):
        detector.detect_image(IMAGE[:, :, 0], view="side")
    with pytest.raises(DetectionInputError, match="dtype float32"):
        detector.detect_image(IMAGE.astype(np.float32))


# --------------------------------------------------------------------------- scans


def test_detect_scan_runs_every_view(tmp_path: Path, make_scan: object) -> None:
    scan, _ = make_scan(views=3, shape=(32, 64))  # type: ignore[operator]
    assert isinstance(scan, Scan)
    path = greyscale_model(tmp_path)
    write_manifest(tmp_path / "threats.json", manifest_document(sha256=sha256_of(path)))
    detector = Detector.load(path)
    seen: list[str] = []

    def render(view: View) -> np.ndarray:
        seen.append(view.name)
        return greyscale_from_high(view)

    result = detector.detect_scan(scan, render)
    assert list(result) == ["top", "side", "front"] == seen
    # 32 x 64 view in 64 x 64: scale 1, 16 rows of padding above; model corners
    # (16, 24, 48, 40) -> view (16, 8, 48, 24)
    for name, found in result.items():
        assert found[0].view == name
        assert found[0].box == (16.0, 8.0, 48.0, 24.0)
    only = detector.detect_scan(scan, greyscale_from_high, views=("side",))
    assert list(only) == ["side"]


def test_inputs_from_a_view(make_scan: object) -> None:
    scan, _ = make_scan(dtype="float32")  # type: ignore[operator]
    view = scan.views[0]
    grey = greyscale_from_high(view)
    assert grey.dtype == np.uint8 and grey.shape == view.shape
    np.testing.assert_array_equal(grey, np.round(view.high * 255).astype(np.uint8))
    both = dual_energy(view)
    assert both.shape == (*view.shape, 2) and both.dtype == np.float32
    np.testing.assert_array_equal(both[:, :, 1], view.low)
    single = View("x", view.high, None, 1.0, (1.0, 1.0))
    with pytest.raises(DetectionInputError, match="no low-energy channel"):
        dual_energy(single)
