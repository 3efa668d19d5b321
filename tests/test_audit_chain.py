"""The hash chain: appends, append-only triggers, signed checkpoints, key rotation, and
verification that names the first bad seq and the kind of fault for every tamper kind."""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest
from audit_helpers import (
    STATION,
    attacker,
    make_chain,
    rehash_from,
    renumber,
    verify_home,
)

from screener.audit.canonical import canonical_json
from screener.audit.chain import GENESIS_PREV_HASH, KIND_GENESIS, event_hash
from screener.audit.keys import StationKey, key_path
from screener.audit.log import AuditLog, open_audit_log
from screener.audit.migrations import LATEST_VERSION
from screener.audit.verify import Fault
from screener.errors import (
    AuditPayloadError,
    NotAnAuditDatabaseError,
    StationKeyError,
)


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    make_chain(home).close("shift end")  # seq 1 genesis + 44 events; checkpoints 1,10..40,45
    return home


def test_intact_chain_verifies(home):
    report = verify_home(home)
    assert report.ok, report.findings
    assert (report.events, report.head_seq) == (45, 45)
    assert report.checkpoints == 6  # chain created (1), every 10 (10..40), shift end (45)


def test_events_are_linked_from_the_genesis(home):
    rows = sqlite3.connect(home / "audit.sqlite").execute(
        "SELECT seq, kind, prev_hash, hash FROM events ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == list(range(1, 46))  # gapless
    assert rows[0][1] == KIND_GENESIS and rows[0][2] == GENESIS_PREV_HASH
    assert all(rows[i][2] == rows[i - 1][3] for i in range(1, len(rows)))


def test_hash_is_sha256_of_prev_hash_and_canonical_fields(home):
    conn = sqlite3.connect(home / "audit.sqlite")
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM events WHERE seq = 7").fetchone())
    fields = {k: row[k] for k in ("station", "seq", "time_utc", "actor", "role", "kind",
                                  "payload", "scan_sha256", "model_sha256")}
    import hashlib

    manual = hashlib.sha256(row["prev_hash"].encode() + json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    assert row["hash"] == manual == event_hash(row["prev_hash"], fields)


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'x' WHERE seq = 3",
                                       "DELETE FROM events WHERE seq = 45",
                                       "UPDATE checkpoints SET reason = 'x'",
                                       "DELETE FROM checkpoints",
                                       "DELETE FROM schema_migrations"])
def test_database_triggers_refuse_update_and_delete(home, statement):
    conn = sqlite3.connect(home / "audit.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute(statement)


# ---------------------------------------------------------------------- tampering
def test_payload_changed_is_located(home):
    attacker(home).execute("UPDATE events SET payload = '{\"decision\":\"clear\"}' "
                           "WHERE seq = 12")
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.PAYLOAD_CHANGED, 12)


def test_changed_hash_column_is_caught(home):
    attacker(home).execute("UPDATE events SET hash = ? WHERE seq = 30", ("f" * 64,))
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.PAYLOAD_CHANGED, 30)


def test_row_deleted_is_located(home):
    attacker(home).execute("DELETE FROM events WHERE seq = 12")
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.ROW_DELETED, 12)


def test_row_deleted_and_later_rows_renumbered_is_located(home):
    conn = attacker(home)
    conn.execute("DELETE FROM events WHERE seq = 12")
    renumber(conn, 13, -1)
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.ROW_DELETED, 12)


def test_row_inserted_is_located(home):
    conn = attacker(home)
    renumber(conn, 12, +1)
    (prev,) = conn.execute("SELECT hash FROM events WHERE seq = 11").fetchone()
    fields = {"station": STATION, "seq": 12, "time_utc": "2026-01-01T00:00:00.000000Z",
              "actor": "op9", "role": "screener", "kind": "screening.decision",
              "payload": '{"decision":"clear"}', "scan_sha256": None, "model_sha256": None}
    conn.execute("INSERT INTO events VALUES (:station, :seq, :time_utc, :actor, :role, :kind,"
                 " :payload, :scan_sha256, :model_sha256, :prev, :hash)",
                 {**fields, "prev": prev, "hash": event_hash(prev, fields)})
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.ROW_INSERTED, 12)


