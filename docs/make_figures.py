"""Regenerate the simulator figures in docs/ from fixed seeds.

    .venv/bin/python docs/make_figures.py                 # every figure
    .venv/bin/python docs/make_figures.py --only sim-bags # one of: sim-bags, sim-threats,
                                                          # sim-cargo, sim-vs-gdxray

Only the public simulator API is used (``simulate_bag``, ``simulate_cargo``,
``THREAT_MAKERS``, ``projection``, ``physics``), so the figures show what the simulator
really produces. Same seeds and same library versions give the same PNG bytes.

Display (until the colour pipeline exists): plain high-energy transmission ``T_high`` as
greyscale, bright where X-rays pass and dark where they are stopped. Cabin figures show
``T_high ** 0.5`` (:data:`CABIN_GAMMA`) on a fixed [0, 1] scale, so grey levels compare
across panels; the cargo figure shows log attenuation ``A_high = -ln T_high`` on a fixed
window of 0 to 10 (white to black, :data:`CARGO_A_MAX`) and its zoom on a window of
+-1.2 around the zoom's median A (:data:`ZOOM_HALF_WINDOW`).

``sim-vs-gdxray`` puts one simulated backpack beside one real bag from GDXray (Mery et al.
2015), read from ``../shared/datasets/gdxray-dev`` beside the repository. GDXray images may
not be copied into the project except as this one downscaled, cited documentation figure;
without the folder the figure is skipped with a message and the others are still made.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import NDArray
from PIL import Image

from screener.physics.detector import detect, dual_energy_transmission
from screener.physics.profiles import get_profile
from screener.scan.model import LabelledObject
from screener.sim.generate import CABIN_PROFILE, simulate_bag, simulate_cargo
from screener.sim.geometry import Pose
from screener.sim.items.threats import THREAT_MAKERS
from screener.sim.projection import ViewGeometry, project

DOCS = Path(__file__).resolve().parent
DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
GDXRAY_IMAGE = DATASETS / "gdxray-dev" / "images" / "B0046_0135.png"

#: Cabin display: grey = T_high ** CABIN_GAMMA (0 black, 1 white).
CABIN_GAMMA = 0.5
#: Cargo display: grey = 1 - A_high / CARGO_A_MAX, clipped (A = 0 white, A >= 10 black).
#: 16-bit counts stop at T = 1/65535 (A = 11.1).
CARGO_A_MAX = 10.0
#: Cargo zoom display: a window of +- this much A around the zoom's median A.
ZOOM_HALF_WINDOW = 1.2
THREAT_COLOUR = "#e00000"
#: Largest PNG the docs accept; the script says so and exits 1 when one is bigger.
MAX_PNG_BYTES = 1_000_000

# Fixed seeds. Changing one changes the figure; the text in docs/simulator.md refers to them.
BAG_SCENES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("suitcase", 4, ("knife",)),
    ("backpack", 7, ("handgun",)),
    ("tray", 4, ("ammunition",)),
)
#: Threat contact sheet: class -> (tile side in mm, the four k of seeds [THREAT_SEED, row, k]).
#: The k were picked from the first 20 to show the variety of each class: for handguns a
#: steel and a polymer pistol and two revolvers; gun parts a frame, a slide assembly, a
#: barrel and a cylinder; ammunition a carton, loose rounds in rows, a magazine and scattered
#: rounds; knives a kitchen, a combat, a folding and a ceramic knife; IEDs in a box, with a
#: pipe, with sticks and with fragments; grenades a steel sphere, a ball-lined sphere, a
#: pineapple and a can.
THREAT_ROWS: dict[str, tuple[float, tuple[int, int, int, int]]] = {
    "handgun": (260.0, (0, 4, 8, 12)),
    "gun_part": (220.0, (2, 4, 5, 14)),
    "ammunition": (200.0, (0, 2, 9, 13)),
    "knife": (320.0, (0, 3, 13, 17)),
    "ied": (260.0, (0, 1, 6, 12)),
    "grenade": (150.0, (0, 1, 2, 5)),
}
THREAT_SEED = 2024
CARGO_SEED = 1
GDXRAY_BAG = ("backpack", 9, ("handgun",))

FloatImage = NDArray[np.float32]
#: PNGs written over MAX_PNG_BYTES in this run.
OVERSIZED: list[Path] = []


# --------------------------------------------------------------------------- helpers


def cabin_grey(t: FloatImage) -> FloatImage:
    """The cabin display mapping: T_high ** CABIN_GAMMA in [0, 1]."""
    out: FloatImage = (np.clip(t, 0.0, 1.0) ** np.float32(CABIN_GAMMA)).astype(np.float32)
    return out


def cargo_grey(t: FloatImage) -> FloatImage:
    """The cargo display mapping: 1 - (-ln T) / CARGO_A_MAX, clipped to [0, 1]."""
    a = -np.log(np.maximum(t, np.float32(1e-7)))
    out: FloatImage = np.clip(1.0 - a / np.float32(CARGO_A_MAX), 0.0, 1.0).astype(np.float32)
    return out


def downscale(image: FloatImage, factor: float) -> FloatImage:
    """Area-average ``image`` by ``factor`` (>= 1) for display."""
    if factor <= 1.0:
        return image
    rows, cols = image.shape
    size = (max(round(cols / factor), 1), max(round(rows / factor), 1))
    out: FloatImage = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA),
                                 dtype=np.float32)
    return out


def content_window(t: FloatImage, drop: float = 0.04, margin: int = 12
                   ) -> tuple[int, int, int, int]:
    """Rows and columns (r0, r1, c0, c1) holding everything darker than the background.

    The background is the median of the image's outer frame (open beam or bare belt);
    a 5x5 box blur keeps noise from counting.
    """
    frame = np.concatenate([t[:4].ravel(), t[-4:].ravel(), t[:, :4].ravel(), t[:, -4:].ravel()])
    background = float(np.median(frame))
    smooth = cv2.blur(t, (5, 5))
    mask = smooth < background * (1.0 - drop)
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return 0, t.shape[0], 0, t.shape[1]
    return (max(int(rows[0]) - margin, 0), min(int(rows[-1]) + 1 + margin, t.shape[0]),
            max(int(cols[0]) - margin, 0), min(int(cols[-1]) + 1 + margin, t.shape[1]))


def draw_threats(ax: Axes, objects: Sequence[LabelledObject], r0: int, c0: int,
                 scale: float, fontsize: float = 8.0) -> None:
    """Red ground-truth boxes and labels of the threats (pixel-corner boxes, shifted into a
    crop starting at (r0, c0) and shrunk by ``scale``)."""
    for obj in objects:
        if not obj.threat:
            continue
        x0, y0, x1, y1 = obj.box
        # imshow puts pixel centres on integers, so pixel corners are at -0.5
        left, top = (x0 - c0) / scale - 0.5, (y0 - r0) / scale - 0.5
        ax.add_patch(Rectangle((left, top), (x1 - x0) / scale, (y1 - y0) / scale,
                               fill=False, edgecolor=THREAT_COLOUR, linewidth=1.2))
        ax.text(left, top - 2, obj.label, color=THREAT_COLOUR, fontsize=fontsize,
                va="bottom", ha="left", fontweight="bold",
                bbox={"facecolor": "white", "alpha": 0.75, "pad": 0.6, "edgecolor": "none"})


def show(ax: Axes, grey: FloatImage) -> None:
    ax.imshow(grey, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)


def save(fig: Figure, path: Path, dpi: float) -> None:
    """Save as an 8-bit palette PNG (grey plus a few colours fit in 256) with no metadata."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    plt.close(fig)
    buffer.seek(0)
    with Image.open(buffer) as rendered:
        rgb = rendered.convert("RGB")
    palette = rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                           dither=Image.Dither.NONE)
    palette.save(path, format="PNG", optimize=True)
    size = path.stat().st_size
    print(f"wrote {path} ({palette.width}x{palette.height}, {size / 1e3:.0f} kB)")
    if size > MAX_PNG_BYTES:
        OVERSIZED.append(path)
        print(f"  {path.name} is over {MAX_PNG_BYTES / 1e6:g} MB: lower its dpi or crop it")


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class BagPanels:
    """Both views of one bag cropped to the bag over the same columns, with their labels."""

    title: str
    top: FloatImage
    side: FloatImage
    top_objects: tuple[LabelledObject, ...]
    side_objects: tuple[LabelledObject, ...]
    top_row0: int
    side_row0: int
    col0: int


