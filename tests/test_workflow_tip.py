"""TIP in the screening session: the scheduler's decision, the projected FTI shown and given
to the AI, the trial logged for every bag, feedback as in operations and the real bag
screened again after a TIP bag (issue 6, item 4)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from conftest import make_synthetic_scan

from screener.audit.log import open_audit_log
from screener.audit.query import events_in_range
from screener.audit.verify import verify_database
from screener.scan import ScanStore
from screener.sim.generate import simulate_bag
from screener.tip.build import BuildSettings, build_library
from screener.tip.fti import FtiCategory
from screener.tip.library import read_library
from screener.tip.scheduler import TipScheduler, TipSettings
from screener.tip.scoring import KIND_TIP_OUTCOME, TipOutcome, score_trials, trials_from_events
from screener.workflow.ai import AiDetection, AiResult, AiStatus
from screener.workflow.decisions import Decision, Mark
from screener.workflow.errors import SessionStateError
from screener.workflow.roles import Role
from screener.workflow.session import (
    IncomingBag,
    Operator,
    ScreeningSession,
    SessionState,
    TipMode,
)
from screener.workflow.simulation import SimulationPlan, run_simulation
from screener.workflow.tip_injection import (
    HIT_MESSAGE,
    KIND_TIP_PLAN_DISCARDED,
    MAX_MARK_SHARE,
    MISS_MESSAGE,
    NO_TIP_MESSAGE,
    FeedbackKind,
    TipInjector,
    ai_flagged,
    marks_fti,
)

STATION = "tip-station"
OPERATOR = Operator("op-7", Role.SCREENER)
ALWAYS = TipSettings(1.0, 1.0, {FtiCategory.GUN: 1.0, FtiCategory.KNIFE: 1.0}, 1)
NEVER = TipSettings(0.0, 0.0, {FtiCategory.GUN: 1.0}, 1)


def fail_appends(log, monkeypatch, kind=None):
    """Make ``log.append`` raise AuditUnavailableError ("disk full") for events of
    ``kind`` (every event when None); returns the call that puts the real one back."""
    from screener.errors import AuditUnavailableError

    real_append = log.append

    def failing(event_kind, *args, **kwargs):
        if kind is None or event_kind == kind:
            raise AuditUnavailableError("audit.sqlite", "disk full")
        return real_append(event_kind, *args, **kwargs)

    monkeypatch.setattr(log, "append", failing)
    return lambda: monkeypatch.setattr(log, "append", real_append)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    path = tmp_path_factory.mktemp("fti") / "library.h5"
    build_library(path, BuildSettings(articles=5, orientations=2, seed=3), jobs=1)
    return read_library(path)


@pytest.fixture(scope="module")
def real_scan():
    return simulate_bag(11).scan


@pytest.fixture
def log(tmp_path):
    audit = open_audit_log(tmp_path / "home", STATION, checkpoint_every=1000)
    yield audit
    audit.engine.dispose()


@pytest.fixture
def bag(tmp_path, real_scan):
    store = ScanStore(tmp_path / "scans")
    return IncomingBag.from_store(store, store.add_scan(real_scan), "simulator")


def session_with(log, library, settings, *, feedback=True, seed=0):
    injector = TipInjector(library, TipScheduler(settings, seed), seed=seed)
    session = ScreeningSession(log, OPERATOR, tip=TipMode(injector, feedback=feedback))
    session.start()
    return session


def events(log):
    return events_in_range(log.engine, STATION, 1, 10**9)


def payloads(log, kind):
    return [json.loads(e.payload) for e in events(log) if e.kind == kind]


def mark_on_fti(plan):
    """A mark around the FTI in its first view."""
    placed = plan.projection.projections[0]
    return Mark(placed.view.name, placed.box)


def test_a_tip_bag_shows_the_composite_and_logs_what_was_projected(log, library, bag):
    session = session_with(log, library, ALWAYS)
    session.receive(bag)
    shown = session.on_screen
    plan = shown.tip
    assert plan.projected and plan.fti.category in (FtiCategory.GUN, FtiCategory.KNIFE)
    # the screener sees the composite, not the stored bag
    assert shown.scan is plan.projection.scan
    changed = [not np.array_equal(a.high, b.high)
               for a, b in zip(shown.scan.views, bag.scan.views, strict=True)]
    assert all(changed)
    assert [e.kind for e in events(log)][-3:] == ["scan.received", "tip.scheduled",
                                                  "tip.projected"]
    projected = payloads(log, "tip.projected")[0]
    assert projected["fti_id"] == plan.fti.fti_id
    assert [p["box"] for p in projected["projections"]] == \
        [list(p.box) for p in plan.projection.projections]
    scheduled = payloads(log, "tip.scheduled")[0]
    assert scheduled["projected"] is True and scheduled["operator"] == OPERATOR.id


def test_a_hit_frames_the_fti_then_the_real_bag_is_screened(log, library, bag):
    session = session_with(log, library, ALWAYS)
    session.receive(bag)
    plan = session.on_screen.tip
    session.record_ai(AiResult(AiStatus.OK, "fake", None, ()))
    confirmed = session.decide(Decision.SUSPECT, [mark_on_fti(plan)], response_ms=2500)
    assert confirmed.feedback.kind is FeedbackKind.HIT
    assert confirmed.feedback.message == HIT_MESSAGE
    assert [(f.view, f.box) for f in confirmed.feedback.frames] == \
        [(p.view.name, p.box) for p in plan.projection.projections]
    assert confirmed.trial.outcome is TipOutcome.HIT
    # the FTI is removed: the real bag is back, waiting for the AI and a decision
    assert session.state is SessionState.AWAITING_AI
    assert session.on_screen.scan is bag.scan and session.on_screen.rescreen
    session.record_ai(AiResult(AiStatus.OK, "fake", None, ()))
    second = session.decide(Decision.CLEAR)
    assert second.rescreen and second.trial is None and second.feedback is None
    assert session.state is SessionState.AWAITING_BAG
    decisions = payloads(log, "screening.decision")
    assert decisions[0]["tip"] == {"projected": True, "fti_id": plan.fti.fti_id}
    assert decisions[1]["rescreen"] is True
    outcomes = payloads(log, KIND_TIP_OUTCOME)
    assert len(outcomes) == 1  # the second look is not a trial
    assert outcomes[0]["outcome"] == "hit" and outcomes[0]["feedback"] == "hit"
    assert outcomes[0]["response_ms"] == 2500
    session.end()
    ended = payloads(log, "session.ended")[0]
    assert ended["bags_decided"] == 1 and ended["rescreens"] == 1


@pytest.mark.parametrize("how", ["cleared", "marked elsewhere", "marked the whole view"])
def test_a_miss_frames_the_fti_and_says_so(log, library, bag, how):
    session = session_with(log, library, ALWAYS)
    session.receive(bag)
    plan = session.on_screen.tip
    session.run_ai()
    placed = plan.projection.projections[0]
    rows, columns = placed.view.shape
    if how == "cleared":
        confirmed = session.decide(Decision.CLEAR)
    elif how == "marked elsewhere":
        x0, y0 = placed.box[:2]
        away = (0, 0, 5, 5) if x0 > 10 or y0 > 10 else (columns - 5, rows - 5, columns, rows)
        confirmed = session.decide(Decision.SUSPECT, [Mark(placed.view.name, away)])
    else:
        assert MAX_MARK_SHARE < 1.0
        confirmed = session.decide(Decision.SUSPECT,
                                   [Mark(placed.view.name, (0, 0, columns, rows))])
    assert confirmed.feedback.kind is FeedbackKind.MISS
    assert confirmed.feedback.message == MISS_MESSAGE
    assert confirmed.feedback.frames
    assert confirmed.trial.outcome is TipOutcome.MISS
    assert confirmed.trial.responded_suspect is (how != "cleared")
    assert session.state is SessionState.AWAITING_AI  # the real bag comes back


def test_a_flag_on_a_bag_without_tip_is_treated_as_real(log, library, bag):
    session = session_with(log, library, NEVER)
    session.receive(bag)
    assert not session.on_screen.tip.projected
    assert session.on_screen.scan is bag.scan
    session.run_ai()
    confirmed = session.decide(Decision.SUSPECT, [Mark(bag.scan.views[0].name, (0, 0, 9, 9))])
    assert confirmed.feedback.kind is FeedbackKind.NO_TIP
    assert confirmed.feedback.message == NO_TIP_MESSAGE and confirmed.feedback.search_path
    assert not confirmed.feedback.rescreen
    assert session.state is SessionState.AWAITING_BAG  # the decision stands: search
    assert confirmed.trial.outcome is TipOutcome.FALSE_ALARM
    session.receive(bag)
    session.run_ai()
    cleared = session.decide(Decision.CLEAR)
    assert cleared.feedback is None
    assert cleared.trial.outcome is TipOutcome.CORRECT_REJECTION
    kinds = Counter(e.kind for e in events(log))
    assert kinds["tip.scheduled"] == 2 and kinds["tip.projected"] == 0
    assert kinds[KIND_TIP_OUTCOME] == 2


def test_every_trial_logged_reads_back_as_the_one_the_session_scored(log, library, bag):
    session = session_with(log, library, TipSettings(0.5, 0.5, {FtiCategory.GUN: 1.0}, 1),
                           seed=4)
    made = []
    for i in range(6):
        session.receive(bag)
        plan = session.on_screen.tip
        session.run_ai()
        marks = [mark_on_fti(plan)] if plan.projected and i % 2 == 0 else []
        confirmed = session.decide(Decision.SUSPECT if marks else Decision.CLEAR, marks)
        made.append(confirmed.trial)
        if session.state is SessionState.AWAITING_AI:
            session.run_ai()
            session.decide(Decision.CLEAR)
    read = trials_from_events(events(log))
    assert [t.outcome for t in read] == [t.outcome for t in made]
    assert [t.category for t in read] == [t.category for t in made]
    assert [t.superposition for t in read] == pytest.approx([t.superposition for t in made])
    assert any(t.was_tip for t in read) and not all(t.was_tip for t in read)
    for trial in read:
        assert 0.0 <= trial.clutter <= 1.0
        assert (trial.superposition is not None) is trial.was_tip
    assert all(r.ok for r in verify_database(log.engine))


def test_blind_mode_gives_no_feedback_and_no_second_look(log, library, bag):
    session = session_with(log, library, ALWAYS, feedback=False)
    session.receive(bag)
    session.run_ai()
    confirmed = session.decide(Decision.CLEAR)
    assert confirmed.feedback is None and confirmed.trial.outcome is TipOutcome.MISS
    assert session.state is SessionState.AWAITING_BAG
    assert payloads(log, KIND_TIP_OUTCOME)[0]["feedback"] is None


def test_a_category_the_library_lacks_is_logged_and_the_bag_shown_without_tip(
        log, library, bag):
    ied_only = TipSettings(1.0, 1.0, {FtiCategory.OTHER: 1.0}, 1)
    session = session_with(log, library, ied_only)
    session.receive(bag)
    assert not session.on_screen.tip.projected
    assert session.on_screen.scan is bag.scan
    (skipped,) = payloads(log, "tip.not_projected")
    assert skipped["category"] == "other"
    assert "no other image" in skipped["reason"]
    session.run_ai()
    assert session.decide(Decision.CLEAR).trial.was_tip is False


def test_pseudo_colour_scans_are_screened_without_tip(log, library, tmp_path):
    scan, _ = make_synthetic_scan(views=1, kind="pseudo-colour")
    store = ScanStore(tmp_path / "pc")
    bag = IncomingBag.from_store(store, store.add_scan(scan), "file")
    session = session_with(log, library, ALWAYS)
    session.receive(bag)
    plan = session.on_screen.tip
    assert not plan.projected and "pseudo-colour" in plan.failure
    assert plan.clutter is None


def test_the_ai_flag_counts_only_when_it_lies_on_the_fti(log, library, bag):
    session = session_with(log, library, ALWAYS)
    session.receive(bag)
    plan = session.on_screen.tip
    placed = plan.projection.projections[0]
    on = AiDetection(placed.view.name, tuple(float(v) for v in placed.box), "handgun", "gun",
                     0.9)
    off = AiDetection(placed.view.name, (0.0, 0.0, 4.0, 4.0), "handgun", "gun", 0.9)
    assert ai_flagged(plan, AiResult(AiStatus.OK, "m", None, (on,))) is True
    assert ai_flagged(plan, AiResult(AiStatus.OK, "m", None, (off,))) is False
    assert ai_flagged(plan, AiResult.unavailable("m", "down")) is None
    # a mark must touch the FTI's own pixels, not merely its box's empty corner
    x0, y0, x1, y1 = placed.box
    corner = next((r, c) for r in range(y1 - y0) for c in range(x1 - x0)
                  if not placed.mask[r, c])
    assert not marks_fti(plan, placed.view.name,
                         (x0 + corner[1], y0 + corner[0], x0 + corner[1] + 1,
                          y0 + corner[0] + 1))
    row, column = np.argwhere(placed.mask)[0]
    assert marks_fti(plan, placed.view.name,
                     (x0 + column, y0 + row, x0 + column + 1, y0 + row + 1))


def test_a_plan_needs_a_tip_session(log, library, bag):
    plain = ScreeningSession(log, OPERATOR)
    plain.start()
    injector = TipInjector(library, TipScheduler(ALWAYS, 0), seed=0)
    plan = injector.plan(OPERATOR.id, bag.scan)
    with pytest.raises(SessionStateError, match="TIP"):
        plain.receive(bag, plan)
    with pytest.raises(SessionStateError, match="TIP injector"):
        plain.plan_tip(bag)


def test_an_operator_does_not_see_the_same_fti_twice_running(log, library, bag):
    guns = TipSettings(1.0, 1.0, {FtiCategory.GUN: 1.0}, 1)
    injector = TipInjector(library, TipScheduler(guns, 0), seed=0)
    available = len(library.by_category()[FtiCategory.GUN])
    assert available >= 3
    seen = [injector.plan(OPERATOR.id, bag.scan).fti.fti_id for _ in range(available)]
    assert len(set(seen)) == available  # every gun image before any comes again


def test_a_simulated_shift_with_tip(tmp_path, library):
    log = open_audit_log(tmp_path / "home", STATION, checkpoint_every=1000)
    store = ScanStore(tmp_path / "scans")
    settings = TipSettings(0.5, 0.5, {FtiCategory.GUN: 1.0, FtiCategory.KNIFE: 1.0}, 1)
    plan = SimulationPlan(bags=12, operators=2, seed=5, pool=4, tip_settings=settings)
    report = run_simulation(log, store, plan, lane="L1", tip_library=library)
    kinds = Counter(e.kind for e in events(log))
    projected = kinds["tip.projected"]
    assert kinds["tip.scheduled"] == 12 and kinds[KIND_TIP_OUTCOME] == 12
    assert 0 < projected < 12
    # one decision per bag, and a second look at each TIP bag
    assert kinds["screening.decision"] == 12 + projected
    trials = [t for o in report.operators for t in o.tip_trials]
    assert sum(t.was_tip for t in trials) == projected
    assert sum(o.tally.hits + o.tally.misses + o.tally.false_alarms + o.tally.correct_clears
               for o in report.operators) == 12
    assert all(r.ok for r in verify_database(log.engine))
    log.engine.dispose()


def test_simulation_with_tip_needs_a_library(tmp_path):
    from screener.errors import SimulationError
    log = open_audit_log(tmp_path / "home", STATION)
    plan = SimulationPlan(bags=2, operators=1, tip_settings=ALWAYS)
    with pytest.raises(SimulationError, match="FTI library"):
        run_simulation(log, ScanStore(tmp_path / "s"), plan, lane="L1")
    log.engine.dispose()


def test_an_fti_is_never_shown_unlogged(log, library, bag, monkeypatch):
    from screener.errors import AuditUnavailableError

    session = session_with(log, library, ALWAYS)
    restore = fail_appends(log, monkeypatch, "tip.projected")
    with pytest.raises(AuditUnavailableError):
        session.receive(bag)
    assert session.state is SessionState.AWAITING_BAG and session.on_screen is None
    restore()
    session.receive(bag)
    assert session.on_screen.tip.projected
    kinds = [e.kind for e in events(log)]
    assert kinds.count("scan.received") == 2 and kinds.count("tip.projected") == 1


def test_an_unreadable_fti_is_logged_and_the_bag_shown_without_tip(log, library, bag,
                                                                  monkeypatch):
    from screener.tip.library_errors import TruncatedFtiLibraryError

    def broken(fti_id):
        raise TruncatedFtiLibraryError(str(library.path), "(file)", "the file ends early")

    session = session_with(log, library, ALWAYS)
    monkeypatch.setattr(session.tip.injector.library, "load", broken)
    session.receive(bag)
    assert not session.on_screen.tip.projected and session.on_screen.scan is bag.scan
    (skipped,) = payloads(log, "tip.not_projected")
    assert "could not be read" in skipped["reason"] and skipped["fti_id"]


def test_an_unexpected_projection_failure_still_logs_the_decision(log, library, bag,
                                                                   monkeypatch, caplog):
    """A bug or resource failure inside the projection must not spend the scheduler's
    decision silently: the bag is shown without TIP and the chain says why."""
    import screener.workflow.tip_injection as tip_injection

    def crashing(*args, **kwargs):
        raise MemoryError("cannot allocate the composite")

    session = session_with(log, library, ALWAYS)
    monkeypatch.setattr(tip_injection, "project_scan", crashing)
    session.receive(bag)
    assert not session.on_screen.tip.projected and session.on_screen.scan is bag.scan
    (scheduled,) = payloads(log, "tip.scheduled")
    (skipped,) = payloads(log, "tip.not_projected")
    assert scheduled["projected"] is True and scheduled["category"] == skipped["category"]
    assert "MemoryError: cannot allocate the composite" in skipped["reason"]
    assert "TIP projection failed" in caplog.text
    session.run_ai()
    assert session.decide(Decision.CLEAR).trial.was_tip is False
    assert all(r.ok for r in verify_database(log.engine))


def test_a_trial_the_log_could_not_take_is_logged_before_the_next_bag(log, library, bag,
                                                                     monkeypatch):
    from screener.errors import AuditUnavailableError
    from screener.workflow.session import TrialNotLoggedError

    session = session_with(log, library, NEVER)
    session.receive(bag)
    session.run_ai()
    restore = fail_appends(log, monkeypatch, KIND_TIP_OUTCOME)
    with pytest.raises(TrialNotLoggedError) as raised:
        session.decide(Decision.CLEAR)
    assert raised.value.decision.trial.outcome is TipOutcome.CORRECT_REJECTION
    assert "decision was recorded" in str(raised.value)
    assert isinstance(raised.value, AuditUnavailableError)  # callers' handlers still catch it
    assert session.state is SessionState.AWAITING_BAG  # the decision stands
    with pytest.raises(TrialNotLoggedError):
        session.receive(bag)  # still down: no new bag before the trial is in
    restore()
    session.receive(bag)
    kinds = [e.kind for e in events(log)]
    assert kinds.count(KIND_TIP_OUTCOME) == 1
    assert kinds.index(KIND_TIP_OUTCOME) < len(kinds) - 1 - kinds[::-1].index("scan.received")


def bag_indexes(log, operator=OPERATOR.id):
    """The operator's bag_index values in the chain, from ``tip.scheduled`` and
    ``tip.plan_discarded``, in chain order."""
    return [p["bag_index"] for e in events(log)
            if e.kind in ("tip.scheduled", KIND_TIP_PLAN_DISCARDED)
            for p in [json.loads(e.payload)] if p["operator"] == operator]


def screen(session, plan):
    """Decide on the bag on screen (a mark on the FTI of a TIP bag), and on the real bag
    again after TIP feedback."""
    session.run_ai()
    marks = [mark_on_fti(plan)] if plan.projected else []
    session.decide(Decision.SUSPECT if marks else Decision.CLEAR, marks)
    if session.state is SessionState.AWAITING_AI:
        session.run_ai()
        session.decide(Decision.CLEAR)


def test_a_plan_made_ahead_and_never_received_is_logged_as_discarded(log, library, bag):
    """The UI plans the next bag ahead; when that bag never comes (the operator logs
    out, its file fails) the plan is discarded in the log, so the operator's bag_index
    values are 0..n-1, each once, and the scores count only the bags screened."""
    session = session_with(log, library, TipSettings(0.5, 0.5, {FtiCategory.GUN: 1.0}, 1),
                           seed=4)
    reasons = {1: "the bag could not be screened: file unreadable (test)",
               4: "logged out before the bag was shown"}
    received, discarded = [], []
    for index in range(6):
        plan = session.plan_tip(bag)  # ahead of need, as the station does
        assert plan.decision.bag_index == index
        if index in reasons:
            event = session.discard_tip_plan(plan, reasons[index])
            assert event is not None and event.scan_sha256 == bag.scan_sha256
            assert session.discard_tip_plan(plan, "again") is None  # logged once
            with pytest.raises(SessionStateError, match="discarded"):
                session.receive(bag, plan)
            discarded.append(plan)
            continue
        session.receive(bag, plan)
        assert session.discard_tip_plan(plan, "received meanwhile") is None
        screen(session, plan)
        received.append(plan)
    assert any(p.decision.projected for p in received)
    assert any(p.decision.projected for p in discarded)

    assert bag_indexes(log) == list(range(6))  # no gap, no duplicate
    gone = payloads(log, KIND_TIP_PLAN_DISCARDED)
    assert [(p["bag_index"], p["reason"]) for p in gone] == sorted(reasons.items())
    for payload, plan in zip(gone, discarded, strict=True):
        assert {k: payload[k] for k in plan.decision.payload()} == plan.decision.payload()
        assert payload["projected"] is plan.decision.projected
        assert payload["fti_id"] == (plan.fti.fti_id if plan.fti is not None else None)
    assert [p["bag_index"] for p in payloads(log, "tip.scheduled")] == \
        [p.decision.bag_index for p in received]

    # the scores: the trials of the bags screened, as the session scored them
    read = trials_from_events(events(log))
    made = [d.trial for d in session.decisions if d.trial is not None]
    assert len(read) == len(received) == len(made)
    assert [t.outcome for t in read] == [t.outcome for t in made]
    mine = score_trials(made).card(OPERATOR.id)
    theirs = score_trials(read).card(OPERATOR.id)
    assert mine is not None and theirs is not None
    assert mine.tip_trials + mine.non_tip_trials == len(received)
    assert (theirs.hits, theirs.misses, theirs.false_alarms, theirs.correct_rejections) == \
        (mine.hits, mine.misses, mine.false_alarms, mine.correct_rejections)
    session.end()
    assert bag_indexes(log) == list(range(6))  # nothing left open to discard
    assert all(r.ok for r in verify_database(log.engine))


def test_a_discard_the_log_cannot_take_is_kept_and_end_discards_what_is_open(
        log, library, bag, monkeypatch):
    from screener.errors import AuditUnavailableError

    session = session_with(log, library, NEVER)
    dropped, ahead = session.plan_tip(bag), session.plan_tip(bag)
    restore = fail_appends(log, monkeypatch)
    assert session.discard_tip_plan(dropped, "the bag's file failed") is None  # no raise
    with pytest.raises(AuditUnavailableError):
        session.receive(bag)  # still down: nothing received, nothing planned
    restore()
    session.receive(bag)  # the kept discard first, then the bag with a fresh plan
    kinds = [e.kind for e in events(log)]
    assert kinds.index(KIND_TIP_PLAN_DISCARDED) < kinds.index("scan.received")
    screen(session, session.on_screen.tip)
    session.end("logged out")  # the plan made ahead is never received
    (first, last) = payloads(log, KIND_TIP_PLAN_DISCARDED)
    assert (first["bag_index"], first["reason"]) == (0, "the bag's file failed")
    assert last["bag_index"] == ahead.decision.bag_index == 1
    assert "logged out" in last["reason"]
    assert [e.kind for e in events(log)][-2:] == [KIND_TIP_PLAN_DISCARDED, "session.ended"]
    assert sorted(bag_indexes(log)) == list(range(3))  # each once, in the order logged
    with pytest.raises(SessionStateError):
        session.plan_tip(bag)  # no decision is used up after the end


def test_a_plan_received_again_after_a_failed_append_is_scheduled_once(log, library, bag,
                                                                      monkeypatch):
    from screener.errors import AuditUnavailableError

    session = session_with(log, library, ALWAYS)
    plan = session.plan_tip(bag)
    restore = fail_appends(log, monkeypatch, "tip.projected")
    with pytest.raises(AuditUnavailableError):
        session.receive(bag, plan)
    restore()
    session.receive(bag, plan)  # the station tries again with the same plan
    assert session.discard_tip_plan(plan, "logged out") is None
    kinds = [e.kind for e in events(log)]
    assert kinds.count("scan.received") == 2 and kinds.count("tip.projected") == 1
    assert bag_indexes(log) == [0]
