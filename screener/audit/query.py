"""Reading the log: events by scan, by range, by kind; the chain links and checkpoints an
evidence bundle needs to prove its events were in the log."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, or_, select

from screener.audit.chain import CheckpointRecord, EventRecord
from screener.audit.database import engine_label, translated_errors
from screener.audit.log import row_record
from screener.audit.schema import Checkpoint, Event
from screener.errors import AuditError


def stations(engine: Engine) -> list[str]:
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        return list(conn.scalars(select(Event.station).distinct().order_by(Event.station)))


def events_for_scan(engine: Engine, scan_sha256: str) -> list[EventRecord]:
    """Every event that names this scan, all stations, in time order."""
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        rows = conn.execute(select(Event.__table__).where(Event.scan_sha256 == scan_sha256)
                            .order_by(Event.time_utc, Event.station, Event.seq))
        return [row_record(row) for row in rows]


def events_in_range(engine: Engine, station: str, first: int, last: int) -> list[EventRecord]:
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        rows = conn.execute(select(Event.__table__).where(
            Event.station == station, Event.seq >= first, Event.seq <= last)
            .order_by(Event.seq))
        return [row_record(row) for row in rows]


def events_of_kinds(engine: Engine, kinds: Iterable[str]) -> list[EventRecord]:
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        rows = conn.execute(select(Event.__table__).where(Event.kind.in_(list(kinds)))
                            .order_by(Event.time_utc, Event.station, Event.seq))
        return [row_record(row) for row in rows]


def covering_checkpoint(engine: Engine, station: str, seq: int) -> CheckpointRecord | None:
    """The first signed checkpoint at or after ``seq``: it signs a head from which the
    chain links lead back to the event. None when no checkpoint covers it yet."""
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        row = conn.execute(select(Checkpoint.__table__).where(
            Checkpoint.station == station, Checkpoint.seq >= seq)
            .order_by(Checkpoint.seq).limit(1)).first()
    if row is None:
        return None
    return CheckpointRecord(station=row.station, genesis_hash=row.genesis_hash, seq=row.seq,
                            time_utc=row.time_utc, head_hash=row.head_hash, reason=row.reason,
                            key_fingerprint=row.key_fingerprint, signature=row.signature)


def signing_keys(engine: Engine, station: str) -> list[EventRecord]:
    """The genesis and key-rotation events of a station's chain, in order: they name
    every public key that ever signed for it."""
    from screener.audit.chain import KIND_GENESIS, KIND_KEY_ROTATED

    with translated_errors(engine_label(engine)), engine.connect() as conn:
        rows = conn.execute(select(Event.__table__).where(
            Event.station == station, Event.kind.in_((KIND_GENESIS, KIND_KEY_ROTATED)))
            .order_by(Event.seq))
        return [row_record(row) for row in rows]


def events_of_kind_between(engine: Engine, kind: str, *, since: str | None = None,
                           before: str | None = None,
                           payload_contains: Iterable[str] = ()) -> list[EventRecord]:
    """Events of one kind from every station, in time order, filtered in SQL.

    ``since`` and ``before`` bound ``time_utc`` as text, ``since <= time_utc < before``:
    stored times are ISO 8601 UTC with a ``Z`` (``2025-03-03T08:00:00.000000Z``), so a day
    such as ``"2025-03-03"`` is a valid bound. ``payload_contains``: keep only events whose
    canonical payload text contains at least one of these fragments (for example
    ``'"operator":"op-01"'``). The match uses SQL ``LIKE``, which on SQLite ignores ASCII
    case: treat the result as a superset and check the payload exactly afterwards.
    """
    query = select(Event.__table__).where(Event.kind == kind)
    if since is not None:
        query = query.where(Event.time_utc >= since)
    if before is not None:
        query = query.where(Event.time_utc < before)
    fragments = list(payload_contains)
    if fragments:
        query = query.where(or_(*(Event.payload.contains(f, autoescape=True)
                                  for f in fragments)))
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        rows = conn.execute(query.order_by(Event.time_utc, Event.station, Event.seq))
        return [row_record(row) for row in rows]


class EventSearchError(AuditError):
    """A search field is malformed; names it."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"event search field '{field}': {problem}")


@dataclass(frozen=True)
class EventSearch:
    """An investigator's search. Every field given must match; times bound ``time_utc``
    as ``since <= time < before`` (ISO text: a day such as ``"2026-03-03"`` works);
    ``decision`` keeps ``screening.decision`` events with that decision; ``scan_sha256``
    may be a prefix (at least 6 hex digits)."""

    since: str | None = None
    before: str | None = None
    actor: str | None = None
    station: str | None = None
    kinds: tuple[str, ...] = ()
    scan_sha256: str | None = None
    decision: str | None = None
    limit: int = 1000

    def __post_init__(self) -> None:
        if self.scan_sha256 is not None and (
                len(self.scan_sha256) < 6 or
                any(c not in "0123456789abcdef" for c in self.scan_sha256)):
            raise EventSearchError("scan_sha256", "give at least 6 lower-case hex digits "
                                    "of the scan's sha256")
        if self.limit < 1:
            raise EventSearchError("limit", "must be at least 1")


def search_events(engine: Engine, search: EventSearch) -> list[EventRecord]:
    """Events of every station matching ``search``, newest first, at most ``limit``."""
    table = Event.__table__
    query = select(table)
    if search.since is not None:
        query = query.where(Event.time_utc >= search.since)
    if search.before is not None:
        query = query.where(Event.time_utc < search.before)
    if search.actor is not None:
        query = query.where(Event.actor == search.actor)
    if search.station is not None:
        query = query.where(Event.station == search.station)
    kinds = search.kinds
    if search.decision is not None:
        kinds = ("screening.decision",)
        query = query.where(Event.payload.like(f'%"decision":"{search.decision}"%'))
    if kinds:
        query = query.where(Event.kind.in_(kinds))
    if search.scan_sha256 is not None:
        query = query.where(Event.scan_sha256.like(f"{search.scan_sha256}%"))
    query = query.order_by(Event.time_utc.desc(), Event.station, Event.seq.desc())
    found = []
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        for row in conn.execute(query):
            record = row_record(row)
            if search.decision is not None and \
                    json.loads(record.payload).get("decision") != search.decision:
                continue  # LIKE is a superset (case, other fields)
            found.append(record)
            if len(found) >= search.limit:
                break
    return found
