"""Site checkpoints inside an evidence bundle (``data/site-checkpoints.json``) and their
offline check.

On a site (several stations sharing one audit database) the site key signs a Merkle root
over every station's chain head (:mod:`screener.audit.site`, docs/audit.md). A bundle
carries, for the exported events of each station, the earliest site checkpoint whose
recorded head of that station is at or after them: the site checkpoint's signed fields,
signature and public key as stored, the station's head in it, the head's Merkle
inclusion proof, and the events that link the exported events up to that head (those
not already in ``events.jsonl``). An exported event after the station's last site
checkpoint is declared not yet covered. The file is one JSON object::

    {"format": "screener-evidence-site-v1",
     "site_checkpoints": [{number, time_utc, previous, root, stations, key_fingerprint,
                           public_key, signature}, ...],
     "heads": [{"site_checkpoint": N, "head": {station, genesis_hash, seq, head_hash},
                "proof": [["L" | "R", sibling hash], ...]}, ...],
     "links": [{the columns of an event, as in events.jsonl}, ...],
     "stations": [{"station", "exported": [seq, ...], "covered_by": [N, ...],
                   "not_yet_covered": [seq, ...], "last_site_checkpoint": N | null,
                   "last_head_seq": seq | null}, ...],
     "key_rotations": [{number, time_utc, first_checkpoint, previous, previous_rotation,
                        old_fingerprint, old_public_key, new_fingerprint, new_public_key,
                        endorsement, acceptance}, ...],
     "hand_over_links": [{the signed fields of a site checkpoint}, ...]}

``key_rotations`` (every site key rotation in the database at export, absent from bundles
made before rotations existed) lets a bundle whose site checkpoints were signed by an
earlier or a later site key verify against the fingerprint pinned today
(:func:`~screener.audit.site_keys.key_schedule`); ``hand_over_links`` lead each bundled
site checkpoint of a retired key, by ``previous`` digests, to the last one of that key,
which the rotation names.

A bundle of a log with one station and no site checkpoint has no such file.
:func:`check_site` checks one with nothing but the bundle; every problem names the file,
the site checkpoint, the station and the seq at fault.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from screener.audit.chain import EventRecord
from screener.audit.database import engine_label, translated_errors
from screener.audit.evidence.errors import EvidenceError
from screener.audit.evidence.proof import (
    EVENT_FIELDS,
    Chain,
    EventKey,
    event_from_dict,
    event_label,
    field_fault,
)
from screener.audit.keys import display_fingerprint, fingerprint, signature_valid
from screener.audit.query import events_in_range, stations
from screener.audit.site import (
    SiteCheckpointRecord,
    SiteHead,
    inclusion_proof,
    root_from_proof,
    site_checkpoints,
    site_message,
)
from screener.audit.site_keys import (
    ROTATION_FIELDS,
    KeySchedule,
    SiteKeyRotationRecord,
    key_schedule,
    site_key_rotations,
)

SITE_FILE = "data/site-checkpoints.json"
SITE_FORMAT = "screener-evidence-site-v1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIGNED_FIELDS: dict[str, tuple[type, ...]] = {
    "number": (int,), "time_utc": (str,), "previous": (str,), "root": (str,),
    "stations": (int,), "key_fingerprint": (str,)}
_CHECKPOINT_FIELDS = {**_SIGNED_FIELDS, "public_key": (str,), "signature": (str,)}
_HEAD_FIELDS: dict[str, tuple[type, ...]] = {
    "station": (str,), "genesis_hash": (str,), "seq": (int,), "head_hash": (str,)}

Proof = list[tuple[str, str]]


def pinned_fingerprint(value: str | None, option: str = "--site-fingerprint") -> str | None:
    """A site key fingerprint given by a person: 64 hex digits, any case; raises an
    EvidenceError naming ``option`` otherwise."""
    if value is None:
        return None
    text = value.strip().lower()
    if not _HEX64.fullmatch(text):
        raise EvidenceError(f"{option} {value!r} is not a full site key fingerprint (64 hex "
                            "digits: screener audit site-checkpoint prints it)")
    return text


# ---------------------------------------------------------------------- export
@dataclass(frozen=True)
class SiteEntry:
    """One station's head in one site checkpoint, with its Merkle inclusion proof."""

    number: int
    head: SiteHead
    proof: Proof

    def as_dict(self) -> dict[str, Any]:
        return {"site_checkpoint": self.number, "head": self.head.as_dict(),
                "proof": [[side, sibling] for side, sibling in self.proof]}


