"""Write every file of a supervisor's TIP report into one folder: the CSV files, one PNG
per chart and the PDF (docs/tip-scoring.md, "Supervisor reports").

Files of the same names are replaced; other files in the folder are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from screener.tip.report import SupervisorReport, output_error, write_csv_files
from screener.tip.report_charts import PNG_DPI, ChartPlan, chart_plan
from screener.tip.report_pdf import page_count, write_pdf

__all__ = ["PDF_NAME", "report_steps", "save_chart", "write_report"]

PDF_NAME = "tip_report.pdf"


def report_steps(report: SupervisorReport) -> int:
    """How many times :func:`write_report` calls ``on_step``: once for the CSV files,
    once per chart, once per PDF page."""
    charts = len(chart_plan(report))
    return 1 + charts + page_count(report, charts)


def write_report(report: SupervisorReport, out: Path,
                 on_step: Callable[[str], None] | None = None) -> list[Path]:
    """Write the report into the folder ``out`` (which must exist); returns the files
    written. ``on_step(label)`` is called after each step, for a progress bar."""
    def step(label: str) -> None:
        if on_step is not None:
            on_step(label)

    written = write_csv_files(report, out)
    step("CSV files")
    figures = []
    for plan in chart_plan(report):
        path, figure = save_chart(plan, out)
        written.append(path)
        figures.append(figure)
        step(f"chart {plan.name}")
    written.append(write_pdf(out / PDF_NAME, report, figures, lambda: step("PDF")))
    return written


def save_chart(plan: ChartPlan, out: Path) -> tuple[Path, Figure]:
    """Draw a chart and write it as ``out/<name>.png``; returns the file and the figure,
    its layout fixed, so that the PDF draws it once more instead of twice (a figure with
    a layout engine is drawn a first time just to place its axes)."""
    figure = plan.draw()
    path = out / f"{plan.name}.png"
    try:
        figure.savefig(path, format="png", dpi=PNG_DPI)
    except OSError as exc:
        raise output_error(path, exc) from None
    figure.set_layout_engine("none")
    return path, figure
