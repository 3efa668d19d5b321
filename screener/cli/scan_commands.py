"""``screener scan info`` and ``screener scan store``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from screener.config import Settings
from screener.scan import FORMAT_VERSION, Scan, ScanStore, file_sha256, read_scan
from screener.scan.hdf5 import has_ground_truth


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scan = commands.add_parser("scan", help="inspect and store scan files")
    actions = scan.add_subparsers(dest="action", required=True, metavar="ACTION")
    info = actions.add_parser("info", help="validate a scan file and print a summary")
    info.add_argument("file", type=Path)
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(run=run_info)
    store = actions.add_parser("store", help="validate scan files and add them to the store")
    store.add_argument("files", type=Path, nargs="+")
    store.add_argument("--store", type=Path, help="store folder (default: <home>/scans)")
    store.set_defaults(run=run_store)


def summarise(path: Path, scan: Scan) -> dict[str, Any]:
    """What `scan info` prints, as data."""
    meta = scan.metadata
    return {
        "file": str(path),
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
        "format_version": FORMAT_VERSION,
        "bag_id": meta.bag_id,
        "station": meta.station,
        "lane": meta.lane,
        "acquired_at": meta.acquired_at.isoformat(),
        "source": meta.source,
        "source_kind": meta.source_kind.value,
        "scanner_profile": meta.scanner_profile,
        "channel_low": meta.channel_low,
        "channel_high": meta.channel_high,
        "views": [
            {
                "name": v.name,
                "rows": v.shape[0],
                "columns": v.shape[1],
                "dtype": str(v.high.dtype),
                "full_scale": v.full_scale,
                "pixel_pitch_mm": list(v.pixel_pitch_mm),
                "belt_direction": v.belt_direction.value,
                "mean_transmission_high": round(float(np.mean(v.transmission("high"))), 4),
                "mean_transmission_low": round(float(np.mean(v.transmission("low"))), 4),
            }
            for v in scan.views
        ],
        "ground_truth": has_ground_truth(path),
    }


def run_info(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    scan = read_scan(args.file, settings.scan_limits)
    summary = summarise(args.file, scan)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    for key, value in summary.items():
        if key == "views":
            continue
        if key == "ground_truth":
            value = "present (simulator labels; never shown to screeners)" if value else "none"
        print(f"{key:16s} {value}")
    for v in summary["views"]:
        print(
            f"view {v['name']:10s} {v['rows']} x {v['columns']} {v['dtype']} "
            f"(full scale {v['full_scale']:g}), pitch {v['pixel_pitch_mm'][0]:g} x "
            f"{v['pixel_pitch_mm'][1]:g} mm, belt {v['belt_direction']}, mean T high "
            f"{v['mean_transmission_high']:.3f} low {v['mean_transmission_low']:.3f}"
        )
    return 0


def run_store(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    store = ScanStore(args.store or settings.scan_store, settings.scan_limits)
    for path in args.files:
        sha = store.add(path)
        print(f"{sha}  {path} -> {store.path_for(sha)}")
    return 0