@dataclass
class StationCoverage:
    """Which site checkpoints cover one station's exported events, and which not yet."""

    station: str
    exported: list[int] = field(default_factory=list)
    covered_by: list[int] = field(default_factory=list)
    not_yet_covered: list[int] = field(default_factory=list)
    last_site_checkpoint: int | None = None
    last_head_seq: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"station": self.station, "exported": self.exported,
                "covered_by": self.covered_by, "not_yet_covered": self.not_yet_covered,
                "last_site_checkpoint": self.last_site_checkpoint,
                "last_head_seq": self.last_head_seq}


@dataclass
class SiteProof:
    """What an export puts in ``data/site-checkpoints.json``."""

    checkpoints: dict[int, SiteCheckpointRecord] = field(default_factory=dict)
    heads: list[SiteEntry] = field(default_factory=list)
    links: dict[EventKey, EventRecord] = field(default_factory=dict)
    stations: list[StationCoverage] = field(default_factory=list)
    rotations: list[SiteKeyRotationRecord] = field(default_factory=list)
    #: the signed fields of the site checkpoints that link a bundled one of a retired key
    #: to the last one of that key, which the rotation names by its digest
    hand_over_links: dict[int, SiteCheckpointRecord] = field(default_factory=dict)

    @property
    def key_fingerprints(self) -> list[str]:
        return sorted({cp.key_fingerprint for cp in self.checkpoints.values()})

    def to_json(self) -> bytes:
        data = {"format": SITE_FORMAT,
                "site_checkpoints": [{**cp.signed_fields(), "public_key": cp.public_key,
                                      "signature": cp.signature}
                                     for _, cp in sorted(self.checkpoints.items())],
                "heads": [entry.as_dict() for entry in self.heads],
                "links": [record.as_dict() for _, record in sorted(self.links.items())],
                "stations": [coverage.as_dict() for coverage in self.stations],
                "key_rotations": [rotation.as_dict() for rotation in self.rotations],
                "hand_over_links": [cp.signed_fields()
                                    for _, cp in sorted(self.hand_over_links.items())]}
        return (json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
                ).encode("utf-8")

    def describe(self) -> str:
        """One line for bag-info and the export command."""
        exported = sum(len(c.exported) for c in self.stations)
        pending = [c for c in self.stations if c.not_yet_covered]
        if not self.checkpoints:
            return (f"none: no site checkpoint covers the {exported} exported event(s) "
                    "yet")
        covered = exported - sum(len(c.not_yet_covered) for c in pending)
        text = (f"{', '.join(str(n) for n in sorted(self.checkpoints))}, covering "
                f"{covered} of {exported} exported event(s)")
        if pending:
            text += "; not yet covered: " + ", ".join(
                f"{len(c.not_yet_covered)} of station {c.station} (from seq "
                f"{c.not_yet_covered[0]})" for c in pending)
        return text


