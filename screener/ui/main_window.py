"""The workstation's shell for one logged-in operator: the views their role may use, a
menu, and a status bar.

* **Views** (:mod:`screener.ui.role_views`): the View menu offers only the views the
  operator's role may open, and :meth:`MainWindow.open_view` refuses any other through
  the workflow's :class:`~screener.workflow.roles.Guard`, which logs ``auth.denied``
  before it raises :class:`~screener.workflow.errors.PermissionDenied`. Views are made
  when first opened, with the operator's :class:`~screener.ui.context.ViewContext`.
* **Menu**: View (Ctrl+1 ...), Session (Log out Ctrl+L, Quit Ctrl+Q), Help (Keyboard
  shortcuts Ctrl+/). Alt opens the menus from the keyboard.
* **Status bar**: station, operator and role, demo mode, the AI's state (screener view)
  and the head of the audit chain (seq and hash), so that everyone at the station can
  see the log is moving.

The window does not log in or out itself: it asks (``logout_requested``,
``quit_requested``) and the station (:mod:`screener.ui.app`) does it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QStatusBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from screener.audit.chain import EventRecord
from screener.errors import ScreenerError
from screener.ui.context import ViewContext
from screener.ui.role_views import RoleView, offered
from screener.ui.theme import ACCENT, AMBER, BORDER, MUTED, PANEL, RAISED, TEXT
from screener.workflow.errors import PermissionDenied
from screener.workflow.roles import Guard, Role

LOG_OUT_KEY = "Ctrl+L"
QUIT_KEY = "Ctrl+Q"
HELP_KEY = "Ctrl+/"

_STYLE = f"""
QMenuBar {{ background: {PANEL}; border-bottom: 1px solid {BORDER}; padding: 1px 4px; }}
QMenuBar::item {{ background: transparent; padding: 4px 10px; border-radius: 3px; }}
QMenuBar::item:selected {{ background: {RAISED}; }}
QMenu {{ background: {PANEL}; border: 1px solid {BORDER}; padding: 4px; }}
QMenu::item {{ padding: 5px 28px 5px 22px; border-radius: 3px; }}
QMenu::item:selected {{ background: {ACCENT}; color: white; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 4px 8px; }}
#demoBadge {{ color: #1b1406; background: {AMBER}; font-weight: bold; border-radius: 3px;
    padding: 0 8px; }}
#notice {{ color: {AMBER}; }}
#unavailableView QLabel {{ color: {MUTED}; font-size: 12pt; }}
"""


class ShortcutsDialog(QDialog):
    """Keyboard shortcuts: the menu's and the open view's."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        layout = QVBoxLayout(self)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.table.setStyleSheet(f"QTableWidget {{ border: 1px solid {BORDER}; }} "
                                 f"QHeaderView::section {{ background: {RAISED}; "
                                 f"color: {TEXT}; border: none; padding: 4px; }}")
        for row, (keys, does) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(does))
        self.table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 520)


