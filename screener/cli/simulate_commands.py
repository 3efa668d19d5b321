"""``screener simulate bag|cargo``: one simulated scan, with chosen contents."""

from __future__ import annotations

import argparse
from pathlib import Path

from screener.scan import write_scan
from screener.sim.generate import simulate_bag, simulate_cargo
from screener.sim.labels import THREAT_CLASSES
from screener.sim.packing import BAG_KINDS


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    simulate = commands.add_parser("simulate", help="simulate one bag or cargo scan")
    kinds = simulate.add_subparsers(dest="what", required=True, metavar="WHAT")
    for name in ("bag", "cargo"):
        sub = kinds.add_parser(name, help=f"simulate one {name} scan")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--out", type=Path, required=True, help="scan file to write (.h5)")
        sub.add_argument("--threat", action="append", default=[], metavar="CLASS",
                         choices=sorted(THREAT_CLASSES), help="add a threat (repeatable)")
        if name == "bag":
            sub.add_argument("--kind", choices=BAG_KINDS, help="bag kind (random if omitted)")
        sub.set_defaults(run=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    if args.what == "bag":
        sim = simulate_bag(args.seed, args.kind, args.threat,
                           station=args.settings.station, lane=args.settings.lane)
    else:
        sim = simulate_cargo(args.seed, args.threat,
                             station=args.settings.station, lane=args.settings.lane)
    write_scan(args.out, sim.scan, sim.truth)
    print(f"wrote {args.out} ({sim.scan.metadata.bag_id})")
    return 0
