"""Evidence export from the investigator's view: the same selections and the same code as
``screener evidence export`` (:mod:`screener.audit.evidence`), off the GUI thread, with
the written bundle checked at once by the offline verifier.

The export is allowed to the investigator role only: the guard logs any other attempt
(``auth.denied``) and refuses it. The export itself is logged by the exporter
(``evidence.exported``, with the investigator as actor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QWidget,
)

from screener.audit.evidence import (
    ExportResult,
    Selection,
    Verification,
    export_bundle,
    parse_range,
    select_case,
    select_events,
    select_scan,
    verify_bundle,
)
from screener.audit.evidence.errors import EvidenceExportError
from screener.audit.keys import display_fingerprint
from screener.audit.log import AuditLog
from screener.scan.store import ScanStore
from screener.ui.background import BackgroundJobs, JobProgress, Progress
from screener.ui.widgets import (
    FieldError,
    StatusLine,
    error_text,
    field_label,
    panel_title,
)
from screener.workflow.roles import Action, Guard
from screener.workflow.session import Operator

_SHA256 = re.compile(r"[0-9a-f]{64}")


class Scope(Enum):
    SCAN = "scan"
    CASE = "case"
    EVENTS = "events"


@dataclass(frozen=True)
class ExportRequest:
    scope: Scope
    value: str  # the scan's sha256, the case id, or FROM-TO
    station: str  # for EVENTS
    out: Path
    case_number: str
    investigator: str


@dataclass(frozen=True)
class ExportOutcome:
    selection: str
    result: ExportResult
    verification: Verification


def select(log: AuditLog, request: ExportRequest) -> Selection:
    """The selection, as ``screener evidence export --scan|--case|--events`` makes it."""
    if request.scope is Scope.SCAN:
        return select_scan(log.engine, request.value)
    if request.scope is Scope.CASE:
        return select_case(log.engine, request.value)
    first, last = parse_range(request.value)
    return select_events(log.engine, request.station or log.station, first, last)


def export_evidence(log: AuditLog, store: ScanStore, operator: Operator,
                    request: ExportRequest, report: Progress) -> ExportOutcome:
    """Check the role, select, write and log the bundle, then verify it (worker)."""
    Guard(log).require(operator.id, operator.role, Action.EXPORT_EVIDENCE,
                       subject=f"evidence bundle {request.out.name} for case "
                               f"{request.case_number}")
    report(0, 3, "selecting events")
    selection = select(log, request)
    report(1, 3, f"writing {request.out.name}: {len(selection.events)} event(s), "
                 f"{len(selection.scans)} scan(s)")
    result = export_bundle(log, selection, request.out, case_number=request.case_number,
                           investigator=request.investigator, store=store,
                           actor=operator.id, role=operator.role.value)
    report(2, 3, "checking the written bundle")
    verification = verify_bundle(request.out)
    report(3, 3, "done")
    return ExportOutcome(selection.description, result, verification)


class EvidenceExportPanel(QFrame):
    """What to export, for which case, by whom, to which file; progress and result."""

    exported = Signal(object)  # ExportOutcome
    export_failed = Signal(str)

    def __init__(self, log: AuditLog, store: ScanStore, operator: Operator, tasks: BackgroundJobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.log = log
        self.store = store
        self.operator = operator
        self.tasks = tasks
        self.last: ExportOutcome | None = None
        self._build()

    def _build(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(10, 8, 10, 10)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        grid.addWidget(panel_title("Evidence export", self), 0, 0, 1, 3)

        self.scope_group = QButtonGroup(self)
        self.scope_buttons: dict[Scope, QRadioButton] = {}
        self.scan_value = QLineEdit(self)
        self.scan_value.setObjectName("exportScan")
        self.scan_value.setPlaceholderText("sha256 of the scan (select an event)")
        self.case_value = QLineEdit(self)
        self.case_value.setObjectName("exportCase")
        self.case_value.setPlaceholderText("case id, as held")
        self.range_value = QLineEdit(self)
        self.range_value.setObjectName("exportRange")
        self.range_value.setPlaceholderText(f"120-180 (station {self.log.station}) or "
                                            "station-2#120-180")
        row = 1
        for scope, text, field, tip in (
                (Scope.SCAN, "&Scan", self.scan_value,
                 "Every event, of every station, that names this scan"),
                (Scope.CASE, "&Case", self.case_value,
                 "The scans held under this case, their events and the case's hold and "
                 "release events"),
                (Scope.EVENTS, "E&vents", self.range_value,
                 "A seq range of one station's chain: 120-180 for this station, "
                 "station-2#120-180 for another")):
            button = QRadioButton(text, self)
            button.setToolTip(tip)
            field.setToolTip(tip)
            self.scope_group.addButton(button)
            self.scope_buttons[scope] = button
            grid.addWidget(button, row, 0)
            grid.addWidget(field, row, 1, 1, 2)
            button.toggled.connect(lambda on, f=field: f.setEnabled(on))
            field.setEnabled(False)
            row += 1
        self.scope_buttons[Scope.SCAN].setChecked(True)
        self.selection_error = FieldError(None, self)
        grid.addWidget(self.selection_error, row, 1, 1, 2)
        row += 1

        self.case_number = QLineEdit(self)
        self.case_number.setObjectName("caseNumber")
        self.case_number.setPlaceholderText("the investigation's case number")
        self.investigator = QLineEdit(self.operator.id, self)
        self.investigator.setObjectName("investigator")
        self.investigator.setToolTip("Who exports: logged as the actor of evidence.exported "
                                     "and written into the bundle")
        self.out = QLineEdit(self)
        self.out.setObjectName("destination")
        self.out.setPlaceholderText("/path/to/case-17.zip (a new file)")
        self.browse = QPushButton("&Browse…", self)
        self.browse.setToolTip("Choose where the bundle goes")
        self.errors: dict[str, FieldError] = {}
        for label, key, field in (("Case &number", "case_number", self.case_number),
                                  ("&Investigator", "investigator", self.investigator),
                                  ("&Zip file", "out", self.out)):
            grid.addWidget(field_label(label, field, self), row, 0)
            if key == "out":
                grid.addWidget(field, row, 1)
                grid.addWidget(self.browse, row, 2)
            else:
                grid.addWidget(field, row, 1, 1, 2)
            error = FieldError(field, self)
            self.errors[key] = error
            grid.addWidget(error, row + 1, 1, 1, 2)
            row += 2

        buttons = QHBoxLayout()
        self.progress = QProgressBar(self)
        self.progress.setObjectName("taskProgress")
        self.progress.setTextVisible(False)
        self.progress.setRange(0, 3)
        self.progress.setValue(0)
        buttons.addWidget(self.progress, 1)
        self.export_button = QPushButton("E&xport bundle", self)
        self.export_button.setObjectName("primaryButton")
        self.export_button.setToolTip("Write the signed bundle, log the export, and check "
                                      "the bundle offline")
        buttons.addWidget(self.export_button)
        grid.addLayout(buttons, row, 0, 1, 3)
        row += 1
        self.status = StatusLine(self)
        self.status.say("A bundle holds the scans, annotated images, the events with their "
                        "chain proof and the station's public key; anyone can check it "
                        "offline.")
        grid.addWidget(self.status, row, 0, 1, 3)
        self.result = QLabel(self)
        self.result.setObjectName("valueLabel")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.result, row + 1, 0, 1, 3)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(row + 2, 1)

        self.browse.clicked.connect(self.choose_destination)
        self.export_button.clicked.connect(self.export)
        for line in (self.scan_value, self.case_value, self.range_value, self.case_number,
                     self.investigator, self.out):
            line.returnPressed.connect(self.export)

    # ------------------------------------------------------------------ inputs
    def set_scan(self, digest: str | None) -> None:
        """The scan of the selected event (kept when an event names none)."""
        if digest:
            self.scan_value.setText(digest)

    def set_case(self, case_id: str) -> None:
        self.case_value.setText(case_id)

    def choose_destination(self) -> None:
        start = self.out.text().strip() or str(Path.home() / "evidence.zip")
        chosen, _ = QFileDialog.getSaveFileName(self, "Evidence bundle", start,
                                                "Evidence bundle (*.zip)")
        if chosen:
            if not chosen.lower().endswith(".zip"):
                chosen += ".zip"
            self.out.setText(chosen)

    def scope(self) -> Scope:
        for scope, button in self.scope_buttons.items():
            if button.isChecked():
                return scope
        return Scope.SCAN

    def request(self) -> ExportRequest | None:
        """The export the form asks for, or None with the problems shown by the fields."""
        for error in (*self.errors.values(), self.selection_error):
            error.clear_error()
        scope = self.scope()
        value = {Scope.SCAN: self.scan_value, Scope.CASE: self.case_value,
                 Scope.EVENTS: self.range_value}[scope].text().strip()
        problems = False
        if scope is Scope.SCAN and not _SHA256.fullmatch(value.lower()):
            self.selection_error.show_error("select an event that names a scan, or paste "
                                            "its sha256 (64 hex digits)")
            problems = True
        elif scope is not Scope.SCAN and not value:
            self.selection_error.show_error("give the case id" if scope is Scope.CASE else
                                            "give a range FROM-TO, such as 120-180")
            problems = True
        case_number = " ".join(self.case_number.text().split())
        investigator = " ".join(self.investigator.text().split())
        if not case_number:
            self.errors["case_number"].show_error("the case number goes into the bundle")
            problems = True
        if not investigator:
            self.errors["investigator"].show_error("say who exports")
            problems = True
        text = self.out.text().strip()
        out = Path(text).expanduser() if text else None
        if out is None:
            self.errors["out"].show_error("choose a new .zip file")
            problems = True
        elif out.suffix.lower() != ".zip":
            self.errors["out"].show_error("the bundle is a .zip file")
            problems = True
        elif not out.parent.is_dir():
            self.errors["out"].show_error(f"the folder {out.parent} does not exist")
            problems = True
        elif out.exists():
            self.errors["out"].show_error("exists already: evidence files are never "
                                          "overwritten")
            problems = True
        if problems or out is None:
            self.status.say("Not exported: correct the fields marked.", "error")
            return None
        station = self.log.station
        if scope is Scope.EVENTS and "#" in value:
            station, value = (part.strip() for part in value.split("#", 1))
        return ExportRequest(scope, value.lower() if scope is Scope.SCAN else value,
                             station, out, case_number, investigator)

    # ------------------------------------------------------------------ exporting
    def export(self) -> None:
        if self.tasks.running("export"):
            return
        request = self.request()
        if request is None:
            return
        self.export_button.setEnabled(False)
        self.progress.setValue(0)
        self.result.clear()
        self.status.say(f"Exporting to {request.out.name}…", "busy")
        log, store, operator = self.log, self.store, self.operator

        def work(report: Progress) -> ExportOutcome:
            return export_evidence(log, store, operator, request, report)

        self.tasks.submit("export", work, self._done, failed=self._failed,
                          progress=self._progress)

    def _progress(self, progress: JobProgress) -> None:
        self.progress.setRange(0, max(1, progress.total))
        self.progress.setValue(progress.done)
        self.status.say(f"Exporting: {progress.label}…", "busy")

    def _done(self, outcome: ExportOutcome) -> None:
        self.last = outcome
        self.export_button.setEnabled(True)
        result = outcome.result
        self.progress.setValue(self.progress.maximum())
        if outcome.verification.ok:
            self.status.say(f"Exported and verified: {result.path}", "ok")
        else:
            self.status.say(f"Exported, but the check found {len(outcome.verification.problems)}"
                            f" problem(s): {outcome.verification.problems[0]}", "error")
        purged = (f"; {len(result.purged_scans)} scan(s) no longer stored (listed as purged)"
                  if result.purged_scans else "")
        self.result.setText(
            f"{outcome.selection}: {result.selected_events} event(s) with "
            f"{result.chain_events - result.selected_events} linking and key event(s), "
            f"{result.checkpoints} signed checkpoint(s); {len(result.scans)} scan(s) "
            f"included{purged}.\nSigned by station {self.log.station}, key "
            f"{display_fingerprint(self.log.key.fingerprint)}; tag manifest sha256 "
            f"{result.tagmanifest_sha256[:16]}…\nLogged as {result.logged.kind} "
            f"{result.logged.station}#{result.logged.seq}.")
        self.exported.emit(outcome)

    def _failed(self, error: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.progress.setValue(0)
        prefix = "Not exported" if isinstance(error, EvidenceExportError) else "Export failed"
        message = f"{prefix}: {error_text(error)}"
        self.status.say(message, "error")
        self.export_failed.emit(message)
