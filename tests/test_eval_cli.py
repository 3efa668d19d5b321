"""``screener eval-detector`` end to end: a tiny ONNX model (tests/onnx_builders.py) on a
tiny VOC set and a tiny scan set, run in-process."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import make_synthetic_scan
from onnx_builders import manifest_document, sha256_of, v8_tensor, write_manifest, write_model

from screener.cli import eval_command
from screener.detect.evaluation import load_detectors
from screener.scan import write_scan
from screener.scan.model import BeltDirection

Run = Callable[..., tuple[int, str, str]]

# The model sees 64 x 64 images in a 64 x 64 input: scale 1, no padding, so its boxes are
# image boxes. handgun (16, 24, 48, 40) at 0.9; knife (6, 6, 14, 14) at 0.3; laptop at 0.8.
HANDGUN = (16, 24, 48, 40)
KNIFE = (6, 6, 14, 14)


@pytest.fixture
def run(isolated_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run("COMMAND", ...)`` through ``screener.cli.main`` -> (status, out, err)."""
    monkeypatch.chdir(tmp_path)
    return isolated_cli


def tiny_model(folder: Path, boxes=None, scores=None) -> Path:
    """Greyscale 64 x 64 model, classes handgun, knife, laptop; knife's operating
    threshold 0.5 (the others 0.25)."""
    def centre(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        return ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)

    boxes = boxes or [centre(HANDGUN), centre(KNIFE), (56, 56, 8, 8)]
    scores = scores or [[0.9, 0.0, 0.0], [0.0, 0.3, 0.0], [0.0, 0.0, 0.8]]
    path = write_model(folder / "tiny.onnx", v8_tensor(boxes, scores), channels=1)
    write_manifest(folder / "tiny.json", manifest_document(
        sha256=sha256_of(path), score=0.25, per_class={"knife": 0.5}))
    return path


def voc(name: str, box: tuple[int, int, int, int]) -> str:
    keys = ("xmin", "ymin", "xmax", "ymax")
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in zip(keys, box, strict=True))
    return f"<object><name>{name}</name><bndbox>{inner}</bndbox></object>"


def tiny_voc(root: Path) -> Path:
    """a: Gun and Knife where the model puts them, a Wrench; b: a Gun elsewhere; c: no
    annotation file; orphan.xml: no image."""
    (root / "images").mkdir(parents=True)
    (root / "annotations").mkdir()
    grey = np.full((64, 64), 200, np.uint8)
    for stem in ("a", "b", "c"):
        cv2.imwrite(str(root / "images" / f"{stem}.png"), grey)
    notes = {
        "a": voc("Gun", HANDGUN) + voc("Knife", KNIFE) + voc("Wrench", (40, 2, 60, 12)),
        "b": voc("Gun", (0, 40, 12, 60)),
        "orphan": voc("Gun", (1, 1, 5, 5)),
    }
    for stem, objects in notes.items():
        (root / "annotations" / f"{stem}.xml").write_text(
            f"<annotation><filename>{stem}.jpg</filename>{objects}</annotation>")
    return root


def class_map(path: Path) -> Path:
    path.write_text(json.dumps({"classmap_version": 1, "level": "class",
                                "classes": {"Gun": "handgun", "Knife": "knife",
                                            "Wrench": None},
                                "reasons": {"Wrench": "not ours"}}))
    return path


