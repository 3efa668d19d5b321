"""Annotation readers (VOC, YOLO, COCO, scans) and class maps, on tiny files in tmp_path;
the real SIXray and GDXray annotations when ../shared/datasets is there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_synthetic_scan

from screener.detect import ModelManifest
from screener.detect.datasets import (
    DatasetError,
    DatasetFormat,
    GroundTruthObject,
    parse_yaml_names,
    read_dataset,
)
from screener.detect.evaluation import (
    ClassMapError,
    Level,
    identity_class_map,
    load_class_map,
    parse_class_map,
    resolve_scoring,
    shipped_class_maps,
)
from screener.detect.manifest import parse_manifest
from screener.scan import write_scan

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

VOC_TEMPLATE = """<annotation>
  <filename>{filename}</filename>
  <size><width>64</width><height>48</height><depth>1</depth></size>
  {objects}
</annotation>"""


def voc_object(name: str, box: tuple[object, ...], difficult: int | None = None) -> str:
    keys = ("xmin", "ymin", "xmax", "ymax")
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in zip(keys, box, strict=True))
    flag = "" if difficult is None else f"<difficult>{difficult}</difficult>"
    return (f"<object><name>{name}</name><pose>Unspecified</pose>{flag}"
            f"<bndbox>{inner}</bndbox></object>")


def touch_image(path: Path) -> Path:
    """A file with a PNG name (the readers list files; they do not decode them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    return path


def write_voc(path: Path, *objects: str, filename: str = "original.jpg") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(VOC_TEMPLATE.format(filename=filename, objects="".join(objects)),
                    encoding="utf-8")
    return path


def manifest(*classes: tuple[str, str], **thresholds: object) -> ModelManifest:
    document = {
        "manifest_version": 1, "name": "m", "version": "1",
        "classes": [{"name": n, "category": c} for n, c in classes],
        "input": {"kind": "greyscale", "size": [64, 64]},
        "output": {"layout": "yolov8"},
    }
    if thresholds:
        document["thresholds"] = thresholds
    return parse_manifest(document, "test", embedded=True)


MODEL = manifest(("handgun", "gun"), ("gun_part", "gun"), ("knife", "knife"),
                 ("laptop", "benign"), per_class={"knife": 0.4})


# --------------------------------------------------------------------------- VOC


def test_voc_split_folders_pairs_by_stem(tmp_path: Path) -> None:
    root = tmp_path / "set"
    touch_image(root / "images" / "a.png")
    touch_image(root / "images" / "b.JPG")
    touch_image(root / "images" / "c.png")
    write_voc(root / "annotations" / "a.xml",
              voc_object("Gun", ("53.463", "270.688", "110.07", "462.535")),
              voc_object("Knife", (0, 0, 10, 5), difficult=1))
    write_voc(root / "annotations" / "b.xml", voc_object("Wrench", (1, 2, 3, 4)))
    write_voc(root / "annotations" / "orphan.xml", voc_object("Gun", (1, 2, 3, 4)))
    (root / "images" / "notes.txt").write_text("not an image")
    dataset = read_dataset(root, "voc")
    assert dataset.format is DatasetFormat.VOC
    assert [s.source.name for s in dataset.samples] == ["a.png", "b.JPG", "c.png"]
    a, b, c = dataset.samples
    assert a.objects == (GroundTruthObject("Gun", (53.463, 270.688, 110.07, 462.535)),
                         GroundTruthObject("Knife", (0.0, 0.0, 10.0, 5.0), ignore=True))
    assert a.annotation == root / "annotations" / "a.xml"
    assert b.objects[0].name == "Wrench"
    assert c.objects == () and c.annotation is None
    assert dataset.without_annotation == (root / "images" / "c.png",)
    assert dataset.without_image == (root / "annotations" / "orphan.xml",)
    assert dataset.class_names == ("Gun", "Knife", "Wrench")
    assert dataset.object_counts() == {"Gun": 1, "Knife": 1, "Wrench": 1}
    report = dataset.to_json()
    assert (report["images"], report["annotated"], report["without_annotation"]) == (3, 2, 1)
    assert report["ignored_objects"] == 1


def test_voc_one_folder_and_border_boxes(tmp_path: Path) -> None:
    touch_image(tmp_path / "x.png")
    write_voc(tmp_path / "x.xml", voc_object("Handgun", (0, 0, 64, 48)))
    dataset = read_dataset(tmp_path, DatasetFormat.VOC)
    assert dataset.samples[0].objects[0].box == (0.0, 0.0, 64.0, 48.0)


@pytest.mark.parametrize(("content", "problem"), [
    ("<annotation><object>", "not well-formed XML"),
    ("<root/>", "not a Pascal VOC annotation"),
    (VOC_TEMPLATE.format(filename="x", objects="<object><bndbox/></object>"),
     "object 1: <name> is missing"),
    (VOC_TEMPLATE.format(filename="x", objects="<object><name>Gun</name></object>"),
     "object 1 (Gun): <bndbox> is missing"),
    (VOC_TEMPLATE.format(filename="x", objects=voc_object("Gun", (1, "a", 3, 4))),
     "object 1 (Gun): <ymin> is 'a', not a number"),
    (VOC_TEMPLATE.format(filename="x", objects=voc_object("Gun", (1, 2, 3, "nan"))),
     "not a finite number"),
    (VOC_TEMPLATE.format(filename="x", objects=voc_object("Gun", (5, 2, 5, 4))),
     "the box has no area"),
    (VOC_TEMPLATE.format(filename="x", objects=voc_object("Gun", (1, 2, 3, 4), difficult=2)),
     "<difficult> is '2'"),
])
def test_voc_bad_files_name_the_file(tmp_path: Path, content: str, problem: str) -> None:
    touch_image(tmp_path / "images" / "bad.png")
    note = tmp_path / "annotations" / "bad.xml"
    note.parent.mkdir()
    note.write_text(content)
    with pytest.raises(DatasetError) as info:
        read_dataset(tmp_path, "voc")
    assert info.value.path == note
    assert str(note) in str(info.value) and problem in str(info.value)
    assert "\n" not in str(info.value)


def test_voc_folder_problems(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such folder"):
        read_dataset(tmp_path / "absent", "voc")
    with pytest.raises(DatasetError, match="holds no images"):
        read_dataset(tmp_path, "voc")
    touch_image(tmp_path / "a.png")
    touch_image(tmp_path / "a.jpg")
    with pytest.raises(DatasetError, match="same stem"):
        read_dataset(tmp_path, "voc")


# --------------------------------------------------------------------------- YOLO


def test_yolo_with_classes_txt(tmp_path: Path) -> None:
    touch_image(tmp_path / "images" / "a.png")
    touch_image(tmp_path / "images" / "b.png")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "classes.txt").write_text("Gun\nKnife\n\n")
    (tmp_path / "labels" / "a.txt").write_text(
        "0 0.5 0.5 0.25 0.5\n"
        "\n"
        "1 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\n"  # polygon -> its bounding box
    )
    (tmp_path / "labels" / "z.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    dataset = read_dataset(tmp_path, "yolo")
    assert dataset.class_names == ("Gun", "Knife")
    a, b = dataset.samples
    assert a.normalised and a.objects[0].name == "Gun"
    pixels = a.objects_in_pixels(rows=40, columns=80)
    assert pixels[0].box == pytest.approx((30.0, 10.0, 50.0, 30.0))
    assert pixels[1].name == "Knife" and pixels[1].box == pytest.approx((8.0, 4.0, 24.0, 16.0))
    assert b.objects == () and dataset.without_annotation == (b.source,)
    assert dataset.without_image == (tmp_path / "labels" / "z.txt",)


@pytest.mark.parametrize("text", [
    "path: ../x\nnames: [Gun, 'Knife', \"Razor Blade\"]  # comment\nnc: 3\n",
    "names:\n  - Gun\n  - Knife  # two\n  - 'Razor Blade'\ntrain: images\n",
    "names:\n  0: Gun\n  1: Knife\n  2: Razor Blade\n",
    "names: {0: Gun, 1: Knife, 2: 'Razor Blade'}\n",
    "names: [Gun,\n  Knife, Razor Blade]\n",
])
def test_yaml_names_forms(text: str) -> None:
    assert parse_yaml_names(text, "data.yaml") == ("Gun", "Knife", "Razor Blade")


@pytest.mark.parametrize(("text", "problem"), [
    ("nc: 2\n", "has no 'names:' entry"),
    ("names: [a, a]\n", "listed twice"),
    ("names:\n  0: a\n  2: b\n", "must run 0..1"),
    ("names: Gun\n", "not a list or a mapping"),
    ("names: [a, b\n", "not closed"),
])
def test_yaml_names_problems(text: str, problem: str) -> None:
    with pytest.raises(DatasetError, match=problem):
        parse_yaml_names(text, "data.yaml")


def test_yolo_data_yaml_and_bad_lines(tmp_path: Path) -> None:
    touch_image(tmp_path / "a.png")
    (tmp_path / "data.yaml").write_text("names: [Gun]\n")
    label = tmp_path / "a.txt"
    label.write_text("0 0.5 0.5 0.2 0.2\n")
    assert read_dataset(tmp_path, "yolo").samples[0].objects[0].name == "Gun"
    for text, problem in [("1 0.5 0.5 0.2 0.2", "class index 1 is not in the class list"),
                          ("x 0.5 0.5 0.2 0.2", "not a class index"),
                          ("0 0.5 0.5 0.2", "4 values"),
                          ("0 50 50 20 20", "fractions of the image size"),
                          ("0 0.5 0.5 0 0.2", "no area")]:
        label.write_text(text + "\n")
        with pytest.raises(DatasetError, match=problem) as info:
            read_dataset(tmp_path, "yolo")
        assert info.value.path == label and "line 1" in str(info.value)


def test_yolo_without_names(tmp_path: Path) -> None:
    touch_image(tmp_path / "a.png")
    with pytest.raises(DatasetError, match=r"classes\.txt"):
        read_dataset(tmp_path, "yolo")


# --------------------------------------------------------------------------- COCO


def coco_document() -> dict[str, object]:
    return {
        "images": [{"id": 1, "file_name": "train/a.jpg"}, {"id": 7, "file_name": "b.png"},
                   {"id": 9, "file_name": "missing.png"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 20, 30.5, 40]},
            {"id": 2, "image_id": 1, "category_id": 5, "bbox": [0, 0, 100, 100], "iscrowd": 1},
            {"id": 3, "image_id": 7, "category_id": 5, "bbox": [1, 2, 3, 4], "ignore": 1},
            {"id": 4, "image_id": 9, "category_id": 3, "bbox": [1, 2, 3, 4]},
        ],
        "categories": [{"id": 3, "name": "Gun"}, {"id": 5, "name": "Knife"}],
    }


def test_coco_folder_and_file(tmp_path: Path) -> None:
    touch_image(tmp_path / "images" / "a.png")  # stem pairing: a.jpg in the JSON
    touch_image(tmp_path / "images" / "b.png")
    touch_image(tmp_path / "images" / "c.png")
    notes = tmp_path / "annotations" / "instances_val.json"
    notes.parent.mkdir()
    notes.write_text(json.dumps(coco_document()))
    for given in (tmp_path, notes):
        dataset = read_dataset(given, "coco")
        assert dataset.root == tmp_path
        assert dataset.class_names == ("Gun", "Knife")
        a, b, c = dataset.samples
        assert a.objects == (
            GroundTruthObject("Gun", (10.0, 20.0, 40.5, 60.0)),
            GroundTruthObject("Knife", (0.0, 0.0, 100.0, 100.0), ignore=True, crowd=True),
        )
        assert b.objects == (GroundTruthObject("Knife", (1.0, 2.0, 4.0, 6.0), ignore=True),)
        assert c.objects == () and c.annotation is None
        assert dataset.without_annotation == (c.source,)
        assert dataset.without_image == (Path("missing.png"),)


@pytest.mark.parametrize(("change", "problem"), [
    (lambda d: d.pop("categories"), "'categories' is missing"),
    (lambda d: d["annotations"][0].update(category_id=4), "category_id 4 is not in"),
    (lambda d: d["annotations"][0].update(image_id=2), "image_id 2 is not in 'images'"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, 3]), "not \\[x, y, width, height\\]"),
    (lambda d: d["annotations"][0].update(bbox=[1, 2, -3, 4]), "no area"),
    (lambda d: d["images"].append({"id": 1, "file_name": "z.png"}), "image id 1 is used twice"),
    (lambda d: d["images"].append({"id": 2, "file_name": "x/b.jpg"}), "same file stem"),
    (lambda d: d["categories"][0].update(name="Knife"), "used twice"),
])
def test_coco_problems(tmp_path: Path, change, problem: str) -> None:
    touch_image(tmp_path / "a.png")
    document = coco_document()
    change(document)
    path = tmp_path / "coco.json"
    path.write_text(json.dumps(document))
    with pytest.raises(DatasetError, match=problem) as info:
        read_dataset(tmp_path, "coco")
    assert info.value.path == path


