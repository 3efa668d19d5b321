"""One training step of the shipped detector on a CPU: fp32 against bf16 autocast, and the
batch augmentation, measured in one run (``python bench/train_step.py``).

Needs the train extra (PyTorch). A step is what ``training/train.py`` does per batch:
forward, the detection loss (float32 either way), backward and an AdamW update, on a
batch of 16 crops of 256 x 256 in channels-last layout. On a CPU with AMX tiles or
AVX512-BF16 oneDNN runs the bf16 convolutions natively, which is why ``--bf16 auto``
turns it on there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from timing import median_s

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.augment import AugmentConfig, augment
from training.loss import detection_loss
from training.model import Detector, anchor_points
from training.train import use_bf16

BATCH, CROP, INPUT = 16, 256, 512


def step_seconds(bf16: bool, repeats: int) -> float:
    torch.manual_seed(0)
    model = Detector(6).to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), 1e-3)
    images = torch.rand(BATCH, 3, CROP, CROP).contiguous(memory_format=torch.channels_last)
    points, strides = anchor_points(CROP, CROP)
    boxes = torch.tensor([[[40.0, 40.0, 120.0, 90.0], [150.0, 60.0, 200.0, 220.0]]])
    boxes = boxes.expand(BATCH, -1, -1).contiguous()
    labels = torch.tensor([[0, 3]]).expand(BATCH, -1).contiguous()
    valid = torch.ones(BATCH, 2, dtype=torch.bool)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            raw_boxes, logits = model(images)
        loss, _ = detection_loss(raw_boxes, logits, points, strides, boxes, labels, valid)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return median_s(step, repeats, warm_up=True)


def augment_seconds(repeats: int) -> float:
    torch.manual_seed(0)
    images = torch.rand(BATCH, 3, INPUT, INPUT)
    content = torch.ones(BATCH, 1, INPUT, INPUT)
    boxes = torch.tensor([[[100.0, 100.0, 220.0, 180.0]]]).expand(BATCH, -1, -1).contiguous()
    valid = torch.ones(BATCH, 1, dtype=torch.bool)
    cfg = AugmentConfig()
    return median_s(lambda: augment(images, content, boxes, valid, cfg, CROP), repeats,
                    warm_up=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    native = use_bf16("auto", torch.device("cpu"))
    print(f"torch {torch.__version__}, {args.threads} threads, bf16 by default (native bf16): "
          f"{native}; "
          f"batch {BATCH} x {CROP} x {CROP}, median of {args.repeats}")
    fp32 = step_seconds(False, args.repeats)
    bf16 = step_seconds(True, args.repeats)
    aug = augment_seconds(args.repeats)
    print(f"training step, fp32:          {fp32 * 1000:7.1f} ms")
    print(f"training step, bf16 autocast: {bf16 * 1000:7.1f} ms  ({fp32 / bf16:.2f}x fp32)")
    print(f"batch augmentation:           {aug * 1000:7.1f} ms")
    print(f"crops per second, bf16 step + augmentation: {BATCH / (bf16 + aug):.1f} "
          f"(fp32: {BATCH / (fp32 + aug):.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
