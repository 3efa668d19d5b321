"""A stand-in detector for simulations: it reports from ground truth, not from pixels.

Every threat in every view is flagged with probability ``1 - miss_probability`` (box
jittered by a twentieth of its size, score 0.5..0.99), and each view gets a false flag
with probability ``false_alarm_probability`` (random box, random threat class, score
0.3..0.6). It runs no model, so its results carry no model_sha256 and name themselves
"simulated AI" in the payload. Its draws depend only on the seed and the scan's sha256.

A TIP composite is not a stored scan: :meth:`SimulatedDetector.expect_tip` tells the
detector where the FTI lies in the scan object about to be shown, and it flags the FTI
like a real threat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from screener.scan.model import GroundTruth, LabelledObject, Scan
from screener.sim.labels import THREAT_CLASSES
from screener.tip.projector import ScanProjection
from screener.workflow.ai import AiDetection

SIMULATED_AI = "simulated AI"
_STREAM = 0xA1
_JITTER = 0.05


class SimulatedDetector:
    """Satisfies :class:`screener.workflow.ai.Detector` from a table of ground truths."""

    def __init__(self, truths: Mapping[str, GroundTruth], seed: int, *,
                 miss_probability: float = 0.1, false_alarm_probability: float = 0.05) -> None:
        self._truths = truths
        self._seed = seed
        self.miss_probability = miss_probability
        self.false_alarm_probability = false_alarm_probability
        self._tip: tuple[Scan, tuple[tuple[str, LabelledObject, str], ...]] | None = None

    def expect_tip(self, shown: Scan, projection: ScanProjection, label: str,
                   category: str) -> None:
        """The next ``detect`` call on ``shown`` (a composite) sees the FTI as a threat."""
        objects = tuple((p.view.name, LabelledObject(-1, label, True, p.box, p.mask), category)
                        for p in projection.projections)
        self._tip = (shown, objects)

    @property
    def name(self) -> str:
        return (f"{SIMULATED_AI} (from ground truth; miss {self.miss_probability:.2f}, "
                f"false flag {self.false_alarm_probability:.2f} per view)")

    @property
    def model_sha256(self) -> str | None:
        return None

    def detect(self, scan: Scan, scan_sha256: str) -> Sequence[AiDetection]:
        truth = self._truths.get(scan_sha256, GroundTruth())
        rng = np.random.default_rng(np.random.SeedSequence(
            [self._seed, _STREAM, int(scan_sha256[:16], 16)]))
        detections: list[AiDetection] = []
        for view in scan.views:
            for obj in truth.objects_by_view.get(view.name, ()):
                if obj.threat and rng.random() >= self.miss_probability:
                    detections.append(_flag(view.name, obj, rng))
            if rng.random() < self.false_alarm_probability:
                detections.append(_false_flag(view.name, view.shape, rng))
        if self._tip is not None and self._tip[0] is scan:
            for view_name, obj, category in self._tip[1]:
                if rng.random() >= self.miss_probability:
                    flag = _flag(view_name, obj, rng)
                    detections.append(AiDetection(flag.view, flag.box, flag.label, category,
                                                  flag.score))
        return sorted(detections, key=lambda d: -d.score)


def _flag(view: str, obj: LabelledObject, rng: np.random.Generator) -> AiDetection:
    x0, y0, x1, y1 = obj.box
    jx, jy = _JITTER * (x1 - x0), _JITTER * (y1 - y0)
    box = (x0 + rng.normal(0, jx), y0 + rng.normal(0, jy),
           x1 + rng.normal(0, jx), y1 + rng.normal(0, jy))
    return AiDetection(view, box, obj.label, _category(obj.label), rng.uniform(0.5, 0.99))


def _false_flag(view: str, shape: tuple[int, int], rng: np.random.Generator) -> AiDetection:
    rows, columns = shape
    width, height = columns * rng.uniform(0.05, 0.2), rows * rng.uniform(0.05, 0.2)
    x0, y0 = rng.uniform(0, columns - width), rng.uniform(0, rows - height)
    label = str(rng.choice(sorted(THREAT_CLASSES)))
    return AiDetection(view, (x0, y0, x0 + width, y0 + height), label, _category(label),
                       rng.uniform(0.3, 0.6))


def _category(label: str) -> str:
    category = THREAT_CLASSES.get(label)
    return "unknown" if category is None else category.value
