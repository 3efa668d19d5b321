"""The YOLO11n-shaped graph that bench/detect.py times ours against: a valid ONNX model
with YOLO11n's output layout and parameter count."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort  # type: ignore[import-untyped, unused-ignore]
import pytest

GRAPH_FILE = Path(__file__).resolve().parent.parent / "bench" / "yolo11n_graph.py"


@pytest.fixture(scope="module")
def yolo11n_graph():
    spec = importlib.util.spec_from_file_location("yolo11n_graph", GRAPH_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_graph_runs_with_yolo11n_output_and_parameters(yolo11n_graph):
    graph = yolo11n_graph.build_yolo11n((128, 128), num_classes=80)
    onnx.checker.check_model(graph.model, full_check=True)
    session = ort.InferenceSession(graph.serialized(), providers=["CPUExecutionProvider"])
    image = np.random.default_rng(0).random((1, 3, 128, 128), dtype=np.float32)
    (output,) = session.run(None, {"images": image})
    candidates = (128 // 8) ** 2 + (128 // 16) ** 2 + (128 // 32) ** 2
    assert output.shape == (1, 4 + 80, candidates) == (1, 84, graph.candidates)
    assert np.all(np.isfinite(output))
    assert np.all((output[0, 4:] >= 0) & (output[0, 4:] <= 1))  # sigmoid class scores
    assert abs(graph.parameters - 2.6e6) <= 0.1 * 2.6e6
    assert graph.parameters == yolo11n_graph.YOLO11N_PARAMETERS  # fused YOLO11n, exactly


def test_graph_follows_the_class_count_and_refuses_odd_sizes(yolo11n_graph):
    graph = yolo11n_graph.build_yolo11n((64, 96), num_classes=6)
    assert graph.candidates == 8 * 12 + 4 * 6 + 2 * 3
    assert graph.model.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 10
    with pytest.raises(ValueError, match="multiples of 32"):
        yolo11n_graph.build_yolo11n((100, 100))
