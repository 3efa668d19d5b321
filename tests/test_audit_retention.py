"""Retention: old scan files go, held ones stay, the purge is logged first and the chain
still verifies."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from audit_helpers import STATION, verify_home
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


def test_cli_purge_dry_run_then_real(isolated_cli, tmp_path, scan_file):
    store = ScanStore(tmp_path / "data" / "scans")
    shas = [store.add(scan_file(f"s{i}.h5", seed=i)) for i in range(2)]
    old = time.time() - 90 * 86400
    for _, path in store.stored():
        os.utime(path, (old, old))  # no event names them: file time counts
    code, out, _ = isolated_cli("case", "hold", "CASE-1", "--scan", shas[0], "--reason",
                                "appeal", "--actor", "inv1")
    assert code == 0 and "1 scans on hold" in out
    code, out, _ = isolated_cli("retention", "purge", "--older-than", "30", "--dry-run")
    assert code == 0 and "would delete 1 scan files" in out and "1 kept on legal hold" in out
    assert all(sha in store for sha in shas)
    code, out, _ = isolated_cli("retention", "purge", "--older-than", "30", "--json")
    assert code == 0 and json.loads(out)["purge"] == [shas[1]]
    assert shas[0] in store and shas[1] not in store
    code, out, _ = isolated_cli("audit", "verify")
    assert code == 0
    code, out, _ = isolated_cli("case", "list", "--json")
    assert json.loads(out) == {"CASE-1": [shas[0]]}


def test_cli_rejects_zero_days(isolated_cli):
    code, _, err = isolated_cli("retention", "purge", "--older-than", "0")
    assert code == 2 and "at least 1 day" in err
