"""``screener audit verify|key|checkpoint|site-checkpoint|site-key|db``: check the chains,
show or rotate the station key, sign the head now, sign every station's head with the site
key, show or hand over the site key, and set up a site database (migrations, station and
supervisor roles).

``verify`` exits 0 when every chain and site checkpoint is intact, 1 on tampering (naming
the first bad seq and the kind of fault per station, and each bad site checkpoint), 2 when
it cannot check at all.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from tqdm import tqdm

from screener.audit.database import create_audit_engine, describe, migrate_database
from screener.audit.keys import (
    StationKey,
    display_fingerprint,
    key_path,
    load_key,
    load_or_create_key,
)
from screener.audit.log import open_audit_log
from screener.audit.pins import station_expectations
from screener.audit.roles import (
    RoleError,
    grant_station,
    grant_supervisor,
    revoke,
    table_rights,
)
from screener.audit.site import (
    SiteCheckpointError,
    current_site_key_of,
    make_site_checkpoint,
    read_site_anchor,
    site_anchor_path,
    site_key_path,
    write_site_anchor,
)
from screener.audit.verify import (
    SiteExpectation,
    SiteReport,
    StationReport,
    verify_site,
)
from screener.cli.acting import acting_as, acting_user, add_acting_arguments
from screener.cli.search_command import register_search
from screener.config import Settings
from screener.workflow.roles import Action
from screener.workflow.station_keys import (
    SiteRotation,
    finish_hand_over,
    hand_over_site_key,
    rotate_station_key,
)

EXIT_INTACT = 0
EXIT_TAMPERED = 1
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
DB_ACTIONS = ("migrate", "grant-station", "grant-supervisor", "revoke", "rights")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="verify the audit chain; station keys")
    actions = audit.add_subparsers(dest="action", required=True, metavar="ACTION")
    verify = actions.add_parser(
        "verify", help="check every event link, checkpoint signature and the station "
        "anchor; exit 0 intact, 1 tampered, 2 cannot check")
    verify.add_argument("--db", help="database URL (default: the station's audit database)")
    verify.add_argument("--json", action="store_true", help="print JSON instead of text")
    verify.add_argument("--site-fingerprint", metavar="HEX",
                        help="the site key's full fingerprint: every site checkpoint must be "
                        "signed by it (default: the site key file in --home, if any)")
    verify.add_argument("--site-anchor", type=Path, metavar="FILE",
                        help="a site checkpoint file kept outside the database: the database "
                        "must still hold that checkpoint (default: the one in --home, if any)")
    verify.set_defaults(run=run_verify)
    key = actions.add_parser("key", help="show or rotate this station's signing key")
    key.add_argument("key_action", choices=("show", "rotate"))
    add_acting_arguments(key, "the administrator who rotates the key (rotate only)",
                         required=False)
    key.set_defaults(run=run_key)
    register_search(actions)
    checkpoint = actions.add_parser("checkpoint", help="sign the chain's head now")
    checkpoint.add_argument("--reason", default="manual checkpoint")
    checkpoint.set_defaults(run=run_checkpoint)
    site = actions.add_parser(
        "site-checkpoint", help="sign every station's chain head with the site key (a "
        "Merkle root); run it periodically on the supervisor's machine")
    site.add_argument("--db", help="database URL (default: the audit_db setting)")
    site.add_argument("--site-key", type=Path, metavar="PEM", help="the site's Ed25519 key "
                      "(default: <home>/keys/site/site.ed25519.pem, made on first use)")
    site.set_defaults(run=run_site_checkpoint)
    site_key = actions.add_parser(
        "site-key", help="show the site key, or hand it over to a new key (the rotation is "
        "signed by both keys and the new key signs a site checkpoint at once)")
    site_key.add_argument("site_key_action", choices=("show", "rotate"))
    site_key.add_argument("--db", help="the site database URL (default: the audit_db "
                          "setting)")
    site_key.add_argument("--site-key", type=Path, metavar="PEM", help="the site's Ed25519 "
                          "key (default: <home>/keys/site/site.ed25519.pem)")
    add_acting_arguments(site_key, "the administrator who hands the site key over (rotate "
                         "only)", required=False)
    site_key.set_defaults(run=run_site_key)
    db = actions.add_parser(
        "db", help="set up a site database on PostgreSQL: migrate it, grant station and "
        "supervisor roles (run as the database owner)")
    db.add_argument("db_action", choices=DB_ACTIONS, metavar="ACTION",
                    help="migrate | grant-station | grant-supervisor | revoke | rights")
    db.add_argument("--db", help="database URL (default: the audit_db setting)")
    db.add_argument("--role", help="the database role (grant-*, revoke, rights)")
    db.add_argument("--station", action="append", default=[], metavar="NAME",
                    help="a station the role appends for (grant-station; repeat for more)")
    db.add_argument("--password-env", metavar="VARIABLE",
                    help="set the role's password from this environment variable")
    db.set_defaults(run=run_db)


def site_expectation(settings: Settings, args: argparse.Namespace) -> SiteExpectation:
    """The site key's fingerprint and the latest site checkpoint kept outside the
    database: from the flags, else (checking the home's own database) from the home."""
    pinned = args.site_fingerprint
    if pinned is not None:
        pinned = pinned.strip().lower()
        if not _FINGERPRINT.fullmatch(pinned):
            raise SiteCheckpointError(f"--site-fingerprint {args.site_fingerprint!r} is not a full "
                            "fingerprint (64 hex digits: screener audit site-checkpoint "
                            "prints it)")
    anchor_file = args.site_anchor
    if args.db is None:
        key_file = site_key_path(settings.home)
        if pinned is None and key_file.is_file():
            pinned = load_key(key_file).fingerprint
        anchor_file = anchor_file or site_anchor_path(settings.home)
    if args.site_anchor is not None and not args.site_anchor.is_file():
        raise SiteCheckpointError(f"{args.site_anchor}: no such site checkpoint file")
    anchor = read_site_anchor(anchor_file) if anchor_file is not None else None
    return SiteExpectation(fingerprint=pinned, anchor=anchor)


def run_verify(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    url = args.db or settings.audit_url
    site = site_expectation(settings, args)
    engine = create_audit_engine(url, create=False)
    try:
        expectations = station_expectations(settings.home) if args.db is None else {}
        with tqdm(desc="verifying", unit=" events", disable=args.json or None,
                  file=sys.stderr) as bar:
            result = verify_site(engine, expectations, _advance(bar), site)
    finally:
        engine.dispose()
    reports = result.stations
    if args.json:
        print(json.dumps({"database": describe(url), "ok": result.ok,
                          "stations": [r.as_dict() for r in reports],
                          "site": result.site.as_dict()}, indent=2))
    else:
        print(f"database: {describe(url)}")
        for report in reports:
            print(_report_line(report))
        if result.site.checkpoints or result.site.findings or len(reports) > 1:
            for line in _site_lines(result.site, site):
                print(line)
        if not expectations:
            print("note: no station key or anchor checked (pass no --db on the station to "
                  "also detect a swapped database or a cut tail)")
    return EXIT_INTACT if result.ok else EXIT_TAMPERED


def _site_lines(report: SiteReport, expected: SiteExpectation) -> list[str]:
    keys = ", ".join(display_fingerprint(f) for f in report.key_fingerprints) or "none"
    latest = report.latest
    if latest is None:
        summary = "no site checkpoint yet (screener audit site-checkpoint)"
    else:
        summary = (f"{report.checkpoints} site checkpoint(s), latest {latest.number} at "
                   f"{latest.time_utc} over {len(latest.heads)} station(s), root "
                   f"{latest.root[:16]}..., key {keys}")
        if report.key_rotations:
            summary += f", {report.key_rotations} key rotation(s)"
    if expected.fingerprint is None and latest is not None:
        summary += " (site key not pinned: compare it, or pass --site-fingerprint)"
    current = report.current_key
    if expected.fingerprint is not None and current and expected.fingerprint != current:
        summary += (f" (the pinned key was handed over since: pin the current site key "
                    f"{display_fingerprint(current)}, as a check pinned to a retired key "
                    "trusts whoever holds it)")
    if report.ok:
        return [f"site: OK ({summary})"]
    return [f"site: TAMPERED: {finding}" for finding in report.findings] + [
        f"site: ({summary})"]


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
    acting_user(args, Action.MANAGE_KEYS)  # before opening anything
    log = open_audit_log(settings.home, settings.station, url=settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    reason = "key not rotated"
    try:
        with acting_as(log, args, Action.MANAGE_KEYS,
                       subject=f"rotate the key of station {log.station}") as admin:
            rotation = rotate_station_key(log, settings.home, admin)
        reason = "key rotated"
    finally:
        log.close(reason)
    print(f"old key kept as {rotation.retired}")
    _print_key(settings.station, load_key(key_path(settings.home, settings.station)))
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


def run_site_checkpoint(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    key_file: Path = args.site_key or site_key_path(settings.home)
    engine = create_audit_engine(args.db or settings.audit_url, create=False)
    try:
        key = _site_key(key_file, engine)
        record = make_site_checkpoint(engine, key)
    finally:
        engine.dispose()
    anchor = site_anchor_path(settings.home)
    write_site_anchor(anchor, record)
    print(f"site checkpoint {record.number} over {len(record.heads)} station(s): root "
          f"{record.root}")
    for head in record.heads:
        print(f"  {head.station}: seq {head.seq} {head.head_hash[:16]}...")
    print(f"signed by the site key {display_fingerprint(key.fingerprint)}")
    print(f"  full: {key.fingerprint}")
    print(f"kept outside the database in {anchor}; copy it off this machine too")
    return 0


def _settle_hand_over(key_file: Path, engine: Engine) -> None:
    retired = finish_hand_over(key_file, engine)
    if retired is not None:
        print(f"finished an interrupted site key hand-over (old key kept as {retired})")


def _site_key(key_file: Path, engine: Engine) -> StationKey:
    """The site key in ``key_file``, after settling a hand-over that stopped half-way;
    made on first use only while the site has no key yet (never in place of a lost one)."""
    _settle_hand_over(key_file, engine)
    current = current_site_key_of(engine)
    if current is not None and not key_file.exists():
        raise SiteCheckpointError(f"{key_file}: no site key file, but the site is signed by key "
                                  f"{display_fingerprint(current)}: restore that key from its "
                                  "backup (or pass --site-key)")
    return load_or_create_key(key_file)


def run_site_key(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    key_file: Path = args.site_key or site_key_path(settings.home)
    engine = create_audit_engine(args.db or settings.audit_url, create=False)
    try:
        if args.site_key_action == "show":
            _show_site_key(key_file, engine)
            return 0
        acting_user(args, Action.MANAGE_KEYS)  # before opening anything
        _settle_hand_over(key_file, engine)
        load_key(key_file)  # a missing or unreadable key file is refused before the login
        rotation = _hand_over(args, settings, key_file, engine)
    finally:
        engine.dispose()
    anchor = site_anchor_path(settings.home)
    write_site_anchor(anchor, rotation.checkpoint)
    print(f"site key rotation {rotation.record.number}: site checkpoint "
          f"{rotation.checkpoint.number} is the first signed by the new key")
    print(f"old key kept as {rotation.retired}")
    _print_site_key("new site key", rotation.record.new_fingerprint)
    print("pin the new fingerprint wherever the old one was pinned (a check still pinned "
          "to the old key trusts whoever holds it)")
    return 0


def _show_site_key(key_file: Path, engine: Engine) -> None:
    _settle_hand_over(key_file, engine)
    key = load_key(key_file)
    current = current_site_key_of(engine)
    _print_site_key("site key file", key.fingerprint)
    if current is None:
        print("the site database has no site checkpoint yet")
    elif current != key.fingerprint:
        _print_site_key("the site's current key is another one", current)


def _hand_over(args: argparse.Namespace, settings: Settings, key_file: Path,
               engine: Engine) -> SiteRotation:
    """Log the administrator in on this home's station log and hand the site key over."""
    log = open_audit_log(settings.home, settings.station, url=settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    reason = "site key not rotated"
    try:
        with acting_as(log, args, Action.MANAGE_KEYS,
                       subject="hand the site key over to a new key") as admin:
            rotation = hand_over_site_key(log, key_file, admin, engine)
        reason = "site key rotated"
    finally:
        log.close(reason)
    return rotation


def _print_site_key(what: str, key_fingerprint: str) -> None:
    print(f"{what}: fingerprint {display_fingerprint(key_fingerprint)}")
    print(f"  full: {key_fingerprint}")


def run_db(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    url = args.db or settings.audit_url
    if args.db_action == "migrate":
        applied = migrate_database(url)
        done = ", ".join(map(str, applied)) if applied else "none (already current)"
        print(f"{describe(url)}: migrations applied: {done}")
        return 0
    if not args.role:
        raise RoleError(f"'screener audit db {args.db_action}' needs --role NAME")
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            raise RoleError(f"--password-env {args.password_env}: that environment variable "
                            "is not set or empty")
    engine = create_audit_engine(url, create=False)
    try:
        if args.db_action == "grant-station":
            grant_station(engine, args.role, args.station, password=password)
        elif args.db_action == "grant-supervisor":
            grant_supervisor(engine, args.role, password=password)
        elif args.db_action == "revoke":
            revoke(engine, args.role)
        rights = table_rights(engine, args.role)
    finally:
        engine.dispose()
    print(f"{describe(url)}: role {args.role}:")
    for table, granted in rights.items():
        print(f"  {table}: {', '.join(granted) or 'nothing'}")
    if args.db_action == "grant-station":
        print(f"  appends only for: {', '.join(sorted(set(args.station)))}")
    return 0
