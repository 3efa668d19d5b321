"""Legal holds from the investigator's view: the open cases (replayed from the log), put
scans on hold under a case, release a case. Through :mod:`screener.workflow.holds`, which
checks the investigator role (and logs a refusal) before the core writes ``case.hold``
or ``case.release``, as ``screener case hold|release`` does.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from screener.audit.cases import case_holds
from screener.audit.chain import EventRecord
from screener.audit.log import AuditLog
from screener.ui.background import BackgroundJobs, Progress
from screener.ui.table_model import RowsModel
from screener.ui.theme import MUTED
from screener.ui.widgets import (
    StatusLine,
    add_fields,
    error_text,
    panel_title,
    table_view,
)
from screener.workflow import holds
from screener.workflow.roles import Guard
from screener.workflow.session import Operator

_SPLIT = re.compile(r"[\s,;]+")


class CaseModel(RowsModel[tuple[str, list[str]]]):
    """Open cases: (case id, its scans' sha256s, sorted)."""

    COLUMNS = ("Case", "On hold", "Scans")

    @property
    def cases(self) -> list[tuple[str, list[str]]]:
        return self.rows

    def set_cases(self, cases: dict[str, set[str]]) -> None:
        self.set_rows((case, sorted(scans)) for case, scans in sorted(cases.items()))

    def display(self, row: tuple[str, list[str]], column: int) -> str:
        case, scans = row
        return (case, str(len(scans)), ", ".join(s[:12] for s in scans))[column]

    def tooltip(self, row: tuple[str, list[str]], column: int) -> str | None:
        return "\n".join(row[1]) if column == 2 else None

    def foreground(self, row: tuple[str, list[str]], column: int) -> QColor | None:
        return QColor(MUTED) if column == 2 else None


class HoldsPanel(QFrame):
    """Open cases; place a hold; release a case."""

    changed = Signal(object)  # the EventRecord written
    case_chosen = Signal(str)

    def __init__(self, log: AuditLog, operator: Operator, tasks: BackgroundJobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.log = log
        self.operator = operator
        self.tasks = tasks
        self._build()
        self.refresh()

    def _build(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 8, 10, 10)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        title = QHBoxLayout()
        title.addWidget(panel_title("Legal holds", self))
        title.addStretch(1)
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setToolTip("Replay the holds from the log again")
        title.addWidget(self.refresh_button)
        grid.addLayout(title, 0, 0, 1, 3)
        self.model = CaseModel(self)
        self.table = table_view(self, "caseTable")
        self.table.setModel(self.model)
        self.table.horizontalHeader().resizeSection(0, 110)
        self.table.horizontalHeader().resizeSection(1, 70)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setMinimumHeight(90)
        grid.addWidget(self.table, 1, 0, 1, 3)

        self.case_id = QLineEdit(self)
        self.case_id.setObjectName("holdCase")
        self.case_id.setPlaceholderText("CASE-7 (letters, digits, . _ / -)")
        self.scans = QLineEdit(self)
        self.scans.setObjectName("holdScans")
        self.scans.setPlaceholderText("sha256 of each scan (the selected event's scan)")
        self.reason = QLineEdit(self)
        self.reason.setObjectName("holdReason")
        self.reason.setPlaceholderText("why (logged)")
        self.errors = add_fields(grid, (("Cas&e id", "case", self.case_id),
                                        ("Sc&ans", "scans", self.scans),
                                        ("&Reason", "reason", self.reason)),
                                 self, row=2, span=2)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.release_button = QPushButton("Release case", self)
        self.release_button.setObjectName("dangerButton")
        self.release_button.setToolTip("Lift the case's hold: retention may then delete "
                                       "its scans")
        self.hold_button = QPushButton("&Place hold", self)
        self.hold_button.setObjectName("primaryButton")
        self.hold_button.setToolTip("Hold the scans under the case: retention keeps them")
        buttons.addWidget(self.release_button)
        buttons.addWidget(self.hold_button)
        grid.addLayout(buttons, 8, 0, 1, 3)
        self.status = StatusLine(self)
        grid.addWidget(self.status, 9, 0, 1, 3)
        grid.setColumnStretch(1, 1)

        self.refresh_button.clicked.connect(self.refresh)
        self.hold_button.clicked.connect(self.place)
        self.release_button.clicked.connect(self.release)
        self.table.selectionModel().currentRowChanged.connect(self._case_selected)

    def set_scan(self, digest: str | None) -> None:
        if digest:
            self.scans.setText(digest)

    def _case_selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            case = self.model.cases[current.row()][0]
            self.case_id.setText(case)
            self.case_chosen.emit(case)

    # ------------------------------------------------------------------ work
    def refresh(self) -> None:
        engine = self.log.engine

        def work(_progress: Progress) -> dict[str, set[str]]:
            return case_holds(engine)

        self.tasks.submit("holds.list", work, self._listed,
                          failed=lambda e: self.status.say(
                              f"Cannot read the holds: {error_text(e)}", "error"))

    def _listed(self, cases: dict[str, set[str]]) -> None:
        self.model.set_cases(cases)
        if self.status.level not in ("ok", "error"):
            self.status.say(f"{len(cases)} open case(s)." if cases else "No open case.")

    def _inputs(self, need_scans: bool) -> tuple[str, list[str], str] | None:
        for error in self.errors.values():
            error.clear_error()
        case = self.case_id.text().strip()
        scans = [s.lower() for s in _SPLIT.split(self.scans.text().strip()) if s]
        reason = " ".join(self.reason.text().split())
        ok = True
        if not case:
            self.errors["case"].show_error("give the case id")
            ok = False
        if need_scans and not scans:
            self.errors["scans"].show_error("name at least one scan")
            ok = False
        if not reason:
            self.errors["reason"].show_error("say why (it is logged)")
            ok = False
        return (case, scans, reason) if ok else None

    def place(self) -> None:
        inputs = self._inputs(need_scans=True)
        if inputs is None:
            return
        case, scans, reason = inputs
        log, operator = self.log, self.operator

        def work(_progress: Progress) -> EventRecord:
            return holds.place_hold(Guard(log), operator.id, operator.role, case, scans,
                                    reason=reason)

        self.status.say(f"Placing the hold on case {case}…", "busy")
        self.tasks.submit("holds.place", work,
                          lambda record: self._written(record, f"Case {case}: {len(set(scans))}"
                                                       f" scan(s) on hold"),
                          failed=self._failed)

    def release(self) -> None:
        inputs = self._inputs(need_scans=False)
        if inputs is None:
            return
        case, _scans, reason = inputs
        if case not in {open_case for open_case, _ in self.model.cases}:
            self.errors["case"].show_error(f"no open case {case!r}: choose one from the list")
            return
        log, operator = self.log, self.operator

        def work(_progress: Progress) -> EventRecord:
            return holds.release_hold(Guard(log), operator.id, operator.role, case,
                                      reason=reason)

        self.status.say(f"Releasing case {case}…", "busy")
        self.tasks.submit("holds.release", work,
                          lambda record: self._written(record, f"Case {case}: hold released"),
                          failed=self._failed)

    def _written(self, record: EventRecord, text: str) -> None:
        self.status.say(f"{text} (logged as {record.kind} {record.station}#{record.seq}).",
                        "ok")
        self.changed.emit(record)
        self.refresh()

    def _failed(self, error: BaseException) -> None:
        self.status.say(error_text(error), "error")
