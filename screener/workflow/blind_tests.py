"""Running a blind test (:mod:`screener.tip.blind_test`) for one trainee, through the same
screening session as operations, with no AI and no feedback.

Audit trail, in the station's chain:

* ``blind_test.started`` (the trainer, role trainer): the test's id, name and spec, the
  trainee;
* the trainee's session: ``session.started``, then per image ``scan.received``,
  ``tip.scheduled`` (and ``tip.projected`` on a TIP image), ``ai.result`` ("unavailable:
  AI off during blind tests"), ``screening.decision`` (``"timed_out": true`` when the time
  limit ran out: the image counts as cleared) and ``blind_test.trial`` (the trial, with
  the TIP trial fields, the test id and the trial number); ``session.ended``;
* ``blind_test.completed``: the scores, the pass marks and the verdict.

Blind-test trials are logged as ``blind_test.trial``, not ``tip.outcome``, so that they
never mix with operational TIP scores. :func:`results` reads the verdicts back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Engine

from screener.audit.chain import EventRecord
from screener.audit.log import SYSTEM_ACTOR, SYSTEM_ROLE, AuditLog
from screener.audit.query import events_of_kinds
from screener.scan.model import Scan
from screener.scan.store import ScanStore
from screener.tip.blind_test import (
    BlindTest,
    BlindTestResult,
    BlindTrial,
    project_trial,
    score_blind_test,
)
from screener.tip.library import FtiLibrary
from screener.tip.scheduler import TipDecision
from screener.tip.scoring import TipTrial
from screener.workflow.ai import AiResult
from screener.workflow.decisions import Decision, Mark
from screener.workflow.errors import SessionStateError
from screener.workflow.roles import Action, Guard, Role
from screener.workflow.session import (
    BagOnScreen,
    IncomingBag,
    Operator,
    ScreeningSession,
    TipMode,
)
from screener.workflow.tip_injection import TipPlan

KIND_BLIND_STARTED = "blind_test.started"
KIND_BLIND_TRIAL = "blind_test.trial"
KIND_BLIND_COMPLETED = "blind_test.completed"
KIND_BLIND_ABANDONED = "blind_test.abandoned"
AI_OFF = "AI off during blind tests"
SOURCE = "blind test"
END_REASON = "blind test end"


@dataclass(frozen=True)
class Answer:
    decision: Decision
    marks: tuple[Mark, ...]
    response_ms: int


class Trainee(Protocol):
    """Who answers: the workstation's trainee view, or a simulated screener."""

    def answer(self, trial: BlindTrial, shown: BagOnScreen) -> Answer: ...


@dataclass(frozen=True)
class BlindTestRun:
    result: BlindTestResult
    trials: tuple[TipTrial, ...]
    completed: EventRecord