def gather_site_proof(engine: Engine, selected: Iterable[EventRecord],
                      proven: Mapping[EventKey, EventRecord]) -> SiteProof | None:
    """For each exported event, the earliest site checkpoint whose head of its station is
    at or after it, the head's inclusion proof and the events linking the event to that
    head that ``proven`` (the events of ``events.jsonl``) does not hold yet. None when
    the log is no site: one station and no site checkpoint."""
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        records = site_checkpoints(conn)
        rotations = site_key_rotations(conn)
    if not records and len(stations(engine)) < 2:
        return None
    wanted: dict[str, set[int]] = {}
    for event in selected:
        wanted.setdefault(event.station, set()).add(event.seq)
    proof = SiteProof(rotations=rotations)
    for station in sorted(wanted):
        seqs = sorted(wanted[station])
        heads = [(r, h) for r in records if (h := r.head_of(station)) is not None]
        coverage = StationCoverage(station, seqs)
        if heads:
            coverage.last_site_checkpoint, coverage.last_head_seq = (heads[-1][0].number,
                                                                     heads[-1][1].seq)
        covered = 0
        for at, seq in enumerate(seqs):
            if seq <= covered:
                continue
            found = next(((r, h) for r, h in heads if h.seq >= seq), None)
            if found is None:  # after every site checkpoint's head of this station
                coverage.not_yet_covered = seqs[at:]
                break
            record, head = found
            proof.checkpoints[record.number] = record
            proof.heads.append(SiteEntry(record.number, head,
                                         inclusion_proof(record.heads, station)))
            coverage.covered_by.append(record.number)
            for event in events_in_range(engine, station, seq, head.seq):
                if (station, event.seq) not in proven:
                    proof.links[(station, event.seq)] = event
            covered = head.seq
        proof.stations.append(coverage)
    proof.hand_over_links = _hand_over_links(records, rotations, proof.checkpoints)
    return proof


def _hand_over_links(records: list[SiteCheckpointRecord],
                     rotations: list[SiteKeyRotationRecord],
                     bundled: Mapping[int, SiteCheckpointRecord]
                     ) -> dict[int, SiteCheckpointRecord]:  # fmt: skip
    """The site checkpoints from each bundled one of a retired key up to that key's last,
    which the rotation that retired it names by digest (those not bundled already)."""
    if not records or not rotations:
        return {}
    schedule, _ = key_schedule(records[0].key_fingerprint, rotations)
    by_number = {record.number: record for record in records}
    links: dict[int, SiteCheckpointRecord] = {}
    for number in bundled:
        point = schedule.hand_over_after(number)
        if point is None:
            continue
        for between in range(number + 1, point[0] + 1):
            if between not in bundled and between in by_number:
                links[between] = by_number[between]
    return links


# ---------------------------------------------------------------------- reading
@dataclass(frozen=True)
class BundledCheckpoint:
    """A site checkpoint as a bundle holds it: no other station's head, only the root."""

    fields: dict[str, Any]  # the signed fields
    public_key: str
    signature: str

    @property
    def number(self) -> int:
        return int(self.fields["number"])

    @property
    def root(self) -> str:
        return str(self.fields["root"])

    def message(self) -> bytes:
        return site_message(self.fields)

    def digest(self) -> str:
        return hashlib.sha256(self.message()).hexdigest()


@dataclass(frozen=True)
class _Anchor:
    """A station's head in a site checkpoint, as far as the bundle proves it."""

    seq: int
    number: int
    sound: bool  # signature, root, genesis and the event at its seq all hold


@dataclass
class SiteCheck:
    problems: list[str] = field(default_factory=list)
    checkpoints: list[int] = field(default_factory=list)
    key_fingerprints: list[str] = field(default_factory=list)
    stations: dict[str, dict[str, Any]] = field(default_factory=dict)
    key_rotations: int = 0
    current_key: str | None = None  # the key the last bundled rotation hands over to

    def summary(self, pinned: str | None) -> dict[str, Any]:
        return {"checkpoints": self.checkpoints, "key_fingerprints": self.key_fingerprints,
                "key_rotations": self.key_rotations, "current_key": self.current_key,
                "pinned": pinned, "stations": self.stations}


def _records(name: str, doc: Mapping[str, Any], key: str, check: SiteCheck) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list):
        check.problems.append(f"{name}: '{key}' is not a list")
        return []
    return value


