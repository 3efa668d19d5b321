"""How long the simulator takes: one two-view cabin bag and one cargo scan.

Target on 2 cores: a cabin bag in at most 2 s (so a 200-bag demo takes minutes).
Prints the median and spread over several seeds, and where the time goes per stage.

    .venv/bin/python bench/simulate.py [--bags 7] [--cargo 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

import screener.sim.generate as generate
from screener.physics.profiles import get_profile
from screener.sim.cargo import pack_cargo
from screener.sim.packing import pack_bag
from screener.sim.projection import project

STAGES: dict[str, list[float]] = defaultdict(list)


@contextmanager
def stage(name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    STAGES[name].append(time.perf_counter() - start)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def stage_breakdown(seed: int) -> None:
    rng = np.random.default_rng(seed)
    with stage("pack bag"):
        scene = pack_bag("suitcase", rng, [])
    profile = get_profile(generate.CABIN_PROFILE)
    for geometry in generate.CABIN_VIEWS:
        with stage("project view"):
            projected = project(scene.objects, geometry, scene.labelled)
        with stage("polychromatic physics view"):
            t_low, t_high = generate.dual_energy_transmission(projected.areal_density, profile)
        with stage("detector noise+blur view"):
            generate.detect(t_low, profile.low, profile, rng)
            generate.detect(t_high, profile.high, profile, rng)


def report(name: str, seconds: list[float]) -> None:
    med = statistics.median(seconds)
    print(f"{name:32s} median {med * 1000:8.1f} ms   min {min(seconds) * 1000:8.1f}   "
          f"max {max(seconds) * 1000:8.1f}   n={len(seconds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bags", type=int, default=7)
    parser.add_argument("--cargo", type=int, default=3)
    args = parser.parse_args()
    generate.simulate_bag(999, "suitcase")  # warm caches (tables, imports)
    bag_times = [timed(lambda s=seed: generate.simulate_bag(s)) for seed in range(args.bags)]
    print("== whole scans ==")
    report("cabin bag, 2 views (1000x1500, 800x1500)", bag_times)
    if args.cargo:
        cargo_times = [timed(lambda s=seed: generate.simulate_cargo(s))
                       for seed in range(args.cargo)]
        report("cargo scan, 1 view (2000x6000)", cargo_times)
    for seed in range(args.bags):
        stage_breakdown(seed)
    with stage("pack cargo"):
        pack_cargo(np.random.default_rng(0))
    print("== stages ==")
    for name, seconds in STAGES.items():
        report(name, seconds)
    target = 2.0
    med = statistics.median(bag_times)
    print(f"cabin bag median {med:.2f} s vs target {target:.1f} s: "
          f"{'OK' if med <= target else 'OVER TARGET'}")


if __name__ == "__main__":
    main()
