"""How hard a threat is to see, from the ground truth and the image (simulation only).

Each threat in each view gets a difficulty in [0, 1] from four image-based factors
(DESIGN.md, TIP and scoring), each scaled to [0, 1] and weighted:

* **size** (weight 0.3): the threat's mask area as a share of the view; 3 % or more of
  the view scores 0, 0.1 % or less scores 1, log-linear between.
* **contrast** (0.3): mean log attenuation ``-ln T_high`` inside the threat's mask minus
  that of the bag around it (the box widened by a quarter each side, outside the mask).
  A difference of 1.5 or more scores 0, none or negative scores 1. This is where dense
  surroundings hide a threat: a knife lying over a laptop barely darkens it.
* **superposition** (0.2): the share of the threat's mask that benign objects overlap.
* **clutter** (0.2): benign objects in the view; 25 or more scores 1.

A screener looks at every view, so a threat's difficulty is that of its easiest view, and
that view and its box are where a simulated screener marks it.

A projected FTI (TIP) is scored with the same weights from what the projector measured
(:func:`fti_cue`): its mask's share of the view, its own mean attenuation as the contrast
(in log space the composite adds it to the bag's), the superposition share and the bag's
edge clutter (both in [0, 1]). These are modelling
choices, not measurements: they order bags plausibly (a grenade in a tray is easy, a
knife edge-on under a laptop in a full suitcase is hard) and nothing more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from screener.scan.model import GroundTruth, LabelledObject, Scan, View
from screener.tip.projector import ScanProjection
from screener.workflow.decisions import Box

WEIGHTS = {"size": 0.3, "contrast": 0.3, "superposition": 0.2, "clutter": 0.2}
EASY_AREA_SHARE = 0.03
HARD_AREA_SHARE = 0.001
CLEAR_CONTRAST = 1.5
FULL_CLUTTER = 25
_MIN_TRANSMISSION = 1e-4


@dataclass(frozen=True)
class ThreatCue:
    """One threat as the observer model meets it: its easiest view, box and difficulty."""

    label: str
    view: str
    box: Box
    difficulty: float


@dataclass(frozen=True)
class BagPercept:
    """What the simulated screener's model works from: the views' shapes (rows,
    columns), the threats (none for a clean bag) and the bag's clutter in [0, 1]."""

    view_shapes: dict[str, tuple[int, int]]
    threats: tuple[ThreatCue, ...]
    clutter: float

    @property
    def has_threat(self) -> bool:
        return bool(self.threats)


def percept_of(scan: Scan, truth: GroundTruth) -> BagPercept:
    """The observer model's view of a bag, from its ground truth and transmission."""
    cues_by_object: dict[int, list[ThreatCue]] = {}
    clutter = 0.0
    for view in scan.views:
        objects = truth.objects_by_view.get(view.name, ())
        benign = [o for o in objects if not o.threat]
        clutter = max(clutter, clutter_score(len(benign)))
        if not any(o.threat for o in objects):
            continue
        attenuation = _log_attenuation(view)
        covered = _union_mask(view.shape, benign)
        for obj in objects:
            if obj.threat:
                difficulty = threat_difficulty(obj, attenuation, covered, len(benign))
                cues_by_object.setdefault(obj.object_id, []).append(
                    ThreatCue(obj.label, view.name, obj.box, difficulty))
    easiest = tuple(min(cues, key=lambda cue: cue.difficulty)
                    for _, cues in sorted(cues_by_object.items()))
    shapes = {view.name: view.shape for view in scan.views}
    return BagPercept(shapes, easiest, clutter)


def fti_cue(projection: ScanProjection, label: str, clutter: float | None) -> ThreatCue:
    """The projected FTI as the observer model meets it, in its easiest view."""
    cues = []
    for placed in projection.projections:
        inside = placed.placed_high[placed.mask]
        contrast = float(np.mean(-np.log(np.clip(inside, _MIN_TRANSMISSION, 1.0)))) \
            if inside.size else 0.0
        scores = {
            "size": size_score(int(placed.mask.sum()) / (placed.view.shape[0]
                                                         * placed.view.shape[1])),
            "contrast": contrast_score(contrast),
            "superposition": placed.superposition_share,
            "clutter": _unit(clutter or 0.0),
        }
        difficulty = float(sum(WEIGHTS[name] * score for name, score in scores.items()))
        cues.append(ThreatCue(label, placed.view.name, placed.box, difficulty))
    return min(cues, key=lambda cue: cue.difficulty)


def with_threat(percept: BagPercept, cue: ThreatCue) -> BagPercept:
    """The percept with one more threat in it (an FTI projected into the bag)."""
    return BagPercept(percept.view_shapes, (*percept.threats, cue), percept.clutter)


def threat_difficulty(obj: LabelledObject, attenuation: NDArray[np.float32],
                      benign_cover: NDArray[np.bool_], benign_count: int) -> float:
    """Weighted difficulty in [0, 1] of one threat in one view."""
    scores = {
        "size": size_score(int(obj.mask.sum()) / attenuation.size),
        "contrast": contrast_score(_contrast(obj, attenuation)),
        "superposition": _superposition(obj, benign_cover),
        "clutter": clutter_score(benign_count),
    }
    return float(sum(WEIGHTS[name] * score for name, score in scores.items()))


def size_score(area_share: float) -> float:
    if area_share <= 0:
        return 1.0
    span = math.log(EASY_AREA_SHARE / HARD_AREA_SHARE)
    return _unit(math.log(EASY_AREA_SHARE / area_share) / span)


def contrast_score(contrast: float) -> float:
    return _unit(1.0 - contrast / CLEAR_CONTRAST)


def clutter_score(benign_count: int) -> float:
    return _unit(benign_count / FULL_CLUTTER)


def _contrast(obj: LabelledObject, attenuation: NDArray[np.float32]) -> float:
    """Mean attenuation inside the mask minus that of its surroundings."""
    x0, y0, x1, y1 = obj.box
    rows, columns = attenuation.shape
    pad_x, pad_y = max(1, (x1 - x0) // 4), max(1, (y1 - y0) // 4)
    wx0, wy0 = max(0, x0 - pad_x), max(0, y0 - pad_y)
    wx1, wy1 = min(columns, x1 + pad_x), min(rows, y1 + pad_y)
    window = attenuation[wy0:wy1, wx0:wx1]
    inside = np.zeros(window.shape, dtype=bool)
    inside[y0 - wy0:y1 - wy0, x0 - wx0:x1 - wx0] = obj.mask
    if not inside.any() or inside.all():
        return 0.0
    return float(window[inside].mean() - window[~inside].mean())


def _superposition(obj: LabelledObject, benign_cover: NDArray[np.bool_]) -> float:
    x0, y0, x1, y1 = obj.box
    if not obj.mask.any():
        return 1.0
    return float(benign_cover[y0:y1, x0:x1][obj.mask].mean())


def _union_mask(shape: tuple[int, int], objects: list[LabelledObject]) -> NDArray[np.bool_]:
    cover = np.zeros(shape, dtype=bool)
    for obj in objects:
        x0, y0, x1, y1 = obj.box
        cover[y0:y1, x0:x1] |= obj.mask
    return cover


def _log_attenuation(view: View) -> NDArray[np.float32]:
    transmission = np.clip(view.transmission("high"), _MIN_TRANSMISSION, 1.0)
    attenuation: NDArray[np.float32] = -np.log(transmission)
    return attenuation


def _unit(value: float) -> float:
    return min(1.0, max(0.0, value))
