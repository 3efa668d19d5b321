"""Appending to a station's chain. One :class:`AuditLog` per station process.

Every append is one database transaction that takes the chain's write lock, reads the
head, inserts the new event (and, every ``checkpoint_every`` events, a signed checkpoint)
and commits; :meth:`AuditLog.append` returns only after the commit, so a returned append
is durable.

The log remembers the head it last committed and inserts the next event after it without
reading the head again (on PostgreSQL, when no checkpoint is due, as one statement that
takes the lock, inserts and commits: one round trip). If another process appended to the
same chain meanwhile, the ``(station, seq)`` key refuses the row, so the chain never
forks; nothing is written and the append runs again with the head read under the lock.

Any failure raises :class:`~screener.errors.AuditUnavailableError` and nothing is
half-written: the caller must not confirm what it was recording.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from screener import __version__
from screener.audit.anchor import anchor_path, write_anchor
from screener.audit.canonical import canonical_text
from screener.audit.chain import (
    GENESIS_PREV_HASH,
    KIND_GENESIS,
    KIND_KEY_ROTATED,
    CheckpointRecord,
    EventRecord,
    checkpoint_message,
    event_hash,
    rotation_message,
    utc_now,
)
from screener.audit.database import (
    chain_lock_key,
    create_audit_engine,
    engine_label,
    lock_station_chain,
    translated_errors,
)
from screener.audit.keys import StationKey, fingerprint, key_path, load_or_create_key
from screener.audit.schema import Checkpoint, Event
from screener.config import Settings
from screener.errors import AuditPayloadError, StationKeyError

DEFAULT_CHECKPOINT_EVERY = 100
T = TypeVar("T")
SYSTEM_ACTOR = "system"
SYSTEM_ROLE = "system"
_SHA256 = re.compile(r"[0-9a-f]{64}")
RESERVED_KINDS = (KIND_GENESIS, KIND_KEY_ROTATED)
_KIND = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
# built once: an append is on the hot path of every decision
_INSERT_EVENT = insert(cast(Table, Event.__table__))
_INSERT_CHECKPOINT = insert(cast(Table, Checkpoint.__table__))
_COLUMNS = tuple(EventRecord.__dataclass_fields__)
_LOCKED_INSERT_EVENT = text(
    f"INSERT INTO events ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(':' + c for c in _COLUMNS)} "
    "FROM (SELECT pg_advisory_xact_lock(hashtext(:lock))) AS locked")
_HEAD = (select(Event.__table__).where(Event.station == bindparam("station"))
         .order_by(Event.seq.desc()).limit(1))


class _StaleHeadError(Exception):
    """The remembered head is no longer the chain's head: another writer appended."""


