"""Making an evidence bundle: select events, gather their chain proof, write the bag,
sign its tag manifest, and log the export.

The bundle never needs the station again: it holds the scans byte for byte, annotated
images, the events with the chain links and signed checkpoints that prove them, the
station's key events, the public key, on a site the site checkpoints that cover the
events, and a readable report (docs/evidence.md).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from screener import __version__
from screener.atomic_files import written_atomically
from screener.audit.cases import KIND_CASE_HOLD, KIND_CASE_RELEASE, case_scans, check_case_id
from screener.audit.chain import CheckpointRecord, EventRecord, utc_now
from screener.audit.evidence.annotate import (
    annotate_view,
    encode_jpeg,
    encode_png,
    scan_annotations,
    thumbnail,
)
from screener.audit.evidence.bagit import ALGORITHM, ZipBagWriter
from screener.audit.evidence.errors import EvidenceExportError
from screener.audit.evidence.proof import Chain, EventKey, chain_lines, check_chain
from screener.audit.evidence.report import ImageEntry, ReportData, ScanEntry, render_report
from screener.audit.evidence.siteproof import (
    SITE_FILE,
    SiteProof,
    check_site,
    gather_site_proof,
)
from screener.audit.log import AuditLog
from screener.audit.query import (
    covering_checkpoint,
    events_for_scan,
    events_in_range,
    events_of_kinds,
    signing_keys,
)
from screener.errors import AuditPayloadError, StoredScanCorruptedError
from screener.imaging.render import FunctionUnavailableError, prepare_scan, render
from screener.scan.hdf5 import ScanLimits, read_scan
from screener.scan.store import ScanStore

KIND_EXPORTED = "evidence.exported"
EXPORT_ROLE = "investigator"
EVENTS_FILE = "data/events.jsonl"
KEY_FILE = "data/station-key.pem"
REPORT_FILE = "data/report.html"
SIGNATURE_FILE = f"tagmanifest-{ALGORITHM}.txt.sig"
FUNCTIONS = ("standard", "greyscale")  # the first the view supports renders the image
_SHA256 = re.compile(r"[0-9a-f]{64}")
_RANGE = re.compile(r"\s*(\d+)\s*-\s*(\d+)\s*")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


# ---------------------------------------------------------------------- selections
@dataclass(frozen=True)
class Selection:
    """What an export was asked for and the events and scans that answer it."""

    description: str  # for people: "scan ab12...", "events station-1#3-9", "case C-7"
    value: dict[str, Any]  # for the evidence.exported event
    events: list[EventRecord]
    scans: list[str]


def _scans_of(events: Iterable[EventRecord], extra: Iterable[str] = ()) -> list[str]:
    return sorted({e.scan_sha256 for e in events if e.scan_sha256} | set(extra))


def _ordered(events: Iterable[EventRecord]) -> list[EventRecord]:
    unique = {(e.station, e.seq): e for e in events}
    return sorted(unique.values(), key=lambda e: (e.time_utc, e.station, e.seq))


def select_scan(engine: Engine, scan_sha256: str) -> Selection:
    digest = scan_sha256.strip().lower()
    if not _SHA256.fullmatch(digest):
        raise EvidenceExportError(f"--scan {scan_sha256!r} is not a sha256 (64 hex digits)")
    events = events_for_scan(engine, digest)
    if not events:
        raise EvidenceExportError(f"no event in the audit log names scan {digest}; check "
                                  "the sha256 (screener scan info FILE prints it)")
    return Selection(f"scan {digest}", {"scan": digest}, _ordered(events), [digest])


def parse_range(text: str) -> tuple[int, int]:
    match = _RANGE.fullmatch(text)
    if match is None:
        raise EvidenceExportError(f"--events {text!r} is not a range FROM-TO of seq numbers, "
                                  "such as 120-180")
    first, last = int(match.group(1)), int(match.group(2))
    if first < 1 or last < first:
        raise EvidenceExportError(f"--events {text!r}: FROM must be at least 1 and not "
                                  "above TO")
    return first, last


def select_events(engine: Engine, station: str, first: int, last: int) -> Selection:
    events = events_in_range(engine, station, first, last)
    if not events:
        raise EvidenceExportError(f"station {station!r} has no event with seq {first} to "
                                  f"{last}; check --station and the range")
    return Selection(f"events {station}#{first}-{last}",
                     {"station": station, "from": first, "to": last}, events,
                     _scans_of(events))


def select_case(engine: Engine, case_id: str) -> Selection:
    try:
        check_case_id(case_id)
    except AuditPayloadError as exc:
        raise EvidenceExportError(str(exc)) from None
    scans = case_scans(engine, case_id)
    if not scans:
        raise EvidenceExportError(f"no case {case_id!r} in the audit log: no scan was ever "
                                  "put on hold under it")
    events: list[EventRecord] = []
    for digest in sorted(scans):
        events += events_for_scan(engine, digest)
    for event in events_of_kinds(engine, (KIND_CASE_HOLD, KIND_CASE_RELEASE)):
        try:
            named = json.loads(event.payload).get("case")
        except (ValueError, AttributeError):
            continue
        if named == case_id:
            events.append(event)
    ordered = _ordered(events)
    return Selection(f"case {case_id}", {"case": case_id}, ordered, _scans_of(ordered, scans))


# ---------------------------------------------------------------------- chain proof
@dataclass
class Proof:
    events: dict[EventKey, EventRecord] = field(default_factory=dict)
    checkpoints: dict[EventKey, CheckpointRecord] = field(default_factory=dict)
    key_events: list[EventRecord] = field(default_factory=list)


def gather_proof(log: AuditLog, selected: list[EventRecord]) -> Proof:
    """The selected events, the stations' key events, and for each the run of events up
    to the signed checkpoint covering it. Signs the exporting station's head first when
    its events are not all covered yet; another station's must already be."""
    engine = log.engine
    proof = Proof()
    stations = sorted({e.station for e in selected} | {log.station})
    needed: dict[str, set[int]] = {s: set() for s in stations}
    for event in selected:
        needed[event.station].add(event.seq)
    for station in stations:
        keys = signing_keys(engine, station)
        proof.key_events += keys
        needed[station] |= {k.seq for k in keys}
    for station in stations:
        seqs = sorted(needed[station])
        if not seqs:
            continue
        if covering_checkpoint(engine, station, seqs[-1]) is None:
            if station != log.station:
                raise EvidenceExportError(
                    f"events of station {station!r} up to seq {seqs[-1]} are not yet covered "
                    "by a checkpoint signed by that station; sign its head there (screener "
                    "audit checkpoint, or end the shift) and export again")
            log.checkpoint("evidence export")
        covered = 0
        for seq in seqs:
            if seq <= covered:
                continue
            cp = covering_checkpoint(engine, station, seq)
            if cp is None:  # only a concurrent writer could get here
                raise EvidenceExportError(f"event {station}#{seq} is not covered by a signed "
                                          "checkpoint; export again")
            for record in events_in_range(engine, station, seq, cp.seq):
                proof.events[(station, record.seq)] = record
            proof.checkpoints[(station, cp.seq)] = cp
            covered = cp.seq
    return proof


