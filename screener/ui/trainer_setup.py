"""Before a blind test: the test file (read and checked, see
:func:`screener.tip.blind_test.read_blind_test`) and the trainee who takes it."""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from screener.accounts.users import Account, Accounts
from screener.tip.blind_test import BlindTest, read_blind_test
from screener.ui.background import BackgroundJobs, JobResult, Progress
from screener.ui.theme import ERROR, MUTED
from screener.ui.widgets import say, side_panel
from screener.workflow.roles import Role

READ = "setup.read_test"
ACCOUNTS = "setup.accounts"


def describe_test(test: BlindTest) -> str:
    spec = test.spec
    tips = [t for t in test.trials if t.is_tip]
    categories = Counter(t.category.value for t in tips if t.category is not None)
    split = ", ".join(f"{name} {count}" for name, count in sorted(categories.items()))
    return (f"<b>{html.escape(spec.name)}</b> <span style='color:{MUTED}'>"
            f"({test.test_id[:12]})</span><br>{spec.trials} images, {len(tips)} with an FTI "
            f"({html.escape(split)}); {spec.time_limit_s:g} s per image<br>Pass at "
            f"d\u2032 \u2265 {spec.pass_d_prime:g} and A\u2032 \u2265 {spec.pass_a_prime:g}"
            f"<br><span style='color:{MUTED}'>built {html.escape(test.created)} from "
            f"{html.escape(test.library)}</span>")


class TakeTestPage(QWidget):
    """Choose the test and the trainee; Start asks the trainee's password."""

    start_requested = Signal(object, str)  # BlindTest, trainee id

    def __init__(self, accounts: Accounts, jobs: BackgroundJobs, session_jobs: BackgroundJobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("takeTestPage")
        self.accounts = accounts
        self.jobs = jobs
        self.session_jobs = session_jobs
        self.test: BlindTest | None = None
        self._build()
        jobs.finished.connect(self._finished)
        session_jobs.finished.connect(self._finished)

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        frame, column = side_panel(self, "TAKE A BLIND TEST", (16, 12, 16, 12))
        frame.setMaximumWidth(900)
        column.setSpacing(10)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(8)
        label = QLabel("Test &file", frame)
        self.path = QLineEdit(frame)
        self.path.setObjectName("testPath")
        self.path.setPlaceholderText("a blind test file (.json)")
        label.setBuddy(self.path)
        self.browse = QPushButton("Choose…", frame)
        self.browse.setObjectName("chooseTest")
        grid.addWidget(label, 0, 0)
        grid.addWidget(self.path, 0, 1)
        grid.addWidget(self.browse, 0, 2)
        self.summary = QLabel("No test chosen.", frame)
        self.summary.setObjectName("testSummary")
        self.summary.setWordWrap(True)
        grid.addWidget(self.summary, 1, 1, 1, 2)
        label = QLabel("Tr&ainee", frame)
        self.trainee = QComboBox(frame)
        self.trainee.setObjectName("traineeBox")
        self.trainee.setEditable(True)
        self.trainee.setAccessibleName("Trainee (screener account)")
        self.trainee.setToolTip("the screener taking the test; they type their own password")
        self.trainee.setMinimumWidth(260)
        label.setBuddy(self.trainee)
        grid.addWidget(label, 2, 0)
        grid.addWidget(self.trainee, 2, 1)
        grid.setColumnStretch(1, 1)
        column.addLayout(grid)
        self.start_button = QPushButton("S&tart the test…", frame)
        self.start_button.setObjectName("startBlindTest")
        self.start_button.setProperty("primary", True)
        self.start_button.setToolTip("The trainee logs in with their password, then the test "
                                     "fills the window")
        row = QHBoxLayout()
        row.addWidget(self.start_button)
        row.addStretch(1)
        column.addLayout(row)
        self.message = QLabel("", frame)
        self.message.setObjectName("messageLabel")
        self.message.setWordWrap(True)
        column.addWidget(self.message)
        column.addStretch(1)
        outer.addWidget(frame)
        outer.addStretch(1)
        self.browse.clicked.connect(self._choose)
        self.path.editingFinished.connect(lambda: self.load(Path(self.path.text().strip())))
        self.start_button.clicked.connect(self.start)

    def _choose(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose a blind test", self.path.text(),
                                                "Blind tests (*.json);;All files (*)")
        if chosen:
            self.load(Path(chosen))

    def load(self, path: Path) -> None:
        """Read and check the test file (worker thread)."""
        if not str(path) or str(path) == ".":
            return
        self.path.setText(str(path))

        def work(_progress: Progress) -> BlindTest:
            return read_blind_test(path)

        self.summary.setText("Reading the test…")
        self.jobs.submit(READ, work, drop_stale=True)

    def load_trainees(self) -> None:
        accounts = self.accounts

        def work(_progress: Progress) -> list[Account]:
            return [a for a in accounts.all() if a.role is Role.SCREENER and not a.disabled]

        self.session_jobs.submit(ACCOUNTS, work, drop_stale=True)

    def start(self) -> None:
        trainee = self.trainee.currentText().strip()
        if self.test is None:
            self.say("error", "Choose a test file first.")
            return
        if not trainee:
            self.say("error", "Choose the trainee (a screener's user id).")
            return
        self.say("", "")
        self.start_requested.emit(self.test, trainee)

    def say(self, level: str, text: str) -> None:
        say(self.message, level, text)

    def _finished(self, result: JobResult) -> None:
        if result.tag not in (READ, ACCOUNTS):
            return
        jobs = self.jobs if result.tag == READ else self.session_jobs
        if result.skipped or not jobs.is_current(result):
            return
        if result.tag == ACCOUNTS:
            if result.error is None:
                current = self.trainee.currentText()
                self.trainee.clear()
                for account in result.value:
                    self.trainee.addItem(account.user_id, account.user_id)
                if current:
                    self.trainee.setEditText(current)
            return
        if result.error is not None:
            self.test = None
            self.summary.setText(f"<span style='color:{ERROR}'>{html.escape(str(result.error))}"
                                 "</span>")
            return
        self.test = result.value
        self.summary.setText(describe_test(result.value))
