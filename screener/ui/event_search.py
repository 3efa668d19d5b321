"""The investigator's event search: a form over
:class:`~screener.audit.query.EventSearch`, run off the GUI thread, and the events found
in a table (newest first) with the selected event in full below.

A malformed field (a time that is no time, a scan hash that is not hex) is named next to
the field and nothing is searched. Times are UTC; a day alone in "Until" includes that
day.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from screener.accounts import users
from screener.audit import cases, retention
from screener.audit.chain import KIND_GENESIS, KIND_KEY_ROTATED, EventRecord
from screener.audit.evidence.export import KIND_EXPORTED
from screener.audit.query import EventSearch, EventSearchError, search_events, stations
from screener.ui.background import BackgroundJobs, Progress
from screener.ui.table_model import Index, RowsModel, monospace
from screener.ui.theme import AMBER, MUTED
from screener.ui.widgets import (
    FieldError,
    StatusLine,
    card,
    error_text,
    field_label,
    panel_title,
    table_view,
)
from screener.workflow import session
from screener.workflow.roles import KIND_AUTH_DENIED
from screener.workflow.station_keys import KIND_SITE_KEY_ROTATED

#: Event kinds offered in the form (any other can be typed).
KNOWN_KINDS: tuple[str, ...] = (
    session.KIND_DECISION, session.KIND_SCAN_RECEIVED, session.KIND_AI_RESULT,
    session.KIND_SESSION_STARTED, session.KIND_SESSION_ENDED, "tip.scheduled",
    "tip.projected", "tip.not_projected", "tip.plan_discarded", "tip.outcome",
    cases.KIND_CASE_HOLD, cases.KIND_CASE_RELEASE, KIND_EXPORTED, retention.KIND_PURGED,
    users.KIND_LOGIN,
    users.KIND_LOGIN_FAILED, users.KIND_LOCKED, users.KIND_LOGOUT, users.KIND_USER_CREATED,
    users.KIND_USER_CHANGED, KIND_AUTH_DENIED, KIND_GENESIS, KIND_KEY_ROTATED,
    KIND_SITE_KEY_ROTATED,
)
ANY = "Any"
_STORED_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"
DEFAULT_LIMIT = 500
_KIND = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
SUSPECT_TEXT = QColor("#ff9a9a")
CLEAR_TEXT = QColor("#8ee6ad")


# ---------------------------------------------------------------------- pure helpers
def parse_time(text: str, field: str, *, until: bool = False) -> str | None:
    """A form time as the text bound the log compares with (ISO UTC with ``Z``). Accepts
    ``2026-03-03``, ``2026-03-03 08:00``, ``2026-03-03T08:00:05Z`` and offsets; a time
    without a zone is UTC. With ``until``, a day alone means the end of that day."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise EventSearchError(field, f"{text!r} is not a time; write 2026-03-03 or "
                               "2026-03-03 08:00 (UTC)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if until and len(text) == 10:  # a day alone: the whole day
        moment += timedelta(days=1)
    return moment.strftime(_STORED_TIME)


def build_search(*, since: str = "", until: str = "", actor: str = "", station: str = "",
                 kinds: str = "", decision: str = "", scan: str = "",
                 limit: int = DEFAULT_LIMIT) -> EventSearch:
    """The :class:`EventSearch` a form asks for; :class:`EventSearchError` names the
    first malformed field (``since``, ``before``, ``kinds``, ``scan_sha256``...)."""
    first = parse_time(since, "since")
    last = parse_time(until, "before", until=True)
    if first is not None and last is not None and last <= first:
        raise EventSearchError("before", "must be later than From")
    wanted = tuple(k.strip() for k in kinds.replace(";", ",").split(",") if k.strip())
    for kind in wanted:
        if not _KIND.fullmatch(kind):
            raise EventSearchError("kinds", f"{kind!r} is not an event kind such as "
                                   "screening.decision")
    digest = scan.strip().lower() or None
    return EventSearch(since=first, before=last, actor=actor.strip() or None,
                       station=station.strip() or None, kinds=wanted,
                       scan_sha256=digest, decision=decision or None, limit=limit)


