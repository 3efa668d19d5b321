"""The same audit code on PostgreSQL: migrations, append-only triggers, one chain per
station, verification. Needs the server on 127.0.0.1:5432 (skips without it, fails in CI)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from screener.audit.database import create_audit_engine
from screener.audit.log import open_audit_log
from screener.audit.verify import Fault, verify_database


def _fill(tmp_path, url, station, events):
    log = open_audit_log(tmp_path / station, station, url=url, checkpoint_every=10)
    for i in range(events):
        log.append("screening.decision", {"i": i, "score": 0.25}, actor="op1",
                   role="screener")
    log.close("shift end")


def test_chains_of_two_stations_verify_alone(tmp_path, postgres_url):
    _fill(tmp_path, postgres_url, "lane-1", 25)
    _fill(tmp_path, postgres_url, "lane-2", 12)
    engine = create_audit_engine(postgres_url, create=False)
    reports = {r.station: r for r in verify_database(engine)}
    engine.dispose()
    assert {s: (r.ok, r.events) for s, r in reports.items()} == {
        "lane-1": (True, 26), "lane-2": (True, 13)}


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'x'",
                                       "DELETE FROM checkpoints",
                                       "TRUNCATE events"])
def test_triggers_refuse_changes(tmp_path, postgres_url, statement):
    _fill(tmp_path, postgres_url, "lane-1", 3)
    engine = create_engine(postgres_url)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    engine.dispose()


def test_tampering_is_located_on_postgres(tmp_path, postgres_url):
    _fill(tmp_path, postgres_url, "lane-1", 25)
    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER USER")
        conn.exec_driver_sql("UPDATE events SET payload = '{}' WHERE seq = 14")
    engine.dispose()
    engine = create_audit_engine(postgres_url, create=False)
    (report,) = verify_database(engine)
    engine.dispose()
    assert (report.first.fault, report.first.seq) == (Fault.PAYLOAD_CHANGED, 14)
