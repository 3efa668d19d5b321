"""The trainer's screen (docs/tip.md, docs/tip-blind-tests.md).

* **Library** (:mod:`screener.ui.trainer_library`): browse the FTI library, preview an
  FTI as a screener sees it, its compliance with the ICAO figures.
* **Build test** (:mod:`screener.ui.trainer_builder`): a blind test from the library and a
  bag pool, saved as its JSON file.
* **Take test** (:mod:`screener.ui.trainer_setup`, :mod:`screener.ui.trainer_run`): the
  trainee logs in with their own password and takes the test in the window, with no AI
  and no feedback, through :class:`~screener.workflow.blind_tests.BlindTestSitting`.
* **Results** (:mod:`screener.ui.trainer_results`): the recorded verdicts and their
  certificates.

Long work runs on worker threads: the library and test files on one, building a test on
another, and everything that writes to the audit log (logins, the sitting, reading
results, certificates) on a third, in order.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from screener.tip.blind_test import BlindTest
from screener.tip.library import FtiLibrary
from screener.ui.background import BackgroundJobs, JobResult, Progress
from screener.ui.context import ViewContext
from screener.ui.theme import TIP_VIEWS_STYLE
from screener.ui.trainer_builder import BuilderPage, Built
from screener.ui.trainer_library import LibraryPage
from screener.ui.trainer_results import ResultsPage
from screener.ui.trainer_run import RunPage, Started, TraineeLogin, start_sitting
from screener.ui.trainer_setup import TakeTestPage
from screener.ui.widgets import error_text
from screener.workflow.blind_tests import BlindTestRun

START = "sitting.start"


class TrainerView(QWidget):
    """FTI library, blind-test builder, test runs and results for a trainer."""

    def __init__(self, context: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainerView")
        self.setStyleSheet(TIP_VIEWS_STYLE)
        self.context = context
        self.file_jobs = BackgroundJobs("trainer-files", parent=self)
        self.build_jobs = BackgroundJobs("trainer-build", parent=self)
        self.session_jobs = BackgroundJobs("trainer-session", parent=self)
        self.login: TraineeLogin | None = None
        self._build()
        self.session_jobs.finished.connect(self._started)
        if context.tip_library is not None:
            self.library_page.open(context.tip_library)
        else:
            self.builder_page.set_library_note()
        self.setup_page.load_trainees()
        self.results_page.reload()

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        self.stack = QStackedWidget(self)
        self.tabs = QTabWidget(self.stack)
        self.tabs.setObjectName("trainerTabs")
        self.tabs.setDocumentMode(True)
        context = self.context
        self.library_page = LibraryPage(self.file_jobs, self.tabs)
        self.builder_page = BuilderPage(context.settings, context.store, self.build_jobs,
                                        lambda: self.library_page.library, self.tabs)
        self.setup_page = TakeTestPage(context.accounts, self.file_jobs, self.session_jobs,
                                       self.tabs)
        self.results_page = ResultsPage(context.settings, context.log, self.session_jobs,
                                        self.tabs)
        self.tabs.addTab(self.library_page, "&Library")
        self.tabs.addTab(self.builder_page, "&Build test")
        self.tabs.addTab(self.setup_page, "Ta&ke test")
        self.tabs.addTab(self.results_page, "R&esults")
        self.stack.addWidget(self.tabs)
        self.run_page = RunPage(context.accounts, self.session_jobs, self.stack)
        self.stack.addWidget(self.run_page)
        outer.addWidget(self.stack)
        self.library_page.library_opened.connect(self._library_opened)
        self.builder_page.built.connect(self._built)
        self.setup_page.start_requested.connect(self.ask_trainee)
        self.run_page.closed.connect(self._run_closed)

    # ------------------------------------------------------------------ wiring
    def _library_opened(self, _library: FtiLibrary) -> None:
        self.builder_page.set_library_note()

    def _built(self, built: Built) -> None:
        self.setup_page.load(built.path)

    def ask_trainee(self, test: BlindTest, trainee: str) -> None:
        """The trainee's password dialog; the test starts once they are logged in."""
        library = self.library_page.library
        if library is None:
            self.setup_page.say("error", "Open the FTI library the test was built from "
                                 f"({test.library}) on the Library tab first.")
            return
        if self.login is not None:
            self.login.close()
        dialog = TraineeLogin(trainee, test.spec.name, self)
        dialog.setStyleSheet(TIP_VIEWS_STYLE)
        self.login = dialog
        context = self.context

        def submitted(password: str) -> None:
            def work(_progress: Progress) -> Started:
                return start_sitting(context.log, context.accounts, context.store, library,
                                     test, trainee, password, context.operator)

            self.session_jobs.submit(START, work)

        dialog.submitted.connect(submitted)
        dialog.finished.connect(lambda _code: self._forget(dialog))
        dialog.open()
        dialog.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def _forget(self, dialog: TraineeLogin) -> None:
        if self.login is dialog:
            self.login = None
        dialog.deleteLater()

    def _started(self, result: JobResult) -> None:
        if result.tag != START:
            return
        dialog = self.login
        if result.error is not None:
            text = error_text(result.error)
            if dialog is not None:
                dialog.show_error(text)
            else:
                self.setup_page.say("error", f"The test did not start: {text}")
            return
        started: Started = result.value
        if dialog is not None:
            dialog.accept()
        self.stack.setCurrentWidget(self.run_page)
        self.run_page.begin(started)

    def _run_closed(self, run: BlindTestRun | None) -> None:
        self.stack.setCurrentWidget(self.tabs)
        self.results_page.reload(select_latest=run is not None)
        if run is not None:
            self.tabs.setCurrentWidget(self.results_page)

    # ------------------------------------------------------------------ lifetime
    def busy_jobs(self) -> bool:
        """Whether any work is still under way (tests wait for this to be False)."""
        return any(jobs.busy for jobs in (self.file_jobs, self.build_jobs,
                                            self.session_jobs))

    def busy_reason(self) -> str | None:
        """Why the trainer should not log out yet (the shell asks)."""
        run = self.run_page
        if run.sitting is not None and run.run is None:
            return ("a blind test is under way: let the trainee finish it (an image not "
                    "answered in time counts as cleared)")
        if self.session_jobs.running(START):
            return "a trainee is logging in for a blind test"
        return None

    def shortcut_help(self) -> list[tuple[str, str]]:
        """Keys of this view, for the shell's shortcut help."""
        keys = self.run_page.keymap
        return [("Alt+L, Alt+B, Alt+K, Alt+E", "Library, Build test, Take test, Results"),
                (", ".join(keys.keys("decision.clear")), "Blind test: clear the image"),
                (", ".join(keys.keys("decision.suspect")),
                 "Blind test: suspect (with the marked regions)"),
                ("Drag / " + ", ".join(keys.keys("marks.add")),
                 "Blind test: mark a region / the centre of the view"),
                (", ".join(keys.keys("marks.undo")), "Blind test: remove the last mark"),
                (" ".join(keys.keys("view.zoom_in") + keys.keys("view.zoom_out")
                          + keys.keys("view.fit")), "Blind test: zoom in, out, fit")]

    def shutdown(self, reason: str = "closed") -> None:
        """Stop the worker threads: skip what has not started, stop a build at its next
        step; the shell calls it when the trainer logs out or the station closes. A test
        under way stays unfinished in the log (no ``blind_test.completed``)."""
        self.run_page.timer.stop()
        for jobs in (self.file_jobs, self.build_jobs, self.session_jobs):
            jobs.shutdown()
