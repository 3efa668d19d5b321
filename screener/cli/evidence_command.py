"""``screener evidence export|verify``: evidence bundles (BagIt zips) for investigators.

``export`` writes a signed bundle for a scan, a seq range of one station or a case and
logs the export in the name of the investigator who logs in with ``--as ID``; ``verify``
checks a bundle with nothing but the bundle (``--site-fingerprint`` pins the site key)
and exits 0 when it is intact, 1 naming the file or event at fault, 2 when the file is
no bundle at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from screener.accounts.users import Account, Accounts
from screener.audit.anchor import anchor_path
from screener.audit.database import create_audit_engine, sqlite_path
from screener.audit.evidence import (
    Selection,
    export_bundle,
    parse_range,
    select_case,
    select_events,
    select_scan,
    verify_bundle,
)
from screener.audit.evidence.errors import EvidenceExportError
from screener.audit.keys import display_fingerprint, key_path, load_key
from screener.audit.log import AuditLog
from screener.cli.acting import acting_as, add_acting_arguments
from screener.config import Settings
from screener.scan.store import ScanStore
from screener.workflow.roles import Action

EXIT_INTACT = 0
EXIT_FAILED = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    evidence = commands.add_parser("evidence", help="export and verify evidence bundles")
    actions = evidence.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="write a signed BagIt evidence bundle (zip) for a scan, a range of "
        "events or a case, and log the export",
        description="Write a signed BagIt (RFC 8493) evidence bundle: the scan files byte "
        "for byte, annotated images, the events with the chain links and signed checkpoints "
        "that prove them, the station public key, on a site the site checkpoints that cover "
        "them, and a readable report (docs/evidence.md).")
    chosen = export.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--scan", metavar="SHA256", help="every event naming this scan")
    chosen.add_argument("--events", metavar="FROM-TO",
                        help="a seq range of one station's chain (see --station)")
    chosen.add_argument("--case", metavar="ID",
                        help="the scans held under this case, all their events and the "
                             "case's hold and release events")
    export.add_argument("--out", required=True, type=Path, metavar="FILE.zip",
                        help="the bundle to write (a new file)")
    export.add_argument("--case-number", required=True, metavar="N",
                        help="the investigation's case number (bag-info External-Identifier)")
    add_acting_arguments(export, "the investigator who exports (bag-info Contact-Name: "
                         "the account's name and id; the id is logged as the actor)")
    export.add_argument("--station", metavar="S",
                        help="the station whose chain --events reads (default: this "
                             "station); the bundle is always signed by this station's key")
    export.add_argument("--db", metavar="URL",
                        help="audit database URL (default: the station's audit database)")
    export.set_defaults(run=run_export)
    verify = actions.add_parser(
        "verify", help="check a bundle offline: BagIt manifests, signature, every event's "
        "chain proof, the site checkpoints; exit 0 intact, 1 failed, 2 not a bundle")
    verify.add_argument("file", type=Path, metavar="FILE.zip",
                        help="the bundle (or its unpacked bag folder)")
    verify.add_argument("--json", action="store_true", help="print JSON instead of text")
    verify.add_argument("--site-fingerprint", metavar="HEX",
                        help="the site key's full fingerprint: every site checkpoint in the "
                        "bundle must be signed by it, and the bundle must hold one")
    verify.set_defaults(run=run_verify)


def _open_log(settings: Settings, url: str) -> AuditLog:
    """The exporting station's log: the database must exist and the key must be there."""
    path = sqlite_path(url)
    if path is not None and not path.is_file():
        raise EvidenceExportError(f"no audit database at {path}; pass --db or --home")
    key = load_key(key_path(settings.home, settings.station))
    engine = create_audit_engine(url, create=False)
    try:
        return AuditLog(engine, settings.station, key,
                        checkpoint_every=settings.checkpoint_every,
                        anchor=anchor_path(settings.home, settings.station))
    except Exception:
        engine.dispose()
        raise


def _selection(args: argparse.Namespace, log: AuditLog, settings: Settings) -> Selection:
    if args.scan is not None:
        return select_scan(log.engine, args.scan)
    if args.events is not None:
        first, last = parse_range(args.events)
        return select_events(log.engine, args.station or settings.station, first, last)
    return select_case(log.engine, args.case)


def contact_name(account: Account) -> str:
    """bag-info Contact-Name: the account's display name and id, or the id alone."""
    name = " ".join(account.display_name.split())
    return f"{name} ({account.user_id})" if name else account.user_id


