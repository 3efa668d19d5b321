"""``screener tip ...``: Threat Image Projection commands.

``screener tip library check|build|import|export`` manage the FTI library (docs/tip.md,
"FTI library"); ``screener tip report`` writes the supervisor's TIP report
(docs/tip-scoring.md, "Supervisor reports"). Further ``tip`` commands register beside
``library`` and ``report`` in :func:`register`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from tqdm import tqdm

from screener.audit.database import create_audit_engine, sqlite_path
from screener.cli.tip_settings_command import register_settings
from screener.config import Settings
from screener.tip.build import BuildSettings, build_library
from screener.tip.compliance import (
    REPLACE_AFTER_YEARS,
    TILT_BANDS,
    LibraryReport,
    check_library,
)
from screener.tip.fti import FtiCategory, FtiImage
from screener.tip.library import read_library
from screener.tip.library_exchange import export_folder, import_into
from screener.tip.report import (
    ReportFilters,
    SupervisorReport,
    TipReportError,
    build_report,
    parse_day,
    prepare_output_dir,
    read_report_data,
)
from screener.tip.scoring import Period

EXIT_COMPLIANT = 0
EXIT_NOT_COMPLIANT = 1
REPORT_PERIODS = (Period.DAY, Period.WEEK, Period.MONTH)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tip = commands.add_parser("tip", help="Threat Image Projection: the FTI library, "
                              "supervisor reports")
    tip_commands = tip.add_subparsers(dest="tip_command", required=True, metavar="COMMAND")
    register_library(tip_commands)
    register_report(tip_commands)
    register_settings(tip_commands)


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


def register_report(tip_commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = tip_commands.add_parser(
        "report", help="supervisor TIP report: score cards (CSV), charts (PNG), one PDF",
        description="Score the tip.outcome events of every station in the audit database "
        "per operator, period and FTI category, and write CSV files, PNG charts and one PDF "
        "into a folder (docs/tip-scoring.md, \"Supervisor reports\"). A selection without "
        "events still gives a report, which says so.")
    report.add_argument("--db", metavar="URL",
                        help="database URL (default: the station's audit database)")
    report.add_argument("--operator", dest="operators", action="extend", nargs="+",
                        default=[], metavar="ID",
                        help="only these operators (several, or repeat the option; "
                        "default: everyone)")
    report.add_argument("--from", dest="first_day", metavar="DATE",
                        help="first UTC day, YYYY-MM-DD, included")
    report.add_argument("--to", dest="last_day", metavar="DATE",
                        help="last UTC day, YYYY-MM-DD, included")
    report.add_argument("--period", choices=[p.value for p in REPORT_PERIODS],
                        default=Period.WEEK.value,
                        help="trend period: UTC day, ISO week or month (week)")
    report.add_argument("--category", dest="categories", action="extend", nargs="+",
                        default=[], choices=[c.value for c in FtiCategory], metavar="CATEGORY",
                        help="only TIP trials of these FTI categories (gun, knife, ied, "
                        "other); bags without TIP are always kept: they give F")
    report.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="folder to write into (created when absent)")
    report.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    # The charts need matplotlib: imported here, so that other commands start without it.
    from screener.tip.report_files import PDF_NAME, report_steps, write_report

    settings: Settings = args.settings
    filters = ReportFilters(
        operators=tuple(dict.fromkeys(args.operators)),
        first_day=None if args.first_day is None else parse_day(args.first_day, "--from"),
        last_day=None if args.last_day is None else parse_day(args.last_day, "--to"),
        categories=tuple(FtiCategory(c) for c in dict.fromkeys(args.categories)),
        period=Period(args.period))
    url = args.db or settings.audit_url
    database_file = sqlite_path(url)
    if database_file is not None and not database_file.is_file():
        # checked here: the audit engine's own message is about appends not recorded
        where = "--db" if args.db else "audit database (setting audit_db or --home)"
        raise TipReportError(where, f"{database_file}: no such audit database file")
    out = prepare_output_dir(args.out)
    engine = create_audit_engine(url, create=False)
    with tqdm(total=2, desc="reading events", unit="step", file=sys.stderr,
              disable=None) as bar:
        try:
            data = read_report_data(engine, filters)
        finally:
            engine.dispose()
        bar.update()
        bar.set_description("scoring")
        report = build_report(data, filters)
        bar.update()
        bar.total = 2 + report_steps(report)
        bar.refresh()

        def advance(label: str) -> None:
            bar.set_description(label)
            bar.update()

        files = write_report(report, out, advance)
    for note in report_notes(report):
        print(f"note: {note}", file=sys.stderr)
    charts = sum(path.suffix == ".png" for path in files)
    thin = sum(s.insufficient_data for s in report.summaries())
    print(f"wrote {out / PDF_NAME}, {_count(charts, 'chart')} and "
          f"{_count(sum(path.suffix == '.csv' for path in files), 'CSV file')} to {out}")
    print(f"{_count(report.trials, 'bag')} ({report.tip_trials} TIP trials) of "
          f"{_count(len(report.operators), 'operator')} from "
          f"{_count(len(report.stations), 'station')}; {thin} with insufficient data "
          f"(fewer than {report.min_tip_trials} TIP trials)")
    return 0


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def report_notes(report: SupervisorReport) -> list[str]:
    """What the supervisor should know that the files alone do not shout."""
    if report.empty:
        asked = "; ".join(f"{name} {value}" for name, value in report.filters.descriptions())
        return [f"no tip.outcome events match the filters ({asked}) in {report.database}: "
                "the report says so and has no chart"]
    missing = [op for op in report.operators if report.card(op) is None]
    return [f"operator {op!r} has no tip.outcome event in the range" for op in missing]