class MainWindow(QMainWindow):
    """Shell: the operator's role views in a stack, the menu, the status bar."""

    logout_requested = Signal()
    quit_requested = Signal()
    view_opened = Signal(str, object)  # view name, widget

    def __init__(self, context: ViewContext, views: Mapping[Role, RoleView], *,
                 demo: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setStyleSheet(_STYLE)
        self.context = context
        self.operator = context.operator
        self.views = dict(views)
        self.demo = demo
        self.guard = Guard(context.log)
        station = context.settings.station
        self.setWindowTitle(f"Screener \u2014 {station} \u2014 {self.operator.id} "
                            f"({self.operator.role.value})" + (" \u2014 DEMO" if demo else ""))
        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self._built: dict[str, QWidget] = {}
        self._on_close: list[Callable[[], None]] = []
        self._shut_down = False
        self.closing_quietly = False  #: closed by the station (log out): no quit request
        self._status_bar(station)
        self._menus()

    # ------------------------------------------------------------------ chrome
    def _status_bar(self, station: str) -> None:
        bar = QStatusBar(self)
        bar.setSizeGripEnabled(False)
        self.setStatusBar(bar)
        self.station_label = QLabel(f"Station {station}", self)
        self.operator_label = QLabel(f"Operator {self.operator.id} "
                                     f"({self.operator.role.value})", self)
        self.operator_label.setObjectName("operatorLabel")
        self.ai_label = QLabel("", self)
        self.ai_label.hide()
        self.notice = QLabel("", self)
        self.notice.setObjectName("notice")
        self.audit_label = QLabel("Audit: \u2013", self)
        self.audit_label.setObjectName("auditHead")
        if self.demo:
            badge = QLabel("DEMO MODE", self)
            badge.setObjectName("demoBadge")
            badge.setToolTip("Demo accounts with published passwords: not for operational use")
            bar.addWidget(badge)
        for label in (self.station_label, self.operator_label, self.ai_label):
            bar.addWidget(label)
        bar.addWidget(self.notice, 1)
        bar.addPermanentWidget(self.audit_label)

    def _menus(self) -> None:
        menu_bar = self.menuBar()
        self.view_menu = menu_bar.addMenu("&View")
        self.view_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        group.setExclusive(True)
        for number, view in enumerate(offered(self.views, self.operator.role), 1):
            action = QAction(f"&{number}  {view.title}", self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.setObjectName(f"view-{view.name}")
            action.triggered.connect(lambda _=False, name=view.name: self.open_view(name))
            group.addAction(action)
            self.view_menu.addAction(action)
            self.view_actions[view.name] = action
        session = menu_bar.addMenu("&Session")
        self.logout_action = QAction("&Log out", self)
        self.logout_action.setShortcut(QKeySequence(LOG_OUT_KEY))
        self.logout_action.triggered.connect(self.logout_requested)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence(QUIT_KEY))
        self.quit_action.triggered.connect(self.quit_requested)
        session.addAction(self.logout_action)
        session.addSeparator()
        session.addAction(self.quit_action)
        help_menu = menu_bar.addMenu("&Help")
        self.help_action = QAction("&Keyboard shortcuts\u2026", self)
        self.help_action.setShortcut(QKeySequence(HELP_KEY))
        self.help_action.triggered.connect(self.show_shortcuts)
        help_menu.addAction(self.help_action)
        for action in (self.logout_action, self.quit_action, self.help_action):
            self.addAction(action)  # the shortcuts work while the menu is closed
        for action in self.view_actions.values():
            self.addAction(action)

    # ------------------------------------------------------------------ views
    def offered_views(self) -> list[str]:
        """The names of the views the View menu offers this operator."""
        return list(self.view_actions)

    def open_view(self, name: str | Role) -> QWidget:
        """Show the view ``name`` (a role's value), made on first use. Raises
        :class:`PermissionDenied`, after the guard logged ``auth.denied``, when the
        operator's role may not use it."""
        try:
            role = Role(name)
        except ValueError:
            raise ScreenerError(f"there is no view {name!r}; views: "
                                f"{', '.join(r.value for r in Role)}") from None
        view = self.views[role]
        try:
            self.guard.require(self.operator.id, self.operator.role, view.action,
                               subject=f"{view.title} view")
        except PermissionDenied:
            self.show_notice(f"The {view.title} view is not for the {self.operator.role.value} "
                             "role: refused and logged")
            raise
        widget = self._built.get(view.name)
        if widget is None:
            widget = self._make(view)
            self._built[view.name] = widget
            self.stack.addWidget(widget)
        self.stack.setCurrentWidget(widget)
        action = self.view_actions.get(view.name)
        if action is not None:
            action.setChecked(True)
        self.ai_label.setVisible(role is Role.SCREENER and bool(self.ai_label.text()))
        self.view_opened.emit(view.name, widget)
        return widget

    def _make(self, view: RoleView) -> QWidget:
        try:
            return view.factory(self.context, None)
        except Exception as exc:  # a view that cannot be made must not take the shell down
            holder = QWidget(self)
            holder.setObjectName("unavailableView")
            layout = QVBoxLayout(holder)
            label = QLabel(f"The {view.title} view is not available: "
                           f"{' '.join(str(exc).split()) or type(exc).__name__}", holder)
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
            return holder

    def view(self, name: str) -> QWidget | None:
        """The view ``name`` if it has been made."""
        return self._built.get(name)

    def current_view(self) -> QWidget | None:
        return self.stack.currentWidget()

    def busy_reason(self) -> str | None:
        """Why the operator must not log out yet (a view's own reason), else None."""
        for widget in self._built.values():
            ask = getattr(widget, "busy_reason", None)
            reason = ask() if callable(ask) else None
            if reason:
                return str(reason)
        return None

    def shutdown_views(self, reason: str) -> None:
        """Tell every view made that the operator is leaving (once)."""
        if self._shut_down:
            return
        self._shut_down = True
        for widget in self._built.values():
            shutdown = getattr(widget, "shutdown", None)
            if callable(shutdown):
                shutdown(reason)

    # ------------------------------------------------------------------ status
    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setToolTip(text)

    def set_audit_head(self, event: EventRecord | None) -> None:
        if event is None:
            return
        self.audit_label.setText(f"Audit chain seq {event.seq} \u00b7 {event.hash[:12]}\u2026")
        self.audit_label.setToolTip(f"Head of the audit chain at {event.station}: seq "
                                    f"{event.seq}, hash {event.hash} ({event.kind})")

    def set_ai_status(self, text: str) -> None:
        self.ai_label.setText(text or "AI ready")
        self.ai_label.setStyleSheet(f"color: {AMBER};" if text else "")
        current = self.current_view()
        self.ai_label.setVisible(current is not None
                                 and current is self._built.get(Role.SCREENER.value))

    # ------------------------------------------------------------------ help
    def shortcut_rows(self) -> list[tuple[str, str]]:
        rows = [(action.shortcut().toString(QKeySequence.SequenceFormat.NativeText),
                 f"Open the {name} view") for name, action in self.view_actions.items()]
        rows += [(LOG_OUT_KEY, "Log out"), (QUIT_KEY, "Quit"),
                 (HELP_KEY, "This list of keyboard shortcuts"),
                 ("Alt+V, Alt+S, Alt+H", "Open the View, Session or Help menu")]
        current = self.current_view()
        ask = getattr(current, "shortcut_help", None)
        if callable(ask):
            rows += [(str(keys), str(does)) for keys, does in ask()]
        return rows

    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.shortcut_rows(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    # ------------------------------------------------------------------ closing
    def on_close(self, callback: Callable[[], None]) -> None:
        """Called when the operator closes the window (not when the station does)."""
        self._on_close.append(callback)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.closing_quietly:
            for callback in self._on_close:
                callback()
        super().closeEvent(event)
