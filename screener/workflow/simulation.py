"""Headless screening with simulated screeners, writing real audit events.

``run_simulation`` screens ``bags`` simulated bags with ``operators`` simulated
screeners through the same :class:`~screener.workflow.session.ScreeningSession` the
workstation uses, so every event it writes is a real one in the station's chain.

* **The bag pool** (:mod:`screener.workflow.pool`). Simulating a bag takes about half a
  second, so bags come from a pool of at most ``pool`` distinct bags (default
  ``min(bags, 50)``), simulated once into the scan store. With ``bags <= pool`` each pool
  bag is screened once, in order; with more, each bag screened is drawn from the pool
  with replacement (so one scan may be screened several times, by several operators).
* **Operators** ``sim-op-1`` ... take turns: the bags are split into K consecutive blocks
  and each operator screens one block in a session of its own (started, ended and
  checkpointed at shift end), one after the other at this one station.
* **Each bag**: ``scan.received``, ``ai.result`` (the simulated AI, or "unavailable"
  without it), then the simulated screener's ``screening.decision``
  (:mod:`screener.workflow.observer`), scored against ground truth for the report.
* **TIP** (with ``tip_settings`` and an FTI library): the station's scheduler and
  projector plan every bag (``tip.scheduled``, ``tip.projected``); the simulated screener
  meets the FTI as one more threat (:func:`~screener.workflow.difficulty.fti_cue`), the
  simulated AI flags it like one, every decision gets its ``tip.outcome``, and after a
  TIP bag's feedback the screener screens the real bag again. The report's bag tally
  counts the decision on the real bag.

One seed fixes the pool, the order, the operators' profiles and every answer; only the
times in the log are real.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from screener.audit.log import AuditLog
from screener.errors import SimulationError
from screener.scan import ScanStore
from screener.tip.blind_test import BlindTest, BlindTrial
from screener.tip.library import FtiLibrary
from screener.tip.scheduler import TipScheduler, TipSettings
from screener.tip.scoring import TipTrial
from screener.workflow.blind_tests import Answer, BlindTestRun, run_blind_test
from screener.workflow.difficulty import BagPercept, fti_cue, with_threat
from screener.workflow.observer import ObserverProfile, draw_profiles, respond
from screener.workflow.pool import PoolBag, build_pool, pool_bag, pool_recipes
from screener.workflow.roles import Role
from screener.workflow.scoring import Tally, outcome_of
from screener.workflow.session import (
    BagOnScreen,
    IncomingBag,
    Operator,
    ScreeningSession,
    SessionState,
    TipMode,
)
from screener.workflow.simulated_ai import SimulatedDetector
from screener.workflow.tip_injection import TipInjector

POOL_LIMIT = 50
SOURCE = "simulator"
_ORDER_STREAM = 0x0D3
_RESPONSE_STREAM = 0x2E5
_BLIND_STREAM = 0xB1D
SIMULATED_TRAINER = "sim-trainer"


@dataclass(frozen=True)
class SimulationPlan:
    bags: int
    operators: int
    seed: int = 0
    pool: int | None = None  # None: min(bags, POOL_LIMIT)
    threat_fraction: float = 0.3
    simulated_ai: bool = True
    tip_settings: TipSettings | None = None  # None: no TIP

    def __post_init__(self) -> None:
        if self.bags < 1:
            raise SimulationError(f"ask for at least one bag, not {self.bags}")
        if not 1 <= self.operators <= self.bags:
            raise SimulationError(f"operators must lie between 1 and the number of bags "
                                  f"({self.bags}), not {self.operators}")
        if self.seed < 0:
            raise SimulationError(f"seed must be 0 or more, not {self.seed}")
        if not 0.0 <= self.threat_fraction <= 1.0:
            raise SimulationError(f"threat fraction must lie in [0, 1], not "
                                  f"{self.threat_fraction}")
        if self.pool is not None and self.pool < 1:
            raise SimulationError(f"the bag pool needs at least one bag, not {self.pool}")

    @property
    def pool_size(self) -> int:
        return min(self.bags, POOL_LIMIT if self.pool is None else self.pool)


@dataclass
class OperatorSummary:
    profile: ObserverProfile
    tally: Tally = field(default_factory=Tally)
    tip_trials: list[TipTrial] = field(default_factory=list)


@dataclass
class SimulationReport:
    plan: SimulationPlan
    pool: list[PoolBag]
    operators: list[OperatorSummary]
    events: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0


def run_simulation(log: AuditLog, store: ScanStore, plan: SimulationPlan, *, lane: str,
                   pool_index: Path | None = None, tip_library: FtiLibrary | None = None,
                   on_pool_bag: Callable[[PoolBag], None] | None = None,
                   on_screened: Callable[[str], None] | None = None) -> SimulationReport:
    """Screen ``plan.bags`` bags; ``on_pool_bag`` and ``on_screened`` report progress.
    ``tip_library`` is needed when the plan has TIP settings."""
    started = time.perf_counter()
    tip = None
    if plan.tip_settings is not None:
        if tip_library is None:
            raise SimulationError("TIP in a simulation needs an FTI library")
        tip = TipMode(TipInjector(tip_library, TipScheduler(plan.tip_settings, plan.seed),
                                  seed=plan.seed))
    recipes = pool_recipes(plan.seed, plan.pool_size, plan.threat_fraction,
                           station=log.station, lane=lane)
    pool = build_pool(store, recipes, index=pool_index, on_bag=on_pool_bag)
    detector = (SimulatedDetector({bag.scan_sha256: bag.truth for bag in pool}, plan.seed)
                if plan.simulated_ai else None)
    order = bag_order(plan)
    profiles = draw_profiles(plan.seed, operator_ids(plan.operators))
    report = SimulationReport(plan, pool, [OperatorSummary(p) for p in profiles])
    for summary, positions in zip(report.operators, shifts(plan), strict=True):
        session = ScreeningSession(log, Operator(summary.profile.operator_id, Role.SCREENER),
                                   detector=detector, lane=lane, tip=tip)
        session.start()
        for position in positions:
            _screen(session, store, pool[order[position]], summary,
                    _response_rng(plan.seed, position), detector)
            if on_screened is not None:
                on_screened(summary.profile.operator_id)
        session.end()
        report.events.update(session.events_written)
    report.elapsed_s = time.perf_counter() - started
    return report


class SimulatedTrainee:
    """A simulated screener taking a blind test: the observer model, answering from the
    bag's stored ground truth plus the FTI projected into it."""

    def __init__(self, profile: ObserverProfile, store: ScanStore, seed: int) -> None:
        self.profile = profile
        self.store = store
        self.seed = seed
        self._percepts: dict[str, BagPercept] = {}

    def answer(self, trial: BlindTrial, shown: BagOnScreen) -> Answer:
        sha = trial.scan_sha256
        if sha not in self._percepts:
            self._percepts[sha] = pool_bag(self.store, sha).percept
        percept = self._percepts[sha]
        plan = shown.tip
        if plan is not None and plan.projection is not None and plan.fti is not None:
            percept = with_threat(percept, fti_cue(plan.projection, plan.fti.subcategory,
                                                   plan.clutter))
        rng = np.random.default_rng(np.random.SeedSequence(
            [self.seed, _BLIND_STREAM, *self.profile.operator_id.encode(), trial.index]))
        response = respond(self.profile, percept, rng)
        return Answer(response.decision, response.marks, response.response_ms)