def test_eval_voc_json(run: Run, tmp_path: Path) -> None:
    model = tiny_model(tmp_path)
    data = tiny_voc(tmp_path / "set")
    curve = tmp_path / "out" / "pr.png"
    code, out, err = run("eval-detector", "--data", data, "--format", "voc", "--model", model,
                         "--classes", class_map(tmp_path / "map.json"), "--json",
                         "--pr-curve", curve)
    assert code == 0, err
    report = json.loads(out)
    dataset = report["dataset"]
    assert (dataset["images"], dataset["annotated"], dataset["without_annotation"]) == (3, 2, 1)
    assert dataset["without_image"] == [str(data / "annotations" / "orphan.xml")]
    assert dataset["objects"] == {"Gun": 2, "Knife": 1, "Wrench": 1}
    result = report["evaluation"]
    assert result["mapping"] == {"Gun": "handgun", "Knife": "knife"}
    assert result["excluded_classes"] == {"Wrench": "not ours"}
    assert result["ground_truth_left_out"] == {"Wrench": 1}
    handgun, knife = result["classes"]
    # handgun: 2 objects; at 0.9 in a, b, c (tied, image order): hit, false alarm, false
    # alarm -> recall stops at 1/2 with precision 1: AP = 51/101 at every IoU
    assert handgun["label"] == "handgun" and handgun["ground_truth"] == 2
    assert handgun["detections"] == 3
    assert handgun["ap50"] == pytest.approx(51 / 101, abs=1e-4)
    assert handgun["ap50_95"] == pytest.approx(51 / 101, abs=1e-4)
    assert handgun["operating"] == {"detections": 3, "true_positives": 1,
                                    "false_positives": 2, "false_negatives": 1,
                                    "precision": pytest.approx(1 / 3, abs=1e-6),
                                    "recall": 0.5}
    # knife: 1 object; at 0.3 (under its 0.5 threshold) hit in a, then 2 false alarms
    assert knife["ap50"] == pytest.approx(1.0, abs=1e-4)
    assert knife["operating_thresholds"] == [0.5]
    assert knife["operating"]["detections"] == 0
    assert knife["operating"]["precision"] is None and knife["operating"]["recall"] == 0.0
    assert result["map50"] == pytest.approx((51 / 101 + 1) / 2, abs=1e-4)
    assert result["operating_point"]["true_positives"] == 1
    assert result["operating_point"]["false_negatives"] == 2
    assert result["unscored_detections"] == {"laptop": 3}
    # every object and detection here is under 32^2 pixels: COCO's "small" holds them all
    sizes = result["by_size"]
    assert [sizes[n]["area_px"] for n in ("small", "medium", "large")] == [
        [0.0, 1024.0], [1024.0, 9216.0], [9216.0, None]]
    assert sizes["small"]["map50"] == result["map50"]
    assert [c["ground_truth"] for c in sizes["small"]["classes"]] == [2, 1]
    assert (handgun["recall_max50"], knife["recall_max50"]) == (0.5, 1.0)
    assert [c["recall_max50"] for c in sizes["small"]["classes"]] == [0.5, 1.0]
    assert [c["recall_max50"] for c in sizes["medium"]["classes"]] == [None, None]
    assert sizes["medium"]["map50"] is None and sizes["large"]["map50"] is None
    assert (result["detections"], result["operating_detections"]) == (9, 6)
    assert report["model"]["sha256"] == sha256_of(model)
    assert report["input"] == "display rendering 'greyscale'"
    assert report["pr_curve"] == str(curve)
    image = cv2.imread(str(curve))
    assert image is not None and image.shape[2] == 3 and image.shape[0] > 300


def test_eval_text_and_default_curve(run: Run, tmp_path: Path) -> None:
    model = tiny_model(tmp_path)
    data = tiny_voc(tmp_path / "set")
    code, out, err = run("eval-detector", "--data", data, "--format", "voc", "--model", model,
                         "--classes", class_map(tmp_path / "map.json"))
    assert code == 0 and err == ""
    assert "3 images from 3 files, 2 annotated, 1 without annotation" in out
    assert "1 annotation(s) without an image" in out
    assert "not scored: Wrench (1 boxes): not ours" in out
    assert "handgun" in out and "0.505" in out
    assert "mAP@0.5 0.752" in out
    assert "small 0.752 (3 objects), medium - (0 objects), large - (0 objects)" in out
    assert "laptop 3" in out
    assert (tmp_path / "eval-set-pr.png").is_file()  # the current folder
    assert "PR curve written to eval-set-pr.png" in out


def test_eval_without_map_uses_names_as_they_are(run: Run, tmp_path: Path) -> None:
    model = tiny_model(tmp_path)
    data = tiny_voc(tmp_path / "set")
    code, out, err = run("eval-detector", "--data", data, "--format", "voc", "--model", model,
                         "--json", "--no-pr-curve")
    assert code == 0, err
    result = json.loads(out)["evaluation"]
    assert result["mapping"] == {"Knife": "knife"}  # Gun is not 'handgun'
    assert set(result["excluded_classes"]) == {"Gun", "Wrench"}
    assert json.loads(out)["pr_curve"] is None
    assert not list(tmp_path.glob("*.png"))


def test_eval_scan_set(run: Run, tmp_path: Path) -> None:
    """Simulated scans: every view is an image, its threats the ground truth. Views are
    40 x 64 in a 64 x 64 input: 12 rows of padding above, so the knife at view (3, 4, 15,
    14) is the model box (3, 16, 15, 26)."""
    scans = tmp_path / "scans"
    scans.mkdir()
    scan, truth = make_synthetic_scan(views=2, truth=True, seed=4, dtype="float32")
    write_scan(scans / "bag.h5", scan, truth)
    model = tiny_model(tmp_path, boxes=[(9, 21, 12, 10)], scores=[[0.0, 0.7, 0.0]])
    code, out, err = run("eval-detector", "--data", scans, "--format", "scan", "--model",
                         model, "--json", "--no-pr-curve")
    assert code == 0, err
    report = json.loads(out)
    assert report["dataset"]["images"] == 2 and report["dataset"]["files"] == 1
    assert report["dataset"]["left_out"] == {"benign objects (not scored)": 2}
    result = report["evaluation"]
    assert [c["label"] for c in result["classes"]] == ["handgun", "knife"]
    handgun, knife = result["classes"]
    assert handgun["ap50"] is None and handgun["ground_truth"] == 0
    assert knife["ground_truth"] == 2 and knife["ap50_95"] == pytest.approx(1.0, abs=1e-4)
    assert knife["operating"]["true_positives"] == 2
    assert result["map50"] == pytest.approx(1.0, abs=1e-4)
    assert result["labels_with_ground_truth"] == 1


