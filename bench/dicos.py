"""How fast DICOS DX import and export are: a 2048 x 2048 dual-energy view (both energies).

Median milliseconds, interleaved in one run, of:

* export: ``write_dicos_dx`` (two DX files, high and low, each fsynced and renamed);
* import: ``read_dicos`` of one of them (which reads its sibling too: both energies);
* the same scan written and read as Screener's native HDF5 (``write_scan``, ``read_scan``),
  and the ratio of each DICOS figure to its HDF5 counterpart;
* for reference, the export of the same view held as float32 (quantised to uint16), and,
  where pydicos is installed, the Stratovan toolkit reading one exported file.

The image is a synthetic bag-like transmission (attenuating blocks and Poisson noise), so
HDF5's gzip sees realistic data rather than incompressible noise. Target (issue 9):
importing or exporting a 2048 x 2048 DX at most 200 ms; the figures here are for both
energies together, so they meet it with room when they are under 200 ms.

    .venv/bin/python bench/dicos.py [--repeats 11]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from screener.scan import Scan, ScanMetadata, SourceKind, View, read_scan, write_scan
from screener.scan.dicos import read_dicos
from screener.scan.dicos_export import write_dicos_dx

SHAPE = (2048, 2048)
BUDGET_MS = 200.0


def bag_like(seed: int = 1) -> Scan:
    rng = np.random.default_rng(seed)
    attenuation = np.zeros(SHAPE, np.float64)
    for _ in range(60):
        r0, c0 = rng.integers(0, SHAPE[0] - 64, 2)
        h, w = rng.integers(32, 600, 2)
        attenuation[r0:r0 + h, c0:c0 + w] += rng.uniform(0.05, 0.8)
    channels = []
    for scale in (1.0, 1.35):  # low energy attenuates more
        counts = 60000.0 * np.exp(-attenuation * scale)
        channels.append(np.clip(rng.poisson(counts), 0, 65535).astype(np.uint16))
    view = View("top", channels[0], channels[1], 65535.0, (0.8, 0.8))
    meta = ScanMetadata(bag_id="BENCH-0001", station="bench", lane="1",
                        acquired_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
                        source="bench/dicos.py", source_kind=SourceKind.DUAL_ENERGY,
                        scanner_profile="cabin-160kv-dual-layer",
                        channel_low="160 kV, front layer", channel_high="160 kV, rear layer")
    return Scan(meta, (view,))


def as_float32(scan: Scan) -> Scan:
    view = scan.views[0]
    assert view.low is not None
    converted = View(view.name, (view.high / np.float32(65535)).astype(np.float32),
                     (view.low / np.float32(65535)).astype(np.float32), 1.0,
                     view.pixel_pitch_mm)
    return Scan(scan.metadata, (converted,))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    scan = bag_like()
    floats = as_float32(scan)
    with tempfile.TemporaryDirectory(prefix="bench-dicos-") as tmp:
        root = Path(tmp)
        dx_files = write_dicos_dx(scan, root / "dx")
        native = write_scan(root / "scan.h5", scan)
        steps: dict[str, Callable[[], object]] = {
            "DICOS export (write_dicos_dx, 2 files)": lambda: write_dicos_dx(scan, root / "dx"),
            "DICOS import (read_dicos, 2 files)": lambda: read_dicos(dx_files[0]),
            "HDF5 write (write_scan)": lambda: write_scan(root / "scan.h5", scan),
            "HDF5 read (read_scan)": lambda: read_scan(native),
            "DICOS export of float32 (quantised)": lambda: write_dicos_dx(floats, root / "f"),
        }
        try:
            import pydicos

            steps["pydicos reads one exported file (reference)"] = \
                lambda: np.array(pydicos.DXLoader(str(dx_files[0])).get_data())
        except ImportError:
            pass
        times: dict[str, list[float]] = {name: [] for name in steps}
        for step in steps.values():  # warm up (imports, page cache)
            step()
        for _ in range(args.repeats):
            for name, step in steps.items():
                start = time.perf_counter()
                step()
                times[name].append((time.perf_counter() - start) * 1000.0)
        read_back = read_dicos(dx_files[0]).views[0]
        assert np.array_equal(read_back.high, scan.views[0].high)
        sizes = (sum(f.stat().st_size for f in dx_files), native.stat().st_size)

    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"2048 x 2048 dual-energy uint16 view, median of {args.repeats} (ms)")
    for name, value in median.items():
        print(f"  {name:46s} {value:8.1f}   (max {max(times[name]):7.1f})")
    export, imported = (median["DICOS export (write_dicos_dx, 2 files)"],
                        median["DICOS import (read_dicos, 2 files)"])
    write, read = median["HDF5 write (write_scan)"], median["HDF5 read (read_scan)"]
    print(f"  DICOS export / HDF5 write {export / write:6.2f}x;  "
          f"DICOS import / HDF5 read {imported / read:6.2f}x")
    print(f"  files: DICOS {sizes[0] / 1e6:.1f} MB (uncompressed), HDF5 {sizes[1] / 1e6:.1f} MB "
          "(gzip 4 + shuffle)")
    for what, value in (("export", export), ("import", imported)):
        verdict = "meets" if value <= BUDGET_MS else "MISSES"
        print(f"  {what}: {value:.1f} ms for both energies {verdict} the {BUDGET_MS:.0f} ms "
              "target per DX")


if __name__ == "__main__":
    main()
