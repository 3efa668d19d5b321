"""How fast the supervisor's TIP report is: 50 operators, 10,000 ``tip.outcome`` events.

Builds an audit database once (SQLite, ``--stations`` stations, each a valid chain: the
station's own genesis event, the events written with their hash links in one transaction,
then a signed checkpoint over the head; ``--verify`` checks it with the audit verifier).
The events span ``--weeks`` weeks; operators differ in sensitivity, bias and workload,
so some have fewer than 100 TIP trials. Then times the whole ``screener tip report``
command (``--repeats`` runs after one warm-up; the median) and each stage apart: reading
the events, scoring, the CSV files, drawing and saving the charts, the PDF.
The command also runs once as a new process, which adds Python's start and the imports
(matplotlib among them). Target (issue 6 item 9): the whole report in at most 10 s on
2 cores.

    .venv/bin/python bench/tip_report.py [--events 10000] [--operators 50] [--repeats 5]
        [--keep DIR]   # keep the database and the last report there
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
from sqlalchemy import insert
from timing import median_s

from screener.audit.canonical import canonical_text
from screener.audit.chain import event_hash
from screener.audit.database import create_audit_engine
from screener.audit.log import open_audit_log
from screener.audit.schema import Event
from screener.audit.verify import verify_database
from screener.cli import main as screener_main
from screener.tip.fti import FtiCategory
from screener.tip.report import (
    ReportFilters,
    build_report,
    read_report_data,
    write_csv_files,
)
from screener.tip.report_charts import chart_plan
from screener.tip.report_files import save_chart
from screener.tip.report_pdf import write_pdf
from screener.tip.scoring import KIND_TIP_OUTCOME, TipTrial

TARGET_S = 10.0
START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday
PHI = NormalDist().cdf


def synthetic_trials(count: int, operators: int, weeks: int, seed: int = 0) -> list[TipTrial]:
    """Trials of simulated screeners: each has a sensitivity d', a bias c and a share of
    the bags; superposition and clutter lower d', the AI flagging the FTI raises it."""
    rng = np.random.default_rng(seed)
    names = [f"op-{i:02d}" for i in range(operators)]
    sensitivity = rng.normal(2.0, 0.5, operators).clip(0.3, 3.5)
    bias = rng.normal(0.25, 0.3, operators)
    share = rng.lognormal(0.0, 0.6, operators)
    share /= share.sum()
    categories = list(FtiCategory)
    hardness = {FtiCategory.GUN: 0.0, FtiCategory.KNIFE: 0.3, FtiCategory.IED: 0.6,
                FtiCategory.OTHER: 0.4}
    seconds = np.sort(rng.uniform(0, weeks * 7 * 86400, count))
    trials = []
    for i in range(count):
        op = int(rng.choice(operators, p=share))
        tip = bool(rng.random() < 0.4)
        clutter = float(rng.beta(2, 3))
        available = rng.random() < 0.9
        if tip:
            category = categories[int(rng.integers(len(categories)))]
            superposition = float(rng.beta(2, 2.5))
            ai = bool(available and rng.random() < 0.7)
            d = sensitivity[op] * (1 - 0.5 * superposition - 0.3 * clutter) \
                - hardness[category] + (0.6 if ai else 0.0)
            suspect = bool(rng.random() < PHI(d / 2 - bias[op]))
            marked = suspect and bool(rng.random() < 0.92)
        else:
            category, superposition, marked = None, None, False
            ai = bool(available and rng.random() < 0.15)
            suspect = bool(rng.random() < PHI(-sensitivity[op] / 2 - bias[op]
                                              + 0.4 * clutter))
        trials.append(TipTrial(
            operator=names[op], time=START + timedelta(seconds=float(seconds[i])),
            category=category, was_tip=tip, responded_suspect=suspect,
            region_overlapped=marked, response_ms=float(rng.lognormal(8.2, 0.45)),
            ai_flagged_fti=ai if available else None, superposition=superposition,
            clutter=clutter))
    return trials


