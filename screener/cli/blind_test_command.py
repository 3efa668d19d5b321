"""``screener blind-test build|results|certificate``: blind tests for trainers
(docs/tip-blind-tests.md). A test is taken in the workstation's trainer view, or by
simulated trainees with ``screener simulate --blind-test TEST --library LIB``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from screener.audit.chain import EventRecord
from screener.audit.database import create_audit_engine
from screener.audit.keys import display_fingerprint, key_path, load_key
from screener.cli.tip_options import parse_weights
from screener.config import Settings
from screener.errors import ScreenerError
from screener.scan import ScanStore
from screener.tip.blind_test import BlindTestSpec, build_blind_test, write_blind_test
from screener.tip.certificate import write_certificate
from screener.tip.library import read_library
from screener.workflow.blind_tests import results
from screener.workflow.pool import POOL_INDEX, build_pool, pool_recipes


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    blind = commands.add_parser("blind-test", help="build blind tests, read their results, "
                                "write certificates")
    actions = blind.add_subparsers(dest="blind_action", required=True, metavar="ACTION")

    build = actions.add_parser("build", help="build a test from an FTI library and bags")
    build.add_argument("--library", type=Path, required=True, help="FTI library (.h5)")
    pool = build.add_mutually_exclusive_group(required=True)
    pool.add_argument("--bags", type=Path, metavar="DIR",
                      help="folder of scan files (.h5) to draw the bags from")
    pool.add_argument("--simulated-bags", type=int, metavar="N",
                      help="draw from N simulated bags without threats")
    build.add_argument("--name", required=True, help="the test's name, on certificates")
    build.add_argument("--trials", type=int, default=100, help="images in the test (100)")
    build.add_argument("--prevalence", type=float, default=0.5,
                       help="share of images with a fictional threat (0.5)")
    build.add_argument("--weights", default="gun=1,knife=1,ied=1", metavar="CAT=W,...",
                       help="category balance (gun=1,knife=1,ied=1)")
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--time-limit", type=float, default=15.0, metavar="SECONDS",
                       help="time per image; unanswered images count as cleared (15)")
    build.add_argument("--pass-d-prime", type=float, default=2.0, help="pass mark for d' (2.0)")
    build.add_argument("--pass-a-prime", type=float, default=0.85,
                       help="pass mark for A' (0.85); both must be met")
    build.add_argument("--out", type=Path, required=True, help="test file to write (.json)")
    build.set_defaults(run=run_build)

    listing = actions.add_parser("results", help="recorded results (from the audit log)")
    _add_result_filters(listing)
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_results)

    certificate = actions.add_parser("certificate", help="write certificates (HTML) of "
                                     "recorded results")
    _add_result_filters(certificate)
    certificate.add_argument("--out", type=Path, required=True, help="folder to write into")
    certificate.set_defaults(run=run_certificate)


def _add_result_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="URL", help="audit database (default: the station's)")
    parser.add_argument("--test", metavar="ID", help="a test id (or its first characters)")
    parser.add_argument("--trainee", metavar="ID")


def run_build(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    spec = BlindTestSpec(args.name, args.trials, args.prevalence, parse_weights(args.weights),
                         args.seed, args.time_limit, args.pass_d_prime, args.pass_a_prime)
    library = read_library(args.library)
    store = ScanStore(settings.scan_store, settings.scan_limits)
    if args.bags is not None:
        files = sorted(args.bags.glob("*.h5")) if args.bags.is_dir() else []
        if not files:
            raise ScreenerError(f"--bags {args.bags}: no .h5 scan files there")
        pool = [store.add(path) for path in files]
    else:
        recipes = pool_recipes(args.seed, args.simulated_bags, 0.0, station=settings.station,
                               lane=settings.lane)
        pool = [bag.scan_sha256 for bag in build_pool(store, recipes,
                                                      index=settings.home / POOL_INDEX)]
    test = build_blind_test(spec, library, store, pool)
    write_blind_test(args.out, test)
    tips = sum(t.is_tip for t in test.trials)
    print(f"wrote {args.out}: blind test {test.test_id[:12]} '{spec.name}', {spec.trials} "
          f"images ({tips} with a fictional threat) from {len(set(pool))} bags, "
          f"time limit {spec.time_limit_s:g} s, pass at d' >= {spec.pass_d_prime:g} and "
          f"A' >= {spec.pass_a_prime:g}")
    return 0


def _recorded(args: argparse.Namespace) -> tuple[list[tuple[dict[str, object], EventRecord]], str]:
    settings: Settings = args.settings
    url = args.db or settings.audit_url
    engine = create_audit_engine(url, create=False)
    try:
        found = results(engine, test_id=args.test, trainee=args.trainee)
    finally:
        engine.dispose()
    return [(r.payload, r.event) for r in found], url


def run_results(args: argparse.Namespace) -> int:
    found, url = _recorded(args)
    if args.json:
        print(json.dumps([payload for payload, _ in found], indent=1))
        return 0
    if not found:
        print(f"no blind test results in {url}")
        return 0
    print("{:<14}{:<14}{:>7}{:>7}{:>7}{:>8}{:>7}  {}".format(
        "trainee", "test", "images", "H", "F", "d'", "A'", "verdict"))
    for payload, _ in found:
        print(f"{payload['trainee']!s:<14}{str(payload['test_id'])[:12]:<14}"
              f"{payload['trials']!s:>7}{payload['hit_rate']:>7.2f}"
              f"{payload['false_alarm_rate']:>7.2f}{payload['d_prime']:>8.2f}"
              f"{payload['a_prime']:>7.2f}  {'PASSED' if payload['passed'] else 'NOT PASSED'}")
    return 0


def run_certificate(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    found, url = _recorded(args)
    if not found:
        raise ScreenerError(f"no blind test result in {url} matches --test/--trainee")
    for payload, event in found:
        path = write_certificate(args.out, payload, event, _station_key(settings,
                                                                        event.station))
        print(f"wrote {path}")
    return 0


def _station_key(settings: Settings, station: str) -> str | None:
    """The station key's fingerprint when this machine holds it (the station's own)."""
    try:
        return display_fingerprint(load_key(key_path(settings.home, station)).fingerprint)
    except ScreenerError:
        return None
