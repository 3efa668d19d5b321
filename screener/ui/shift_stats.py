"""Shift statistics for the screener's screen (Qt-free): what was decided, how fast.

Fed by the controller from confirmed decisions only (what the audit log committed).
A bag counts once, with its decision on the real bag: on a TIP bag that is the decision
after the FTI was removed. The decision on the TIP image itself counts as a TIP hit or
miss (with TIP on at the station, the panel shows TIP bags, hits and misses).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from screener.workflow.decisions import Decision

NONE = "\u2013"  # an en dash: nothing yet


@dataclass
class ShiftStats:
    """Running totals of one screener's shift at this station."""

    started_at: float  #: monotonic clock at the start of the shift
    cleared: int = 0
    suspect: int = 0
    ai_flagged: int = 0  #: bags the AI flagged (in any mode)
    ai_unavailable: int = 0
    belt_stops: int = 0
    load_errors: int = 0
    response_ms: list[int] = field(default_factory=list)
    tip: bool = False  #: TIP runs at this station (the panel shows its counts)
    tip_hits: int = 0
    tip_misses: int = 0

    @property
    def decided(self) -> int:
        return self.cleared + self.suspect

    def record(self, decision: Decision, response_ms: int, *, ai_flagged: bool,
               ai_available: bool) -> None:
        if decision is Decision.CLEAR:
            self.cleared += 1
        else:
            self.suspect += 1
        self.response_ms.append(int(response_ms))
        self.ai_flagged += ai_flagged
        self.ai_unavailable += not ai_available

    @property
    def tip_bags(self) -> int:
        return self.tip_hits + self.tip_misses

    def record_tip(self, *, hit: bool) -> None:
        """The decision on a TIP image: a hit (a mark on the FTI) or a miss."""
        if hit:
            self.tip_hits += 1
        else:
            self.tip_misses += 1

    def median_s(self) -> float | None:
        return statistics.median(self.response_ms) / 1000 if self.response_ms else None

    def bags_per_hour(self, now: float) -> float | None:
        hours = (now - self.started_at) / 3600
        return self.decided / hours if self.decided and hours > 0 else None

    def rows(self, now: float) -> list[tuple[str, str]]:
        """(label, value) pairs as the statistics panel shows them."""
        median = self.median_s()
        rate = self.bags_per_hour(now)
        share = f"{100 * self.suspect / self.decided:.0f} %" if self.decided else NONE
        minutes = max(0.0, now - self.started_at) / 60
        tip = [("TIP bags", str(self.tip_bags)), ("TIP hits", str(self.tip_hits)),
               ("TIP misses", str(self.tip_misses))] if self.tip else []
        return [
            ("Bags decided", str(self.decided)),
            ("Cleared", str(self.cleared)),
            ("Suspect", f"{self.suspect} ({share})"),
            ("Median decision", NONE if median is None else f"{median:.1f} s"),
            ("Bags / hour", NONE if rate is None else f"{rate:.0f}"),
            ("AI flagged", str(self.ai_flagged)),
            ("AI unavailable", str(self.ai_unavailable)),
            *tip,
            ("Belt stops", str(self.belt_stops)),
            ("Unreadable files", str(self.load_errors)),
            ("Shift time", f"{int(minutes // 60)} h {int(minutes % 60):02d} min"),
        ]
