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

With TIP (:class:`TipMode`) each bag received also gets ``tip.scheduled`` and, when an
FTI was projected, ``tip.projected`` (or ``tip.not_projected`` with the reason when one
was scheduled but could not be placed); the screener sees, and the AI runs on, the
composite. Every decision on what was shown is followed by ``tip.outcome`` (or the
mode's own kind, for blind tests). With feedback on, a TIP bag's decision returns the hit
or miss feedback and the session goes back to ``AWAITING_AI`` with the real bag: the FTI
is removed and the screener screens the real bag, a decision logged with ``"rescreen":
true`` and no trial of its own (:mod:`screener.workflow.tip_injection`).

Every plan :meth:`ScreeningSession.plan_tip` hands out is logged exactly once: as
``tip.scheduled`` when its bag is received, or as ``tip.plan_discarded`` (with the reason)
when it never will be (:meth:`ScreeningSession.discard_tip_plan`; :meth:`end` discards
whatever is left), so each ``bag_index`` the scheduler gave the operator is in the chain
and a missing one means a missing event.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from screener.audit.chain import CheckpointRecord, EventRecord
from screener.audit.log import SYSTEM_ACTOR, SYSTEM_ROLE, AuditLog
from screener.errors import AuditUnavailableError
from screener.scan.model import Scan
from screener.scan.store import ScanStore
from screener.tip.scheduler import KIND_TIP_SCHEDULED
from screener.tip.scoring import KIND_TIP_OUTCOME, TipTrial
from screener.workflow.ai import AiResult, Detector, run_detector
from screener.workflow.decisions import Decision, Mark, check_decision
from screener.workflow.errors import SessionStateError
from screener.workflow.roles import Action, Guard, Role
from screener.workflow.tip_injection import (
    KIND_TIP_NOT_PROJECTED,
    KIND_TIP_PLAN_DISCARDED,
    KIND_TIP_PROJECTED,
    TipFeedback,
    TipInjector,
    TipPlan,
    score_response,
)

KIND_SESSION_STARTED = "session.started"
KIND_SCAN_RECEIVED = "scan.received"
KIND_AI_RESULT = "ai.result"
KIND_DECISION = "screening.decision"
KIND_SESSION_ENDED = "session.ended"
SHIFT_END = "shift end"
_SCHEDULED = "scheduled"
_DISCARDED = "discarded"


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


@dataclass(frozen=True)
class TipMode:
    """TIP in a session. ``injector`` plans each bag; without one every bag must come with
    its plan (blind tests fix theirs in advance). ``feedback`` off (blind tests): no
    feedback and no re-screen. ``outcome_kind`` is the kind of the per-bag trial event and
    ``context`` is added to its payload (a blind test's id and trial number)."""

    injector: TipInjector | None = None
    feedback: bool = True
    outcome_kind: str = KIND_TIP_OUTCOME
    context: Mapping[str, Any] | None = None


@dataclass(frozen=True, eq=False)
class BagOnScreen:
    """What the screener sees: the scan (the composite on a TIP bag) and, once it is in,
    the AI's result. ``rescreen``: the real bag back after TIP feedback."""

    bag: IncomingBag
    ai: AiResult | None = None
    shown_at: float | None = None  # session clock when the bag went on screen with its AI
    tip: TipPlan | None = None
    rescreen: bool = False

    @property
    def scan(self) -> Scan:
        return self.bag.scan if self.tip is None else self.tip.shown(self.bag.scan)


@dataclass(frozen=True)
class ConfirmedDecision:
    """A decision the audit log has committed."""

    scan_sha256: str
    bag_id: str
    decision: Decision
    marks: tuple[Mark, ...]
    response_ms: int
    event: EventRecord
    trial: TipTrial | None = None  # the TIP trial this decision made, if any
    feedback: TipFeedback | None = None  # what to tell the screener, if anything
    rescreen: bool = False


class ScreeningSession:
    """One operator at one station; the UI and the simulator drive the same machine."""

    def __init__(self, log: AuditLog, operator: Operator, *, detector: Detector | None = None,
                 lane: str | None = None, clock: Callable[[], float] = time.monotonic,
                 tip: TipMode | None = None) -> None:
        self.log = log
        self.operator = operator
        self.detector = detector
        self.lane = lane
        self.clock = clock
        self.tip = tip
        self.guard = Guard(log)
        self.events_written: Counter[str] = Counter()
        self.decisions: list[ConfirmedDecision] = []
        self.shift_checkpoint: CheckpointRecord | None = None
        self._state = SessionState.NOT_STARTED
        self._on_screen: BagOnScreen | None = None
        self._checkpointed = False
        self._pending_trial: tuple[str, dict[str, Any], str] | None = None
        # TIP plans: handed out by plan_tip (on a worker thread) and not yet logged, with
        # their scan's sha256; discards the log has not taken yet; what each logged plan
        # became. _tip_lock guards _tip_open, _tip_planning and _tip_closed.
        self._tip_lock = threading.Condition()
        self._tip_open: dict[TipPlan, str] = {}
        self._tip_planning = 0
        self._tip_closed = False
        self._tip_discards: list[tuple[TipPlan, str, str]] = []
        self._tip_logged: weakref.WeakKeyDictionary[TipPlan, str] = (
            weakref.WeakKeyDictionary())

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

    def plan_tip(self, bag: IncomingBag) -> TipPlan:
        """The TIP plan for ``bag`` from the mode's injector (projection included: call it
        off the GUI thread and pass the plan to :meth:`receive`). The scheduler's decision
        is used up: the plan must then be received or discarded
        (:meth:`discard_tip_plan`); :meth:`end` discards a plan still open. Safe to call
        while another thread runs the session's other steps; refused once the session is
        ending."""
        if self.tip is None or self.tip.injector is None:
            raise SessionStateError("plan TIP", self._state.value,
                                    "TIP plans need a session with a TIP injector")
        with self._tip_lock:
            if self._tip_closed or self._state is SessionState.ENDED:
                raise SessionStateError("plan TIP", self._state.value,
                                        "the session is ending: start a new session")
            self._tip_planning += 1
        plan: TipPlan | None = None
        try:
            plan = self.tip.injector.plan(self.operator.id, bag.scan)
            return plan
        finally:
            with self._tip_lock:
                self._tip_planning -= 1
                if plan is not None:  # open until it is received or discarded
                    self._tip_open[plan] = bag.scan_sha256
                self._tip_lock.notify_all()

    def discard_tip_plan(self, plan: TipPlan, reason: str) -> EventRecord | None:
        """Log ``tip.plan_discarded`` for a plan from :meth:`plan_tip` whose bag will never
        be received (the operator left, the bag's file failed): the decision's payload
        (operator, bag_index, projected, category), the FTI drawn if any and ``reason``,
        naming the bag's scan. Returns the event, or None when nothing was logged now:

        * the plan is already in the chain (received: its ``tip.scheduled`` stands and it
          is never also discarded; or discarded before), or this session did not hand it
          out: nothing to do;
        * the audit log is unavailable: the discard is kept and logged first thing at the
          next :meth:`receive`, :meth:`end` or discard; it is never dropped while the
          session lives. This method does not raise for it: the caller is dropping a bag
          and has nothing to retry (the next step that needs the log says it is down).

        A discarded plan can no longer be received."""
        with self._tip_lock:
            scan_sha256 = self._tip_open.pop(plan, None)
        if scan_sha256 is None:
            return None
        self._tip_discards.append((plan, scan_sha256, reason))
        try:
            logged = self._log_pending_discards()
        except AuditUnavailableError:
            return None
        return logged[-1] if logged else None

    def discard_tip_plans(self, reason: str) -> list[EventRecord]:
        """Discard every plan handed out and not yet logged (waiting for one being made),
        as :meth:`discard_tip_plan`; the events logged now (none while the log is
        unavailable: they are kept)."""
        self._queue_open_discards(reason)
        try:
            return self._log_pending_discards()
        except AuditUnavailableError:
            return []

    def _queue_open_discards(self, reason: str) -> None:
        with self._tip_lock:
            self._tip_lock.wait_for(lambda: self._tip_planning == 0)
            open_plans, self._tip_open = self._tip_open, {}
        self._tip_discards.extend((plan, scan_sha256, reason)
                                  for plan, scan_sha256 in open_plans.items())

    def _log_pending_discards(self) -> list[EventRecord]:
        """Log the discards the log has not taken yet, in order; raises
        AuditUnavailableError (the rest kept) while it is unavailable."""
        logged = []
        while self._tip_discards:
            plan, scan_sha256, reason = self._tip_discards[0]
            logged.append(self._append(KIND_TIP_PLAN_DISCARDED,
                                       plan.discarded_payload(reason), system=True,
                                       scan_sha256=scan_sha256))
            self._tip_discards.pop(0)
            self._tip_logged[plan] = _DISCARDED
        return logged

    def receive(self, bag: IncomingBag, tip: TipPlan | None = None) -> EventRecord:
        """The next bag arrives at the station. In a TIP session ``tip`` is the bag's
        plan; without it the injector plans here."""
        self._expect("receive a bag", SessionState.AWAITING_BAG)
        self.log_pending_trial()
        self._log_pending_discards()
        if tip is not None and self.tip is None:
            raise SessionStateError("receive a bag with a TIP plan", self._state.value,
                                    "start a session with TIP to project FTIs")
        if tip is not None and self._tip_logged.get(tip) == _DISCARDED:
            raise SessionStateError("receive a bag with a discarded TIP plan",
                                    self._state.value, "plan the bag again")
        planned_here = self.tip is not None and tip is None
        if planned_here:
            tip = self.plan_tip(bag)
        payload = {"source": bag.source, "bag_id": bag.bag_id,
                   "views": [view.name for view in bag.scan.views]}
        try:
            event = self._append(KIND_SCAN_RECEIVED, payload, system=True,
                                 scan_sha256=bag.scan_sha256)
            if tip is not None:
                self._log_tip_plan(bag, tip)
        except Exception:
            if planned_here and tip is not None:  # receiving the bag again plans afresh
                self.discard_tip_plan(tip, "the bag's arrival could not be logged; it is "
                                      "planned again when it is received again")
            raise
        self._on_screen = BagOnScreen(bag, tip=tip)
        self._state = SessionState.AWAITING_AI
        return event

    def _log_tip_plan(self, bag: IncomingBag, tip: TipPlan) -> None:
        """Log the plan before the bag goes on screen: an FTI is never shown unlogged. If
        an append fails the bag is not received (receiving it again logs its arrival
        again, after the incomplete one, but not the scheduler's decision once it is in
        the chain: each decision is logged once)."""
        if self._tip_logged.get(tip) != _SCHEDULED:
            self._append(KIND_TIP_SCHEDULED, tip.decision.payload(), system=True,
                         scan_sha256=bag.scan_sha256)
            self._tip_logged[tip] = _SCHEDULED
            with self._tip_lock:
                self._tip_open.pop(tip, None)
        if tip.projected:
            self._append(KIND_TIP_PROJECTED, tip.projected_payload(), system=True,
                         scan_sha256=bag.scan_sha256)
        elif tip.decision.projected:
            self._append(KIND_TIP_NOT_PROJECTED, tip.not_projected_payload(), system=True,
                         scan_sha256=bag.scan_sha256)

    def run_ai(self) -> AiResult:
        """Run the injected detector on the scan on screen (the composite on a TIP bag) and
        record its result (``unavailable`` when there is no detector or it failed)."""
        shown = self._shown("run the AI", SessionState.AWAITING_AI)
        result = run_detector(self.detector, shown.scan, shown.bag.scan_sha256)
        self.record_ai(result)
        return result

    def record_ai(self, result: AiResult) -> EventRecord:
        """Record a result computed elsewhere (the UI's inference worker)."""
        shown = self._shown("record an AI result", SessionState.AWAITING_AI)
        bag = shown.bag
        event = self._append(KIND_AI_RESULT, result.to_payload(), system=True,
                             scan_sha256=bag.scan_sha256, model_sha256=result.model_sha256)
        self._on_screen = BagOnScreen(bag, result, self.clock(), shown.tip, shown.rescreen)
        self._state = SessionState.AWAITING_DECISION
        return event

    def decide(self, decision: Decision, marks: Sequence[Mark] = (), *,
               response_ms: int | None = None, timed_out: bool = False) -> ConfirmedDecision:
        """Record the screener's decision. ``response_ms`` defaults to the time since the
        bag went on screen; ``timed_out``: the decision time ran out (the caller decides
        what that means, e.g. a blind test clears the bag). Returns only once the log has
        committed it; on AuditUnavailableError the bag stays on screen, undecided. In a TIP
        session the trial is then logged; if that append fails the decision stands,
        :meth:`decide` raises :class:`TrialNotLoggedError` (the decision in it), and the
        trial is logged first thing at the next :meth:`receive` or :meth:`end`, or by
        :meth:`log_pending_trial`: a trial is never lost."""
        shown = self._shown("decide", SessionState.AWAITING_DECISION)
        bag = shown.bag
        marks = tuple(marks)
        check_decision(shown.scan, decision, marks)
        elapsed = self._response_ms() if response_ms is None else int(response_ms)
        payload: dict[str, Any] = {"decision": decision.value,
                                   "marks": [m.to_payload() for m in marks],
                                   "response_ms": elapsed, "tip": _tip_summary(shown.tip)}
        if shown.rescreen:
            payload["rescreen"] = True
        if timed_out:
            payload["timed_out"] = True
        ai = shown.ai
        event = self._append(KIND_DECISION, payload, scan_sha256=bag.scan_sha256,
                             model_sha256=None if ai is None else ai.model_sha256)
        confirmed = ConfirmedDecision(bag.scan_sha256, bag.bag_id, decision, marks, elapsed,
                                      event, rescreen=shown.rescreen)
        self._on_screen = None
        self._state = SessionState.AWAITING_BAG
        self.decisions.append(confirmed)
        if shown.tip is not None and self.tip is not None:
            confirmed = self._score_tip(shown, confirmed)
        return confirmed

    def _score_tip(self, shown: BagOnScreen, confirmed: ConfirmedDecision) -> ConfirmedDecision:
        """Log the TIP trial of a decision and, with feedback on, give the feedback and
        put the real bag back on screen after a TIP bag."""
        assert shown.tip is not None and self.tip is not None
        response = score_response(shown.tip, self.operator.id, confirmed.decision,
                                  confirmed.marks, confirmed.response_ms, shown.ai,
                                  datetime.fromisoformat(confirmed.event.time_utc))
        feedback = response.feedback if self.tip.feedback else None
        payload = {**response.trial.payload(), **dict(self.tip.context or {}),
                   "fti_id": None if shown.tip.fti is None or not shown.tip.projected
                   else shown.tip.fti.fti_id,
                   "bag_index": shown.tip.decision.bag_index,
                   "feedback": None if feedback is None else feedback.kind.value}
        if feedback is not None and feedback.rescreen:
            # the real bag comes back, without its FTI, for a decision of its own
            self._on_screen = BagOnScreen(shown.bag, rescreen=True)
            self._state = SessionState.AWAITING_AI
        confirmed = dataclasses.replace(confirmed, trial=response.trial, feedback=feedback)
        self.decisions[-1] = confirmed
        self._pending_trial = (self.tip.outcome_kind, payload, shown.bag.scan_sha256)
        self.log_pending_trial(confirmed)
        return confirmed

    def log_pending_trial(self, decision: ConfirmedDecision | None = None) -> None:
        """Log the TIP trial whose append failed after its decision was committed;
        nothing to do when there is none. Raises :class:`TrialNotLoggedError` while the
        log is still unavailable."""
        if self._pending_trial is None:
            return
        kind, payload, scan_sha256 = self._pending_trial
        try:
            self._append(kind, payload, system=True, scan_sha256=scan_sha256)
        except AuditUnavailableError as error:
            raise TrialNotLoggedError(error.where, error.problem,
                                      decision or self.decisions[-1]) from None
        self._pending_trial = None

    def end(self, reason: str = SHIFT_END, *, abandon_bag: bool = False
            ) -> CheckpointRecord | None:
        """Log ``session.ended`` and sign a checkpoint. If the checkpoint fails after the
        event was written, calling ``end`` again retries the checkpoint only.
        ``abandon_bag``: end even with a bag on screen, undecided (an abandoned blind test,
        a forced close); the event names the scan left without a decision. TIP plans
        still open (planned ahead, never received) are discarded first
        (``tip.plan_discarded``), and no more are made."""
        if self._state is not SessionState.ENDED:
            allowed = (SessionState.AWAITING_BAG,) + (
                (SessionState.AWAITING_AI, SessionState.AWAITING_DECISION)
                if abandon_bag else ())
            self._expect("end the session", *allowed)
            self.log_pending_trial()
            with self._tip_lock:
                self._tip_closed = True
            try:
                self._queue_open_discards(f"the session ended ({reason}) before the bag "
                                          "was received")
                self._log_pending_discards()
                rescreens = sum(d.rescreen for d in self.decisions)
                payload: dict[str, Any] = {"bags_decided": len(self.decisions) - rescreens,
                                           "rescreens": rescreens, "reason": reason}
                if self._on_screen is not None:
                    payload["abandoned_scan"] = self._on_screen.bag.scan_sha256
                self._append(KIND_SESSION_ENDED, payload)
            except BaseException:
                with self._tip_lock:  # not ended: plans may be made again
                    self._tip_closed = False
                raise
            self._on_screen = None
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

    def _shown(self, step: str, state: SessionState) -> BagOnScreen:
        self._expect(step, state)
        assert self._on_screen is not None  # every state past AWAITING_BAG has a bag
        return self._on_screen

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


def _tip_summary(plan: TipPlan | None) -> dict[str, Any] | None:
    """What a decision's payload says of TIP: None outside TIP, else whether an FTI was
    shown and which."""
    if plan is None:
        return None
    return {"projected": plan.projected,
            "fti_id": plan.fti.fti_id if plan.projected and plan.fti is not None else None}


class TrialNotLoggedError(AuditUnavailableError):
    """A decision was committed but its TIP trial could not be logged; ``decision`` is the
    confirmed decision. The session logs the trial before anything else it logs next."""

    def __init__(self, where: str, problem: str, decision: ConfirmedDecision) -> None:
        super().__init__(where, problem)
        self.decision = decision
        # unlike its base, something was recorded: the decision
        self.args = (f"{where}: audit log unavailable: {self.problem}. The decision was "
                     "recorded, its TIP trial not yet: it is logged before the next bag "
                     "once the database is back (space, permissions, path).",)
