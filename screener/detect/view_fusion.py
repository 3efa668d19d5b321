"""View agreement: let the detections of a scan's views back each other up.

A dual-view scanner images a bag from above and from the side, and what one view hides
the other often shows: a blade seen edge-on in the side view is a line a few pixels wide
that a detector cannot tell from a cable, while the view from above shows it flat. Every
view of a line scanner shares the belt axis (:mod:`screener.scan.belt`), so an article
covers the same extent along the belt in each view; a detection in one view and one of
the same class in another view at the same belt extent are most likely one object.

Detections of one class in two views are **partners** when their belt intervals overlap
at ``belt_overlap`` (intersection over union) or more. Partners are chosen one to one,
strongest pair first (the product of the two scores), so that one confident detection
lends its weight to one detection of the other view, not to every chance response along
the same stretch of belt. A detection's score ``s`` then becomes

* ``1 - (1 - s)(1 - w p)`` with ``p`` the best partner score over the other views and ``w``
  the ``partner_weight``: the chance that either view's evidence is right; never lower
  than ``s``;
* ``a s`` when no other view has a partner for it (``a``: ``alone_factor``, at most 1): a
  real object is in every view, so a response with no counterpart anywhere is less
  likely to be one.

The views' detections must come down to a low floor, not to the class thresholds: a
partner below its own threshold still counts, and thresholds are applied to the fused
scores. A scan with one view, or views that do not cover the same length of belt, is left
as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np

from screener.detect.manifest import ModelManifest, ViewFusionPlan
from screener.detect.postprocess import Decoded, FloatArray
from screener.detect.test_time import passing
from screener.scan.belt import belt_mm
from screener.scan.model import View


def belt_intervals(view: View, boxes: FloatArray) -> FloatArray:
    """``(n, 2)``: each box's extent along the belt in millimetres, start first (boxes are
    ``x0, y0, x1, y1`` in ``view``'s pixels)."""
    start = belt_mm(view, 0.0)
    per_pixel = belt_mm(view, 1.0) - start
    ends = start + per_pixel * np.asarray(boxes, dtype=np.float64).reshape(-1, 4)[:, [0, 2]]
    return np.sort(ends, axis=1)


def interval_iou(a: FloatArray, b: FloatArray) -> FloatArray:
    """``(len(a), len(b))`` intersection over union of 1-D intervals ``(n, 2)``."""
    low = np.maximum(a[:, None, 0], b[None, :, 0])
    high = np.minimum(a[:, None, 1], b[None, :, 1])
    inter = np.clip(high - low, 0.0, None)
    union = (a[:, None, 1] - a[:, None, 0]) + (b[None, :, 1] - b[None, :, 0]) - inter
    result: FloatArray = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return result


def partners(a: Decoded, a_belt: FloatArray, b: Decoded, b_belt: FloatArray,
             belt_overlap: float) -> list[tuple[int, int]]:
    """One-to-one pairs ``(i, j)`` of a detection of ``a`` and one of ``b`` of the same
    class whose belt intervals overlap at ``belt_overlap`` or more, strongest first."""
    if len(a) == 0 or len(b) == 0:
        return []
    eligible = (a.class_ids[:, None] == b.class_ids[None, :]) \
        & (interval_iou(a_belt, b_belt) >= belt_overlap)
    rows, cols = np.nonzero(eligible)
    order = np.argsort(-(a.scores[rows] * b.scores[cols]), kind="stable")
    taken_a: set[int] = set()
    taken_b: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for k in order:
        i, j = int(rows[k]), int(cols[k])
        if i in taken_a or j in taken_b:
            continue
        taken_a.add(i)
        taken_b.add(j)
        pairs.append((i, j))
    return pairs


def fuse_views(found: Sequence[Decoded], belts: Sequence[FloatArray],
               plan: ViewFusionPlan) -> list[Decoded]:
    """Each view's detections (``found``, with their :func:`belt_intervals` in ``belts``)
    rescored by their partners in the other views (module docstring), best first. One
    view is returned as it is."""
    if len(found) < 2:
        return list(found)
    best = [np.full(len(f), -1.0) for f in found]  # best partner score; -1: none
    for a, b in combinations(range(len(found)), 2):
        for i, j in partners(found[a], belts[a], found[b], belts[b], plan.belt_overlap):
            best[a][i] = max(best[a][i], float(found[b].scores[j]))
            best[b][j] = max(best[b][j], float(found[a].scores[i]))
    fused: list[Decoded] = []
    for view, partner in zip(found, best, strict=True):
        scores = np.asarray(view.scores, dtype=np.float64)
        rescored = np.where(partner >= 0.0,
                            1.0 - (1.0 - scores) * (1.0 - plan.partner_weight * partner),
                            plan.alone_factor * scores)
        order = np.argsort(-rescored, kind="stable")
        fused.append(Decoded(view.boxes[order], rescored[order], view.class_ids[order]))
    return fused


def fused_and_passing(found: Sequence[Decoded], belts: Sequence[FloatArray],
                      manifest: ModelManifest) -> list[Decoded]:
    """What each view keeps: its candidates (down to the test-time floor) rescored by
    ``manifest.view_fusion`` when it has one, then held to the class thresholds and
    ``max_detections``. The runtime and training's held-out evaluation both call this, so
    the thresholds training chooses are of the scores the runtime computes."""
    plan = manifest.view_fusion
    rescored = list(found) if plan is None else fuse_views(found, belts, plan)
    return [passing(view, manifest) for view in rescored]
