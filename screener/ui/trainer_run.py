"""Taking a blind test at the trainer's station (docs/tip-blind-tests.md, "Taking a test").

* :class:`TraineeLogin`: the trainee types their own password; the trainer cannot start a
  test in a trainee's name without it (``Accounts.login``, logged either way).
* :class:`RunPage`: the sitting, full screen within the window. The image only, no AI, no
  feedback; a countdown per image. Keys (the screener's defaults): Space (or C) clear,
  S suspect; drag on the image to mark where the threat is, K marks the centre of the
  view, Backspace removes the last mark; +, - and 0 zoom. When the time runs out the
  image is answered as cleared: :meth:`BlindTestSitting.answer` is given the time taken,
  which is past the limit, and logs it as timed out.

Every step of the sitting (showing an image, which projects its FTI; each answer; the
end) writes to the audit log and runs on the session's worker thread, strictly in order;
the page only shows results.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QImage, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from screener.accounts.users import Accounts, LoginError
from screener.audit.log import AuditLog
from screener.errors import ScreenerError
from screener.imaging.presets import shipped_presets
from screener.scan.model import Scan
from screener.scan.store import ScanStore
from screener.tip.blind_test import BlindTest
from screener.tip.library import FtiLibrary
from screener.ui import shortcuts
from screener.ui.background import BackgroundJobs, JobResult, Progress
from screener.ui.controller import to_qimage
from screener.ui.jobs import prepare_all, render_frames
from screener.ui.keymap import ACTIONS, default_keymap
from screener.ui.scan_views import ScanViews
from screener.ui.theme import AMBER, ERROR, MUTED, PASSED
from screener.ui.widgets import bar_title, error_text, restyle, say, timer_column
from screener.workflow.blind_tests import BlindTestRun, BlindTestSitting
from screener.workflow.decisions import Decision, Mark
from screener.workflow.roles import Role
from screener.workflow.session import Operator

STEP = "sitting.step"
FUNCTION = "standard"
FINISHED = "blind test finished"


# ---------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class ShownImage:
    """An image of the test, rendered for the screen."""

    number: int  #: 1-based
    total: int
    views: tuple[tuple[str, int, int], ...]  #: name, rows, columns
    images: tuple[QImage | None, ...]
    reasons: tuple[str | None, ...]


@dataclass(frozen=True)
class SittingStep:
    """What the sitting shows next: an image, or the result once every image is done."""

    shown: ShownImage | None
    run: BlindTestRun | None = None


@dataclass(frozen=True)
class Started:
    sitting: BlindTestSitting
    trainee: Operator
    step: SittingStep


def render_scan(scan: Scan, number: int, total: int) -> ShownImage:
    frames = render_frames(prepare_all(scan), FUNCTION, None)
    return ShownImage(number, total,
                      tuple((v.name, v.shape[0], v.shape[1]) for v in scan.views),
                      tuple(None if i is None else to_qimage(i) for i in frames.images),
                      frames.reasons)


def next_step(sitting: BlindTestSitting, accounts: Accounts) -> SittingStep:
    """The next image, or the end: score, ``blind_test.completed``, the trainee logged
    out (worker thread)."""
    shown = sitting.next_image()
    if shown is None:
        run = sitting.finish()
        with contextlib.suppress(ScreenerError):  # the result is in; a failed logout
            accounts.logout(sitting.trainee, FINISHED)  # does not undo it
        return SittingStep(None, run)
    return SittingStep(render_scan(shown.scan, sitting.answered + 1, len(sitting.test.trials)))


def start_sitting(log: AuditLog, accounts: Accounts, store: ScanStore, library: FtiLibrary,
                  test: BlindTest, trainee_id: str, password: str,
                  trainer: Operator) -> Started:
    """Log the trainee in with their password, start the sitting, show the first image
    (worker thread). Anything that stops the start logs the trainee out again."""
    trainee = accounts.login(trainee_id, password)
    sitting: BlindTestSitting | None = None
    try:
        if trainee.role is not Role.SCREENER:
            raise LoginError(f"{trainee_id} is a {trainee.role.value}: blind tests are taken "
                             "by screeners")
        sitting = BlindTestSitting(log, store, library, test, trainee, trainer)
        return Started(sitting, trainee, next_step(sitting, accounts))
    except Exception:
        if sitting is not None and sitting.current is None:
            with contextlib.suppress(ScreenerError):
                sitting.session.end("blind test could not start")
        with contextlib.suppress(ScreenerError):
            accounts.logout(trainee, "blind test not started")
        raise


# ---------------------------------------------------------------------------- login


class TraineeLogin(QDialog):
    """The trainee's own password, before the test starts."""

    submitted = Signal(str)

    def __init__(self, trainee: str, test_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("traineeLogin")
        self.setWindowTitle("Trainee login")
        self.setModal(True)
        self.trainee = trainee
        column = QVBoxLayout(self)
        column.setContentsMargins(18, 16, 18, 16)
        column.setSpacing(10)
        intro = QLabel(f"<b>{trainee}</b>, type your password to start the blind test "
                       f"<b>{test_name}</b>.<br><span style='color:{MUTED}'>No AI and no "
                       "feedback; each image has a time limit. Space clears, S sends to "
                       "search; drag on the image to mark the threat.</span>", self)
        intro.setWordWrap(True)
        column.addWidget(intro)
        row = QHBoxLayout()
        label = QLabel("&Password", self)
        self.password = QLineEdit(self)
        self.password.setObjectName("traineePassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName(f"Password of {trainee}")
        label.setBuddy(self.password)
        row.addWidget(label)
        row.addWidget(self.password, 1)
        column.addLayout(row)
        self.error = QLabel("", self)
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        column.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel", self)
        self.start_button = QPushButton("&Start the test", self)
        self.start_button.setObjectName("startTest")
        self.start_button.setProperty("primary", True)
        self.start_button.setDefault(True)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.start_button)
        column.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.start_button.clicked.connect(self._submit)
        self.password.returnPressed.connect(self._submit)
        self.setMinimumWidth(440)

    def _submit(self) -> None:
        if not self.start_button.isEnabled():
            return
        if not self.password.text():
            self.show_error("Type your password.")
            return
        self.start_button.setEnabled(False)
        self.error.setText("Checking…")
        self.error.setStyleSheet(f"color: {MUTED};")
        self.error.show()
        self.submitted.emit(self.password.text())

    def show_error(self, text: str) -> None:
        """The login or the start failed: say why; the trainee may try again."""
        self.error.setStyleSheet("")
        self.error.setText(text)
        self.error.show()
        self.password.clear()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)
        self.start_button.setEnabled(True)


