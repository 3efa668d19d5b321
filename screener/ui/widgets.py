"""Pieces of the role views' screens: cards and side panels with their titles, form
fields with their error text, message lines, tables, a view's header, a decision
bar's title and timer.

The investigator's and the administrator's views are built of cards
(:data:`screener.ui.theme.CHAIN_VIEWS_STYLE`), the supervisor's and the trainer's of side
panels (:data:`screener.ui.theme.TIP_VIEWS_STYLE`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from screener.errors import ScreenerError
from screener.ui.theme import MUTED

if TYPE_CHECKING:
    from screener.ui.background import JobProgress
    from screener.ui.context import ViewContext


def card(parent: QWidget | None = None) -> QFrame:
    frame = QFrame(parent)
    frame.setObjectName("card")
    return frame


def card_column(parent: QWidget | None = None, title: str | None = None
                ) -> tuple[QFrame, QVBoxLayout]:  # fmt: skip
    """A card with a vertical layout (and a title, if given)."""
    frame = card(parent)
    column = QVBoxLayout(frame)
    column.setContentsMargins(10, 8, 10, 10)
    column.setSpacing(6)
    if title:
        column.addWidget(panel_title(title, frame))
    return frame, column


def side_panel(parent: QWidget, title: str, margins: tuple[int, int, int, int]
               ) -> tuple[QFrame, QVBoxLayout]:  # fmt: skip
    """A side panel with a vertical layout and a title."""
    frame = QFrame(parent)
    frame.setObjectName("sidePanel")
    column = QVBoxLayout(frame)
    column.setContentsMargins(*margins)
    column.addWidget(panel_title(title, frame))
    return frame, column


def view_header(view: QWidget, title: str, context: ViewContext, keys: str) -> QHBoxLayout:
    """The top line of a view: its title, the station and the operator, its keys."""
    header = QHBoxLayout()
    header.setSpacing(10)
    heading = QLabel(title, view)
    heading.setObjectName("bagLabel")
    header.addWidget(heading)
    operator = context.operator
    where = QLabel(f"station {context.log.station} · {operator.id} ({operator.role.value})",
                   view)
    where.setObjectName("fieldLabel")
    header.addWidget(where)
    header.addStretch(1)
    hint = QLabel(keys, view)
    hint.setObjectName("fieldLabel")
    header.addWidget(hint)
    return header


def bar_title(parent: QWidget, title: str) -> tuple[QVBoxLayout, QLabel, QLabel]:
    """A decision bar's two stacked lines: a bold title over muted detail text."""
    lines = QVBoxLayout()
    lines.setSpacing(2)
    heading = QLabel(title, parent)
    heading.setObjectName("bagLabel")
    detail = QLabel("", parent)
    detail.setStyleSheet(f"color: {MUTED};")
    lines.addWidget(heading)
    lines.addWidget(detail)
    return lines, heading, detail


def timer_column(parent: QWidget, width: int) -> tuple[QVBoxLayout, QLabel, QProgressBar]:
    """The time left on a decision: its text, right-aligned, over a bar that runs from 0
    to 1000 and that the theme colours by its ``state`` property (``ok`` to start)."""
    column = QVBoxLayout()
    column.setSpacing(2)
    left = QLabel("", parent)
    left.setAlignment(Qt.AlignmentFlag.AlignRight)
    bar = QProgressBar(parent)
    bar.setObjectName("decisionTimer")
    bar.setRange(0, 1000)
    bar.setValue(0)
    bar.setFixedWidth(width)
    bar.setTextVisible(False)
    bar.setProperty("state", "ok")
    column.addWidget(left)
    column.addWidget(bar)
    return column, left, bar


