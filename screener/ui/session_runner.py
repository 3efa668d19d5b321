"""The screening session's steps, run in order on their own thread.

Every step writes to the audit log (a database commit: milliseconds on a local SQLite
file, possibly much longer on a site database or while the log is unavailable). The GUI
thread never waits for it: it submits a step and shows the outcome when the step's
signal arrives. Steps run strictly in the order submitted, never dropped, so the
session sees exactly the sequence the screener produced; a failed step (the log
unavailable, a step out of order) reaches the GUI as an error and changes nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from screener.workflow.session import ScreeningSession

Step = Callable[[ScreeningSession], Any]


@dataclass(frozen=True)
class StepOutcome:
    """A finished step: its tag (what the GUI asked for), value or error."""

    tag: str
    context: Any
    value: Any
    error: BaseException | None
    elapsed_ms: float

    @property
    def ok(self) -> bool:
        return self.error is None


class SessionRunner(QThread):
    """Owns the session (and through it the audit log) once started."""

    finished_step = Signal(object)  # StepOutcome

    def __init__(self, session: ScreeningSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screener-session")
        self.session = session
        self._cond = threading.Condition()
        self._steps: deque[tuple[str, Any, Step]] = deque()
        self._stopping = False
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, tag: str, step: Step, context: Any = None) -> None:
        with self._cond:
            self._steps.append((tag, context, step))
            self._idle.clear()
            self._cond.notify()

    def busy(self) -> bool:
        return not self._idle.is_set()

    def finish(self, last: Step | None = None, timeout_s: float = 10.0) -> Any:
        """Run the queued steps, then ``last`` (on this thread's session, from the
        caller's thread once the queue is empty), and stop. Used at application close."""
        self._idle.wait(timeout_s)
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self.wait(int(timeout_s * 1000))
        return None if last is None else last(self.session)

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._steps and not self._stopping:
                    self._idle.set()
                    self._cond.wait()
                if not self._steps:
                    self._idle.set()
                    return
                tag, context, step = self._steps.popleft()
            start = time.perf_counter()
            value: Any = None
            error: BaseException | None = None
            try:
                value = step(self.session)
            except Exception as exc:  # the GUI says what failed; nothing was confirmed
                error = exc
            elapsed = (time.perf_counter() - start) * 1000
            self.finished_step.emit(StepOutcome(tag, context, value, error, elapsed))
