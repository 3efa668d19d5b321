"""The built-in demo stream: simulated bags (some with threats) written as scan files.

Bag ``i`` of a stream depends only on ``(seed, i)``, so a stream can be generated in
parallel and extended later without changing the bags already written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from screener.errors import SimulationError
from screener.scan.hdf5 import write_scan
from screener.scan.store import file_sha256
from screener.sim.generate import BAG_KIND_SHARES, simulate_bag, simulate_cargo
from screener.sim.labels import THREAT_CLASSES
from screener.sim.packing import BAG_KINDS

MANIFEST_NAME = "manifest.json"
#: Seconds between bags on the simulated belt (about 6 bags a minute).
BELT_INTERVAL_S = 10.0


@dataclass(frozen=True)
class DemoItem:
    """One scan of the demo stream as listed in manifest.json (no ground truth here)."""

    file: str
    sha256: str
    bag_id: str
    kind: str


@dataclass(frozen=True)
class _Job:
    index: int
    seed: int
    kind: str  # a bag kind or "cargo"
    threats: tuple[str, ...]
    acquired_at: datetime
    path: Path


def plan_threats(seed: int, count: int, threat_fraction: float) -> list[tuple[str, ...]]:
    """Which threat classes go into each of ``count`` scans (most hold none)."""
    if not 0.0 <= threat_fraction <= 1.0:
        raise SimulationError(f"threat fraction must lie in [0, 1], not {threat_fraction}")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xD3]))
    classes = sorted(THREAT_CLASSES)
    plans: list[tuple[str, ...]] = []
    for _ in range(count):
        if rng.random() >= threat_fraction:
            plans.append(())
            continue
        n = 2 if rng.random() < 0.15 else 1
        plans.append(tuple(str(c) for c in rng.choice(classes, size=n, replace=False)))
    return plans


def plan_kinds(seed: int, count: int) -> list[str]:
    """Which kind of bag each of ``count`` bags is: mostly suitcases, some backpacks, trays."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xB4]))
    return [str(k) for k in rng.choice(BAG_KINDS, size=count, p=BAG_KIND_SHARES)]


def write_demo(
    out_dir: Path,
    bags: int,
    seed: int,
    *,
    threat_fraction: float = 0.3,
    cargo: int = 0,
    jobs: int | None = None,
    start: datetime | None = None,
    on_done: Callable[[DemoItem], None] | None = None,
) -> list[DemoItem]:
    """Simulate ``bags`` cabin bags and ``cargo`` container scans into ``out_dir``."""
    if bags < 0 or cargo < 0 or bags + cargo == 0:
        raise SimulationError("ask for at least one bag or cargo scan")
    out_dir.mkdir(parents=True, exist_ok=True)
    start = start or datetime.now(UTC).replace(microsecond=0)
    plan = list(_jobs(out_dir, bags, cargo, seed, threat_fraction, start))
    items = list(_run(plan, jobs or os.cpu_count() or 1, on_done))
    items.sort(key=lambda item: item.file)
    manifest = {"seed": seed, "bags": bags, "cargo": cargo, "items": [asdict(i) for i in items]}
    (out_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return items


def _jobs(out_dir: Path, bags: int, cargo: int, seed: int, threat_fraction: float,
          start: datetime) -> Iterator[_Job]:
    kinds = plan_kinds(seed, bags)
    for i, threats in enumerate(plan_threats(seed, bags, threat_fraction)):
        when = start + timedelta(seconds=BELT_INTERVAL_S * i)
        yield _Job(i, seed * 100_003 + i, kinds[i], threats, when, out_dir / f"bag-{i + 1:04d}.h5")
    cargo_plan = plan_threats(seed + 1, cargo, threat_fraction)
    for j, threats in enumerate(cargo_plan):
        when = start + timedelta(seconds=BELT_INTERVAL_S * (bags + j))
        yield _Job(j, seed * 100_003 + 50_000 + j, "cargo", threats, when,
                   out_dir / f"cargo-{j + 1:04d}.h5")


def _run(plan: list[_Job], jobs: int,
         on_done: Callable[[DemoItem], None] | None) -> Iterator[DemoItem]:
    if jobs <= 1 or len(plan) == 1:
        for job in plan:
            item = _simulate(job)
            if on_done:
                on_done(item)
            yield item
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(plan))) as pool:
        futures: list[Future[DemoItem]] = [pool.submit(_simulate, job) for job in plan]
        for future in as_completed(futures):
            item = future.result()
            if on_done:
                on_done(item)
            yield item


def _simulate(job: _Job) -> DemoItem:
    if job.kind == "cargo":
        sim = simulate_cargo(job.seed, job.threats, acquired_at=job.acquired_at)
    else:
        sim = simulate_bag(job.seed, job.kind, job.threats, acquired_at=job.acquired_at)
    write_scan(job.path, sim.scan, sim.truth)
    return DemoItem(job.path.name, file_sha256(job.path), sim.scan.metadata.bag_id, job.kind)