def test_eval_scan_set_runs_each_scan_s_views_together(run: Run, tmp_path: Path) -> None:
    """With view fusion in the manifest the two views of a bag back each other up: the
    knife at 0.3 in each view, under its 0.5 threshold alone, becomes 1 - 0.7 * 0.7 =
    0.51 with its partner, and both views' knives pass. (The model answers each view
    alike, so the side view's belt must run the same way for the knives to lie at one
    belt position.)"""
    scans = tmp_path / "scans"
    scans.mkdir()
    scan, truth = make_synthetic_scan(views=2, truth=True, seed=4, dtype="float32")
    side = dataclasses.replace(scan.views[1], belt_direction=BeltDirection.LEFT_TO_RIGHT)
    write_scan(scans / "bag.h5", dataclasses.replace(scan, views=(scan.views[0], side)), truth)
    model = tiny_model(tmp_path, boxes=[(9, 21, 12, 10)], scores=[[0.0, 0.3, 0.0]])
    knives = []
    for fusion in (None, {"partner_weight": 1.0}):
        document = json.loads((tmp_path / "tiny.json").read_text())
        if fusion is not None:
            document["view_fusion"] = fusion
        write_manifest(tmp_path / "tiny.json", document)
        code, out, err = run("eval-detector", "--data", scans, "--format", "scan", "--model",
                             model, "--json", "--no-pr-curve")
        assert code == 0, err
        result = json.loads(out)["evaluation"]
        knives.append(next(c for c in result["classes"] if c["label"] == "knife"))
    assert [k["operating"]["true_positives"] for k in knives] == [0, 2]
    assert [k["ap50"] for k in knives] == [pytest.approx(1.0, abs=1e-4)] * 2


def test_eval_scan_set_says_what_false_alarms_lie_on(run: Run, tmp_path: Path) -> None:
    """A knife alarm on the bag's laptop (model box (0, 12, 5, 15) is the view's laptop at
    (0, 0, 5, 3)) lies on the laptop, one on nothing labelled lies on nothing; the hit
    on the knife is no false alarm, and neither is a knife box below the threshold."""
    scans = tmp_path / "scans"
    scans.mkdir()
    scan, truth = make_synthetic_scan(views=2, truth=True, seed=4, dtype="float32")
    write_scan(scans / "bag.h5", scan, truth)
    model = tiny_model(tmp_path, boxes=[(9, 21, 12, 10), (2.5, 13.5, 5, 3), (40, 40, 4, 4),
                                        (50, 50, 4, 4)],
                       scores=[[0.0, 0.7, 0.0], [0.0, 0.8, 0.0], [0.0, 0.6, 0.0],
                               [0.0, 0.4, 0.0]])
    code, out, err = run("eval-detector", "--data", scans, "--format", "scan", "--model",
                         model, "--json", "--no-pr-curve")
    assert code == 0, err
    result = json.loads(out)["evaluation"]
    assert result["false_alarms_on"] == {"knife": {"laptop": 2, "no matching object": 2}}
    knife = next(c for c in result["classes"] if c["label"] == "knife")
    assert knife["operating"]["false_positives"] == 4 and knife["operating"]["true_positives"] == 2
    code, out, err = run("eval-detector", "--data", scans, "--format", "scan", "--model",
                         model, "--no-pr-curve")
    assert code == 0, err
    assert "knife: laptop 2, no matching object 2\n" in out


def test_floor_detections_above_threshold_equal_the_operating_ones(tmp_path: Path) -> None:
    """The low-floor copy gives, above each class's threshold, exactly what the detector
    gives as it runs."""
    rng = np.random.default_rng(5)
    boxes = [tuple(float(v) for v in (*rng.uniform(10, 54, 2), *rng.uniform(4, 20, 2)))
             for _ in range(40)]
    scores = rng.uniform(0, 1, (40, 3)).round(2).tolist()
    model = tiny_model(tmp_path, boxes=boxes, scores=scores)
    operating, low = load_detectors(model, threads=1)
    assert low.model_sha256 == operating.model_sha256
    assert low.manifest.score_threshold == pytest.approx(0.001)
    image = np.full((64, 64), 100, np.uint8)
    expected = operating.detect_image(image)
    everything = low.detect_image(image)
    assert len(everything) > len(expected)
    kept = [d for d in everything if d.score >= operating.manifest.threshold_for(d.class_name)]
    assert kept == expected


