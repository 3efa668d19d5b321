"""Export the supervisor's TIP report into a folder: the same code as
``screener tip report`` (:mod:`screener.tip.report_files`), with the filters the view
shows, on a worker thread, with a progress bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from screener.audit.log import AuditLog
from screener.tip.report import (
    ReportFilters,
    build_report,
    prepare_output_dir,
    read_report_data,
)
from screener.ui.background import BackgroundJobs, JobProgress, JobResult, Progress
from screener.ui.theme import MUTED
from screener.ui.widgets import say, show_progress, side_panel

EXPORT = "report.export"


@dataclass(frozen=True)
class Exported:
    folder: Path
    files: tuple[Path, ...]
    trials: int
    tip_trials: int
    operators: int
    insufficient: int


def export_report(log: AuditLog, filters: ReportFilters, out: Path,
                  progress: Progress) -> Exported:
    """What ``screener tip report --out OUT`` does, reporting each step to ``progress``."""
    from screener.tip.report_files import report_steps, write_report  # matplotlib

    folder = prepare_output_dir(out)
    progress(0, 0, "reading the tip.outcome events")
    data = read_report_data(log.engine, filters)
    progress(0, 0, "scoring")
    report = build_report(data, filters)
    total = 2 + report_steps(report)
    done = 2
    progress(done, total, "scored")

    def step(label: str) -> None:
        nonlocal done
        done += 1
        progress(done, total, label)

    files = write_report(report, folder, step)
    return Exported(folder, tuple(files), report.trials, report.tip_trials,
                    len(report.operators), sum(s.insufficient_data for s in report.summaries()))


class ExportPanel(QWidget):
    """Folder, button, progress, and what was written."""

    exported = Signal(object)  # Exported

    def __init__(self, log: AuditLog, jobs: BackgroundJobs,
                 filters: Callable[[], ReportFilters | None], default_folder: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportExport")
        self.log = log
        self.jobs = jobs
        self.filters = filters
        self._build(default_folder)
        jobs.finished.connect(self._finished)
        jobs.progressed.connect(self._progressed)

    def _build(self, default_folder: Path) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        frame, column = side_panel(self, "EXPORT THE TIP REPORT", (14, 12, 14, 12))
        column.setSpacing(8)
        about = QLabel("The files of <code>screener tip report</code> for the filters above: "
                       "score_cards.csv, team_score_cards.csv, operator_summary.csv, one PNG "
                       "per chart and tip_report.pdf. Files of the same names in the folder "
                       "are replaced; other files are left alone.", frame)
        about.setWordWrap(True)
        about.setStyleSheet(f"color: {MUTED};")
        column.addWidget(about)
        row = QHBoxLayout()
        label = QLabel("Fol&der", frame)
        self.folder = QLineEdit(str(default_folder), frame)
        self.folder.setObjectName("exportFolder")
        self.folder.setAccessibleName("Export folder")
        label.setBuddy(self.folder)
        self.browse = QPushButton("Bro&wse…", frame)
        self.browse.setObjectName("exportBrowse")
        row.addWidget(label)
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        column.addLayout(row)
        row = QHBoxLayout()
        self.export_button = QPushButton("Export re&port", frame)
        self.export_button.setObjectName("exportButton")
        self.export_button.setProperty("primary", True)
        self.progress = QProgressBar(frame)
        self.progress.setObjectName("exportProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(10)
        row.addWidget(self.export_button)
        row.addWidget(self.progress, 1)
        column.addLayout(row)
        self.status = QLabel("", frame)
        self.status.setObjectName("messageLabel")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.status)
        self.files = QListWidget(frame)
        self.files.setObjectName("exportedFiles")
        self.files.setAccessibleName("Files written")
        column.addWidget(self.files, 1)
        outer.addWidget(frame)
        self.browse.clicked.connect(self.choose_folder)
        self.export_button.clicked.connect(self.export)
        self.folder.returnPressed.connect(self.export)

    def choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Export the TIP report into",
                                                  self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def export(self) -> None:
        if self.jobs.running(EXPORT):
            return
        text = self.folder.text().strip()
        filters = self.filters()
        if not text:
            say(self.status, "error", "Choose a folder to export into.")
            return
        if filters is None:
            say(self.status, "error", "Correct the filters first (see the message above "
                "the table).")
            return
        out = Path(text).expanduser()
        log = self.log

        def work(progress: Progress) -> Exported:
            return export_report(log, filters, out, progress)

        self.export_button.setEnabled(False)
        self.files.clear()
        self.progress.setRange(0, 0)
        say(self.status, "", f"Exporting to {out}…")
        self.jobs.submit(EXPORT, work)

    def _progressed(self, progress: JobProgress) -> None:
        if progress.tag != EXPORT:
            return
        show_progress(self.progress, progress)
        say(self.status, "", f"Exporting: {progress.label}…")

    def _finished(self, result: JobResult) -> None:
        if result.tag != EXPORT:
            return
        self.export_button.setEnabled(True)
        self.progress.setRange(0, 1)
        if result.error is not None:
            self.progress.setValue(0)
            say(self.status, "error", f"Not exported: {result.error}")
            return
        done: Exported = result.value
        self.progress.setValue(1)
        for path in done.files:
            self.files.addItem(str(path))
        note = "" if done.trials else " No tip.outcome events match these filters: the " \
            "report says so and has no chart."
        say(self.status, "ok", f"Wrote {len(done.files)} files to {done.folder}: "
            f"{done.trials} bags ({done.tip_trials} TIP trials) of {done.operators} "
            f"operators, {done.insufficient} with insufficient data.{note}")
        self.exported.emit(done)