# ---------------------------------------------------------------------- export
@dataclass(frozen=True)
class ExportResult:
    path: Path
    tagmanifest_sha256: str
    selected_events: int
    chain_events: int
    checkpoints: int
    scans: list[str]
    purged_scans: list[str]
    logged: EventRecord
    site: SiteProof | None = None  # None: the log is no site (one station, no site checkpoint)


def _one_line(name: str, value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise EvidenceExportError(f"{name} must not be empty")
    if len(text) > 200:
        raise EvidenceExportError(f"{name} is longer than 200 characters")
    return text


def _check_out(out: Path) -> None:
    if out.suffix.lower() != ".zip":
        raise EvidenceExportError(f"{out}: --out must name a .zip file")
    if not out.parent.is_dir():
        raise EvidenceExportError(f"{out}: the folder {out.parent} does not exist; create it "
                                  "first")
    if out.exists():
        raise EvidenceExportError(f"{out}: already exists; evidence files are never "
                                  "overwritten, choose another name")


def _file_part(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "view"


def _render_scan(digest: str, path: Path, limits: ScanLimits,
                 selected: list[EventRecord], writer: ZipBagWriter) -> ScanEntry:
    scan = read_scan(path, limits)
    found = scan_annotations(selected, digest)
    images = []
    names = [v.name for v in scan.views]
    strays = sorted({a.view for a in found.boxes} - set(names))
    notes = list(found.notes) + [f"boxes on view {v!r}, which this scan does not have"
                                 for v in strays]
    for prepared in prepare_scan(scan):
        rgba = None
        function = FUNCTIONS[-1]
        for function in FUNCTIONS:
            try:
                rgba = render(prepared, function)
                break
            except FunctionUnavailableError:
                continue
        if rgba is None:  # greyscale needs nothing; kept for the type checker
            continue
        title = [f"scan {digest}", f"view {prepared.name} - {function} enhancement - "
                 f"bag {scan.metadata.bag_id}"]
        image = annotate_view(rgba, prepared.name, found.boxes, title, notes)
        rel = f"images/{digest}-{_file_part(prepared.name)}.png"
        sha = writer.add_payload(rel, encode_png(image), compress=False)
        images.append(ImageEntry(prepared.name, f"data/{rel}", sha, function,
                                 encode_jpeg(thumbnail(image))))
    return ScanEntry(digest, f"data/scans/{digest}.h5", scan.metadata.bag_id,
                     scan.metadata.acquired_at.isoformat(), scan.metadata.source_kind.value,
                     images, notes)


def export_bundle(log: AuditLog, selection: Selection, out: Path, *, case_number: str,
                  investigator: str, store: ScanStore, actor: str | None = None,
                  role: str = EXPORT_ROLE) -> ExportResult:
    """Write the bundle for ``selection`` to ``out`` (a new .zip), signed by ``log``'s
    station key, and log an ``evidence.exported`` event. ``investigator`` is the name in
    bag-info (Contact-Name) and the report; the event's actor is ``actor`` (the logged-in
    user's id; default: ``investigator``) in ``role``. The file appears only complete;
    if the export cannot be logged, it is removed and the error raised."""
    case_number = _one_line("--case-number", case_number)
    investigator = _one_line("investigator", investigator)
    _check_out(out)
    proof = gather_proof(log, selection.events)
    selected = [(e.station, e.seq) for e in selection.events]
    chain = Chain(proof.events, selected, proof.checkpoints)
    own = check_chain(EVENTS_FILE, chain)
    site = gather_site_proof(log.engine, selection.events, proof.events)
    site_json = None if site is None else site.to_json()
    problems = own.problems + ([] if site_json is None else
                               check_site(SITE_FILE, site_json, chain).problems)
    if problems:
        raise EvidenceExportError(f"the audit log fails its own check ({problems[0]}); "
                                  "run 'screener audit verify' before exporting evidence")
    exported_at = utc_now()
    purged: list[str] = []
    try:
        # never replaces a file, not even one that appeared meanwhile
        with written_atomically(out, overwrite=False) as aside, \
                ZipBagWriter(aside, _file_part(out.stem)) as writer:
            entries = []
            for digest in selection.scans:
                source = store.path_for(digest)
                if not source.is_file():
                    purged.append(digest)
                    notes = scan_annotations(selection.events, digest).notes
                    entries.append(ScanEntry(digest, None, notes=notes))
                    continue
                copied = writer.add_payload_file(f"scans/{digest}.h5", source)
                if copied != digest:
                    raise StoredScanCorruptedError(source, digest, copied)
                entries.append(_render_scan(digest, source, store.limits, selection.events,
                                            writer))
            writer.add_payload("events.jsonl",
                               chain_lines(proof.events, selected, proof.checkpoints))
            writer.add_payload("station-key.pem", log.key.public_pem())
            if site_json is not None:
                writer.add_payload(SITE_FILE.removeprefix("data/"), site_json)
            report = ReportData(
                case_number=case_number, investigator=investigator, station=log.station,
                exported_at=exported_at, selection=selection.description,
                software=f"screener {__version__}", key_fingerprint=log.key.fingerprint,
                selected=selection.events, chain_events=len(proof.events),
                checkpoints=[proof.checkpoints[k] for k in sorted(proof.checkpoints)],
                key_events=proof.key_events, scans=entries, signature_file=SIGNATURE_FILE,
                site=site)
            writer.add_payload("report.html", render_report(report))
            info = [
                ("Source-Organization", log.station),
                ("Contact-Name", investigator),
                ("External-Identifier", case_number),
                ("External-Description", f"Screener evidence bundle: {selection.description}"),
                ("Bagging-Date", exported_at[:10]),
                ("Bag-Software-Agent", f"screener {__version__}"),
                ("Screener-Station", log.station),
                ("Screener-Exported-At", exported_at),
                ("Screener-Selection", selection.description),
                ("Screener-Key-Fingerprint", log.key.fingerprint),
                ("Screener-Signature", f"{SIGNATURE_FILE}: Ed25519 over tagmanifest-"
                                       f"{ALGORITHM}.txt, base64, key {KEY_FILE}"),
                ("Screener-Events", f"{len(selected)} selected, {len(proof.events)} in "
                                    f"{EVENTS_FILE}, {len(proof.checkpoints)} checkpoints"),
            ]
            if site is not None:
                info.append(("Screener-Site-Checkpoints", f"{site.describe()} ({SITE_FILE})"))
                info += [("Screener-Site-Key-Fingerprint", f) for f in site.key_fingerprints]
            info += [("Screener-Scan", d) for d in selection.scans if d not in purged]
            info += [("Screener-Purged-Scan", d) for d in purged]
            tagmanifest = writer.finish(info)
            signature = log.key.private.sign(tagmanifest)
            writer.add_unlisted_tag_file(SIGNATURE_FILE, base64.b64encode(signature) + b"\n")
    except FileExistsError:
        raise EvidenceExportError(f"{out}: already exists; evidence files are never "
                                  "overwritten, choose another name") from None
    except OSError as exc:
        raise EvidenceExportError(f"{out}: cannot write ({exc.strerror or exc})") from None
    digest = hashlib.sha256(tagmanifest).hexdigest()
    included = [d for d in selection.scans if d not in purged]
    try:
        logged = log.append(KIND_EXPORTED, {
            "case_number": case_number, "investigator": investigator,
            "selection": selection.value, "file": out.name,
            "tagmanifest_sha256": digest, "events": len(selected), "scans": included,
            "purged_scans": purged, "key_fingerprint": log.key.fingerprint,
        }, actor=investigator if actor is None else actor, role=role)
    except Exception:
        out.unlink(missing_ok=True)  # an export nobody can see in the log did not happen
        raise
    return ExportResult(out, digest, len(selected), len(proof.events), len(proof.checkpoints),
                        included, purged, logged, site)