class AuditLog:
    """A station's writer. One lock serialises its writes within the process (the
    workstation appends from its session thread, its role views' workers and the GUI
    thread); across processes and stations the database's chain lock does."""

    def __init__(self, engine: Engine, station: str, key: StationKey, *,
                 checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
                 anchor: Path | None = None) -> None:
        if checkpoint_every < 1:
            raise AuditPayloadError("checkpoint_every", "must be at least 1")
        self.engine = engine
        self.station = station
        self.key = key
        self.checkpoint_every = checkpoint_every
        self.anchor = anchor
        self.where = engine_label(engine)
        self._lock = threading.RLock()
        self._last: EventRecord | None = None  # the head this log last committed
        # PostgreSQL: an append that is one INSERT (no checkpoint due) runs as a statement
        # that commits itself, one round trip instead of BEGIN, INSERT, COMMIT
        self._single = (engine.execution_options(isolation_level="AUTOCOMMIT")
                        if engine.dialect.name == "postgresql" else None)
        self.genesis_hash = self._start_chain()

    # ------------------------------------------------------------------ writing
    def append(self, kind: str, payload: Mapping[str, Any] | None = None, *,
               actor: str = SYSTEM_ACTOR, role: str = SYSTEM_ROLE,
               scan_sha256: str | None = None, model_sha256: str | None = None) -> EventRecord:
        """Record one event; returns it once it is committed."""
        if kind in RESERVED_KINDS:
            raise AuditPayloadError("kind", f"'{kind}' events are written by the log itself "
                                    "(genesis on creation, rotations by rotate_key)")
        with self._lock:
            return self._append(kind, payload, actor, role, scan_sha256, model_sha256)

    def _append(self, kind: str, payload: Mapping[str, Any] | None, actor: str, role: str,
                scan_sha256: str | None, model_sha256: str | None) -> EventRecord:
        body = _validated(kind, payload, actor, role, scan_sha256, model_sha256)
        last, self._last = self._last, None  # forgotten unless this append commits

        def insert(conn: Connection, known: EventRecord | None
                   ) -> tuple[EventRecord, CheckpointRecord | None]:  # fmt: skip
            return self._insert(conn, kind, body, actor, role, scan_sha256, model_sha256,
                                known)

        record: EventRecord | None = None
        checkpoint = None
        if last is not None:
            try:
                if self._single is not None and (last.seq + 1) % self.checkpoint_every:
                    with translated_errors(self.where), self._single.connect() as conn:
                        record = self._insert_locked(conn, kind, body, actor, role,
                                                     scan_sha256, model_sha256, last)
                else:
                    record, checkpoint = self._transaction(lambda conn: insert(conn, last))
            except _StaleHeadError:
                record = None
        if record is None:
            record, checkpoint = self._transaction(lambda conn: insert(conn, None))
        self._last = record
        if checkpoint is not None:
            self._write_anchor(checkpoint)
        return record

    def checkpoint(self, reason: str) -> CheckpointRecord | None:
        """Sign the current head now (shift end, application close). None when the head
        is already covered by a checkpoint."""
        def work(conn: Connection) -> CheckpointRecord | None:
            lock_station_chain(conn, self.station)
            head = _head(conn, self.station)
            if head is None or _checkpoint_at(conn, self.station, head.seq):
                return None
            return self._insert_checkpoint(conn, head, reason)

        with self._lock:
            checkpoint = self._transaction(work)
            if checkpoint is not None:
                self._write_anchor(checkpoint)
            return checkpoint

    def rotate_key(self, new_key: StationKey, *, actor: str, role: str) -> EventRecord:
        """Hand the chain to a new key. The event carries the new public key and the old
        key's signature over it, and is checkpointed by the *old* key; checkpoints from
        the next event on are signed by the new one."""
        with self._lock:  # no other write may be signed between the event and the switch
            endorsement = self.key.sign(rotation_message(self.station, new_key.public_hex))
            payload = {"public_key": new_key.public_hex, "fingerprint": new_key.fingerprint,
                       "previous_fingerprint": self.key.fingerprint,
                       "endorsement": endorsement}
            record = self._append(KIND_KEY_ROTATED, payload, actor, role, None, None)
            self.checkpoint("key rotated")
            self.key = new_key
            return record

    def close(self, reason: str = "application closed") -> None:
        self.checkpoint(reason)
        self.engine.dispose()

    # ------------------------------------------------------------------ reading
    def head(self) -> EventRecord | None:
        return self._transaction(lambda conn: _head(conn, self.station))

    def count(self) -> int:
        return self._transaction(lambda conn: int(conn.scalar(
            select(func.count()).select_from(Event).where(Event.station == self.station))
            or 0))

    # ------------------------------------------------------------------ internals
    def _transaction(self, work: Callable[[Connection], T]) -> T:
        with translated_errors(self.where), self.engine.begin() as conn:
            return work(conn)

    def _insert(self, conn: Connection, kind: str, payload: str, actor: str, role: str,
                scan_sha256: str | None, model_sha256: str | None,
                last: EventRecord | None = None
                ) -> tuple[EventRecord, CheckpointRecord | None]:  # fmt: skip
        """Insert the next event under the chain's lock; with ``last`` (the head this log
        committed last) the head is not read: a row already at ``last.seq + 1`` raises
        :class:`_StaleHeadError`."""
        lock_station_chain(conn, self.station)
        head = _head(conn, self.station) if last is None else last
        record = self._next(head, kind, payload, actor, role, scan_sha256, model_sha256)
        seq = record.seq
        if last is None:
            conn.execute(_INSERT_EVENT, record.as_dict())
        else:
            try:
                conn.execute(_INSERT_EVENT, record.as_dict())
            except IntegrityError:
                raise _StaleHeadError from None  # the transaction rolls back; run again
        checkpoint = None
        if seq % self.checkpoint_every == 0:
            checkpoint = self._insert_checkpoint(conn, record, "every "
                                                 f"{self.checkpoint_every} events")
        return record, checkpoint

    def _insert_locked(self, conn: Connection, kind: str, payload: str, actor: str, role: str,
                       scan_sha256: str | None, model_sha256: str | None,
                       last: EventRecord) -> EventRecord:
        """PostgreSQL, on a connection in autocommit: the event after ``last`` as one
        statement that takes the chain's lock, inserts and commits (the lock is held
        until that commit, so a writer that then reads the head under the lock sees it)."""
        record = self._next(last, kind, payload, actor, role, scan_sha256, model_sha256)
        try:
            conn.execute(_LOCKED_INSERT_EVENT, {**record.as_dict(),
                                                "lock": chain_lock_key(self.station)})
        except IntegrityError:
            raise _StaleHeadError from None
        return record

    def _next(self, head: EventRecord | None, kind: str, payload: str, actor: str, role: str,
              scan_sha256: str | None, model_sha256: str | None) -> EventRecord:
        seq = 1 if head is None else head.seq + 1
        prev = GENESIS_PREV_HASH if head is None else head.hash
        fields: dict[str, Any] = {
            "station": self.station, "seq": seq, "time_utc": utc_now(), "actor": actor,
            "role": role, "kind": kind, "payload": payload, "scan_sha256": scan_sha256,
            "model_sha256": model_sha256}
        return EventRecord(**fields, prev_hash=prev, hash=event_hash(prev, fields))

    def _insert_checkpoint(self, conn: Connection, head: EventRecord,
                           reason: str) -> CheckpointRecord:
        genesis = self.genesis_hash if head.seq > 1 else head.hash
        fields: dict[str, Any] = {"station": self.station, "genesis_hash": genesis, "seq": head.seq,
                  "time_utc": utc_now(), "head_hash": head.hash, "reason": reason,
                  "key_fingerprint": self.key.fingerprint}
        record = CheckpointRecord(**fields, signature=self.key.sign(checkpoint_message(fields)))
        conn.execute(_INSERT_CHECKPOINT, record.as_dict())
        return record

    def _write_anchor(self, checkpoint: CheckpointRecord) -> None:
        if self.anchor is not None:
            write_anchor(self.anchor, checkpoint)

    def _start_chain(self) -> str:
        """Write the genesis event of a new chain, or check that this key is the one the
        existing chain expects. Returns the genesis event's hash."""
        def work(conn: Connection) -> tuple[str, CheckpointRecord | None]:
            lock_station_chain(conn, self.station)
            genesis = _event_at(conn, self.station, 1)
            if genesis is None:
                payload = canonical_text({"public_key": self.key.public_hex,
                                          "fingerprint": self.key.fingerprint,
                                          "screener_version": __version__})
                self.genesis_hash = ""
                record, _ = self._insert(conn, KIND_GENESIS, payload, SYSTEM_ACTOR,
                                         SYSTEM_ROLE, None, None)
                return record.hash, self._insert_checkpoint(conn, record, "chain created")
            expected = _active_fingerprint(conn, self.station)
            if expected != self.key.fingerprint:
                raise StationKeyError(Path("(station key)"), f"fingerprint "
                                      f"{self.key.fingerprint[:16]}... does not sign chain "
                                      f"'{self.station}' in {self.where}, which expects "
                                      f"{expected[:16]}...; use the station's own key")
            return genesis.hash, None

        genesis_hash, checkpoint = self._transaction(work)
        self.genesis_hash = genesis_hash
        if checkpoint is not None:
            self._write_anchor(checkpoint)
        return genesis_hash


