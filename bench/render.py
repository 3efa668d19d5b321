"""How fast the enhancement functions render: a two-view cabin scan and a cargo scan.

For every preset, the median milliseconds per view of ``render(prepared, preset, out=buf)``
with the view already prepared and the output buffer preallocated (what switching functions
costs; for the spatial functions including their OpenCV step, and under "again" the cost
while that step's result is still cached, as after an adjustment), and its ratio to
``np.copyto`` of the same view's input channels (high and low) into preallocated arrays,
timed interleaved in the same run. Also: preparing a view (the index image, once per view),
building a lookup table, and the memory one cargo render allocates (tracemalloc, which sees
numpy's allocations, and the peak resident-set growth, which also sees OpenCV's).

Targets on 2 cores: table-driven functions at most 10 ms per cabin view and at most 8x the
copy; spatial functions at most 40 ms per cabin view; any function on the cargo scan at most
250 ms; rendering a cargo scan allocates at most 3x its input.

    .venv/bin/python bench/render.py [--repeats 21] [--threads 2]
"""

from __future__ import annotations

import argparse
import ctypes
import dataclasses
import functools
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from screener.imaging.enhance import Adjustments
from screener.imaging.lut import base_table, lookup_table
from screener.imaging.presets import shipped_presets
from screener.imaging.render import PreparedView, classifier_for, prepare, render
from screener.imaging.view_index import Classifier
from screener.scan.model import Scan, View
from screener.sim.generate import simulate_bag, simulate_cargo

CABIN_SHAPE = (1600, 2048)
TABLE_MS, TABLE_RATIO, SPATIAL_MS, CARGO_MS, CARGO_ALLOC = 10.0, 8.0, 40.0, 250.0, 3.0


def classifier(scan: Scan) -> tuple[Classifier, str]:
    """The shipped calibration of the scan's profile, else one built now (and say which)."""
    found = classifier_for(scan.metadata.scanner_profile)
    if not isinstance(found, str):
        return found, "shipped calibration"
    from screener.imaging.calibration import build_calibration, classify
    from screener.physics.profiles import get_profile

    cal = build_calibration(get_profile(scan.metadata.scanner_profile))
    return functools.partial(classify, cal=cal), f"calibration built in memory ({found})"


Channel = NDArray[np.uint16] | NDArray[np.float32]


def channels(view: View) -> tuple[Channel, Channel]:
    if view.low is None:
        raise SystemExit(f"view {view.name!r} has no low-energy channel")
    return view.high, view.low


def cabin_scan() -> Scan:
    """A simulated two-view cabin bag with its views resized to 1600 x 2048."""
    scan = simulate_bag(3, "suitcase", ["handgun", "knife"]).scan
    rows, cols = CABIN_SHAPE

    def resized(channel: Channel) -> NDArray[np.uint16]:
        out = cv2.resize(channel, (cols, rows), interpolation=cv2.INTER_LINEAR)
        return np.asarray(out, dtype=np.uint16)

    views = tuple(dataclasses.replace(v, high=resized(channels(v)[0]),
                                      low=resized(channels(v)[1])) for v in scan.views)
    return dataclasses.replace(scan, views=views)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def copy_input(view: View, high: NDArray[Any], low: NDArray[Any]) -> None:
    source_high, source_low = channels(view)
    np.copyto(high, source_high)
    np.copyto(low, source_low)


def draw(prepared: PreparedView, name: str, out: NDArray[np.uint8], fresh: bool) -> None:
    if fresh:
        prepared.forget_spatial()  # time the spatial step itself, not its cached result
    render(prepared, name, out=out)


