"""The site's TIP settings on the supervisor's screen: shown, edited, saved.

The settings live in the audit chain (``tip.settings_changed``, see
:mod:`screener.workflow.tip_settings`): the panel reads the history of changes and shows
the version in force and who set it. Saving calls
:func:`~screener.workflow.tip_settings.change_settings` with the logged-in operator, which
checks the role (a refusal is logged as ``auth.denied``) and writes the event; stations
pick the new settings up at their next bag. A value the scheduler would refuse is shown
next to its field (``TipSettingsError.field``), before anything is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from screener.audit.chain import EventRecord
from screener.audit.query import events_of_kinds
from screener.errors import ScreenerError
from screener.tip.fti import FtiCategory
from screener.tip.scheduler import TipSettings, TipSettingsError
from screener.ui.background import BackgroundJobs, JobResult, Progress
from screener.ui.context import ViewContext
from screener.ui.theme import MUTED
from screener.ui.widgets import FieldError, form_row, say, side_panel
from screener.workflow.errors import PermissionDenied
from screener.workflow.tip_settings import (
    DEFAULT_SETTINGS,
    KIND_TIP_SETTINGS,
    change_settings,
)

LOAD = "settings.load"
SAVE = "settings.save"
CATEGORY_LABELS = {FtiCategory.GUN: "G&uns", FtiCategory.KNIFE: "&Knives",
                   FtiCategory.IED: "IE&Ds", FtiCategory.OTHER: "&Other"}


@dataclass(frozen=True)
class SettingsChange:
    """One ``tip.settings_changed`` event: the settings it set and who set them."""

    event: EventRecord
    settings: TipSettings

    @property
    def when(self) -> str:
        return self.event.time_utc[:19].replace("T", " ")


def read_history(context: ViewContext) -> list[SettingsChange]:
    """Every change of the TIP settings in the database, oldest first."""
    changes = []
    for event in events_of_kinds(context.log.engine, [KIND_TIP_SETTINGS]):
        try:
            settings = TipSettings.from_mapping(json.loads(event.payload)["settings"])
        except (ValueError, KeyError, TypeError, ScreenerError):
            continue  # not readable as settings: the stations skip it the same way
        changes.append(SettingsChange(event, settings))
    return changes


def describe(settings: TipSettings) -> str:
    shares = ", ".join(f"{c.value} {share:.0%}" for c, share in settings.probabilities.items()
                       if share > 0)
    return f"{settings.min_rate:.1%} to {settings.max_rate:.1%} of bags; {shares}"


class SettingsPanel(QWidget):
    """The TIP settings form with the version in force and the history of changes."""

    saved = Signal(object)  # TipSettings, once the event is committed

    def __init__(self, context: ViewContext, jobs: BackgroundJobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tipSettings")
        self.context = context
        self.jobs = jobs
        self.current: TipSettings = DEFAULT_SETTINGS
        self.history: list[SettingsChange] = []
        self.error_labels: dict[str, FieldError] = {}
        self._build()
        jobs.finished.connect(self._finished)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QHBoxLayout(self)
        outer.setContentsMargins(12, 12, 12, 12)
        outer.setSpacing(18)
        form_frame, column = side_panel(self, "TIP PROJECTION SETTINGS", (14, 12, 14, 12))
        self.version_label = QLabel("Loading the settings in force…", form_frame)
        self.version_label.setObjectName("settingsVersion")
        self.version_label.setWordWrap(True)
        column.addWidget(self.version_label)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        self.min_rate = self._rate_box("minRate")
        self.max_rate = self._rate_box("maxRate")
        self._row(grid, 0, "Mi&nimum rate", self.min_rate, "min_rate",
                  "the least share of each screener's bags that get an FTI")
        self._row(grid, 1, "M&aximum rate", self.max_rate, "max_rate",
                  "the largest share; each block of bags draws its rate between the two")
        weights_title = QLabel("Category weights (relative)", form_frame)
        weights_title.setObjectName("panelTitle")
        grid.addWidget(weights_title, 2, 0, 1, 2)
        self.error_labels["weights"] = FieldError(None, self)
        grid.addWidget(self.error_labels["weights"], 2, 2)
        self.weights: dict[FtiCategory, QDoubleSpinBox] = {}
        for row, category in enumerate(FtiCategory, start=3):
            box = QDoubleSpinBox(form_frame)
            box.setObjectName(f"weight-{category.value}")
            box.setRange(0.0, 1000.0)
            box.setDecimals(1)
            box.setSingleStep(0.5)
            box.setAccessibleName(f"{category.value} weight")
            self.weights[category] = box
            self._row(grid, row, CATEGORY_LABELS[category], box, f"weights.{category.value}",
                      f"projections of {category.value} FTIs, relative to the others "
                      "(0: never)")
        column.addLayout(grid)
        self.shares_label = QLabel("", form_frame)
        self.shares_label.setObjectName("sharesLabel")
        self.shares_label.setStyleSheet(f"color: {MUTED};")
        column.addWidget(self.shares_label)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save and app&ly", form_frame)
        self.save_button.setObjectName("saveSettings")
        self.save_button.setProperty("primary", True)
        self.save_button.setToolTip("Write the new settings to the audit log; every station "
                                    "uses them from its next bag (Alt+L)")
        self.revert_button = QPushButton("Cancel changes", form_frame)
        self.revert_button.setObjectName("revertSettings")
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        self.message = QLabel("", form_frame)
        self.message.setObjectName("messageLabel")
        self.message.setWordWrap(True)
        column.addWidget(self.message)
        column.addStretch(1)
        form_frame.setMinimumWidth(460)
        form_frame.setMaximumWidth(620)
        outer.addWidget(form_frame, 2)

        history_frame, history_column = side_panel(self, "CHANGES (AUDIT LOG)",
                                                   (14, 12, 14, 12))
        self.history_tree = QTreeWidget(history_frame)
        self.history_tree.setObjectName("settingsHistory")
        self.history_tree.setAccessibleName("History of TIP settings changes")
        self.history_tree.setRootIsDecorated(False)
        self.history_tree.setHeaderLabels(["Version", "Time (UTC)", "By", "Station",
                                           "Settings"])
        self.history_tree.setAlternatingRowColors(True)
        history_column.addWidget(self.history_tree, 1)
        outer.addWidget(history_frame, 3)

        for box in (self.min_rate, self.max_rate, *self.weights.values()):
            box.valueChanged.connect(self._edited)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.setTabOrder(self.min_rate, self.max_rate)
        previous: QWidget = self.max_rate
        for box in self.weights.values():
            self.setTabOrder(previous, box)
            previous = box
        self.setTabOrder(previous, self.save_button)
        self.setTabOrder(self.save_button, self.revert_button)
        self.setTabOrder(self.revert_button, self.history_tree)

    def _rate_box(self, name: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setObjectName(name)
        box.setRange(0.0, 100.0)
        box.setDecimals(2)
        box.setSingleStep(0.5)
        box.setSuffix(" %")
        return box

    def _row(self, grid: QGridLayout, row: int, text: str, box: QDoubleSpinBox, field: str,
             tip: str) -> None:
        box.setToolTip(tip)
        box.setMinimumWidth(110)
        self.error_labels[field] = form_row(grid, row, text, box, self)
        grid.setColumnStretch(2, 1)

    # ------------------------------------------------------------------ data
    def reload(self) -> None:
        context = self.context

        def work(_progress: Progress) -> list[SettingsChange]:
            return read_history(context)

        self.jobs.submit(LOAD, work, drop_stale=True)

    def entered(self) -> tuple[float, float, dict[FtiCategory, float]]:
        """The values in the form: rates as fractions, weights."""
        return (round(self.min_rate.value() / 100.0, 6), round(self.max_rate.value() / 100.0, 6),
                {c: box.value() for c, box in self.weights.items()})

    def show_settings(self, settings: TipSettings) -> None:
        for box in (self.min_rate, self.max_rate, *self.weights.values()):
            box.blockSignals(True)
        self.min_rate.setValue(settings.min_rate * 100.0)
        self.max_rate.setValue(settings.max_rate * 100.0)
        for category, box in self.weights.items():
            box.setValue(settings.weights.get(category, 0.0))
        for box in (self.min_rate, self.max_rate, *self.weights.values()):
            box.blockSignals(False)
        self._edited()

    def revert(self) -> None:
        self.show_settings(self.current)
        self.show_message("", "")

    def _edited(self) -> None:
        self._clear_errors()
        minimum, maximum, weights = self.entered()
        try:
            candidate = TipSettings(minimum, maximum, weights, self.current.version)
        except TipSettingsError as error:
            self._show_error(error)
            self.shares_label.setText("")
            return
        self.shares_label.setText(f"In force after saving: {describe(candidate)}")

    def _clear_errors(self) -> None:
        for label in self.error_labels.values():
            label.clear_error()

    def _show_error(self, error: TipSettingsError) -> None:
        label = self.error_labels.get(error.field) or self.error_labels["weights"]
        label.show_error(error.problem.split("; correct it")[0])

    def save(self) -> None:
        """Check the form, then save through the workflow off the GUI thread."""
        if self.jobs.running(SAVE):
            return
        self._clear_errors()
        minimum, maximum, weights = self.entered()
        try:
            TipSettings(minimum, maximum, weights, self.current.version)
        except TipSettingsError as error:
            self._show_error(error)
            self.show_message("error", "Not saved: correct the field marked in red.")
            return
        log, operator = self.context.log, self.context.operator

        def work(_progress: Progress) -> TipSettings:
            return change_settings(log, operator, min_rate=minimum, max_rate=maximum,
                                   weights=weights)

        self.save_button.setEnabled(False)
        self.show_message("", "Saving…")
        self.jobs.submit(SAVE, work)

    def show_message(self, level: str, text: str) -> None:
        say(self.message, level, text)

    def _finished(self, result: JobResult) -> None:
        if result.tag not in (LOAD, SAVE):
            return
        if result.tag == SAVE:
            self.save_button.setEnabled(True)
            if isinstance(result.error, TipSettingsError):
                self._show_error(result.error)
                self.show_message("error", "Not saved: correct the field marked in red.")
            elif isinstance(result.error, PermissionDenied):
                self.show_message("error", f"Refused: {result.error}")
            elif result.error is not None:
                self.show_message("error", f"Not saved: {result.error}")
            else:
                saved: TipSettings = result.value
                self.show_message("ok", f"Saved as version {saved.version}: stations use it "
                                  "from their next bag.")
                self.saved.emit(saved)
                self.reload()
            return
        if result.skipped or not self.jobs.is_current(result):
            return
        if result.error is not None:
            self.version_label.setText(f"The settings cannot be read: {result.error}")
            return
        self._show_history(result.value)

    def _show_history(self, history: list[SettingsChange]) -> None:
        self.history = history
        self.history_tree.clear()
        for change in reversed(history):
            event = change.event
            item = QTreeWidgetItem([str(change.settings.version), change.when,
                                    f"{event.actor} ({event.role})", event.station,
                                    describe(change.settings)])
            item.setToolTip(4, f"audit event {event.station}#{event.seq}, hash {event.hash}")
            self.history_tree.addTopLevelItem(item)
        for column in range(4):
            self.history_tree.resizeColumnToContents(column)
        if history:
            latest = history[-1]
            self.current = latest.settings
            self.version_label.setText(
                f"In force: <b>version {latest.settings.version}</b>, set by "
                f"<b>{latest.event.actor}</b> ({latest.event.role}) on {latest.event.station}"
                f" at {latest.when} UTC.")
        else:
            self.current = DEFAULT_SETTINGS
            self.version_label.setText("In force: the built-in default (no supervisor has "
                                       "set the TIP settings yet).")
        self.show_settings(self.current)