def test_coco_not_json(tmp_path: Path) -> None:
    (tmp_path / "coco.json").write_text("{")
    with pytest.raises(DatasetError, match="not valid JSON"):
        read_dataset(tmp_path, "coco")
    (tmp_path / "other.json").write_text("{}")
    with pytest.raises(DatasetError, match="several JSON files"):
        read_dataset(tmp_path, "coco")


# --------------------------------------------------------------------------- scans


def test_scan_set_views_and_threats_only(tmp_path: Path) -> None:
    for seed in (1, 2):
        scan, truth = make_synthetic_scan(views=2, truth=True, seed=seed)
        write_scan(tmp_path / f"bag-{seed}.h5", scan, truth)
    dataset = read_dataset(tmp_path, "scan")
    assert [s.name for s in dataset.samples] == ["bag-1.h5:top", "bag-1.h5:side",
                                                 "bag-2.h5:top", "bag-2.h5:side"]
    assert all(s.objects == (GroundTruthObject("knife", (3.0, 4.0, 15.0, 14.0)),)
               for s in dataset.samples)
    assert dataset.left_out == {"benign objects (not scored)": 4}
    assert all(s.context == (GroundTruthObject("laptop", (0.0, 0.0, 5.0, 3.0)),)
               for s in dataset.samples)
    assert "handgun" in dataset.class_names and "laptop" not in dataset.class_names
    assert dataset.files == 2