def _number(value: Any) -> str:
    return f"{value}" if isinstance(value, int | float) and not isinstance(value, bool) else "?"


def summarise(event: EventRecord, width: int = 140) -> str:
    """One line about an event's payload, for the results table."""
    try:
        payload = json.loads(event.payload)
    except ValueError:
        return event.payload[:width]
    if not isinstance(payload, dict):
        return str(payload)[:width]
    kind = event.kind
    text: str
    if kind == session.KIND_DECISION:
        marks = payload.get("marks")
        count = len(marks) if isinstance(marks, list) else 0
        text = f"{str(payload.get('decision', '?')).upper()} · {count} mark(s) · " \
               f"{_number(payload.get('response_ms'))} ms"
        tip = payload.get("tip")
        if isinstance(tip, dict) and tip.get("projected"):
            text += f" · TIP {tip.get('fti_id')}"
        if payload.get("rescreen"):
            text += " · re-screen"
        if payload.get("timed_out"):
            text += " · timed out"
    elif kind == session.KIND_AI_RESULT:
        found = payload.get("detections")
        count = len(found) if isinstance(found, list) else 0
        status = payload.get("status")
        text = f"{count} detection(s) · {payload.get('detector')}" if status == "ok" else \
            f"AI {status}: {payload.get('reason', '')}"
    elif kind == session.KIND_SCAN_RECEIVED:
        views = payload.get("views")
        text = f"bag {payload.get('bag_id')} from {payload.get('source')}" + (
            f" · {len(views)} view(s)" if isinstance(views, list) else "")
    elif kind == session.KIND_SESSION_STARTED:
        text = f"lane {payload.get('lane')} · AI: {payload.get('detector') or 'none'}"
    elif kind == session.KIND_SESSION_ENDED:
        text = f"{_number(payload.get('bags_decided'))} bag(s) decided, " \
               f"{_number(payload.get('rescreens'))} re-screen(s) · {payload.get('reason')}"
    elif kind in (KIND_GENESIS, KIND_KEY_ROTATED, KIND_SITE_KEY_ROTATED):
        value = str(payload.get("fingerprint", ""))
        text = {KIND_GENESIS: "chain created, key ", KIND_KEY_ROTATED: "key rotated to ",
                KIND_SITE_KEY_ROTATED: "site key handed over to "}[kind] + \
            " ".join(value[i:i + 4] for i in range(0, 16, 4))
    elif kind == "tip.outcome":
        text = f"{str(payload.get('outcome', '?')).replace('_', ' ')} · {payload.get('fti_id')}"
    elif kind == "tip.projected":
        text = f"FTI {payload.get('fti_id')} ({payload.get('category')})"
    elif kind == "tip.plan_discarded":
        text = f"bag {payload.get('bag_index')} of {payload.get('operator')} not " \
               f"received: {payload.get('reason')}"
    elif kind in (cases.KIND_CASE_HOLD, cases.KIND_CASE_RELEASE):
        held = payload.get("scans")
        text = f"case {payload.get('case')}" + (
            f" · {len(held)} scan(s)" if isinstance(held, list) else "") + \
            f" · {payload.get('reason', '')}"
    elif kind == KIND_EXPORTED:
        text = f"case {payload.get('case_number')} · {payload.get('file')} · " \
               f"{payload.get('events')} event(s)"
    elif kind == KIND_AUTH_DENIED:
        text = f"refused {payload.get('action')}: {payload.get('subject')}"
    elif kind == users.KIND_USER_CREATED:
        text = f"{payload.get('user')} created as {payload.get('role')}" + (
            " (first administrator)" if payload.get("first_run") else "") + (
            " (demo)" if payload.get("demo") else "")
    elif kind == users.KIND_USER_CHANGED:
        text = f"{payload.get('user')}: {payload.get('change')}"
    elif kind == users.KIND_LOGIN:
        text = f"{payload.get('user')} logged in as {payload.get('role')}"
    elif kind == users.KIND_LOGIN_FAILED:
        text = f"{payload.get('user')}: {payload.get('reason')}"
    elif kind == users.KIND_LOCKED:
        until = str(payload.get("until_utc", ""))[11:16]
        text = f"{payload.get('user')} locked after {payload.get('failures')} failures" + (
            f" until {until} UTC" if until else "")
    elif kind == users.KIND_LOGOUT:
        text = f"{payload.get('user')} logged out: {payload.get('reason')}"
    else:
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= width else text[:width - 1] + "…"