def _bag_panels(kind: str, seed: int, threats: tuple[str, ...]) -> BagPanels:
    sim = simulate_bag(seed, kind, threats)
    t_top = sim.scan.view("top").transmission("high")
    t_side = sim.scan.view("side").transmission("high")
    tr0, tr1, tc0, tc1 = content_window(t_top)
    sr0, sr1, sc0, sc1 = content_window(t_side)
    c0, c1 = min(tc0, sc0), max(tc1, sc1)  # one column range: the belt axis is shared
    title = f"{kind}, seed {seed}" + (f", with {' + '.join(threats)}" if threats else "")
    return BagPanels(title, t_top[tr0:tr1, c0:c1], t_side[sr0:sr1, c0:c1],
                     sim.truth.objects_by_view["top"], sim.truth.objects_by_view["side"],
                     tr0, sr0, c0)


def fig_bags(out: Path) -> None:
    """A suitcase, a backpack and a tray; top view above side view, cropped to the bag, both
    views of a bag over the same belt-axis columns so that objects line up vertically."""
    bags = [_bag_panels(kind, seed, threats) for kind, seed, threats in BAG_SCENES]
    scale = 2.0
    widths = [bag.top.shape[1] for bag in bags]
    top_h = max(bag.top.shape[0] for bag in bags)
    side_h = max(bag.side.shape[0] for bag in bags)
    fig = plt.figure(figsize=(sum(widths) / scale / 100 + 0.6,
                              (top_h + side_h) / scale / 100 + 1.3))
    grid = fig.add_gridspec(2, len(bags), width_ratios=widths, height_ratios=[top_h, side_h],
                            wspace=0.04, hspace=0.08, left=0.01, right=0.99, top=0.88,
                            bottom=0.02)
    for k, bag in enumerate(bags):
        views = ((bag.top, bag.top_objects, bag.top_row0, f"{bag.title}: top view"),
                 (bag.side, bag.side_objects, bag.side_row0, "side view"))
        for row, (image, objects, row0, title) in enumerate(views):
            ax = fig.add_subplot(grid[row, k])
            show(ax, cabin_grey(downscale(image, scale)))
            ax.set_anchor("N")
            draw_threats(ax, objects, row0, bag.col0, scale)
            ax.set_title(title, fontsize=9)
    fig.suptitle("Simulated cabin bags (0.5 mm pixels, shown at 1 mm): high-energy "
                 f"transmission, grey = T_high^{CABIN_GAMMA}; red: ground-truth threat boxes\n"
                 "each bag's two views are cropped to the same belt-axis columns, so an object "
                 "sits at the same left-right place in both", fontsize=10)
    save(fig, out / "sim-bags.png", dpi=100)


