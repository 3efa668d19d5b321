"""Task-aligned assignment and the detection loss (BCE or varifocal for classes, GIoU + L1
for boxes).

Assignment follows TOOD / YOLOv8's task-aligned assigner, simplified: an anchor point is a
candidate for a ground-truth box when it lies inside the box or within 2.5 strides of its
centre (so that boxes smaller than a stride still get anchors); among the candidates, the
``top_k`` with the largest alignment ``s^alpha * IoU^beta`` (``s``: the predicted score of
the box's class) become positives; an anchor claimed by several boxes keeps the one it
overlaps most. Class targets are the alignment, normalised per box to its best IoU
(IoU-aware soft labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F  # noqa: N812
from torch import Tensor

from training.model import decode

EPS = 1e-7


@dataclass(frozen=True)
class LossWeights:
    box: float = 7.5
    cls: float = 0.5
    l1: float = 0.5
    #: "bce" (YOLOv8) or "varifocal" (VarifocalNet, as YOLOv6 and PP-YOLOE use with
    #: task-aligned assignment): negatives weighted by ``alpha * p**gamma``, positives by
    #: their soft target, so that the many easy background anchors stop setting every
    #: score of a hard class near zero.
    cls_loss: str = "bce"
    focal_alpha: float = 0.75
    focal_gamma: float = 2.0


def class_loss(logits: Tensor, target_scores: Tensor, weights: LossWeights) -> Tensor:
    """Summed classification loss over every anchor and class."""
    if weights.cls_loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, target_scores, reduction="sum")
    if weights.cls_loss != "varifocal":
        raise ValueError(f"unknown classification loss {weights.cls_loss!r}")
    p = logits.detach().sigmoid()
    positive = (target_scores > 0).float()
    weight = weights.focal_alpha * p.pow(weights.focal_gamma) * (1.0 - positive) \
        + target_scores * positive
    return F.binary_cross_entropy_with_logits(logits, target_scores, weight=weight,
                                              reduction="sum")


def box_iou_pairwise(a: Tensor, b: Tensor) -> Tensor:
    """IoU of corner boxes ``a`` (..., 4) and ``b`` (..., 4), broadcast."""
    x0 = torch.maximum(a[..., 0], b[..., 0])
    y0 = torch.maximum(a[..., 1], b[..., 1])
    x1 = torch.minimum(a[..., 2], b[..., 2])
    y1 = torch.minimum(a[..., 3], b[..., 3])
    inter = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    area_a = (a[..., 2] - a[..., 0]).clamp(min=0) * (a[..., 3] - a[..., 1]).clamp(min=0)
    area_b = (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)
    return inter / (area_a + area_b - inter + EPS)


def giou(a: Tensor, b: Tensor) -> Tensor:
    """Generalised IoU of corner boxes, elementwise over (..., 4)."""
    iou = box_iou_pairwise(a, b)
    cx0 = torch.minimum(a[..., 0], b[..., 0])
    cy0 = torch.minimum(a[..., 1], b[..., 1])
    cx1 = torch.maximum(a[..., 2], b[..., 2])
    cy1 = torch.maximum(a[..., 3], b[..., 3])
    hull = (cx1 - cx0) * (cy1 - cy0) + EPS
    x0 = torch.maximum(a[..., 0], b[..., 0])
    y0 = torch.maximum(a[..., 1], b[..., 1])
    x1 = torch.minimum(a[..., 2], b[..., 2])
    y1 = torch.minimum(a[..., 3], b[..., 3])
    inter = (x1 - x0).clamp(min=0) * (y1 - y0).clamp(min=0)
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter + EPS
    return iou - (hull - union) / hull


@torch.no_grad()
def assign(scores: Tensor, boxes: Tensor, points: Tensor, strides: Tensor, gt_boxes: Tensor,
           gt_labels: Tensor, gt_valid: Tensor, top_k: int = 10, alpha: float = 0.5,
           beta: float = 6.0, radius: float = 2.5) -> tuple[Tensor, Tensor, Tensor]:
    """Targets for one batch.

    ``scores`` (B, N, C) probabilities, ``boxes`` (B, N, 4) predicted corners, ``points``
    (N, 2), ``strides`` (N,), ``gt_boxes`` (B, M, 4), ``gt_labels`` (B, M) long,
    ``gt_valid`` (B, M) bool. Returns ``positive`` (B, N) bool, ``target_boxes`` (B, N, 4)
    and ``target_scores`` (B, N, C).
    """
    batch, n_anchors, n_classes = scores.shape
    m = gt_boxes.shape[1]
    device = scores.device
    if m == 0 or not bool(gt_valid.any()):
        return (torch.zeros(batch, n_anchors, dtype=torch.bool, device=device),
                torch.zeros(batch, n_anchors, 4, device=device),
                torch.zeros(batch, n_anchors, n_classes, device=device))
    px = points[None, None, :, 0]
    py = points[None, None, :, 1]
    gx0, gy0 = gt_boxes[..., 0:1], gt_boxes[..., 1:2]
    gx1, gy1 = gt_boxes[..., 2:3], gt_boxes[..., 3:4]
    inside = (px > gx0) & (px < gx1) & (py > gy0) & (py < gy1)
    reach = radius * strides[None, None, :]
    near = ((px - (gx0 + gx1) / 2).abs() < reach) & ((py - (gy0 + gy1) / 2).abs() < reach)
    candidate = (inside | near) & gt_valid[..., None]  # (B, M, N)

    labels = gt_labels.clamp(min=0)
    class_scores = torch.gather(scores.transpose(1, 2), 1,
                                labels[..., None].expand(-1, -1, n_anchors))  # (B, M, N)
    overlaps = box_iou_pairwise(gt_boxes[:, :, None, :], boxes[:, None, :, :])  # (B, M, N)
    overlaps = overlaps * candidate
    align = class_scores.pow(alpha) * overlaps.pow(beta) * candidate
    k = min(top_k, n_anchors)
    # ties on zero alignment (early training) fall back to the nearest candidates
    centre_x = (gx0 + gx1) / 2
    centre_y = (gy0 + gy1) / 2
    dist = ((px - centre_x) ** 2 + (py - centre_y) ** 2).sqrt() / strides[None, None, :]
    rank = align + 1e-9 * candidate / (1.0 + dist)
    top = rank.topk(k, dim=-1).indices
    chosen = torch.zeros_like(candidate)
    chosen.scatter_(-1, top, True)
    chosen &= candidate
    # an anchor claimed by several boxes keeps the one it overlaps most
    claimed = chosen.sum(1)  # (B, N)
    if bool((claimed > 1).any()):
        best = (overlaps * chosen).argmax(1)  # (B, N)
        only_best = F.one_hot(best, m).transpose(1, 2).bool()
        chosen = torch.where((claimed > 1)[:, None, :], only_best & chosen, chosen)
    positive = chosen.any(1)  # (B, N)
    owner = chosen.float().argmax(1)  # (B, N)
    target_boxes = torch.gather(gt_boxes, 1, owner[..., None].expand(-1, -1, 4))
    target_labels = torch.gather(labels, 1, owner)
    align = align * chosen
    best_align = align.amax(-1, keepdim=True)
    best_iou = (overlaps * chosen).amax(-1, keepdim=True)
    norm = (align * best_iou / (best_align + EPS)).amax(1)  # (B, N)
    target_scores = F.one_hot(target_labels, n_classes).float() * (norm * positive)[..., None]
    return positive, target_boxes, target_scores


def detection_loss(raw_boxes: Tensor, logits: Tensor, points: Tensor, strides: Tensor,
                   gt_boxes: Tensor, gt_labels: Tensor, gt_valid: Tensor,
                   weights: LossWeights = LossWeights()) -> tuple[Tensor, dict[str, float]]:
    """Total loss (scaled by the batch size, as YOLOv8) and its parts for the log."""
    raw_boxes = raw_boxes.float()
    logits = logits.float()
    boxes = decode(raw_boxes, points, strides)
    scores = logits.detach().sigmoid()
    positive, target_boxes, target_scores = assign(
        scores, boxes.detach(), points, strides, gt_boxes, gt_labels, gt_valid)
    total_score = target_scores.sum().clamp(min=1.0)
    cls_loss = class_loss(logits, target_scores, weights) / total_score
    if bool(positive.any()):
        weight = target_scores.sum(-1)[positive]
        box_loss = ((1.0 - giou(boxes[positive], target_boxes[positive])) * weight).sum() \
            / total_score
        scale = strides[None, :, None].expand_as(boxes)[positive]
        l1 = (F.smooth_l1_loss(boxes[positive] / scale, target_boxes[positive] / scale,
                               reduction="none").sum(-1) * weight).sum() / total_score
    else:
        box_loss = raw_boxes.sum() * 0.0
        l1 = raw_boxes.sum() * 0.0
    batch = raw_boxes.shape[0]
    total = (weights.box * box_loss + weights.cls * cls_loss + weights.l1 * l1) * batch
    parts = {"box": float(box_loss.detach()), "cls": float(cls_loss.detach()),
             "l1": float(l1.detach()), "pos": float(positive.sum()) / batch}
    return total, parts