def panel_title(text: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(text.upper(), parent)
    label.setObjectName("panelTitle")
    return label


def field_label(text: str, buddy: QWidget | None, parent: QWidget | None = None) -> QLabel:
    """A muted label; ``&`` in ``text`` gives the buddy an Alt shortcut."""
    label = QLabel(text, parent)
    label.setObjectName("fieldLabel")
    if buddy is not None:
        label.setBuddy(buddy)
    return label


class FieldError(QLabel):
    """The error text shown under (or beside) one field; hidden when empty. Given the
    ``field``, it also marks a line edit invalid and puts the error in its tooltip."""

    def __init__(self, field: QWidget | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fieldError")
        self.setWordWrap(True)
        self.field = field
        self.hide()

    def show_error(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))
        if isinstance(self.field, QLineEdit):
            self.field.setProperty("invalid", bool(text))
            restyle(self.field)
        if self.field is not None:
            self.field.setToolTip(text)

    def clear_error(self) -> None:
        self.show_error("")


def add_fields(grid: QGridLayout, fields: Iterable[tuple[str, str, QWidget]],
               parent: QWidget, *, row: int = 0, span: int = 1) -> dict[str, FieldError]:
    """Each (label, key, field) on two rows of ``grid`` from ``row``: the label and the
    field (``span`` columns), then the field's error under it. The errors, by key."""
    errors: dict[str, FieldError] = {}
    for number, (label, key, field) in enumerate(fields):
        at = row + 2 * number
        grid.addWidget(field_label(label, field, parent), at, 0)
        grid.addWidget(field, at, 1, 1, span)
        errors[key] = FieldError(field, parent)
        grid.addWidget(errors[key], at + 1, 1, 1, span)
    return errors


def form_row(grid: QGridLayout, row: int, text: str, field: QWidget, parent: QWidget, *,
             buddy: QWidget | None = None) -> FieldError:
    """``text`` (for ``buddy``, else ``field``), the field and its error beside it, on
    ``row`` of ``grid``. The error."""
    label = QLabel(text, parent)
    label.setBuddy(buddy or field)
    error = FieldError(None, parent)
    grid.addWidget(label, row, 0)
    grid.addWidget(field, row, 1)
    grid.addWidget(error, row, 2)
    return error


def show_progress(bar: QProgressBar, progress: JobProgress) -> None:
    """A job's progress on ``bar``; busy while the amount of work is not known."""
    if progress.total:
        bar.setRange(0, progress.total)
        bar.setValue(progress.done)
    else:
        bar.setRange(0, 0)


def say(label: QLabel, level: str, text: str) -> None:
    """``text`` in ``label``, styled by its ``level`` property (ok, error, warning...)."""
    label.setText(text)
    label.setProperty("level", level)
    restyle(label)


class StatusLine(QLabel):
    """A one-line message with a level (info, ok, warning, error, busy)."""

    def __init__(self, parent: QWidget | None = None, object_name: str = "statusLine") -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.level = "info"

    def say(self, text: str, level: str = "info") -> None:
        self.level = level
        say(self, level, text)


def restyle(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.updateGeometry()
    widget.update()


def table_view(parent: QWidget | None = None, name: str = "") -> QTableView:
    """A read-only, row-selecting, keyboard-friendly table."""
    view = QTableView(parent)
    if name:
        view.setObjectName(name)
        view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move within it
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(24)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    return view


def show_tab(tabs: QTabWidget, index: int) -> None:
    """Show the page ``index`` of ``tabs``, the focus on its first control."""
    tabs.setCurrentIndex(index)
    page = tabs.currentWidget()
    if page is not None:
        focus_first(page)


def focus_first(page: QWidget) -> None:
    """Give the keyboard focus to the first control of ``page`` that takes Tab focus."""
    widget = page.nextInFocusChain()
    while widget is not None and widget is not page:
        if page.isAncestorOf(widget) and widget.isEnabled() and widget.isVisibleTo(page) \
                and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            widget.setFocus(Qt.FocusReason.TabFocusReason)
            return
        widget = widget.nextInFocusChain()


def error_text(error: BaseException) -> str:
    """What to tell the user about ``error``: a Screener error's own message (it says
    what to do), anything else with its type."""
    if isinstance(error, ScreenerError):
        return str(error)
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
