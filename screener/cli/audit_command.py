"""``screener audit verify|key|checkpoint``: check the chain, show or rotate the station
key, sign the head now.

``verify`` exits 0 when every chain is intact, 1 on tampering (naming the first bad seq
and the kind of fault per station), 2 when it cannot check at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from screener.audit.anchor import anchor_path, read_anchor
from screener.audit.database import create_audit_engine, describe
from screener.audit.keys import (
    StationKey,
    display_fingerprint,
    key_path,
    load_key,
    save_key,
)
from screener.audit.log import open_audit_log
from screener.audit.verify import Expectation, StationReport, verify_database
from screener.config import Settings

EXIT_INTACT = 0
EXIT_TAMPERED = 1


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="verify the audit chain; station keys")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check every event link, checkpoint signature and the station "
        "anchor; exit 0 intact, 1 tampered, 2 cannot check")
    verify.add_argument("--db", help="database URL (default: the station's audit database)")
    verify.add_argument("--json", action="store_true", help="print JSON instead of text")
    verify.set_defaults(run=run_verify)
    key = actions.add_parser("key", help="show or rotate this station's signing key")
    key.add_argument("key_action", choices=("show", "rotate"))
    key.add_argument("--actor", default="admin", help="who rotates the key (logged)")
    key.set_defaults(run=run_key)
    checkpoint = actions.add_parser("checkpoint", help="sign the chain's head now")
    checkpoint.add_argument("--reason", default="manual checkpoint")
    checkpoint.set_defaults(run=run_checkpoint)


def station_expectations(settings: Settings) -> dict[str, Expectation]:
    """What this station knows from outside the database: every key file in its home
    pins that station's fingerprint, and its anchor file its latest checkpoint."""
    expectations = {}
    for path in sorted((settings.home / "keys").glob("*.ed25519.pem")):
        station = path.name.removesuffix(".ed25519.pem")
        expectations[station] = Expectation(
            fingerprint=load_key(path).fingerprint,
            anchor=read_anchor(anchor_path(settings.home, station)))
    return expectations


def run_verify(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    url = args.db or settings.audit_url
    engine = create_audit_engine(url, create=False)
    try:
        expectations = station_expectations(settings) if args.db is None else {}
        with tqdm(desc="verifying", unit=" events", disable=args.json or None,
                  file=sys.stderr) as bar:
            reports = verify_database(engine, expectations, _advance(bar))
    finally:
        engine.dispose()
    ok = all(report.ok for report in reports)
    if args.json:
        print(json.dumps({"database": describe(url), "ok": ok,
                          "stations": [r.as_dict() for r in reports]}, indent=2))
    else:
        print(f"database: {describe(url)}")
        for report in reports:
            print(_report_line(report))
        if not expectations:
            print("note: no station key or anchor checked (pass no --db on the station to "
                  "also detect a swapped database or a cut tail)")
    return EXIT_INTACT if ok else EXIT_TAMPERED


def _advance(bar: tqdm[Any]) -> Callable[[int], None]:
    def advance(count: int) -> None:
        bar.update(count)

    return advance


def _report_line(report: StationReport) -> str:
    keys = ", ".join(display_fingerprint(f) for f in report.key_fingerprints) or "none"
    head = f"{report.events} events, {report.checkpoints} checkpoints, key {keys}"
    if report.first is None:
        return f"station {report.station}: OK ({head})"
    return f"station {report.station}: TAMPERED: seq {report.first.seq}: " \
           f"{report.first.fault.value}: {report.first.detail} ({head})"


def run_key(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    if args.key_action == "show":
        key = load_key(key_path(settings.home, settings.station))
        _print_key(settings.station, key)
        return 0
    path = key_path(settings.home, settings.station)
    log = open_audit_log(settings.home, settings.station, url=settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    old_fingerprint = log.key.fingerprint
    pending = path.with_name(f"{path.name}.new")
    new_key = StationKey.generate()
    save_key(new_key, pending)  # on disk before the chain names it: never a chain without
    try:                        # the key that signs it
        log.rotate_key(new_key, actor=args.actor, role="admin")
    finally:
        log.close("key rotated")
    retired = path.with_name(f"{path.name}.retired-{old_fingerprint[:8]}")
    path.rename(retired)
    pending.rename(path)
    print(f"old key kept as {retired}")
    _print_key(settings.station, new_key)
    return 0


def _print_key(station: str, key: StationKey) -> None:
    print(f"station {station}: fingerprint {display_fingerprint(key.fingerprint)}")
    print(f"  full: {key.fingerprint}")


def run_checkpoint(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    log = open_audit_log(settings.home, settings.station, url=settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    try:
        checkpoint = log.checkpoint(args.reason)
    finally:
        log.engine.dispose()
    if checkpoint is None:
        print("the head is already covered by a checkpoint")
    else:
        print(f"checkpoint at seq {checkpoint.seq} ({checkpoint.head_hash[:16]}...)")
    return 0
