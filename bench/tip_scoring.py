"""How fast TIP scoring is: 10,000 trials over 50 operators and 4 categories.

Prints the median of ``--repeats`` runs for: reading the trials back from 10,000
``tip.outcome`` audit events (``trials_from_events``), and scoring them with every split
(``score_trials``), over the whole period and per day. Target (issue item 9): a report
over 50 operators and 10,000 events in at most 10 s; scoring alone well under 1 s.

    .venv/bin/python bench/tip_scoring.py [--trials 10000] [--operators 50] [--repeats 11]
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

import numpy as np
from timing import median_s

from screener.audit.chain import EventRecord
from screener.tip.fti import FtiCategory
from screener.tip.scoring import (
    KIND_TIP_OUTCOME,
    Period,
    ScoringOptions,
    TipTrial,
    score_trials,
    trials_from_events,
)

TARGET_S = 1.0
START = datetime(2025, 1, 6, 6, 0, tzinfo=UTC)


def synthetic_trials(count: int, operators: int, seed: int = 0) -> list[TipTrial]:
    rng = np.random.default_rng(seed)
    categories = list(FtiCategory)
    trials = []
    for i in range(count):
        tip = bool(rng.random() < 0.4)
        suspect = bool(rng.random() < (0.8 if tip else 0.1))
        trials.append(TipTrial(
            operator=f"op-{rng.integers(operators):02d}",
            time=START + timedelta(seconds=30 * i),
            category=categories[rng.integers(len(categories))] if tip else None,
            was_tip=tip, responded_suspect=suspect,
            region_overlapped=tip and suspect and bool(rng.random() < 0.9),
            response_ms=float(rng.lognormal(8.3, 0.4)),
            ai_flagged_fti=[None, True, False][int(rng.integers(3))],
            superposition=float(rng.random()) if tip else None,
            clutter=float(rng.random())))
    return trials


def as_events(trials: list[TipTrial]) -> list[EventRecord]:
    return [EventRecord(station="bench", seq=i + 1,
                        time_utc=t.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), actor=t.operator,
                        role="screener", kind=KIND_TIP_OUTCOME,
                        payload=json.dumps(t.payload(), sort_keys=True), scan_sha256=None,
                        model_sha256=None, prev_hash="0" * 64, hash="0" * 64)
            for i, t in enumerate(trials)]



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    trials = synthetic_trials(args.trials, args.operators)
    events = as_events(trials)
    days = len({t.time.date() for t in trials})
    print(f"{args.trials} trials, {args.operators} operators, 4 categories, {days} days; "
          f"median of {args.repeats} runs")
    read = median_s(lambda: trials_from_events(events), args.repeats, warm_up=True)
    print(f"  trials_from_events               {read * 1000:8.1f} ms")
    for label, options in (("score_trials, period all", ScoringOptions()),
                           ("score_trials, period day", ScoringOptions(period=Period.DAY))):
        cards = len(score_trials(trials, options).cards)
        seconds = median_s(lambda options=options: score_trials(trials, options),
                           args.repeats, warm_up=True)
        verdict = "ok" if seconds <= TARGET_S else "SLOWER THAN TARGET"
        print(f"  {label:32s} {seconds * 1000:8.1f} ms  ({cards} cards; target "
              f"<= {TARGET_S * 1000:.0f} ms: {verdict})")


if __name__ == "__main__":
    main()