def test_scan_without_ground_truth(tmp_path: Path) -> None:
    scan, _ = make_synthetic_scan()
    path = write_scan(tmp_path / "plain.h5", scan)
    with pytest.raises(DatasetError, match="holds no ground truth") as info:
        read_dataset(tmp_path, "scan")
    assert info.value.path == path
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no scan files"):
        read_dataset(tmp_path / "empty", "scan")


# --------------------------------------------------------------------------- class maps


def test_shipped_class_maps_parse() -> None:
    shipped = shipped_class_maps()
    assert set(shipped) >= {"sixray", "sixray-categories", "gdxray", "gdxray-categories"}
    sixray = load_class_map("sixray")
    assert sixray.level is Level.CLASS
    assert sixray.lookup("Gun") == (True, "handgun")
    assert sixray.lookup("wrench") == (True, None)
    assert sixray.lookup("Hammer") == (False, None)
    gdxray = load_class_map("gdxray-categories")
    assert gdxray.level is Level.CATEGORY
    assert gdxray.lookup("RazorBlade") == (True, "knife")
    assert gdxray.lookup("razor blade") == (False, None)  # razor_blade != razorblade


def test_resolve_class_level_with_exclusions() -> None:
    scoring = resolve_scoring(load_class_map("gdxray"), MODEL,
                              ["Handgun", "Knife", "RazorBlade", "Shuriken", "Bottle"])
    assert scoring.labels == ("handgun", "knife")
    assert dict(scoring.mapping) == {"Handgun": "handgun", "Knife": "knife"}
    assert set(scoring.excluded) == {"RazorBlade", "Shuriken", "Bottle"}
    assert "razor-blade class" in scoring.excluded["RazorBlade"]
    assert scoring.excluded["Bottle"] == "not in the class map"
    assert scoring.label_of["laptop"] == "laptop"
    assert scoring.thresholds == {"handgun": (0.25,), "knife": (0.4,)}
    assert scoring.unused == ()