def open_audit_log(home: Path, station: str, *, url: str | None = None,
                   checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY) -> AuditLog:
    """The station's log with its key and anchor under ``home`` (created on first use)."""
    key = load_or_create_key(key_path(home, station))
    engine = create_audit_engine(url or Settings(home=home).audit_url, create=True)
    try:
        return AuditLog(engine, station, key, checkpoint_every=checkpoint_every,
                        anchor=anchor_path(home, station))
    except Exception:
        engine.dispose()
        raise


def row_record(row: Any) -> EventRecord:
    return EventRecord(station=row.station, seq=row.seq, time_utc=row.time_utc,
                       actor=row.actor, role=row.role, kind=row.kind, payload=row.payload,
                       scan_sha256=row.scan_sha256, model_sha256=row.model_sha256,
                       prev_hash=row.prev_hash, hash=row.hash)


def _head(conn: Connection, station: str) -> EventRecord | None:
    row = conn.execute(_HEAD, {"station": station}).first()
    return None if row is None else row_record(row)


def _event_at(conn: Connection, station: str, seq: int) -> EventRecord | None:
    row = conn.execute(select(Event.__table__).where(Event.station == station,
                                                     Event.seq == seq)).first()
    return None if row is None else row_record(row)


def _checkpoint_at(conn: Connection, station: str, seq: int) -> bool:
    return conn.execute(select(Checkpoint.seq).where(Checkpoint.station == station,
                                                     Checkpoint.seq == seq)).first() is not None


def _active_fingerprint(conn: Connection, station: str) -> str:
    """The fingerprint of the key that signs the chain now: the genesis key, or the key
    named by the latest rotation event."""
    row = conn.execute(select(Event.payload).where(
        Event.station == station, Event.kind.in_((KIND_GENESIS, KIND_KEY_ROTATED)))
        .order_by(Event.seq.desc()).limit(1)).first()
    if row is None:
        return ""
    return fingerprint(bytes.fromhex(str(json.loads(row.payload)["public_key"])))


def _validated(kind: str, payload: Mapping[str, Any] | None, actor: str, role: str,
               scan_sha256: str | None, model_sha256: str | None) -> str:
    if not _KIND.fullmatch(kind):
        raise AuditPayloadError("kind", f"{kind!r} is not a dotted lower-case event kind "
                                "such as 'screening.decision'")
    for name, value in (("actor", actor), ("role", role)):
        if not value or not value.strip():
            raise AuditPayloadError(name, "must not be empty")
    for name, digest in (("scan_sha256", scan_sha256), ("model_sha256", model_sha256)):
        if digest is not None and not _SHA256.fullmatch(digest):
            raise AuditPayloadError(name, f"{digest!r} is not a lower-case hex sha256")
    return canonical_text(dict(payload or {}))
