"""The supervisor's TIP report as one PDF: a title page, the charts, and a table of the
operators with their scores (matplotlib's PDF backend; no pyplot).

Pages: 1 title page, one per chart, then :data:`ROWS_PER_PAGE` operators per table page
(none when the report has no operator). Rows of operators with fewer TIP trials than the
threshold are shaded and marked INSUFFICIENT; selected operators without a single trial
are marked NO DATA.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from screener import __version__
from screener.tip.report import OperatorSummary, SupervisorReport, output_error
from screener.tip.report_charts import new_figure

__all__ = ["ROWS_PER_PAGE", "page_count", "table_figures", "title_figure", "write_pdf"]

A4_PORTRAIT = (8.27, 11.69)
ROWS_PER_PAGE = 40
FLAG_FILL = "#f6d5d1"
FLAG_TEXT = "#9b1c1c"
_PERIOD_WORDS = {"day": "days", "week": "ISO weeks", "month": "months", "all": "whole range"}


def page_count(report: SupervisorReport, charts: int) -> int:
    return 1 + charts + math.ceil(len(report.operators) / ROWS_PER_PAGE)


def write_pdf(path: Path, report: SupervisorReport, charts: Sequence[Figure],
              on_page: Callable[[], None] | None = None) -> Path:
    """Write the PDF; ``on_page`` is called after each page."""
    pages = [title_figure(report, len(charts)), *charts, *table_figures(report)]
    metadata = {"Title": "TIP performance report", "Creator": f"screener {__version__}",
                "CreationDate": report.generated_utc}
    try:
        with PdfPages(path, metadata=metadata) as pdf:
            for page in pages:
                pdf.savefig(page)
                if on_page is not None:
                    on_page()
    except OSError as exc:
        raise output_error(path, exc) from None
    return path


# ---------------------------------------------------------------------------- title


def _rate(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def title_figure(report: SupervisorReport, charts: int) -> Figure:
    figure = new_figure(*A4_PORTRAIT)
    figure.set_layout_engine("none")
    figure.text(0.08, 0.93, "TIP performance report", fontsize=22, weight="bold")
    figure.text(0.08, 0.905, "Threat Image Projection: how well screeners find fictional "
                "threat images", fontsize=11, color="#444444")
    period = report.filters.period.value
    if report.first_time is None or report.last_time is None:
        found = "none"
    else:
        found = f"{report.first_time:%Y-%m-%d %H:%M} to {report.last_time:%Y-%m-%d %H:%M} UTC"
    summaries = report.summaries()
    thin = sum(s.insufficient_data for s in summaries)
    lines = [("stations", ", ".join(report.stations) or "none"),
             *report.filters.descriptions(),
             ("trials found", found),
             ("bags screened", f"{report.trials}: {report.tip_trials} TIP trials, "
              f"{report.trials - report.tip_trials} without TIP"),
             ("operators in it", f"{len(report.operators)}; {thin} with "
              f"insufficient data (fewer than {report.min_tip_trials} TIP trials)")]
    team = report.team_card()
    if team is not None and len(report.operators_with_data) > 1:
        lines.append(("team, pooled", f"H {_rate(team.hit_rate)}, F "
                      f"{_rate(team.false_alarm_rate)}, d' {_rate(team.d_prime, 2)}, "
                      f"A' {_rate(team.a_prime)}, c {_rate(team.c, 2)}"))
    lines += [("audit database", report.database),
              ("generated", f"{report.generated_utc:%Y-%m-%d %H:%M:%S} UTC by screener "
               f"{__version__}")]
    y = 0.85
    for name, value in lines:
        wrapped = textwrap.wrap(value, 70) or [""]
        figure.text(0.08, y, name, fontsize=10, weight="bold")
        for part in wrapped:
            figure.text(0.30, y, part, fontsize=10)
            y -= 0.022
        y -= 0.006
    if report.empty:
        y -= 0.02
        figure.text(0.08, y, "No tip.outcome events match these filters: nothing to "
                    "score.", fontsize=13, weight="bold", color=FLAG_TEXT)
        y -= 0.03
    tables = math.ceil(len(report.operators) / ROWS_PER_PAGE)
    notes = [
        f"Contents: this page, {charts} chart page{'s' * (charts != 1)}, "
        f"{tables} table page{'s' * (tables != 1)}. Periods are "
        f"{_PERIOD_WORDS.get(period, period)} in UTC.",
        "H = (hits + 0.5) / (TIP trials + 1); F = (false alarms + 0.5) / (bags without TIP "
        "+ 1) (log-linear correction). A hit needs a suspect call with a mark on the FTI.",
        "d' = z(H) - z(F) (sensitivity); c = -(z(H) + z(F)) / 2 (bias: positive is "
        "cautious, negative calls more bags suspect); A' is Grier's non-parametric "
        "sensitivity, 0.5 chance to 1 perfect.",
        "Intervals are Wilson 95 % intervals of the raw proportions hits / TIP trials and "
        "false alarms / bags without TIP.",
        f"INSUFFICIENT DATA: fewer than {report.min_tip_trials} TIP trials. About 100 "
        "give a reliability near 0.7 (Buser et al. 2025); below that a score says little "
        "about the screener.",
        "The team is every selected operator's trials pooled, not the mean of their "
        "scores. A category filter keeps all bags without TIP (they give F).",
        "Definitions and the CSV files: docs/tip-scoring.md, \"Supervisor reports\".",
    ]
    y -= 0.02
    figure.text(0.08, y, "How to read it", fontsize=11, weight="bold")
    y -= 0.028
    for note in notes:
        for i, part in enumerate(textwrap.wrap(note, 95)):
            figure.text(0.08 if i == 0 else 0.10, y, ("- " if i == 0 else "") + part,
                        fontsize=8.5)
            y -= 0.018
        y -= 0.005
    return figure


# ---------------------------------------------------------------------------- table

# (heading, width in characters); the first column is left-aligned, the others right.
# Each row is one line of monospaced text (and the flag one more): drawing a text per
# cell made the table the slowest page of the PDF.
_COLUMNS = (("operator", 22), ("TIP", 6), ("non-TIP", 9), ("H", 7), ("H 95 % CI", 11),
            ("F", 7), ("d'", 7), ("A'", 7), ("c", 7), ("RT med", 8), ("RT p90", 8))
_MONO_EM = 0.602  # advance of DejaVu Sans Mono, in em


def _line(cells: Sequence[str]) -> str:
    (_, width), *rest = _COLUMNS
    return f"{cells[0]:<{width}}" + "".join(f"{cell:>{w}}" for cell, (_, w) in
                                            zip(cells[1:], rest, strict=True))


def _cells(summary: OperatorSummary) -> tuple[list[str], str]:
    """The row's cells and its flag."""
    width = _COLUMNS[0][1] - 1
    name = summary.operator if len(summary.operator) <= width else \
        summary.operator[:width - 1] + "~"
    card = summary.card
    if card is None:
        return [name, "0", "0", *(["-"] * 8)], "NO DATA"
    ci = "-" if card.hit_rate_ci is None else \
        f"{card.hit_rate_ci[0]:.2f}-{card.hit_rate_ci[1]:.2f}"
    seconds = [("-" if v is None else f"{v / 1000:.1f}")
               for v in (card.rt_median_ms, card.rt_p90_ms)]
    return ([name, str(card.tip_trials), str(card.non_tip_trials), _rate(card.hit_rate),
             ci, _rate(card.false_alarm_rate), _rate(card.d_prime, 2), _rate(card.a_prime),
             "-" if card.c is None else f"{card.c:+.2f}", *seconds],
            "INSUFFICIENT" if card.insufficient_data else "ok")


