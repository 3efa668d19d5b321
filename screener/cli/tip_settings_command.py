"""``screener tip settings show|set``: the site's TIP projection settings, kept in the
audit chain (``screener.workflow.tip_settings``). Changing them is a supervisor's
action: ``--as ID`` logs the supervisor in."""

from __future__ import annotations

import argparse
import json

from screener.audit.database import create_audit_engine, sqlite_path
from screener.audit.log import open_audit_log
from screener.cli.acting import acting_as, add_acting_arguments
from screener.cli.tip_options import parse_weights
from screener.config import Settings
from screener.tip.scheduler import TipSettings
from screener.workflow.roles import Action
from screener.workflow.tip_settings import DEFAULT_SETTINGS, change_settings, current_settings


def register_settings(tip_commands: argparse._SubParsersAction[argparse.ArgumentParser]
                      ) -> None:
    settings = tip_commands.add_parser("settings", help="show or change the TIP rates and "
                                       "category weights (a supervisor's change, logged)")
    settings.add_argument("--db", metavar="URL", help="audit database (default: the station's)")
    actions = settings.add_subparsers(dest="settings_action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="the settings in force")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=run_show)
    change = actions.add_parser("set", help="new settings, in force from each station's "
                                "next bag")
    change.add_argument("--min-rate", type=float, required=True, metavar="R")
    change.add_argument("--max-rate", type=float, required=True, metavar="R")
    change.add_argument("--weights", default="gun=1,knife=1,ied=1", metavar="CAT=W,...",
                        help="projections per category, relative (gun=1,knife=1,ied=1)")
    add_acting_arguments(change, "the supervisor making the change")
    change.set_defaults(run=run_set)


def run_show(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    url = args.db or settings.audit_url
    local = sqlite_path(url)
    current = None
    if local is None or local.exists():  # a station with no log yet has set nothing
        engine = create_audit_engine(url, create=False)
        try:
            current = current_settings(engine)
        finally:
            engine.dispose()
    shown = current or DEFAULT_SETTINGS
    if args.json:
        print(json.dumps({**shown.as_dict(), "default": current is None}, indent=1))
        return 0
    print(describe(shown) + ("  (built-in default: no supervisor has set them)"
                             if current is None else ""))
    return 0


def describe(settings: TipSettings) -> str:
    weights = ", ".join(f"{c.value} {share:.0%}" for c, share in settings.probabilities.items()
                        if share > 0)
    return (f"TIP settings version {settings.version}: {settings.min_rate:.1%} to "
            f"{settings.max_rate:.1%} of each screener's bags; categories {weights}")


def run_set(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    log = open_audit_log(settings.home, settings.station,
                         url=args.db or settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    try:
        with acting_as(log, args, Action.CHANGE_TIP_SETTINGS,
                       subject="TIP settings") as supervisor:
            saved = change_settings(log, supervisor, min_rate=args.min_rate,
                                    max_rate=args.max_rate,
                                    weights=parse_weights(args.weights))
    finally:
        log.close("TIP settings changed")
    print(f"saved {describe(saved)}")
    return 0
