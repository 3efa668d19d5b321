"""One operator's screening session at one station, as a state machine.

::

    NOT_STARTED --start--> AWAITING_BAG --receive--> AWAITING_AI --run_ai | record_ai-->
    AWAITING_DECISION --decide--> AWAITING_BAG ... AWAITING_BAG --end--> ENDED

Each step writes its audit event (``session.started``, ``scan.received``, ``ai.result``,
``screening.decision``, ``session.ended``) and changes state only once the log has
committed it. If the append raises :class:`~screener.errors.AuditUnavailableError` the
state stays where it was and the error reaches the caller: a decision the log did not
take is not confirmed, and the same step can be repeated once the log is back. A step
asked for out of order raises :class:`~screener.workflow.errors.SessionStateError`.

The session shows the screener the scan and the AI's result, never ground truth:
scoring against ground truth happens outside it (``scoring``, ``simulation``).
``end`` signs a checkpoint of the chain (``"shift end"``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from screener.audit.chain import CheckpointRecord, EventRecord
from screener.audit.log import SYSTEM_ACTOR, SYSTEM_ROLE, AuditLog
from screener.scan.model import Scan
from screener.scan.store import ScanStore
from screener.workflow.ai import AiResult, Detector, run_detector
from screener.workflow.decisions import Decision, Mark, check_decision
from screener.workflow.errors import SessionStateError
from screener.workflow.roles import Action, Guard, Role

KIND_SESSION_STARTED = "session.started"
KIND_SCAN_RECEIVED = "scan.received"
KIND_AI_RESULT = "ai.result"
KIND_DECISION = "screening.decision"
KIND_SESSION_ENDED = "session.ended"
SHIFT_END = "shift end"


class SessionState(StrEnum):
    NOT_STARTED = "not started"
    AWAITING_BAG = "awaiting a bag"
    AWAITING_AI = "awaiting the AI result"
    AWAITING_DECISION = "awaiting decision"
    ENDED = "ended"


_WHAT_NEXT = {
    SessionState.NOT_STARTED: "start the session first",
    SessionState.AWAITING_BAG: "receive a bag first",
    SessionState.AWAITING_AI: "record the AI result (or that it is unavailable) first",
    SessionState.AWAITING_DECISION: "decide on the bag on screen first",
    SessionState.ENDED: "start a new session",
}


@dataclass(frozen=True)
class Operator:
    """Who is logged in at the station, in which role."""

    id: str
    role: Role


@dataclass(frozen=True, eq=False)
class IncomingBag:
    """A scan arriving at the station: its bytes' sha256, the validated scan, and where
    it came from (``"simulator"``, ``"watch folder"``, ``"file"``)."""

    scan_sha256: str
    scan: Scan
    source: str

    @classmethod
    def from_store(cls, store: ScanStore, scan_sha256: str, source: str) -> IncomingBag:
        """Open a stored scan (its hash re-checked); ground truth is not read."""
        return cls(scan_sha256, store.open(scan_sha256), source)

    @property
    def bag_id(self) -> str:
        return self.scan.metadata.bag_id


@dataclass(frozen=True, eq=False)
class BagOnScreen:
    """What the screener sees: the scan and, once it is in, the AI's result."""

    bag: IncomingBag
    ai: AiResult | None = None
    shown_at: float | None = None  # session clock when the bag went on screen with its AI


@dataclass(frozen=True)
class ConfirmedDecision:
    """A decision the audit log has committed."""

    scan_sha256: str
    bag_id: str
    decision: Decision
    marks: tuple[Mark, ...]
    response_ms: int
    event: EventRecord


