"""``screener scan info``, ``screener scan store`` and ``screener scan export-dicos``.

All take native scan files and the files :func:`screener.scan.load_any` imports (PNG,
JPEG, ``.npy``, DICOS ``.dcs``); ``store`` keeps an imported file as the native .h5
written from it; ``export-dicos`` writes a scan as DICOS DX images (docs/dicos.md).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from screener.config import Settings
from screener.scan import (
    FORMAT_VERSION,
    Scan,
    ScanStore,
    file_kind,
    file_sha256,
    load_any,
    missing_capabilities,
)
from screener.scan.hdf5 import has_ground_truth

_FILE_TYPES = {"png": "PNG image", "jpeg": "JPEG image", "npy": ".npy array",
               "dicos": "DICOS DX image"}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scan = commands.add_parser("scan", help="inspect and store scan files")
    actions = scan.add_subparsers(dest="action", required=True, metavar="ACTION")
    info = actions.add_parser(
        "info", help="validate a scan file (or import a PNG/JPEG/.npy) and print a summary"
    )
    info.add_argument("file", type=Path)
    info.add_argument("--json", action="store_true", help="print JSON instead of text")
    info.set_defaults(run=run_info)
    store = actions.add_parser(
        "store", help="validate scan files and add them to the store (PNG/JPEG/.npy are "
        "imported and stored as native .h5 scans)"
    )
    store.add_argument("files", type=Path, nargs="+")
    store.add_argument("--store", type=Path, help="store folder (default: <home>/scans)")
    store.set_defaults(run=run_store)
    export = actions.add_parser(
        "export-dicos", help="write a scan as DICOS DX images, one file per energy per view",
        description="Write a scan (or any file `scan info` reads) as DICOS DX images "
        "(NEMA IIC 1 v03): one file per energy per view, sharing one Scan Instance UID. "
        "See docs/dicos.md.",
    )
    export.add_argument("file", type=Path)
    export.add_argument("--out", type=Path, required=True, help="folder for the .dcs files")
    export.add_argument("--stem", help="file name stem (default: the bag id)")
    export.set_defaults(run=run_export_dicos)


def summarise(path: Path, scan: Scan, kind: str = "scan") -> dict[str, Any]:
    """What `scan info` prints, as data. ``kind`` is :func:`screener.scan.file_kind`'s."""
    meta = scan.metadata
    native = kind == "scan"
    dicos_files: dict[str, Any] = {}
    if kind == "dicos":
        from screener.scan.dicos import dicos_group

        group = dicos_group(path)
        dicos_files["dicos_files"] = [str(p) for p in group]
    return {
        "file": str(path),
        "file_type": "screener scan (HDF5)" if native else
        f"{_FILE_TYPES[kind]}, imported (`scan store` stores it as a native .h5 scan)",
        **dicos_files,
        "sha256": file_sha256(path),
        "bytes": path.stat().st_size,
        "format_version": FORMAT_VERSION if native else None,
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
                "mean_transmission_low": round(float(np.mean(v.transmission("low"))), 4)
                if v.has_dual_energy else None,
                "material_class": v.material_class is not None,
            }
            for v in scan.views
        ],
        "missing_capabilities": missing_capabilities(scan),
        "ground_truth": native and has_ground_truth(path),
    }


def run_info(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    kind = file_kind(args.file)
    scan = load_any(args.file, settings.scan_limits)
    summary = summarise(args.file, scan, kind)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    for key, value in summary.items():
        if key in ("views", "missing_capabilities"):
            continue
        if key == "ground_truth":
            value = "present (simulator labels; never shown to screeners)" if value else "none"
        if key == "format_version" and value is None:
            value = "none (not a native scan file)"
        if key == "dicos_files":
            value = f"{len(value)} of this scan: {', '.join(Path(p).name for p in value)}"
        print(f"{key:16s} {value}")
    missing = summary["missing_capabilities"]
    if not missing:
        print(f"{'missing':16s} none")
    for name, reason in missing.items():
        print(f"{'missing':16s} {name}: {reason}")
    for v in summary["views"]:
        low = "none" if v["mean_transmission_low"] is None else \
            f"{v['mean_transmission_low']:.3f}"
        extra = ", material classes from colour" if v["material_class"] else ""
        print(
            f"view {v['name']:10s} {v['rows']} x {v['columns']} {v['dtype']} "
            f"(full scale {v['full_scale']:g}), pitch {v['pixel_pitch_mm'][0]:g} x "
            f"{v['pixel_pitch_mm'][1]:g} mm, belt {v['belt_direction']}, mean T high "
            f"{v['mean_transmission_high']:.3f} low {low}{extra}"
        )
    return 0


def run_store(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    store = ScanStore(args.store or settings.scan_store, settings.scan_limits)
    for path in args.files:
        kind = file_kind(path)
        if kind == "scan":
            sha = store.add(path)
            print(f"{sha}  {path} -> {store.path_for(sha)}")
            continue
        scan = load_any(path, settings.scan_limits)
        sha = store.add_scan(scan)
        print(f"{sha}  {path} -> {store.path_for(sha)} (imported {_FILE_TYPES[kind]} as a "
              f"{scan.metadata.source_kind.value} scan, stored as a native .h5 written by "
              "write_scan)")
    return 0


def run_export_dicos(args: argparse.Namespace) -> int:
    from screener.scan.dicos_export import write_dicos_dx  # pydicom takes ~0.2 s to import

    settings: Settings = args.settings
    scan = load_any(args.file, settings.scan_limits)
    written = write_dicos_dx(scan, args.out, stem=args.stem)
    for path in written:
        print(path)
    print(f"{len(written)} DICOS DX file(s) of bag {scan.metadata.bag_id} written to "
          f"{args.out}")
    return 0
