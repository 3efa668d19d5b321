"""The administrator's view: users, stations and keys, retention.

* **Users** (:mod:`screener.ui.admin_users`): every account with its role and state;
  create, change role, unlock, disable or enable, reset a password;
* **Stations && keys** (:mod:`screener.ui.admin_keys`): this station's key fingerprint,
  rotate the key, sign a checkpoint now; the stations of the database;
* **Retention** (:mod:`screener.ui.admin_retention`): a dry run and a purge of scan files
  past a number of days, showing what is kept on legal hold.

Every change goes through the Qt-free core with the logged-in operator; the core checks
the administrator role again, so a refused attempt is logged (``auth.denied``) and shown.
Work runs on the view's worker, never on the GUI thread. Keyboard: Alt+1/2/3 the tabs,
Tab through every control, Alt mnemonics on fields and buttons.
"""

from __future__ import annotations

import functools

from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from screener.ui import shortcuts
from screener.ui.admin_keys import KeysPanel
from screener.ui.admin_retention import RetentionPanel
from screener.ui.admin_users import UsersPanel
from screener.ui.background import BackgroundJobs
from screener.ui.context import ViewContext
from screener.ui.theme import CHAIN_VIEWS_STYLE
from screener.ui.widgets import show_tab, view_header

USERS_TAB, KEYS_TAB, RETENTION_TAB = 0, 1, 2


class AdminView(QWidget):
    """Users, station keys and retention."""

    def __init__(self, context: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adminView")
        self.setStyleSheet(CHAIN_VIEWS_STYLE)
        self.context = context
        self.tasks = BackgroundJobs("admin", parent=self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(6)
        outer.addLayout(view_header(self, "Administration", context, "Alt+1 users · Alt+2 "
                                    "stations and keys · Alt+3 retention"))

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("adminTabs")
        self.users = UsersPanel(context.accounts, context.operator, self.tasks, self.tabs)
        self.keys = KeysPanel(context.log, context.settings, context.operator, self.tasks,
                              self.tabs)
        self.retention = RetentionPanel(context.log, context.store, context.operator,
                                        self.tasks, self.tabs)
        self.tabs.addTab(self.users, "Users")
        self.tabs.addTab(self.keys, "Stations && keys")
        self.tabs.addTab(self.retention, "Retention")
        outer.addWidget(self.tabs, 1)
        for number, tab in ((1, USERS_TAB), (2, KEYS_TAB), (3, RETENTION_TAB)):
            shortcuts.bind(self, f"Alt+{number}", functools.partial(self.show_tab, tab))

    def show_tab(self, index: int) -> None:
        show_tab(self.tabs, index)

    def wait_idle(self, timeout_ms: int = 60_000) -> bool:
        """Block until the view's worker is idle (shutdown, tests)."""
        return self.tasks.wait(timeout_ms)

    # ------------------------------------------------------------------ the shell's hooks
    def shutdown(self, reason: str = "") -> None:
        """Logout or close: let running work (an account change, a purge) finish."""
        self.wait_idle()

    def busy_reason(self) -> str | None:
        for task, text in (("keys.rotate", "the station key is being rotated"),
                           ("retention.purge", "a retention purge is running")):
            if self.tasks.running(task):
                return text
        return None

    def shortcut_help(self) -> list[tuple[str, str]]:
        return [("Alt+1", "users"), ("Alt+2", "stations and keys"),
                ("Alt+3", "retention"), ("Enter", "create the account or reset the password "
                                                   "(in its fields)"),
                ("Alt+letter", "the underlined field or button")]
