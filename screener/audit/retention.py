"""Retention: delete scan files past their keeping period, except those a case holds.

The chain never loses anything: events keep the scans' sha256, so it verifies as before;
only the image bytes go. The purge is logged *before* any file is deleted, with the list
of hashes, so a purge that the log cannot record deletes nothing.

A scan's age is the time of the first event that names it (when the station received
it); a stored scan no event names falls back to its file's modification time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select

from screener.audit.cases import held_scans
from screener.audit.chain import EventRecord
from screener.audit.database import engine_label, translated_errors
from screener.audit.log import AuditLog
from screener.audit.schema import Event
from screener.errors import AuditPayloadError
from screener.scan.store import ScanStore

KIND_PURGED = "retention.purged"
KIND_PURGE_FAILED = "retention.purge_failed"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class PurgePlan:
    cutoff_utc: str
    purge: tuple[str, ...]  # sha256 of the files to delete
    held: tuple[str, ...]  # old enough, but on legal hold
    kept: int  # younger than the cutoff
    bytes: int  # size of the files to delete

    def as_dict(self) -> dict[str, object]:
        return {"cutoff_utc": self.cutoff_utc, "purge": list(self.purge),
                "held": list(self.held), "kept": self.kept, "bytes": self.bytes}


def first_seen(engine: Engine) -> dict[str, str]:
    """For every scan the log names: the UTC time of its first event."""
    where = engine_label(engine)
    with translated_errors(where), engine.connect() as conn:
        rows = conn.execute(select(Event.scan_sha256, func.min(Event.time_utc))
                            .where(Event.scan_sha256.is_not(None))
                            .group_by(Event.scan_sha256))
        return {str(sha): str(time) for sha, time in rows}


def plan_purge(engine: Engine, store: ScanStore, older_than_days: int,
               now: datetime | None = None) -> PurgePlan:
    if older_than_days < 1:
        raise AuditPayloadError("older_than", f"must be at least 1 day, found {older_than_days}")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    cutoff_text = cutoff.strftime(_TIME_FORMAT)
    seen = first_seen(engine)
    held = held_scans(engine)
    purge, on_hold, kept, size = [], [], 0, 0
    for sha, path in store.stored():
        stamp = seen.get(sha) or datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime(
            _TIME_FORMAT)
        if stamp >= cutoff_text:
            kept += 1
        elif sha in held:
            on_hold.append(sha)
        else:
            purge.append(sha)
            size += path.stat().st_size
    return PurgePlan(cutoff_text, tuple(purge), tuple(on_hold), kept, size)


def execute_purge(log: AuditLog, store: ScanStore, plan: PurgePlan, *, actor: str,
                  role: str) -> EventRecord:
    """Log the purge, then delete the files. A file that cannot be deleted is logged as
    a failure and the error raised; files already deleted stay deleted (and logged)."""
    record = log.append(KIND_PURGED, {"cutoff_utc": plan.cutoff_utc, "scans": list(plan.purge),
                                      "held": list(plan.held), "bytes": plan.bytes},
                        actor=actor, role=role)
    for sha in plan.purge:
        try:
            store.remove(sha)
        except Exception as exc:
            log.append(KIND_PURGE_FAILED, {"scan": sha, "error": str(exc)}, actor=actor,
                       role=role)
            raise
    return record
