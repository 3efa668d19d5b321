"""Test-time flips: run a model on its input and on mirror images of it, and fuse what the
passes find.

A detector trained with flip augmentation still scores one object a little differently
in each orientation, and its chance responses (a cable read as a blade) come and go
between orientations more than true objects do. Averaging each object's score over the
passes therefore ranks true objects above chance responses: on the shipped model's
held-out simulated bags one horizontal flip raised mAP@0.5 from 0.737 to 0.760 (training/
README.md, "Test-time flip").

The flip is applied to the model-input tensor, after letterboxing, and undone on the
model's centre boxes before they are mapped back through the letterbox, so the passes
agree to the pixel whatever the padding. Fusion is weighted box fusion per class: the
best remaining detection of any pass seeds a group, which takes from each other pass its
best remaining detection of the same class overlapping the seed at IoU ``fusion_iou`` or
more; the group's box is the score-weighted mean of its boxes and its score the sum of its
scores divided by the number of passes (a pass that found nothing adds 0).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.detect.manifest import Flip, ModelManifest
from screener.detect.metrics import iou_matrix
from screener.detect.postprocess import Decoded, FloatArray, postprocess
from screener.detect.preprocess import Letterbox

#: The lowest score a test-time pass keeps (see :func:`detect_passes`).
PASS_SCORE_FLOOR = 0.001
#: Runs the model on one ``(1, C, H, W)`` input tensor and gives its raw output.
RunModel = Callable[[NDArray[Any]], NDArray[Any]]


def detect_passes(run: RunModel, tensor: NDArray[Any], manifest: ModelManifest,
                  plan: Letterbox) -> Decoded:
    """The detections of every pass of ``manifest.test_time`` on ``tensor``, fused, those
    whose fused score reaches their class's threshold, best first, at most
    ``manifest.max_detections``.

    Each pass keeps its candidates down to :func:`pass_floor`, not to the class
    thresholds: a group's score is a mean, so a member below the threshold still counts
    towards it, and a fixed floor makes a detection's fused score the same whatever the
    thresholds (an evaluation at a low floor then sees exactly the detections that
    would pass any higher threshold)."""
    if len(manifest.test_time.passes) == 1:
        return postprocess(run(tensor), manifest, plan)
    limits = np.asarray(manifest.thresholds(), dtype=np.float64)
    return passing(fuse_passes(_passes(run, tensor, manifest, plan),
                               manifest.test_time.fusion_iou, limits), manifest)


def candidates(run: RunModel, tensor: NDArray[Any], manifest: ModelManifest,
               plan: Letterbox) -> Decoded:
    """Every pass's detections down to :func:`pass_floor`, fused, best first, whatever the
    class thresholds: what :func:`detect_passes` chooses from, for a step that rescores
    detections before the thresholds apply (:mod:`screener.detect.view_fusion`)."""
    return fuse_passes(_passes(run, tensor, manifest, plan), manifest.test_time.fusion_iou)


def _passes(run: RunModel, tensor: NDArray[Any], manifest: ModelManifest,
            plan: Letterbox) -> list[Decoded]:
    floor = pass_floor(manifest)
    return [postprocess(run(flip_tensor(tensor, flip)), manifest, plan, score_floor=floor,
                        mirror=(False, False) if flip is None
                        else (flip.mirrors_x, flip.mirrors_y))
            for flip in manifest.test_time.passes]


def pass_floor(manifest: ModelManifest) -> float:
    """The lowest score a test-time pass keeps: :data:`PASS_SCORE_FLOOR`, or the lowest
    class threshold if that is lower."""
    return min(PASS_SCORE_FLOOR, *manifest.thresholds())


def passing(fused: Decoded, manifest: ModelManifest) -> Decoded:
    """The fused detections at or above their class's threshold, at most
    ``manifest.max_detections`` (``fused`` is best first)."""
    limits = np.asarray(manifest.thresholds(), dtype=np.float64)
    keep = np.nonzero(fused.scores >= limits[fused.class_ids])[0][:manifest.max_detections]
    return Decoded(fused.boxes[keep], fused.scores[keep], fused.class_ids[keep])


def flip_tensor(tensor: NDArray[Any], flip: Flip | None) -> NDArray[Any]:
    """The ``(1, C, H, W)`` model input mirrored as ``flip`` says (a contiguous copy)."""
    if flip is None:
        return tensor
    axes = tuple(axis for axis, mirrored in ((3, flip.mirrors_x), (2, flip.mirrors_y))
                 if mirrored)
    return np.ascontiguousarray(np.flip(tensor, axis=axes))


def fuse_passes(passes: Sequence[Decoded], fusion_iou: float,
                seed_floor: NDArray[np.float64] | None = None) -> Decoded:
    """Weighted box fusion of the detections of ``len(passes)`` passes (see the module
    docstring), best score first.

    With ``seed_floor`` (one score per class), groups are formed only from seeds at or
    above their class's floor. A group's score is at most its seed's, so a group left out
    could not reach that floor either, and greedy grouping in score order makes the groups
    kept the same as without it."""
    if len(passes) == 1:
        return passes[0]
    boxes = np.concatenate([p.boxes for p in passes]).reshape(-1, 4)
    scores = np.concatenate([p.scores for p in passes])
    classes = np.concatenate([p.class_ids for p in passes])
    origin = np.concatenate([np.full(len(p), k, np.int64) for k, p in enumerate(passes)])
    fused: list[tuple[float, int, FloatArray]] = []
    for class_id in np.unique(classes):
        members = np.nonzero(classes == class_id)[0]
        members = members[np.argsort(-scores[members], kind="stable")]
        floor = -np.inf if seed_floor is None else float(seed_floor[class_id])
        seeds = int(np.count_nonzero(scores[members] >= floor))
        for group in _groups(boxes[members], origin[members], seeds, fusion_iou):
            weights = scores[members[group]]
            total = float(weights.sum())
            box = (weights[:, None] * boxes[members[group]]).sum(axis=0) / total \
                if total > 0 else boxes[members[group[0]]]
            fused.append((total / len(passes), int(class_id), box))
    fused.sort(key=lambda item: -item[0])
    return Decoded(
        boxes=np.asarray([box for _, _, box in fused], dtype=np.float64).reshape(-1, 4),
        scores=np.asarray([score for score, _, _ in fused], dtype=np.float64),
        class_ids=np.asarray([class_id for _, class_id, _ in fused], dtype=np.int64),
    )


def _groups(boxes: FloatArray, origin: NDArray[np.int64], seeds: int,
            fusion_iou: float) -> list[NDArray[np.int64]]:
    """Greedy groups of one class's detections (``boxes`` best score first, ``origin``
    the pass of each): each free detection among the first ``seeds`` in turn seeds a
    group and takes, from each other pass, its best free detection overlapping the seed
    at ``fusion_iou`` or more."""
    overlaps = iou_matrix(boxes[:seeds], boxes)
    free = np.ones(boxes.shape[0], dtype=bool)
    groups: list[NDArray[np.int64]] = []
    for seed in range(seeds):
        if not free[seed]:
            continue
        free[seed] = False
        near = np.nonzero(free & (overlaps[seed] >= fusion_iou)
                          & (origin != origin[seed]))[0]
        # np.unique gives each pass's first (best) index among those near the seed
        _, first = np.unique(origin[near], return_index=True)
        group = np.concatenate([[seed], near[np.sort(first)]]).astype(np.int64)
        free[group] = False
        groups.append(group)
    return groups