def describe_event(event: EventRecord) -> str:
    """The whole event, for the detail pane: every column, then the payload one field a
    line."""
    lines = [
        f"{event.kind}  ·  {event.station}#{event.seq}",
        f"time (UTC)    {event.time_utc}",
        f"actor         {event.actor} ({event.role})",
        f"scan sha256   {event.scan_sha256 or '-'}",
        f"model sha256  {event.model_sha256 or '-'}",
        f"prev hash     {event.prev_hash}",
        f"hash          {event.hash}",
        "payload",
    ]
    try:
        payload = json.loads(event.payload)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        lines += [f"  {key}: {json.dumps(value, ensure_ascii=False, separators=(', ', ': '))}"
                  for key, value in sorted(payload.items())]
    else:
        lines.append(f"  {event.payload}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the table
class EventTableModel(RowsModel[EventRecord]):
    """Events found, one per row."""

    COLUMNS = ("Time (UTC)", "Station", "Seq", "Kind", "Actor", "Scan", "Summary")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._summaries: dict[tuple[str, int], str] = {}  # (station, seq) -> summarise

    @property
    def events(self) -> list[EventRecord]:
        return self.rows

    def set_rows(self, rows: Iterable[EventRecord]) -> None:
        events = list(rows)
        self._summaries = {(e.station, e.seq): summarise(e) for e in events}
        super().set_rows(events)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole and index.isValid() \
                and index.column() == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return super().data(index, role)

    def display(self, row: EventRecord, column: int) -> str:
        if column == 0:
            return row.time_utc[:19].replace("T", " ")
        if column == 1:
            return row.station
        if column == 2:
            return str(row.seq)
        if column == 3:
            return row.kind
        if column == 4:
            return row.actor
        if column == 5:
            return (row.scan_sha256 or "")[:10]
        return self._summaries[(row.station, row.seq)]

    def tooltip(self, row: EventRecord, column: int) -> str | None:
        if column == 5:
            return row.scan_sha256
        if column == 6:
            return self._summaries[(row.station, row.seq)]
        return None

    def foreground(self, row: EventRecord, column: int) -> QColor | None:
        if column in (0, 1, 2, 5):
            return QColor(MUTED)
        if column == 6 and row.kind == session.KIND_DECISION:
            if '"decision":"suspect"' in row.payload:
                return SUSPECT_TEXT
            return CLEAR_TEXT
        if row.kind in (KIND_AUTH_DENIED, users.KIND_LOGIN_FAILED, users.KIND_LOCKED):
            return QColor(AMBER)
        return None

    def font(self, row: EventRecord, column: int) -> QFont | None:
        return monospace() if column == 5 else None


# ---------------------------------------------------------------------- the panel
class EventSearchPanel(QWidget):
    """Search form, results, and the selected event in full."""

    selection_changed = Signal(object)  # EventRecord | None
    search_done = Signal(int)  # number of events found

    def __init__(self, engine: Engine, tasks: BackgroundJobs,
                 actors: Callable[[], list[str]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventSearch")
        self.engine = engine
        self.tasks = tasks
        self._actors = actors
        self._generation = 0
        self.last_search: EventSearch | None = None
        self._build()
        self._load_choices()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        form = card(self)
        form.setObjectName("card")
        grid = QGridLayout(form)
        grid.setContentsMargins(10, 8, 10, 8)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        grid.addWidget(panel_title("Event search", form), 0, 0, 1, 4)

        self.since = self._line("since", "2026-03-03 08:00", "Earliest event time, UTC "
                                "(a day, or a day and a time)")
        self.until = self._line("until", "2026-03-03", "Latest event time, UTC; a day alone "
                                "includes that whole day")
        self.actor = self._line("actor", "operator id", "Who acted: an operator id, or "
                                "'system' for the station's own events")
        self.station = QComboBox(form)
        self.station.setObjectName("station")
        self.station.setEditable(True)
        self.station.addItem("")
        self.station.setToolTip("The station whose chain the events are in (empty: all)")
        self.kind = QComboBox(form)
        self.kind.setObjectName("kind")
        self.kind.setEditable(True)
        self.kind.addItem("")
        self.kind.addItems(list(KNOWN_KINDS))
        self.kind.setToolTip("An event kind, or several separated by commas (empty: all)")
        self.decision = QComboBox(form)
        self.decision.setObjectName("decision")
        for text, value in ((ANY, ""), ("Clear", "clear"), ("Suspect", "suspect")):
            self.decision.addItem(text, value)
        self.decision.setToolTip("Only screening decisions with this answer")
        self.scan = self._line("scan", "first 6+ hex digits of the sha256",
                               "The scan's sha256 or its beginning (at least 6 hex digits)")
        self.limit = QSpinBox(form)
        self.limit.setObjectName("limit")
        self.limit.setRange(1, 100_000)
        self.limit.setValue(DEFAULT_LIMIT)
        self.limit.setToolTip("Show at most this many events, newest first")
        for combo, hint in ((self.station, "any station"), (self.kind, "any kind")):
            line = combo.lineEdit()
            if line is not None:
                line.setPlaceholderText(hint)
                line.returnPressed.connect(self.search)

        self.errors: dict[str, FieldError] = {}
        fields: list[tuple[str, str, QWidget, str]] = [
            ("&From (UTC)", "since", self.since, "since"),
            ("&Until (UTC)", "before", self.until, "before"),
            ("&Operator", "actor", self.actor, "actor"),
            ("S&tation", "station", self.station, "station"),
            ("&Kind", "kinds", self.kind, "kinds"),
            ("&Decision", "decision", self.decision, "decision"),
            ("Scan s&ha256", "scan_sha256", self.scan, "scan"),
            ("&Limit", "limit", self.limit, "limit"),
        ]
        for number, (label, key, widget, _name) in enumerate(fields):
            row = 1 + (number // 4) * 3
            column = number % 4
            grid.addWidget(field_label(label, widget, form), row, column)
            grid.addWidget(widget, row + 1, column)
            error = FieldError(widget, form)
            error.setObjectName("fieldError")
            error.setAccessibleName(f"{key} error")
            grid.addWidget(error, row + 2, column)
            self.errors[key] = error
        for column in range(4):
            grid.setColumnStretch(column, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.search_button = QPushButton("Search", form)
        self.search_button.setObjectName("primaryButton")
        self.search_button.setToolTip("Search the audit log (Enter in any field)")
        self.reset_button = QPushButton("Reset", form)
        self.reset_button.setToolTip("Clear every field")
        buttons.addStretch(1)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.search_button)
        grid.addLayout(buttons, 7, 0, 1, 4)
        outer.addWidget(form)

        self.model = EventTableModel(self)
        self.table = table_view(self, "eventTable")
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        for column, width in enumerate((166, 96, 40, 150, 80, 88)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self.table, 2)
        self.status = StatusLine(self)
        self.status.setObjectName("statusLine")
        self.status.say("Search the audit log of every station: fill in any fields and "
                        "press Enter.")
        outer.addWidget(self.status)
        self.detail = QPlainTextEdit(self)
        self.detail.setObjectName("eventDetail")
        self.detail.setAccessibleName("Selected event")
        self.detail.setReadOnly(True)
        self.detail.setTabChangesFocus(True)
        mono = monospace()
        mono.setPointSizeF(9)
        self.detail.setFont(mono)
        self.detail.setPlaceholderText("The selected event, in full")
        self.detail.setMinimumHeight(190)
        outer.addWidget(self.detail, 1)

        self.search_button.clicked.connect(self.search)
        self.reset_button.clicked.connect(self.reset)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

    def _line(self, name: str, placeholder: str, tip: str) -> QLineEdit:
        line = QLineEdit(self)
        line.setObjectName(name)
        line.setPlaceholderText(placeholder)
        line.setToolTip(tip)
        line.setClearButtonEnabled(True)
        line.returnPressed.connect(self.search)
        return line

    def _load_choices(self) -> None:
        engine, actors = self.engine, self._actors

        def work(_progress: Progress) -> tuple[list[str], list[str]]:
            names = actors() if actors is not None else []
            return stations(engine), sorted({*names, "system"})

        self.tasks.submit("search.choices", work, self._choices_loaded,
                          failed=lambda _error: None)

    def _choices_loaded(self, found: tuple[list[str], list[str]]) -> None:
        names, actors = found
        current = self.station.currentText()
        self.station.clear()
        self.station.addItem("")
        self.station.addItems(names)
        self.station.setEditText(current)
        completer = QCompleter(actors, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.actor.setCompleter(completer)

    # ------------------------------------------------------------------ searching
    def focus_form(self) -> None:
        self.since.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def form_search(self) -> EventSearch:
        """The search the form describes (raises EventSearchError for a bad field)."""
        return build_search(since=self.since.text(), until=self.until.text(),
                            actor=self.actor.text(), station=self.station.currentText(),
                            kinds=self.kind.currentText(),
                            decision=str(self.decision.currentData() or ""),
                            scan=self.scan.text(), limit=self.limit.value())

    def search(self) -> None:
        for error in self.errors.values():
            error.clear_error()
        try:
            wanted = self.form_search()
        except EventSearchError as exc:
            self._field_error(exc)
            return
        self.run_search(wanted)

    def run_search(self, wanted: EventSearch) -> None:
        self._generation += 1
        generation = self._generation
        self.last_search = wanted
        self.status.say("Searching…", "busy")
        engine = self.engine

        def work(_progress: Progress) -> list[EventRecord]:
            return search_events(engine, wanted)

        self.tasks.submit("search", work,
                          lambda found: self._found(generation, wanted, found),
                          failed=lambda error: self._failed(generation, error))

    def _field_error(self, exc: EventSearchError) -> None:
        key = exc.field if exc.field in self.errors else "scan_sha256"
        problem = str(exc).split(": ", 1)[-1]
        self.errors[key].show_error(problem)
        self.status.say(f"Not searched: {problem}", "error")
        field = self.errors[key].field
        if field is not None:
            field.setFocus(Qt.FocusReason.OtherFocusReason)

    def _found(self, generation: int, wanted: EventSearch, found: list[EventRecord]) -> None:
        if generation != self._generation:
            return
        self.model.set_rows(found)
        more = " (the limit: there may be more)" if len(found) >= wanted.limit else ""
        self.status.say(f"{len(found)} event(s), newest first{more}.",
                        "info" if found else "warning")
        self.detail.clear()
        if found:
            self.select_row(0)
        else:
            self.selection_changed.emit(None)
        self.search_done.emit(len(found))

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        if isinstance(error, EventSearchError):
            self._field_error(error)
            return
        self.status.say(f"Search failed: {error_text(error)}", "error")

    def reset(self) -> None:
        for line in (self.since, self.until, self.actor, self.scan):
            line.clear()
        self.station.setEditText("")
        self.kind.setEditText("")
        self.decision.setCurrentIndex(0)
        self.limit.setValue(DEFAULT_LIMIT)
        for error in self.errors.values():
            error.clear_error()
        self.focus_form()

    # ------------------------------------------------------------------ selection
    def selected_event(self) -> EventRecord | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.events[index.row()]

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.setCurrentIndex(self.model.index(row, 0))

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        event = self.model.events[current.row()] if current.isValid() else None
        self.detail.setPlainText("" if event is None else describe_event(event))
        self.selection_changed.emit(event)
