"""How fast the TIP projector composes an FTI into a cabin view (issue item 9).

A simulated cabin suitcase (top view 1000 x 1500 uint16, 0.5 mm pixels) and a simulated
handgun as an FTI (noise-free transmission through the cabin profile's spectra, blurred by
its detector, 0.5 mm pixels). Prints the median (and 90th percentile) milliseconds of:

* ``project_view`` with the bag outline already found (it is cached per view object):
  pose, warp, placement checks, measures, noise, and the one copy of each channel;
* finding the bag outline of a new view (once per bag);
* the first projection into a new view (outline included): what a bag costs the first
  time the scheduler projects into it;
* ``project_scan`` into both views of the two-view scan;
* ``np.copyto`` of the view's two channels (the copy every projection must make).

Target on 2 cores: a projection at most 20 ms per cabin view.

    .venv/bin/python bench/tip_projection.py [--repeats 30] [--threads 2] [--seed 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
from collections.abc import Callable

import cv2
import numpy as np

from screener.physics.detector import dual_energy_transmission
from screener.physics.profiles import get_profile
from screener.scan.model import View
from screener.sim.generate import CABIN_PROFILE, simulate_bag
from screener.sim.geometry import Pose
from screener.sim.items.threats import THREAT_MAKERS
from screener.sim.projection import ViewGeometry, project
from screener.tip.fti import FtiCategory, FtiImage
from screener.tip.projector import outline_for, project_scan, project_view

TARGET_MS = 20.0


def simulated_fti(kind: str, seed: int, pitch_mm: float = 0.5) -> FtiImage:
    """A simulator threat captured alone, lying flat, as a noise-free FTI."""
    profile = get_profile(CABIN_PROFILE)
    article = THREAT_MAKERS[kind](np.random.default_rng(seed))
    lo, hi = article.world_bounds()
    n = int(np.ceil(float(np.linalg.norm(hi - lo)) / pitch_mm)) + 8
    geometry = ViewGeometry.top((n, n), (pitch_mm, pitch_mm))
    placed = article.placed(Pose(np.eye(3), np.array([n * pitch_mm / 2, n * pitch_mm / 2, 100.0])))
    projected = project([placed], geometry)
    x0, y0, x1, y1 = projected.footprints[0].box
    m = 3  # room for the blur
    density = {k: np.ascontiguousarray(v[y0 - m : y1 + m, x0 - m : x1 + m])
               for k, v in projected.areal_density.items()}  # fmt: skip
    t_low, t_high = dual_energy_transmission(density, profile)
    sigma = profile.blur_sigma_px
    t_high = np.clip(cv2.GaussianBlur(t_high, (0, 0), sigma), 1e-6, 1.0).astype(np.float32)
    t_low = np.clip(cv2.GaussianBlur(t_low, (0, 0), sigma), 1e-6, 1.0).astype(np.float32)
    mask = (t_high < 0.999) | (t_low < 0.999)
    t_high[~mask] = 1.0
    t_low[~mask] = 1.0
    return FtiImage(f"sim-{kind}-{seed}", f"sim-{kind}-{seed}", FtiCategory.GUN, kind,
                    (0.0, 0.0, 0.0), f"Screener simulator, seed {seed}", "2025-01-01",
                    CABIN_PROFILE, pitch_mm, t_high, t_low, mask)  # fmt: skip


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def report(label: str, samples: list[float], target: float | None = None) -> None:
    median = statistics.median(samples)
    p90 = float(np.percentile(samples, 90))
    verdict = ""
    if target is not None:
        verdict = f"  target <= {target:g} ms: {'ok' if median <= target else 'MISSED'}"
    print(f"{label:52s} median {median:6.2f} ms   p90 {p90:6.2f} ms{verdict}")


def fresh(view: View) -> View:
    """The same pixels as a new view object (nothing cached for it)."""
    return dataclasses.replace(view)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2, help="cv2.setNumThreads")
    parser.add_argument("--seed", type=int, default=7, help="simulated bag seed")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)

    scan = simulate_bag(args.seed, "suitcase").scan
    view = scan.view("top")
    fti = simulated_fti("handgun", 2)
    print(f"bag: top view {view.shape[0]} x {view.shape[1]} {view.high.dtype}; FTI "
          f"{fti.fti_id}: {fti.shape[0]} x {fti.shape[1]} px, {int(fti.mask.sum())} in its mask; "
          f"{args.repeats} runs, cv2 threads {args.threads}")  # fmt: skip

    project_view(view, fti, 0, profile=CABIN_PROFILE)  # warm: caches, OpenCV, numpy
    attempts: list[int] = []

    def one(seed: int) -> None:
        attempts.append(project_view(view, fti, seed, profile=CABIN_PROFILE).attempts)

    report("project_view (outline cached)",
           [timed(lambda s=s: one(s)) for s in range(args.repeats)], TARGET_MS)  # fmt: skip
    report("bag outline of a new view",
           [timed(lambda: outline_for(fresh(view))) for _ in range(args.repeats)])  # fmt: skip
    report("first projection into a new view (outline included)",
           [timed(lambda s=s: project_view(fresh(view), fti, s, profile=CABIN_PROFILE))
            for s in range(args.repeats)], TARGET_MS)  # fmt: skip
    both = [timed(lambda s=s: project_scan(scan, fti, s)) for s in range(args.repeats)]
    report("project_scan, both views (outlines cached)", both)
    assert view.low is not None
    high, low = np.empty_like(view.high), np.empty_like(view.low)

    def copy() -> None:
        np.copyto(high, view.high)
        np.copyto(low, view.low)

    report("np.copyto of both channels (reference)", [timed(copy) for _ in range(args.repeats)])
    print(f"placement attempts per projection: median {statistics.median(attempts):g}, "
          f"max {max(attempts)}")  # fmt: skip


if __name__ == "__main__":
    main()
