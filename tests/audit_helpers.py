"""Helpers for the audit tests: a small chain and an attacker who can edit the SQLite
file directly (drops the append-only triggers first, as anyone with the file can)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from screener.audit.chain import event_hash
from screener.audit.log import AuditLog, open_audit_log
from screener.audit.pins import station_expectations
from screener.audit.verify import Expectation, StationReport, verify_database
from screener.config import Settings

STATION = "station-1"


def make_chain(home: Path, events: int = 44, checkpoint_every: int = 10) -> AuditLog:
    """A chain of ``events`` decisions after the genesis event (seq 1)."""
    log = open_audit_log(home, STATION, checkpoint_every=checkpoint_every)
    for i in range(events):
        log.append("screening.decision", {"decision": "clear" if i % 3 else "suspect",
                                          "bag": i}, actor=f"op{i % 2}", role="screener",
                   scan_sha256=f"{i:064x}")
    return log


def attacker(home: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(home / "audit.sqlite", isolation_level=None)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"
                                ).fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    return conn


def renumber(conn: sqlite3.Connection, from_seq: int, step: int) -> None:
    """Shift every event at or after ``from_seq`` by ``step`` (one row at a time, in the
    order that keeps the primary key unique)."""
    order = "DESC" if step > 0 else "ASC"
    seqs = [s for (s,) in conn.execute(
        f"SELECT seq FROM events WHERE seq >= ? ORDER BY seq {order}", (from_seq,))]
    for seq in seqs:
        conn.execute("UPDATE events SET seq = ? WHERE seq = ?", (seq + step, seq))


def rehash_from(conn: sqlite3.Connection, first: int) -> None:
    """Recompute hashes and links from ``first`` to the end, as a careful forger would."""
    rows = conn.execute("SELECT station, seq, time_utc, actor, role, kind, payload, "
                        "scan_sha256, model_sha256 FROM events WHERE seq >= ? ORDER BY seq",
                        (first,)).fetchall()
    (prev,) = conn.execute("SELECT hash FROM events WHERE seq = ?", (first - 1,)).fetchone()
    names = ("station", "seq", "time_utc", "actor", "role", "kind", "payload",
             "scan_sha256", "model_sha256")
    for row in rows:
        fields = dict(zip(names, row, strict=True))
        digest = event_hash(prev, fields)
        conn.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE seq = ?",
                     (prev, digest, fields["seq"]))
        prev = digest


def verify_home(home: Path) -> StationReport:
    """Verify as the station does: its database, key and anchor."""
    settings = Settings(home=home)
    from screener.audit.database import create_audit_engine

    engine = create_audit_engine(settings.audit_url, create=False)
    try:
        expectations: dict[str, Expectation] = station_expectations(settings.home)
        (report,) = verify_database(engine, expectations)
    finally:
        engine.dispose()
    return report