def test_resolve_category_level() -> None:
    scoring = resolve_scoring(load_class_map("gdxray-categories"), MODEL,
                              ["Handgun", "Knife", "RazorBlade", "Shuriken"])
    assert scoring.level is Level.CATEGORY
    assert scoring.labels == ("gun", "knife")
    assert scoring.mapping["Shuriken"] == "knife"
    assert scoring.label_of == {"handgun": "gun", "gun_part": "gun", "knife": "knife",
                                "laptop": "benign"}
    assert scoring.thresholds["gun"] == (0.25,)
    other = parse_class_map(json.dumps({"classmap_version": 1, "level": "category",
                                        "classes": {"Shuriken": "other"}}), "m.json")
    result = resolve_scoring(other, MODEL, ["Shuriken", "Knife"])
    assert result.not_detectable == ("other",)
    assert result.excluded == {"Knife": "not in the class map"}


def test_identity_map_and_unused_entries() -> None:
    scoring = resolve_scoring(identity_class_map(), MODEL, ["Knife", "handgun", "wrench"])
    assert dict(scoring.mapping) == {"Knife": "knife", "handgun": "handgun"}
    assert "no model class of that name" in scoring.excluded["wrench"]
    typo = parse_class_map(json.dumps({"classmap_version": 1,
                                       "classes": {"Gunn": "handgun", "Knife": "knife"}}), "t")
    assert resolve_scoring(typo, MODEL, ["Gun", "Knife"]).unused == ("Gunn",)


