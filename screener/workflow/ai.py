"""The AI's part in screening: an optional, injected detector and the result it gives.

The workflow knows a detector only through :class:`Detector`: a name, the sha256 of the
model it runs (``None`` when no model file is involved, as with the simulated AI) and
``detect(scan, scan_sha256)``. A detector that raises does not stop screening (DESIGN.md
rule 5): the result is ``unavailable`` with the reason, and that is what gets logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from screener.scan.model import Scan

NO_DETECTOR = "no detector configured"


class AiStatus(StrEnum):
    OK = "ok"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class AiDetection:
    """One flag: ``box`` is x0, y0, x1, y1 in the view's pixel corners."""

    view: str
    box: tuple[float, float, float, float]
    label: str
    category: str
    score: float

    def to_payload(self) -> dict[str, Any]:
        return {"view": self.view, "box": [round(float(v), 2) for v in self.box],
                "label": self.label, "category": self.category,
                "score": round(float(self.score), 4)}


@dataclass(frozen=True)
class AiResult:
    status: AiStatus
    detector: str | None
    model_sha256: str | None = None
    detections: tuple[AiDetection, ...] = ()
    reason: str | None = None

    @classmethod
    def unavailable(cls, detector: str | None, reason: str,
                    model_sha256: str | None = None) -> AiResult:
        return cls(AiStatus.UNAVAILABLE, detector, model_sha256, (), reason)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"status": self.status.value, "detector": self.detector,
                                   "detections": [d.to_payload() for d in self.detections]}
        if self.reason is not None:
            payload["reason"] = self.reason
        return payload


class Detector(Protocol):
    """What the session needs of a detector (an ONNX model adapter, or the simulated AI)."""

    @property
    def name(self) -> str: ...

    @property
    def model_sha256(self) -> str | None: ...

    def detect(self, scan: Scan, scan_sha256: str) -> Sequence[AiDetection]: ...


def run_detector(detector: Detector | None, scan: Scan, scan_sha256: str) -> AiResult:
    """The detector's result on ``scan``; ``unavailable`` (with the reason) when there is
    no detector or it fails."""
    if detector is None:
        return AiResult.unavailable(None, NO_DETECTOR)
    try:
        detections = tuple(detector.detect(scan, scan_sha256))
    except Exception as exc:  # any detector failure: screening goes on without AI
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return AiResult.unavailable(detector.name, reason, detector.model_sha256)
    return AiResult(AiStatus.OK, detector.name, detector.model_sha256, detections)