def test_floor_detections_above_threshold_equal_the_operating_ones_with_view_fusion(
        tmp_path: Path) -> None:
    """The same with view fusion: a fused score does not depend on the thresholds."""
    rng = np.random.default_rng(6)
    boxes = [tuple(float(v) for v in (*rng.uniform(10, 54, 2), *rng.uniform(4, 20, 2)))
             for _ in range(40)]
    model = tiny_model(tmp_path, boxes=boxes, scores=rng.uniform(0, 1, (40, 3)).tolist())
    document = json.loads((tmp_path / "tiny.json").read_text())
    document["view_fusion"] = {"belt_overlap": 0.7, "partner_weight": 0.75, "alone_factor": 0.5}
    write_manifest(tmp_path / "tiny.json", document)
    operating, low = load_detectors(model, threads=1)
    scan, _ = make_synthetic_scan(views=2, seed=4)  # the side view's belt runs the other way
    images = [np.full(v.shape, 100, np.uint8) for v in scan.views]
    expected = operating.detect_views(scan.views, images)
    everything = low.detect_views(scan.views, images)
    for name, found in expected.items():
        assert len(everything[name]) > len(found) > 0
        assert [d for d in everything[name]
                if d.score >= operating.manifest.threshold_for(d.class_name)] == found
    # fusion changed scores: some differ from what each view gives on its own
    alone = {v.name: operating.detect_image(image, v.name)
             for v, image in zip(scan.views, images, strict=True)}
    assert alone != expected


def test_eval_errors_are_one_line(run: Run, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(eval_command, "default_model_path", lambda *_: None)
    data = tiny_voc(tmp_path / "set")
    code, _, err = run("eval-detector", "--data", data, "--format", "voc")
    assert code == 2 and "--model PATH" in err and err.count("\n") == 1
    model = tiny_model(tmp_path)
    bad_map = tmp_path / "bad.json"
    bad_map.write_text(json.dumps({"classmap_version": 1, "classes": {"Gun": "pistol"}}))
    code, _, err = run("eval-detector", "--data", data, "--format", "voc", "--model", model,
                       "--classes", bad_map)
    assert code == 2 and "'pistol' is not one of the model's classes" in err
    assert err.count("\n") == 1
    (data / "annotations" / "a.xml").write_text("<annotation>")
    code, _, err = run("eval-detector", "--data", data, "--format", "voc", "--model", model)
    assert code == 2 and "a.xml: not well-formed XML" in err and err.count("\n") == 1


def test_dual_energy_model_on_images_names_the_file(run: Run, tmp_path: Path) -> None:
    path = write_model(tmp_path / "de.onnx", v8_tensor([(8, 8, 4, 4)], [[0.9, 0.0, 0.0]]),
                       channels=2)
    write_manifest(tmp_path / "de.json", manifest_document(sha256=sha256_of(path),
                                                           kind="dual-energy"))
    data = tiny_voc(tmp_path / "set")
    code, _, err = run("eval-detector", "--data", data, "--format", "voc", "--model", path,
                       "--no-pr-curve")
    assert code == 2 and "a.png" in err and "low-energy" in err


def test_default_model_path_finds_models_folder() -> None:
    found = eval_command.default_model_path()
    assert found is None or (found.name == "threats.onnx" and found.parent.name == "models")


def test_missing_matplotlib_is_said_before_running(run: Run, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    data = tiny_voc(tmp_path / "set")
    code, _, err = run("eval-detector", "--data", data, "--format", "voc", "--model",
                       tiny_model(tmp_path))
    assert code == 2 and "needs matplotlib" in err and "--no-pr-curve" in err
    code, _, err = run("eval-detector", "--data", data, "--format", "voc", "--model",
                       tiny_model(tmp_path), "--no-pr-curve")
    assert code == 0, err


def test_floor_copy_of_a_third_party_model(tmp_path: Path) -> None:
    """A YOLO export without a manifest (ultralytics metadata) gets its floor copy too."""
    from onnx_builders import COCO_LIKE, ultralytics_metadata

    path = write_model(tmp_path / "yolo11n.onnx",
                       v8_tensor([(32, 32, 16, 16), (10, 10, 8, 8)],
                                 [[0.0, 0.9, 0.0], [0.0, 0.0, 0.05]]),
                       metadata=ultralytics_metadata(COCO_LIKE))
    operating, low = load_detectors(path, score_floor=0.01)
    assert operating.manifest.source.value == "ultralytics-metadata"
    assert low.manifest.class_names == operating.manifest.class_names == ("person", "pistol",
                                                                          "knife")
    image = np.full((64, 64, 3), 200, np.uint8)
    assert [d.class_name for d in operating.detect_image(image)] == ["pistol"]
    assert [d.class_name for d in low.detect_image(image)] == ["pistol", "knife"]