def _sound_entries(name: str, doc: Mapping[str, Any], key: str,
                   spec: Mapping[str, tuple[type, ...]], what: str,
                   check: SiteCheck) -> list[dict[str, Any]]:
    """The objects of the list ``doc[key]`` whose fields match ``spec``; each other entry
    is named as a problem ("<what> entry <n> ...")."""
    sound = []
    for index, obj in enumerate(_records(name, doc, key, check), 1):
        fault = field_fault(obj, spec) if isinstance(obj, dict) else "is not an object"
        if fault is not None:
            check.problems.append(f"{name}: {what} entry {index} {fault}")
        else:
            sound.append(obj)
    return sound


def _parse_checkpoints(name: str, doc: Mapping[str, Any],
                       check: SiteCheck) -> dict[int, BundledCheckpoint]:
    found: dict[int, BundledCheckpoint] = {}
    for obj in _sound_entries(name, doc, "site_checkpoints", _CHECKPOINT_FIELDS,
                              "site checkpoint", check):
        record = BundledCheckpoint({k: obj[k] for k in _SIGNED_FIELDS}, obj["public_key"],
                                   obj["signature"])
        if record.number in found:
            check.problems.append(f"{name}: site checkpoint {record.number} appears more "
                                  "than once")
            continue
        found[record.number] = record
    return found


def _parse_rotations(name: str, doc: Mapping[str, Any],
                     check: SiteCheck) -> list[SiteKeyRotationRecord]:
    """The site key rotations the bundle carries (none in a bundle made before rotations
    existed, or of a site that never rotated its key)."""
    if "key_rotations" not in doc:
        return []
    spec = {k: (kind,) for k, kind in ROTATION_FIELDS.items()}
    return [SiteKeyRotationRecord.from_dict(obj) for obj in _sound_entries(
        name, doc, "key_rotations", spec, "key rotation", check)]


def _parse_hand_over_links(name: str, doc: Mapping[str, Any],
                           check: SiteCheck) -> dict[int, dict[str, Any]]:
    """The signed fields of the site checkpoints that link bundled ones of a retired key
    to the hand-over (absent when the bundle needs none)."""
    if "hand_over_links" not in doc:
        return {}
    return {int(obj["number"]): {k: obj[k] for k in _SIGNED_FIELDS} for obj in _sound_entries(
        name, doc, "hand_over_links", _SIGNED_FIELDS, "hand-over link", check)}


def _reaches_hand_over(number: int, point: tuple[int, str],
                       records: Mapping[int, BundledCheckpoint],
                       links: Mapping[int, dict[str, Any]]) -> bool:
    """Whether site checkpoint ``number`` leads, by ``previous`` digests, to the last one
    of its key (``point``: its number and the digest the rotation names)."""
    last, digest = point

    def fields(n: int) -> dict[str, Any] | None:
        return records[n].fields if n in records else links.get(n)

    current = fields(number)
    for n in range(number, last):
        following = fields(n + 1)
        if current is None or following is None or \
                following["previous"] != hashlib.sha256(site_message(current)).hexdigest():
            return False
        current = following
    return current is not None and hashlib.sha256(site_message(current)).hexdigest() == digest


def _key_schedule(name: str, records: Mapping[int, BundledCheckpoint],
                  rotations: list[SiteKeyRotationRecord], check: SiteCheck) -> KeySchedule:
    """The key schedule from the first site key through the bundled rotations (the first
    key is rotation 1's old key, or, without rotations, the first bundled checkpoint's)."""
    first = None if rotations or not records else str(
        records[min(records)].fields["key_fingerprint"])
    schedule, broken = key_schedule(first, rotations)
    check.key_rotations = len(rotations)
    if broken is not None:
        check.problems.append(f"{name}: {broken}")
    if schedule.first_key is None and records:  # rotation 1 unusable: one key, the first's
        schedule = KeySchedule(str(records[min(records)].fields["key_fingerprint"]))
    check.current_key = schedule.current
    return schedule


