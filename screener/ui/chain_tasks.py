"""Work on the audit chain off the GUI thread, for the investigator's and the
administrator's views.

A view hands :meth:`ChainTasks.submit` a plain function (a search, a verification, an
export, an account change); it runs on the view's own worker thread and its result, or
its error, comes back on the GUI thread through a Qt signal. The worker is one thread, so
one view's writes to the log reach it in the order they were asked for; the log itself
copes with other writers (another view, another station) by re-reading its head.

A task reports progress by calling the ``report(done, total, text)`` it is given
(``total`` 0: the amount of work is unknown). A view that is closed while its task runs
waits for the task: what it writes to the log is never cut off half-way.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

T = TypeVar("T")
#: ``report(done, total, text)``: progress of a running task (``total`` 0: unknown).
Report = Callable[[int, int, str], None]
Work = Callable[[Report], T]


@dataclass(frozen=True)
class Progress:
    """A task's progress, delivered on the GUI thread."""

    task: str
    done: int
    total: int
    text: str


@dataclass(frozen=True)
class _Pending(Generic[T]):
    name: str
    done: Callable[[T], None]
    failed: Callable[[BaseException], None] | None
    progress: Callable[[Progress], None] | None


class _Relay(QObject):
    """Carries a task's news from the worker thread to the GUI thread (queued)."""

    progressed = Signal(int, int, int, str)  # task id, done, total, text
    finished = Signal(int, object, object)  # task id, value, error


class _Runnable(QRunnable):
    def __init__(self, task_id: int, work: Work[Any], relay: _Relay) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._id = task_id
        self._work = work
        self._relay = relay
        self._last_report = 0.0

    def _report(self, done: int, total: int, text: str) -> None:
        now = time.monotonic()
        if done < total and now - self._last_report < 0.05:  # at most 20 a second
            return
        self._last_report = now
        with contextlib.suppress(RuntimeError):  # the view is gone; the work goes on
            self._relay.progressed.emit(self._id, done, total, text)

    def run(self) -> None:
        value: Any = None
        error: BaseException | None = None
        try:
            value = self._work(self._report)
        except Exception as exc:  # delivered to the view, which says what went wrong
            error = exc
        with contextlib.suppress(RuntimeError):
            self._relay.finished.emit(self._id, value, error)


class ChainTasks(QObject):
    """A view's worker: one thread, tasks in the order submitted."""

    busy_changed = Signal(bool)
    task_started = Signal(str)
    task_finished = Signal(str, bool)  # name, succeeded

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)
        self._relay = _Relay(self)
        self._relay.progressed.connect(self._on_progress)
        self._relay.finished.connect(self._on_finished)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending[Any]] = {}
        self.errors: list[tuple[str, BaseException]] = []  #: failures nobody handled

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def running(self, name: str) -> bool:
        return any(p.name == name for p in self._pending.values())

    def submit(self, name: str, work: Work[T], done: Callable[[T], None], *,
               failed: Callable[[BaseException], None] | None = None,
               progress: Callable[[Progress], None] | None = None) -> None:
        """Run ``work(report)`` on the worker; then ``done(result)`` or ``failed(error)``
        on the GUI thread."""
        task_id = next(self._ids)
        was_busy = self.busy
        self._pending[task_id] = _Pending(name, done, failed, progress)
        self.task_started.emit(name)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(_Runnable(task_id, work, self._relay))

    def wait(self, timeout_ms: int = 60_000) -> bool:
        """Block until every submitted task has run (shutdown, tests)."""
        return bool(self._pool.waitForDone(timeout_ms))

    @Slot(int, int, int, str)
    def _on_progress(self, task_id: int, done: int, total: int, text: str) -> None:
        pending = self._pending.get(task_id)
        if pending is not None and pending.progress is not None:
            pending.progress(Progress(pending.name, done, total, text))

    @Slot(int, object, object)
    def _on_finished(self, task_id: int, value: object, error: object) -> None:
        pending = self._pending.pop(task_id, None)
        if pending is None:
            return
        try:
            if isinstance(error, BaseException):
                if pending.failed is not None:
                    pending.failed(error)
                else:
                    self.errors.append((pending.name, error))
            else:
                pending.done(value)
        finally:
            self.task_finished.emit(pending.name, not isinstance(error, BaseException))
            if not self.busy:
                self.busy_changed.emit(False)
