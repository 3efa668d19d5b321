"""Recorded blind-test results (``blind_test.completed`` events, read with
:func:`screener.workflow.blind_tests.results`) and their certificates
(:func:`screener.tip.certificate.write_certificate`), as ``screener blind-test results``
and ``screener blind-test certificate`` give them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from screener.audit.keys import display_fingerprint, key_path, load_key
from screener.audit.log import AuditLog
from screener.config import Settings
from screener.errors import ScreenerError
from screener.tip.certificate import write_certificate
from screener.ui.background import BackgroundJobs, JobResult, Progress
from screener.ui.theme import ERROR, PASSED
from screener.ui.widgets import say
from screener.workflow.blind_tests import RecordedResult, results

LOAD = "results.load"
CERTIFICATE = "results.certificate"
COLUMNS = ("Time (UTC)", "Trainee", "Test", "Images", "H", "F", "d\u2032", "A\u2032",
           "Late", "Verdict")
PASS = QColor(PASSED)
FAIL = QColor(ERROR)


def station_key(settings: Settings, station: str) -> str | None:
    """The station key's fingerprint when this machine holds it (as the CLI does)."""
    try:
        return display_fingerprint(load_key(key_path(settings.home, station)).fingerprint)
    except ScreenerError:
        return None


def write_certificates(settings: Settings, folder: Path,
                       chosen: list[RecordedResult]) -> list[Path]:
    return [write_certificate(folder, r.payload, r.event, station_key(settings,
                                                                      r.event.station))
            for r in chosen]