def run_blind_simulation(log: AuditLog, store: ScanStore, library: FtiLibrary,
                         test: BlindTest, operators: int, seed: int, *,
                         on_trial: Callable[[int], None] | None = None,
                         ) -> list[BlindTestRun]:
    """``operators`` simulated trainees (profiles fixed by ``seed``) take ``test`` one
    after the other, run by a simulated trainer."""
    if operators < 1:
        raise SimulationError(f"a blind test needs at least one trainee, not {operators}")
    trainer = Operator(SIMULATED_TRAINER, Role.TRAINER)
    runs = []
    for profile in draw_profiles(seed, operator_ids(operators)):
        trainee = SimulatedTrainee(profile, store, seed)
        runs.append(run_blind_test(log, store, library, test,
                                   Operator(profile.operator_id, Role.SCREENER), trainer,
                                   trainee, on_trial=on_trial))
    return runs


def bag_order(plan: SimulationPlan) -> list[int]:
    """Which pool bag each screened bag is: each once in order, or drawn with
    replacement when more bags are screened than the pool holds."""
    if plan.bags <= plan.pool_size:
        return list(range(plan.bags))
    rng = np.random.default_rng(np.random.SeedSequence([plan.seed, _ORDER_STREAM]))
    return [int(i) for i in rng.integers(0, plan.pool_size, size=plan.bags)]


def shifts(plan: SimulationPlan) -> list[list[int]]:
    """Consecutive blocks of bag positions, one per operator, as even as can be."""
    return [[int(i) for i in block]
            for block in np.array_split(np.arange(plan.bags), plan.operators)]


def operator_ids(count: int) -> list[str]:
    return [f"sim-op-{i + 1}" for i in range(count)]


def _screen(session: ScreeningSession, store: ScanStore, bag: PoolBag,
            summary: OperatorSummary, rng: np.random.Generator,
            detector: SimulatedDetector | None) -> None:
    session.receive(IncomingBag.from_store(store, bag.scan_sha256, SOURCE))
    percept = bag.percept
    on_screen = session.on_screen
    plan = None if on_screen is None else on_screen.tip
    if plan is not None and plan.projection is not None and plan.fti is not None:
        label = plan.fti.subcategory
        if detector is not None:
            detector.expect_tip(plan.projection.scan, plan.projection, label,
                                plan.fti.category.value)
        percept = with_threat(percept, fti_cue(plan.projection, label, plan.clutter))
    session.run_ai()
    answer = respond(summary.profile, percept, rng)
    confirmed = session.decide(answer.decision, answer.marks, response_ms=answer.response_ms)
    if confirmed.trial is not None:
        summary.tip_trials.append(confirmed.trial)
    if session.state is SessionState.AWAITING_AI:  # TIP feedback: the real bag again
        session.run_ai()
        answer = respond(summary.profile, bag.percept, rng)
        confirmed = session.decide(answer.decision, answer.marks,
                                   response_ms=answer.response_ms)
    summary.tally.add(outcome_of(bag.percept.has_threat, confirmed.decision))


def _response_rng(seed: int, position: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _RESPONSE_STREAM, position]))
