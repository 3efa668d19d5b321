"""Resuming training from an exported ONNX file (training/warm_start.py).

PyTorch is a development-only extra (``pip install -e '.[train]'``): without it these
tests skip, as the workstation never needs it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch (the train extra) is not installed")
pytest.importorskip("onnx", reason="onnx (the train extra) is not installed")

from training.export import export_onnx, onnx_outputs  # noqa: E402
from training.model import Detector, ExportWrapper  # noqa: E402
from training.warm_start import (  # noqa: E402
    WarmStartError,
    calibrate_batch_norm,
    load_exported_weights,
)

SIZE = (64, 64)


def _trained_like(seed: int) -> Detector:
    """A detector with non-trivial weights and batch-norm statistics, as training leaves
    them (a few training-mode passes over random images)."""
    torch.manual_seed(seed)
    model = Detector(3)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(4, 3, *SIZE))
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
    return model.eval()


@pytest.fixture()
def exported(tmp_path: Path) -> tuple[Detector, Path]:
    model = _trained_like(0)
    path = tmp_path / "threats.onnx"
    export_onnx(model, path, SIZE)
    return model, path


def test_loaded_weights_compute_what_the_onnx_file_computes(exported: tuple[Detector, Path]
                                                            ) -> None:  # fmt: skip
    _, path = exported
    restored = Detector(3)
    load_exported_weights(restored, path, SIZE)
    image = torch.rand(1, 3, *SIZE)
    expected = onnx_outputs(path, image.numpy())
    got = ExportWrapper(restored, SIZE).eval()(image).detach().numpy()
    assert np.abs(got - expected).max() < 1e-3
    # and a freshly initialised model does not, so the comparison can fail
    fresh = ExportWrapper(Detector(3), SIZE).eval()(image).detach().numpy()
    assert np.abs(fresh - expected).max() > 1e-2


def test_calibrated_training_mode_reproduces_the_exported_function_on_its_batch(
        exported: tuple[Detector, Path]) -> None:
    original, path = exported
    restored = Detector(3)
    load_exported_weights(restored, path, SIZE)
    batch = torch.rand(6, 3, *SIZE)
    calibrate_batch_norm(restored, batch)
    restored.train()
    with torch.no_grad():
        boxes, logits = restored(batch)
        want_boxes, want_logits = original.eval()(batch)
    assert torch.allclose(logits, want_logits, atol=1e-3)
    assert torch.allclose(boxes, want_boxes, atol=1e-3)
    assert restored.training  # calibration leaves the mode as it found it


def test_another_architecture_is_refused_naming_the_file(exported: tuple[Detector, Path]
                                                         ) -> None:  # fmt: skip
    _, path = exported
    with pytest.raises(WarmStartError, match=r"threats\.onnx"):
        load_exported_weights(Detector(3, head_width=32), path, SIZE)


def test_a_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "weights.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(WarmStartError, match=r"weights\.onnx"):
        load_exported_weights(Detector(3), bad, SIZE)
