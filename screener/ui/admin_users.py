"""User administration: the accounts of the site (id, role, state) and the changes an
administrator makes, each through :class:`~screener.accounts.users.Accounts` with the
logged-in operator. The core checks the role again: anyone else is refused, and the
attempt logged as ``auth.denied``. Every change is a ``user.created`` or ``user.changed``
event; passwords never reach the log.

Account changes hash passwords (scrypt) and write to the database, so they run on the
view's worker; the table is read again after each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from screener.accounts import users
from screener.accounts.passwords import MIN_LENGTH, PasswordPolicyError
from screener.accounts.users import Account, AccountError, Accounts
from screener.audit.chain import EventRecord
from screener.audit.query import EventSearch, search_events
from screener.ui.background import BackgroundJobs, Progress
from screener.ui.event_search import EventTableModel
from screener.ui.table_model import RowsModel
from screener.ui.theme import AMBER, MUTED
from screener.ui.widgets import (
    FieldError,
    StatusLine,
    add_fields,
    card_column,
    error_text,
    field_label,
    restyle,
    table_view,
)
from screener.workflow.errors import PermissionDenied
from screener.workflow.roles import KIND_AUTH_DENIED, Role
from screener.workflow.session import Operator

#: What the activity list shows: account changes, lockouts and refusals, newest first.
ACTIVITY = EventSearch(kinds=(users.KIND_USER_CREATED, users.KIND_USER_CHANGED,
                              users.KIND_LOCKED, users.KIND_LOGIN_FAILED, KIND_AUTH_DENIED),
                       limit=200)
LOCKED_TEXT = QColor(AMBER)
DISABLED_TEXT = QColor("#ff9a9a")


def account_state(account: Account, now: datetime | None = None) -> str:
    """active, locked (until when), or disabled; and demo, for demo accounts."""
    moment = now or datetime.now(UTC)
    if account.disabled:
        state = "disabled"
    elif account.locked(moment) and account.locked_until_utc is not None:
        until = datetime.fromisoformat(account.locked_until_utc)
        state = f"locked until {until:%H:%M} UTC"
    else:
        state = "active"
    return f"{state} · demo" if account.demo else state


class AccountModel(RowsModel[Account]):
    COLUMNS = ("User", "Role", "State", "Name", "Created (UTC)", "Failed logins")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._states: dict[str, str] = {}  # user id -> account_state

    def set_rows(self, rows: Iterable[Account]) -> None:
        accounts = list(rows)
        now = datetime.now(UTC)
        self._states = {a.user_id: account_state(a, now) for a in accounts}
        super().set_rows(accounts)

    def row_of(self, user_id: str) -> int:
        return next((i for i, a in enumerate(self.rows) if a.user_id == user_id), -1)

    def state(self, row: int) -> str:
        return self._states[self.rows[row].user_id]

    def display(self, row: Account, column: int) -> str:
        return (row.user_id, row.role.value, self._states[row.user_id], row.display_name,
                row.created_utc[:16].replace("T", " "), str(row.failed_attempts))[column]

    def foreground(self, row: Account, column: int) -> QColor | None:
        state = self._states[row.user_id]
        if column == 2 and state.startswith("locked"):
            return LOCKED_TEXT
        if column == 2 and state.startswith("disabled"):
            return DISABLED_TEXT
        return QColor(MUTED) if column in (3, 4, 5) else None


class UsersPanel(QFrame):
    """The account list, a new account, and changes to the selected one."""

    changed = Signal(str)  # what was done

    def __init__(self, accounts: Accounts, operator: Operator, tasks: BackgroundJobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tabPage")
        self.accounts = accounts
        self.operator = operator
        self.tasks = tasks
        self._select_after: str | None = None
        self._build()
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 8, 8, 8)
        row.setSpacing(8)
        left = QVBoxLayout()
        left.setSpacing(6)
        list_card, list_column = card_column(self, "Accounts")
        self.model = AccountModel(self)
        self.table = table_view(list_card, "userTable")
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        for column, width in enumerate((110, 100, 170, 150, 150)):
            header.resizeSection(column, width)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        list_column.addWidget(self.table, 1)
        self.status = StatusLine(list_card)
        list_column.addWidget(self.status)
        left.addWidget(list_card, 1)
        row.addLayout(left, 5)

        right = QVBoxLayout()
        right.setSpacing(8)
        right.addWidget(self._create_card())
        right.addWidget(self._change_card())
        right.addWidget(self._activity_card(), 1)
        row.addLayout(right, 4)
        self.table.selectionModel().currentRowChanged.connect(self._selected)

    def _create_card(self) -> QFrame:
        frame, column = card_column(self, "New account")
        self.new_id = QLineEdit(frame)
        self.new_id.setObjectName("newUserId")
        self.new_id.setPlaceholderText("op-17")
        self.new_name = QLineEdit(frame)
        self.new_name.setObjectName("newDisplayName")
        self.new_name.setPlaceholderText("optional")
        self.new_role = QComboBox(frame)
        self.new_role.setObjectName("newRole")
        for role in Role:
            self.new_role.addItem(role.value, role)
        self.new_password = self._password(frame, "newPassword")
        self.new_repeat = self._password(frame, "newPasswordRepeat")
        self.create_errors = self._form(column, (
            ("User &id", "id", self.new_id), ("Na&me", "name", self.new_name),
            ("R&ole", "role", self.new_role), ("&Password", "password", self.new_password),
            ("Repea&t", "repeat", self.new_repeat)), frame)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.create_button = QPushButton("&Create account", frame)
        self.create_button.setObjectName("primaryButton")
        buttons.addWidget(self.create_button)
        column.addLayout(buttons)
        self.create_button.clicked.connect(self.create_account)
        for line in (self.new_id, self.new_name, self.new_password, self.new_repeat):
            line.returnPressed.connect(self.create_account)
        return frame

    def _change_card(self) -> QFrame:
        frame, column = card_column(self, "Selected account")
        self.selected_label = QLabel("Select an account in the list", frame)
        self.selected_label.setObjectName("valueLabel")
        column.addWidget(self.selected_label)
        role_row = QHBoxLayout()
        self.role = QComboBox(frame)
        self.role.setObjectName("changeRole")
        for role in Role:
            self.role.addItem(role.value, role)
        role_row.addWidget(field_label("Ro&le", self.role, frame))
        role_row.addWidget(self.role, 1)
        self.role_button = QPushButton("&Set role", frame)
        role_row.addWidget(self.role_button)
        column.addLayout(role_row)
        state_row = QHBoxLayout()
        self.unlock_button = QPushButton("&Unlock", frame)
        self.unlock_button.setToolTip("Clear the lockout after repeated failed logins")
        self.disable_button = QPushButton("&Disable", frame)
        self.disable_button.setObjectName("dangerButton")
        self.disable_button.setToolTip("A disabled account cannot log in (reversible)")
        state_row.addWidget(self.unlock_button)
        state_row.addWidget(self.disable_button)
        state_row.addStretch(1)
        column.addLayout(state_row)
        self.reset_password = self._password(frame, "resetPassword")
        self.reset_repeat = self._password(frame, "resetPasswordRepeat")
        self.reset_errors = self._form(column, (
            ("&New password", "password", self.reset_password),
            ("Repe&at", "repeat", self.reset_repeat)), frame)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.reset_button = QPushButton("&Reset password", frame)
        self.reset_button.setToolTip("Set a new password (also clears a lockout)")
        buttons.addWidget(self.reset_button)
        column.addLayout(buttons)
        self.role_button.clicked.connect(self.set_role)
        self.unlock_button.clicked.connect(self.unlock)
        self.disable_button.clicked.connect(self.toggle_disabled)
        self.reset_button.clicked.connect(self.reset)
        for line in (self.reset_password, self.reset_repeat):
            line.returnPressed.connect(self.reset)
        self._enable_changes(None)
        return frame

    def _activity_card(self) -> QFrame:
        frame, column = card_column(self, "Account activity")
        self.activity = EventTableModel(self)
        self.activity_table = table_view(frame, "accountActivity")
        self.activity_table.setModel(self.activity)
        for hidden in (1, 2, 5):  # station, seq, scan
            self.activity_table.setColumnHidden(hidden, True)
        header = self.activity_table.horizontalHeader()
        header.resizeSection(0, 166)
        header.resizeSection(3, 110)
        header.resizeSection(4, 70)
        self.activity_table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.activity_table.setMinimumHeight(110)
        column.addWidget(self.activity_table, 1)
        return frame

    @staticmethod
    def _form(column: QVBoxLayout, fields: Iterable[tuple[str, str, QWidget]],
              parent: QWidget) -> dict[str, FieldError]:
        """The fields, each with its error under it, in a grid at the end of ``column``."""
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(3)
        errors = add_fields(grid, fields, parent)
        grid.setColumnStretch(1, 1)
        column.addLayout(grid)
        return errors

    def _password(self, parent: QWidget, name: str) -> QLineEdit:
        line = QLineEdit(parent)
        line.setObjectName(name)
        line.setEchoMode(QLineEdit.EchoMode.Password)
        line.setPlaceholderText(f"at least {MIN_LENGTH} characters")
        return line

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        accounts = self.accounts

        def work(_progress: Progress) -> tuple[list[Account], list[EventRecord]]:
            return accounts.all(), search_events(accounts.engine, ACTIVITY)

        self.tasks.submit("users.list", work, self._listed,
                          failed=lambda e: self.status.say(
                              f"Cannot read the accounts: {error_text(e)}", "error"))

    def _listed(self, read: tuple[list[Account], list[EventRecord]]) -> None:
        found, activity = read
        self.activity.set_rows(activity)
        current = self.selected()
        keep = self._select_after or (current.user_id if current is not None else None)
        self._select_after = None
        self.model.set_rows(found)
        row = self.model.row_of(keep) if keep else -1
        if row >= 0:
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 0))
        else:
            self._enable_changes(None)
        if self.status.level not in ("ok", "error"):
            self.status.say(f"{len(found)} account(s).")

    def selected(self) -> Account | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()]

    def select_user(self, user_id: str) -> bool:
        row = self.model.row_of(user_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        self.table.setCurrentIndex(self.model.index(row, 0))
        return True

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        account = self.model.rows[current.row()] if current.isValid() else None
        self._enable_changes(account)

    def _enable_changes(self, account: Account | None) -> None:
        for widget in (self.role, self.role_button, self.unlock_button, self.disable_button,
                       self.reset_password, self.reset_repeat, self.reset_button):
            widget.setEnabled(account is not None)
        if account is None:
            self.selected_label.setText("Select an account in the list")
            return
        row = self.model.row_of(account.user_id)
        state = self.model.state(row) if row >= 0 else ""
        self.selected_label.setText(f"{account.user_id} · {account.role.value} · {state}")
        self.role.setCurrentIndex(max(0, self.role.findData(account.role)))
        self.disable_button.setText("&Enable" if account.disabled else "&Disable")
        self.disable_button.setObjectName("primaryButton" if account.disabled
                                          else "dangerButton")
        restyle(self.disable_button)
        self.unlock_button.setEnabled(account.locked_until_utc is not None
                                      or account.failed_attempts > 0)

    # ------------------------------------------------------------------ changing
    def _run(self, name: str, action: Callable[[], object], done_text: str,
             errors: dict[str, FieldError] | None = None, select: str | None = None,
             after: Callable[[], None] | None = None) -> None:
        self.status.say(f"{done_text.split(':')[0]}…", "busy")

        def work(_progress: Progress) -> object:
            return action()

        def done(_value: object) -> None:
            self.status.say(done_text, "ok")
            self._select_after = select
            if after is not None:
                after()
            self.changed.emit(done_text)
            self.refresh()

        def failed(error: BaseException) -> None:
            self._show_error(error, errors or {})
            self.refresh()  # a refused attempt may still have changed nothing but the log

        self.tasks.submit(name, work, done, failed=failed)

    def _show_error(self, error: BaseException, errors: dict[str, FieldError]) -> None:
        text = error_text(error)
        if isinstance(error, PasswordPolicyError) and "password" in errors:
            errors["password"].show_error(text)
            self.status.say(f"Not changed: {text}", "error")
        elif isinstance(error, AccountError) and "user id" in text and "id" in errors:
            errors["id"].show_error(text)
            self.status.say(f"Not changed: {text}", "error")
        elif isinstance(error, PermissionDenied):
            self.status.say(f"Refused: {text}", "error")
        else:
            self.status.say(f"Not changed: {text}", "error")

    def _passwords(self, first: QLineEdit, second: QLineEdit,
                   errors: dict[str, FieldError]) -> str | None:
        if not first.text():
            errors["password"].show_error("give the password")
            return None
        if first.text() != second.text():
            errors["repeat"].show_error("the two passwords differ")
            return None
        return first.text()

    def create_account(self) -> None:
        for error in self.create_errors.values():
            error.clear_error()
        user_id = self.new_id.text().strip()
        if not user_id:
            self.create_errors["id"].show_error("give the user id")
            return
        password = self._passwords(self.new_password, self.new_repeat, self.create_errors)
        if password is None:
            return
        role = Role(self.new_role.currentData())
        name = self.new_name.text().strip()
        accounts, operator = self.accounts, self.operator

        def clear() -> None:
            for line in (self.new_id, self.new_name, self.new_password, self.new_repeat):
                line.clear()

        self._run("users.create",
                  lambda: accounts.create(operator, user_id, role, password, name),
                  f"Created: {user_id} ({role.value})", self.create_errors, select=user_id,
                  after=clear)

    def set_role(self) -> None:
        account = self.selected()
        if account is None:
            return
        role = Role(self.role.currentData())
        accounts, operator = self.accounts, self.operator
        self._run("users.role", lambda: accounts.set_role(operator, account.user_id, role),
                  f"Role changed: {account.user_id} is now {role.value}",
                  select=account.user_id)

    def unlock(self) -> None:
        account = self.selected()
        if account is None:
            return
        accounts, operator = self.accounts, self.operator
        self._run("users.unlock", lambda: accounts.unlock(operator, account.user_id),
                  f"Unlocked: {account.user_id}", select=account.user_id)

    def toggle_disabled(self) -> None:
        account = self.selected()
        if account is None:
            return
        disable = not account.disabled
        accounts, operator = self.accounts, self.operator
        self._run("users.disable",
                  lambda: accounts.set_disabled(operator, account.user_id, disable),
                  f"{'Disabled' if disable else 'Enabled'}: {account.user_id}",
                  select=account.user_id)

    def reset(self) -> None:
        account = self.selected()
        if account is None:
            return
        for error in self.reset_errors.values():
            error.clear_error()
        password = self._passwords(self.reset_password, self.reset_repeat, self.reset_errors)
        if password is None:
            return
        accounts, operator = self.accounts, self.operator

        def clear() -> None:
            self.reset_password.clear()
            self.reset_repeat.clear()

        self._run("users.reset",
                  lambda: accounts.reset_password(operator, account.user_id, password),
                  f"Password reset: {account.user_id}", self.reset_errors,
                  select=account.user_id, after=clear)
