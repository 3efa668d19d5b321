"""Helpers for the audit tests: a small chain, an attacker who can edit the SQLite file
directly (drops the append-only triggers first, as anyone with the file can), and
accounts for the commands that log someone in."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from screener.accounts.users import Accounts
from screener.audit.chain import event_hash
from screener.audit.keys import StationKey
from screener.audit.log import AuditLog, open_audit_log
from screener.audit.pins import station_expectations
from screener.audit.verify import Expectation, StationReport, verify_database
from screener.config import Settings
from screener.workflow.roles import Role

STATION = "station-1"

#: Accounts for commands that log someone in (``--as ID --password-stdin``):
#: id -> (role, password, display name).
USERS = {
    "chief": (Role.ADMIN, "chief-pass-1", "Head of security"),
    "inv-7": (Role.INVESTIGATOR, "inv-7-secret", "Jane Doe"),
    "inv-8": (Role.INVESTIGATOR, "inv-8-secret", ""),
    "sup-9": (Role.SUPERVISOR, "sup-9-secret", ""),
    "op-9": (Role.SCREENER, "op-9-secret", ""),
}


def add_users(log: AuditLog, *user_ids: str) -> None:
    """The first administrator ``chief`` and the named accounts of ``USERS`` (all of
    them when none is named), created through ``log`` (``user.created`` events)."""
    accounts = Accounts(log)
    _, password, name = USERS["chief"]
    accounts.create_first_admin("chief", password, name)
    chief = accounts.login("chief", password)
    for user_id in user_ids or [u for u in USERS if u != "chief"]:
        if user_id != "chief":
            role, password, name = USERS[user_id]
            accounts.create(chief, user_id, role, password, name)
    accounts.logout(chief)


def login_args(monkeypatch: pytest.MonkeyPatch, user_id: str,
               password: str | None = None) -> list[str]:
    """``--as ID --password-stdin`` for a command run next, with the password (default:
    the account's, from ``USERS``) put on stdin."""
    if password is None:
        password = USERS[user_id][1] if user_id in USERS else "no-such-pass"
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return ["--as", user_id, "--password-stdin"]


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


def forge_site_checkpoint(url: str, key: StationKey) -> None:
    """A site checkpoint over the current heads, signed by ``key`` and written straight
    into the database, as someone holding the database and a key of their own would
    (``make_site_checkpoint`` refuses a key that is not the site's current one)."""
    from screener.audit.database import create_audit_engine
    from screener.audit.site import _lock_latest, _sign_heads

    engine = create_audit_engine(url, create=False)
    try:
        with engine.begin() as conn:
            _sign_heads(conn, engine, key, _lock_latest(conn))
    finally:
        engine.dispose()