class BlindTestSitting:
    """One trainee taking one test, step by step (the trainer view drives it from the
    trainee's key presses): :meth:`next_image`, :meth:`answer`, ..., :meth:`finish`.
    Creating it checks the trainer's permission and logs ``blind_test.started``."""

    def __init__(self, log: AuditLog, store: ScanStore, library: FtiLibrary,
                 test: BlindTest, trainee: Operator, trainer: Operator) -> None:
        Guard(log).require(trainer.id, trainer.role, Action.RUN_BLIND_TEST,
                           subject=f"blind test {test.spec.name} for {trainee.id}")
        if trainee.role is not Role.SCREENER:
            raise SessionStateError("run a blind test", f"trainee role {trainee.role.value}",
                                    "blind tests are taken by screeners")
        self.log = log
        self.store = store
        self.library = library
        self.test = test
        self.trainee = trainee
        self.trials: list[TipTrial] = []
        self.timeouts = 0
        self.limit_ms = round(test.spec.time_limit_s * 1000)
        log.append(KIND_BLIND_STARTED, {"test_id": test.test_id,
                                        "spec": test.spec.as_dict(), "trainee": trainee.id,
                                        "images": len(test.trials)},
                   actor=trainer.id, role=trainer.role.value)
        mode = TipMode(feedback=False, outcome_kind=KIND_BLIND_TRIAL,
                       context={"test_id": test.test_id})
        self.session = ScreeningSession(log, trainee, tip=mode)
        self.session.start()
        self._current: BlindTrial | None = None

    @property
    def answered(self) -> int:
        return len(self.trials)

    @property
    def current(self) -> BlindTrial | None:
        return self._current

    def next_image(self) -> BagOnScreen | None:
        """Put the next image on screen (None when every image is answered)."""
        if self._current is not None:
            raise SessionStateError("show the next image", "an image is on screen",
                                    "answer the image on screen first")
        if self.answered == len(self.test.trials):
            return None
        trial = self.test.trials[self.answered]
        bag = IncomingBag.from_store(self.store, trial.scan_sha256, SOURCE)
        self.session.receive(bag, _plan(trial, self.test, self.trainee, self.library,
                                        self.store, bag.scan))
        self.session.record_ai(AiResult.unavailable(None, AI_OFF))
        self._current = trial
        shown = self.session.on_screen
        assert shown is not None
        return shown

    def answer(self, decision: Decision, marks: Sequence[Mark], response_ms: int) -> TipTrial:
        """The trainee's answer on the image on screen; past the time limit the image
        counts as cleared."""
        if self._current is None:
            raise SessionStateError("answer", "no image on screen", "show the next image")
        if response_ms > self.limit_ms:
            self.timeouts += 1
            confirmed = self.session.decide(Decision.CLEAR, (), response_ms=self.limit_ms,
                                            timed_out=True)
        else:
            confirmed = self.session.decide(decision, marks, response_ms=response_ms)
        assert confirmed.trial is not None
        self.trials.append(confirmed.trial)
        self._current = None
        return confirmed.trial

    def finish(self) -> BlindTestRun:
        """End the sitting, score it and log ``blind_test.completed``."""
        if self.answered != len(self.test.trials):
            raise SessionStateError("finish the blind test",
                                    f"{self.answered} of {len(self.test.trials)} answered",
                                    "answer every image first")
        self.session.end(END_REASON)
        result = score_blind_test(self.test, self.trainee.id, self.trials, self.timeouts)
        completed = self.log.append(KIND_BLIND_COMPLETED, result.payload(),
                                    actor=SYSTEM_ACTOR, role=SYSTEM_ROLE)
        return BlindTestRun(result, tuple(self.trials), completed)


    def abandon(self, by: Operator, reason: str) -> EventRecord:
        """Stop the sitting unfinished (the trainer's decision, or the application
        closing): ``blind_test.abandoned`` with how far it got; no score, no answer made
        up for the image on screen."""
        event = self.log.append(KIND_BLIND_ABANDONED, {
            "test_id": self.test.test_id, "trainee": self.trainee.id,
            "answered": self.answered, "images": len(self.test.trials), "reason": reason},
            actor=by.id, role=by.role.value)
        self.session.end(f"blind test abandoned: {reason}", abandon_bag=True)
        self._current = None
        return event


def run_blind_test(log: AuditLog, store: ScanStore, library: FtiLibrary, test: BlindTest,
                   trainee: Operator, trainer: Operator, answers: Trainee, *,
                   on_trial: Callable[[int], None] | None = None) -> BlindTestRun:
    """Show every image of ``test`` to ``trainee`` and log and score the answers."""
    sitting = BlindTestSitting(log, store, library, test, trainee, trainer)
    while (shown := sitting.next_image()) is not None:
        trial = sitting.current
        assert trial is not None
        answer = answers.answer(trial, shown)
        sitting.answer(answer.decision, answer.marks, answer.response_ms)
        if on_trial is not None:
            on_trial(trial.index)
    return sitting.finish()


def _plan(trial: BlindTrial, test: BlindTest, trainee: Operator, library: FtiLibrary,
          store: ScanStore, real: Scan) -> TipPlan:
    decision = TipDecision(trainee.id, trial.index, trial.is_tip, trial.category,
                           test.spec.prevalence, settings_version=1)
    if not trial.is_tip:
        return TipPlan(decision, real=real)
    assert trial.fti_id is not None
    return TipPlan(decision, library.record(trial.fti_id),
                   project_trial(trial, library, store, real), real=real)


@dataclass(frozen=True)
class RecordedResult:
    """A ``blind_test.completed`` event as read back from the audit log."""

    event: EventRecord
    payload: dict[str, object]

    @property
    def test_id(self) -> str:
        return str(self.payload["test_id"])

    @property
    def trainee(self) -> str:
        return str(self.payload["trainee"])


def results(engine: Engine, *, test_id: str | None = None,
            trainee: str | None = None) -> list[RecordedResult]:
    """Every recorded blind-test verdict, oldest first, filtered by test (an id or its
    first characters) and trainee."""
    found = []
    for event in events_of_kinds(engine, [KIND_BLIND_COMPLETED]):
        payload = json.loads(event.payload)
        record = RecordedResult(event, payload)
        if (test_id is None or record.test_id.startswith(test_id)) and \
                (trainee is None or record.trainee == trainee):
            found.append(record)
    return found
