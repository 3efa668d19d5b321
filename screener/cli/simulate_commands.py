"""``screener simulate``: the screening workflow with simulated screeners, or one scan.

``screener simulate --bags N --operators K [--db URL] [--seed S] [--pool P]`` screens N
simulated bags with K simulated screeners and writes real audit events
(``screener.workflow.simulation``); ``screener simulate bag|cargo ...`` writes one
simulated scan file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from screener.audit.log import open_audit_log
from screener.errors import SimulationError
from screener.scan import ScanStore, write_scan
from screener.sim.generate import simulate_bag, simulate_cargo
from screener.sim.labels import THREAT_CLASSES
from screener.sim.packing import BAG_KINDS
from screener.workflow.pool import PoolBag
from screener.workflow.simulation import (
    POOL_LIMIT,
    SimulationPlan,
    SimulationReport,
    run_simulation,
)

#: Under the home folder: which stored scan each simulated pool bag's recipe gave.
POOL_INDEX = "simulation-pool"

_ROW = "{:<12}{:>9}{:>9}{:>6}{:>6}{:>8}{:>14}{:>16}"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    simulate = commands.add_parser(
        "simulate", help="screen simulated bags with simulated screeners (audit events), "
        "or simulate one bag or cargo scan",
        description="Without WHAT: run the screening workflow on simulated bags with "
        "simulated screeners, writing real audit events. With WHAT: write one scan file.")
    _add_workflow_options(simulate)
    simulate.set_defaults(run=run_simulate)
    kinds = simulate.add_subparsers(dest="what", required=False, metavar="[WHAT]")
    for name in ("bag", "cargo"):
        sub = kinds.add_parser(name, help=f"simulate one {name} scan")
        sub.add_argument("--seed", type=int, default=0)
        sub.add_argument("--out", type=Path, required=True, help="scan file to write (.h5)")
        sub.add_argument("--threat", action="append", default=[], metavar="CLASS",
                         choices=sorted(THREAT_CLASSES), help="add a threat (repeatable)")
        if name == "bag":
            sub.add_argument("--kind", choices=BAG_KINDS, help="bag kind (random if omitted)")


def _add_workflow_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("screening workflow (without WHAT)")
    group.add_argument("--bags", type=int, metavar="N", help="bags to screen")
    group.add_argument("--operators", type=int, default=1, metavar="K",
                       help="simulated screeners taking turns (1)")
    group.add_argument("--db", metavar="URL", help="audit database URL (default: the "
                       "station's audit database)")
    group.add_argument("--seed", dest="workflow_seed", type=int, default=0, metavar="S",
                       help="random seed: same seed, same bags and decisions (0)")
    group.add_argument("--pool", type=int, metavar="P", help="distinct bags to simulate; more bags "
                       f"are drawn from them with replacement (min(bags, {POOL_LIMIT}))")
    group.add_argument("--threat-fraction", type=float, default=0.3, metavar="F",
                       help="share of pool bags holding a threat (0.3)")
    group.add_argument("--no-ai", action="store_true",
                       help="no simulated AI: every ai.result is 'unavailable'")


def run_simulate(args: argparse.Namespace) -> int:
    if args.what is None:
        return run_workflow(args)
    if args.bags is not None:
        raise SimulationError(f"--bags runs the screening workflow; leave it out of "
                              f"'screener simulate {args.what}'")
    if args.what == "bag":
        sim = simulate_bag(args.seed, args.kind, args.threat,
                           station=args.settings.station, lane=args.settings.lane)
    else:
        sim = simulate_cargo(args.seed, args.threat,
                             station=args.settings.station, lane=args.settings.lane)
    write_scan(args.out, sim.scan, sim.truth)
    print(f"wrote {args.out} ({sim.scan.metadata.bag_id})")
    return 0


def run_workflow(args: argparse.Namespace) -> int:
    if args.bags is None:
        raise SimulationError("'screener simulate' needs --bags N (and --operators K) to "
                              "run the screening workflow, or WHAT: bag or cargo")
    plan = SimulationPlan(args.bags, args.operators, args.workflow_seed, args.pool,
                          args.threat_fraction, simulated_ai=not args.no_ai)
    settings = args.settings
    store = ScanStore(settings.scan_store, settings.scan_limits)
    log = open_audit_log(settings.home, settings.station,
                         url=args.db or settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    try:
        with tqdm(total=plan.pool_size, unit="bag", desc="simulating pool",
                  disable=None) as pool_bar, \
                tqdm(total=plan.bags, unit="bag", desc="screening", disable=None) as bar:

            def pool_progress(bag: PoolBag) -> None:
                pool_bar.set_postfix_str(bag.bag_id)
                pool_bar.update()

            def screen_progress(operator: str) -> None:
                bar.set_postfix_str(operator)
                bar.update()

            report = run_simulation(log, store, plan, lane=settings.lane,
                                    pool_index=settings.home / POOL_INDEX,
                                    on_pool_bag=pool_progress, on_screened=screen_progress)
    finally:
        log.engine.dispose()
    print(summary(report, log.where, log.station, store.root))
    return 0


def summary(report: SimulationReport, where: str, station: str, store: Path) -> str:
    plan = report.plan
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(report.events.items()))
    threat_bags = sum(bag.percept.has_threat for bag in report.pool)
    lines = [
        f"screened {plan.bags} bags with {plan.operators} simulated screener(s) in "
        f"{report.elapsed_s:.1f} s (seed {plan.seed}); pool of {len(report.pool)} "
        f"distinct bags ({threat_bags} with threats) in {store}",
        f"audit: {sum(report.events.values())} events written to {where}, station "
        f"{station} ({kinds})",
        _ROW.format("operator", "model d'", "model FA", "bags", "hits", "misses",
                    "false alarms", "correct clears"),
    ]
    for op in report.operators:
        t, p = op.tally, op.profile
        lines.append(_ROW.format(p.operator_id, f"{p.sensitivity:.2f}",
                                 f"{p.false_alarm_rate:.1%}", t.bags, t.hits, t.misses,
                                 t.false_alarms, t.correct_clears))
    return "\n".join(lines)
