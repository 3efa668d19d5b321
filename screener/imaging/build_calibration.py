"""Regenerate the shipped dual-energy calibrations and their figure.

Run ``python -m screener.imaging.build_calibration``. For every scanner profile it simulates
the step wedges, builds the lookup (:func:`screener.imaging.calibration.build_calibration`)
and writes into ``screener/imaging/data/``

* ``calibration-<profile>.npz``: the calibration file that :func:`get_calibration` loads;
* ``calibration-<profile>.json``: its header and sha256, for people and for review diffs;

and draws ``docs/calibration.png`` (needs matplotlib, a dev dependency): R = A_low / A_high
against A_high for each reference material, one panel per profile, class regions shaded.
``--bench`` also times :func:`classify` on a synthetic 1000 x 1500 view of each profile.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.imaging.calibration import (
    DATA_FILE_PATTERN,
    Calibration,
    MaterialClass,
    build_calibration,
    calibration_bytes,
    calibration_header,
    classify,
    ratio_noise_log2,
)
from screener.physics.profiles import PROFILES, ScannerProfile

DATA_DIR = Path(__file__).resolve().parent / "data"
FIGURE = Path(__file__).resolve().parents[2] / "docs" / "calibration.png"

#: Display colours of the classes (orange, green, blue, black; air white).
CLASS_COLOURS = {
    MaterialClass.BACKGROUND: "#ffffff",
    MaterialClass.ORGANIC: "#f39c12",
    MaterialClass.INORGANIC: "#2ecc71",
    MaterialClass.METAL: "#3b7dd8",
    MaterialClass.IMPENETRABLE: "#2b2b2b",
}
REFERENCE_STYLES = {
    "polyethylene": ("#8e5a00", "-"),
    "pom": ("#c0392b", "-"),
    "water": ("#d35400", "-"),
    "aluminium": ("#117a43", "-"),
    "iron": ("#1f3f8f", "-"),
    "lead": ("#6c2c91", "--"),
}
#: Y range of each profile's panel (R); cargo curves lie within a few per cent of each other.
RATIO_LIMITS = {"cabin-160kv-dual-layer": (1.0, 4.0), "cargo-6mv-dual-energy": (1.10, 1.31)}


def write_calibration(cal: Calibration, out_dir: Path) -> tuple[Path, Path]:
    """Write the npz and its JSON sidecar; returns both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    npz_path = out_dir / DATA_FILE_PATTERN.format(profile=cal.profile)
    data = calibration_bytes(cal)
    npz_path.write_bytes(data)
    sidecar = {
        "file": npz_path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "header": calibration_header(cal),
        "references": dict(zip(cal.reference_names, cal.reference_zeff.tolist(), strict=True)),
    }
    json_path = npz_path.with_suffix(".json")
    json_path.write_text(json.dumps(sidecar, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return npz_path, json_path


def _class_image(cal: Calibration, a_high: NDArray[np.float64], ratio: NDArray[np.float64]
                 ) -> NDArray[np.uint8]:  # fmt: skip
    """The class the fast lookup gives on a (ratio, a_high) display grid."""
    ah = np.broadcast_to(a_high[None, :], (ratio.size, a_high.size)).astype(np.float32)
    al = (ratio[:, None] * a_high[None, :]).astype(np.float32)
    return classify(ah, al, cal)[1]


def _panel(ax: Any, cal: Calibration, profile: ScannerProfile) -> None:
    from matplotlib.colors import ListedColormap

    x_lo, x_hi = cal.background_a_high / 1.6, cal.impenetrable_a_high * 1.6
    r_lo, r_hi = RATIO_LIMITS.get(cal.profile, (0.9, 4.0))
    a_grid = np.geomspace(x_lo, x_hi, 700)
    r_grid = np.linspace(r_lo, r_hi, 600)
    image = _class_image(cal, a_grid, r_grid)
    cmap = ListedColormap([CLASS_COLOURS[c] for c in MaterialClass])
    ax.pcolormesh(a_grid, r_grid, image, cmap=cmap, vmin=-0.5, vmax=4.5, alpha=0.38,
                  shading="nearest", rasterized=True)  # fmt: skip
    for name, curve in zip(cal.reference_names, cal.curve_ratio, strict=True):
        colour, style = REFERENCE_STYLES.get(name, ("k", "-"))
        z = float(cal.reference_zeff[cal.reference_names.index(name)])
        ax.plot(cal.curve_a_high, curve, style, color=colour, lw=2.0,
                label=f"{name} (Zeff {z:.1f})")  # fmt: skip
    ax.axvline(cal.background_a_high, color="0.4", lw=0.8, ls=":")
    ax.axvline(cal.impenetrable_a_high, color="0.1", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(r_lo, r_hi)
    ax.set_xlabel("A_high = -ln T_high")
    ax.set_ylabel("R = A_low / A_high")
    ax.set_title(f"{cal.profile} (mean detected energy {profile.low.mean_energy_kev:.0f} / "
                 f"{profile.high.mean_energy_kev:.0f} keV)\nlookup table {cal.shape[0]} x "
                 f"{cal.shape[1]}: 1/{cal.high_steps_per_octave} octave in A_high, "
                 f"1/{cal.ratio_steps_per_octave} octave in R", fontsize=10)  # fmt: skip
    ax.grid(True, which="both", color="0.5", alpha=0.25, lw=0.5)
    cabin = cal.profile.startswith("cabin")
    ax.legend(loc="upper right", fontsize=8, framealpha=0.9)
    ypos = r_lo + 0.5 * (r_hi - r_lo)
    ax.text(cal.background_a_high * 0.93, ypos, "air (background)", fontsize=8, color="0.3",
            rotation=90, ha="right", va="center")  # fmt: skip
    ax.text(cal.impenetrable_a_high * 1.08, ypos, "impenetrable", fontsize=8, color="w",
            rotation=90, ha="left", va="center")  # fmt: skip
    if cabin:
        ax.annotate("lead: its K edge (88 keV) lies in the high channel, so its\n"
                    "curve runs among light mixtures (water + aluminium)\nand is not an "
                    "anchor: thin lead reads Zeff 13 down to 9",
                    xy=(1.0, 1.37), xytext=(0.12, 3.45), fontsize=8, color="#6c2c91",
                    bbox={"boxstyle": "round", "fc": "w", "ec": "#6c2c91", "alpha": 0.9},
                    arrowprops={"arrowstyle": "->", "color": "#6c2c91"})  # fmt: skip
    else:
        # Where a pixel's R noise (sigma of log2 R on the water curve) exceeds the water-iron gap.
        limit = _single_pixel_limit(cal, profile)
        ax.axvspan(x_lo, limit, color="0.5", alpha=0.12, lw=0)
        ax.text(x_lo * 2.2, r_hi - 0.07 * (r_hi - r_lo),
                f"A_high < {limit:.2f}: water and iron\nless than 2 pixel-noise sigma apart",
                fontsize=8, color="0.25")  # fmt: skip
        ax.annotate("thin lead: photoelectric tail, R high", xy=(0.05, 1.283),
                    xytext=(0.012, 1.255),
                    fontsize=8, color="#6c2c91",
                    arrowprops={"arrowstyle": "->", "color": "#6c2c91"})  # fmt: skip
        ax.annotate("thick: pair production,\nR falls with Z", xy=(5.0, 1.12), xytext=(1.2, 1.115),
                    fontsize=8, color="0.15",
                    arrowprops={"arrowstyle": "->", "color": "0.3"})  # fmt: skip


def _single_pixel_limit(cal: Calibration, profile: ScannerProfile, k: float = 2.0) -> float:
    """Smallest A_high above which water and iron lie k single-pixel sigmas apart in log2 R."""
    water = cal.curve_ratio[cal.reference_names.index("water")]
    iron = cal.curve_ratio[cal.reference_names.index("iron")]
    for a, rw, rf in zip(cal.curve_a_high, water, iron, strict=True):
        if a < cal.background_a_high or not (np.isfinite(rw) and np.isfinite(rf)):
            continue
        if abs(np.log2(rf / rw)) >= k * ratio_noise_log2(profile, float(a), float(rw)):
            return float(a)
    return float("nan")


def draw_figure(cals: Sequence[Calibration], path: Path) -> None:
    """docs/calibration.png: one panel per profile."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(cals), figsize=(7.2 * len(cals), 6.2), squeeze=False)
    for ax, cal in zip(axes[0], cals, strict=True):
        _panel(ax, cal, PROFILES[cal.profile])
    fig.suptitle("Dual-energy calibration: reference step wedges and the classes of the lookup "
                 "(orange organic, green inorganic/mixed, blue metal, black impenetrable)",
                 fontsize=11)  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def bench_view(profile: ScannerProfile, shape: tuple[int, int] = (1000, 1500), seed: int = 3
               ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:  # fmt: skip
    """(A_high, A_low) of a synthetic cluttered view: smooth random slabs of four materials."""
    import cv2

    from screener.physics.detector import detect, dual_energy_transmission, log_attenuation

    rng = np.random.default_rng(seed)
    maps = {}
    for name, peak in (("cotton", 6.0), ("water", 4.0), ("aluminium", 1.5), ("iron", 0.6)):
        field = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), 25.0)
        field = np.clip(field / field.std() - 0.3, 0.0, None)
        maps[name] = (peak * field / max(float(field.max()), 1e-6)).astype(np.float32)
    t_low, t_high = dual_energy_transmission(maps, profile)
    a_high = log_attenuation(detect(t_high, profile.high, profile, rng))
    a_low = log_attenuation(detect(t_low, profile.low, profile, rng))
    return a_high, a_low


def bench(cal: Calibration, runs: int = 20) -> float:
    """Median seconds of :func:`classify` on a synthetic 1000 x 1500 view of ``cal``'s profile."""
    a_high, a_low = bench_view(PROFILES[cal.profile])
    classify(a_high, a_low, cal)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        classify(a_high, a_low, cal)
        times.append(time.perf_counter() - start)
    counts = np.bincount(classify(a_high, a_low, cal)[1].ravel(), minlength=len(MaterialClass))
    share = ", ".join(f"{c.name.lower()} {n / a_high.size:.0%}"
                      for c, n in zip(MaterialClass, counts, strict=True))  # fmt: skip
    print(
        f"classify {a_high.shape[0]} x {a_high.shape[1]} px ({cal.profile}; {share}): median "
        f"{statistics.median(times) * 1e3:.2f} ms, min {min(times) * 1e3:.2f} ms, {runs} runs"
    )
    return statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--figure", type=Path, default=FIGURE)
    parser.add_argument("--no-figure", action="store_true")
    parser.add_argument("--bench", action="store_true", help="time classify() afterwards")
    args = parser.parse_args(argv)
    cals = []
    for name, profile in PROFILES.items():
        cal = build_calibration(profile)
        npz_path, json_path = write_calibration(cal, args.out_dir)
        cals.append(cal)
        print(
            f"{name}: table {cal.shape[0]} x {cal.shape[1]} ({cal.high_steps_per_octave} / "
            f"{cal.ratio_steps_per_octave} per octave of A_high / R), "
            f"air below A_high {cal.background_a_high:.4f}, impenetrable above A_high "
            f"{cal.impenetrable_a_high:.2f} or A_low {cal.impenetrable_a_low:.2f}; "
            f"wrote {npz_path} ({npz_path.stat().st_size // 1024} kB) and {json_path.name}"
        )
        if "water" in cal.reference_names and "iron" in cal.reference_names:
            print(
                f"  water and iron 2 pixel sigmas apart from A_high "
                f"{_single_pixel_limit(cal, profile):.3f}"
            )
    if not args.no_figure:
        draw_figure(cals, args.figure)
        print(f"wrote {args.figure}")
    if args.bench:
        for cal in cals:
            bench(cal)
    return 0


if __name__ == "__main__":
    sys.exit(main())
