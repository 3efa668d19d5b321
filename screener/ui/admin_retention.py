"""Retention: which stored scan files are past their keeping period, which of those a
case holds, and the purge, as ``screener retention purge --older-than DAYS [--dry-run]``
does (:mod:`screener.audit.retention`).

A dry run lists and deletes nothing. A purge is the administrator's
(``retention.manage``; the guard logs and refuses anyone else), asks to be confirmed,
plans again at that moment, logs ``retention.purged`` with every hash and only then
deletes the files. Events keep the hashes, so the chain verifies as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from screener.audit.cases import case_holds
from screener.audit.chain import EventRecord
from screener.audit.log import AuditLog
from screener.audit.retention import PurgePlan, execute_purge, first_seen, plan_purge
from screener.scan.store import ScanStore
from screener.ui.background import BackgroundJobs, Progress
from screener.ui.table_model import RowsModel, monospace
from screener.ui.theme import AMBER, MUTED
from screener.ui.widgets import (
    StatusLine,
    card_column,
    error_text,
    field_label,
    table_view,
)
from screener.workflow.roles import Action, Guard
from screener.workflow.session import Operator

DEFAULT_DAYS = 180
PURGE_TEXT = QColor("#ff9a9a")
HELD_TEXT = QColor(AMBER)


@dataclass(frozen=True)
class RetentionRow:
    scan_sha256: str
    first_seen: str  # UTC text, or "" when no event names it (file time used)
    size: int
    status: str  # "to delete", "deleted", "on hold: CASE-1, CASE-2"
    held: bool


@dataclass(frozen=True)
class RetentionOutcome:
    plan: PurgePlan
    rows: list[RetentionRow]
    dry_run: bool
    logged: EventRecord | None  # the retention.purged event of a purge


def _rows(log: AuditLog, store: ScanStore, plan: PurgePlan, *, deleted: bool
          ) -> list[RetentionRow]:  # fmt: skip
    seen = first_seen(log.engine)
    holding: dict[str, list[str]] = {}
    for case, scans in case_holds(log.engine).items():
        for digest in scans:
            holding.setdefault(digest, []).append(case)
    rows = []
    for digest in plan.purge:
        path = store.path_for(digest)
        size = path.stat().st_size if path.is_file() else 0
        rows.append(RetentionRow(digest, seen.get(digest, ""), size,
                                 "deleted" if deleted else "to delete", False))
    for digest in plan.held:
        path = store.path_for(digest)
        size = path.stat().st_size if path.is_file() else 0
        cases = ", ".join(sorted(holding.get(digest, []))) or "a case"
        rows.append(RetentionRow(digest, seen.get(digest, ""), size, f"on hold: {cases}",
                                 True))
    return rows


def review_retention(log: AuditLog, store: ScanStore, days: int) -> RetentionOutcome:
    """A dry run: what a purge would delete now and what holds keep (worker)."""
    plan = plan_purge(log.engine, store, days)
    return RetentionOutcome(plan, _rows(log, store, plan, deleted=False), True, None)


def run_purge(log: AuditLog, store: ScanStore, operator: Operator, days: int
              ) -> RetentionOutcome:  # fmt: skip
    """The purge: the role checked, planned now, logged, then the files deleted."""
    Guard(log).require(operator.id, operator.role, Action.MANAGE_RETENTION,
                       subject=f"purge scans older than {days} days")
    plan = plan_purge(log.engine, store, days)
    before = _rows(log, store, plan, deleted=False)
    logged = None
    if plan.purge:
        logged = execute_purge(log, store, plan, actor=operator.id, role=operator.role.value)
    rows = [RetentionRow(r.scan_sha256, r.first_seen, r.size,
                         "deleted" if not r.held else r.status, r.held) for r in before]
    return RetentionOutcome(plan, rows, False, logged)


class RetentionModel(RowsModel[RetentionRow]):
    COLUMNS = ("Scan sha256", "First seen (UTC)", "Size", "Status")

    def display(self, row: RetentionRow, column: int) -> str:
        seen = row.first_seen[:19].replace("T", " ") if row.first_seen else \
            "no event (file time)"
        return (row.scan_sha256[:24] + "…", seen, f"{row.size / 1e6:.2f} MB",
                row.status)[column]

    def tooltip(self, row: RetentionRow, column: int) -> str | None:
        return row.scan_sha256 if column == 0 else None

    def foreground(self, row: RetentionRow, column: int) -> QColor | None:
        if column == 3:
            return HELD_TEXT if row.held else PURGE_TEXT
        return QColor(MUTED) if column in (1, 2) else None

    def font(self, row: RetentionRow, column: int) -> QFont | None:
        return monospace() if column == 0 else None


class RetentionPanel(QFrame):
    """Days, dry run, purge (confirmed), and the scans concerned."""

    purged = Signal(object)  # RetentionOutcome
    reviewed = Signal(object)  # RetentionOutcome

    def __init__(self, log: AuditLog, store: ScanStore, operator: Operator, tasks: BackgroundJobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tabPage")
        self.log = log
        self.store = store
        self.operator = operator
        self.tasks = tasks
        self.last: RetentionOutcome | None = None
        self._build()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(8)
        frame, inner = card_column(self, "Retention of scan files")
        explain = QLabel("Scan files first seen more than the given number of days ago are "
                         "deleted, except those a case holds. The purge is logged before any "
                         "file goes; events keep the hashes, so the chain verifies as "
                         "before.", frame)
        explain.setObjectName("fieldLabel")
        explain.setWordWrap(True)
        inner.addWidget(explain)
        row = QHBoxLayout()
        row.setSpacing(8)
        self.days = QSpinBox(frame)
        self.days.setObjectName("retentionDays")
        self.days.setRange(1, 36_500)
        self.days.setValue(DEFAULT_DAYS)
        self.days.setSuffix(" days")
        self.days.setToolTip("Keep scan files for this many days after their first event")
        row.addWidget(field_label("Older &than", self.days, frame))
        row.addWidget(self.days)
        self.dry_run_button = QPushButton("&Dry run", frame)
        self.dry_run_button.setObjectName("primaryButton")
        self.dry_run_button.setToolTip("List what a purge would delete now; delete nothing")
        self.purge_button = QPushButton("&Purge…", frame)
        self.purge_button.setObjectName("dangerButton")
        self.purge_button.setToolTip("Delete the files (asks first)")
        row.addWidget(self.dry_run_button)
        row.addWidget(self.purge_button)
        row.addStretch(1)
        inner.addLayout(row)
        self.confirm = QFrame(frame)
        self.confirm.setObjectName("confirmBar")
        confirm_row = QHBoxLayout(self.confirm)
        confirm_row.setContentsMargins(8, 6, 8, 6)
        self.confirm_text = QLabel(self.confirm)
        self.confirm_text.setObjectName("valueLabel")
        self.confirm_text.setWordWrap(True)
        confirm_row.addWidget(self.confirm_text, 1)
        self.purge_confirm = QPushButton("Delete &now", self.confirm)
        self.purge_confirm.setObjectName("dangerButton")
        self.purge_cancel = QPushButton("Cancel", self.confirm)
        confirm_row.addWidget(self.purge_confirm)
        confirm_row.addWidget(self.purge_cancel)
        self.confirm.hide()
        inner.addWidget(self.confirm)
        self.summary = StatusLine(frame)
        self.summary.say("Run a dry run to see what a purge would delete.")
        inner.addWidget(self.summary)
        column.addWidget(frame)

        list_card, list_column = card_column(self, "Scans concerned")
        self.model = RetentionModel(self)
        self.table = table_view(list_card, "retentionTable")
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        for index, width in enumerate((260, 170, 90)):
            header.resizeSection(index, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        list_column.addWidget(self.table, 1)
        column.addWidget(list_card, 1)

        self.dry_run_button.clicked.connect(self.dry_run)
        self.purge_button.clicked.connect(self._ask_purge)
        self.purge_cancel.clicked.connect(self._cancel_purge)
        self.purge_confirm.clicked.connect(self.purge)

    # ------------------------------------------------------------------ actions
    def dry_run(self) -> None:
        log, store, days = self.log, self.store, self.days.value()

        def work(_progress: Progress) -> RetentionOutcome:
            return review_retention(log, store, days)

        self.summary.say("Planning…", "busy")
        self.tasks.submit("retention.review", work, self._reviewed, failed=self._failed)

    def _reviewed(self, outcome: RetentionOutcome) -> None:
        self.last = outcome
        plan = outcome.plan
        self.model.set_rows(outcome.rows)
        self.summary.say(
            f"Would delete {len(plan.purge)} scan file(s) ({plan.bytes / 1e6:.1f} MB) first "
            f"seen before {plan.cutoff_utc[:19].replace('T', ' ')} UTC; {len(plan.held)} kept "
            f"on legal hold, {plan.kept} younger.", "warning" if plan.purge else "ok")
        self.reviewed.emit(outcome)

    def _ask_purge(self) -> None:
        self.confirm_text.setText(
            f"Delete every stored scan file first seen more than {self.days.value()} days "
            "ago, except those on hold? This cannot be undone (the events stay).")
        self.confirm.show()
        self.purge_cancel.setFocus(Qt.FocusReason.OtherFocusReason)

    def _cancel_purge(self) -> None:
        self.confirm.hide()
        self.purge_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def purge(self) -> None:
        self.confirm.hide()
        log, store, operator, days = self.log, self.store, self.operator, self.days.value()

        def work(_progress: Progress) -> RetentionOutcome:
            return run_purge(log, store, operator, days)

        self.summary.say("Purging…", "busy")
        self.purge_button.setEnabled(False)
        self.tasks.submit("retention.purge", work, self._purged, failed=self._failed)

    def _purged(self, outcome: RetentionOutcome) -> None:
        self.last = outcome
        self.purge_button.setEnabled(True)
        plan = outcome.plan
        self.model.set_rows(outcome.rows)
        logged = "" if outcome.logged is None else \
            f" Logged as {outcome.logged.kind} {outcome.logged.station}#{outcome.logged.seq}."
        self.summary.say(f"Deleted {len(plan.purge)} scan file(s) ({plan.bytes / 1e6:.1f} MB);"
                         f" {len(plan.held)} kept on legal hold, {plan.kept} younger.{logged}",
                         "ok")
        self.purged.emit(outcome)

    def _failed(self, error: BaseException) -> None:
        self.purge_button.setEnabled(True)
        self.summary.say(error_text(error), "error")