def test_rows_reordered_is_located(home):
    conn = attacker(home)
    conn.execute("UPDATE events SET seq = -1 WHERE seq = 12")
    conn.execute("UPDATE events SET seq = 12 WHERE seq = 15")
    conn.execute("UPDATE events SET seq = 15 WHERE seq = -1")
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.ROWS_REORDERED, 12)


def test_tail_truncated_with_its_checkpoint_is_caught_by_the_anchor(home):
    conn = attacker(home)
    conn.execute("DELETE FROM events WHERE seq > 40")
    conn.execute("DELETE FROM checkpoints WHERE seq > 40")
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.TAIL_TRUNCATED, 41)


def test_tail_truncated_below_a_stored_checkpoint_is_caught(home):
    (home / "audit" / f"{STATION}.anchor.json").unlink()  # only the database is left
    attacker(home).execute("DELETE FROM events WHERE seq > 42")
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.TAIL_TRUNCATED, 43)


def test_bad_checkpoint_signature_is_located(home):
    attacker(home).execute("UPDATE checkpoints SET signature = ? WHERE seq = 20",
                           ("00" * 64,))
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.BAD_SIGNATURE, 20)


def test_checkpoint_signed_by_a_foreign_key_is_rejected(home):
    conn = attacker(home)
    row = conn.execute("SELECT station, genesis_hash, seq, time_utc, head_hash, reason, "
                       "key_fingerprint FROM checkpoints WHERE seq = 30").fetchone()
    names = ("station", "genesis_hash", "seq", "time_utc", "head_hash", "reason",
             "key_fingerprint")
    message = b"screener-checkpoint-v1\n" + canonical_json(dict(zip(names, row, strict=True)))
    conn.execute("UPDATE checkpoints SET signature = ? WHERE seq = 30",
                 (StationKey.generate().sign(message),))
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.BAD_SIGNATURE, 30)


def test_chain_rewritten_after_an_edit_differs_from_its_checkpoint(home):
    conn = attacker(home)
    conn.execute("UPDATE events SET payload = '{\"decision\":\"clear\"}' WHERE seq = 12")
    rehash_from(conn, 12)
    first = verify_home(home).first
    assert (first.fault, first.seq) == (Fault.CHECKPOINT_MISMATCH, 20)


def test_database_replaced_by_another_chain_is_caught(home, tmp_path):
    other = tmp_path / "other"
    make_chain(other).close("shift end")  # same station name, its own key
    shutil.copy(other / "audit.sqlite", home / "audit.sqlite")
    report = verify_home(home)
    assert report.first.fault is Fault.CHAIN_REPLACED
    assert report.first.seq == 1


def test_chain_replaced_is_caught_by_the_key_without_an_anchor(home, tmp_path):
    other = tmp_path / "other"
    make_chain(other).close("shift end")
    shutil.copy(other / "audit.sqlite", home / "audit.sqlite")
    (home / "audit" / f"{STATION}.anchor.json").unlink()
    assert verify_home(home).first.fault is Fault.CHAIN_REPLACED


# ---------------------------------------------------------------------- keys
def test_key_rotation_keeps_the_chain_verifiable(tmp_path):
    home = tmp_path / "home"
    log = make_chain(home, events=5)
    old = log.key.fingerprint
    new_key = StationKey.generate()
    log.rotate_key(new_key, actor="admin1", role="admin")
    for i in range(12):
        log.append("screening.decision", {"decision": "clear", "bag": i}, actor="op1",
                   role="screener")
    log.close()
    key_path(home, STATION).unlink()
    key_path(home, STATION).write_bytes(new_key.private.private_bytes(
        *_pem_pkcs8()))
    report = verify_home(home)
    assert report.ok, report.findings
    assert report.key_fingerprints == [old, new_key.fingerprint]


