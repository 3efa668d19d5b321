"""TIP settings kept in the audit chain: a supervisor's change is logged, takes effect at a
station's next bag, and is refused for anyone else (issue 7, item 3, Qt-free part); and
the investigator's event search."""

from __future__ import annotations

import io
import json

import pytest
from conftest import make_synthetic_scan

from screener.accounts.users import Accounts
from screener.audit.log import open_audit_log
from screener.audit.query import EventSearch, EventSearchError, events_of_kinds, search_events
from screener.config import Settings
from screener.scan import ScanStore
from screener.tip.fti import FtiCategory
from screener.tip.scheduler import TipScheduler, TipSettingsError
from screener.workflow.decisions import Decision, Mark
from screener.workflow.errors import PermissionDenied
from screener.workflow.roles import Role
from screener.workflow.session import IncomingBag, Operator, ScreeningSession
from screener.workflow.tip_settings import (
    DEFAULT_SETTINGS,
    KIND_TIP_SETTINGS,
    change_settings,
    current_settings,
    follow_settings,
)

SUPERVISOR = Operator("sup-1", Role.SUPERVISOR)


@pytest.fixture
def log(tmp_path):
    audit = open_audit_log(tmp_path / "home", "lane-1")
    yield audit
    audit.engine.dispose()


def test_each_change_is_an_event_with_the_next_version(log):
    assert current_settings(log.engine) is None
    first = change_settings(log, SUPERVISOR, min_rate=0.05, max_rate=0.1,
                            weights={FtiCategory.GUN: 2.0, FtiCategory.KNIFE: 1.0})
    assert first.version == 1
    second = change_settings(log, SUPERVISOR, min_rate=0.01, max_rate=0.02,
                             weights={FtiCategory.IED: 1.0})
    assert second.version == 2
    now = current_settings(log.engine)
    assert now.as_dict() == second.as_dict()
    events = events_of_kinds(log.engine, [KIND_TIP_SETTINGS])
    assert [e.actor for e in events] == ["sup-1", "sup-1"]
    assert [json.loads(e.payload)["previous_version"] for e in events] == [None, 1]
    assert json.loads(events[0].payload)["settings"]["weights"]["gun"] == 2.0


def test_only_supervisors_change_settings_and_bad_ones_are_refused(log):
    with pytest.raises(PermissionDenied):
        change_settings(log, Operator("op-1", Role.SCREENER), min_rate=0.5, max_rate=0.6,
                        weights={FtiCategory.GUN: 1.0})
    with pytest.raises(TipSettingsError, match="min_rate"):
        change_settings(log, SUPERVISOR, min_rate=0.3, max_rate=0.2,
                        weights={FtiCategory.GUN: 1.0})
    assert current_settings(log.engine) is None
    assert events_of_kinds(log.engine, ["auth.denied"])


def test_a_station_follows_the_latest_settings_at_its_next_bag(log):
    scheduler = TipScheduler(DEFAULT_SETTINGS, seed=1)
    assert not follow_settings(scheduler, log.engine)  # nothing saved yet
    change_settings(log, SUPERVISOR, min_rate=1.0, max_rate=1.0,
                    weights={FtiCategory.KNIFE: 1.0})
    assert follow_settings(scheduler, log.engine)
    decisions = [scheduler.decide("op-1") for _ in range(20)]
    assert all(d.projected and d.category is FtiCategory.KNIFE for d in decisions)
    assert {d.settings_version for d in decisions} == {1}
    assert not follow_settings(scheduler, log.engine)  # unchanged


def test_tip_settings_command(isolated_cli, tmp_path, monkeypatch):
    home = tmp_path / "data"
    code, out, err = isolated_cli("tip", "settings", "show")
    assert code == 0 and "built-in default" in out
    log = open_audit_log(home, Settings(home=home).station)
    accounts = Accounts(log)
    accounts.create_first_admin("chief", "chief-pass-1")
    admin = accounts.login("chief", "chief-pass-1")
    accounts.create(admin, "sup-9", Role.SUPERVISOR, "sup-9-secret")
    accounts.create(admin, "op-9", Role.SCREENER, "op-9-secret")
    log.engine.dispose()

    def set_as(user, password):
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return isolated_cli("tip", "settings", "set", "--min-rate", 0.1, "--max-rate", 0.2,
                            "--weights", "gun=3,knife=1", "--as", user, "--password-stdin")

    code, out, err = set_as("sup-9", "sup-9-secret")
    assert code == 0, err
    assert "version 1: 10.0% to 20.0%" in out and "gun 75%" in out
    code, out, err = set_as("op-9", "op-9-secret")
    assert code == 2 and "'op-9' (screener) may not change TIP settings" in err
    code, out, err = set_as("sup-9", "wrong-pass-1")
    assert code == 2 and "wrong password" in err
    code, out, err = isolated_cli("tip", "settings", "show", "--json")
    shown = json.loads(out)
    assert shown["version"] == 1 and shown["max_rate"] == 0.2 and not shown["default"]


def test_the_investigators_event_search(log, tmp_path):
    store = ScanStore(tmp_path / "scans")
    shas = []
    for seed in range(3):
        scan, _ = make_synthetic_scan(seed=seed)
        shas.append(store.add_scan(scan))
    for operator, sha, decision in (("op-a", shas[0], Decision.CLEAR),
                                    ("op-b", shas[1], Decision.SUSPECT),
                                    ("op-a", shas[2], Decision.SUSPECT)):
        session = ScreeningSession(log, Operator(operator, Role.SCREENER))
        session.start()
        bag = IncomingBag.from_store(store, sha, "file")
        session.receive(bag)
        session.run_ai()
        marks = [Mark(bag.scan.views[0].name, (0, 0, 4, 4))] \
            if decision is Decision.SUSPECT else []
        session.decide(decision, marks)
        session.end()
    suspects = search_events(log.engine, EventSearch(decision="suspect"))
    assert sorted(e.scan_sha256 for e in suspects) == sorted([shas[1], shas[2]])
    by_a = search_events(log.engine, EventSearch(actor="op-a", kinds=("screening.decision",)))
    assert [e.scan_sha256 for e in by_a] == [shas[2], shas[0]]  # newest first
    by_scan = search_events(log.engine, EventSearch(scan_sha256=shas[1][:8]))
    assert {e.kind for e in by_scan} >= {"scan.received", "ai.result", "screening.decision"}
    assert all(e.scan_sha256 == shas[1] for e in by_scan)
    assert len(search_events(log.engine, EventSearch(limit=2))) == 2
    assert search_events(log.engine, EventSearch(since="2999-01-01")) == []
    with pytest.raises(EventSearchError, match="scan_sha256"):
        EventSearch(scan_sha256="XYZ")