def build_database(home: Path, trials: list[TipTrial], stations: int, seed: int = 1) -> str:
    """The trials as tip.outcome events spread over ``stations`` chains; returns the URL.

    Appending 10,000 events one transaction each (``synchronous=FULL``) takes minutes, so
    the rows are written here as ``AuditLog`` would write them, hash-linked to the
    station's genesis, in one transaction per station; a checkpoint signs each head."""
    rng = np.random.default_rng(seed)
    where = rng.integers(stations, size=len(trials))
    url = ""
    for number in range(stations):
        log = open_audit_log(home, f"lane-{number + 1}", checkpoint_every=100)
        url = str(log.engine.url)
        head = log.head()
        assert head is not None
        prev, seq, rows = head.hash, head.seq, []
        for trial in (t for t, s in zip(trials, where, strict=True) if s == number):
            seq += 1
            fields: dict[str, Any] = {
                "station": log.station, "seq": seq,
                "time_utc": trial.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "actor": trial.operator, "role": "screener", "kind": KIND_TIP_OUTCOME,
                "payload": canonical_text(trial.payload()), "scan_sha256": None,
                "model_sha256": None}
            digest = event_hash(prev, fields)
            rows.append({**fields, "prev_hash": prev, "hash": digest})
            prev = digest
        with log.engine.begin() as conn:
            conn.execute(insert(Event), rows)
        log.close("bench data written")
    return url



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--verify", action="store_true", help="verify the chains once")
    parser.add_argument("--keep", type=Path, help="build the database and report here")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        root = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        home, out = root / "home", root / "report"
        start = time.perf_counter()
        trials = synthetic_trials(args.events, args.operators, args.weeks)
        url = build_database(home, trials, args.stations)
        print(f"database: {args.events} tip.outcome events, {args.operators} operators, "
              f"{args.stations} stations, {args.weeks} weeks, built in "
              f"{time.perf_counter() - start:.1f} s ({url})")
        if args.verify:
            engine = create_audit_engine(url, create=False)
            reports = verify_database(engine)
            engine.dispose()
            print(f"chains verified: {all(r.ok for r in reports)} "
                  f"({', '.join(f'{r.station} {r.events}' for r in reports)})")

        command = ["--home", str(home), "tip", "report", "--db", url, "--out", str(out)]

        def whole() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                assert screener_main(command) == 0

        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "screener", *command], check=True,
                       capture_output=True)
        process = time.perf_counter() - start
        first = median_s(whole, 1)
        total = median_s(whole, args.repeats)
        verdict = "ok" if total <= TARGET_S else "SLOWER THAN TARGET"
        print(f"whole report (screener tip report): median {total:.2f} s of "
              f"{args.repeats} runs in this process, first run {first:.2f} s; as a new "
              f"process (Python start and imports too) {process:.2f} s; target <= "
              f"{TARGET_S:.0f} s: {verdict}")

        filters = ReportFilters()
        engine = create_audit_engine(url, create=False)
        stack.callback(engine.dispose)
        data = read_report_data(engine, filters)
        report = build_report(data, filters)
        plans = chart_plan(report)
        figures = [save_chart(plan, out)[1] for plan in plans]

        def charts() -> None:
            for plan in plans:
                save_chart(plan, out)

        stages = [
            ("read events", lambda: read_report_data(engine, filters)),
            ("score", lambda: build_report(data, filters)),
            ("CSV files", lambda: write_csv_files(report, out)),
            (f"charts ({len(plans)} PNG)", charts),
            ("PDF", lambda: write_pdf(out / "bench.pdf", report, figures)),
        ]
        print(f"stages, median of {args.repeats} runs:")
        for label, work in stages:
            print(f"  {label:24s} {median_s(work, args.repeats) * 1000:8.0f} ms")
        thin = sum(s.insufficient_data for s in report.summaries())
        print(f"report: {report.trials} trials, {report.tip_trials} TIP, "
              f"{len(report.operators)} operators ({thin} with insufficient data), "
              f"{len(report.by_period.cards) + len(report.overall.cards)} cards, "
              f"{len(report.periods)} periods")


if __name__ == "__main__":
    main()