def _expected_key_in_bundle(schedule: KeySchedule, key: str, pinned: bool) -> str:
    """Names, for a finding of the offline bundle check, the key a site checkpoint should
    have been signed with, by its fingerprint and where the check took it from."""
    shown = display_fingerprint(key)
    if pinned:
        return f"the expected site key {shown} (--site-fingerprint)"
    if not schedule.successors:
        return f"the site key {shown} of the bundle's other site checkpoints"
    return f"the site key {shown} the bundled key rotations give for it"


def _check_checkpoints(name: str, records: Mapping[int, BundledCheckpoint],
                       schedule: KeySchedule, pinned: str | None,
                       links: Mapping[int, dict[str, Any]], check: SiteCheck) -> set[int]:
    """The numbers of the site checkpoints whose key, signature and links hold."""
    sound: set[int] = set()
    for number, record in sorted(records.items()):
        label = f"{name}: site checkpoint {number}"
        try:
            raw = bytes.fromhex(record.public_key)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            check.problems.append(f"{label}: public_key is not an Ed25519 public key (64 "
                                  "hex digits)")
            continue
        actual = fingerprint(raw)
        shown = display_fingerprint(actual)
        if actual not in check.key_fingerprints:
            check.key_fingerprints.append(actual)
        ok = True
        if record.fields["key_fingerprint"] != actual:
            check.problems.append(f"{label}: its key_fingerprint is not the fingerprint of "
                                  f"its public_key ({shown})")
            ok = False
        if not signature_valid(record.public_key, record.message(), record.signature):
            check.problems.append(f"{label}: signature does not verify with its site key "
                                  f"{shown}")
            ok = False
        expected, is_pinned = schedule.required_key(number, pinned)
        if expected is not None and actual != expected:
            check.problems.append(f"{label}: signed by site key {shown}, not by "
                                  f"{_expected_key_in_bundle(schedule, expected, is_pinned)}")
            ok = False
        point = schedule.hand_over_after(number)
        if ok and point is not None and not _reaches_hand_over(number, point, records, links):
            check.problems.append(f"{label}: signed by a key later handed over, but it does "
                                  f"not lead by 'previous' digests to site checkpoint "
                                  f"{point[0]}, the last of that key as the hand-over names "
                                  "it")
            ok = False
        before = records.get(number - 1)
        if before is not None and record.fields["previous"] != before.digest():
            check.problems.append(f"{label}: 'previous' does not name site checkpoint "
                                  f"{number - 1}")
            ok = False
        if ok:
            sound.add(number)
    return sound


def _parse_links(name: str, doc: Mapping[str, Any], chain: Chain,
                 events: dict[EventKey, EventRecord], check: SiteCheck) -> None:
    for index, obj in enumerate(_records(name, doc, "links", check), 1):
        fault = field_fault(obj, EVENT_FIELDS) if isinstance(obj, dict) else (
            "is not an object")
        if fault is not None:
            check.problems.append(f"{name}: link event entry {index} {fault}")
            continue
        record = event_from_dict(obj)
        key = (record.station, record.seq)
        if key in events:
            where = "data/events.jsonl" if key in chain.events else name
            check.problems.append(f"{name}: {event_label(*key)} appears more than once "
                                  f"(also in {where})")
            continue
        if record.computed_hash() != record.hash:
            check.problems.append(f"{name}: {event_label(*key)}: hash does not match its "
                                  "contents")
        events[key] = record


def _parse_proof(value: Any) -> Proof | None:
    if not isinstance(value, list):
        return None
    steps: Proof = []
    for step in value:
        if (not isinstance(step, list) or len(step) != 2 or step[0] not in ("L", "R")
                or not isinstance(step[1], str) or not _HEX64.fullmatch(step[1])):
            return None
        steps.append((step[0], step[1]))
    return steps


