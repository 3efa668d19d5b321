"""Logging in at the station, and creating the first administrator.

Both dialogs are thin over :class:`~screener.accounts.users.Accounts`, which hashes and
checks passwords (scrypt), locks accounts after repeated failures and logs every attempt.
Hashing takes about a tenth of a second on purpose, so it runs off the GUI thread
(:class:`BackgroundCall`) and the dialog stays responsive meanwhile.

* :class:`LoginDialog`: operator id and password. The refusal shown is the core's own
  message (an unknown id and a wrong password read the same; a locked account says until
  when). In demo mode the dialog says so and lists the published demo accounts.
* :class:`FirstRunDialog`: a new installation has no account; its first is the
  administrator's (id, password twice, the password policy's refusals shown).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from screener.accounts.users import Account, Accounts, LoginError
from screener.errors import ScreenerError
from screener.ui.theme import ACCENT, AMBER, BORDER, DISABLED, MUTED, PANEL, RAISED, TEXT
from screener.ui.widgets import say
from screener.workflow.roles import Role
from screener.workflow.session import Operator

_STYLE = f"""
QDialog {{ background: #121519; }}
#card {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 8px; }}
#card QLabel {{ background: transparent; }}
#brand, #tagline, #footer {{ background: transparent; }}
#footer {{ color: {DISABLED}; font-size: 8pt; }}
#brand {{ color: {TEXT}; font-size: 22pt; font-weight: bold; letter-spacing: 6px; }}
#tagline {{ color: {MUTED}; font-size: 10pt; }}
#heading {{ color: {TEXT}; font-size: 13pt; font-weight: bold; }}
#explain {{ color: {MUTED}; }}
#fieldLabel {{ color: {MUTED}; font-size: 9pt; font-weight: bold; letter-spacing: 1px; }}
QLineEdit {{ background: #101316; border: 1px solid {BORDER}; border-radius: 4px;
    padding: 7px 9px; font-size: 11pt; selection-background-color: {ACCENT}; }}
QLineEdit:focus {{ border: 1px solid {ACCENT}; }}
QLineEdit:disabled {{ color: {DISABLED}; }}
#message {{ color: {MUTED}; min-height: 2.6em; }}
#message[level="error"] {{ color: #ff8a80; font-weight: bold; }}
#message[level="ok"] {{ color: #7ee2a0; }}
QPushButton#primary {{ background: {ACCENT}; color: white; font-weight: bold;
    border: 1px solid {ACCENT}; border-radius: 4px; padding: 8px 26px; font-size: 11pt; }}
QPushButton#primary:focus {{ border: 2px solid white; }}
QPushButton#primary:disabled {{ background: {RAISED}; color: {DISABLED}; border-color: {BORDER}; }}
QPushButton#secondary {{ background: transparent; border: 1px solid {BORDER};
    border-radius: 4px; padding: 8px 18px; }}
QPushButton#secondary:focus {{ border: 1px solid {ACCENT}; }}
#demoBanner {{ background: #2d2412; border: 1px solid #6b5120; border-radius: 6px; }}
#demoBanner QLabel {{ background: transparent; }}
#demoTitle {{ color: {AMBER}; font-weight: bold; letter-spacing: 1px; }}
#demoText {{ color: #d9c9a3; }}
#demoHead {{ color: #a8956b; font-size: 8pt; font-weight: bold; letter-spacing: 1px; }}
#demoCell {{ color: {TEXT}; font-family: monospace; }}
#demoRole {{ color: #d9c9a3; }}
QToolButton#useDemo {{ background: transparent; color: {AMBER}; border: 1px solid #6b5120;
    border-radius: 3px; padding: 1px 8px; }}
