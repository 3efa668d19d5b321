"""Model manifests: the schema, errors that name the field, ultralytics metadata."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from onnx_builders import manifest_document, ultralytics_metadata

from screener.detect import (
    MANIFEST_VERSION,
    Category,
    DetectorUnavailableError,
    InputKind,
    ManifestSource,
    ModelManifestError,
    OutputLayout,
    load_manifest_file,
    parse_manifest,
)
from screener.detect.manifest import (
    Flip,
    ViewFusionPlan,
    find_sidecar,
    guess_category,
    infer_layout,
    manifest_from_ultralytics,
    parse_ultralytics_names,
    read_manifest_text,
)
from screener.errors import ScreenerError

SHA = "ab" * 32
ORIGIN = "models/threats.json"


def full_document() -> dict[str, Any]:
    document = manifest_document(sha256=SHA, kind="pseudo-colour", score=0.3,
                                 per_class={"knife": 0.2}, nms_iou=0.5, max_detections=50,
                                 multi_label=True)
    document["input"].update(channel_order="BGR", scale=1 / 255, mean=[0.485, 0.456, 0.406],
                             std=[0.229, 0.224, 0.225], pad_value=0)
    document["output"]["name"] = "output0"
    document["test_time"] = {"flips": ["horizontal", "both"], "fusion_iou": 0.6}
    document["view_fusion"] = {"belt_overlap": 0.6, "partner_weight": 0.8,
                               "alone_factor": 0.4}
    return document


def test_a_full_manifest_parses() -> None:
    manifest = parse_manifest(full_document(), ORIGIN)
    assert manifest.manifest_version == MANIFEST_VERSION
    assert manifest.model_sha256 == SHA
    assert manifest.class_names == ("handgun", "knife", "laptop")
    assert [c.category for c in manifest.classes] == [Category.GUN, Category.KNIFE,
                                                      Category.BENIGN]
    assert manifest.input_kind is InputKind.PSEUDO_COLOUR
    assert manifest.input_size == (64, 64)
    assert manifest.normalisation.channel_order == "BGR"
    assert manifest.normalisation.std == (0.229, 0.224, 0.225)
    assert manifest.pad_value == 0
    assert manifest.output_layout is OutputLayout.YOLOV8 and manifest.output_name == "output0"
    assert manifest.thresholds() == (0.3, 0.2, 0.3)
    assert (manifest.nms_iou, manifest.max_detections, manifest.multi_label) == (0.5, 50, True)
    assert manifest.test_time.passes == (None, Flip.HORIZONTAL, Flip.BOTH)
    assert manifest.test_time.fusion_iou == 0.6
    assert manifest.view_fusion == ViewFusionPlan(0.6, 0.8, 0.4)
    assert manifest.source is ManifestSource.SIDECAR and manifest.origin == ORIGIN


def test_defaults_and_round_trip() -> None:
    manifest = parse_manifest(manifest_document(sha256=SHA.upper()), ORIGIN)
    assert manifest.model_sha256 == SHA  # normalised to lower case
    assert manifest.normalisation.scale == pytest.approx(1 / 255)
    assert manifest.normalisation.mean == (0.0,) and manifest.normalisation.std == (1.0,)
    assert manifest.normalisation.channel_order == "grey"
    assert manifest.pad_value == 114
    assert (manifest.score_threshold, manifest.nms_iou, manifest.max_detections) == \
        (0.25, 0.45, 300)
    assert manifest.test_time.passes == (None,)  # one pass unless the manifest asks
    assert "test_time" not in manifest.to_json()
    assert manifest.view_fusion is None and "view_fusion" not in manifest.to_json()
    document = manifest_document(sha256=SHA)
    document["view_fusion"] = {}
    assert parse_manifest(document, ORIGIN).view_fusion == ViewFusionPlan()
    document["view_fusion"] = None  # null: no fusion, not an unknown field
    assert parse_manifest(document, ORIGIN).view_fusion is None
    dual = parse_manifest(manifest_document(sha256=SHA, kind="dual-energy"), ORIGIN)
    assert dual.normalisation.scale == 1.0 and dual.pad_value == 1.0
    assert dual.normalisation.channel_order == "high-low"
    for original in (manifest, dual, parse_manifest(full_document(), ORIGIN)):
        again = parse_manifest(json.loads(json.dumps(original.to_json())), ORIGIN)
        assert again == original


def without(document: dict[str, Any], dotted: str) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    *parents, last = dotted.split(".")
    target = changed
    for key in parents:
        target = target[key]
    del target[last]
    return changed


@pytest.mark.parametrize("field", ["manifest_version", "name", "version", "model_sha256",
                                   "classes", "input", "input.kind", "input.size", "output",
                                   "output.layout"])
def test_a_missing_field_is_named(field: str) -> None:
    with pytest.raises(ModelManifestError) as caught:
        parse_manifest(without(full_document(), field), ORIGIN)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{ORIGIN}: manifest field '{field}': is missing")


def changed(dotted: str, value: Any) -> dict[str, Any]:
    document = full_document()
    *parents, last = dotted.split(".")
    target: Any = document
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    target[last] = value
    return document


@pytest.mark.parametrize(
    ("dotted", "value", "field", "words"),
    [
        ("manifest_version", 2, "manifest_version", "upgrade Screener"),
        ("manifest_version", "1", "manifest_version", "whole number"),
        ("name", "", "name", "non-empty string"),
        ("model_sha256", "xyz", "model_sha256", "64 hexadecimal"),
        ("classes", [], "classes", "non-empty list"),
        ("classes.1.category", "weapon", "classes[1].category", "'gun', 'knife'"),
        ("classes.2.name", "handgun", "classes[2].name", "listed twice"),
        ("classes.0.colour", "red", "classes[0].colour", "not a manifest field"),
        ("input.kind", "colour", "input.kind", "'pseudo-colour'"),
        ("input.size", [0, 640], "input.size", "between 1 and 16384"),
        ("input.size", [640], "input.size", "[height, width]"),
        ("input.size", [64.0, 64], "input.size", "[height, width]"),
        ("input.channel_order", "grey", "input.channel_order", "'RGB', 'BGR'"),
        ("input.scale", 0, "input.scale", "(0, 1e+06]"),
        ("input.mean", [0, 0], "input.mean", "one value per input channel (3)"),
        ("input.std", [1, 0, 1], "input.std", "must not be zero"),
        ("input.std", "1", "input.std", "finite number"),
        ("input.pad_value", float("nan"), "input.pad_value", "number"),
        ("output.layout", "yolov7", "output.layout", "'yolov5', 'yolov8'"),
        ("thresholds.score", 1.5, "thresholds.score", "[0, 1]"),
        ("thresholds.score", True, "thresholds.score", "must be a number"),
        ("thresholds.nms_iou", 0, "thresholds.nms_iou", "(0, 1]"),
        ("thresholds.max_detections", 0, "thresholds.max_detections", "at least 1"),
        ("thresholds.multi_label", "yes", "thresholds.multi_label", "true or false"),
        ("thresholds.per_class", {"knif": 0.3}, "thresholds.per_class.knif",
         "not one of the model's classes"),
        ("thresholds.per_class", {"knife": -0.1}, "thresholds.per_class.knife", "[0, 1]"),
        ("treshold", 0.3, "treshold", "not a manifest field"),
        ("input", [64, 64], "input", "must be a JSON object"),
        ("test_time.flips", ["sideways"], "test_time.flips[0]",
         "'horizontal', 'vertical', 'both'"),
        ("test_time.flips", ["both", "both"], "test_time.flips[1]", "listed twice"),
        ("test_time.flips", [["horizontal"]], "test_time.flips[0]", "'horizontal', 'vertical'"),
        ("test_time.flips", "horizontal", "test_time.flips", "must be a list"),
        ("test_time.fusion_iou", 0, "test_time.fusion_iou", "(0, 1]"),
        ("test_time.passes", 2, "test_time.passes", "not a manifest field"),
        ("view_fusion", [0.7], "view_fusion", "must be a JSON object"),
        ("view_fusion.belt_overlap", 0, "view_fusion.belt_overlap", "(0, 1]"),
        ("view_fusion.partner_weight", 1.5, "view_fusion.partner_weight", "[0, 1]"),
        ("view_fusion.alone_factor", "half", "view_fusion.alone_factor", "must be a number"),
        ("view_fusion.iou", 0.7, "view_fusion.iou", "not a manifest field"),
    ],
)
def test_a_bad_value_is_named(dotted: str, value: Any, field: str, words: str) -> None:
    with pytest.raises(ModelManifestError) as caught:
        parse_manifest(changed(dotted, value), ORIGIN)
    error = caught.value
    assert error.field == field
    assert words in str(error)
    assert str(error).startswith(f"{ORIGIN}: manifest field '{field}': ")
    assert "\n" not in str(error)
    assert isinstance(error, DetectorUnavailableError) and isinstance(error, ScreenerError)


def test_the_whole_document_must_be_an_object() -> None:
    with pytest.raises(ModelManifestError, match="must be a JSON object, not a list"):
        parse_manifest([1, 2], ORIGIN)


def test_an_embedded_manifest_has_no_sha256() -> None:
    document = full_document()
    with pytest.raises(ModelManifestError) as caught:
        parse_manifest(document, "m.onnx (metadata)", embedded=True)
    assert caught.value.field == "model_sha256" and "own hash" in str(caught.value)
    del document["model_sha256"]
    manifest = parse_manifest(document, "m.onnx (metadata)", embedded=True)
    assert manifest.model_sha256 is None and manifest.source is ManifestSource.EMBEDDED


def test_manifest_files(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps(full_document()), encoding="utf-8")
    assert load_manifest_file(path).origin == str(path)
    path.write_text('{"manifest_version": 1,\n "name": }', encoding="utf-8")
    with pytest.raises(ModelManifestError, match=r"not valid JSON: .* line 2") as caught:
        load_manifest_file(path)
    assert str(caught.value).startswith(f"{path}: ")
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ModelManifestError, match="not UTF-8"):
        load_manifest_file(path)
    with pytest.raises(ModelManifestError, match="not found"):
        load_manifest_file(tmp_path / "missing.json")
    with pytest.raises(ModelManifestError, match=r"nested too deeply|not valid JSON"):
        read_manifest_text("[" * 100_000, ORIGIN)


def test_sidecar_lookup(tmp_path: Path) -> None:
    model = tmp_path / "threats.onnx"
    assert find_sidecar(model) is None
    (tmp_path / "threats.onnx.json").write_text("{}", encoding="utf-8")
    assert find_sidecar(model) == tmp_path / "threats.onnx.json"
    (tmp_path / "threats.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelManifestError, match="two sidecar manifests"):
        find_sidecar(model)
    odd = tmp_path / "odd.json"  # a model named .json is not its own manifest
    odd.write_bytes(b"\x08\x01")
    assert find_sidecar(odd) is None


# --------------------------------------------------------------------------- ultralytics


def test_ultralytics_names() -> None:
    meta = ultralytics_metadata({0: "person", 1: "Gun"})
    assert parse_ultralytics_names(meta, "m.onnx") == ("person", "Gun")
    assert parse_ultralytics_names({"names": "['a', 'b']"}, "m.onnx") == ("a", "b")
    assert parse_ultralytics_names({"names": "{'0': 'a', '1': 'b'}"}, "m.onnx") == ("a", "b")


@pytest.mark.parametrize(
    ("names", "words"),
    [
        ("{0: 'a', 2: 'b'}", "without gaps"),
        ("{0: 'a', 1: 'a'}", "listed twice"),
        ("{}", "non-empty dict"),
        ("{0: 1}", "index: non-empty name"),
        ("{'x': 'a'}", "not a whole number"),
        ("__import__('os').system('echo pwned')", "Python literal"),
        ("{0: 'a'" + "}" * 3, "Python literal"),
        ("(" * 10_000 + ")" * 10_000, "Python literal"),
    ],
)
def test_bad_ultralytics_names_are_refused(names: str, words: str) -> None:
    with pytest.raises(ModelManifestError) as caught:
        parse_ultralytics_names({"names": names}, "m.onnx")
    assert caught.value.field == "metadata_props.names"
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("name", "category"),
    [("pistol", "gun"), ("Handgun", "gun"), ("gun_part", "gun"), ("Ammunition", "gun"),
     ("Knife", "knife"), ("Box Cutter", "knife"), ("scissors", "knife"),
     ("grenade", "ied"), ("IED", "ied"), ("explosive", "ied"),
     ("laptop", "benign"), ("belt buckle", "benign"),
     ("Wrench", "other"), ("person", "other")],
)
def test_category_guesses(name: str, category: str) -> None:
    assert guess_category(name) is Category(category)


def test_a_category_map_wins() -> None:
    assert guess_category("Wrench", {"wrench": "benign"}) is Category.BENIGN
    assert guess_category("Pliers", {"pliers": Category.KNIFE}) is Category.KNIFE


@pytest.mark.parametrize(
    ("shape", "classes", "layout"),
    [
        ((1, 25200, 85), 80, OutputLayout.YOLOV5),
        ((1, 84, 8400), 80, OutputLayout.YOLOV8),
        ((None, 84, None), 80, OutputLayout.YOLOV8),
        ((None, None, 85), 80, OutputLayout.YOLOV5),
        ((1, 7, 8), 3, OutputLayout.YOLOV8),  # fits both: read as YOLOv8
        ((1, 8, 7), 4, OutputLayout.YOLOV8),
        ((1, 8, 7), 2, OutputLayout.YOLOV5),
    ],
)
def test_layout_inference(shape: tuple[int | None, ...], classes: int,
                          layout: OutputLayout) -> None:
    assert infer_layout(shape, classes, "m.onnx") is layout


@pytest.mark.parametrize("shape", [(1, 300, 6), (1, 84), (None, None, None)])
def test_layouts_that_cannot_be_inferred(shape: tuple[int | None, ...]) -> None:
    with pytest.raises(ModelManifestError) as caught:
        infer_layout(shape, 80, "m.onnx")
    assert caught.value.field == "output.layout"


def test_manifest_from_ultralytics_metadata() -> None:
    meta = ultralytics_metadata({0: "gun", 1: "knife", 2: "wrench"}, imgsz=(320, 480))
    manifest = manifest_from_ultralytics(meta, (1, 3, 320, 480), (1, 7, 3150), "y.onnx")
    assert manifest.input_size == (320, 480)
    assert manifest.output_layout is OutputLayout.YOLOV8
    assert [c.category.value for c in manifest.classes] == ["gun", "knife", "other"]
    assert manifest.normalisation.scale == pytest.approx(1 / 255)
    assert manifest.normalisation.channel_order == "RGB" and manifest.pad_value == 114
    assert manifest.version == "8.3.0" and manifest.model_sha256 is None
    assert manifest.source is ManifestSource.ULTRALYTICS
    with pytest.raises(ModelManifestError, match="says \\[320, 480\\]") as caught:
        manifest_from_ultralytics(meta, (1, 3, 640, 640), (1, 7, 8400), "y.onnx")
    assert caught.value.field == "metadata_props.imgsz"
    no_size = {"names": "['a']"}
    with pytest.raises(ModelManifestError, match="input size is not fixed"):
        manifest_from_ultralytics(no_size, (1, 3, None, None), (1, 5, None), "y.onnx")
    e2e = ultralytics_metadata(["a"], end2end="True")
    with pytest.raises(ModelManifestError, match="end-to-end"):
        manifest_from_ultralytics(e2e, (1, 3, 64, 64), (1, 300, 6), "y.onnx")