def table_figures(report: SupervisorReport) -> list[Figure]:
    """The operator table, :data:`ROWS_PER_PAGE` rows a page, operators in name order."""
    summaries = report.summaries()
    pages = math.ceil(len(summaries) / ROWS_PER_PAGE)
    size = 7.5
    flag_x = 0.05 + (sum(w for _, w in _COLUMNS) + 2) * _MONO_EM * size / 72 / A4_PORTRAIT[0]
    mono: dict[str, Any] = {"family": "monospace", "fontsize": size}
    figures = []
    for page in range(pages):
        rows = summaries[page * ROWS_PER_PAGE:(page + 1) * ROWS_PER_PAGE]
        figure = new_figure(*A4_PORTRAIT)
        figure.set_layout_engine("none")
        figure.text(0.05, 0.95, f"Operators, whole range ({page + 1} of {pages})",
                    fontsize=14, weight="bold")
        figure.text(0.05, 0.93, "Every selected category pooled; split none. Rows shaded "
                    f"and marked INSUFFICIENT have fewer than {report.min_tip_trials} TIP "
                    "trials.", fontsize=8, color="#444444")
        top, step = 0.90, 0.021
        figure.text(0.05, top, _line([name for name, _ in _COLUMNS]), weight="bold", **mono)
        figure.text(flag_x, top, "data", weight="bold", **mono)
        figure.add_artist(Rectangle((0.04, top - 0.006), 0.93, 0.0012, color="black",
                                    transform=figure.transFigure))
        for i, summary in enumerate(rows):
            y = top - step * (i + 1)
            cells, flag = _cells(summary)
            flagged = summary.insufficient_data
            if flagged:
                figure.add_artist(Rectangle((0.04, y - 0.006), 0.93, step * 0.9,
                                            color=FLAG_FILL, transform=figure.transFigure,
                                            zorder=0))
            figure.text(0.05, y, _line(cells), **mono)
            figure.text(flag_x, y, flag, weight="bold" if flagged else "normal",
                        color=FLAG_TEXT if flagged else "black", **mono)
        figure.text(0.05, 0.03, "H, F: corrected rates; CI: Wilson 95 % of hits / TIP "
                    "trials; RT: response time of the TIP trials in seconds (median, 90th "
                    "percentile).\nEvery digit: operator_summary.csv.", fontsize=7,
                    color="#444444")
        figures.append(figure)
    return figures
