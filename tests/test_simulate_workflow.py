"""``screener simulate --bags N --operators K``: the workflow with simulated screeners,
through the in-process CLI, writing real events to a real chain."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from screener.audit.database import create_audit_engine
from screener.audit.query import events_of_kinds
from screener.audit.schema import Checkpoint, Event
from screener.audit.verify import verify_database
from screener.config import Settings
from screener.scan import ScanStore

SESSION_KINDS = ("session.started", "scan.received", "ai.result", "screening.decision",
                 "session.ended")


def all_events(home: Path):
    engine = create_audit_engine(Settings(home=home).audit_url, create=False)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(Event.__table__).order_by(Event.seq)).all()
            shift_ends = list(conn.scalars(select(Checkpoint.seq).where(
                Checkpoint.reason == "shift end")))
        reports = verify_database(engine)
        assert events_of_kinds(engine, ["screening.decision"])  # the query API reads them
    finally:
        engine.dispose()
    return rows, shift_ends, reports


def decisions_of(rows):
    return [(r.actor, r.scan_sha256, json.loads(r.payload)) for r in rows
            if r.kind == "screening.decision"]


def test_simulate_screens_every_bag_with_real_events_and_repeats_itself(isolated_cli,
                                                                        tmp_path):
    home = tmp_path / "data"
    code, out, err = isolated_cli("simulate", "--bags", 12, "--operators", 3, "--seed", 1)
    assert code == 0, err
    rows, shift_ends, reports = all_events(home)
    assert Counter(r.kind for r in rows) == {
        "chain.genesis": 1, "session.started": 3, "scan.received": 12, "ai.result": 12,
        "screening.decision": 12, "session.ended": 3}
    assert [report.ok for report in reports] == [True]
    assert len(shift_ends) == 3  # a signed checkpoint at each operator's shift end
    assert "42 events written" in out and "sim-op-3" in out

    store = ScanStore(home / "scans")
    decisions = decisions_of(rows)
    assert Counter(actor for actor, _, _ in decisions) == {
        "sim-op-1": 4, "sim-op-2": 4, "sim-op-3": 4}
    for row in rows:
        if row.kind == "screening.decision":
            assert row.role == "screener" and row.scan_sha256 in store
            payload = json.loads(row.payload)
            assert payload["decision"] in ("clear", "suspect") and payload["tip"] is None
            assert bool(payload["marks"]) == (payload["decision"] == "suspect")
            assert payload["response_ms"] > 0
        if row.kind == "ai.result":
            assert "simulated AI" in json.loads(row.payload)["detector"]
            assert row.model_sha256 is None
    assert len({sha for _, sha, _ in decisions}) == 12  # 12 distinct pool bags
    received = [json.loads(r.payload) for r in rows if r.kind == "scan.received"]
    assert all(p["source"] == "simulator" and p["views"] == ["top", "side"] for p in received)
    assert all(set(p) == {"source", "bag_id", "views"} for p in received)
    assert all(set(p) == {"decision", "marks", "response_ms", "tip"} for _, _, p in decisions)
    # a session's events stay together: started, (received, ai, decision) x 4, ended
    kinds = [r.kind for r in rows[1:]]
    assert kinds == [*(["session.started"] + ["scan.received", "ai.result",
                                              "screening.decision"] * 4
                       + ["session.ended"]) * 3]

    code, out, err = isolated_cli("simulate", "--bags", 12, "--operators", 3, "--seed", 1)
    assert code == 0, err
    rerun, _, reports = all_events(home)
    assert decisions_of(rerun[len(rows):]) == decisions  # same seed, same decisions
    assert [report.ok for report in reports] == [True]


def test_the_same_seed_simulates_the_same_scan_bytes_from_scratch(isolated_cli, tmp_path,
                                                                  monkeypatch):
    shas = []
    for attempt in ("first", "second"):
        code, _, err = isolated_cli("--home", tmp_path / attempt, "simulate", "--bags", 1,
                                    "--seed", 4, "--threat-fraction", 1)
        assert code == 0, err
        rows, _, _ = all_events(tmp_path / attempt)
        shas.append([r.scan_sha256 for r in rows if r.kind == "screening.decision"])
    assert shas[0] == shas[1] and len(shas[0]) == 1


def test_more_bags_than_the_pool_are_drawn_from_it_and_ai_can_be_off(isolated_cli,
                                                                     tmp_path):
    home = tmp_path / "data"
    code, out, err = isolated_cli("simulate", "--bags", 7, "--operators", 2, "--pool", 2,
                                  "--seed", 3, "--no-ai")
    assert code == 0, err
    assert "pool of 2 distinct bags" in out
    rows, _, _ = all_events(home)
    decisions = decisions_of(rows)
    assert len(decisions) == 7 and len({sha for _, sha, _ in decisions}) <= 2
    assert Counter(actor for actor, _, _ in decisions) == {"sim-op-1": 4, "sim-op-2": 3}
    assert sum(1 for _ in (home / "scans").rglob("*.h5")) == 2
    for row in rows:
        if row.kind == "ai.result":
            assert json.loads(row.payload) == {"status": "unavailable", "detector": None,
                                               "detections": [],
                                               "reason": "no detector configured"}


def test_simulate_refuses_nonsense_in_one_line(isolated_cli, tmp_path):
    for args, message in (
        ((), "needs --bags"),
        (("--bags", 2, "--operators", 3), "operators must lie between 1"),
        (("--bags", 0), "at least one bag"),
        (("--bags", 2, "--seed", -1), "seed must be 0 or more"),
        (("--bags", 2, "--threat-fraction", 2), "threat fraction must lie in [0, 1]"),
        (("--bags", 2, "--pool", 0), "at least one bag"),
        (("--bags", 2, "bag", "--out", tmp_path / "x.h5"), "leave it out"),
    ):
        code, _, err = isolated_cli("simulate", *args)
        assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "data" / "audit.sqlite").exists()


def test_simulate_with_tip_logs_a_trial_per_bag_and_prints_tip_scores(isolated_cli,
                                                                      tmp_path):
    from screener.tip.build import BuildSettings, build_library

    library = build_library(tmp_path / "fti.h5",
                            BuildSettings(articles=4, orientations=2, seed=2), jobs=1)
    code, out, err = isolated_cli("simulate", "--bags", 8, "--operators", 2, "--seed", 3,
                                  "--pool", 3, "--tip", library, "--tip-rate", 0.5, 0.5)
    assert code == 0, err
    rows, _, reports = all_events(tmp_path / "data")
    kinds = Counter(r.kind for r in rows)
    assert kinds["tip.scheduled"] == 8 and kinds["tip.outcome"] == 8
    assert kinds["screening.decision"] == 8 + kinds["tip.projected"]
    assert [report.ok for report in reports] == [True]
    outcomes = [json.loads(r.payload) for r in rows if r.kind == "tip.outcome"]
    tip_bags = {op: sum(o["tip"] for o in outcomes if o["operator"] == op)
                for op in ("sim-op-1", "sim-op-2")}
    table = out[out.index("TIP (fictional"):].splitlines()
    for op, count in tip_bags.items():
        row = next(line.split() for line in table if line.startswith(op))
        assert int(row[1]) == count


def test_simulate_with_a_missing_tip_library_says_which_file(isolated_cli, tmp_path):
    code, _, err = isolated_cli("simulate", "--bags", 2, "--tip", tmp_path / "nope.h5")
    assert code == 2
    assert "nope.h5" in err and "Traceback" not in err
