"""Work for the supervisor's and the trainer's views, off the GUI thread.

Reading thousands of audit events, scoring them, drawing charts, writing a report,
building a blind test and every audit append run here. A :class:`BackgroundJobs` is one
queue with its own thread pool (one thread by default: jobs run in the order submitted,
so the audit appends of a blind test stay in the order the trainee made them). Each job
is a plain function that gets a ``progress(done, total, label)`` callback; its result or
exception comes back to the GUI thread as a :class:`JobResult` through :attr:`finished`.

A job stops early when the queue is shut down: its next ``progress`` call raises
:class:`JobCancelled`.

Jobs carry a *tag* and a *generation*: submitting a job under a tag makes every earlier
job of that tag stale. A stale job that has not started yet is skipped when
``drop_stale`` is set (a reload superseded by newer filters), and the view ignores a
stale result (:meth:`BackgroundJobs.is_current`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

#: ``progress(done, total, label)``; total 0: the amount of work is not known.
Progress = Callable[[int, int, str], None]
Work = Callable[[Progress], Any]


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
    tag: str
    generation: int
    done: int
    total: int
    label: str


class BackgroundJobs(QObject):
    """A queue of jobs run on a small thread pool of its own."""

    finished = Signal(object)  # JobResult
    progressed = Signal(object)  # JobProgress

    def __init__(self, name: str, threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._generations: dict[str, int] = {}  # written on the GUI thread only
        self._pending: dict[str, int] = {}
        self._closed = False

    def submit(self, tag: str, work: Work, *, drop_stale: bool = False) -> int:
        """Queue ``work`` as the newest job of ``tag``; returns its generation."""
        generation = self._generations.get(tag, 0) + 1
        self._generations[tag] = generation
        self._pending[tag] = self._pending.get(tag, 0) + 1

        def run() -> None:
            if self._closed or (drop_stale and self._generations.get(tag) != generation):
                self._deliver(JobResult(tag, generation, None, None, skipped=True))
                return

            def progress(done: int, total: int, label: str) -> None:
                if self._closed:
                    raise JobCancelled(f"{tag}: stopped")
                with contextlib.suppress(RuntimeError):  # the view is gone
                    self.progressed.emit(JobProgress(tag, generation, done, total, label))

            value: Any = None
            error: BaseException | None = None
            try:
                value = work(progress)
            except Exception as exc:  # delivered to the view, which says what went wrong
                error = exc
            self._deliver(JobResult(tag, generation, value, error))

        self._pool.start(run)
        return generation

    def _deliver(self, result: JobResult) -> None:
        with contextlib.suppress(RuntimeError):  # the view is gone
            self.finished.emit(result)

    def is_current(self, result: JobResult | JobProgress) -> bool:
        """Whether no newer job of the same tag was submitted since."""
        return self._generations.get(result.tag) == result.generation

    def settle(self, result: JobResult) -> None:
        """Count ``result`` as delivered (the views call this first in their handler)."""
        left = self._pending.get(result.tag, 0) - 1
        if left > 0:
            self._pending[result.tag] = left
        else:
            self._pending.pop(result.tag, None)

    def busy(self, tag: str | None = None) -> bool:
        """Jobs (of ``tag``) submitted whose results have not been handled yet."""
        if tag is None:
            return bool(self._pending)
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
