"""What the screen shows of the AI for the bag on screen (Qt-free).

The AI overlay mode (off / after first look / always) decides whether the AI's boxes
are drawn; the AI's state decides what the badge says, "AI unavailable: <reason>"
included (DESIGN.md rule 5: the screener keeps working without it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from screener.ui.config import AiMode
from screener.workflow.ai import AiDetection, AiResult, AiStatus


class AiPhase(StrEnum):
    NONE = "none"  #: no bag
    OFF = "off"
    PENDING = "pending"
    HIDDEN = "hidden"  #: not (yet) shown: after first look, or hidden by the screener
    SHOWN = "shown"
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class AiView:
    """The badge's text and the boxes to draw, by view name."""

    phase: AiPhase
    text: str
    boxes: dict[str, tuple[AiDetection, ...]] = field(default_factory=dict)


NO_BAG = AiView(AiPhase.NONE, "")


def overlay(mode: AiMode, result: AiResult | None, *, switched_off: bool, revealed: bool,
            hidden_by_screener: bool) -> AiView:
    """The overlay for a bag: ``result`` is None while the AI is still working;
    ``switched_off`` when the bag was analysed with the AI off."""
    if switched_off or (mode is AiMode.OFF and result is not None
                        and result.status is AiStatus.OK):
        return AiView(AiPhase.OFF, "AI off")
    if result is None:
        return AiView(AiPhase.PENDING, "AI analysing\u2026")
    if result.status is AiStatus.UNAVAILABLE:
        return AiView(AiPhase.UNAVAILABLE, f"AI unavailable: {result.reason}")
    flagged = len(result.detections)
    summary = ("AI: no threat flagged" if not flagged
               else f"AI: {flagged} flag{'s' if flagged != 1 else ''}")
    if mode is AiMode.AFTER_FIRST_LOOK and not revealed:
        return AiView(AiPhase.HIDDEN, "AI ready: shown after your first look")
    if hidden_by_screener:
        return AiView(AiPhase.HIDDEN, f"{summary} (hidden)")
    boxes: dict[str, tuple[AiDetection, ...]] = {}
    for detection in result.detections:
        boxes[detection.view] = (*boxes.get(detection.view, ()), detection)
    return AiView(AiPhase.SHOWN, summary, boxes)
