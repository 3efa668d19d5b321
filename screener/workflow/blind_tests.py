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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Engine

from screener.audit.chain import EventRecord
from screener.audit.log import SYSTEM_ACTOR, SYSTEM_ROLE, AuditLog
from screener.audit.query import events_of_kinds
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


def run_blind_test(log: AuditLog, store: ScanStore, library: FtiLibrary, test: BlindTest,
                   trainee: Operator, trainer: Operator, answers: Trainee, *,
                   on_trial: Callable[[int], None] | None = None) -> BlindTestRun:
    """Show every image of ``test`` to ``trainee`` and log and score the answers."""
    Guard(log).require(trainer.id, trainer.role, Action.RUN_BLIND_TEST,
                       subject=f"blind test {test.spec.name} for {trainee.id}")
    if trainee.role is not Role.SCREENER:
        raise SessionStateError("run a blind test", f"trainee role {trainee.role.value}",
                                "blind tests are taken by screeners")
    log.append(KIND_BLIND_STARTED, {"test_id": test.test_id, "spec": test.spec.as_dict(),
                                    "trainee": trainee.id, "images": len(test.trials)},
               actor=trainer.id, role=trainer.role.value)
    mode = TipMode(feedback=False, outcome_kind=KIND_BLIND_TRIAL,
                   context={"test_id": test.test_id})
    session = ScreeningSession(log, trainee, tip=mode)
    session.start()
    limit_ms = round(test.spec.time_limit_s * 1000)
    trials: list[TipTrial] = []
    timeouts = 0
    for trial in test.trials:
        bag = IncomingBag.from_store(store, trial.scan_sha256, SOURCE)
        session.receive(bag, _plan(trial, test, trainee, library, store))
        session.record_ai(AiResult.unavailable(None, AI_OFF))
        shown = session.on_screen
        assert shown is not None
        answer = answers.answer(trial, shown)
        if answer.response_ms > limit_ms:
            timeouts += 1
            confirmed = session.decide(Decision.CLEAR, (), response_ms=limit_ms,
                                       timed_out=True)
        else:
            confirmed = session.decide(answer.decision, answer.marks,
                                       response_ms=answer.response_ms)
        assert confirmed.trial is not None
        trials.append(confirmed.trial)
        if on_trial is not None:
            on_trial(trial.index)
    session.end(END_REASON)
    result = score_blind_test(test, trainee.id, trials, timeouts)
    completed = log.append(KIND_BLIND_COMPLETED, result.payload(), actor=SYSTEM_ACTOR,
                           role=SYSTEM_ROLE)
    return BlindTestRun(result, tuple(trials), completed)


def _plan(trial: BlindTrial, test: BlindTest, trainee: Operator, library: FtiLibrary,
          store: ScanStore) -> TipPlan:
    decision = TipDecision(trainee.id, trial.index, trial.is_tip, trial.category,
                           test.spec.prevalence, settings_version=1)
    if not trial.is_tip:
        return TipPlan(decision)
    assert trial.fti_id is not None
    return TipPlan(decision, library.record(trial.fti_id),
                   project_trial(trial, library, store))


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