def _parse_heads(name: str, doc: Mapping[str, Any], check: SiteCheck) -> list[SiteEntry]:
    entries: list[SiteEntry] = []
    for index, obj in enumerate(_records(name, doc, "heads", check), 1):
        label = f"{name}: head entry {index}"
        if not isinstance(obj, dict) or not isinstance(obj.get("site_checkpoint"), int):
            check.problems.append(f"{label} names no site checkpoint number")
            continue
        head = obj.get("head")
        if not isinstance(head, dict):
            check.problems.append(f"{label}: head is not an object")
            continue
        fault = field_fault(head, _HEAD_FIELDS)
        if fault is not None:
            check.problems.append(f"{label}: head {fault}")
            continue
        proof = _parse_proof(obj.get("proof"))
        if proof is None:
            check.problems.append(f"{label}: proof is not a list of [\"L\" or \"R\", 64 "
                                  "hex digits]")
            continue
        entries.append(SiteEntry(obj["site_checkpoint"], SiteHead(
            head["station"], head["genesis_hash"], head["seq"], head["head_hash"]), proof))
    return entries


def _check_heads(name: str, entries: Sequence[SiteEntry],
                 records: Mapping[int, BundledCheckpoint], sound: set[int],
                 events: Mapping[EventKey, EventRecord], check: SiteCheck
                 ) -> dict[str, list[_Anchor]]:  # fmt: skip
    anchors: dict[str, list[_Anchor]] = {}
    seen: set[tuple[int, str]] = set()
    for entry in entries:
        head = entry.head
        station, seq = head.station, head.seq
        label = f"{name}: site checkpoint {entry.number}, station {station}"
        record = records.get(entry.number)
        if record is None:
            check.problems.append(f"{label}: the file holds no site checkpoint "
                                  f"{entry.number}")
            continue
        if (entry.number, station) in seen:
            check.problems.append(f"{label}: head given more than once")
            continue
        seen.add((entry.number, station))
        ok = entry.number in sound
        root = root_from_proof(head, entry.proof)
        if root != record.root:
            check.problems.append(
                f"{label}: head {station}#{seq} and its inclusion proof ({len(entry.proof)} "
                f"step(s)) give root {root[:16]}..., not the root {record.root[:16]}... "
                "that the site key signed")
            ok = False
        genesis = events.get((station, 1))
        if genesis is None:
            check.problems.append(f"{label}: the chain's genesis event {station}#1 is not "
                                  "in the bundle")
            ok = False
        elif genesis.hash != head.genesis_hash:
            check.problems.append(f"{label}: the head belongs to another chain (its genesis "
                                  f"hash is not that of {event_label(station, 1)})")
            ok = False
        event = events.get((station, seq))
        if event is None:
            check.problems.append(f"{label}: {event_label(station, seq)}, the head it "
                                  "records, is not in the bundle")
            ok = False
        elif event.hash != head.head_hash:
            check.problems.append(f"{label}: records hash {head.head_hash[:16]}... at seq "
                                  f"{seq}, but {event_label(station, seq)} has hash "
                                  f"{event.hash[:16]}...")
            ok = False
        elif event.computed_hash() != event.hash:
            ok = False  # named where the event is
        anchors.setdefault(station, []).append(_Anchor(seq, entry.number, ok))
    for found in anchors.values():
        found.sort(key=lambda a: (a.seq, a.number))
    return anchors


def _linked(name: str, station: str, low: int, anchor: _Anchor,
            events: Mapping[EventKey, EventRecord], check: SiteCheck) -> set[int]:
    """The seqs from ``low`` up to the anchor's head that link to it, naming the first
    break on the way down."""
    target = f"the head of site checkpoint {anchor.number} ({station}#{anchor.seq})"
    head = events.get((station, anchor.seq))
    if head is None:
        return set()
    alive = anchor.sound
    linked = {anchor.seq} if alive else set()
    following = head
    for seq in range(anchor.seq - 1, low - 1, -1):
        here = events.get((station, seq))
        if here is None:
            check.problems.append(f"{name}: {event_label(station, seq)} is missing: it links "
                                  f"{event_label(station, low)} to {target}")
            break
        if following.prev_hash != here.hash:
            check.problems.append(f"{name}: {event_label(station, seq + 1)}: prev_hash does "
                                  f"not match the hash of {event_label(station, seq)} (on "
                                  f"the way to {target})")
            break
        alive = alive and here.computed_hash() == here.hash
        if alive:
            linked.add(seq)
        following = here
    return linked