def run_export(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    out: Path = args.out
    if not out.parent.is_dir():  # before touching the database
        raise EvidenceExportError(f"{out}: the folder {out.parent} does not exist; create "
                                  "it first")
    log = _open_log(settings, args.db or settings.audit_url)
    try:
        with acting_as(log, args, Action.EXPORT_EVIDENCE,
                       subject=f"evidence bundle {out.name} for case {args.case_number}"
                       ) as investigator:
            contact = contact_name(Accounts(log).get(investigator.id))
            selection = _selection(args, log, settings)
            result = export_bundle(log, selection, out, case_number=args.case_number,
                                   investigator=contact, actor=investigator.id,
                                   role=investigator.role.value,
                                   store=ScanStore(settings.scan_store, settings.scan_limits))
    finally:
        log.engine.dispose()
    for digest in result.purged_scans:
        print(f"screener: warning: scan {digest} is no longer in the scan store (deleted by "
              "retention?); the bundle holds its events but not the file, and says so in "
              "bag-info.txt and the report", file=sys.stderr)
    print(f"wrote {result.path}: {selection.description}; {result.selected_events} event(s) "
          f"with {result.chain_events - result.selected_events} linking and key event(s) "
          f"and {result.checkpoints} signed checkpoint(s); {len(result.scans)} scan(s) "
          f"included, {len(result.purged_scans)} no longer stored")
    print(f"signed by station {log.station}, key {display_fingerprint(log.key.fingerprint)};"
          f" tag manifest sha256 {result.tagmanifest_sha256}")
    if result.site is not None:
        print(f"site checkpoints: {result.site.describe()}")
    print(f"logged as {result.logged.kind} {result.logged.station}#{result.logged.seq}")
    return 0


def site_lines(site: dict[str, Any]) -> list[str]:
    """What ``verify`` prints about the site checkpoints of a bundle that verified."""
    numbers = site.get("checkpoints") or []
    if not numbers:
        lines = ["  site checkpoints: none"]
    else:
        keys = ", ".join(display_fingerprint(f) for f in site.get("key_fingerprints") or [])
        pin = ("the expected site key (--site-fingerprint)" if site.get("pinned") else
               "compare with the site's published fingerprint, or pass --site-fingerprint")
        rotations = site.get("key_rotations") or 0
        handed = (f", through {rotations} site key rotation(s) signed by both keys"
                  if rotations else "")
        current, pinned = site.get("current_key"), site.get("pinned")
        if pinned and current and pinned != current:
            handed += (f"; the pinned key was handed over since: pin the current site key "
                       f"{display_fingerprint(current)}, as a check pinned to a retired "
                       "key trusts whoever holds it")
        lines = [f"  site checkpoints: {', '.join(map(str, numbers))}, signed by site key "
                 f"{keys} ({pin}{handed})"]
    for station, found in sorted((site.get("stations") or {}).items()):
        text = f"    station {station}: "
        covered = found["covered_by"]
        if covered:
            text += (f"{found['proven']} of {found['selected']} exported event(s) covered by "
                     "site checkpoint " + ", ".join(
                         f"{c['site_checkpoint']} (head {station}#{c['head_seq']})"
                         for c in covered))
        pending = found["not_yet_covered"]
        if pending:
            last = found.get("last_site_checkpoint")
            since = ("no site checkpoint has recorded this station yet" if last is None else
                     f"after the last site checkpoint, {last}, head {station}#"
                     f"{found.get('last_head_seq')}")
            text += ("; " if covered else "") + (
                f"{len(pending)} exported event(s) not yet covered by a site checkpoint "
                f"(from {station}#{pending[0]}: {since})")
        lines.append(text)
    return lines


def run_verify(args: argparse.Namespace) -> int:
    result = verify_bundle(args.file, site_fingerprint=args.site_fingerprint)
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return EXIT_INTACT if result.ok else EXIT_FAILED
    if not result.ok:
        for problem in result.problems:
            print(problem)
        print(f"FAILED: {args.file}: {len(result.problems)} problem(s)")
        return EXIT_FAILED
    s = result.summary
    key = s.get("key_fingerprint") or ""
    print(f"OK: {args.file}")
    print(f"  case {s.get('External-Identifier')}, investigator {s.get('Contact-Name')}, "
          f"exported by station {s.get('Screener-Station')} at "
          f"{s.get('Screener-Exported-At')}: {s.get('Screener-Selection')}")
    print(f"  bag: {s.get('payload_files')} payload files, {s.get('payload_bytes')} bytes, "
          "every manifest entry matches")
    print(f"  signature: tag manifest signed by key {display_fingerprint(key)} (compare "
          "with the station's published fingerprint)")
    print(f"  chain: {s.get('events_proven')} of {s.get('events_selected')} exported events "
          f"linked to {s.get('checkpoints')} signed checkpoint(s)")
    purged = s.get("scans_not_stored") or []
    print(f"  scans: {len(s.get('scans_included') or [])} included byte for byte"
          + (f", {len(purged)} declared no longer stored" if purged else ""))
    for line in site_lines(s.get("site") or {}):
        print(line)
    return EXIT_INTACT
