"""Tiny ONNX detectors built with ``onnx.helper`` for the detector tests (no downloads).

Each model outputs a fixed tensor whatever the image: ``output = const + 0 * mean(image)``,
so the graph really consumes its input and the decoded detections are known exactly.
Imported by the other ``test_detect_*`` modules; the tests here check the builders.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]
from numpy.typing import NDArray
from onnx import TensorProto, helper, numpy_helper

COCO_LIKE = {0: "person", 1: "pistol", 2: "knife"}

Box = tuple[float, float, float, float]  # cx, cy, w, h in model-input pixels


def ultralytics_metadata(names: Mapping[int, str] | Sequence[str],
                         imgsz: Sequence[int] = (64, 64), **extra: str) -> dict[str, str]:
    """``metadata_props`` as ultralytics' exporter writes them: ``str()`` of each value."""
    names_dict = dict(names) if isinstance(names, Mapping) else dict(enumerate(names))
    metadata = {
        "description": "Ultralytics YOLO11n model trained on test.yaml",
        "author": "Ultralytics",
        "date": "2025-01-01T00:00:00",
        "version": "8.3.0",
        "license": "AGPL-3.0 License (https://ultralytics.com/license)",
        "docs": "https://docs.ultralytics.com",
        "stride": "32",
        "task": "detect",
        "batch": "1",
        "imgsz": str(list(imgsz)),
        "names": str(names_dict),
        "channels": "3",
    }
    metadata.update(extra)
    return metadata


def v8_tensor(boxes: Sequence[Box], scores: Sequence[Sequence[float]]) -> NDArray[np.float32]:
    """``[1, 4 + nc, N]``: per candidate cx, cy, w, h, class scores."""
    records = [list(b) + list(s) for b, s in zip(boxes, scores, strict=True)]
    return np.asarray(records, dtype=np.float32).T[None].copy()


def v5_tensor(boxes: Sequence[Box], objectness: Sequence[float],
              scores: Sequence[Sequence[float]]) -> NDArray[np.float32]:
    """``[1, N, 5 + nc]``: per candidate cx, cy, w, h, objectness, class scores."""
    records = [[*b, o, *s] for b, o, s in zip(boxes, objectness, scores, strict=True)]
    return np.asarray(records, dtype=np.float32)[None].copy()


def build_model(
    output: NDArray[np.float32],
    *,
    channels: int = 3,
    size: tuple[int, int] = (64, 64),
    metadata: Mapping[str, str] | None = None,
    input_shape: Sequence[int | str] | None = None,
    output_shape: Sequence[int | str] | None = None,
    input_type: int = TensorProto.FLOAT,
    output_name: str = "output0",
    extra_input: bool = False,
    opaque_shape: bool = False,
) -> bytes:
    """A serialised model with input ``images`` (``[1, channels, *size]`` unless
    ``input_shape`` says otherwise) whose output ``output_name`` is ``output``.

    ``opaque_shape``: the output is reshaped by a shape computed from the input, so that
    onnxruntime cannot know the output's size before it runs."""
    shape_in = list(input_shape) if input_shape is not None else [1, channels, *size]
    shape_out = list(output_shape) if output_shape is not None else list(output.shape)
    nodes = []
    source = "images"
    if input_type != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["images"], ["images_f"], to=TensorProto.FLOAT))
        source = "images_f"
    nodes += [
        helper.make_node("ReduceMean", [source], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["const", "nothing"], ["sum"]),
    ]
    initializers = [
        numpy_helper.from_array(np.asarray(output, dtype=np.float32), "const"),
        numpy_helper.from_array(np.zeros((), dtype=np.float32), "zero"),
    ]
    if opaque_shape:
        initializers.append(numpy_helper.from_array(np.asarray(output.shape, np.int64), "dims"))
        nodes += [
            helper.make_node("Cast", ["nothing"], ["nothing_int"], to=TensorProto.INT64),
            helper.make_node("Add", ["dims", "nothing_int"], ["opaque_dims"]),
            helper.make_node("Reshape", ["sum", "opaque_dims"], ["reshaped"]),
        ]
    last = "reshaped" if opaque_shape else "sum"
    if input_type != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", [last], [output_name], to=input_type))
    else:
        nodes.append(helper.make_node("Identity", [last], [output_name]))
    inputs = [helper.make_tensor_value_info("images", input_type, shape_in)]
    if extra_input:
        inputs.append(helper.make_tensor_value_info("extra", TensorProto.FLOAT, [1]))
    graph = helper.make_graph(
        nodes,
        "tiny-detector",
        inputs,
        [helper.make_tensor_value_info(output_name, input_type, shape_out)],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    data: bytes = model.SerializeToString()
    return data


def write_model(path: Path, output: NDArray[np.float32], **kwargs: Any) -> Path:
    path.write_bytes(build_model(output, **kwargs))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def manifest_document(
    classes: Sequence[tuple[str, str]] = (("handgun", "gun"), ("knife", "knife"),
                                          ("laptop", "benign")),
    *,
    sha256: str | None = None,
    kind: str = "greyscale",
    size: Sequence[int] = (64, 64),
    layout: str = "yolov8",
    **thresholds: Any,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "manifest_version": 1,
        "name": "tiny-threats",
        "version": "0.0.1",
        "classes": [{"name": n, "category": c} for n, c in classes],
        "input": {"kind": kind, "size": list(size)},
        "output": {"layout": layout},
    }
    if sha256 is not None:
        document["model_sha256"] = sha256
    if thresholds:
        document["thresholds"] = thresholds
    return document


def write_manifest(path: Path, document: Mapping[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- builder checks


def test_built_model_outputs_its_constant_whatever_the_image() -> None:
    out = v8_tensor([(10, 20, 4, 6)], [[0.9, 0.1, 0.0]])
    data = build_model(out, metadata=ultralytics_metadata(COCO_LIKE))
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    image = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    (result,) = session.run(None, {"images": image})
    np.testing.assert_array_equal(result, out)
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["names"] == "{0: 'person', 1: 'pistol', 2: 'knife'}"
    assert meta["imgsz"] == "[64, 64]"


def test_tensor_layouts() -> None:
    v8 = v8_tensor([(1, 2, 3, 4), (5, 6, 7, 8)], [[0.1, 0.2], [0.3, 0.4]])
    assert v8.shape == (1, 6, 2)
    assert v8[0, :, 1].tolist() == np.asarray([5, 6, 7, 8, 0.3, 0.4], dtype=np.float32).tolist()
    v5 = v5_tensor([(1, 2, 3, 4)], [0.5], [[0.1, 0.2]])
    assert v5.shape == (1, 1, 7)
