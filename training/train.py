"""Train, evaluate and export Screener's threat detector. One command (training/README.md)::

    python -m training.train --out models --seed 0 --checkpoint

The bags are simulated first by a pool of worker processes (cached between runs), then
the model trains on them. Training runs for a wall-clock budget (``--minutes``) and
always ends with the evaluation and the export of what it has (an exception in the loop
is logged and the EMA weights so far are exported), so a short budget still gives a
usable, documented model.

Writes to ``--out``: ``threats.onnx`` and ``threats.json`` (pseudo-colour model and its
sidecar manifest), ``threats-grey.onnx`` and ``threats-grey.json`` (the same weights for
single-energy greyscale input), ``training-metrics.json`` and ``training-log.txt``; with
``--checkpoint`` also ``checkpoint.pt`` (EMA weights).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import multiprocessing as mp
import os
import pickle
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from threadpoolctl import threadpool_limits
from torch import Tensor, nn

from screener import __version__ as screener_version
from training.augment import AUGMENT_PRESETS, AugmentConfig, augment
from training.data import (
    CLASSES,
    DATA_VERSION,
    INPUT_SIZE,
    HeldOutView,
    Job,
    TrainView,
    plan_jobs,
    run_job,
)
from training.evaluate import (
    ViewResult,
    ap_table,
    choose_thresholds,
    choose_thresholds_pooled,
    detect_view,
    floor_manifest,
    fuse_bag_views,
    operating_point,
    pd_curve,
)
from training.export import (
    OPSET,
    TEST_TIME,
    VIEW_FUSION,
    check_with_runtime,
    export_onnx,
    manifest_document,
    onnx_outputs,
    write_manifest,
)
from training.loss import LossWeights, detection_loss
from training.model import Detector, anchor_points, count_parameters
from training.warm_start import (
    calibrate_batch_norm,
    exported_record,
    load_exported_weights,
    phase_record,
)

MODEL_VERSION = "1.0.0"
MAX_BOXES = 8
TARGET_PD = 0.90
LOG = logging.getLogger("training")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="output folder (e.g. models)")
    p.add_argument("--bags", type=int, default=1600, help="training bags (two views each)")
    p.add_argument("--held-out", type=int, default=400, help="held-out bags (disjoint seeds)")
    p.add_argument("--minutes", type=float, default=60.0, help="training wall-clock budget")
    p.add_argument("--cache", type=Path,
                   default=Path(tempfile.gettempdir()) / "screener-training-cache",
                   help="where simulated samples are kept between runs")
    p.add_argument("--crop", type=int, default=256,
                   help="training crop side in model-input pixels (the model is fully "
                   "convolutional and runs on the whole 512 x 512 input)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2.5e-3)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="simulation processes (default: one per core)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--operating-point", choices=("per-class", "pooled"), default="per-class",
                   help="threshold rule: every class reaches PD 0.90 on the calibration "
                   "bags (per-class), or all threats together do, at the fewest false "
                   "alarms, with every class at least --class-min-pd (pooled)")
    p.add_argument("--class-min-pd", type=float, default=0.8,
                   help="the pooled rule's floor on each class's PD")
    p.add_argument("--checkpoint", action="store_true", help="also write checkpoint.pt")
    p.add_argument("--from-checkpoint", type=Path,
                   help="skip training: evaluate and export the weights of this checkpoint.pt "
                   "(the training record in the metrics is the checkpoint's)")
    p.add_argument("--cls-loss", choices=("bce", "varifocal"), default="bce",
                   help="classification loss (training/loss.py)")
    p.add_argument("--cls-weight", type=float, default=0.5,
                   help="weight of the classification loss against the box losses")
    p.add_argument("--class-weights", type=class_weights, default=class_weights(""),
                   help="how much more often views holding a class are drawn, e.g. "
                   "'knife=3,ied=3' (a view counts with its heaviest class; default 1 each)")
    p.add_argument("--augment", choices=tuple(AUGMENT_PRESETS), default="full",
                   help="batch augmentation: full (the default), or light, narrower ranges "
                   "for a last phase (training/augment.py, LIGHT; tried after phase 13: "
                   "better on simulated bags, far worse on real images, not shipped: "
                   "training/README.md)")
    p.add_argument("--resume", type=Path,
                   help="continue training from a checkpoint.pt, or from an exported "
                   "threats.onnx of this architecture (training/warm_start.py; its training "
                   "record is read from the training-metrics.json beside it)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    p.add_argument("--bf16", choices=("auto", "on", "off"), default="auto",
                   help="run the forward pass in bfloat16 (autocast; the loss stays float32). "
                   "auto: on a CUDA GPU, and on a CPU with AMX tiles or AVX512-BF16, where "
                   "oneDNN runs bf16 convolutions natively (per step, 1.7 times the fp32 "
                   "speed on the Intel Xeon with AMX that trained phases 3 and 4, 1.6 times "
                   "on the AMD EPYC with AVX512-BF16 of phase 6: bench/train_step.py); "
                   "elsewhere bf16 is emulated and slower")
    return p.parse_args(argv)


def use_bf16(choice: str, device: torch.device) -> bool:
    if choice != "auto":
        return choice == "on"
    if device.type == "cuda":
        return True
    return device.type == "cpu" and cpu_has_native_bf16()


#: torch.cpu's private probes for AMX tiles (Intel Xeon) and AVX512-BF16 (e.g. AMD Zen 4);
#: a torch without them gets fp32.
NATIVE_BF16_PROBES = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")


def cpu_has_native_bf16() -> bool:
    """Whether oneDNN runs bf16 convolutions in hardware here. Elsewhere bf16 is emulated
    and slower than fp32."""
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in NATIVE_BF16_PROBES)


def class_weights(text: str) -> dict[str, float]:
    """``--class-weights``: ``name=weight`` pairs, every class not named weighs 1."""
    weights = dict.fromkeys(CLASSES, 1.0)
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if name not in weights:
            raise argparse.ArgumentTypeError(f"unknown class {name!r} (classes: "
                                             f"{', '.join(CLASSES)})")
        try:
            weights[name] = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{item!r}: the weight must be a number") \
                from None
        if not weights[name] > 0:
            raise argparse.ArgumentTypeError(f"{item!r}: the weight must be above 0")
    return weights


class Store:
    """Training views on the training device: uint8 images, boxes, content rectangles."""

    def __init__(self, capacity: int, device: torch.device) -> None:
        h, w = INPUT_SIZE
        self.images = torch.empty((capacity, 3, h, w), dtype=torch.uint8, device=device)
        self.boxes = torch.zeros((capacity, MAX_BOXES, 4), device=device)
        self.labels = torch.zeros((capacity, MAX_BOXES), dtype=torch.long, device=device)
        self.valid = torch.zeros((capacity, MAX_BOXES), dtype=torch.bool, device=device)
        self.content = torch.zeros((capacity, 4), dtype=torch.long, device=device)
        self.count = 0
        self.grey = 0
        self.instances = np.zeros(len(CLASSES), dtype=np.int64)
        self.device = device

    def add(self, view: TrainView) -> None:
        if self.count >= self.images.shape[0]:
            return
        i = self.count
        self.images[i] = torch.from_numpy(view.image).permute(2, 0, 1).to(self.device)
        k = min(len(view.labels), MAX_BOXES)
        self.boxes[i].zero_()
        self.valid[i].zero_()
        if k:
            self.boxes[i, :k] = torch.from_numpy(view.boxes[:k]).to(self.device)
            self.labels[i, :k] = torch.from_numpy(view.labels[:k]).to(self.device)
            self.valid[i, :k] = True
            np.add.at(self.instances, view.labels[:k], 1)
        self.content[i] = torch.tensor(view.content, device=self.device)
        self.grey += view.grey
        self.count += 1

    def sampling_weights(self, class_weights: Sequence[float]) -> Tensor:
        """Per view: the largest weight among its threats' classes, 1 for a clean view."""
        table = torch.tensor([1.0, *class_weights], device=self.device)
        labels = torch.where(self.valid[:self.count], self.labels[:self.count] + 1, 0)
        return table[labels].amax(1)

    def batch(self, size: int, weights: Tensor | None = None
              ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
        """``size`` random views, uniformly or in proportion to ``weights``."""
        if weights is None:
            idx = torch.randint(0, self.count, (size,), device=self.device)
        else:
            idx = torch.multinomial(weights, size, replacement=True)
        images = self.images[idx].float().div_(255.0)
        content = self.content[idx]
        h, w = INPUT_SIZE
        ys = torch.arange(h, device=self.device)[None, :, None]
        xs = torch.arange(w, device=self.device)[None, None, :]
        top, left = content[:, 0, None, None], content[:, 1, None, None]
        ch, cw = content[:, 2, None, None], content[:, 3, None, None]
        mask = ((ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)).float()
        return images, mask[:, None], self.boxes[idx], self.labels[idx], self.valid[idx]


def cache_path(cache: Path, job: Job) -> Path:
    return cache / ("held-out" if job.held_out else "train") / f"{job.index:06d}.pkl"


def one_blas_thread() -> None:
    """Simulation pool initialiser: one BLAS thread per process. With one process per core,
    OpenBLAS's own threads only contend for the same cores: on 2 cores, 2 processes made
    0.66 to 0.75 bags/s with numpy's default threads and 1.47 to 1.50 with one."""
    threadpool_limits(1, user_api="blas")


def simulate(jobs: list[Job], cache: Path, workers: int) -> None:
    """Make every job's sample file in ``cache`` that is not there yet (a process pool)."""
    todo = [job for job in jobs if not cache_path(cache, job).exists()]
    LOG.info("simulation: %d of %d bags cached, %d to make with %d processes",
             len(jobs) - len(todo), len(jobs), len(todo), workers)
    if not todo:
        return
    for folder in ("train", "held-out"):
        (cache / folder).mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    context = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with context.Pool(workers, initializer=one_blas_thread) as pool:
        for done, (job, views) in enumerate(pool.imap_unordered(run_job, todo, chunksize=1),
                                            1):
            path = cache_path(cache, job)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as handle:
                pickle.dump(views, handle, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)
            if done % 100 == 0 or done == len(todo):
                rate = done / (time.monotonic() - start)
                LOG.info("simulated %d / %d bags (%.2f bags/s)", done, len(todo), rate)


def load(jobs: list[Job], cache: Path, store: Store, held_out: list[HeldOutView]) -> int:
    """Read the cached samples of ``jobs``; returns how many bags the simulator refused."""
    refused = 0
    for job in jobs:
        with cache_path(cache, job).open("rb") as handle:
            views = pickle.load(handle)
        if views is None:
            refused += 1
        elif job.held_out:
            held_out.extend(views)
        else:
            for view in views:
                store.add(view)
    return refused


class EMA:
    """Exponential moving average of the weights (and buffers), ramped up at the start."""

    def __init__(self, model: nn.Module, decay: float = 0.9995, ramp: float = 500.0) -> None:
        import copy

        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay = decay
        self.ramp = ramp
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.ramp))
        own = self.model.state_dict()
        for name, value in model.state_dict().items():
            if value.dtype.is_floating_point:
                own[name].mul_(d).add_(value.detach(), alpha=1 - d)
            else:
                own[name].copy_(value)


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.999))


