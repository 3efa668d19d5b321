"""``screener render FILE --filter NAME [--view V] --out PNG``: one view, one function, headless.

Reads a native scan or anything :func:`screener.scan.load_any` imports (PNG, JPEG, ``.npy``),
renders one view with an enhancement preset and optional adjustments, and writes a PNG.
An unknown filter or view, or a filter the source cannot support (for example material
colours on a single-energy image), ends with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

import cv2

from screener.config import Settings
from screener.errors import ScreenerError
from screener.imaging.enhance import Adjustments
from screener.imaging.presets import PresetSet, load_presets, shipped_presets
from screener.imaging.render import prepare_scan, render
from screener.scan import load_any


class RenderCommandError(ScreenerError):
    """The render command was asked for something the scan or the options do not allow."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "render", help="render one view of a scan with an enhancement function to a PNG",
        description="Render one view of a scan (native .h5, or an imported PNG/JPEG/.npy) "
                    "with an enhancement function and write a PNG. Filters are the presets "
                    "(docs/enhancement.md); an unknown name lists them.",
    )  # fmt: skip
    parser.add_argument("file", type=Path, help="scan file, or a PNG/JPEG/.npy to import")
    parser.add_argument("--filter", required=True, metavar="NAME",
                        help="enhancement function: a preset name such as standard, greyscale, "
                             "organic-only, super-enhancement, variable-density")
    parser.add_argument("--view", metavar="V", help="view name (default: the first view)")
    parser.add_argument("--out", required=True, type=Path, help="PNG file to write")
    parser.add_argument("--presets", type=Path, metavar="FILE",
                        help="preset file (default: the shipped presets)")
    parser.add_argument("--brightness", type=float, help="-1 to 1 (default: the preset's)")
    parser.add_argument("--contrast", type=float, help="0 to 10 (default: the preset's)")
    parser.add_argument("--gamma", type=float, help="0.05 to 20 (default: the preset's)")
    parser.add_argument("--invert", action=argparse.BooleanOptionalAction, default=None,
                        help="show the negative (default: the preset's)")
    parser.add_argument("--window", type=float, nargs=2, metavar=("LO", "HI"),
                        help="variable-density window in log attenuation -ln T")
    parser.set_defaults(run=run_render)  # fmt: skip


def _adjustments(args: argparse.Namespace, default: Adjustments) -> Adjustments:
    given: dict[str, Any] = {
        key: getattr(args, key)
        for key in ("brightness", "contrast", "gamma", "invert")
        if getattr(args, key) is not None
    }
    if args.window is not None:
        given["window"] = tuple(args.window)
    try:
        return dataclasses.replace(default, **given)
    except ValueError as exc:
        raise RenderCommandError(f"bad adjustment: {exc}") from exc


def run_render(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    presets: PresetSet = load_presets(args.presets) if args.presets else shipped_presets()
    preset = presets.get(args.filter)
    adjustments = _adjustments(args, preset.adjustments)
    if args.out.suffix.lower() != ".png":
        raise RenderCommandError(f"{args.out}: --out must name a .png file")
    scan = load_any(args.file, settings.scan_limits)
    names = [v.name for v in scan.views]
    view_name = args.view if args.view is not None else names[0]
    if view_name not in names:
        raise RenderCommandError(f"{args.file}: no view named {view_name!r}; this scan has: "
                                 f"{', '.join(names)}")  # fmt: skip
    prepared = prepare_scan(scan)[names.index(view_name)]
    rgba = render(prepared, preset, adjustments)
    try:
        written = cv2.imwrite(str(args.out), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR))
    except cv2.error as exc:
        raise RenderCommandError(f"{args.out}: cannot write the PNG ({exc})") from exc
    if not written:
        raise RenderCommandError(f"{args.out}: cannot write the PNG (check the folder exists "
                                 "and is writable)")  # fmt: skip
    print(f"wrote {args.out}: view {view_name!r} of {args.file} with {preset.label!r} "
          f"({prepared.shape[0]} x {prepared.shape[1]})")
    return 0