def fig_vs_gdxray(out: Path) -> None:
    """One simulated backpack beside one real GDXray bag, both about 600 px high."""
    if not GDXRAY_IMAGE.is_file():
        print(f"skipping sim-vs-gdxray.png: {GDXRAY_IMAGE} not found "
              "(the GDXray development set lives in ../shared/datasets beside the repository)")
        return
    real = cv2.imread(str(GDXRAY_IMAGE), cv2.IMREAD_GRAYSCALE)
    if real is None:
        print(f"skipping sim-vs-gdxray.png: cannot read {GDXRAY_IMAGE}")
        return
    kind, seed, threats = GDXRAY_BAG
    sim = simulate_bag(seed, kind, threats)
    t_top = sim.scan.view("top").transmission("high")
    r0, r1, c0, c1 = content_window(t_top, margin=30)
    height = 600
    sim_img = downscale(t_top[r0:r1, c0:c1], (r1 - r0) / height)
    real_img = downscale(real.astype(np.float32) / 255.0, real.shape[0] / height)
    fig = plt.figure(figsize=((sim_img.shape[1] + real_img.shape[1]) / 100 + 0.4, 7.3))
    grid = fig.add_gridspec(1, 2, width_ratios=[sim_img.shape[1], real_img.shape[1]],
                            wspace=0.03, left=0.01, right=0.99, top=0.86, bottom=0.02)
    ax = fig.add_subplot(grid[0, 0])
    show(ax, cabin_grey(sim_img))
    ax.set_title(f"Simulated {kind} (seed {seed}, top view, 0.5 mm pixels)\n"
                 f"160 kV dual-layer, high channel, grey = T_high^{CABIN_GAMMA}", fontsize=9)
    ax = fig.add_subplot(grid[0, 1])
    show(ax, real_img)
    ax.set_title(f"Real: GDXray {GDXRAY_IMAGE.stem} (single energy, 8-bit,\n"
                 f"{real.shape[1]}x{real.shape[0]} px, shown as stored)", fontsize=9)
    fig.suptitle("Simulated vs real bag. Real image: GDXray, D. Mery et al., \"GDXray: The "
                 "database of X-ray images\nfor nondestructive testing\", J. Nondestructive "
                 "Evaluation 34(4), 2015 (research and teaching use, with citation)",
                 fontsize=9)
    save(fig, out / "sim-vs-gdxray.png", dpi=100)