class ScreeningSession:
    """One operator at one station; the UI and the simulator drive the same machine."""

    def __init__(self, log: AuditLog, operator: Operator, *, detector: Detector | None = None,
                 lane: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.log = log
        self.operator = operator
        self.detector = detector
        self.lane = lane
        self.clock = clock
        self.guard = Guard(log)
        self.events_written: Counter[str] = Counter()
        self.decisions: list[ConfirmedDecision] = []
        self.shift_checkpoint: CheckpointRecord | None = None
        self._state = SessionState.NOT_STARTED
        self._on_screen: BagOnScreen | None = None
        self._checkpointed = False

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def on_screen(self) -> BagOnScreen | None:
        return self._on_screen

    # ------------------------------------------------------------------ steps
    def start(self) -> EventRecord:
        self._expect("start the session", SessionState.NOT_STARTED)
        self.guard.require(self.operator.id, self.operator.role, Action.SCREEN_BAGS,
                           subject=f"screening session at {self.log.station}")
        detector = None if self.detector is None else self.detector.name
        model = None if self.detector is None else self.detector.model_sha256
        event = self._append(KIND_SESSION_STARTED, {"lane": self.lane, "detector": detector},
                             model_sha256=model)
        self._state = SessionState.AWAITING_BAG
        return event

    def receive(self, bag: IncomingBag) -> EventRecord:
        """The next bag arrives at the station."""
        self._expect("receive a bag", SessionState.AWAITING_BAG)
        payload = {"source": bag.source, "bag_id": bag.bag_id,
                   "views": [view.name for view in bag.scan.views]}
        event = self._append(KIND_SCAN_RECEIVED, payload, system=True,
                             scan_sha256=bag.scan_sha256)
        self._on_screen = BagOnScreen(bag)
        self._state = SessionState.AWAITING_AI
        return event

    def run_ai(self) -> AiResult:
        """Run the injected detector on the bag on screen and record its result (which is
        ``unavailable`` when there is no detector or it failed)."""
        bag = self._bag("run the AI", SessionState.AWAITING_AI)
        result = run_detector(self.detector, bag.scan, bag.scan_sha256)
        self.record_ai(result)
        return result

    def record_ai(self, result: AiResult) -> EventRecord:
        """Record a result computed elsewhere (the UI's inference worker)."""
        bag = self._bag("record an AI result", SessionState.AWAITING_AI)
        event = self._append(KIND_AI_RESULT, result.to_payload(), system=True,
                             scan_sha256=bag.scan_sha256, model_sha256=result.model_sha256)
        self._on_screen = BagOnScreen(bag, result, self.clock())
        self._state = SessionState.AWAITING_DECISION
        return event

    def decide(self, decision: Decision, marks: Sequence[Mark] = (), *,
               response_ms: int | None = None) -> ConfirmedDecision:
        """Record the screener's decision. ``response_ms`` defaults to the time since the
        bag went on screen. Returns only once the log has committed it; on
        AuditUnavailableError the bag stays on screen, undecided."""
        bag = self._bag("decide", SessionState.AWAITING_DECISION)
        marks = tuple(marks)
        check_decision(bag.scan, decision, marks)
        elapsed = self._response_ms() if response_ms is None else int(response_ms)
        ai = self._on_screen.ai if self._on_screen is not None else None
        payload = {"decision": decision.value, "marks": [m.to_payload() for m in marks],
                   "response_ms": elapsed, "tip": None}
        event = self._append(KIND_DECISION, payload, scan_sha256=bag.scan_sha256,
                             model_sha256=None if ai is None else ai.model_sha256)
        confirmed = ConfirmedDecision(bag.scan_sha256, bag.bag_id, decision, marks, elapsed,
                                      event)
        self.decisions.append(confirmed)
        self._on_screen = None
        self._state = SessionState.AWAITING_BAG
        return confirmed

    def end(self, reason: str = SHIFT_END) -> CheckpointRecord | None:
        """Log ``session.ended`` and sign a checkpoint. If the checkpoint fails after the
        event was written, calling ``end`` again retries the checkpoint only."""
        if self._state is not SessionState.ENDED:
            self._expect("end the session", SessionState.AWAITING_BAG)
            self._append(KIND_SESSION_ENDED, {"bags_decided": len(self.decisions),
                                              "reason": reason})
            self._state = SessionState.ENDED
        elif self._checkpointed:
            raise SessionStateError("end the session", self._state.value,
                                    _WHAT_NEXT[self._state])
        self.shift_checkpoint = self.log.checkpoint(SHIFT_END)
        self._checkpointed = True
        return self.shift_checkpoint

    # ------------------------------------------------------------------ internals
    def _expect(self, step: str, *states: SessionState) -> None:
        if self._state not in states:
            raise SessionStateError(step, self._state.value, _WHAT_NEXT[self._state])

    def _bag(self, step: str, state: SessionState) -> IncomingBag:
        self._expect(step, state)
        assert self._on_screen is not None  # every state past AWAITING_BAG has a bag
        return self._on_screen.bag

    def _response_ms(self) -> int:
        shown = self._on_screen.shown_at if self._on_screen is not None else None
        return 0 if shown is None else max(0, round((self.clock() - shown) * 1000))

    def _append(self, kind: str, payload: Mapping[str, Any], *, system: bool = False,
                scan_sha256: str | None = None,
                model_sha256: str | None = None) -> EventRecord:
        actor, role = ((SYSTEM_ACTOR, SYSTEM_ROLE) if system
                       else (self.operator.id, self.operator.role.value))
        event = self.log.append(kind, payload, actor=actor, role=role,
                                scan_sha256=scan_sha256, model_sha256=model_sha256)
        self.events_written[kind] += 1
        return event
