"""``screener simulate``: the screening workflow with simulated screeners, or one scan.

``screener simulate --bags N --operators K [--db URL] [--seed S] [--pool P]`` screens N
simulated bags with K simulated screeners and writes real audit events
(``screener.workflow.simulation``); ``--tip [LIBRARY]`` adds Threat Image Projection at
``--tip-rate MIN MAX``. ``screener simulate bag|cargo ...`` writes one simulated scan file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from screener.audit.log import open_audit_log
from screener.cli.tip_library import BUILT_IN, tip_library
from screener.errors import SimulationError
from screener.scan import ScanStore, write_scan
from screener.sim.generate import simulate_bag, simulate_cargo
from screener.sim.labels import THREAT_CLASSES
from screener.sim.packing import BAG_KINDS
from screener.tip.blind_test import read_blind_test
from screener.tip.library import read_library
from screener.tip.scheduler import TipSettings
from screener.tip.scoring import ScoringOptions, Split, score_trials
from screener.workflow.pool import PoolBag
from screener.workflow.simulation import (
    POOL_LIMIT,
    SimulationPlan,
    SimulationReport,
    run_blind_simulation,
    run_simulation,
)

#: Under the home folder: which stored scan each simulated pool bag's recipe gave.
POOL_INDEX = "simulation-pool"
DEFAULT_TIP_RATE = (0.05, 0.15)

_ROW = "{:<12}{:>9}{:>9}{:>6}{:>6}{:>8}{:>14}{:>16}"
_BLIND_ROW = "{:<12}{:>6}{:>8}{:>5}{:>5}{:>6}{:>7}{:>7}{:>7}{:>7}  {}"
_TIP_ROW = "{:<12}{:>9}{:>6}{:>8}{:>6}{:>6}{:>7}{:>7}{:>7}"


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
    group.add_argument("--tip", nargs="?", const=BUILT_IN, type=Path, metavar="LIBRARY",
                       help="project fictional threats (TIP) from this FTI library; without "
                       "LIBRARY a small simulated one is built once under the home folder")
    group.add_argument("--blind-test", type=Path, metavar="TEST",
                       help="instead of a shift: the K simulated screeners take this blind "
                       "test (built with 'screener blind-test build'); needs --library")
    group.add_argument("--library", type=Path, metavar="LIBRARY",
                       help="the FTI library the blind test was built from")
    group.add_argument("--tip-rate", nargs=2, type=float, default=DEFAULT_TIP_RATE,
                       metavar=("MIN", "MAX"), help="TIP projection rate bounds "
                       f"({DEFAULT_TIP_RATE[0]} {DEFAULT_TIP_RATE[1]})")


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
    if args.blind_test is not None:
        return run_blind_test_simulation(args)
    if args.bags is None:
        raise SimulationError("'screener simulate' needs --bags N (and --operators K) to "
                              "run the screening workflow, or WHAT: bag or cargo")
    settings = args.settings
    library = None if args.tip is None else tip_library(args.tip, settings.home)
    tip_settings = None if library is None else TipSettings(
        args.tip_rate[0], args.tip_rate[1],
        {category: 1.0 for category in library.by_category()}, version=1)
    plan = SimulationPlan(args.bags, args.operators, args.workflow_seed, args.pool,
                          args.threat_fraction, simulated_ai=not args.no_ai,
                          tip_settings=tip_settings)
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
                                    tip_library=library, on_pool_bag=pool_progress,
                                    on_screened=screen_progress)
    finally:
        log.engine.dispose()
    print(summary(report, log.where, log.station, store.root))
    return 0


def run_blind_test_simulation(args: argparse.Namespace) -> int:
    if args.library is None:
        raise SimulationError("--blind-test needs --library, the FTI library the test was "
                              "built from")
    if args.bags is not None or args.tip is not None:
        raise SimulationError("--blind-test runs the test's own images: leave out --bags "
                              "and --tip")
    test = read_blind_test(args.blind_test)
    library = read_library(args.library)
    settings = args.settings
    store = ScanStore(settings.scan_store, settings.scan_limits)
    log = open_audit_log(settings.home, settings.station,
                         url=args.db or settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    try:
        with tqdm(total=len(test.trials) * args.operators, unit="image",
                  desc="blind test", disable=None) as bar:

            def answered(_: int) -> None:
                bar.update()

            runs = run_blind_simulation(log, store, library, test, args.operators,
                                        args.workflow_seed, on_trial=answered)
    finally:
        log.engine.dispose()
    spec = test.spec
    print(f"blind test {test.test_id[:12]} '{spec.name}': {len(test.trials)} images, "
          f"{spec.tip_trials} with a fictional threat, time limit {spec.time_limit_s:g} s, "
          f"pass at d' >= {spec.pass_d_prime:g} and A' >= {spec.pass_a_prime:g}; results "
          f"logged to {log.where}")
    print(_BLIND_ROW.format("trainee", "hits", "misses", "FA", "CR", "late", "H", "F", "d'",
                            "A'", "verdict"))
    for run in runs:
        r = run.result
        print(_BLIND_ROW.format(r.trainee, r.hits, r.misses, r.false_alarms,
                                r.correct_rejections, r.timeouts, f"{r.hit_rate:.2f}",
                                f"{r.false_alarm_rate:.2f}", f"{r.d_prime:.2f}",
                                f"{r.a_prime:.2f}", "PASSED" if r.passed else "NOT PASSED"))
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
    if plan.tip_settings is not None:
        lines += tip_summary(report)
    return "\n".join(lines)


def tip_summary(report: SimulationReport) -> list[str]:
    """Each simulated screener's TIP scores (tip.outcome events of this run)."""
    trials = [trial for op in report.operators for trial in op.tip_trials]
    scored = score_trials(trials, ScoringOptions(splits=(Split.NONE,)))
    lines = ["TIP (fictional threats projected; scores from this run's tip.outcome events):",
             _TIP_ROW.format("operator", "TIP bags", "hits", "misses", "FA", "CR", "H", "F",
                             "d'")]
    for op in report.operators:
        card = scored.card(op.profile.operator_id)
        if card is None:
            continue
        lines.append(_TIP_ROW.format(card.operator, card.tip_trials, card.hits, card.misses,
                                     card.false_alarms, card.correct_rejections,
                                     _fixed(card.hit_rate), _fixed(card.false_alarm_rate),
                                     _fixed(card.d_prime)))
    return lines


def _fixed(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"