@dataclass(frozen=True)
class Tile:
    """A threat article's high-energy transmission and its extent in the image plane."""

    label: str
    t_high: FloatImage
    size_mm: tuple[float, float]


def threat_tile(label: str, rng: np.random.Generator, noise: np.random.Generator,
                side_mm: float, pitch_mm: float = 0.5) -> Tile:
    """One threat article alone, lying flat, seen from above (parallel beam), through the
    cabin profile's high channel with detector blur and noise; open beam around it.

    The article is turned over (half a turn about x) so that guns show upright, muzzle to
    the right: the same article lying on its other side.
    """
    article = THREAT_MAKERS[label](rng)
    n = round(side_mm / pitch_mm)
    geometry = ViewGeometry.top((n, n), (pitch_mm, pitch_mm))
    placed = article.placed(Pose.at(side_mm / 2, side_mm / 2, 100.0, rx=np.pi))
    lo, hi = placed.world_bounds()
    projected = project([placed], geometry)
    profile = get_profile(CABIN_PROFILE)
    _, t_high = dual_energy_transmission(projected.areal_density, profile)
    high = detect(t_high, profile.high, profile, noise)
    return Tile(label, high, (float(hi[0] - lo[0]), float(hi[1] - lo[1])))


def fig_threats(out: Path) -> None:
    """Contact sheet: four articles of every threat class, each alone, flat, top view."""
    tile_px = 300
    fig, axes = plt.subplots(len(THREAT_ROWS), 4, figsize=(4 * 2.6 + 0.5,
                                                           len(THREAT_ROWS) * 2.75 + 0.7))
    for row, (label, (side_mm, picks)) in enumerate(THREAT_ROWS.items()):
        for col, k in enumerate(picks):
            rng = np.random.default_rng([THREAT_SEED, row, k])
            noise = np.random.default_rng([THREAT_SEED, row, k, 1])
            tile = threat_tile(label, rng, noise, side_mm)
            ax = axes[row, col]
            show(ax, cabin_grey(downscale(tile.t_high, tile.t_high.shape[0] / tile_px)))
            ax.set_title(f"k={k}: {tile.size_mm[0]:.0f} x {tile.size_mm[1]:.0f} mm", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"{label}\n(tile {side_mm:.0f} mm)", fontsize=10)
    fig.suptitle(f"Threat library: seeds [{THREAT_SEED}, row, k], each article alone, lying "
                 "flat, top view, 160 kV high channel\nwith detector blur and noise; "
                 f"grey = T_high^{CABIN_GAMMA}; size = article's extent in the image plane",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.955))
    save(fig, out / "sim-threats.png", dpi=100)