def lr_factor(progress: float, warmup: float = 0.03) -> float:
    if progress < warmup:
        return 0.05 + 0.95 * progress / warmup
    t = (progress - warmup) / (1 - warmup)
    return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))


def setup_logging(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S")
    LOG.setLevel(logging.INFO)
    for handler in (logging.StreamHandler(sys.stdout),
                    logging.FileHandler(out / "training-log.txt", mode="w", encoding="utf-8")):
        handler.setFormatter(fmt)
        LOG.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.monotonic()
    setup_logging(args.out)
    cache = args.cache / f"seed{args.seed}-{DATA_VERSION}"
    jobs = plan_jobs(args.seed, args.bags, args.held_out)
    LOG.info("screener %s, torch %s, python %s, %d CPU cores; %d training + %d held-out bags; "
             "cache %s", screener_version, torch.__version__, platform.python_version(),
             os.cpu_count() or 0, args.bags, args.held_out, cache)

    # ------------------------------------------------------------------ data
    simulate(jobs, cache, args.workers)
    simulate_seconds = time.monotonic() - t0
    device = torch.device(args.device)
    store = Store(2 * args.bags, torch.device("cpu"))
    held_out: list[HeldOutView] = []
    refused = load(jobs, cache, store, held_out)
    LOG.info("data ready after %.0f s: %d training views (%d greyscale), %d held-out views, "
             "%d bags refused by the simulator; threat instances %s", time.monotonic() - t0,
             store.count, store.grey, len(held_out), refused,
             dict(zip(CLASSES, store.instances.tolist(), strict=True)))

    # ------------------------------------------------------------------ training
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = device.type == "cuda"
    bf16 = use_bf16(args.bf16, device)
    if cuda:
        torch.backends.cudnn.benchmark = True
        LOG.info("device: %s", torch.cuda.get_device_name(device))
    model = Detector(len(CLASSES)).to(device).to(memory_format=torch.channels_last)
    LOG.info("model: %d parameters; training on %s (%s), %d x %d crops, batch %d, %.1f minutes",
             count_parameters(model), device, "bf16 autocast" if bf16 else "fp32", args.crop,
             args.crop, args.batch, args.minutes)
    checkpoint_state: dict[str, Any] = {}
    if args.from_checkpoint is not None:
        checkpoint_state = torch.load(args.from_checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(checkpoint_state["model"])
        LOG.info("weights from %s (%d steps); no training", args.from_checkpoint,
                 checkpoint_state.get("step", 0))
    cfg = AUGMENT_PRESETS[args.augment]
    earlier: dict[str, Any] = {}
    if args.resume is not None:
        earlier = resume_weights(model, args.resume, store, cfg, args.crop, device)
        LOG.info("resuming from %s after %d steps (%.0f s) of earlier training",
                 args.resume, earlier["steps"], earlier["seconds"])
    ema = EMA(model)
    optimizer = make_optimizer(model, args.lr)
    loss_weights = LossWeights(cls=args.cls_weight, cls_loss=args.cls_loss)
    view_weights = store.sampling_weights([args.class_weights[c] for c in CLASSES])
    points, strides = anchor_points(args.crop, args.crop, device=device)
    train_start = time.monotonic()
    budget_end = train_start + (0.0 if checkpoint_state else args.minutes * 60)
    step = 0
    history: list[dict[str, float]] = []
    running: dict[str, float] = {}
    error: str | None = None
    try:
        while time.monotonic() < budget_end:
            progress = (time.monotonic() - train_start) / (budget_end - train_start)
            for group in optimizer.param_groups:
                group["lr"] = args.lr * lr_factor(progress)
            images, mask, boxes, labels, valid = (t.to(device) for t in store.batch(
                args.batch, view_weights))
            images, boxes, valid = augment(images, mask, boxes, valid, cfg, args.crop)
            images = images.contiguous(memory_format=torch.channels_last)
            model.train()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                raw_boxes, logits = model(images)
            loss, parts = detection_loss(raw_boxes, logits, points, strides, boxes, labels,
                                         valid, loss_weights)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            optimizer.step()
            ema.update(model)
            step += 1
            for key, value in parts.items():
                running[key] = value if step == 1 else running[key] * 0.98 + value * 0.02
            if step % 250 == 0 or step == 1:
                row = {"step": step, "seconds": round(time.monotonic() - train_start, 1),
                       "lr": args.lr * lr_factor(progress),
                       **{k: round(v, 4) for k, v in running.items()}}
                history.append(row)
                LOG.info("step %(step)d  %(seconds).0f s  lr %(lr).5f  box %(box).3f  "
                         "cls %(cls).3f  l1 %(l1).3f  positives/image %(pos).1f", row)
                if args.checkpoint:
                    save_checkpoint(args, ema.model, *whole_record(
                        args, earlier, step, time.monotonic() - train_start, history))
    except Exception:
        error = traceback.format_exc()
        LOG.error("training stopped by an error; evaluating and exporting the EMA weights "
                  "so far:\n%s", error)
    train_seconds = time.monotonic() - train_start
    LOG.info("training done: %d steps in %.0f s (%.1f crops/s)", step, train_seconds,
             step * args.batch / max(train_seconds, 1e-6))
    final = ema.model.float().eval().cpu().to(memory_format=torch.contiguous_format)
    if checkpoint_state:
        step = int(checkpoint_state.get("step", 0))
        train_seconds = float(checkpoint_state.get("seconds", 0.0))
        history = list(checkpoint_state.get("history", []))
        phases = list(checkpoint_state.get("phases", []))
    else:
        step, train_seconds, history, phases = whole_record(args, earlier, step, train_seconds,
                                                            history)
    if args.checkpoint and not checkpoint_state:
        save_checkpoint(args, final, step, train_seconds, history, phases)
    metrics: dict[str, Any] = {
        "model_version": MODEL_VERSION,
        "screener_version": screener_version,
        "torch": torch.__version__,
        "hardware": hardware(device),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "parameters": count_parameters(final),
        "data": {
            "simulate_seconds": round(simulate_seconds, 1),
            "training_bags": args.bags, "held_out_bags": args.held_out,
            "bags_refused": refused, "training_views": store.count,
            "greyscale_training_views": store.grey,
            "threat_instances_per_class": dict(zip(CLASSES, store.instances.tolist(),
                                                   strict=True)),
            "held_out_views": len(held_out),
        },
        "training": {
            "steps": step, "seconds": round(train_seconds, 1), "batch": args.batch,
            "crop": args.crop, "error": error,
            "crops_seen": sum(p["steps"] * (p.get("batch") or args.batch) for p in phases),
            "phases": phases, "history": history,
        },
        "augment": asdict(cfg),
    }

    # ------------------------------------------------------------------ export + evaluation
    torch.set_num_threads(max(1, args.threads or torch.get_num_threads()))
    exported: dict[str, Any] = {}
    for name, rendering in (("threats", "standard"), ("threats-grey", "grey")):
        grey = rendering == "grey"
        path = args.out / f"{name}.onnx"
        export_onnx(final, path, INPUT_SIZE, grey=grey)
        results = evaluate_onnx(path, held_out, grey)
        calib = [r for r in results if r.bag % 2 == 0]
        test = [r for r in results if r.bag % 2 == 1]
        rules = {
            "per-class": choose_thresholds(calib, CLASSES, TARGET_PD),
            "pooled": choose_thresholds_pooled(calib, CLASSES, TARGET_PD, args.class_min_pd),
        }
        chosen = rules[args.operating_point]
        metrics[rendering] = {
            "model": path.name,
            "held_out_views": len(results),
            "ap_all": ap_table(results, CLASSES),
            "operating_point_rule": args.operating_point,
            "operating_point_calibration": operating_point(calib, CLASSES, chosen),
            "operating_point_test": operating_point(test, CLASSES, chosen),
            "operating_point_all": operating_point(results, CLASSES, chosen),
            "other_rules_test": {name: operating_point(test, CLASSES, limits)
                                 for name, limits in rules.items()
                                 if name != args.operating_point},
            "pd_fa_curve_all_in_sample": pd_curve(results, CLASSES),
        }
        LOG.info("%s: mAP50 %.3f  mAP50-95 %.3f  test PD %.3f  FA/bag %.3f", rendering,
                 metrics[rendering]["ap_all"]["map50"], metrics[rendering]["ap_all"]["map50_95"],
                 metrics[rendering]["operating_point_test"]["pd"],
                 metrics[rendering]["operating_point_test"]["false_alarms_per_bag"])
        document = manifest_document(path, CLASSES, INPUT_SIZE, chosen, MODEL_VERSION, grey=grey)
        write_manifest(args.out / f"{name}.json", document)
        exported[name] = {"bytes": path.stat().st_size, "sha256": document["model_sha256"],
                          "opset": OPSET}
        samples = [v.grey[:, :, 0] if grey else v.standard for v in held_out[:8]]
        if samples:
            try:
                exported[name]["runtime"] = check_with_runtime(path, samples)
                exported[name]["max_abs_diff_vs_torch"] = parity(final, path, held_out[0],
                                                                 grey)
            except Exception:
                exported[name]["runtime_error"] = traceback.format_exc()
                LOG.error("runtime check of %s failed:\n%s", path, traceback.format_exc())
        LOG.info("exported %s: %s", path, exported[name])
    metrics["exported"] = exported
    metrics["total_seconds"] = round(time.monotonic() - t0, 1)
    (args.out / "training-metrics.json").write_text(
        json.dumps(json_safe(metrics), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    LOG.info("all done in %.0f s", time.monotonic() - t0)
    return 0


def json_safe(value: Any) -> Any:
    """NaN (an AP with no ground truth) as null: strict JSON readers refuse NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def save_checkpoint(args: argparse.Namespace, model: nn.Module, step: int, seconds: float,
                    history: list[dict[str, float]], phases: list[dict[str, Any]]) -> None:
    """EMA weights and the training record, enough for ``--from-checkpoint`` and
    ``--resume``."""
    torch.save({"model": model.state_dict(), "step": step, "seconds": seconds,
                "history": history, "phases": phases, "classes": CLASSES,
                "args": {k: str(v) for k, v in vars(args).items()}},
               args.out / "checkpoint.pt")


def whole_record(args: argparse.Namespace, earlier: dict[str, Any], step: int, seconds: float,
                 history: list[dict[str, float]]
                 ) -> tuple[int, float, list[dict[str, float]], list[dict[str, Any]]]:
    """This phase's steps, seconds and loss history added to the earlier phases' (empty
    ``earlier`` for a run from scratch), and the list of phases with this one last."""
    precision = "bf16" if use_bf16(args.bf16, torch.device(args.device)) else "fp32"
    phase = phase_record(step, seconds, args.bags, args.lr, args.cls_loss, args.class_weights,
                         str(args.resume) if args.resume else None, precision, DATA_VERSION,
                         args.batch, args.augment)
    if not earlier:
        return step, seconds, history, [phase]
    offset_steps, offset_seconds = earlier["steps"], earlier["seconds"]
    shifted = [{**row, "step": row["step"] + offset_steps,
                "seconds": round(row["seconds"] + offset_seconds, 1)} for row in history]
    return (step + offset_steps, seconds + offset_seconds, [*earlier["history"], *shifted],
            [*earlier["phases"], phase])


def resume_weights(model: Detector, source: Path, store: Store, cfg: AugmentConfig, crop: int,
                   device: torch.device) -> dict[str, Any]:
    """Load ``source`` (checkpoint.pt or an exported ONNX file) into ``model``; returns the
    earlier training record: steps, seconds, history and phases."""
    if source.suffix == ".onnx":
        load_exported_weights(model, source, INPUT_SIZE)
        images, mask, boxes, _labels, valid = (t.to(device) for t in store.batch(32))
        images, _boxes, _valid = augment(images, mask, boxes, valid, cfg, crop)
        calibrate_batch_norm(model, images.contiguous(memory_format=torch.channels_last))
        record = exported_record(source)
    else:
        state = torch.load(source, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        record = {"steps": int(state.get("step", 0)), "seconds": float(state.get("seconds", 0)),
                  "history": list(state.get("history", [])),
                  "phases": list(state.get("phases", []))}
    record.setdefault("steps", 0)
    record.setdefault("seconds", 0.0)
    record.setdefault("history", [])
    record.setdefault("phases", [])
    return record


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} CPU cores"


def onnx_session(path: Path, threads: int = 0) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=options,
                                providers=["CPUExecutionProvider"])


def evaluate_onnx(path: Path, views: list[HeldOutView], grey: bool) -> list[ViewResult]:
    """Run the exported model (onnxruntime, CPU) on every held-out view, standard or
    greyscale rendering, with the shipped test-time passes and view fusion, and decode
    as the runtime does."""
    session = onnx_session(path)
    name = session.get_inputs()[0].name
    manifest = floor_manifest(CLASSES, INPUT_SIZE, "pseudo-colour", TEST_TIME, VIEW_FUSION)

    def run(tensor: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.asarray(session.run(None, {name: tensor})[0])

    results = []
    for v in views:
        image = v.grey if grey else v.standard
        tensor = image.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)
        if grey:
            tensor = np.ascontiguousarray(tensor[:, :1])
        results.append(detect_view(run, tensor, manifest, v))
    return fuse_bag_views(results, manifest)


@torch.no_grad()
def parity(model: Detector, path: Path, view: HeldOutView, grey: bool) -> float:
    """Largest absolute difference between the ONNX file and the torch model on one view
    (the torch model takes the greyscale rendering as three equal channels)."""
    from training.model import ExportWrapper

    image = view.grey if grey else view.standard
    tensor = image.transpose(2, 0, 1)[None].astype(np.float32) / np.float32(255.0)
    expected = ExportWrapper(model, INPUT_SIZE).eval()(torch.from_numpy(tensor)).numpy()[0]
    got = onnx_outputs(path, tensor[:, :1] if grey else tensor)[0]
    return float(np.abs(got - expected).max())


if __name__ == "__main__":
    raise SystemExit(main())
