"""Retention: old scan files go, held ones stay, the purge is logged first and the chain
still verifies."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from audit_helpers import STATION, add_users, login_args, verify_home
from sqlalchemy import event

from screener.audit.cases import case_holds, case_scans, place_hold, release_hold
from screener.audit.log import open_audit_log
from screener.audit.query import events_of_kinds
from screener.audit.retention import KIND_PURGED, execute_purge, plan_purge
from screener.errors import AuditPayloadError, AuditUnavailableError
from screener.scan.store import ScanStore

LATER = datetime.now(UTC) + timedelta(days=40)


@pytest.fixture
def station(tmp_path, scan_file):
    home = tmp_path / "data"
    store = ScanStore(home / "scans")
    shas = [store.add(scan_file(f"s{i}.h5", seed=i)) for i in range(3)]
    log = open_audit_log(home, STATION)
    for sha in shas:
        log.append("scan.received", {"source": "test"}, scan_sha256=sha)
    return home, store, log, shas


def test_purge_deletes_old_scans_but_not_held_ones(station):
    home, store, log, shas = station
    place_hold(log, "CASE-7", [shas[0]], actor="inv1", role="investigator", reason="theft")
    plan = plan_purge(log.engine, store, 30, now=LATER)
    assert set(plan.purge) == set(shas[1:]) and plan.held == (shas[0],)
    execute_purge(log, store, plan, actor="admin1", role="admin")
    assert [sha in store for sha in shas] == [True, False, False]
    (logged,) = events_of_kinds(log.engine, [KIND_PURGED])
    assert set(json.loads(logged.payload)["scans"]) == set(shas[1:])
    log.close()
    assert verify_home(home).ok  # events keep the hashes; only image bytes went


def test_young_scans_are_kept(station):
    _, store, log, shas = station
    plan = plan_purge(log.engine, store, 30)
    assert plan.purge == () and plan.kept == len(shas)


def test_released_case_no_longer_protects(station):
    _, store, log, shas = station
    place_hold(log, "CASE-7", shas[:2], actor="inv1", role="investigator", reason="r")
    assert case_holds(log.engine) == {"CASE-7": set(shas[:2])}
    release_hold(log, "CASE-7", actor="inv1", role="investigator", reason="closed")
    assert case_holds(log.engine) == {}
    assert case_scans(log.engine, "CASE-7") == set(shas[:2])  # still exportable by case
    assert set(plan_purge(log.engine, store, 30, now=LATER).purge) == set(shas)


def test_a_purge_the_log_cannot_record_deletes_nothing(station):
    _, store, log, shas = station
    plan = plan_purge(log.engine, store, 30, now=LATER)

    @event.listens_for(log.engine, "connect")
    def _read_only(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA query_only = ON")

    with pytest.raises(AuditUnavailableError):
        execute_purge(log, store, plan, actor="admin1", role="admin")
    assert all(sha in store for sha in shas)


@pytest.mark.parametrize(("case", "scans", "field"), [
    ("bad case id!", ["a" * 64], "case"), ("C1", ["XYZ"], "scans"), ("C1", [], "scans")])
def test_bad_holds_are_refused(station, case, scans, field):
    _, _, log, _ = station
    with pytest.raises(AuditPayloadError, match=field):
        place_hold(log, case, scans, actor="inv1", role="investigator", reason="r")


def _old_store(tmp_path, scan_file, users=("inv-7",)):
    """Two stored scans 90 days old (by file time) and a station log with accounts."""
    store = ScanStore(tmp_path / "data" / "scans")
    shas = [store.add(scan_file(f"s{i}.h5", seed=i)) for i in range(2)]
    old = time.time() - 90 * 86400
    for _, path in store.stored():
        os.utime(path, (old, old))  # no event names them: file time counts
    log = open_audit_log(tmp_path / "data", STATION)
    add_users(log, *users)
    log.close()
    return store, shas


def _kinds(tmp_path, *kinds):
    log = open_audit_log(tmp_path / "data", STATION)
    try:
        return events_of_kinds(log.engine, list(kinds))
    finally:
        log.engine.dispose()


def test_cli_purge_dry_run_then_real(isolated_cli, tmp_path, scan_file, monkeypatch):
    store, shas = _old_store(tmp_path, scan_file)
    code, out, err = isolated_cli("case", "hold", "CASE-1", "--scan", shas[0], "--reason",
                                  "appeal", *login_args(monkeypatch, "inv-7"))
    assert code == 0 and "1 scans on hold" in out, err
    code, out, _ = isolated_cli("retention", "purge", "--older-than", "30", "--dry-run")
    assert code == 0 and "would delete 1 scan files" in out and "1 kept on legal hold" in out
    assert all(sha in store for sha in shas)
    code, out, err = isolated_cli("retention", "purge", "--older-than", "30", "--json",
                                  *login_args(monkeypatch, "chief"))
    assert code == 0 and json.loads(out)["purge"] == [shas[1]], err
    assert shas[0] in store and shas[1] not in store
    (hold,) = _kinds(tmp_path, "case.hold")
    (purged,) = _kinds(tmp_path, KIND_PURGED)
    assert (hold.actor, hold.role) == ("inv-7", "investigator")  # the logged-in users
    assert (purged.actor, purged.role) == ("chief", "admin")
    code, out, _ = isolated_cli("audit", "verify")
    assert code == 0
    code, out, _ = isolated_cli("case", "list", "--json")
    assert json.loads(out) == {"CASE-1": [shas[0]]}
    code, out, err = isolated_cli("case", "release", "CASE-1", "--reason", "closed",
                                  *login_args(monkeypatch, "inv-7"))
    assert code == 0 and "hold released" in out, err
    (release,) = _kinds(tmp_path, "case.release")
    assert (release.actor, release.role) == ("inv-7", "investigator")


def test_cli_dry_run_purge_needs_no_login(isolated_cli, tmp_path, scan_file):
    store = ScanStore(tmp_path / "data" / "scans")
    sha = store.add(scan_file("s.h5"))
    old = time.time() - 90 * 86400
    os.utime(store.path_for(sha), (old, old))
    code, out, err = isolated_cli("retention", "purge", "--older-than", "30", "--dry-run")
    assert code == 0 and "would delete 1 scan files" in out, err
    assert sha in store
    assert not _kinds(tmp_path, "auth.login", "auth.failed", KIND_PURGED)


def test_cli_real_purge_needs_an_administrator(isolated_cli, tmp_path, scan_file,
                                               monkeypatch):
    store, shas = _old_store(tmp_path, scan_file)
    code, out, err = isolated_cli("retention", "purge", "--older-than", "30")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "--as ID is needed to manage retention" in err
    code, out, err = isolated_cli("retention", "purge", "--older-than", "30",
                                  *login_args(monkeypatch, "inv-7"))
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "'inv-7' (investigator) may not manage retention" in err
    (denied,) = _kinds(tmp_path, "auth.denied")
    assert json.loads(denied.payload)["action"] == "retention.manage"
    code, _, err = isolated_cli("retention", "purge", "--older-than", "30",
                                *login_args(monkeypatch, "chief", "wrong-pass-1"))
    assert code == 2 and err == "screener: error: unknown user id or wrong password\n"
    assert all(sha in store for sha in shas)  # nothing deleted
    assert not _kinds(tmp_path, KIND_PURGED)


@pytest.mark.parametrize("user", ["op-9", "sup-9", "chief"])
def test_cli_hold_by_anyone_but_an_investigator_is_refused(isolated_cli, tmp_path,
                                                           scan_file, monkeypatch, user):
    _, shas = _old_store(tmp_path, scan_file, users=("op-9", "sup-9"))
    code, out, err = isolated_cli("case", "hold", "CASE-1", "--scan", shas[0], "--reason",
                                  "appeal", *login_args(monkeypatch, user))
    assert code == 2 and out == ""
    assert err.startswith(f"screener: error: '{user}' (") and len(err.splitlines()) == 1
    assert "may not put scans on hold for a case (case.hold)" in err
    (denied,) = _kinds(tmp_path, "auth.denied")
    assert denied.actor == user and json.loads(denied.payload) == {
        "action": "case.hold", "subject": "case CASE-1", "allowed_roles": ["investigator"]}
    assert not _kinds(tmp_path, "case.hold")
    code, out, _ = isolated_cli("case", "list", "--json")
    assert json.loads(out) == {}


def test_cli_release_by_a_screener_is_refused(isolated_cli, tmp_path, scan_file,
                                              monkeypatch):
    _, shas = _old_store(tmp_path, scan_file, users=("inv-7", "op-9"))
    code, _, err = isolated_cli("case", "hold", "CASE-1", "--scan", shas[0], "--reason",
                                "appeal", *login_args(monkeypatch, "inv-7"))
    assert code == 0, err
    code, _, err = isolated_cli("case", "release", "CASE-1", "--reason", "closed",
                                *login_args(monkeypatch, "op-9"))
    assert code == 2 and "may not release a case's hold" in err
    assert not _kinds(tmp_path, "case.release")
    code, out, _ = isolated_cli("case", "list", "--json")
    assert json.loads(out) == {"CASE-1": [shas[0]]}


def test_cli_hold_needs_a_login(isolated_cli):
    with pytest.raises(SystemExit) as exited:  # argparse: --as is required
        isolated_cli("case", "hold", "CASE-1", "--scan", "a" * 64, "--reason", "r")
    assert exited.value.code == 2


def test_cli_rejects_zero_days(isolated_cli):
    code, _, err = isolated_cli("retention", "purge", "--older-than", "0", "--dry-run")
    assert code == 2 and "at least 1 day" in err