def fig_cargo(out: Path) -> None:
    """A cargo scan with a handgun hidden in a carton: the vehicle on a fixed log-attenuation
    window, and a full-resolution zoom on the threat with a narrow window."""
    sim = simulate_cargo(CARGO_SEED, ("handgun",))
    view = sim.scan.views[0]
    t_high = view.transmission("high")
    a_high = -np.log(np.maximum(t_high, np.float32(1e-7)))
    objects = list(sim.truth.objects_by_view[view.name])
    r0, r1, c0, c1 = content_window(t_high, margin=40)
    scale = 4.0
    overview = downscale(cargo_grey(t_high[r0:r1, c0:c1]), scale)
    threat = next(o for o in objects if o.threat)
    x0, y0, x1, y1 = threat.box
    half = 110
    zr0 = min(max((y0 + y1) // 2 - half, 0), t_high.shape[0] - 2 * half)
    zc0 = min(max((x0 + x1) // 2 - half, 0), t_high.shape[1] - 2 * half)
    zoom_a = a_high[zr0:zr0 + 2 * half, zc0:zc0 + 2 * half]
    middle = float(np.median(zoom_a))
    lo, hi = middle - ZOOM_HALF_WINDOW, middle + ZOOM_HALF_WINDOW
    zoom = np.clip((hi - zoom_a) / (hi - lo), 0.0, 1.0).astype(np.float32)

    pitch = view.pixel_pitch_mm[0]
    fig = plt.figure(figsize=(overview.shape[1] / 100 + 4.6, overview.shape[0] / 100 + 1.0))
    grid = fig.add_gridspec(1, 2, width_ratios=[overview.shape[1], 380], wspace=0.03,
                            left=0.01, right=0.99, top=0.86, bottom=0.02)
    ax = fig.add_subplot(grid[0, 0])
    show(ax, overview)
    draw_threats(ax, objects, r0, c0, scale)
    ax.add_patch(Rectangle(((zc0 - c0) / scale - 0.5, (zr0 - r0) / scale - 0.5),
                           2 * half / scale, 2 * half / scale, fill=False,
                           edgecolor="#0060ff", linewidth=1.0, linestyle="--"))
    ax.set_title(f"{view.shape[1]} x {view.shape[0]} px view at {pitch:g} mm, cropped to the "
                 f"vehicle, shown at {pitch * scale:g} mm; grey = 1 - A_high / {CARGO_A_MAX:g} "
                 f"(white A = 0, black A >= {CARGO_A_MAX:g})", fontsize=9)
    ax = fig.add_subplot(grid[0, 1])
    show(ax, zoom)
    draw_threats(ax, objects, zr0, zc0, 1.0)
    ax.set_title(f"zoom (blue), {2 * half * pitch / 1000:.2f} m square at {pitch:g} mm;\n"
                 f"window A = {lo:.1f} (white) to {hi:.1f} (black): median +- {ZOOM_HALF_WINDOW:g}",
                 fontsize=9)
    fig.suptitle(f"Simulated cargo scan (seed {CARGO_SEED}, one handgun): 20 ft container on a "
                 "skeletal trailer, 6 MV channel, log attenuation A_high = -ln T_high; "
                 "red: ground-truth box", fontsize=10)
    save(fig, out / "sim-cargo.png", dpi=100)


FIGURES: dict[str, Callable[[Path], None]] = {
    "sim-bags": fig_bags,
    "sim-threats": fig_threats,
    "sim-cargo": fig_cargo,
    "sim-vs-gdxray": fig_vs_gdxray,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(FIGURES), action="append",
                        help="make only this figure (repeatable)")
    parser.add_argument("--out", type=Path, default=DOCS,
                        help="folder to write the PNGs to (default: docs/)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or list(FIGURES):
        FIGURES[name](args.out)
    return 1 if OVERSIZED else 0


if __name__ == "__main__":
    sys.exit(main())
