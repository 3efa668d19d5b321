"""``screener retention purge`` and ``screener case hold|release|list``: the keeping
period of scan files and the legal holds that suspend it. Every change is an audit event,
made by a user who logs in with ``--as ID`` (an administrator purges, an investigator puts
and releases holds); a ``--dry-run`` purge and ``case list`` change nothing and need no
login.
"""

from __future__ import annotations

import argparse
import json

from screener.audit.cases import case_holds
from screener.audit.database import create_audit_engine
from screener.audit.log import AuditLog, open_audit_log
from screener.audit.retention import execute_purge, plan_purge
from screener.cli.acting import acting_as, acting_user, add_acting_arguments
from screener.config import Settings
from screener.scan.store import ScanStore
from screener.workflow import holds
from screener.workflow.roles import Action, Guard


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    retention = commands.add_parser("retention", help="delete scan files past their "
                                    "keeping period (never those on legal hold)")
    actions = retention.add_subparsers(dest="action", required=True, metavar="ACTION")
    purge = actions.add_parser("purge", help="delete stored scans first seen more than "
                               "DAYS ago, except held ones; the purge is logged")
    purge.add_argument("--older-than", type=int, required=True, metavar="DAYS")
    purge.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    add_acting_arguments(purge, "the administrator who purges (not needed with --dry-run)",
                         required=False)
    purge.add_argument("--json", action="store_true")
    purge.set_defaults(run=run_purge)

    case = commands.add_parser("case", help="legal holds on scans, by case id")
    case_actions = case.add_subparsers(dest="action", required=True, metavar="ACTION")
    hold = case_actions.add_parser("hold", help="put scans on legal hold under a case")
    hold.add_argument("case")
    hold.add_argument("--scan", action="append", required=True, metavar="SHA256",
                      help="a scan's sha256 (repeat for several)")
    hold.add_argument("--reason", required=True)
    add_acting_arguments(hold, "the investigator who puts the hold")
    hold.set_defaults(run=run_hold)
    release = case_actions.add_parser("release", help="lift a case's legal hold")
    release.add_argument("case")
    release.add_argument("--reason", required=True)
    add_acting_arguments(release, "the investigator who releases the hold")
    release.set_defaults(run=run_release)
    listing = case_actions.add_parser("list", help="open cases and the scans they hold")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_list)


def _station_log(settings: Settings) -> AuditLog:
    return open_audit_log(settings.home, settings.station, url=settings.audit_db or None,
                          checkpoint_every=settings.checkpoint_every)


def run_purge(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    store = ScanStore(settings.scan_store, settings.scan_limits)
    if not args.dry_run:
        acting_user(args, Action.MANAGE_RETENTION)  # before opening anything
    log = _station_log(settings)
    try:
        if args.dry_run:
            plan = plan_purge(log.engine, store, args.older_than)
        else:
            subject = f"purge of scans older than {args.older_than} days"
            with acting_as(log, args, Action.MANAGE_RETENTION, subject=subject) as admin:
                plan = plan_purge(log.engine, store, args.older_than)  # after the login
                if plan.purge:
                    execute_purge(log, store, plan, actor=admin.id, role=admin.role.value)
    finally:
        log.engine.dispose()
    if args.json:
        print(json.dumps({**plan.as_dict(), "dry_run": args.dry_run}, indent=2))
        return 0
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {len(plan.purge)} scan files ({plan.bytes / 1e6:.1f} MB) first seen "
          f"before {plan.cutoff_utc}; {len(plan.held)} kept on legal hold, {plan.kept} "
          "younger")
    return 0


def run_hold(args: argparse.Namespace) -> int:
    log = _station_log(args.settings)
    try:
        with acting_as(log, args, Action.PLACE_HOLD, subject=f"case {args.case}") as who:
            record = holds.place_hold(Guard(log), who.id, who.role, args.case, args.scan,
                                      reason=args.reason)
    finally:
        log.engine.dispose()
    print(f"case {args.case}: {len(set(args.scan))} scans on hold (event seq {record.seq})")
    return 0


def run_release(args: argparse.Namespace) -> int:
    log = _station_log(args.settings)
    try:
        with acting_as(log, args, Action.RELEASE_HOLD, subject=f"case {args.case}") as who:
            record = holds.release_hold(Guard(log), who.id, who.role, args.case,
                                        reason=args.reason)
    finally:
        log.engine.dispose()
    print(f"case {args.case}: hold released (event seq {record.seq})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    engine = create_audit_engine(settings.audit_url, create=False)
    try:
        cases = case_holds(engine)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps({case: sorted(scans) for case, scans in sorted(cases.items())},
                         indent=2))
    else:
        for case, scans in sorted(cases.items()):
            print(f"{case}: {len(scans)} scans on hold")
        if not cases:
            print("no open cases")
    return 0