@pytest.mark.parametrize(("document", "problem"), [
    ("[", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ('{"classmap_version": 1, "classes": {"a": "b"}, "colour": 1}', "unknown field"),
    ('{"classes": {"a": "b"}}', "classmap_version"),
    ('{"classmap_version": 2, "classes": {"a": "b"}}', "newer than this Screener"),
    ('{"classmap_version": 1, "level": "kind", "classes": {"a": "b"}}', "use 'class' or"),
    ('{"classmap_version": 1, "classes": {}}', "non-empty object"),
    ('{"classmap_version": 1, "classes": {"a": 3}}', "not a class name or null"),
    ('{"classmap_version": 1, "classes": {"Razor Blade": "knife", "razor-blade": null}}',
     "are the same name"),
    ('{"classmap_version": 1, "level": "category", "classes": {"a": "handgun"}}',
     "is not a category"),
])
def test_class_map_problems(document: str, problem: str) -> None:
    with pytest.raises(ClassMapError, match=problem) as info:
        parse_class_map(document, "maps/x.json")
    assert str(info.value).startswith("maps/x.json: ")


def test_class_map_target_not_in_model(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"classmap_version": 1, "classes": {"Gun": "pistol"}}))
    with pytest.raises(ClassMapError, match="'pistol' is not one of the model's classes"):
        resolve_scoring(load_class_map(path), MODEL, ["Gun"])
    with pytest.raises(ClassMapError, match="not a shipped class map"):
        load_class_map(tmp_path / "absent.json")


# --------------------------------------------------------------------------- real sets


def needs_dataset(name: str) -> Path:
    folder = DATASETS / name
    if not folder.is_dir():
        pytest.skip(f"real dataset {folder} is absent (the shared datasets live in "
                    "../shared/datasets beside the repository, never inside it)")
    return folder


@pytest.mark.parametrize(("name", "images", "counts"), [
    ("sixray-val", 220, {"Gun": 106, "Knife": 51, "Wrench": 63}),
    ("gdxray-dev", 80, {"Handgun": 54, "Knife": 40, "RazorBlade": 33, "Shuriken": 18}),
])
def test_real_annotations_read_and_pair(name: str, images: int, counts: dict[str, int]) -> None:
    dataset = read_dataset(needs_dataset(name), "voc")
    assert len(dataset.samples) == images
    assert dataset.without_annotation == () and dataset.without_image == ()
    assert all(s.annotation is not None and s.annotation.stem == s.source.stem
               for s in dataset.samples)
    assert dict(dataset.object_counts()) == counts
    # every box lies in its image's pixel grid with area (some touch the border)
    for sample in dataset.samples:
        for obj in sample.objects:
            x0, y0, x1, y1 = obj.box
            assert 0 <= x0 < x1 and 0 <= y0 < y1


@pytest.mark.parametrize(("name", "map_name", "scored"), [
    ("sixray-val", "sixray", {"handgun": 106, "knife": 51}),
    ("gdxray-dev", "gdxray", {"handgun": 54, "knife": 40}),
    ("gdxray-dev", "gdxray-categories", {"gun": 54, "knife": 91}),
])
def test_real_sets_with_shipped_maps(name: str, map_name: str, scored: dict[str, int]) -> None:
    dataset = read_dataset(needs_dataset(name), "voc")
    scoring = resolve_scoring(load_class_map(map_name), MODEL, dataset.class_names)
    totals: dict[str, int] = {}
    for cls, count in dataset.object_counts().items():
        if cls in scoring.mapping:
            totals[scoring.mapping[cls]] = totals.get(scoring.mapping[cls], 0) + count
    assert totals == scored
    assert scoring.unused == ()
