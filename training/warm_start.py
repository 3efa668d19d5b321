"""Resume training from weights that were only kept as an exported ONNX file.

The exporter folds every batch norm into the convolution before it (``W_f = W * g / s``,
``b_f = beta + (b - mean) * g / s``), so an ONNX file holds the *function* of the
trained network, not its batch-norm state. :func:`load_exported_weights` puts the fused
weights back into a :class:`training.model.Detector`, with each batch norm set to the
identity (zero mean, unit variance, unit scale, the fused bias as its shift): in eval
mode the model then computes exactly what the ONNX file computes.

Training, however, runs batch norm on *batch* statistics. :func:`calibrate_batch_norm`
therefore passes one batch through the model in training mode and, layer by layer as the
batch reaches it, sets each batch norm's scale to the batch's standard deviation and its
shift to the fused bias plus the batch mean, and its running statistics to the batch's.
On that batch the training-mode output is then the exported function, and on other
batches close to it, so training goes on from where the exported model was rather than
from a network whose layers suddenly see renormalised inputs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from training.model import Detector, ExportWrapper


class WarmStartError(RuntimeError):
    """The ONNX file does not hold this architecture's weights."""


def _conv_order(model: Detector, input_size: tuple[int, int]) -> list[nn.Conv2d]:
    """The model's convolutions in the order a forward pass (and so the export trace)
    runs them."""
    order: list[nn.Conv2d] = []
    hooks = [m.register_forward_hook(lambda mod, _i, _o: order.append(mod))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            ExportWrapper(model, input_size).eval()(torch.zeros(1, 3, *input_size))
    finally:
        for hook in hooks:
            hook.remove()
    return order


def _onnx_convs(path: Path) -> list[tuple[Tensor, Tensor | None]]:
    """Weight and bias of every Conv node of ``path``, in graph order."""
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(path)).graph
    except Exception as exc:  # onnx raises DecodeError, OSError, ... for a bad file
        raise WarmStartError(f"{path}: not a readable ONNX file ({exc})") from exc
    weights = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy())
               for i in graph.initializer}
    for node in graph.node:  # the exporter shares equal tensors through Identity nodes
        if node.op_type == "Identity" and node.input[0] in weights:
            weights[node.output[0]] = weights[node.input[0]]
    convs = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        if node.input[1] not in weights:
            raise WarmStartError(f"{path}: Conv node {node.name} has no stored weight")
        bias = weights.get(node.input[2]) if len(node.input) > 2 else None
        convs.append((weights[node.input[1]], bias))
    return convs


def _batch_norm_after(model: Detector) -> dict[nn.Conv2d, nn.BatchNorm2d]:
    from training.model import Conv

    return {m.conv: m.bn for m in model.modules() if isinstance(m, Conv)}


@torch.no_grad()
def load_exported_weights(model: Detector, path: Path, input_size: tuple[int, int]) -> None:
    """Put the weights of an ONNX file exported by ``training.export`` back into
    ``model`` (same architecture); batch norms become the identity with the fused bias."""
    convs = _conv_order(model, input_size)
    stored = _onnx_convs(path)
    if len(stored) != len(convs):
        raise WarmStartError(f"{path}: {len(stored)} convolutions, the model has {len(convs)}")
    norms = _batch_norm_after(model)
    for index, (conv, (weight, bias)) in enumerate(zip(convs, stored, strict=True)):
        if tuple(weight.shape) != tuple(conv.weight.shape):
            raise WarmStartError(f"{path}: convolution {index} has shape {tuple(weight.shape)}, "
                                 f"the model's has {tuple(conv.weight.shape)}")
        if bias is None:
            raise WarmStartError(f"{path}: convolution {index} has no bias (every exported "
                                 "convolution has one once batch norm is folded in)")
        conv.weight.copy_(weight)
        norm = norms.get(conv)
        if norm is None:
            if conv.bias is None:
                raise WarmStartError(f"{path}: convolution {index} has a bias, the model's "
                                     "has none")
            conv.bias.copy_(bias)
            continue
        norm.running_mean.zero_()
        norm.running_var.fill_(1.0 - norm.eps)
        norm.weight.fill_(1.0)
        norm.bias.copy_(bias)


@torch.no_grad()
def calibrate_batch_norm(model: Detector, images: Tensor) -> None:
    """Make training-mode batch norm reproduce the loaded function on ``images`` (see
    the module docstring). Call once, right after :func:`load_exported_weights`."""
    def calibrate(norm: nn.Module, inputs: tuple[Tensor, ...]) -> None:
        assert isinstance(norm, nn.BatchNorm2d)
        x = inputs[0].float()
        mean = x.mean((0, 2, 3))
        var = x.var((0, 2, 3), unbiased=False)
        shift = norm.bias.clone()  # the fused bias, set by load_exported_weights
        norm.weight.copy_((var + norm.eps).sqrt())
        norm.bias.copy_(shift + mean)
        norm.running_mean.copy_(mean)
        norm.running_var.copy_(var)

    hooks = [m.register_forward_pre_hook(calibrate)
             for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    was_training = model.training
    try:
        model.train()
        model(images)
    finally:
        for hook in hooks:
            hook.remove()
        model.train(was_training)


def exported_record(path: Path) -> dict[str, Any]:
    """The training record of an exported ONNX file: ``training-metrics.json`` beside it,
    when that file's export of this model has the same sha256 (else an empty record)."""
    metrics_path = path.with_name("training-metrics.json")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"sha256": sha}
    exported = metrics.get("exported", {}).get(path.stem, {})
    if exported.get("sha256") != sha:
        return {"sha256": sha}
    training = metrics.get("training", {})
    args = metrics.get("args", {})
    steps, seconds = int(training.get("steps", 0)), float(training.get("seconds", 0.0))
    phases = list(training.get("phases", [])) or [
        phase_record(steps, seconds, args.get("bags"), args.get("lr"),
                     args.get("cls_loss", "bce"), args.get("class_weights"), None,
                     batch=args.get("batch"))]
    return {"sha256": sha, "steps": steps, "seconds": seconds,
            "history": list(training.get("history", [])), "phases": phases}


def phase_record(steps: int, seconds: float, bags: int | None, lr: float | None,
                 cls_loss: str, class_weights: dict[str, float] | None,
                 resumed_from: str | None, precision: str | None = None,
                 data_version: str | None = None, batch: int | None = None,
                 augment: str | None = None) -> dict[str, Any]:
    """One training phase as ``training-metrics.json`` and the model card list it;
    ``precision`` is "bf16" (autocast forward pass) or "fp32", ``data_version`` the
    ``DATA_VERSION`` of the simulated samples it trained on, ``batch`` its crops per
    step, ``augment`` its batch augmentation (``train.py --augment``); each is ``None``
    where a record written before it was kept does not say (those phases used "full")."""
    return {"steps": steps, "seconds": round(seconds, 1), "training_bags": bags, "lr": lr,
            "cls_loss": cls_loss, "class_weights": class_weights,
            "resumed_from": resumed_from, "precision": precision,
            "data_version": data_version, "batch": batch, "augment": augment}
