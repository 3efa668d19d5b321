"""Checking a database's chains: every link, every checkpoint, and the station anchor.

Reports the first fault of each station, located by ``seq`` and named by kind (the
kinds are in :class:`Fault`; docs/audit.md says how each is recognised). Reads only;
never writes to the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from screener.audit.chain import (
    GENESIS_PREV_HASH,
    KIND_GENESIS,
    KIND_KEY_ROTATED,
    CheckpointRecord,
    EventRecord,
    rotation_message,
    row_hash,
)
from screener.audit.database import engine_label, translated_errors
from screener.audit.keys import fingerprint, signature_valid
from screener.audit.schema import Checkpoint, Event
from screener.audit.site import (
    NO_PREVIOUS,
    SiteCheckpointError,
    SiteCheckpointRecord,
    SiteHead,
    merkle_root,
    site_checkpoints,
)
from screener.audit.site_keys import (
    KeySchedule,
    SiteKeyRotationRecord,
    key_schedule,
    site_key_rotations,
)

BATCH = 20_000


class Fault(Enum):
    PAYLOAD_CHANGED = "payload changed"
    ROW_DELETED = "row deleted"
    ROW_INSERTED = "row inserted"
    ROWS_REORDERED = "rows reordered"
    TAIL_TRUNCATED = "tail truncated after a checkpoint"
    BAD_SIGNATURE = "bad checkpoint signature"
    CHECKPOINT_MISMATCH = "chain differs from its signed checkpoint"
    CHAIN_REPLACED = "database replaced by another chain"
    # a station's chain against the heads the site checkpoints recorded
    SITE_MISMATCH = "chain differs from the site checkpoint"
    # the site checkpoints themselves
    SITE_SIGNATURE = "bad site checkpoint signature"
    SITE_ROOT = "site checkpoint heads do not give its root"
    SITE_KEY = "site checkpoint not signed by the site key"
    SITE_REMOVED = "site checkpoint removed or replaced"


@dataclass(frozen=True)
class Finding:
    station: str
    fault: Fault
    seq: int
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"station": self.station, "fault": self.fault.value, "seq": self.seq,
                "detail": self.detail}

    def __str__(self) -> str:
        return f"station {self.station}: seq {self.seq}: {self.fault.value}: {self.detail}"


@dataclass
class StationReport:
    station: str
    events: int = 0
    checkpoints: int = 0
    head_seq: int = 0
    head_hash: str = ""
    last_checkpoint_seq: int = 0
    key_fingerprints: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        """The fault to report first: a replaced chain, else the lowest seq."""
        if not self.findings:
            return None
        replaced = [f for f in self.findings if f.fault is Fault.CHAIN_REPLACED]
        return replaced[0] if replaced else min(self.findings, key=lambda f: f.seq)

    def as_dict(self) -> dict[str, Any]:
        return {"station": self.station, "ok": self.ok, "events": self.events,
                "checkpoints": self.checkpoints, "head_seq": self.head_seq,
                "head_hash": self.head_hash, "last_checkpoint_seq": self.last_checkpoint_seq,
                "key_fingerprints": self.key_fingerprints,
                "first_fault": None if self.first is None else self.first.as_dict(),
                "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True)
class Expectation:
    """What the verifier knows from outside the database about one station: its pinned
    key fingerprint and its anchored checkpoint (either may be absent)."""

    fingerprint: str | None = None
    anchor: CheckpointRecord | None = None


@dataclass(frozen=True)
class SiteExpectation:
    """What the verifier knows from outside the database about the site: the site key's
    pinned fingerprint and the latest site checkpoint kept in a file (either may be
    absent)."""

    fingerprint: str | None = None
    anchor: SiteCheckpointRecord | None = None


@dataclass(frozen=True)
class SiteFinding:
    number: int  # the site checkpoint
    fault: Fault
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"site_checkpoint": self.number, "fault": self.fault.value,
                "detail": self.detail}

    def __str__(self) -> str:
        return f"site checkpoint {self.number}: {self.fault.value}: {self.detail}"


@dataclass
class SiteReport:
    """The site checkpoints themselves: signatures, roots, key, numbering and the file
    copy. (Whether each station's chain still holds the heads they recorded is in that
    station's report.)"""

    checkpoints: int = 0
    latest: SiteCheckpointRecord | None = None
    key_fingerprints: list[str] = field(default_factory=list)
    findings: list[SiteFinding] = field(default_factory=list)
    key_rotations: int = 0
    current_key: str | None = None  # the key the rotations hand over to last

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        latest = self.latest
        return {"ok": self.ok, "checkpoints": self.checkpoints,
                "latest": None if latest is None else {
                    "number": latest.number, "time_utc": latest.time_utc,
                    "stations": len(latest.heads), "root": latest.root},
                "key_fingerprints": self.key_fingerprints,
                "key_rotations": self.key_rotations, "current_key": self.current_key,
                "findings": [f.as_dict() for f in self.findings]}


@dataclass
class SiteVerification:
    stations: list[StationReport]
    site: SiteReport

    @property
    def ok(self) -> bool:
        return self.site.ok and all(report.ok for report in self.stations)


@dataclass
class _Walk:
    """State of the walk along one chain."""

    prev_seq: int = 0
    prev_hash: str = GENESIS_PREV_HASH
    keys: list[tuple[int, str]] = field(default_factory=list)  # (from seq, public hex)
    hashes_at_checkpoints: dict[int, str] = field(default_factory=dict)
    fault: Finding | None = None


SiteHeads = Sequence[tuple[int, SiteHead]]  # (site checkpoint number, the head it recorded)


def verify_database(engine: Engine, expectations: dict[str, Expectation] | None = None,
                    progress: Callable[[int], None] | None = None) -> list[StationReport]:
    """Verify every station chain in the database (a report per station), including
    against the site checkpoints whose signatures hold."""
    return verify_site(engine, expectations, progress).stations


def verify_site(engine: Engine, expectations: dict[str, Expectation] | None = None,
                progress: Callable[[int], None] | None = None,
                site: SiteExpectation | None = None) -> SiteVerification:
    """Verify the site checkpoints, then every station chain alone and against the heads
    the good site checkpoints recorded."""
    expectations = expectations or {}
    where = engine_label(engine)
    with translated_errors(where), engine.connect() as conn:
        site_report, trusted = check_site_checkpoints(site_checkpoints(conn),
                                                      site or SiteExpectation(),
                                                      site_key_rotations(conn))
        heads: dict[str, list[tuple[int, SiteHead]]] = {}
        for record in trusted:
            for head in record.heads:
                heads.setdefault(head.station, []).append((record.number, head))
        names = list(conn.scalars(select(Event.station).distinct().order_by(Event.station)))
        names += sorted((set(expectations) | set(heads)) - set(names))
        reports = [verify_station(conn, name, expectations.get(name, Expectation()), progress,
                                  site_heads=heads.get(name, ()))
                   for name in names]
    return SiteVerification(reports, site_report)


def verify_station(conn: Connection, station: str, expected: Expectation,
                   progress: Callable[[int], None] | None = None, *,
                   site_heads: SiteHeads = ()) -> StationReport:
    report = StationReport(station)
    checkpoints = _checkpoints(conn, station)
    wanted = {cp.seq for cp in checkpoints} | {head.seq for _, head in site_heads}
    if expected.anchor is not None:
        wanted.add(expected.anchor.seq)
    walk = _Walk()
    count = _walk(conn, station, walk, wanted, progress)
    report.events = count
    if walk.fault is not None:
        report.findings.append(walk.fault)
    if count:
        report.head_seq, report.head_hash = walk.prev_seq, walk.prev_hash
    report.checkpoints = len(checkpoints)
    report.last_checkpoint_seq = checkpoints[-1].seq if checkpoints else 0
    report.key_fingerprints = [fingerprint(bytes.fromhex(key)) for _, key in walk.keys]
    genesis = _first_hash(conn, station)
    for cp in checkpoints:
        finding = _check_checkpoint(cp, walk, report.head_seq, genesis, "checkpoint")
        if finding is not None:
            report.findings.append(finding)
            break
    report.findings += _check_expectation(station, expected, walk, report.head_seq, genesis)
    for number, head in site_heads:
        finding = _check_site_head(number, head, walk, report.head_seq, genesis)
        if finding is not None:
            report.findings.append(finding)
            break
    return report


# ---------------------------------------------------------------------- events
_KEY_KINDS = frozenset((KIND_GENESIS, KIND_KEY_ROTATED))


def _walk(conn: Connection, station: str, walk: _Walk, wanted: set[int],
          progress: Callable[[int], None] | None) -> int:
    """Check every link of the chain in seq order; returns the number of events. The
    tight loop handles a sound row with one hash and a few comparisons; anything else
    (a key event, a fault) goes to :func:`_check_event`."""
    count = 0
    fault: Finding | None = None
    prev_seq, prev_hash = 0, GENESIS_PREV_HASH
    hashes = walk.hashes_at_checkpoints
    for rows in _event_batches(conn, station):
        for row in rows:
            (_, seq, time_utc, actor, role, kind, payload, scan, model, link, digest) = row
            if fault is None:
                if (seq != prev_seq + 1 or link != prev_hash or kind in _KEY_KINDS
                        or row_hash(station, seq, time_utc, actor, role, kind, payload, scan,
                                    model, link) != digest):
                    walk.prev_seq, walk.prev_hash = prev_seq, prev_hash
                    fault = _check_event(conn, EventRecord(*row), walk)
                if fault is None and seq in wanted:
                    hashes[seq] = digest
            prev_seq, prev_hash = seq, digest
        count += len(rows)
        if progress is not None:
            progress(len(rows))
    walk.prev_seq, walk.prev_hash, walk.fault = prev_seq, prev_hash, fault
    return count


def _event_batches(conn: Connection, station: str) -> Iterator[Sequence[Any]]:
    """The station's events in seq order as tuples of :class:`EventRecord`'s fields,
    fetched in batches of :data:`BATCH` (a million rows stream in constant memory)."""
    columns = [Event.__table__.c[name] for name in EventRecord.__dataclass_fields__]
    last = 0
    while True:
        rows = conn.execute(select(*columns).where(Event.station == station, Event.seq > last)
                            .order_by(Event.seq).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][1]


def _check_event(conn: Connection, record: EventRecord, walk: _Walk) -> Finding | None:
    expected_seq = walk.prev_seq + 1
    prev_hash = walk.prev_hash
    station = record.station
    if record.seq > expected_seq:
        return Finding(station, Fault.ROW_DELETED, expected_seq,
                       f"seq {expected_seq} is missing (next present: {record.seq})")
    if record.computed_hash() != record.hash:
        return _explain_bad_hash(conn, record, prev_hash)
    if record.prev_hash != prev_hash:
        return _explain_broken_link(conn, record)
    if record.kind in (KIND_GENESIS, KIND_KEY_ROTATED):
        return _register_key(record, walk)
    return None


def _explain_bad_hash(conn: Connection, record: EventRecord, prev_hash: str) -> Finding:
    """A row whose contents no longer give its hash: changed in place, or a genuine row
    standing at another seq (rows renumbered after a deletion or an insertion, or
    swapped)."""
    station, seq = record.station, record.seq
    original = _original_seq(conn, record)
    if original is None:
        return Finding(station, Fault.PAYLOAD_CHANGED, seq,
                       "the row's contents no longer give its hash")
    if original < seq:
        return Finding(station, Fault.ROW_INSERTED, original,
                       f"a row was inserted: the genuine event {original} now stands at "
                       f"seq {seq}")
    successor = conn.execute(select(Event.seq).where(Event.station == station,
                                                     Event.prev_hash == prev_hash,
                                                     Event.seq != seq)).first()
    if successor is not None and successor.seq > seq:
        return Finding(station, Fault.ROWS_REORDERED, seq,
                       f"event {original} stands at seq {seq}; the event that followed "
                       f"seq {seq - 1} now stands at seq {successor.seq}")
    return Finding(station, Fault.ROW_DELETED, seq,
                   f"the genuine event {seq} is gone; later rows were renumbered "
                   f"(event {original} now stands at seq {seq})")


def _original_seq(conn: Connection, record: EventRecord) -> int | None:
    """The seq at which this row's contents give its stored hash, if any."""
    count = int(conn.scalar(select(func.max(Event.seq)).where(
        Event.station == record.station)) or 0)
    near = [record.seq - 1, record.seq + 1]
    others = (s for s in range(1, count + 2) if s not in near and s != record.seq)
    for candidate in (*near, *others):
        if candidate >= 1 and record.computed_hash(candidate) == record.hash:
            return candidate
    return None


def _explain_broken_link(conn: Connection, record: EventRecord) -> Finding:
    station, seq = record.station, record.seq
    pointed = conn.execute(select(Event.seq).where(Event.station == station,
                                                   Event.hash == record.prev_hash)).first()
    if pointed is not None:
        return Finding(station, Fault.ROWS_REORDERED, seq,
                       f"event {seq} follows the event now at seq {pointed.seq}, not "
                       f"seq {seq - 1}")
    return Finding(station, Fault.PAYLOAD_CHANGED, seq - 1,
                   f"event {seq - 1} was changed and re-hashed: event {seq} links to a "
                   "hash no row has")


def _register_key(record: EventRecord, walk: _Walk) -> Finding | None:
    """Follow the chain's keys: genesis names the first, each rotation the next, and a
    rotation must be endorsed by the key it replaces."""
    try:
        payload = json.loads(record.payload)
        public = str(payload["public_key"])
        bytes.fromhex(public)
    except (ValueError, KeyError, TypeError):
        return Finding(record.station, Fault.PAYLOAD_CHANGED, record.seq,
                       f"{record.kind} event does not name a public key")
    if record.kind == KIND_GENESIS and record.seq != 1:
        return Finding(record.station, Fault.ROW_INSERTED, record.seq,
                       "a second genesis event inside the chain")
    if record.kind == KIND_KEY_ROTATED and not _endorsed(walk, record.station, public,
                                                         payload.get("endorsement")):
        return Finding(record.station, Fault.BAD_SIGNATURE, record.seq,
                       "key rotation not endorsed by the key it replaces")
    walk.keys.append((record.seq, public))
    return None


def _endorsed(walk: _Walk, station: str, public: str, endorsement: Any) -> bool:
    return bool(walk.keys) and signature_valid(walk.keys[-1][1],
                                               rotation_message(station, public),
                                               str(endorsement or ""))


# ---------------------------------------------------------------------- checkpoints
def _checkpoints(conn: Connection, station: str) -> list[CheckpointRecord]:
    rows = conn.execute(select(Checkpoint.__table__).where(Checkpoint.station == station)
                        .order_by(Checkpoint.seq))
    return [CheckpointRecord(station=r.station, genesis_hash=r.genesis_hash, seq=r.seq,
                             time_utc=r.time_utc, head_hash=r.head_hash, reason=r.reason,
                             key_fingerprint=r.key_fingerprint, signature=r.signature)
            for r in rows]


def _key_at(walk: _Walk, seq: int) -> str | None:
    """The public key that signs checkpoints at ``seq``: a rotation's own checkpoint is
    still signed by the key it replaces."""
    active = None
    for start, public in walk.keys:
        if start < seq or (start == seq and active is None):
            active = public
    return active


def _check_checkpoint(cp: CheckpointRecord, walk: _Walk, head_seq: int, genesis: str | None,
                      what: str) -> Finding | None:
    station = cp.station
    if cp.seq > head_seq:
        return Finding(station, Fault.TAIL_TRUNCATED, head_seq + 1,
                       f"the {what} signed at seq {cp.seq} but the chain ends at seq "
                       f"{head_seq}")
    public = _key_at(walk, cp.seq)
    if public is None or not signature_valid(public, cp.message(), cp.signature):
        return Finding(station, Fault.BAD_SIGNATURE, cp.seq,
                       f"the {what} at seq {cp.seq} is not signed by the chain's key")
    if genesis is not None and cp.genesis_hash != genesis:
        return Finding(station, Fault.CHAIN_REPLACED, 1,
                       f"the {what} at seq {cp.seq} belongs to another chain")
    actual = walk.hashes_at_checkpoints.get(cp.seq)
    if actual is not None and actual != cp.head_hash:
        return Finding(station, Fault.CHECKPOINT_MISMATCH, cp.seq,
                       f"event {cp.seq} hashes to {actual[:12]}..., the {what} signed "
                       f"{cp.head_hash[:12]}...: the chain was rewritten up to here")
    return None


def _first_hash(conn: Connection, station: str) -> str | None:
    row = conn.execute(select(Event.hash).where(Event.station == station, Event.seq == 1)
                       ).first()  # fmt: skip
    return None if row is None else str(row.hash)


def _check_expectation(station: str, expected: Expectation, walk: _Walk, head_seq: int,
                       genesis: str | None) -> list[Finding]:
    findings = []
    if expected.fingerprint is not None:
        first_key = fingerprint(bytes.fromhex(walk.keys[0][1])) if walk.keys else None
        known = {fingerprint(bytes.fromhex(key)) for _, key in walk.keys}
        if first_key is None or expected.fingerprint not in known:
            findings.append(Finding(station, Fault.CHAIN_REPLACED, 1,
                                    "the chain is not signed by this station's key "
                                    f"({expected.fingerprint[:16]}...)"))
    anchor = expected.anchor
    if anchor is not None:
        if genesis is None or anchor.genesis_hash != genesis:
            findings.append(Finding(station, Fault.CHAIN_REPLACED, 1,
                                    "the station's anchor names another chain (genesis "
                                    f"{anchor.genesis_hash[:12]}...)"))
        else:
            finding = _check_checkpoint(anchor, walk, head_seq, genesis, "station anchor")
            if finding is not None:
                findings.append(finding)
    return findings


# ---------------------------------------------------------------------- site checkpoints
def check_site_checkpoints(records: list[SiteCheckpointRecord], expected: SiteExpectation,
                           rotations: Sequence[SiteKeyRotationRecord] = ()
                           ) -> tuple[SiteReport, list[SiteCheckpointRecord]]:  # fmt: skip
    """Check the site checkpoints as a chain of their own: numbered from 1 without a gap,
    each naming its predecessor, each signed over the root its heads give by the site key
    of its number (site checkpoint 1's key, then each rotation's new key: see
    :func:`~screener.audit.site_keys.key_schedule`). A pinned fingerprint must be one of
    those keys. Returns the report and the checkpoints whose heads can be trusted (with
    the file copy's, when it is sound and the database lost it)."""
    report = SiteReport(checkpoints=len(records), latest=records[-1] if records else None,
                        key_rotations=len(rotations))
    first = next((r for r in records if r.number == 1), records[0] if records else None)
    schedule, broken = key_schedule(None if first is None else first.key_fingerprint,
                                    list(rotations))
    if broken is not None:
        report.findings.append(SiteFinding(broken.first_checkpoint, Fault.SITE_KEY,
                                           str(broken)))
    report.findings += _hand_over_points(records, schedule)
    report.current_key = schedule.current
    pinned = expected.fingerprint
    trusted: list[SiteCheckpointRecord] = []
    previous: SiteCheckpointRecord | None = None
    for record in records:
        if record.key_fingerprint not in report.key_fingerprints:
            report.key_fingerprints.append(record.key_fingerprint)
        link = _site_link(record, previous)
        if link is not None:  # one missing before it does not make its own heads false
            report.findings.append(link)
        sound = _site_sound(record, schedule, pinned)
        if sound is not None:
            report.findings.append(sound)
        else:
            trusted.append(record)
        previous = record
    anchor = expected.anchor
    if anchor is not None:
        stored = next((r for r in records if r.number == anchor.number), None)
        finding = _site_sound(anchor, schedule, pinned)
        if finding is not None:
            report.findings.append(SiteFinding(anchor.number, finding.fault,
                                               f"the site checkpoint file: {finding.detail}"))
        elif stored is None or stored.as_dict() != anchor.as_dict():
            gone = "is gone from" if stored is None else "differs in"
            report.findings.append(SiteFinding(
                anchor.number, Fault.SITE_REMOVED, f"site checkpoint {anchor.number}, kept "
                f"in the site checkpoint file, {gone} the database"))
            trusted.append(anchor)
    return report, trusted


def _hand_over_points(records: list[SiteCheckpointRecord],
                      schedule: KeySchedule) -> list[SiteFinding]:
    """Each sound rotation names the last site checkpoint of the old key by its digest,
    and the new key's first must follow it: both must be in the database as named (else
    the old key's history was rewritten, or the hand-over's checkpoints removed)."""
    by_number = {record.number: record for record in records}
    findings = []
    for index, (start, digest) in enumerate(zip(schedule.starts, schedule.handed_over_at,
                                                strict=True), 1):
        last_old = by_number.get(start - 1)
        if last_old is None or last_old.digest() != digest:
            state = "is missing" if last_old is None else "differs from the one it names"
            findings.append(SiteFinding(start - 1, Fault.SITE_REMOVED,
                                        f"site key rotation {index} hands over after site "
                                        f"checkpoint {start - 1}, which {state}"))
        if start not in by_number:
            findings.append(SiteFinding(start, Fault.SITE_REMOVED,
                                        f"site checkpoint {start}, the first by the key site "
                                        f"key rotation {index} hands over to, is missing"))
    return findings


def _expected_key_in_database(schedule: KeySchedule, key: str | None, pinned: bool) -> str:
    """Names, for a finding of the database check, the key a site checkpoint should have
    been signed with (the bundle check words its own: ``siteproof``)."""
    if pinned:
        return "the site key pinned for this check"
    if key == schedule.first_key:
        return "site checkpoint 1's key"
    return "the key the site key rotations hand over to for it"


def _site_link(record: SiteCheckpointRecord,
               previous: SiteCheckpointRecord | None) -> SiteFinding | None:
    expected_number = 1 if previous is None else previous.number + 1
    if record.number != expected_number:
        return SiteFinding(expected_number, Fault.SITE_REMOVED,
                           f"site checkpoint {expected_number} is missing (next present: "
                           f"{record.number})")
    expected_previous = NO_PREVIOUS if previous is None else previous.digest()
    if record.previous != expected_previous:
        return SiteFinding(record.number, Fault.SITE_REMOVED,
                           f"site checkpoint {record.number} names a predecessor that is "
                           "not the one stored before it")
    return None


def _site_sound(record: SiteCheckpointRecord, schedule: KeySchedule,
                pinned: str | None) -> SiteFinding | None:
    number = record.number
    try:
        key_named = fingerprint(bytes.fromhex(record.public_key)) == record.key_fingerprint
    except ValueError:
        key_named = False
    if not key_named or not signature_valid(record.public_key, record.message(),
                                            record.signature):
        return SiteFinding(number, Fault.SITE_SIGNATURE, "its signature does not verify "
                           "with the key it names")
    site_key, is_pinned = schedule.required_key(number, pinned)
    if site_key is not None and record.key_fingerprint != site_key:
        whose = _expected_key_in_database(schedule, site_key, is_pinned)
        return SiteFinding(number, Fault.SITE_KEY,
                           f"signed by key {record.key_fingerprint[:16]}..., not by {whose} "
                           f"({site_key[:16]}...)")
    try:
        root = merkle_root(record.heads)
    except SiteCheckpointError as exc:
        return SiteFinding(number, Fault.SITE_ROOT, str(exc))
    if root != record.root:
        return SiteFinding(number, Fault.SITE_ROOT,
                           f"its station heads give the root {root[:12]}..., it signed "
                           f"{record.root[:12]}...: the recorded heads were changed")
    return None


def _check_site_head(number: int, head: SiteHead, walk: _Walk, head_seq: int,
                     genesis: str | None) -> Finding | None:
    station = head.station
    if genesis is not None and head.genesis_hash != genesis:
        return Finding(station, Fault.CHAIN_REPLACED, 1,
                       f"site checkpoint {number} recorded a chain with genesis "
                       f"{head.genesis_hash[:12]}..., this one starts with {genesis[:12]}...")
    if head.seq > head_seq:
        return Finding(station, Fault.TAIL_TRUNCATED, head_seq + 1,
                       f"site checkpoint {number} recorded the head at seq {head.seq} but "
                       f"the chain ends at seq {head_seq}")
    actual = walk.hashes_at_checkpoints.get(head.seq)
    if actual is not None and actual != head.head_hash:
        return Finding(station, Fault.SITE_MISMATCH, head.seq,
                       f"event {head.seq} hashes to {actual[:12]}..., site checkpoint "
                       f"{number} recorded {head.head_hash[:12]}...: the chain was rewritten "
                       "after it")
    return None
