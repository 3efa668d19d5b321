"""The audit chain's state: verify every station's chain off the GUI thread, with a
progress bar, and show per station either OK or the first fault (its seq and kind), and
the key fingerprints, as ``screener audit verify`` prints them.

Verification reads only. On the station it also checks the station's key files and
anchors (a swapped database, a cut tail), like ``screener audit verify`` without
``--db``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import func, select

from screener.audit.keys import display_fingerprint
from screener.audit.log import AuditLog
from screener.audit.pins import site_pins, station_expectations
from screener.audit.schema import Event
from screener.audit.verify import SiteReport, StationReport, verify_site
from screener.config import Settings
from screener.ui.background import BackgroundJobs, JobProgress, Progress
from screener.ui.table_model import RowsModel, bold
from screener.ui.theme import MUTED
from screener.ui.widgets import (
    StatusLine,
    card,
    error_text,
    panel_title,
    restyle,
    show_progress,
    table_view,
)

OK_TEXT = QColor("#8ee6ad")
FAULT_TEXT = QColor("#ff9a9a")


@dataclass(frozen=True)
class ChainCheck:
    """One verification: a report per station, when it finished."""

    reports: list[StationReport]
    finished_utc: str
    events: int
    site: SiteReport | None = None  # the site checkpoints, when the database has any

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.reports) and \
            (self.site is None or self.site.ok)


def check_chain(log: AuditLog, settings: Settings, report: Progress) -> ChainCheck:
    """Verify the database behind ``log`` as the station does (worker thread)."""
    engine = log.engine
    with engine.connect() as conn:
        total = int(conn.scalar(select(func.count()).select_from(Event)) or 0)
    done = 0
    report(0, total, "reading the chain")

    def advance(count: int) -> None:
        nonlocal done
        done += count
        report(min(done, total), total, f"{done:,} of {total:,} events checked")

    verified = verify_site(engine, station_expectations(settings.home), advance,
                           site_pins(settings.home))
    report(total, total, "done")
    site = verified.site if verified.site.checkpoints or verified.site.findings else None
    return ChainCheck(verified.stations, datetime.now(UTC).strftime("%H:%M:%S UTC"), done,
                      site)


def fault_text(report: StationReport) -> str:
    first = report.first
    if first is None:
        return "\u2013"
    return f"seq {first.seq} · {first.fault.value}: {first.detail}"


class StationReportModel(RowsModel[StationReport]):
    COLUMNS = ("Station", "Result", "Events", "Checkpoints", "Head", "Key", "First fault")

    def display(self, row: StationReport, column: int) -> str:
        return (row.station, "OK" if row.ok else "TAMPERED", f"{row.events:,}",
                str(row.checkpoints), str(row.head_seq),
                ", ".join(display_fingerprint(f)[:19] for f in row.key_fingerprints) or "none",
                fault_text(row))[column]

    def tooltip(self, row: StationReport, column: int) -> str | None:
        if column == 6 and row.first is not None:
            return str(row.first)
        if column == 5:
            return "\n".join(row.key_fingerprints)
        return None

    def foreground(self, row: StationReport, column: int) -> QColor | None:
        if column in (1, 6):
            return OK_TEXT if row.ok else FAULT_TEXT
        return QColor(MUTED) if column in (2, 3, 4, 5) else None

    def font(self, row: StationReport, column: int) -> QFont | None:
        return bold() if column == 1 else None


class ChainStatusPanel(QWidget):
    """Verify action, progress, per-station results and this station's key."""

    verified = Signal(object)  # ChainCheck
    state_changed = Signal(str, str)  # chip text, level (ok, error, busy, warning, info)

    def __init__(self, log: AuditLog, settings: Settings, tasks: BackgroundJobs,
                 parent: QWidget | None = None, *,
                 fingerprint: Callable[[], str] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tabPage")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.log = log
        self.settings = settings
        self.tasks = tasks
        self._fingerprint = fingerprint or (lambda: log.key.fingerprint)
        self.last: ChainCheck | None = None
        self._build()
        self.refresh_key()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(8)
        key_card = card(self)
        grid = QGridLayout(key_card)
        grid.setContentsMargins(10, 8, 10, 10)
        grid.setHorizontalSpacing(12)
        grid.addWidget(panel_title("This station", key_card), 0, 0, 1, 2)
        station = QLabel("Station", key_card)
        station.setObjectName("fieldLabel")
        grid.addWidget(station, 1, 0)
        self.station_label = QLabel(self.log.station, key_card)
        self.station_label.setObjectName("valueLabel")
        grid.addWidget(self.station_label, 1, 1)
        key = QLabel("Key fingerprint", key_card)
        key.setObjectName("fieldLabel")
        grid.addWidget(key, 2, 0)
        self.fingerprint = QLabel(key_card)
        self.fingerprint.setObjectName("fingerprint")
        self.fingerprint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                                 | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.fingerprint.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.fingerprint.setAccessibleName("Station key fingerprint")
        grid.addWidget(self.fingerprint, 2, 1)
        hint = QLabel("Compare it with the fingerprint your organisation records for this "
                      "station and with the one in an evidence bundle.", key_card)
        hint.setObjectName("fieldLabel")
        hint.setWordWrap(True)
        grid.addWidget(hint, 3, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        column.addWidget(key_card)

        verify_card = card(self)
        inner = QVBoxLayout(verify_card)
        inner.setContentsMargins(10, 8, 10, 10)
        inner.setSpacing(6)
        row = QHBoxLayout()
        row.addWidget(panel_title("Chain verification", verify_card))
        row.addStretch(1)
        self.verify_button = QPushButton("&Verify chain", verify_card)
        self.verify_button.setObjectName("primaryButton")
        self.verify_button.setToolTip("Check every event link, checkpoint signature, key "
                                      "and anchor of every station (F5)")
        row.addWidget(self.verify_button)
        inner.addLayout(row)
        self.progress = QProgressBar(verify_card)
        self.progress.setObjectName("taskProgress")
        self.progress.setTextVisible(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        inner.addWidget(self.progress)
        self.status = StatusLine(verify_card)
        self.status.say("Not verified yet in this session.")
        inner.addWidget(self.status)
        self.model = StationReportModel(self)
        self.table = table_view(verify_card, "chainReports")
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        for index, width in enumerate((110, 104, 70, 100, 56, 160)):
            header.resizeSection(index, width)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(120)
        inner.addWidget(self.table, 1)
        self.faults = QLabel(verify_card)
        self.faults.setObjectName("fieldError")
        self.faults.setWordWrap(True)
        self.faults.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.faults.hide()
        inner.addWidget(self.faults)
        column.addWidget(verify_card, 1)

        self.verify_button.clicked.connect(self.verify)

    def refresh_key(self) -> None:
        value = self._fingerprint()
        self.fingerprint.setText(display_fingerprint(value))
        self.fingerprint.setToolTip(f"sha256 of the station's public key:\n{value}")

    # ------------------------------------------------------------------ verifying
    def verify(self) -> None:
        if self.tasks.running("verify"):
            return
        self.verify_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first report
        self.status.say("Verifying…", "busy")
        self.state_changed.emit("Chain: verifying…", "busy")
        log, settings = self.log, self.settings

        def work(report: Progress) -> ChainCheck:
            return check_chain(log, settings, report)

        self.tasks.submit("verify", work, self._done, failed=self._failed,
                          progress=self._progress)

    def _progress(self, progress: JobProgress) -> None:
        if self.progress.property("state"):
            self.progress.setProperty("state", "")
            restyle(self.progress)
        show_progress(self.progress, progress)
        self.status.say(f"Verifying: {progress.label}", "busy")

    def _done(self, check: ChainCheck) -> None:
        self.last = check
        self.verify_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.model.set_rows(check.reports)
        bad = [r for r in check.reports if not r.ok]
        if not check.reports:
            self.status.say("The log holds no chain yet.", "warning")
            self.state_changed.emit("Chain: empty", "warning")
        elif check.site is not None and not check.site.ok:
            finding = check.site.findings[0]
            where = f"site checkpoint {finding.number}: {finding.fault.value}"
            self.status.say(f"TAMPERED: {where}: {finding.detail} (verified "
                            f"{check.finished_utc}).", "error")
            self.state_changed.emit(f"Site TAMPERED · {where}", "error")
        elif not bad:
            site = "" if check.site is None else \
                f", {check.site.checkpoints} site checkpoint(s) intact"
            self.status.say(f"OK: {len(check.reports)} station chain(s), {check.events:,} "
                            f"events, every link and checkpoint intact{site} "
                            f"(verified {check.finished_utc}).", "ok")
            self.state_changed.emit(f"Chain intact · {check.finished_utc}", "ok")
        else:
            first = bad[0].first
            where = f"{bad[0].station} seq {first.seq}: {first.fault.value}" \
                if first is not None else bad[0].station
            self.status.say(f"TAMPERED: {len(bad)} station chain(s) fail; first: {where} "
                            f"(verified {check.finished_utc}).", "error")
            self.state_changed.emit(f"Chain TAMPERED · {where}", "error")
        self.progress.setProperty("state", "ok" if check.ok else "error")
        restyle(self.progress)
        self.faults.setText("\n".join(str(r.first) for r in bad if r.first is not None))
        self.faults.setVisible(bool(bad))
        self.verified.emit(check)

    def _failed(self, error: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.say(f"Cannot verify: {error_text(error)}", "error")
        self.state_changed.emit("Chain: cannot verify", "warning")