class ResultsPage(QWidget):
    """The results list, newest first, and the certificate of the selected one."""

    certificates_written = Signal(object)  # list[Path]

    def __init__(self, settings: Settings, log: AuditLog, jobs: BackgroundJobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultsPage")
        self.settings = settings
        self.log = log
        self.jobs = jobs
        self.results: list[RecordedResult] = []
        self._select_latest = False
        self._build()
        jobs.finished.connect(self._finished)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        row = QHBoxLayout()
        self.filter = QLineEdit(self)
        self.filter.setObjectName("resultsFilter")
        self.filter.setPlaceholderText("Filter by trainee or test…")
        self.filter.setAccessibleName("Filter results")
        self.filter.setClearButtonEnabled(True)
        self.count = QLabel("", self)
        self.count.setObjectName("hint")
        self.refresh_button = QPushButton("Rel&oad", self)
        self.refresh_button.setObjectName("reloadResults")
        row.addWidget(self.filter, 1)
        row.addWidget(self.count)
        row.addWidget(self.refresh_button)
        outer.addLayout(row)
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("resultsList")
        self.tree.setAccessibleName("Blind test results")
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setSortingEnabled(True)
        outer.addWidget(self.tree, 1)
        frame = QFrame(self)
        frame.setObjectName("sidePanel")
        row = QHBoxLayout(frame)
        row.setContentsMargins(12, 8, 12, 8)
        label = QLabel("Certificates &into", frame)
        self.folder = QLineEdit(str(self.settings.home / "certificates"), frame)
        self.folder.setObjectName("certificateFolder")
        label.setBuddy(self.folder)
        self.browse = QPushButton("Browse…", frame)
        self.certificate_button = QPushButton("Write &certificate", frame)
        self.certificate_button.setObjectName("writeCertificate")
        self.certificate_button.setProperty("primary", True)
        self.certificate_button.setToolTip("One printable HTML page per selected result; it "
                                           "names its audit event")
        row.addWidget(label)
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        row.addWidget(self.certificate_button)
        outer.addWidget(frame)
        self.message = QLabel("", self)
        self.message.setObjectName("messageLabel")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        outer.addWidget(self.message)
        self.refresh_button.clicked.connect(self.reload)
        self.filter.textChanged.connect(self._filter)
        self.browse.clicked.connect(self._choose)
        self.certificate_button.clicked.connect(self.write)
        self.tree.itemActivated.connect(lambda _i, _c: self.write())

    def reload(self, *, select_latest: bool = False) -> None:
        """Read the results again (worker thread); ``select_latest``: then select the
        newest, as after a test."""
        engine = self.log.engine
        self._select_latest = select_latest

        def work(_progress: Progress) -> list[RecordedResult]:
            return results(engine)

        self.jobs.submit(LOAD, work, drop_stale=True)

    def _choose(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Write certificates into",
                                                  self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def selected(self) -> list[RecordedResult]:
        return [self.results[int(item.data(0, Qt.ItemDataRole.UserRole))]
                for item in self.tree.selectedItems()]

    def select_latest(self) -> None:
        """Select the newest result (after a test was taken)."""
        if self.tree.topLevelItemCount():
            self.tree.sortItems(0, Qt.SortOrder.DescendingOrder)
            item = self.tree.topLevelItem(0)
            if item is not None:
                self.tree.setCurrentItem(item)

    def write(self) -> None:
        chosen = self.selected()
        if not chosen:
            say(self.message, "error", "Select a result first.")
            return
        text = self.folder.text().strip()
        if not text:
            say(self.message, "error", "Choose a folder for the certificates.")
            return
        folder = Path(text).expanduser()
        settings = self.settings

        def work(_progress: Progress) -> list[Path]:
            return write_certificates(settings, folder, chosen)

        self.certificate_button.setEnabled(False)
        self.jobs.submit(CERTIFICATE, work)

    def _finished(self, result: JobResult) -> None:
        if result.tag not in (LOAD, CERTIFICATE):
            return
        if result.tag == CERTIFICATE:
            self.certificate_button.setEnabled(True)
            if result.error is not None:
                say(self.message, "error", f"Not written: {result.error}")
                return
            paths: list[Path] = result.value
            say(self.message, "ok", "Wrote " + ", ".join(str(p) for p in paths))
            self.certificates_written.emit(paths)
            return
        if result.skipped or not self.jobs.is_current(result):
            return
        if result.error is not None:
            say(self.message, "error", f"The results cannot be read: {result.error}")
            return
        self._show(result.value)

    def _show(self, found: list[RecordedResult]) -> None:
        self.results = found
        self.tree.setSortingEnabled(False)
        self.tree.clear()
        for number, recorded in enumerate(found):
            p = recorded.payload
            passed = bool(p.get("passed"))
            values = [recorded.event.time_utc[:19].replace("T", " "), recorded.trainee,
                      f"{p.get('test_name', '')} ({recorded.test_id[:8]})", str(p["trials"]),
                      _fixed(p.get("hit_rate")), _fixed(p.get("false_alarm_rate")),
                      _fixed(p.get("d_prime"), 2), _fixed(p.get("a_prime")),
                      str(p.get("timeouts", 0)), "PASSED" if passed else "NOT PASSED"]
            item = QTreeWidgetItem(values)
            item.setData(0, Qt.ItemDataRole.UserRole, number)
            item.setForeground(len(COLUMNS) - 1, PASS if passed else FAIL)
            item.setToolTip(0, f"audit event {recorded.event.station}#{recorded.event.seq}")
            for column in range(3, len(COLUMNS) - 1):
                item.setTextAlignment(column, Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
        self.tree.setSortingEnabled(True)
        self.tree.sortItems(0, Qt.SortOrder.DescendingOrder)
        for column in range(len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self._filter()
        if self._select_latest:
            self._select_latest = False
            self.select_latest()
            self.tree.setFocus(Qt.FocusReason.OtherFocusReason)

    def _filter(self) -> None:
        text = self.filter.text().strip().lower()
        shown = 0
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            if item is None:
                continue
            hide = bool(text) and text not in item.text(1).lower() \
                and text not in item.text(2).lower()
            item.setHidden(hide)
            shown += not hide
        total = self.tree.topLevelItemCount()
        noun = "result" if total == 1 else "results"
        self.count.setText(f"{shown} of {total} {noun}" if shown != total
                           else f"{total} {noun}")


def _fixed(value: object, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else "\u2013"