# ---------------------------------------------------------------------------- the sitting


class RunPage(QWidget):
    """The trainee's screen during a blind test."""

    closed = Signal(object)  # BlindTestRun | None, when the trainer leaves the page

    def __init__(self, accounts: Accounts, jobs: BackgroundJobs,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("blindTestRun")
        self.accounts = accounts
        self.jobs = jobs
        self.keymap = default_keymap(shipped_presets())
        self.clock: Callable[[], float] = time.monotonic
        self.sitting: BlindTestSitting | None = None
        self.run: BlindTestRun | None = None
        self.accepting = False
        self.auto_timeout = True
        self.shown_at = 0.0
        self.limit_s = 0.0
        self._build()
        self.timer = QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.tick)
        jobs.finished.connect(self._finished)
        self.shortcuts = shortcuts.install(self, self.keymap, {
            "decision.clear": self.clear, "decision.suspect": self.suspect,
            "marks.add": self.mark_centre, "marks.undo": self.views.undo_mark,
            "marks.clear": self.views.clear_marks, "view.zoom_in": self.views.zoom_in,
            "view.zoom_out": self.views.zoom_out, "view.fit": self.views.fit,
            "view.next": self.next_view})

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)
        top = QFrame(self)
        top.setObjectName("decisionBar")
        row = QHBoxLayout(top)
        row.setContentsMargins(12, 6, 12, 6)
        row.setSpacing(14)
        info, self.title, self.subtitle = bar_title(top, "Blind test")
        row.addLayout(info)
        row.addStretch(1)
        self.counter = QLabel("", top)
        self.counter.setObjectName("bagLabel")
        row.addWidget(self.counter)
        timer, self.countdown, self.time_bar = timer_column(top, 220)
        self.countdown.setObjectName("countdown")
        self.countdown.setStyleSheet("font-size: 14pt; font-weight: bold;")
        row.addLayout(timer)
        outer.addWidget(top)

        self.stack = QStackedWidget(self)
        self.views = ScanViews(Qt.Orientation.Horizontal, self.stack)
        self.canvases = self.views.canvases
        self.views.marks_changed.connect(self._marks_changed)
        self.stack.addWidget(self.views)
        self.result_panel = QFrame(self.stack)
        self.result_panel.setObjectName("sidePanel")
        result = QVBoxLayout(self.result_panel)
        result.setContentsMargins(40, 30, 40, 30)
        self.verdict = QLabel("", self.result_panel)
        self.verdict.setObjectName("verdict")
        self.verdict.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.verdict.setStyleSheet("font-size: 26pt; font-weight: bold;")
        self.summary = QLabel("", self.result_panel)
        self.summary.setObjectName("resultSummary")
        self.summary.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("font-size: 12pt;")
        result.addStretch(1)
        result.addWidget(self.verdict)
        result.addWidget(self.summary)
        result.addStretch(1)
        self.stack.addWidget(self.result_panel)
        outer.addWidget(self.stack, 1)

        bottom = QFrame(self)
        bottom.setObjectName("decisionBar")
        row = QHBoxLayout(bottom)
        row.setContentsMargins(12, 6, 12, 6)
        row.setSpacing(12)
        keys = self.keymap
        self.hint = QLabel(
            f"{keys.label('decision.clear')}: clear \u00b7 {keys.label('decision.suspect')}: "
            f"suspect \u00b7 drag on the image to mark the threat \u00b7 "
            f"{keys.label('marks.add')}: mark the centre \u00b7 {keys.label('marks.undo')}: "
            f"undo a mark \u00b7 {keys.label('view.zoom_in')} / {keys.label('view.zoom_out')}"
            f" / {keys.label('view.fit')}: zoom", bottom)
        self.hint.setStyleSheet(f"color: {MUTED};")
        self.hint.setWordWrap(True)
        self.message = QLabel("", bottom)
        self.message.setObjectName("messageLabel")
        self.message.setWordWrap(True)
        row.addWidget(self.hint, 2)
        row.addWidget(self.message, 1)
        self.clear_button = QPushButton(f"CLEAR  ({keys.label('decision.clear')})", bottom)
        self.clear_button.setObjectName("clearButton")
        self.clear_button.setToolTip(ACTIONS["decision.clear"])
        self.suspect_button = QPushButton(f"SUSPECT  ({keys.label('decision.suspect')})",
                                          bottom)
        self.suspect_button.setObjectName("suspectButton")
        self.suspect_button.setToolTip(ACTIONS["decision.suspect"])
        self.done_button = QPushButton("&Back to the trainer's screen", bottom)
        self.done_button.setObjectName("continueButton")
        for button in (self.clear_button, self.suspect_button, self.done_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            row.addWidget(button)
        self.done_button.hide()
        outer.addWidget(bottom)
        self.clear_button.clicked.connect(self.clear)
        self.suspect_button.clicked.connect(self.suspect)
        self.done_button.clicked.connect(self.leave)

    # ------------------------------------------------------------------ starting
    def begin(self, started: Started) -> None:
        """Show a sitting that has just started (its first image is in ``started``)."""
        self.sitting = started.sitting
        self.run = None
        spec = started.sitting.test.spec
        self.limit_s = spec.time_limit_s
        self.title.setText(f"Blind test \u00b7 {spec.name}")
        self.subtitle.setText(f"Trainee {started.trainee.id} \u00b7 no AI, no feedback \u00b7 "
                              f"{spec.time_limit_s:g} s per image; an image not answered in "
                              "time counts as cleared")
        self.done_button.hide()
        self.done_button.setText("&Back to the trainer's screen")
        say(self.message, "", "")
        self.stack.setCurrentWidget(self.views)
        window = self.window()
        window.raise_()
        window.activateWindow()  # the keys go to the test, not to a closing dialog
        self._show(started.step)

    def _show(self, step: SittingStep) -> None:
        if step.run is not None:
            self._finish(step.run)
            return
        shown = step.shown
        assert shown is not None
        self.views.show_views(len(shown.views))
        for canvas, (name, rows, cols), image, reason in zip(
                self.canvases, shown.views, shown.images, shown.reasons, strict=False):
            canvas.set_view(name, rows, cols)
            canvas.set_image(image, (shown.number, name), reason)
        self.counter.setText(f"Image {shown.number} of {shown.total}")
        self.shown_at = self.clock()
        self.accepting = True
        self.auto_timeout = True
        self._set_buttons(True)
        self.tick()
        self.timer.start()
        self.canvases[0].setFocus(Qt.FocusReason.OtherFocusReason)

    def _set_buttons(self, enabled: bool) -> None:
        self.clear_button.setEnabled(enabled)
        self.suspect_button.setEnabled(enabled)

    # ------------------------------------------------------------------ answering
    def elapsed_ms(self) -> int:
        return round((self.clock() - self.shown_at) * 1000)

    def tick(self) -> None:
        """Update the countdown; past the limit, answer "clear" for the trainee."""
        if not self.accepting:
            return
        remaining = self.limit_s - (self.clock() - self.shown_at)
        fraction = max(0.0, min(1.0, remaining / self.limit_s)) if self.limit_s else 0.0
        self.time_bar.setValue(round(fraction * 1000))
        state = "over" if remaining <= 0 else ("late" if fraction < 0.25 else "ok")
        if self.time_bar.property("state") != state:
            self.time_bar.setProperty("state", state)
            restyle(self.time_bar)
        self.countdown.setText(f"{max(remaining, 0.0):.1f} s")
        self.countdown.setStyleSheet("font-size: 14pt; font-weight: bold;"
                                     + (f" color: {AMBER};" if state != "ok" else ""))
        if remaining <= 0 and self.auto_timeout:
            self._answer(Decision.CLEAR, timed_out=True)

    def marks(self) -> list[Mark]:
        return self.views.marks()

    def clear(self) -> None:
        self._answer(Decision.CLEAR)

    def suspect(self) -> None:
        self._answer(Decision.SUSPECT)

    def _answer(self, decision: Decision, *, timed_out: bool = False) -> None:
        sitting = self.sitting
        if not self.accepting or sitting is None:
            return
        self.accepting = False
        self.timer.stop()
        self._set_buttons(False)
        response_ms = self.elapsed_ms()
        if timed_out:  # the sitting counts anything past the limit as a timed-out clear
            response_ms = max(response_ms, sitting.limit_ms + 1)
        marks = self.marks() if decision is Decision.SUSPECT else []
        accounts = self.accounts
        say(self.message, "", "Time is up: counted as cleared." if timed_out else "")

        def work(_progress: Progress) -> SittingStep:
            sitting.answer(decision, marks, response_ms)
            return next_step(sitting, accounts)

        self.jobs.submit(STEP, work)

    def _finished(self, result: JobResult) -> None:
        if result.tag != STEP:
            return
        if result.error is None:
            self._show(result.value)
            return
        sitting = self.sitting
        text = error_text(result.error)
        if sitting is not None and sitting.current is not None:
            # the answer was not recorded: the image stays, the trainee answers again
            say(self.message, "error", f"Not recorded: {text}. Answer again.")
            self.accepting = True
            self.auto_timeout = False
            self._set_buttons(True)
            return
        say(self.message, "error", f"The test cannot go on: {text}")
        self.done_button.setText("&Leave the test")
        self.done_button.show()
        self.done_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _finish(self, run: BlindTestRun) -> None:
        self.run = run
        self.timer.stop()
        self.accepting = False
        self._set_buttons(False)
        result = run.result
        self.verdict.setText("PASSED" if result.passed else "NOT PASSED")
        self.verdict.setStyleSheet("font-size: 26pt; font-weight: bold; color: "
                                   + (f"{PASSED};" if result.passed else f"{ERROR};"))
        self.summary.setText(
            f"{result.trainee} \u00b7 {result.test_name}<br><br>"
            f"d\u2032 {result.d_prime:.2f} (pass mark {result.pass_d_prime:g}) \u00b7 "
            f"A\u2032 {result.a_prime:.3f} (pass mark {result.pass_a_prime:g})<br>"
            f"H {result.hit_rate:.3f} \u00b7 F {result.false_alarm_rate:.3f} \u00b7 "
            f"c {result.c:.2f}<br>{result.hits} hits, {result.misses} misses, "
            f"{result.false_alarms} false alarms, {result.correct_rejections} correct "
            f"rejections; {result.timeouts} not answered in time<br><br>"
            f"<span style='color:{MUTED}'>Recorded as audit event {run.completed.station}"
            f"#{run.completed.seq}.</span>")
        self.counter.setText(f"{result.trials} images done")
        self.countdown.setText("")
        self.time_bar.setValue(0)
        self.stack.setCurrentWidget(self.result_panel)
        self.done_button.setText("&Back to the trainer's screen")
        self.done_button.show()
        self.done_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def leave(self) -> None:
        self.timer.stop()
        self.done_button.hide()
        self.closed.emit(self.run)
        self.sitting = None

    # ------------------------------------------------------------------ view tools
    def mark_centre(self) -> None:
        canvas = self.views.active()
        if canvas is not None and self.accepting:
            canvas.mark_centre()

    def next_view(self) -> None:
        visible = self.views.visible()
        if visible:
            current = self.views.active()
            index = visible.index(current) if current in visible else -1
            visible[(index + 1) % len(visible)].setFocus(Qt.FocusReason.TabFocusReason)

    def _marks_changed(self) -> None:
        count = len(self.marks())
        if count and self.accepting:
            say(self.message, "", f"{count} region{'s' if count > 1 else ''} marked: S sends "
                "the bag to search with them")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self.canvases and self.accepting:
            self.canvases[0].setFocus(Qt.FocusReason.OtherFocusReason)