QToolButton#useDemo:focus, QToolButton#useDemo:hover {{ border: 1px solid {AMBER}; }}
#hint {{ color: {MUTED}; font-size: 9pt; }}
"""


class BackgroundCall(QObject):
    """Runs one function on a short-lived thread; ``finished(value, error)`` arrives on
    the GUI thread."""

    finished = Signal(object, object)  # value, BaseException | None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.running = False

    def start(self, work: Callable[[], Any]) -> None:
        self.running = True

        def run() -> None:
            value: Any = None
            error: BaseException | None = None
            try:
                value = work()
            except Exception as exc:  # shown to the operator by the dialog
                error = exc
            # RuntimeError: the dialog is gone (the application closed meanwhile)
            with contextlib.suppress(RuntimeError):
                self.finished.emit(value, error)

        threading.Thread(target=run, name="screener-accounts", daemon=True).start()


def sentence(text: str) -> str:
    """The core's message as a sentence for the screen."""
    text = " ".join(str(text).split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _say(error: BaseException) -> str:
    if isinstance(error, ScreenerError):
        return sentence(str(error))
    return sentence(f"{type(error).__name__}: {error}")


class _Dialog(QDialog):
    """The shared frame: the brand above a card that holds the dialog's content."""

    def __init__(self, station: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Screener \u2014 {title}")
        self.setStyleSheet(_STYLE)
        self.setModal(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(36, 28, 36, 28)
        outer.setSpacing(14)
        brand = QLabel("SCREENER", self)
        brand.setObjectName("brand")
        brand.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        tagline = QLabel(f"X-ray screening workstation \u00b7 station {station}", self)
        tagline.setObjectName("tagline")
        tagline.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(brand)
        outer.addWidget(tagline)
        self.card = QFrame(self)
        self.card.setObjectName("card")
        self.content = QVBoxLayout(self.card)
        self.content.setContentsMargins(28, 24, 28, 22)
        self.content.setSpacing(8)
        outer.addWidget(self.card, 1)
        footer = QLabel("Every login, failed attempt and logout is recorded in the station's "
                        "audit log.", self)
        footer.setObjectName("footer")
        footer.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(footer)
        self.message = QLabel("", self.card)
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Message")
        self.worker = BackgroundCall(self)
        self.worker.finished.connect(self._finished)

    def _heading(self, text: str) -> None:
        heading = QLabel(text, self.card)
        heading.setObjectName("heading")
        self.content.addWidget(heading)

    def _field(self, label: str, *, password: bool = False, name: str = "") -> QLineEdit:
        caption = QLabel(label, self.card)
        caption.setObjectName("fieldLabel")
        edit = QLineEdit(self.card)
        edit.setObjectName(name)
        edit.setAccessibleName(label.replace("&", ""))
        if password:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        caption.setBuddy(edit)
        self.content.addSpacing(4)
        self.content.addWidget(caption)
        self.content.addWidget(edit)
        return edit

    def _buttons(self, primary: str, secondary: str) -> tuple[QPushButton, QPushButton]:
        row = QHBoxLayout()
        row.setSpacing(10)
        second = QPushButton(secondary, self.card)
        second.setObjectName("secondary")
        second.setAutoDefault(False)
        first = QPushButton(primary, self.card)
        first.setObjectName("primary")
        first.setDefault(True)
        row.addStretch(1)
        row.addWidget(second)
        row.addWidget(first)
        self.content.addWidget(self.message)
        self.content.addLayout(row)
        second.clicked.connect(self.reject)
        return first, second

    def show_message(self, text: str, level: str = "") -> None:
        say(self.message, level, text)

    def _set_busy(self, busy: bool, edits: Sequence[QWidget], button: QPushButton) -> None:
        for widget in (*edits, button):
            widget.setEnabled(not busy)

    def _finished(self, value: object, error: BaseException | None) -> None:
        """What the dialog does with its background check's answer (each dialog's own)."""
        raise NotImplementedError


class LoginDialog(_Dialog):
    """Operator id and password; ``logged_in(Operator)`` once the core has logged it."""

    logged_in = Signal(object)  # Operator

    def __init__(self, accounts: Accounts, station: str, *, demo: bool = False,
                 demo_users: Sequence[tuple[str, Role, str]] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(station, "log in", parent)
        self.setObjectName("loginDialog")
        self.accounts = accounts
        self.demo = demo
        self.operator: Operator | None = None
        if demo:
            self.content.addWidget(self._demo_banner(demo_users))
            self.content.addSpacing(6)
        self._heading("Log in")
        self.user = self._field("&Operator ID", name="userId")
        self.password = self._field("&Password", password=True, name="password")
        self.login_button, self.quit_button = self._buttons("Log in", "Quit")
        self.login_button.setObjectName("primary")
        self.login_button.clicked.connect(self.attempt)
        self.user.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.attempt)
        self.setMinimumWidth(520)
        self.user.setFocus(Qt.FocusReason.OtherFocusReason)

    def _demo_banner(self, users: Sequence[tuple[str, Role, str]]) -> QFrame:
        banner = QFrame(self.card)
        banner.setObjectName("demoBanner")
        banner.setAccessibleName("Demo mode")
        column = QVBoxLayout(banner)
        column.setContentsMargins(14, 12, 14, 12)
        column.setSpacing(6)
        title = QLabel("DEMO MODE", banner)
        title.setObjectName("demoTitle")
        text = QLabel("This installation runs on demo accounts with published passwords "
                      "and simulated bags. Not for operational use.", banner)
        text.setObjectName("demoText")
        text.setWordWrap(True)
        column.addWidget(title)
        column.addWidget(text)
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(3)
        for col, head in enumerate(("ROLE", "OPERATOR ID", "PASSWORD")):
            label = QLabel(head, banner)
            label.setObjectName("demoHead")
            grid.addWidget(label, 0, col)
        self.demo_buttons: dict[str, QToolButton] = {}
        for row, (user_id, role, password) in enumerate(users, 1):
            role_label = QLabel(role.value.capitalize(), banner)
            role_label.setObjectName("demoRole")
            grid.addWidget(role_label, row, 0)
            for col, text_value in ((1, user_id), (2, password)):
                cell = QLabel(text_value, banner)
                cell.setObjectName("demoCell")
                cell.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                grid.addWidget(cell, row, col)
            use = QToolButton(banner)
            use.setObjectName("useDemo")
            use.setText("Use")
            use.setToolTip(f"Fill in {user_id} and its demo password")
            use.setAccessibleName(f"Use the demo account {user_id}")
            use.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            use.clicked.connect(lambda _=False, u=user_id, p=password: self.fill(u, p))
            grid.addWidget(use, row, 3)
            self.demo_buttons[user_id] = use
        grid.setColumnStretch(2, 1)
        column.addLayout(grid)
        return banner

    def fill(self, user_id: str, password: str) -> None:
        """Put a demo account's credentials in the fields (the operator still logs in)."""
        self.user.setText(user_id)
        self.password.setText(password)
        self.login_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def reset(self, user_id: str = "", message: str = "", level: str = "") -> None:
        """Ready for the next operator: empty password, the id given (if any)."""
        self.operator = None
        self.user.setText(user_id)
        self.password.clear()
        self.show_message(message, level)
        self._set_busy(False, (self.user, self.password), self.login_button)
        (self.password if user_id else self.user).setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def busy(self) -> bool:
        return self.worker.running

    def attempt(self) -> None:
        """Log in with the fields' contents (off the GUI thread)."""
        if self.worker.running:
            return
        user_id, password = self.user.text().strip(), self.password.text()
        if not user_id:
            self.show_message("Enter your operator ID.", "error")
            self.user.setFocus()
            return
        if not password:
            self.show_message("Enter your password.", "error")
            self.password.setFocus()
            return
        self._set_busy(True, (self.user, self.password), self.login_button)
        self.show_message("Checking\u2026")
        accounts = self.accounts
        self.worker.start(lambda: accounts.login(user_id, password))

    def _finished(self, value: object, error: BaseException | None) -> None:
        self.worker.running = False
        self._set_busy(False, (self.user, self.password), self.login_button)
        if error is not None:
            self.password.clear()
            text = _say(error)
            if not isinstance(error, LoginError):
                text = f"Cannot log in now: {text}"
            self.show_message(text, "error")
            self.password.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        assert isinstance(value, Operator)
        self.operator = value
        self.password.clear()
        self.show_message(f"Logged in as {value.id} ({value.role.value}).", "ok")
        self.logged_in.emit(value)


class FirstRunDialog(_Dialog):
    """Creates the first administrator; ``created(Account)`` once the core has."""

    created = Signal(object)  # Account

    def __init__(self, accounts: Accounts, station: str, parent: QWidget | None = None
                 ) -> None:  # fmt: skip
        super().__init__(station, "first run", parent)
        self.setObjectName("firstRunDialog")
        self.accounts = accounts
        self._heading("First run: create the administrator")
        explain = QLabel("This installation has no accounts yet. Its first account is the "
                         "administrator's, who then creates the accounts of screeners, "
                         "supervisors, trainers and investigators.", self.card)
        explain.setObjectName("explain")
        explain.setWordWrap(True)
        self.content.addWidget(explain)
        self.user = self._field("&Administrator ID", name="adminId")
        self.display_name = self._field("&Name (optional)", name="displayName")
        self.password = self._field("&Password", password=True, name="password")
        self.repeat = self._field("&Repeat the password", password=True, name="repeat")
        hint = QLabel("At least 8 characters, not the ID, not one character repeated.",
                      self.card)
        hint.setObjectName("hint")
        self.content.addWidget(hint)
        self.create_button, self.quit_button = self._buttons("Create administrator", "Quit")
        self.create_button.clicked.connect(self.attempt)
        self.repeat.returnPressed.connect(self.attempt)
        self.setMinimumWidth(520)
        self.user.setFocus(Qt.FocusReason.OtherFocusReason)

    def attempt(self) -> None:
        if self.worker.running:
            return
        user_id = self.user.text().strip()
        password, repeat = self.password.text(), self.repeat.text()
        if not user_id:
            self.show_message("Enter the administrator's ID.", "error")
            self.user.setFocus()
            return
        if password != repeat:
            self.show_message("The two passwords differ: type the same password twice.",
                              "error")
            self.repeat.clear()
            self.repeat.setFocus()
            return
        edits = (self.user, self.display_name, self.password, self.repeat)
        self._set_busy(True, edits, self.create_button)
        self.show_message("Creating the account\u2026")
        accounts, name = self.accounts, self.display_name.text().strip()
        self.worker.start(lambda: accounts.create_first_admin(user_id, password, name))

    def _finished(self, value: object, error: BaseException | None) -> None:
        self.worker.running = False
        self._set_busy(False, (self.user, self.display_name, self.password, self.repeat),
                       self.create_button)
        if error is not None:
            self.show_message(_say(error), "error")
            self.password.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        assert isinstance(value, Account)
        self.created.emit(value)

