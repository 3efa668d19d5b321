"""``screener audit search``: the investigator's event search (the workstation's
investigator view runs the same query: :func:`screener.audit.query.search_events`)."""

from __future__ import annotations

import argparse
import json

from screener.audit.database import create_audit_engine
from screener.audit.query import EventSearch, search_events
from screener.config import Settings


def register_search(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    search = actions.add_parser(
        "search", help="find events by time, operator, station, kind, decision or scan "
        "(every station of the database, newest first)")
    search.add_argument("--db", help="database URL (default: the station's audit database)")
    search.add_argument("--from", dest="since", metavar="TIME",
                        help="from this UTC time or day (ISO 8601, e.g. 2026-03-01)")
    search.add_argument("--to", dest="before", metavar="TIME",
                        help="before this UTC time or day (ISO 8601)")
    search.add_argument("--actor", metavar="ID", help="who acted (an operator id, 'system')")
    search.add_argument("--station", metavar="NAME")
    search.add_argument("--kind", action="append", default=[], metavar="KIND",
                        help="event kind, e.g. screening.decision (repeatable)")
    search.add_argument("--decision", choices=("clear", "suspect"))
    search.add_argument("--scan", metavar="SHA256", help="a scan's sha256 or its first 6+ "
                        "hex digits")
    search.add_argument("--limit", type=int, default=200, help="at most this many (200)")
    search.add_argument("--json", action="store_true", help="print JSON lines")
    search.set_defaults(run=run_search)


def run_search(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    query = EventSearch(since=args.since, before=args.before, actor=args.actor,
                        station=args.station, kinds=tuple(args.kind),
                        scan_sha256=None if args.scan is None else args.scan.lower(),
                        decision=args.decision, limit=args.limit)
    engine = create_audit_engine(args.db or settings.audit_url, create=False)
    try:
        found = search_events(engine, query)
    finally:
        engine.dispose()
    if args.json:
        for event in found:
            print(json.dumps(event.as_dict(), sort_keys=True))
        return 0
    print(f"{len(found)} event(s), newest first")
    for event in found:
        scan = (event.scan_sha256 or "")[:12]
        print(f"{event.time_utc[:19].replace('T', ' ')}  {event.station}#{event.seq:<6} "
              f"{event.kind:<22} {event.actor:<14} {scan:<12} {event.payload[:60]}")
    return 0