def test_forged_key_rotation_is_rejected(tmp_path):
    home = tmp_path / "home"
    log = make_chain(home, events=3)
    log.rotate_key(StationKey.generate(), actor="admin1", role="admin")
    log.close()
    conn = attacker(home)
    (seq, payload) = conn.execute("SELECT seq, payload FROM events WHERE kind = "
                                  "'station.key_rotated'").fetchone()
    doctored = json.loads(payload) | {"endorsement": "00" * 64}
    conn.execute("UPDATE events SET payload = ? WHERE seq = ?",
                 (canonical_json(doctored).decode(), seq))
    rehash_from(conn, seq)
    (home / "audit" / f"{STATION}.anchor.json").unlink()
    first = verify_home(home).first
    assert first.fault is Fault.BAD_SIGNATURE


def test_a_foreign_key_cannot_continue_a_chain(home):
    key_path(home, STATION).unlink()
    with pytest.raises(StationKeyError, match="does not sign chain"):
        open_audit_log(home, STATION)


def _pem_pkcs8():
    from cryptography.hazmat.primitives import serialization

    return (serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kind", "payload", "field"), [
    ("Decision", {}, "kind"),
    ("chain.genesis", {}, "kind"),
    ("station.key_rotated", {}, "kind"),
    ("screening.decision", {"score": float("nan")}, "payload.score"),
    ("screening.decision", {"image": b"raw"}, "payload.image"),
    ("screening.decision", {"nested": {1: "x"}}, "payload.nested"),
])
def test_bad_events_are_refused_and_nothing_is_written(tmp_path, kind, payload, field):
    log = make_chain(tmp_path / "home", events=2)
    with pytest.raises(AuditPayloadError, match=field.replace(".", r"\.")):
        log.append(kind, payload, actor="op1", role="screener")
    assert log.count() == 3


def test_bad_hash_arguments_are_refused(tmp_path):
    log = make_chain(tmp_path / "home", events=0)
    with pytest.raises(AuditPayloadError, match="scan_sha256"):
        log.append("scan.received", {}, scan_sha256="ABC")
    with pytest.raises(AuditPayloadError, match="actor"):
        log.append("scan.received", {}, actor=" ")


def test_migrations_are_recorded_once(tmp_path):
    home = tmp_path / "home"
    make_chain(home, events=1).close()
    open_audit_log(home, STATION).close()
    rows = sqlite3.connect(home / "audit.sqlite").execute(
        "SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert rows == [(v,) for v in range(1, LATEST_VERSION + 1)]


def test_a_database_from_a_newer_screener_is_refused(tmp_path):
    home = tmp_path / "home"
    make_chain(home, events=1).close()
    conn = sqlite3.connect(home / "audit.sqlite")
    conn.execute("DROP TRIGGER schema_migrations_no_update")
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 'x')")
    conn.commit()
    with pytest.raises(NotAnAuditDatabaseError, match="newer Screener"):
        open_audit_log(home, STATION)


def test_checkpoint_only_when_the_head_is_not_covered(tmp_path):
    log: AuditLog = make_chain(tmp_path / "home", events=9)  # seq 10: automatic checkpoint
    assert log.checkpoint("shift end") is None
    log.append("session.ended", {}, actor="op1", role="screener")
    checkpoint = log.checkpoint("shift end")
    assert checkpoint is not None and checkpoint.seq == 11


@pytest.mark.parametrize("station", ["../etc", "a/b", "", "x" * 200])
def test_station_names_that_are_not_file_names_are_refused(tmp_path, station):
    from screener.errors import ConfigError

    with pytest.raises(ConfigError, match="station"):
        open_audit_log(tmp_path / "home", station)


def test_threads_sharing_one_log_keep_one_chain_and_rotation_is_atomic(tmp_path):
    """The workstation appends from several threads; a key rotation in the middle must
    not let another write be signed by the old key after the switch."""
    import threading

    from screener.audit.verify import verify_database

    log = open_audit_log(tmp_path / "home", STATION, checkpoint_every=5)
    errors = []

    def writer(name):
        try:
            for i in range(40):
                log.append("test.event", {"writer": name, "i": i})
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    log.rotate_key(StationKey.generate(), actor="admin1", role="admin")
    for thread in threads:
        thread.join()
    assert errors == []
    (report,) = verify_database(log.engine)
    assert report.ok, report.findings
    assert report.events == 1 + 4 * 40 + 1  # genesis, the writers, the rotation
    log.engine.dispose()
