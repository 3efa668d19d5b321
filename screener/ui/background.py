"""Work for the role views, off the GUI thread.

Reading and scoring audit events, drawing charts, writing a report, building a blind
test, a search, a chain verification, an evidence export, an account change and every
audit append run here. A view hands :meth:`BackgroundJobs.submit` a plain function; it
runs on the queue's own thread, one job after the other in the order submitted (so a
view's writes to the log, such as the answers of a blind test, reach it in the order
they were made; the log copes with other writers by re-reading its head). The job's
result, or its exception, comes back on the GUI thread: to the ``done`` or ``failed``
callback given with it, then to every listener of :attr:`BackgroundJobs.finished` as a
:class:`JobResult`.

A job reports progress by calling the ``progress(done, total, label)`` it is given
(``total`` 0: the amount of work is not known); at most 20 reports a second reach the
GUI thread, as a :class:`JobProgress`.

Jobs carry a *tag* and a *generation*: submitting a job under a tag makes every earlier
job of that tag stale. A stale job that has not started yet is skipped when
``drop_stale`` is set (a reload superseded by newer filters), and a view ignores a stale
result (:meth:`BackgroundJobs.is_current`).

:meth:`BackgroundJobs.shutdown` skips what has not started, and a running job stops at
its next ``progress`` call (:class:`JobCancelled`); a view whose work must never be cut
off half-way (an account change, a purge) waits for it instead
(:meth:`BackgroundJobs.wait`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QThreadPool, Signal, SignalInstance, Slot

T = TypeVar("T")
#: ``progress(done, total, label)``; total 0: the amount of work is not known.
Progress = Callable[[int, int, str], None]
Work = Callable[[Progress], T]
_REPORT_INTERVAL_S = 0.05  # at most 20 progress reports a second


class JobCancelled(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by ``progress`` once the queue is shut down: the job stops at its next
    step."""


@dataclass(frozen=True)
class JobResult:
    """A finished job, delivered on the GUI thread."""

    tag: str
    generation: int
    value: Any
    error: BaseException | None
    skipped: bool = False  #: never run: a newer job of its tag was submitted first

    @property
    def ok(self) -> bool:
        return self.error is None and not self.skipped


@dataclass(frozen=True)
class JobProgress:
    """A running job's progress, delivered on the GUI thread."""

    tag: str
    generation: int
    done: int
    total: int
    label: str


@dataclass(frozen=True)
class _Callbacks(Generic[T]):
    done: Callable[[T], None] | None
    failed: Callable[[BaseException], None] | None
    progress: Callable[[JobProgress], None] | None


class _Relay(QObject):
    """Carries a job's news from its thread to the GUI thread (queued)."""

    progressed = Signal(object)  # JobProgress
    finished = Signal(object)  # JobResult


def _emit(signal: SignalInstance, news: object) -> None:
    with contextlib.suppress(RuntimeError):  # the view is gone; the work went on
        signal.emit(news)


class BackgroundJobs(QObject):
    """A queue of jobs run on a thread of its own."""

    finished = Signal(object)  # JobResult
    progressed = Signal(object)  # JobProgress

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._pool.setExpiryTimeout(-1)
        self._relay = _Relay(self)
        self._relay.progressed.connect(self._on_progress)
        self._relay.finished.connect(self._on_finished)
        self._generations: dict[str, int] = {}  # written on the GUI thread only
        self._pending: dict[str, int] = {}
        self._callbacks: dict[tuple[str, int], _Callbacks[Any]] = {}
        self._closed = False

    def submit(self, tag: str, work: Work[T], done: Callable[[T], None] | None = None, *,
               failed: Callable[[BaseException], None] | None = None,
               progress: Callable[[JobProgress], None] | None = None,
               drop_stale: bool = False) -> int:
        """Queue ``work(progress)`` as the newest job of ``tag``; then ``done(value)`` or
        ``failed(error)`` on the GUI thread (neither for a job skipped), and
        :attr:`finished` always. Returns the job's generation."""
        generation = self._generations.get(tag, 0) + 1
        self._generations[tag] = generation
        self._pending[tag] = self._pending.get(tag, 0) + 1
        self._callbacks[(tag, generation)] = _Callbacks(done, failed, progress)
        relay = self._relay

        def run() -> None:
            if self._closed or (drop_stale and self._generations.get(tag) != generation):
                _emit(relay.finished, JobResult(tag, generation, None, None, skipped=True))
                return
            last_report = 0.0

            def report(count: int, total: int, label: str) -> None:
                nonlocal last_report
                if self._closed:
                    raise JobCancelled(f"{tag}: stopped")
                now = time.monotonic()
                if count < total and now - last_report < _REPORT_INTERVAL_S:
                    return
                last_report = now
                _emit(relay.progressed, JobProgress(tag, generation, count, total, label))

            value: Any = None
            error: BaseException | None = None
            try:
                value = work(report)
            except Exception as exc:  # delivered to the view, which says what went wrong
                error = exc
            _emit(relay.finished, JobResult(tag, generation, value, error))

        self._pool.start(run)
        return generation

    @Slot(object)
    def _on_progress(self, progress: JobProgress) -> None:
        callbacks = self._callbacks.get((progress.tag, progress.generation))
        if callbacks is not None and callbacks.progress is not None:
            callbacks.progress(progress)
        self.progressed.emit(progress)

    @Slot(object)
    def _on_finished(self, result: JobResult) -> None:
        left = self._pending.get(result.tag, 0) - 1
        if left > 0:
            self._pending[result.tag] = left
        else:
            self._pending.pop(result.tag, None)
        callbacks = self._callbacks.pop((result.tag, result.generation), None)
        try:
            if callbacks is not None and not result.skipped:
                if result.error is None and callbacks.done is not None:
                    callbacks.done(result.value)
                elif result.error is not None and callbacks.failed is not None:
                    callbacks.failed(result.error)
        finally:
            self.finished.emit(result)

    def is_current(self, result: JobResult | JobProgress) -> bool:
        """Whether no newer job of the same tag was submitted since."""
        return self._generations.get(result.tag) == result.generation

    @property
    def busy(self) -> bool:
        """Jobs submitted whose results have not been delivered yet."""
        return bool(self._pending)

    def running(self, tag: str) -> bool:
        """Jobs of ``tag`` submitted whose results have not been delivered yet."""
        return tag in self._pending

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until every queued job has run (tests, shutdown)."""
        return bool(self._pool.waitForDone(timeout_ms))

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Skip what has not started; a running job stops at its next progress step
        (:class:`JobCancelled`); wait for it."""
        self._closed = True
        self._pool.clear()
        self._pool.waitForDone(timeout_ms)
