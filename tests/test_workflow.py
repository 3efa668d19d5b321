"""The screening session state machine, roles, fail-closed decisions, and the simulated
screener's model (no simulator here: scans are small synthetic ones)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import numpy as np
import pytest
from conftest import make_synthetic_scan
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from screener.audit.log import open_audit_log
from screener.audit.query import events_in_range
from screener.audit.schema import Checkpoint
from screener.errors import AuditUnavailableError, ScreenerError
from screener.scan import (
    GroundTruth,
    LabelledObject,
    Scan,
    ScanMetadata,
    ScanStore,
    SourceKind,
    View,
)
from screener.workflow.ai import AiDetection, AiStatus
from screener.workflow.decisions import Decision, Mark
from screener.workflow.difficulty import BagPercept, ThreatCue, percept_of
from screener.workflow.errors import InvalidDecisionError, PermissionDenied, SessionStateError
from screener.workflow.holds import place_hold
from screener.workflow.observer import ObserverProfile, draw_profiles, phi, respond
from screener.workflow.roles import PERMISSIONS, Action, Guard, Role, allowed_roles
from screener.workflow.session import (
    IncomingBag,
    Operator,
    ScreeningSession,
    SessionState,
)
from screener.workflow.simulated_ai import SIMULATED_AI, SimulatedDetector

STATION = "test-station"
SCREENER = Operator("op-1", Role.SCREENER)
MODEL = "ab" * 32


@pytest.fixture
def log(tmp_path):
    audit = open_audit_log(tmp_path / "home", STATION, checkpoint_every=1000)
    yield audit
    audit.engine.dispose()


@pytest.fixture
def bag(tmp_path):
    scan, _ = make_synthetic_scan(views=2, truth=True)
    store = ScanStore(tmp_path / "scans")
    return IncomingBag.from_store(store, store.add_scan(scan), "file")


def events(log):
    return events_in_range(log.engine, STATION, 1, 10**9)


def kinds(log):
    return [e.kind for e in events(log)]


def started(log, **kwargs):
    session = ScreeningSession(log, SCREENER, **kwargs)
    session.start()
    return session


class FakeDetector:
    name = "fake detector"
    model_sha256 = MODEL

    def __init__(self, fail=False):
        self.fail = fail

    def detect(self, scan, scan_sha256):
        if self.fail:
            raise RuntimeError("model file vanished\nsecond line")
        return [AiDetection("top", (1.0, 2.0, 10.5, 12.25), "knife", "knife", 0.91)]


# ---------------------------------------------------------------------- the state machine
def test_one_bag_goes_through_every_state_and_each_step_is_logged(log, bag):
    session = ScreeningSession(log, SCREENER, lane="lane-3")
    assert session.state is SessionState.NOT_STARTED
    session.start()
    assert session.state is SessionState.AWAITING_BAG
    session.receive(bag)
    assert session.state is SessionState.AWAITING_AI
    result = session.run_ai()
    assert result.status is AiStatus.UNAVAILABLE and session.on_screen.ai is result
    assert session.state is SessionState.AWAITING_DECISION
    confirmed = session.decide(Decision.SUSPECT, [Mark("side", (3, 4, 15, 14))],
                               response_ms=2345)
    assert session.state is SessionState.AWAITING_BAG and session.on_screen is None
    checkpoint = session.end()
    assert session.state is SessionState.ENDED

    assert kinds(log) == ["chain.genesis", "session.started", "scan.received", "ai.result",
                          "screening.decision", "session.ended"]
    by_kind = {e.kind: e for e in events(log)}
    received = by_kind["scan.received"]
    assert received.scan_sha256 == bag.scan_sha256
    assert json.loads(received.payload) == {"source": "file", "bag_id": "BAG-0000",
                                            "views": ["top", "side"]}
    ai = json.loads(by_kind["ai.result"].payload)
    assert ai["status"] == "unavailable" and ai["detections"] == []
    decision = by_kind["screening.decision"]
    assert (decision.actor, decision.role, decision.scan_sha256) == ("op-1", "screener",
                                                                      bag.scan_sha256)
    assert json.loads(decision.payload) == {
        "decision": "suspect", "marks": [{"view": "side", "box": [3, 4, 15, 14]}],
        "response_ms": 2345, "tip": None}
    assert decision.hash == confirmed.event.hash
    assert json.loads(by_kind["session.ended"].payload)["bags_decided"] == 1
    assert checkpoint is not None and checkpoint.reason == "shift end"
    assert checkpoint.seq == by_kind["session.ended"].seq


def test_out_of_order_steps_are_refused_with_a_typed_error(log, bag):
    session = ScreeningSession(log, SCREENER)
    for step in (lambda: session.receive(bag), lambda: session.decide(Decision.CLEAR),
                 session.run_ai, session.end):
        with pytest.raises(SessionStateError, match="not started; start the session"):
            step()
    session.start()
    with pytest.raises(SessionStateError):
        session.start()
    with pytest.raises(SessionStateError, match="receive a bag first"):
        session.decide(Decision.CLEAR)
    session.receive(bag)
    with pytest.raises(SessionStateError, match="AI result"):
        session.decide(Decision.CLEAR)
    with pytest.raises(SessionStateError):
        session.receive(bag)
    session.run_ai()
    for step in (lambda: session.receive(bag), session.run_ai, session.end):
        with pytest.raises(SessionStateError, match="decide on the bag on screen first"):
            step()
    assert session.state is SessionState.AWAITING_DECISION
    session.decide(Decision.CLEAR)
    session.end()
    with pytest.raises(SessionStateError, match="ended"):
        session.receive(bag)
    with pytest.raises(SessionStateError):
        session.end()
    assert issubclass(SessionStateError, ScreenerError)
    assert kinds(log).count("screening.decision") == 1  # refused steps wrote nothing
    assert len(kinds(log)) == 6


def test_response_time_defaults_to_the_time_the_bag_was_on_screen(log, bag):
    ticks = iter([100.0, 103.25])
    session = started(log, clock=lambda: next(ticks))
    session.receive(bag)
    session.run_ai()  # on screen at 100.0
    assert session.decide(Decision.CLEAR).response_ms == 3250


def test_a_decision_must_fit_the_bag_on_screen(log, bag):
    session = started(log)
    session.receive(bag)
    session.run_ai()
    bad = [(Decision.CLEAR, [Mark("top", (0, 0, 5, 5))], "cleared must carry no marks"),
           (Decision.SUSPECT, [Mark("front", (0, 0, 5, 5))], "view 'front'"),
           (Decision.SUSPECT, [Mark("top", (0, 0, 65, 5))], "inside view 'top'"),
           (Decision.SUSPECT, [Mark("top", (5, 5, 5, 9))], "inside view 'top'")]
    for decision, marks, message in bad:
        with pytest.raises(InvalidDecisionError, match=message):
            session.decide(decision, marks)
    assert session.state is SessionState.AWAITING_DECISION
    session.decide(Decision.SUSPECT)  # suspect without marks is allowed
    assert kinds(log).count("screening.decision") == 1


# ---------------------------------------------------------------------- the AI
def test_a_detector_result_is_logged_with_the_model_hash(log, bag):
    session = started(log, detector=FakeDetector())
    session.receive(bag)
    result = session.run_ai()
    assert result.status is AiStatus.OK
    session.decide(Decision.SUSPECT, [Mark("top", (1, 2, 11, 13))])
    by_kind = {e.kind: e for e in events(log)}
    assert by_kind["session.started"].model_sha256 == MODEL
    ai = by_kind["ai.result"]
    assert (ai.model_sha256, ai.scan_sha256) == (MODEL, bag.scan_sha256)
    assert json.loads(ai.payload) == {
        "status": "ok", "detector": "fake detector",
        "detections": [{"view": "top", "box": [1.0, 2.0, 10.5, 12.25], "label": "knife",
                        "category": "knife", "score": 0.91}]}
    assert by_kind["screening.decision"].model_sha256 == MODEL  # what the screener saw


def test_a_failing_detector_is_logged_unavailable_and_screening_goes_on(log, bag):
    session = started(log, detector=FakeDetector(fail=True))
    session.receive(bag)
    result = session.run_ai()
    assert result.status is AiStatus.UNAVAILABLE
    payload = json.loads(events(log)[-1].payload)
    assert payload == {"status": "unavailable", "detector": "fake detector",
                       "detections": [], "reason": "model file vanished"}
    session.decide(Decision.CLEAR)
    assert session.state is SessionState.AWAITING_BAG


def test_the_simulated_ai_says_so_and_reports_from_ground_truth(bag):
    truth = make_synthetic_scan(views=2, truth=True)[1]
    perfect = SimulatedDetector({bag.scan_sha256: truth}, seed=3, miss_probability=0.0,
                                false_alarm_probability=0.0)
    assert SIMULATED_AI in perfect.name and perfect.model_sha256 is None
    found = perfect.detect(bag.scan, bag.scan_sha256)
    assert sorted(d.view for d in found) == ["side", "top"]
    assert {(d.label, d.category) for d in found} == {("knife", "knife")}
    assert [d.to_payload() for d in found] == [
        d.to_payload() for d in perfect.detect(bag.scan, bag.scan_sha256)]
    blind = SimulatedDetector({bag.scan_sha256: truth}, seed=3, miss_probability=1.0,
                              false_alarm_probability=0.0)
    assert list(blind.detect(bag.scan, bag.scan_sha256)) == []


# ---------------------------------------------------------------------- fail closed
def broken_engine(tmp_path):
    return create_engine(f"sqlite:///{tmp_path / 'no such folder' / 'audit.sqlite'}",
                         poolclass=NullPool)


def test_an_audit_failure_leaves_the_decision_unconfirmed(log, bag, tmp_path, monkeypatch):
    session = started(log)
    session.receive(bag)
    session.run_ai()
    before = kinds(log)
    working = log.engine
    monkeypatch.setattr(log, "engine", broken_engine(tmp_path))
    with pytest.raises(AuditUnavailableError, match="Nothing was recorded"):
        session.decide(Decision.SUSPECT, [Mark("top", (3, 4, 15, 14))], response_ms=900)
    assert session.state is SessionState.AWAITING_DECISION
    assert session.on_screen is not None and session.on_screen.bag is bag
    assert session.decisions == []
    monkeypatch.setattr(log, "engine", working)
    assert kinds(log) == before  # nothing half-written
    confirmed = session.decide(Decision.SUSPECT, [Mark("top", (3, 4, 15, 14))],
                               response_ms=900)  # the same decision, once the log is back
    assert session.decisions == [confirmed]
    assert kinds(log).count("screening.decision") == 1


def test_an_audit_failure_on_arrival_leaves_the_bag_unreceived(log, bag, tmp_path,
                                                               monkeypatch):
    session = started(log)
    working = log.engine
    monkeypatch.setattr(log, "engine", broken_engine(tmp_path))
    with pytest.raises(AuditUnavailableError):
        session.receive(bag)
    assert session.state is SessionState.AWAITING_BAG and session.on_screen is None
    monkeypatch.setattr(log, "engine", working)
    session.receive(bag)
    assert session.state is SessionState.AWAITING_AI


def test_a_failed_shift_end_checkpoint_can_be_retried(log, monkeypatch):
    session = started(log)
    real_checkpoint = log.checkpoint

    def unavailable(reason):
        raise AuditUnavailableError("test db", "disk full")

    monkeypatch.setattr(log, "checkpoint", unavailable)
    with pytest.raises(AuditUnavailableError):
        session.end()
    assert session.state is SessionState.ENDED
    monkeypatch.setattr(log, "checkpoint", real_checkpoint)
    assert session.end().reason == "shift end"
    assert kinds(log).count("session.ended") == 1
    with log.engine.connect() as conn:
        reasons = list(conn.scalars(select(Checkpoint.reason)))
    assert reasons == ["chain created", "shift end"]


# ---------------------------------------------------------------------- roles
def test_a_screener_may_not_take_supervisor_or_investigator_actions(log, bag):
    guard = Guard(log)
    with pytest.raises(PermissionDenied, match="needs the supervisor role") as denied:
        guard.require("op-1", Role.SCREENER, Action.CHANGE_TIP_SETTINGS)
    assert isinstance(denied.value, ScreenerError)
    with pytest.raises(PermissionDenied, match="investigator"):
        place_hold(guard, "op-1", Role.SCREENER, "CASE-1", [bag.scan_sha256],
                   reason="curious")
    with pytest.raises(PermissionDenied):
        guard.require("op-1", Role.SCREENER, Action.EXPORT_EVIDENCE, subject="case CASE-1")
    denials = [e for e in events(log) if e.kind == "auth.denied"]
    assert [(e.actor, e.role) for e in denials] == [("op-1", "screener")] * 3
    assert [json.loads(e.payload)["action"] for e in denials] == [
        "tip.configure", "case.hold", "evidence.export"]
    assert json.loads(denials[1].payload)["allowed_roles"] == ["investigator"]
    assert "case.hold" not in kinds(log)
    place_hold(guard, "inv-7", Role.INVESTIGATOR, "CASE-1", [bag.scan_sha256],
               reason="court order 12")
    assert kinds(log)[-1] == "case.hold"


def test_only_screeners_open_screening_sessions(log):
    session = ScreeningSession(log, Operator("sup-1", Role.SUPERVISOR))
    with pytest.raises(PermissionDenied, match="screen bags"):
        session.start()
    assert session.state is SessionState.NOT_STARTED
    assert kinds(log)[-1] == "auth.denied"
    assert "session.started" not in kinds(log)


def test_the_permission_table():
    assert allowed_roles(Action.SCREEN_BAGS) == [Role.SCREENER]
    assert allowed_roles(Action.CHANGE_TIP_SETTINGS) == [Role.SUPERVISOR]
    for action in (Action.EXPORT_EVIDENCE, Action.PLACE_HOLD, Action.RELEASE_HOLD):
        assert allowed_roles(action) == [Role.INVESTIGATOR]
    for action in (Action.MANAGE_USERS, Action.MANAGE_KEYS, Action.MANAGE_RETENTION):
        assert allowed_roles(action) == [Role.ADMIN]
    assert Action.RUN_BLIND_TEST in PERMISSIONS[Role.TRAINER]
    assert set(PERMISSIONS) == set(Role)
    assert set().union(*PERMISSIONS.values()) == set(Action)


# ---------------------------------------------------------------------- the observer model
PROFILE = ObserverProfile("op-x", sensitivity=3.0, criterion=1.3, median_clear_ms=4000.0)
SHAPES = {"top": (200, 300), "side": (160, 300)}


def threat_bag(difficulty, clutter=0.5):
    return BagPercept(SHAPES, (ThreatCue("knife", "top", (100, 50, 160, 80), difficulty),),
                      clutter)


def test_the_observer_hit_rate_falls_with_difficulty():
    rng = np.random.default_rng(20240506)
    difficulties = (0.1, 0.35, 0.6, 0.85)
    trials = 3000
    rates = []
    for difficulty in difficulties:
        percept = threat_bag(difficulty)
        hits = sum(respond(PROFILE, percept, rng).decision is Decision.SUSPECT
                   for _ in range(trials))
        rates.append(hits / trials)
    for difficulty, rate in zip(difficulties, rates, strict=True):
        assert rate == pytest.approx(PROFILE.hit_probability(difficulty), abs=0.03)
    assert all(easier - harder > 0.1 for easier, harder in itertools.pairwise(rates))
    clean = BagPercept(SHAPES, (), 0.5)
    alarms = sum(respond(PROFILE, clean, rng).decision is Decision.SUSPECT
                 for _ in range(trials)) / trials
    assert alarms == pytest.approx(phi(-PROFILE.criterion), abs=0.02)
    assert rates[-1] > alarms - 0.02  # a very hard threat is still no worse than chance


def test_observer_marks_land_on_the_threat_or_inside_a_view():
    rng = np.random.default_rng(7)
    easy = threat_bag(0.0)
    for _ in range(200):
        answer = respond(PROFILE, easy, rng)
        for mark in answer.marks:
            x0, y0, x1, y1 = mark.box
            assert mark.view == "top" and abs(x0 - 100) < 30 and abs(y1 - 80) < 15
    clean = BagPercept(SHAPES, (), 0.0)
    for _ in range(300):
        for mark in respond(PROFILE, clean, rng).marks:
            rows, columns = SHAPES[mark.view]
            x0, y0, x1, y1 = mark.box
            assert 0 <= x0 < x1 <= columns and 0 <= y0 < y1 <= rows


def test_observer_takes_longer_over_suspect_and_cluttered_bags():
    rng = np.random.default_rng(11)

    def median_ms(percept, decision):
        times = [a.response_ms for a in (respond(PROFILE, percept, rng) for _ in range(2000))
                 if a.decision is decision]
        return float(np.median(times))

    tidy, cluttered = BagPercept(SHAPES, (), 0.0), BagPercept(SHAPES, (), 1.0)
    assert median_ms(cluttered, Decision.CLEAR) > 1.3 * median_ms(tidy, Decision.CLEAR)
    assert median_ms(threat_bag(0.0, 0.0), Decision.SUSPECT) > 1.3 * median_ms(
        tidy, Decision.CLEAR)


def test_operator_profiles_are_fixed_by_the_seed():
    ids = ["a", "b", "c"]
    assert draw_profiles(5, ids) == draw_profiles(5, ids)
    assert draw_profiles(5, ids) != draw_profiles(6, ids)
    assert len({p.sensitivity for p in draw_profiles(5, ids)}) == 3
    for profile in draw_profiles(5, ids * 20):
        assert 1.5 <= profile.sensitivity <= 4.5
        assert 0.02 < profile.false_alarm_rate < 0.25


# ---------------------------------------------------------------------- difficulty
def _uniform_view(name, rows, columns):
    high = np.full((rows, columns), 0.8, np.float32)
    return View(name, high, high.copy(), 1.0, (0.5, 0.5))


def test_difficulty_rises_for_small_faint_buried_threats():
    view = _uniform_view("top", 400, 400)
    big = (20, 20, 120, 120)
    small = (300, 300, 306, 306)
    view.high[20:120, 20:120] = 0.05  # large and dark: plain to see
    view.high[300:306, 300:306] = 0.7  # small and faint
    objects = (
        LabelledObject(1, "grenade", True, big, np.ones((100, 100), bool)),
        LabelledObject(2, "knife", True, small, np.ones((6, 6), bool)),
        LabelledObject(3, "laptop", False, (280, 280, 340, 340), np.ones((60, 60), bool)),
    )
    meta = ScanMetadata("BAG-1", "s", "l", datetime(2025, 1, 1, tzinfo=UTC), "test",
                        SourceKind.SIMULATED_DUAL_ENERGY, "p", "low", "high")
    percept = percept_of(Scan(meta, (view,)), GroundTruth({"top": objects}))
    easy, hard = percept.threats
    assert (easy.label, hard.label) == ("grenade", "knife")
    assert 0.0 <= easy.difficulty < 0.2 < 0.7 < hard.difficulty <= 1.0
    assert percept.has_threat and percept.view_shapes == {"top": (400, 400)}
    assert not percept_of(Scan(meta, (view,)), GroundTruth({"top": objects[2:]})).has_threat