def bench_scan(title: str, scan: Scan, clf: Classifier, repeats: int) -> None:
    shapes = " and ".join(f"{v.shape[0]}x{v.shape[1]}" for v in scan.views)
    print(f"== {title}: {len(scan.views)} view(s) of {shapes} ==")
    jobs = []
    for view in scan.views:
        ms = timed(functools.partial(prepare, view, clf))
        print(f"prepare view {view.name!r} (index image, once per view): {ms:7.1f} ms")
        prepared = prepare(view, clf)
        high, low = channels(view)
        jobs.append((view, np.empty_like(high), np.empty_like(low), prepared,
                     np.empty((*prepared.shape, 4), dtype=np.uint8)))
    cargo = title.startswith("cargo")
    print(f"{'function':18s} {'kind':7s} {'ms/view':>8s} {'copy ms':>8s} {'ratio':>6s} "
          f"{'again ms':>8s}  target")
    for preset in shipped_presets().presets:
        spatial = not preset.function.table_driven
        for _, _, _, prepared, out in jobs:
            draw(prepared, preset.name, out, True)  # warm: tables, work buffers
        fn_ms: list[float] = []
        copy_ms: list[float] = []
        for _ in range(repeats):  # interleaved, so both see the same machine load
            for view, high, low, prepared, out in jobs:
                copy_ms.append(timed(functools.partial(copy_input, view, high, low)))
                fn_ms.append(timed(functools.partial(draw, prepared, preset.name, out, True)))
        again = ""
        if spatial:
            again_ms = [timed(functools.partial(draw, prepared, preset.name, out, False))
                        for _ in range(repeats) for _, _, _, prepared, out in jobs]
            again = f"{statistics.median(again_ms):8.2f}"
        med, base = statistics.median(fn_ms), statistics.median(copy_ms)
        if cargo:
            target, ok = f"<= {CARGO_MS:.0f} ms", med <= CARGO_MS
        elif spatial:
            target, ok = f"<= {SPATIAL_MS:.0f} ms", med <= SPATIAL_MS
        else:
            target = f"<= {TABLE_MS:.0f} ms, <= {TABLE_RATIO:.0f}x"
            ok = med <= TABLE_MS and med / base <= TABLE_RATIO
        print(f"{preset.name:18s} {'spatial' if spatial else 'table':7s} {med:8.2f} "
              f"{base:8.2f} {med / base:6.1f} {again:>8s}  {target}: "
              f"{'OK' if ok else 'OVER TARGET'}")


def bench_tables(repeats: int) -> None:
    presets = shipped_presets().presets
    base_ms, adjust_ms = [], []
    for k in range(repeats):
        function = presets[k % len(presets)].function
        window = (0.5 + k * 0.01, 3.0)
        base_ms.append(timed(functools.partial(base_table, function, window)))
        adjustments = Adjustments(gamma=1.0 + 0.01 * k, window=window)
        adjust_ms.append(timed(functools.partial(lookup_table, function, adjustments)))
    print("== lookup tables (65 536 RGBA entries) ==")
    print(f"base table of a function, or a new variable-density window: median "
          f"{statistics.median(base_ms):.2f} ms")
    print(f"new brightness/contrast/gamma/inverse on a cached base table: median "
          f"{statistics.median(adjust_ms):.2f} ms")


def peak_rss_growth(fn: Callable[[], object]) -> float | None:
    """Peak resident-set growth (MB) while ``fn`` runs, from Linux's VmHWM; None elsewhere."""
    status = Path("/proc/self/status")
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # hand freed memory back: growth is then real
        Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    except OSError:
        return None

    def field(name: str) -> int:
        for line in status.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
        raise KeyError(name)

    before = field("VmRSS:")
    fn()
    return (field("VmHWM:") - before) / 1024.0


def first_render(view: View, clf: Classifier, name: str) -> None:
    fresh = dataclasses.replace(view)  # a new view object: nothing is cached for it
    render(prepare(fresh, clf), name)


def bench_memory(scan: Scan, clf: Classifier) -> None:
    view = scan.views[0]
    size = sum(c.nbytes for c in channels(view))
    print(f"== memory, cargo view {view.shape[0]}x{view.shape[1]} (input {size / 1e6:.0f} MB: "
          "high + low uint16) ==")
    for name in ("standard", "super-enhancement", "edge-enhancement"):
        tracemalloc.start()
        first_render(view, clf, name)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = peak_rss_growth(functools.partial(first_render, view, clf, name))
        rss_text = f", peak RSS growth {rss:.0f} MB ({rss * 1e6 / size:.2f}x)" if rss else ""
        ok = peak / size <= CARGO_ALLOC
        print(f"first render with {name!r} (prepare + output + work buffers): tracemalloc peak "
              f"{peak / 1e6:.0f} MB = {peak / size:.2f}x input{rss_text}: "
              f"{'OK' if ok else 'OVER TARGET'} (<= {CARGO_ALLOC:.0f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--cargo-repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2, help="cv2.setNumThreads")
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    print(f"numpy {np.__version__}, OpenCV {cv2.__version__} with {cv2.getNumThreads()} "
          "threads")
    cabin = cabin_scan()
    clf, how = classifier(cabin)
    print(f"cabin materials: {how}")
    bench_scan("cabin", cabin, clf, args.repeats)
    bench_tables(args.repeats)
    cargo = simulate_cargo(1).scan
    cargo_clf, how = classifier(cargo)
    print(f"cargo materials: {how}")
    bench_scan("cargo", cargo, cargo_clf, args.cargo_repeats)
    bench_memory(cargo, cargo_clf)


if __name__ == "__main__":
    main()
