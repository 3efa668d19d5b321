"""Decisions against ground truth: hit, miss, false alarm, correct clear (per bag)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from screener.workflow.decisions import Decision


class Outcome(StrEnum):
    HIT = "hit"
    MISS = "miss"
    FALSE_ALARM = "false alarm"
    CORRECT_CLEAR = "correct clear"


def outcome_of(has_threat: bool, decision: Decision) -> Outcome:
    """Bag-level scoring: a threat bag called suspect is a hit, whatever was marked."""
    suspect = decision is Decision.SUSPECT
    if has_threat:
        return Outcome.HIT if suspect else Outcome.MISS
    return Outcome.FALSE_ALARM if suspect else Outcome.CORRECT_CLEAR


@dataclass
class Tally:
    """Outcome counts for one operator."""

    hits: int = 0
    misses: int = 0
    false_alarms: int = 0
    correct_clears: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome is Outcome.HIT:
            self.hits += 1
        elif outcome is Outcome.MISS:
            self.misses += 1
        elif outcome is Outcome.FALSE_ALARM:
            self.false_alarms += 1
        else:
            self.correct_clears += 1

    @property
    def bags(self) -> int:
        return self.hits + self.misses + self.false_alarms + self.correct_clears

    @property
    def hit_rate(self) -> float | None:
        threats = self.hits + self.misses
        return None if threats == 0 else self.hits / threats

    @property
    def false_alarm_rate(self) -> float | None:
        clean = self.false_alarms + self.correct_clears
        return None if clean == 0 else self.false_alarms / clean
