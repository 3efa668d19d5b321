"""Blind tests for trainers (issue 6, item 6, and the end-to-end run of item 8): building a
test, its file, running it with no AI and no feedback, scoring against the pass mark,
the audit events and the certificate."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
from scipy.stats import norm

from screener.audit.log import open_audit_log
from screener.audit.query import events_in_range
from screener.audit.verify import verify_database
from screener.scan import ScanStore
from screener.sim.generate import simulate_bag
from screener.tip.blind_test import (
    BlindTestError,
    BlindTestSpec,
    build_blind_test,
    project_trial,
    read_blind_test,
    write_blind_test,
)
from screener.tip.build import BuildSettings, build_library
from screener.tip.fti import FtiCategory
from screener.tip.library import read_library
from screener.workflow.blind_tests import (
    AI_OFF,
    KIND_BLIND_COMPLETED,
    KIND_BLIND_TRIAL,
    Answer,
    results,
    run_blind_test,
)
from screener.workflow.decisions import Decision, Mark
from screener.workflow.errors import PermissionDenied
from screener.workflow.roles import Role
from screener.workflow.session import Operator

GUN_KNIFE = {FtiCategory.GUN: 1.0, FtiCategory.KNIFE: 1.0}
TRAINER = Operator("trainer-1", Role.TRAINER)
TRAINEE = Operator("trainee-9", Role.SCREENER)
STATION = "training-room"


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    path = tmp_path_factory.mktemp("fti") / "library.h5"
    build_library(path, BuildSettings(articles=5, orientations=2, seed=4), jobs=1)
    return read_library(path)


@pytest.fixture(scope="module")
def stocked(tmp_path_factory):
    """A scan store holding four simulated bags without threats."""
    store = ScanStore(tmp_path_factory.mktemp("store"))
    shas = [store.add_scan(simulate_bag(seed).scan) for seed in (21, 22, 23, 24)]
    return store, shas


def spec(**changes):
    values = {"name": "Level 1", "trials": 10, "prevalence": 0.5, "weights": GUN_KNIFE,
              "seed": 1, "time_limit_s": 10.0, "pass_d_prime": 1.5, "pass_a_prime": 0.8}
    values.update(changes)
    return BlindTestSpec(**values)


@pytest.mark.parametrize(("changes", "field"), [
    ({"prevalence": 0.0}, "prevalence"), ({"prevalence": 1.0}, "prevalence"),
    ({"trials": 0}, "trials"), ({"trials": 2, "prevalence": 0.1}, "prevalence"),
    ({"weights": {FtiCategory.GUN: 0.0}}, "weights"), ({"time_limit_s": 0}, "time_limit_s"),
    ({"pass_a_prime": 1.5}, "pass_a_prime"), ({"name": " "}, "name"), ({"seed": -1}, "seed"),
])
def test_a_bad_spec_names_its_field(changes, field):
    with pytest.raises(BlindTestError, match=f"'{field}'"):
        spec(**changes)


def test_tip_trials_are_split_by_category_by_largest_remainder():
    three = {FtiCategory.GUN: 1.0, FtiCategory.KNIFE: 1.0, FtiCategory.IED: 1.0}
    counts = spec(trials=10, prevalence=0.5, weights=three).category_counts()
    assert sum(counts.values()) == 5 and sorted(counts.values()) == [1, 2, 2]
    counts = spec(trials=40, prevalence=0.25, weights={FtiCategory.GUN: 3.0,
                                                       FtiCategory.KNIFE: 1.0}).category_counts()
    assert counts == {FtiCategory.GUN: 8, FtiCategory.KNIFE: 2}


def test_a_built_test_has_the_asked_prevalence_balance_and_bags(library, stocked):
    store, shas = stocked
    test = build_blind_test(spec(trials=12), library, store, shas)
    tips = [t for t in test.trials if t.is_tip]
    assert len(tips) == 6
    assert Counter(t.category for t in tips) == {FtiCategory.GUN: 3, FtiCategory.KNIFE: 3}
    # without replacement while the pool lasts: each of the 4 bags in every block of 4
    for block in range(3):
        assert sorted(t.scan_sha256 for t in test.trials[4 * block:4 * block + 4]) == \
            sorted(shas)
    guns = [t.fti_id for t in tips if t.category is FtiCategory.GUN]
    assert len(set(guns)) == len(guns)  # the library has 4 gun images for 3 trials
    again = build_blind_test(spec(trials=12), library, store, shas, now=None)
    assert [t.as_dict() for t in again.trials] == [t.as_dict() for t in test.trials]
    other = build_blind_test(spec(trials=12, seed=2), library, store, shas)
    assert other.test_id != test.test_id


def test_a_category_the_library_lacks_or_an_empty_pool_is_refused(library, stocked):
    store, shas = stocked
    with pytest.raises(BlindTestError, match="no other image"):
        build_blind_test(spec(weights={FtiCategory.OTHER: 1.0}), library, store, shas)
    with pytest.raises(BlindTestError, match="pool is empty"):
        build_blind_test(spec(), library, store, [])
    with pytest.raises(BlindTestError, match="not in the scan store"):
        build_blind_test(spec(), library, store, ["0" * 64])


def test_the_test_file_round_trips_and_an_edit_is_caught(library, stocked, tmp_path):
    store, shas = stocked
    test = build_blind_test(spec(), library, store, shas)
    path = write_blind_test(tmp_path / "test.json", test)
    back = read_blind_test(path)
    assert back.test_id == test.test_id and back.trials == test.trials
    data = json.loads(path.read_text())
    data["spec"]["pass_d_prime"] = 0.1  # an easier pass mark
    path.write_text(json.dumps(data))
    with pytest.raises(BlindTestError, match="changed after it was built"):
        read_blind_test(path)
    with pytest.raises(BlindTestError, match="no such blind test file"):
        read_blind_test(tmp_path / "missing.json")
    (tmp_path / "junk.json").write_text("{\"format\": \"other\"}")
    with pytest.raises(BlindTestError, match="not a blind test file"):
        read_blind_test(tmp_path / "junk.json")


def test_every_trainee_sees_the_same_composite(library, stocked, tmp_path):
    store, shas = stocked
    test = build_blind_test(spec(), library, store, shas)
    trial = next(t for t in test.trials if t.is_tip)
    first, second = project_trial(trial, library, store), project_trial(trial, library, store)
    for a, b in zip(first.scan.views, second.scan.views, strict=True):
        assert np.array_equal(a.high, b.high) and np.array_equal(a.low, b.low)
    other = tmp_path / "other.h5"
    build_library(other, BuildSettings(articles=5, orientations=2, seed=9), jobs=1)
    with pytest.raises(BlindTestError, match="not in the library"):
        project_trial(trial, read_library(other), store)


class ScriptedTrainee:
    """Marks the FTI on TIP images and clears the others, unless told otherwise."""

    def __init__(self, *, slow=(), false_alarm=()):
        self.slow = set(slow)
        self.false_alarm = set(false_alarm)
        self.shown_ai = []

    def answer(self, trial, shown):
        self.shown_ai.append(shown.ai)
        response = 30_000 if trial.index in self.slow else 2_000
        if shown.tip.projected:
            placed = shown.tip.projection.projections[0]
            return Answer(Decision.SUSPECT, (Mark(placed.view.name, placed.box),), response)
        if trial.index in self.false_alarm:
            view = shown.scan.views[0]
            return Answer(Decision.SUSPECT, (Mark(view.name, (0, 0, 10, 10)),), response)
        return Answer(Decision.CLEAR, (), response)


def test_a_run_is_scored_with_d_prime_and_a_prime_and_logged(library, stocked, tmp_path):
    store, shas = stocked
    test = build_blind_test(spec(trials=12), library, store, shas)
    tip_index = [t.index for t in test.trials if t.is_tip]
    clean_index = [t.index for t in test.trials if not t.is_tip]
    trainee = ScriptedTrainee(slow=[tip_index[0]], false_alarm=[clean_index[0]])
    log = open_audit_log(tmp_path / "home", STATION)
    run = run_blind_test(log, store, library, test, TRAINEE, TRAINER, trainee)
    r = run.result
    # one TIP image answered too late counts as cleared: a miss
    assert (r.hits, r.misses, r.false_alarms, r.correct_rejections, r.timeouts) == \
        (5, 1, 1, 5, 1)
    h, f = (5 + 0.5) / (6 + 1), (1 + 0.5) / (6 + 1)  # log-linear correction
    assert r.hit_rate == pytest.approx(h) and r.false_alarm_rate == pytest.approx(f)
    assert r.d_prime == pytest.approx(norm.ppf(h) - norm.ppf(f))
    assert r.c == pytest.approx(-(norm.ppf(h) + norm.ppf(f)) / 2)
    a_prime = 0.5 + ((h - f) * (1 + h - f)) / (4 * h * (1 - f))
    assert r.a_prime == pytest.approx(a_prime)
    assert r.passed is (r.d_prime >= 1.5 and a_prime >= 0.8)
    # no AI and no feedback
    assert all(ai.detector is None and ai.reason == AI_OFF for ai in trainee.shown_ai)
    events = events_in_range(log.engine, STATION, 1, 10**9)
    kinds = Counter(e.kind for e in events)
    assert kinds[KIND_BLIND_TRIAL] == 12 and kinds["tip.outcome"] == 0
    assert kinds["screening.decision"] == 12  # no second look: no feedback
    assert kinds["blind_test.started"] == 1 and kinds[KIND_BLIND_COMPLETED] == 1
    started = next(e for e in events if e.kind == "blind_test.started")
    assert started.actor == TRAINER.id and started.role == "trainer"
    trials = [json.loads(e.payload) for e in events if e.kind == KIND_BLIND_TRIAL]
    assert {t["test_id"] for t in trials} == {test.test_id}
    assert all(t["feedback"] is None for t in trials)
    late = [json.loads(e.payload) for e in events if e.kind == "screening.decision"
            and json.loads(e.payload).get("timed_out")]
    assert len(late) == 1 and late[0]["decision"] == "clear" and late[0]["response_ms"] == 10_000
    (recorded,) = results(log.engine, test_id=test.test_id[:8])
    assert recorded.payload == json.loads(run.completed.payload)
    assert recorded.payload["d_prime"] == pytest.approx(r.d_prime, abs=1e-6)
    assert all(report.ok for report in verify_database(log.engine))
    log.engine.dispose()


def test_only_a_trainer_runs_a_blind_test(library, stocked, tmp_path):
    store, shas = stocked
    test = build_blind_test(spec(), library, store, shas)
    log = open_audit_log(tmp_path / "home", STATION)
    with pytest.raises(PermissionDenied):
        run_blind_test(log, store, library, test, TRAINEE,
                       Operator("sup-1", Role.SUPERVISOR), ScriptedTrainee())
    kinds = [e.kind for e in events_in_range(log.engine, STATION, 1, 10**9)]
    assert "auth.denied" in kinds and "blind_test.started" not in kinds
    log.engine.dispose()


def test_a_blind_test_end_to_end_through_screener_simulate(isolated_cli, tmp_path):
    library = build_library(tmp_path / "fti.h5",
                            BuildSettings(articles=4, orientations=2, seed=5), jobs=1)
    test_file = tmp_path / "test.json"
    code, out, err = isolated_cli("blind-test", "build", "--library", library,
                                  "--simulated-bags", 3, "--name", "Cabin L1", "--trials", 10,
                                  "--prevalence", 0.4, "--weights", "gun=1,knife=1",
                                  "--out", test_file)
    assert code == 0, err
    assert "10 images (4 with a fictional threat) from 3 bags" in out
    code, out, err = isolated_cli("simulate", "--blind-test", test_file, "--library", library,
                                  "--operators", 2, "--seed", 4)
    assert code == 0, err
    rows = {line.split()[0]: line.split() for line in out.splitlines()
            if line.startswith("sim-op-")}
    assert set(rows) == {"sim-op-1", "sim-op-2"}
    code, out, err = isolated_cli("blind-test", "results", "--json")
    recorded = {r["trainee"]: r for r in json.loads(out)}
    for trainee, row in rows.items():
        r = recorded[trainee]
        assert r["hits"] + r["misses"] == 4 and r["false_alarms"] + r["correct_rejections"] == 6
        assert [int(v) for v in row[1:6]] == [r["hits"], r["misses"], r["false_alarms"],
                                              r["correct_rejections"], r["timeouts"]]
        assert float(row[8]) == pytest.approx(r["d_prime"], abs=0.006)
        assert row[10:] == (["PASSED"] if r["passed"] else ["NOT", "PASSED"])
    code, out, err = isolated_cli("blind-test", "certificate", "--trainee", "sim-op-1",
                                  "--out", tmp_path / "certs")
    assert code == 0, err
    (page,) = (tmp_path / "certs").glob("*.html")
    text = page.read_text()
    assert "sim-op-1" in text and "Cabin L1" in text
    assert ("NOT PASSED" in text) is (not recorded["sim-op-1"]["passed"])
    code, _, err = isolated_cli("blind-test", "certificate", "--trainee", "nobody",
                                "--out", tmp_path / "none")
    assert code == 2 and "no blind test result" in err


def test_simulate_blind_test_needs_the_library(isolated_cli, tmp_path):
    code, _, err = isolated_cli("simulate", "--blind-test", tmp_path / "t.json")
    assert code == 2 and "--library" in err


def test_a_sitting_goes_image_by_image_and_finishes_only_when_complete(library, stocked,
                                                                      tmp_path):
    from screener.workflow.blind_tests import BlindTestSitting
    from screener.workflow.errors import SessionStateError

    store, shas = stocked
    test = build_blind_test(spec(trials=4), library, store, shas)
    log = open_audit_log(tmp_path / "home", STATION)
    sitting = BlindTestSitting(log, store, library, test, TRAINEE, TRAINER)
    with pytest.raises(SessionStateError, match="show the next image"):
        sitting.answer(Decision.CLEAR, (), 1000)
    shown = sitting.next_image()
    with pytest.raises(SessionStateError, match="answer the image on screen"):
        sitting.next_image()
    with pytest.raises(SessionStateError, match="answer every image"):
        sitting.finish()
    trainee = ScriptedTrainee()
    while shown is not None:
        answer = trainee.answer(sitting.current, shown)
        sitting.answer(answer.decision, answer.marks, answer.response_ms)
        shown = sitting.next_image()
    run = sitting.finish()
    assert run.result.hits == 2 and run.result.false_alarms == 0 and run.result.trials == 4
    assert all(0.0 <= t.clutter <= 1.0 for t in run.trials)  # clutter bins work for tests
    log.engine.dispose()


def test_an_abandoned_sitting_is_logged_without_a_score(library, stocked, tmp_path):
    from screener.workflow.blind_tests import KIND_BLIND_ABANDONED, BlindTestSitting

    store, shas = stocked
    made = []
    test = build_blind_test(spec(trials=4), library, store, shas, on_trial=made.append)
    assert made == [0, 1, 2, 3]
    log = open_audit_log(tmp_path / "home", STATION)
    sitting = BlindTestSitting(log, store, library, test, TRAINEE, TRAINER)
    shown = sitting.next_image()
    answer = ScriptedTrainee().answer(sitting.current, shown)
    sitting.answer(answer.decision, answer.marks, answer.response_ms)
    on_screen = sitting.next_image()
    sitting.abandon(TRAINER, "fire alarm")
    events = events_in_range(log.engine, STATION, 1, 10**9)
    kinds = [e.kind for e in events]
    assert KIND_BLIND_COMPLETED not in kinds and KIND_BLIND_ABANDONED in kinds
    abandoned = json.loads(next(e for e in events if e.kind == KIND_BLIND_ABANDONED).payload)
    assert abandoned["answered"] == 1 and abandoned["reason"] == "fire alarm"
    ended = json.loads(next(e for e in events if e.kind == "session.ended").payload)
    assert ended["abandoned_scan"] == on_screen.bag.scan_sha256
    assert kinds.count("screening.decision") == 1  # nothing made up for the second image
    log.engine.dispose()
