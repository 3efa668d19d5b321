"""Build docs/filters.png: every enhancement function on a simulated bag and a real SIXray image.

    .venv/bin/python docs/make_filters_figure.py [--out docs/filters.png]

Left block: a simulated two-view cabin bag (top view) with a handgun and a knife, rendered
through the shipped dual-energy calibration of its scanner profile. Right block: one SIXray
image (Miao et al., CVPR 2019) as the scanner exported it, then imported by
``screener.scan.load_any`` as a pseudo-colour scan (material classes from its hues, an
approximate transmission from its brightness) and rendered with every function it supports;
a function it cannot support shows the reason the workstation gives. The SIXray image is
read from ``../shared/datasets/sixray-val`` beside the repository and is not copied into the
project except as this downscaled, cited figure; without that folder the right block is left
out with a message.

Only the public API is used (``simulate_bag``, ``load_any``, ``prepare_scan``,
``available_functions``, ``render``), so the figure shows what the workstation shows.
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path

import cv2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray

from screener.imaging.presets import shipped_presets
from screener.imaging.render import PreparedView, available_functions, prepare_scan, render
from screener.scan import load_any
from screener.sim.generate import simulate_bag

REPO = Path(__file__).resolve().parent.parent
SIXRAY = REPO.parent / "shared" / "datasets" / "sixray-val" / "images"
SIXRAY_IMAGE = "0007.jpg"
BAG_SEED = 3
PANEL_WIDTH = 480  # pixels each panel is downscaled to before plotting
COLUMNS = 5


def downscale(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    rows, cols = rgb.shape[:2]
    size = (PANEL_WIDTH, round(rows * PANEL_WIDTH / cols))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def panels(prepared: PreparedView) -> list[tuple[str, NDArray[np.uint8] | str]]:
    """(title, image or the reason it is unavailable) for every preset."""
    available = available_functions(prepared)
    out: list[tuple[str, NDArray[np.uint8] | str]] = []
    for preset in shipped_presets().presets:
        reason = available[preset.name]
        title = f"{preset.label} ({preset.name})"
        out.append((title, f"unavailable: {reason}" if reason else
                    downscale(render(prepared, preset)[..., :3])))
    return out


def draw_block(fig: Figure, grid: object, row0: int, heading: str,
               items: list[tuple[str, NDArray[np.uint8] | str]]) -> None:
    for i, (title, content) in enumerate(items):
        ax = fig.add_subplot(grid[row0 + i // COLUMNS, i % COLUMNS])  # type: ignore[index]
        ax.set_xticks([])
        ax.set_yticks([])
        if isinstance(content, str):
            ax.set_facecolor("0.93")
            ax.text(0.5, 0.5, "\n".join(textwrap.wrap(content, 44)), ha="center", va="center",
                    fontsize=9, color="0.25", transform=ax.transAxes)
        else:
            ax.imshow(content, interpolation="antialiased")
        ax.set_title(title, fontsize=10)
        if i == 0:
            ax.text(0.0, 1.2, heading, transform=ax.transAxes, fontsize=13, weight="bold")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "filters.png")
    args = parser.parse_args()

    bag = simulate_bag(BAG_SEED, "suitcase", ["handgun", "knife"]).scan
    bag_view = prepare_scan(bag)[0]
    blocks = [(f"Simulated suitcase (seed {BAG_SEED}, top view), dual energy, "
               "shipped calibration", panels(bag_view))]
    sixray_path = SIXRAY / SIXRAY_IMAGE
    if sixray_path.exists():
        scan = load_any(sixray_path)
        exported = np.asarray(cv2.cvtColor(np.asarray(cv2.imread(str(sixray_path))),
                                           cv2.COLOR_BGR2RGB), dtype=np.uint8)
        items = [("as exported by the scanner (input)", downscale(exported)),
                 *panels(prepare_scan(scan)[0])]
        blocks.append((f"Real SIXray image {SIXRAY_IMAGE} (Miao et al., CVPR 2019), "
                       f"imported as {scan.metadata.source_kind.value}", items))
    else:
        print(f"{sixray_path} not found: the SIXray block is left out of the figure")

    block_rows = [-(-len(items) // COLUMNS) for _, items in blocks]
    panel_h = 3.9 * 0.68  # panels are about 2:3; room for titles
    height = panel_h * sum(block_rows) + 0.6 * len(blocks)
    fig = plt.figure(figsize=(3.9 * COLUMNS, height))
    grid = fig.add_gridspec(sum(block_rows), COLUMNS, hspace=0.3, wspace=0.04, left=0.005,
                            right=0.995, top=1 - 0.75 / height, bottom=0.005)
    row0 = 0
    for (heading, items), rows in zip(blocks, block_rows, strict=True):
        draw_block(fig, grid, row0, heading, items)
        row0 += rows
    fig.savefig(args.out, dpi=80)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
