"""``screener tip ...``: Threat Image Projection commands.

``screener tip library check|build|import|export`` manage the FTI library (docs/tip.md,
"FTI library"). Further ``tip`` commands register beside ``library`` in :func:`register`.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

from tqdm import tqdm

from screener.tip.build import BuildSettings, build_library
from screener.tip.compliance import (
    REPLACE_AFTER_YEARS,
    TILT_BANDS,
    LibraryReport,
    check_library,
)
from screener.tip.fti import FtiImage
from screener.tip.library import read_library
from screener.tip.library_exchange import export_folder, import_into

EXIT_COMPLIANT = 0
EXIT_NOT_COMPLIANT = 1



def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tip = commands.add_parser("tip", help="Threat Image Projection: the FTI library")
    tip_commands = tip.add_subparsers(dest="tip_command", required=True, metavar="COMMAND")
    register_library(tip_commands)


def register_library(tip_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    library = tip_commands.add_parser(
        "library", help="check, build, import and export FTI libraries",
        description="FTI libraries: fictional threat images in one HDF5 file (docs/tip.md).",
    )
    actions = library.add_subparsers(dest="library_action", required=True, metavar="ACTION")

    check = actions.add_parser(
        "check", help="validate a library and compare it with the ICAO figures "
        "(exit 0 compliant, 1 not compliant, 2 unreadable)")
    check.add_argument("file", type=Path)
    check.add_argument("--json", action="store_true", help="print JSON instead of text")
    check.add_argument("--as-of", type=date.fromisoformat, default=None, metavar="DATE",
                       help="the check date, YYYY-MM-DD (default today, UTC)")
    check.add_argument("--replace-after-years", type=int, default=REPLACE_AFTER_YEARS,
                       metavar="N", help="images added more than N years before the check "
                       f"date are due for replacement ({REPLACE_AFTER_YEARS})")
    check.add_argument("--index-only", action="store_true",
                       help="check the index only, without reading every image's pixels")
    check.set_defaults(run=run_check)

    build = actions.add_parser("build", help="make a library from the simulator")
    build.add_argument("--out", type=Path, required=True, help="library file to write")
    build.add_argument("--articles", type=int, default=250, help="threat articles (250)")
    build.add_argument("--orientations", type=int, default=24,
                       help="orientations per article (24)")
    build.add_argument("--seed", type=int, default=0, help="random seed; same seed, same file")
    build.add_argument("--jobs", type=int, default=None, help="worker processes (all cores)")
    build.add_argument("--added", default=None, metavar="DATE",
                       help="date written on every image, YYYY-MM-DD (default today, UTC)")
    build.set_defaults(run=run_build)

    imp = actions.add_parser(
        "import", help="merge a library file or an exported folder into a library")
    imp.add_argument("source", type=Path, help="library file (.h5) or folder of .npz items")
    imp.add_argument("--into", type=Path, required=True,
                     help="library to add to (created when absent)")
    imp.set_defaults(run=run_import)

    export = actions.add_parser("export", help="write every image as <fti_id>.npz")
    export.add_argument("file", type=Path)
    export.add_argument("--out", type=Path, required=True, help="folder to write into")
    export.set_defaults(run=run_export)


def _today() -> date:
    return datetime.now(UTC).date()


def run_check(args: argparse.Namespace) -> int:
    library = read_library(args.file)
    if not args.index_only:
        with tqdm(total=len(library), unit="image", desc="checking pixels",
                  disable=None) as bar:
            for _ in library.images():
                bar.update()
    report = check_library(library, args.as_of or _today(), args.replace_after_years)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for line in report_lines(report):
            print(line)
    return EXIT_COMPLIANT if report.compliant else EXIT_NOT_COMPLIANT


def report_lines(report: LibraryReport) -> list[str]:
    """The text form of a check."""
    o = report.orientation
    lines = [
        f"{'file':14s}{report.file}",
        f"{'checked as of':14s}{report.as_of}",
        f"{'images':14s}{report.images} of {report.articles} articles",
    ]
    for name, count in report.categories.items():
        lines.append(f"{'  ' + name:14s}{count.images} images of {count.articles} articles")
    subs = ", ".join(f"{k} {v}" for k, v in report.subcategories.items()) or "none"
    lines.append(f"{'subcategories':14s}{subs}")
    profiles = ", ".join(f"{k} {v}" for k, v in report.scanner_profiles.items()) or "none"
    lines.append(f"{'scanners':14s}{profiles}")
    tilts = ", ".join(f"{name} ({lo:g}-{hi:g} deg) {100 * o.tilt_shares[name]:.0f} %"
                      for name, lo, hi in TILT_BANDS)
    lines += [
        f"{'orientations':14s}per article min {o.per_article_min}, median "
        f"{o.per_article_median:g}, max {o.per_article_max}",
        f"{'tilt':14s}{tilts}; {o.articles_in_all_bands} of {report.articles} articles "
        f"seen in all three; median tilt range per article {o.median_tilt_range_deg:g} deg",
        f"{'added':14s}{report.added_last_365_days} in the last 365 days; oldest "
        f"{report.oldest_added or '-'}, newest {report.newest_added or '-'}",
        f"{'due':14s}{report.due_for_replacement} images added more than "
        f"{report.replace_after_years} years ago are due for replacement",
    ]
    lines += [f"{'note':14s}{note}" for note in report.notes]
    for f in report.figures:
        verdict = "ok" if f.passed else "FAILS"
        lines.append(f"{'ICAO':14s}{f.name}: {f.actual} {f.description}, required at least "
                     f"{f.required}: {verdict}")
    if report.compliant:
        lines.append("compliant: meets every ICAO figure")
    else:
        failing = "; ".join(f"{f.name} {f.actual} < {f.required}" for f in report.failing)
        lines.append(f"NOT COMPLIANT: {failing}")
    return lines


def run_build(args: argparse.Namespace) -> int:
    settings = BuildSettings(
        articles=args.articles, orientations=args.orientations, seed=args.seed,
        **({"added": args.added} if args.added else {}),
    )
    start = time.perf_counter()
    with tqdm(total=settings.images, unit="image", desc="capturing", disable=None) as bar:

        def advance(images: list[FtiImage]) -> None:
            bar.set_postfix_str(images[0].article_id)
            bar.update(len(images))

        build_library(args.out, settings, jobs=args.jobs, on_article=advance)
    seconds = time.perf_counter() - start
    size_mb = args.out.stat().st_size / 1e6
    print(f"wrote {settings.images} images of {settings.articles} articles "
          f"({settings.orientations} orientations each) to {args.out}: {size_mb:.1f} MB "
          f"in {seconds:.1f} s")
    return 0


def run_import(args: argparse.Namespace) -> int:
    with tqdm(unit="image", desc="importing", disable=None) as bar:
        summary = import_into(args.source, args.into, on_item=lambda _: bar.update())
    print(f"imported {summary.added} images into {args.into}; {summary.identical} already "
          "there with the same content were skipped")
    return 0


def run_export(args: argparse.Namespace) -> int:
    library = read_library(args.file)
    with tqdm(total=len(library), unit="image", desc="exporting", disable=None) as bar:
        count = export_folder(library, args.out, on_item=lambda _: bar.update())
    print(f"wrote {count} images to {args.out} as <fti_id>.npz (high, low, mask, metadata)")
    return 0
