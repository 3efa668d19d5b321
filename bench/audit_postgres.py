"""Benchmark: the audit log of a multi-station site on PostgreSQL (issue 8).

1. **Appends.** ``--stations`` processes (default 8), one station each, append
   ``--appends`` events each (default 1,000) at the same moment. Every append is the real
   :meth:`AuditLog.append`: its own transaction, committed with ``synchronous_commit`` on
   (checked), so each one that returned is durable. Figure: all appends / wall time from
   the common start to the last station's end, and the latency of one append.
2. **Verification.** ``--events`` events (default 1,000,000) in valid chains spread over
   the stations (signed checkpoints every 100 events, one signed site checkpoint), written
   with COPY; then the real verifier (:func:`screener.audit.verify.verify_site`, as
   ``screener audit verify`` runs it) is timed.

Each run uses a new schema, dropped afterwards. Figures are medians over ``--repeat``
runs. Not a test; prints figures only::

    .venv/bin/python bench/audit_postgres.py [--url URL] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from screener.audit.canonical import canonical_text
from screener.audit.chain import (
    GENESIS_PREV_HASH,
    KIND_GENESIS,
    checkpoint_message,
    row_hash,
)
from screener.audit.database import create_audit_engine
from screener.audit.keys import StationKey
from screener.audit.log import open_audit_log
from screener.audit.site import make_site_checkpoint
from screener.audit.verify import verify_site

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
EVENT_COLUMNS = ("station", "seq", "time_utc", "actor", "role", "kind", "payload",
                 "scan_sha256", "model_sha256", "prev_hash", "hash")
CHECKPOINT_COLUMNS = ("station", "seq", "genesis_hash", "time_utc", "head_hash", "reason",
                      "key_fingerprint", "signature")


@contextmanager
def fresh_schema(url: str):
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


# ---------------------------------------------------------------------- appends
def _station(url, home, station, count, ready, start, results):
    log = open_audit_log(Path(home), station, url=url)  # genesis before the clock starts
    with log.engine.connect() as conn:
        assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"
    ready.wait()
    start.wait()
    begin = time.monotonic()
    latencies = []
    for i in range(count):
        t0 = time.perf_counter()
        log.append("screening.decision", {"bag": f"BAG-{i:06d}", "decision": "clear",
                                          "score": 0.125, "lane": station},
                   actor=f"op-{i % 7}", role="screener", scan_sha256=f"{i:064x}")
        latencies.append(time.perf_counter() - t0)
    end = time.monotonic()
    log.close("bench done")
    results.put((begin, end, latencies))


def bench_appends(url: str, stations: int, count: int) -> tuple[float, list[float]]:
    ctx = mp.get_context("spawn")
    ready, start, results = ctx.Barrier(stations + 1), ctx.Event(), ctx.Queue()
    with tempfile.TemporaryDirectory() as home:
        procs = [ctx.Process(target=_station, args=(url, f"{home}/{i}", f"lane-{i + 1}",
                                                    count, ready, start, results))
                 for i in range(stations)]
        for proc in procs:
            proc.start()
        ready.wait()
        start.set()
        done = [results.get(timeout=600) for _ in procs]
        for proc in procs:
            proc.join()
            assert proc.exitcode == 0, proc.exitcode
    engine = create_audit_engine(url, create=False)
    check = verify_site(engine)
    engine.dispose()
    assert check.ok and all(r.events == count + 1 for r in check.stations), "chains broken"
    wall = max(end for _, end, _ in done) - min(begin for begin, _, _ in done)
    return stations * count / wall, [lat for _, _, lats in done for lat in lats]


# ---------------------------------------------------------------------- verification
def _chain(station: str, events: int, seed: int):
    """A valid chain as AuditLog writes it: rows and signed checkpoints (every 100)."""
    key = StationKey.generate()
    t0 = datetime(2026, 1, 5, 6, 0, tzinfo=UTC) + timedelta(seconds=seed)
    rows, checkpoints = [], []
    prev = GENESIS_PREV_HASH
    genesis_hash = ""
    for seq in range(1, events + 1):
        when = (t0 + timedelta(milliseconds=750 * seq)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if seq == 1:
            kind, actor, role, scan = KIND_GENESIS, "system", "system", None
            payload = canonical_text({"public_key": key.public_hex,
                                      "fingerprint": key.fingerprint,
                                      "screener_version": "bench"})
        else:
            kind, actor, role = "screening.decision", f"op-{seq % 7}", "screener"
            scan = hashlib.sha256(f"{station}/{seq}".encode()).hexdigest()
            payload = canonical_text({"bag": f"BAG-{seq:07d}", "decision": "clear",
                                      "score": round((seq % 97) / 97, 4), "lane": station,
                                      "ai": {"flags": seq % 3, "model": "yolo11n"}})
        digest = row_hash(station, seq, when, actor, role, kind, payload, scan, None, prev)
        rows.append((station, seq, when, actor, role, kind, payload, scan, None, prev, digest))
        if seq == 1:
            genesis_hash = digest
        if seq == 1 or seq % 100 == 0:
            fields = {"station": station, "genesis_hash": genesis_hash, "seq": seq,
                      "time_utc": when, "head_hash": digest,
                      "reason": "chain created" if seq == 1 else "every 100 events",
                      "key_fingerprint": key.fingerprint}
            checkpoints.append((station, seq, genesis_hash, when, digest, fields["reason"],
                                key.fingerprint, key.sign(checkpoint_message(fields))))
        prev = digest
    return rows, checkpoints


def _generate(args):
    return _chain(*args)


def load_events(url: str, stations: int, total: int) -> float:
    """Write ``total`` events in valid chains over ``stations`` with COPY; seconds taken."""
    began = time.monotonic()
    engine = create_audit_engine(url, create=True)
    sizes = [total // stations + (1 if i < total % stations else 0) for i in range(stations)]
    with mp.get_context("spawn").Pool() as pool:
        chains = pool.imap(_generate, [(f"lane-{i + 1}", n, i) for i, n in enumerate(sizes)])
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for rows, checkpoints in chains:
                with cursor.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
                                 ) as copy:  # fmt: skip
                    for row in rows:
                        copy.write_row(row)
                with cursor.copy(f"COPY checkpoints ({', '.join(CHECKPOINT_COLUMNS)}) "
                                 "FROM STDIN") as copy:
                    for row in checkpoints:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE events")
        conn.exec_driver_sql("ANALYZE checkpoints")
    make_site_checkpoint(engine, StationKey.generate())
    engine.dispose()
    return time.monotonic() - began


def time_verify(url: str, total: int) -> float:
    engine = create_audit_engine(url, create=False)
    began = time.monotonic()
    result = verify_site(engine)
    took = time.monotonic() - began
    engine.dispose()
    events = sum(r.events for r in result.stations)
    assert result.ok and events == total, (result.ok, events)
    assert result.site.checkpoints == 1
    return took


# ---------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL SQLAlchemy URL "
                        "(a new schema is made in it and dropped)")
    parser.add_argument("--stations", type=int, default=8)
    parser.add_argument("--appends", type=int, default=1000, help="events per station")
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="events in the database verified")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-appends", action="store_true")
    parser.add_argument("--skip-verify", action="store_true")
    args = parser.parse_args()
    print(f"PostgreSQL at {args.url.split('@')[-1]}; {args.stations} stations; "
          f"{args.repeat} runs each; Python {sys.version.split()[0]}")
    if not args.skip_appends:
        rates, latencies = [], []
        for run in range(args.repeat):
            with fresh_schema(args.url) as url:
                create_audit_engine(url, create=True).dispose()
                rate, lats = bench_appends(url, args.stations, args.appends)
            rates.append(rate)
            latencies += lats
            print(f"  appends run {run + 1}: {rate:,.0f} appends/s")
        latencies.sort()
        print(f"appends: {args.stations} stations x {args.appends} durable appends: median "
              f"{statistics.median(rates):,.0f} appends/s in total (runs: "
              f"{', '.join(f'{r:,.0f}' for r in rates)}); one append: median "
              f"{statistics.median(latencies) * 1e3:.1f} ms, p99 "
              f"{latencies[int(len(latencies) * 0.99)] * 1e3:.1f} ms")
    if not args.skip_verify:
        with fresh_schema(args.url) as url:
            loaded = load_events(url, args.stations, args.events)
            print(f"  wrote {args.events:,} events over {args.stations} stations in "
                  f"{loaded:.1f} s (COPY)")
            times = []
            for run in range(args.repeat):
                times.append(time_verify(url, args.events))
                print(f"  verify run {run + 1}: {times[-1]:.2f} s")
        print(f"verify: {args.events:,} events over {args.stations} stations: median "
              f"{statistics.median(times):.2f} s ({args.events / statistics.median(times):,.0f}"
              f" events/s; runs: {', '.join(f'{t:.2f}' for t in times)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