def _declared(name: str, doc: Mapping[str, Any], check: SiteCheck) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for obj in _records(name, doc, "stations", check):
        if isinstance(obj, dict) and isinstance(obj.get("station"), str):
            found[obj["station"]] = obj
    return found


def _check_coverage(name: str, chain: Chain, events: Mapping[EventKey, EventRecord],
                    anchors: Mapping[str, list[_Anchor]], declared: Mapping[str, Any],
                    check: SiteCheck) -> None:
    wanted: dict[str, list[int]] = {}
    for station, seq in chain.selected:
        wanted.setdefault(station, []).append(seq)
    for station, seqs in sorted(wanted.items()):
        seqs.sort()
        found = anchors.get(station, [])
        heads = [a.seq for a in found]
        groups: dict[_Anchor, list[int]] = {}
        uncovered: list[int] = []
        for seq in seqs:
            at = bisect.bisect_left(heads, seq)
            if at == len(found):
                uncovered.append(seq)
            else:
                groups.setdefault(found[at], []).append(seq)
        covered_by = []
        proven = 0
        for anchor, members in sorted(groups.items(), key=lambda item: item[0].seq):
            linked = _linked(name, station, members[0], anchor, events, check)
            proven += sum(1 for seq in members if seq in linked)
            covered_by.append({"site_checkpoint": anchor.number, "head_seq": anchor.seq,
                               "events": members})
        said = declared.get(station, {})
        said_uncovered = said.get("not_yet_covered", [])
        if said_uncovered != uncovered:
            check.problems.append(
                f"{name}: station {station}: says {_seqs(station, said_uncovered)} not yet "
                f"covered by a site checkpoint, but its heads leave "
                f"{_seqs(station, uncovered)} uncovered")
        check.stations[station] = {
            "selected": len(seqs), "proven": proven, "covered_by": covered_by,
            "not_yet_covered": uncovered,
            "last_site_checkpoint": said.get("last_site_checkpoint"),
            "last_head_seq": said.get("last_head_seq")}


def _seqs(station: str, seqs: Any) -> str:
    if not isinstance(seqs, list) or not seqs:
        return "no event"
    return ", ".join(f"{station}#{seq}" for seq in seqs)


def check_site(name: str, data: bytes, chain: Chain, pinned: str | None = None) -> SiteCheck:
    """Check ``data`` (the bytes of ``name``, the site file) against the events of the
    bundle: each site checkpoint's signature under its public key (and, with ``pinned``,
    that this is the pinned site key), each head through its inclusion proof to the
    signed root, the head against the event at its seq, and the links from every exported
    event up to the head of the site checkpoint that covers it."""
    check = SiteCheck()
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        check.problems.append(f"{name}: not UTF-8 JSON")
        return check
    if not isinstance(doc, dict) or doc.get("format") != SITE_FORMAT:
        check.problems.append(f"{name}: not a site checkpoint file (format {SITE_FORMAT})")
        return check
    records = _parse_checkpoints(name, doc, check)
    check.checkpoints = sorted(records)
    schedule = _key_schedule(name, records, _parse_rotations(name, doc, check), check)
    sound = _check_checkpoints(name, records, schedule, pinned,
                               _parse_hand_over_links(name, doc, check), check)
    events = dict(chain.events)
    _parse_links(name, doc, chain, events, check)
    anchors = _check_heads(name, _parse_heads(name, doc, check), records, sound, events,
                           check)
    _check_coverage(name, chain, events, anchors, _declared(name, doc, check), check)
    if pinned is not None and not records:
        check.problems.append(f"{name}: holds no site checkpoint, so nothing in the bundle "
                              f"is signed by the expected site key "
                              f"{display_fingerprint(pinned)} (--site-fingerprint)")
    return check
