"""Small pieces the investigator's and the administrator's views share: the style of
forms and tables in the dark theme, cards, titles, a message line, a field's error text.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from screener.errors import ScreenerError
from screener.ui.theme import (
    ACCENT,
    AMBER,
    BORDER,
    CLEAR,
    MUTED,
    PANEL,
    RAISED,
    SUSPECT,
    TEXT,
    WINDOW,
)

ERROR_TEXT = "#ff8080"

#: Added to the application's style sheet by the role views (forms, tables, tabs, cards).
ROLE_VIEW_STYLE = f"""
QLineEdit, QSpinBox, QPlainTextEdit, QTextBrowser {{ background: {WINDOW};
    border: 1px solid {BORDER}; border-radius: 3px; padding: 3px 6px;
    selection-background-color: {ACCENT}; }}
QLineEdit:focus, QSpinBox:focus, QPlainTextEdit:focus, QTextBrowser:focus {{
    border: 1px solid {ACCENT}; }}
QLineEdit[invalid="true"] {{ border: 1px solid {SUSPECT}; }}
QLineEdit:disabled {{ color: #5d646c; }}
QComboBox QAbstractItemView {{ background: {RAISED}; border: 1px solid {BORDER};
    selection-background-color: {ACCENT}; }}
QPushButton:hover {{ background: #2f353c; }}
QPushButton:disabled {{ color: #5d646c; }}
QPushButton#primaryButton {{ background: {ACCENT}; color: white; font-weight: bold;
    border: 1px solid {ACCENT}; padding: 4px 14px; }}
QPushButton#primaryButton:focus {{ border: 1px solid white; }}
QPushButton#primaryButton:disabled {{ background: {RAISED}; color: #5d646c;
    border: 1px solid {BORDER}; }}
QPushButton#dangerButton {{ background: #4a1c1c; color: #ffc2c2; border: 1px solid {SUSPECT};
    padding: 4px 14px; }}
QPushButton#dangerButton:focus {{ border: 1px solid white; }}
QPushButton#dangerButton:disabled {{ background: {RAISED}; color: #5d646c;
    border: 1px solid {BORDER}; }}
QTableView {{ background: {WINDOW}; alternate-background-color: #1a1e23;
    border: 1px solid {BORDER}; border-radius: 3px; gridline-color: {BORDER};
    selection-background-color: #22486e; selection-color: white; }}
QTableView:focus {{ border: 1px solid {ACCENT}; }}
QTableView::item {{ padding: 2px 6px; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none;
    border-right: 1px solid {BORDER}; border-bottom: 1px solid {BORDER}; padding: 4px 6px;
    font-weight: bold; }}
QTableCornerButton::section {{ background: {PANEL}; border: none; }}
QTabWidget::pane {{ border: 1px solid {BORDER}; border-radius: 4px; top: -1px;
    background: {PANEL}; }}
QTabBar::tab {{ background: {WINDOW}; color: {MUTED}; padding: 6px 16px;
    border: 1px solid {BORDER}; border-bottom: none; border-top-left-radius: 4px;
    border-top-right-radius: 4px; margin-right: 2px; }}
QTabBar::tab:selected {{ background: {PANEL}; color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:focus {{ color: white; }}
QTabWidget > QWidget {{ background: {PANEL}; }}
#card {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; }}
#card QLabel, #card QCheckBox, #card QRadioButton, #tabPage QLabel, #tabPage QCheckBox,
#tabPage QRadioButton {{ background: transparent; }}
#tabPage {{ background: {PANEL}; }}
#fieldError {{ color: {ERROR_TEXT}; background: transparent; }}
#fieldLabel {{ color: {MUTED}; background: transparent; }}
#valueLabel {{ color: {TEXT}; background: transparent; }}
#fingerprint {{ font-family: monospace; font-size: 11pt; color: {TEXT}; background: transparent; }}
#statusLine {{ color: {MUTED}; background: transparent; }}
#statusLine[level="ok"] {{ color: {CLEAR}; font-weight: bold; }}
#statusLine[level="error"] {{ color: {ERROR_TEXT}; font-weight: bold; }}
#statusLine[level="warning"] {{ color: {AMBER}; }}
#statusLine[level="busy"] {{ color: {ACCENT}; }}
#chip {{ border-radius: 3px; padding: 3px 10px; font-weight: bold; background: {RAISED};
    color: {MUTED}; }}
#chip[level="ok"] {{ background: #173d27; color: #8ee6ad; }}
#chip[level="error"] {{ background: #5a1f1f; color: #ffb4b4; }}
#chip[level="busy"] {{ background: #12324f; color: #9cc9f5; }}
#chip[level="warning"] {{ background: #5a4312; color: #ffd98a; }}
#confirmBar {{ background: #2a1c1c; border: 1px solid {SUSPECT}; border-radius: 4px; }}
#confirmBar QLabel {{ background: transparent; color: {TEXT}; }}
QProgressBar#taskProgress {{ max-height: 8px; }}
QProgressBar#taskProgress::chunk {{ background: {ACCENT}; }}
QProgressBar#taskProgress[state="ok"]::chunk {{ background: {CLEAR}; }}
QProgressBar#taskProgress[state="error"]::chunk {{ background: {SUSPECT}; }}
"""


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
    """The error text shown under (or beside) one field; hidden when empty."""

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
        self.setText(text)
        self.setProperty("level", level)
        restyle(self)


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
