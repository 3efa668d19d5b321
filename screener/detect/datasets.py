"""Annotated image sets for evaluating a detector: Pascal VOC, YOLO, COCO and Screener scans.

Each reader gives a :class:`Dataset`: samples that pair an image (or one view of a scan)
with its ground-truth boxes, in the dataset's own class names. Pairing is by file stem:
``images/B0013_0001.png`` goes with ``annotations/B0013_0001.xml``. An image without an
annotation counts as an image with no objects (and is counted as such); an annotation
without an image is reported and left out. Every problem with a file is a
:class:`DatasetError` naming the file (and the object, where there is one).

Layouts (``DIR`` is the folder given):

- **voc**: one XML file per image. Images in ``DIR/images``, ``DIR/JPEGImages`` or ``DIR``;
  annotations in ``DIR/annotations``, ``DIR/Annotations`` or ``DIR``. Boxes are
  ``xmin, ymin, xmax, ymax`` taken as continuous pixel corners (fractions allowed, no
  ``+1``); ``<difficult>1`` boxes are ignored (neither hit nor miss).
- **yolo**: one ``.txt`` per image with ``class cx cy w h`` lines, fractions of the image
  width and height (a polygon line ``class x1 y1 x2 y2 ...`` becomes its bounding box).
  Images in ``DIR/images`` or ``DIR``; labels in ``DIR/labels`` or ``DIR``. Class names
  from ``classes.txt`` (one per line, line number = class index) in ``DIR`` or the labels
  folder, else the ``names:`` entry of ``data.yaml``/``dataset.yaml`` (or the one
  ``*.yaml`` in ``DIR``): a flow list ``[a, b]``, a block list of ``- a`` lines or a block
  mapping of ``0: a`` lines. Only that entry is read; no YAML library is needed.
- **coco**: one JSON file (``DIR`` may be the file itself, or a folder holding exactly one
  ``*.json`` in ``DIR`` or ``DIR/annotations``); images in ``DIR/images`` or ``DIR``,
  matched to the JSON's ``file_name`` by stem. ``bbox`` is ``x, y, width, height``;
  ``iscrowd`` boxes are crowd regions (COCO rules), ``ignore: 1`` boxes are ignored.
- **scan**: Screener scan files (``.h5``/``.hdf5``) in ``DIR`` (or one file) holding the
  simulator's ground truth. Every view is one image; its ground truth is its *threat*
  objects (benign articles are counted and not scored; the report only names them as
  what false alarms lie on).

Image files are ``.png``, ``.jpg``, ``.jpeg`` and ``.npy`` (what
:func:`screener.scan.load_any` imports). Folders are not searched recursively.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from screener.detect.metrics import Box
from screener.errors import ScreenerError
from screener.scan.hdf5 import ScanLimits, read_ground_truth
from screener.sim.labels import THREAT_CLASSES

#: Image files an annotated set may hold (what ``screener.scan.load_any`` imports).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".npy")
SCAN_SUFFIXES = (".h5", ".hdf5")
#: Largest annotation file read (XML, text or JSON), in bytes.
MAX_ANNOTATION_BYTES = 256 * 1024 * 1024
#: Largest single VOC XML or YOLO label file, in bytes (one image's boxes).
MAX_PER_IMAGE_BYTES = 16 * 1024 * 1024


class DatasetError(ScreenerError):
    """An annotated set cannot be read: names the file (or folder) and the problem."""

    hint = "Fix or remove the file (docs/detector.md, Evaluation)."

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = " ".join(problem.split())
        super().__init__(f"{self.path}: {self.problem}. {self.hint}")


class DatasetFormat(StrEnum):
    VOC = "voc"
    YOLO = "yolo"
    COCO = "coco"
    SCAN = "scan"


@dataclass(frozen=True)
class GroundTruthObject:
    """One annotated object, in the dataset's class name. ``box`` is x0, y0, x1, y1 in
    pixel corners, or fractions of the width and height when the sample's
    ``normalised`` is set (YOLO). ``ignore``: neither hit nor miss (VOC ``difficult``,
    COCO ``ignore``); ``crowd``: a COCO crowd region."""

    name: str
    box: Box
    ignore: bool = False
    crowd: bool = False


@dataclass(frozen=True)
class Sample:
    """One image to run the model on and its ground truth. ``view`` is the scan view's
    name (scan sets) or None (an image file: its only view). ``annotation`` is None for
    an image without an annotation file (no objects). ``context``: objects that are
    named but never scored (a simulated scan's benign articles), used only to say what
    false alarms lie on."""

    source: Path
    objects: tuple[GroundTruthObject, ...]
    annotation: Path | None
    view: str | None = None
    normalised: bool = False
    context: tuple[GroundTruthObject, ...] = ()

    @property
    def name(self) -> str:
        return self.source.name if self.view is None else f"{self.source.name}:{self.view}"

    def objects_in_pixels(self, rows: int, columns: int) -> tuple[GroundTruthObject, ...]:
        """The objects with boxes in pixels of an image ``rows`` x ``columns``."""
        return self._in_pixels(self.objects, rows, columns)

    def context_in_pixels(self, rows: int, columns: int) -> tuple[GroundTruthObject, ...]:
        """The context objects with boxes in pixels of an image ``rows`` x ``columns``."""
        return self._in_pixels(self.context, rows, columns)

    def _in_pixels(self, objects: tuple[GroundTruthObject, ...], rows: int,
                   columns: int) -> tuple[GroundTruthObject, ...]:
        if not self.normalised:
            return objects
        return tuple(
            GroundTruthObject(o.name, (o.box[0] * columns, o.box[1] * rows,
                                       o.box[2] * columns, o.box[3] * rows), o.ignore, o.crowd)
            for o in objects
        )


@dataclass(frozen=True)
class Dataset:
    """Samples in a stable order (sorted by stem, scan views in scan order) and counts.

    ``class_names``: every class the dataset annotates (its declared list, or for VOC the
    names that occur). ``without_annotation``: images with no annotation file, included
    with no objects. ``without_image``: annotations (files, or COCO image entries) whose
    image is missing, left out. ``left_out``: objects not used, by reason.
    """

    root: Path
    format: DatasetFormat
    samples: tuple[Sample, ...]
    class_names: tuple[str, ...]
    without_annotation: tuple[Path, ...] = ()
    without_image: tuple[Path, ...] = ()
    left_out: Mapping[str, int] = field(default_factory=dict)

    def object_counts(self) -> Counter[str]:
        """Boxes per dataset class over all samples (ignored boxes included)."""
        return Counter(o.name for s in self.samples for o in s.objects)

    @property
    def files(self) -> int:
        return len({s.source for s in self.samples})

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.root),
            "format": self.format.value,
            "images": len(self.samples),
            "files": self.files,
            "annotated": sum(s.annotation is not None for s in self.samples),
            "without_annotation": len(self.without_annotation),
            "without_image": [str(p) for p in self.without_image],
            "class_names": list(self.class_names),
            "objects": dict(sorted(self.object_counts().items())),
            "ignored_objects": sum(o.ignore for s in self.samples for o in s.objects),
            "left_out": dict(self.left_out),
        }


# --------------------------------------------------------------------------- entry


def read_dataset(path: Path | str, data_format: DatasetFormat | str,
                 limits: ScanLimits | None = None) -> Dataset:
    """Read an annotated set in ``data_format`` (``voc``, ``yolo``, ``coco``, ``scan``)."""
    kind = DatasetFormat(data_format)
    root = Path(path)
    if kind is DatasetFormat.VOC:
        return read_voc(root)
    if kind is DatasetFormat.YOLO:
        return read_yolo(root)
    if kind is DatasetFormat.COCO:
        return read_coco(root)
    return read_scan_set(root, limits)


# --------------------------------------------------------------------------- helpers


def _require_folder(root: Path) -> None:
    if not root.exists():
        raise DatasetError(root, "no such folder")
    if not root.is_dir():
        raise DatasetError(root, "not a folder")


def _first_folder(root: Path, names: Sequence[str]) -> Path:
    for name in names:
        candidate = root / name
        if candidate.is_dir():
            return candidate
    return root


def _files(folder: Path, suffixes: Sequence[str]) -> dict[str, Path]:
    """Files in ``folder`` with one of ``suffixes`` (any case), by stem; two files with
    one stem are refused."""
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir()):
        if not entry.is_file() or entry.suffix.lower() not in suffixes:
            continue
        other = found.get(entry.stem)
        if other is not None:
            raise DatasetError(entry, f"has the same stem as {other.name}; images and "
                               "annotations are paired by stem, so each stem must be unique")
        found[entry.stem] = entry
    return found


def _read_text(path: Path, limit: int = MAX_PER_IMAGE_BYTES) -> str:
    try:
        size = path.stat().st_size
        if size > limit:
            raise DatasetError(path, f"{size} bytes: larger than any annotation file "
                               f"should be (limit {limit})")
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None
    except OSError as exc:
        raise DatasetError(path, f"cannot be read: {exc.strerror or exc}") from None


def _number(path: Path, where: str, text: str | None) -> float:
    if text is None or not text.strip():
        raise DatasetError(path, f"{where} is missing")
    try:
        value = float(text)
    except ValueError:
        raise DatasetError(path, f"{where} is {text.strip()!r}, not a number") from None
    if not math.isfinite(value):
        raise DatasetError(path, f"{where} is {text.strip()!r}, not a finite number")
    return value


def _check_box(path: Path, where: str, box: Box) -> Box:
    x0, y0, x1, y1 = box
    if not x1 > x0 or not y1 > y0:
        raise DatasetError(path, f"{where}: the box has no area (x {x0:g} to {x1:g}, "
                           f"y {y0:g} to {y1:g})")
    return box


def _pair(images: Mapping[str, Path], annotations: Mapping[str, Path]
          ) -> tuple[list[tuple[Path, Path | None]], tuple[Path, ...], tuple[Path, ...]]:
    pairs = [(images[stem], annotations.get(stem)) for stem in sorted(images)]
    without_annotation = tuple(image for image, note in pairs if note is None)
    without_image = tuple(annotations[stem] for stem in sorted(annotations)
                          if stem not in images)
    return pairs, without_annotation, without_image


def _nothing_found(root: Path, what: str) -> DatasetError:
    return DatasetError(root, f"holds no {what}")


# --------------------------------------------------------------------------- VOC


def read_voc(root: Path) -> Dataset:
    """Pascal VOC: one XML per image, paired by stem (see the module's notes)."""
    _require_folder(root)
    image_folder = _first_folder(root, ("images", "JPEGImages"))
    note_folder = _first_folder(root, ("annotations", "Annotations"))
    images = _files(image_folder, IMAGE_SUFFIXES)
    notes = _files(note_folder, (".xml",))
    if not images:
        raise _nothing_found(image_folder, f"images ({', '.join(IMAGE_SUFFIXES)})")
    pairs, without_annotation, without_image = _pair(images, notes)
    samples = [Sample(image, () if note is None else read_voc_file(note), note)
               for image, note in pairs]
    names = sorted({o.name for s in samples for o in s.objects})
    return Dataset(root, DatasetFormat.VOC, tuple(samples), tuple(names),
                   without_annotation, without_image)


def read_voc_file(path: Path) -> tuple[GroundTruthObject, ...]:
    """The objects of one VOC XML file (``<object>`` elements, in file order)."""
    text = _read_text(path)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise DatasetError(path, f"not well-formed XML ({exc})") from None
    if root.tag != "annotation":
        raise DatasetError(path, f"the root element is <{root.tag}>, not <annotation>: not a "
                           "Pascal VOC annotation")
    objects: list[GroundTruthObject] = []
    for index, element in enumerate(root.iter("object"), start=1):
        name = (element.findtext("name") or "").strip()
        where = f"object {index}" + (f" ({name})" if name else "")
        if not name:
            raise DatasetError(path, f"{where}: <name> is missing or empty")
        bndbox = element.find("bndbox")
        if bndbox is None:
            raise DatasetError(path, f"{where}: <bndbox> is missing")
        x0, y0, x1, y1 = (_number(path, f"{where}: <{key}>", bndbox.findtext(key))
                          for key in ("xmin", "ymin", "xmax", "ymax"))
        difficult = (element.findtext("difficult") or "0").strip()
        if difficult not in ("0", "1"):
            raise DatasetError(path, f"{where}: <difficult> is {difficult!r}, not 0 or 1")
        objects.append(GroundTruthObject(name, _check_box(path, where, (x0, y0, x1, y1)),
                                         ignore=difficult == "1"))
    return tuple(objects)


# --------------------------------------------------------------------------- YOLO

_YAML_KEY = re.compile(r"^names\s*:(.*)$")


def _unquote(text: str) -> str:
    value = text.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _strip_comment(line: str) -> str:
    """``a  # note`` -> ``a`` (a ``#`` inside quotes is kept)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def _split_flow(text: str) -> list[str]:
    """``a, 'b, c', d`` -> ``['a', "'b, c'", 'd']``."""
    items, current, quote = [], "", ""
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current += char
        elif char == ",":
            items.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        items.append(current)
    return items


def parse_yaml_names(text: str, origin: Path | str) -> tuple[str, ...]:
    """The ``names:`` entry of a YOLO ``data.yaml``: a flow list, a block list or a block
    mapping of index to name (indices must run 0..n-1). Nothing else of YAML is read."""
    path = Path(origin)
    lines = [_strip_comment(line) for line in text.splitlines()]
    for number, line in enumerate(lines):
        match = _YAML_KEY.match(line)
        if match is None:
            continue
        rest = match.group(1).strip()
        if rest.startswith("["):
            flow = rest
            follow = number + 1
            while not flow.rstrip().endswith("]") and follow < len(lines):
                flow += " " + lines[follow].strip()
                follow += 1
            if not flow.rstrip().endswith("]"):
                raise DatasetError(path, "names: the [ ... ] list is not closed")
            names = [_unquote(item) for item in _split_flow(flow.strip()[1:-1])]
            return _check_names(path, names)
        if rest.startswith("{"):
            flow = rest
            follow = number + 1
            while not flow.rstrip().endswith("}") and follow < len(lines):
                flow += " " + lines[follow].strip()
                follow += 1
            entries = [item.split(":", 1) for item in _split_flow(flow.strip()[1:-1])]
            if any(len(entry) != 2 for entry in entries):
                raise DatasetError(path, "names: a { ... } entry is not 'index: name'")
            return _indexed_names(path, [(key, value) for key, value in entries])
        if rest:
            raise DatasetError(path, f"names: {rest!r} is not a list or a mapping of class "
                               "names")
        block: list[str] = []
        for line_after in lines[number + 1:]:
            if not line_after.strip():
                continue
            if not line_after[:1].isspace() and not line_after.startswith("-"):
                break  # the next top-level key
            block.append(line_after.strip())
        if block and all(item.startswith("-") for item in block):
            return _check_names(path, [_unquote(item[1:]) for item in block])
        if block and all(":" in item for item in block):
            return _indexed_names(path, [_key_value(item) for item in block])
        raise DatasetError(path, "names: expected '- name' lines or 'index: name' lines")
    raise DatasetError(path, "has no 'names:' entry")


def _key_value(item: str) -> tuple[str, str]:
    key, value = item.split(":", 1)
    return key, value


def _indexed_names(path: Path, entries: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    by_index: dict[int, str] = {}
    for key, value in entries:
        try:
            index = int(_unquote(key))
        except ValueError:
            raise DatasetError(path, f"names: {key.strip()!r} is not a class index") from None
        by_index[index] = _unquote(value)
    if sorted(by_index) != list(range(len(by_index))):
        raise DatasetError(path, f"names: the class indices must run 0..{len(by_index) - 1}, "
                           f"not {sorted(by_index)}")
    return _check_names(path, [by_index[i] for i in range(len(by_index))])


def _check_names(path: Path, names: Sequence[str]) -> tuple[str, ...]:
    cleaned = [name.strip() for name in names]
    if not cleaned:
        raise DatasetError(path, "the list of class names is empty")
    if any(not name for name in cleaned):
        raise DatasetError(path, f"class {cleaned.index('')} has an empty name")
    repeated = [name for name, count in Counter(cleaned).items() if count > 1]
    if repeated:
        raise DatasetError(path, f"class {repeated[0]!r} is listed twice")
    return tuple(cleaned)


def read_yolo_names(root: Path, label_folder: Path) -> tuple[tuple[str, ...], Path]:
    """The class names of a YOLO set and the file they came from."""
    for folder in dict.fromkeys((root, label_folder)):
        listing = folder / "classes.txt"
        if listing.is_file():
            lines = [line.strip() for line in _read_text(listing).splitlines()]
            while lines and not lines[-1]:
                lines.pop()
            return _check_names(listing, lines), listing
    candidates = [root / "data.yaml", root / "dataset.yaml"]
    found = next((c for c in candidates if c.is_file()), None)
    if found is None:
        yamls = sorted(p for p in root.iterdir() if p.suffix.lower() in (".yaml", ".yml"))
        if len(yamls) > 1:
            raise DatasetError(root, "holds several YAML files ("
                               f"{', '.join(p.name for p in yamls)}); name the class list "
                               "data.yaml or write a classes.txt")
        found = yamls[0] if yamls else None
    if found is None:
        raise DatasetError(root, "has no class names: write classes.txt (one name per line, "
                           "line 1 = class 0) or a data.yaml with a 'names:' entry")
    return parse_yaml_names(_read_text(found), found), found


def read_yolo(root: Path) -> Dataset:
    """YOLO: one label file per image, class names from classes.txt or data.yaml."""
    _require_folder(root)
    image_folder = _first_folder(root, ("images",))
    label_folder = _first_folder(root, ("labels",))
    names, _ = read_yolo_names(root, label_folder)
    images = _files(image_folder, IMAGE_SUFFIXES)
    labels = {stem: path for stem, path in _files(label_folder, (".txt",)).items()
              if path.name != "classes.txt"}
    if not images:
        raise _nothing_found(image_folder, f"images ({', '.join(IMAGE_SUFFIXES)})")
    pairs, without_annotation, without_image = _pair(images, labels)
    samples = [Sample(image, () if note is None else read_yolo_file(note, names), note,
                      normalised=True)
               for image, note in pairs]
    return Dataset(root, DatasetFormat.YOLO, tuple(samples), names, without_annotation,
                   without_image)


def read_yolo_file(path: Path, names: Sequence[str]) -> tuple[GroundTruthObject, ...]:
    """The objects of one YOLO label file, boxes as fractions of the image size."""
    objects: list[GroundTruthObject] = []
    for number, raw in enumerate(_read_text(path).splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"line {number}"
        fields = line.split()
        if len(fields) < 5 or (len(fields) > 5 and (len(fields) % 2 == 0 or len(fields) < 7)):
            raise DatasetError(path, f"{where}: {len(fields)} values; expected 'class cx cy w "
                               "h' (5) or a polygon 'class x1 y1 x2 y2 x3 y3 ...'")
        try:
            index = int(fields[0])
        except ValueError:
            raise DatasetError(path, f"{where}: class {fields[0]!r} is not a class index") \
                from None
        if not 0 <= index < len(names):
            raise DatasetError(path, f"{where}: class index {index} is not in the class list "
                               f"(0..{len(names) - 1})")
        values = [_number(path, f"{where}: value {i + 2}", v) for i, v in enumerate(fields[1:])]
        if any(v < 0.0 or v > 1.0 for v in values):
            raise DatasetError(path, f"{where}: coordinates must be fractions of the image "
                               "size, in [0, 1]")
        if len(values) == 4:
            cx, cy, w, h = values
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        else:
            xs, ys = values[0::2], values[1::2]
            box = (min(xs), min(ys), max(xs), max(ys))
        objects.append(GroundTruthObject(names[index],
                                         _check_box(path, f"{where} ({names[index]})", box)))
    return tuple(objects)


# --------------------------------------------------------------------------- COCO


def _coco_file(path: Path) -> tuple[Path, Path]:
    """(the JSON file, the set's root folder)."""
    if path.is_file():
        root = path.parent.parent if path.parent.name.lower() == "annotations" else path.parent
        return path, root
    _require_folder(path)
    for folder in (path, path / "annotations"):
        if not folder.is_dir():
            continue
        found = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix.lower() == ".json")
        if len(found) > 1:
            listed = ", ".join(p.name for p in found)
            raise DatasetError(folder, f"holds several JSON files ({listed}); pass the COCO "
                               "annotation file itself with --data")
        if found:
            return found[0], path
    raise DatasetError(path, "holds no COCO annotation file (*.json) here or in annotations/")


def _coco_list(path: Path, document: Mapping[str, Any], key: str) -> list[Any]:
    value = document.get(key)
    if not isinstance(value, list):
        raise DatasetError(path, f"'{key}' is missing or not a list: not a COCO annotation file")
    return value


def _coco_int(path: Path, where: str, entry: Any, key: str) -> int:
    if not isinstance(entry, dict):
        raise DatasetError(path, f"{where} is not an object")
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise DatasetError(path, f"{where}: '{key}' is {value!r}, not a whole number")
    return value


def read_coco(path: Path) -> Dataset:
    """COCO: one JSON file with ``images``, ``annotations`` and ``categories``."""
    json_path, root = _coco_file(path)
    try:
        document = json.loads(_read_text(json_path, MAX_ANNOTATION_BYTES))
    except json.JSONDecodeError as exc:
        raise DatasetError(json_path, f"not valid JSON ({exc.msg} at line {exc.lineno})") \
            from None
    if not isinstance(document, dict):
        raise DatasetError(json_path, "not a COCO annotation file (the top level is not an "
                           "object)")
    categories: dict[int, str] = {}
    for index, entry in enumerate(_coco_list(json_path, document, "categories")):
        where = f"categories[{index}]"
        category_id = _coco_int(json_path, where, entry, "id")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise DatasetError(json_path, f"{where}: 'name' is missing or empty")
        if category_id in categories:
            raise DatasetError(json_path, f"{where}: category id {category_id} is used twice")
        if name.strip() in categories.values():
            raise DatasetError(json_path, f"{where}: category name {name!r} is used twice")
        categories[category_id] = name.strip()
    entries: dict[int, str] = {}
    for index, entry in enumerate(_coco_list(json_path, document, "images")):
        where = f"images[{index}]"
        image_id = _coco_int(json_path, where, entry, "id")
        file_name = entry.get("file_name")
        if not isinstance(file_name, str) or not file_name.strip():
            raise DatasetError(json_path, f"{where}: 'file_name' is missing or empty")
        if image_id in entries:
            raise DatasetError(json_path, f"{where}: image id {image_id} is used twice")
        entries[image_id] = file_name
    boxes: dict[int, list[GroundTruthObject]] = {image_id: [] for image_id in entries}
    for index, entry in enumerate(_coco_list(json_path, document, "annotations")):
        where = f"annotations[{index}]"
        image_id = _coco_int(json_path, where, entry, "image_id")
        category_id = _coco_int(json_path, where, entry, "category_id")
        if image_id not in entries:
            raise DatasetError(json_path, f"{where}: image_id {image_id} is not in 'images'")
        if category_id not in categories:
            raise DatasetError(json_path, f"{where}: category_id {category_id} is not in "
                               "'categories'")
        bbox = entry.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in bbox):
            raise DatasetError(json_path, f"{where}: 'bbox' is {bbox!r}, not [x, y, width, "
                               "height]")
        x, y, w, h = (float(v) for v in bbox)
        name = categories[category_id]
        box = _check_box(json_path, f"{where} ({name})", (x, y, x + w, y + h))
        crowd = bool(entry.get("iscrowd", 0))
        ignore = bool(entry.get("ignore", 0)) or crowd
        boxes[image_id].append(GroundTruthObject(name, box, ignore=ignore, crowd=crowd))
    image_folder = _first_folder(root, ("images",))
    images = _files(image_folder, IMAGE_SUFFIXES)
    by_stem: dict[str, int] = {}
    for image_id, file_name in entries.items():
        stem = Path(file_name.replace("\\", "/")).stem
        if stem in by_stem:
            raise DatasetError(json_path, f"images {by_stem[stem]} and {image_id} have the same "
                               f"file stem {stem!r}; images are paired by stem")
        by_stem[stem] = image_id
    samples = [Sample(images[stem], tuple(boxes[by_stem[stem]]) if stem in by_stem else (),
                      json_path if stem in by_stem else None)
               for stem in sorted(images)]
    without_annotation = tuple(images[stem] for stem in sorted(images) if stem not in by_stem)
    without_image = tuple(Path(entries[by_stem[stem]]) for stem in sorted(by_stem)
                          if stem not in images)
    if not samples:
        raise _nothing_found(image_folder, f"images ({', '.join(IMAGE_SUFFIXES)})")
    return Dataset(root, DatasetFormat.COCO, tuple(samples),
                   tuple(categories[k] for k in sorted(categories)), without_annotation,
                   without_image)


# --------------------------------------------------------------------------- scans


def _float_box(box: tuple[int, int, int, int]) -> Box:
    x0, y0, x1, y1 = box
    return float(x0), float(y0), float(x1), float(y1)


def read_scan_set(path: Path, limits: ScanLimits | None = None) -> Dataset:
    """Screener scans with ground truth: one sample per view, its threat objects."""
    if path.is_file():
        files = [path]
    else:
        _require_folder(path)
        files = sorted(p for p in path.iterdir()
                       if p.is_file() and p.suffix.lower() in SCAN_SUFFIXES)
    if not files:
        raise _nothing_found(path, "scan files (.h5, .hdf5)")
    samples: list[Sample] = []
    benign = 0
    for scan_path in files:
        truth = read_ground_truth(scan_path, limits)
        if truth is None:
            raise DatasetError(scan_path, "holds no ground truth; only scans written with the "
                               "simulator's labels (screener simulate) can be evaluated")
        for view, labelled in truth.objects_by_view.items():
            threats = tuple(GroundTruthObject(o.label, _float_box(o.box))
                            for o in labelled if o.threat)
            articles = tuple(GroundTruthObject(o.label, _float_box(o.box))
                             for o in labelled if not o.threat)
            benign += len(articles)
            samples.append(Sample(scan_path, threats, scan_path, view=view, context=articles))
    left_out = {"benign objects (not scored)": benign} if benign else {}
    return Dataset(path, DatasetFormat.SCAN, tuple(samples), tuple(THREAT_CLASSES),
                   left_out=left_out)
