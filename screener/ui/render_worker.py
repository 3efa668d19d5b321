"""The worker that renders and runs the AI off the GUI thread, and drops stale jobs.

Like napari's layer slicer: the GUI asks for work by *slot* ("render", "ai:17",
"load:18") and *generation*. A new request bumps the slot's generation, so

* a job still waiting in a lane is replaced by the newer job of its slot (never run);
* a job that is dequeued when its generation is no longer current is dropped unrun;
* a running job can ask ``stale()`` between steps and stop early;
* a result is delivered with its generation, and the GUI applies it only if that
  generation is still current (results of superseded jobs are dropped there too).

The worker has three lanes, each one thread that runs one job at a time, most urgent
first: ``display`` (what the screener is waiting to see: renders after a function switch,
the load of a bag when the screen is empty), ``inference`` (the AI) and ``background``
(loading bags ahead, storing scans). A function switch therefore never queues behind an
inference or a prefetch. Only Qt signals carry results to the GUI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

#: A job receives a ``stale()`` probe and returns its result (or raises).
Job = Callable[[Callable[[], bool]], Any]


class Priority(IntEnum):
    URGENT = 0  #: the screener is waiting for it
    NORMAL = 1
    AHEAD = 2  #: work ahead of need (prefetch)


class Generations:
    """Thread-safe generation counter per slot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[str, int] = {}

    def bump(self, slot: str) -> int:
        with self._lock:
            value = self._current.get(slot, 0) + 1
            self._current[slot] = value
            return value

    def current(self, slot: str) -> int:
        with self._lock:
            return self._current.get(slot, 0)

    def is_current(self, slot: str, generation: int) -> bool:
        with self._lock:
            return self._current.get(slot, 0) == generation

    def retire(self, slot: str) -> None:
        """Make every job of ``slot`` stale (the bag it was for has left the screen)."""
        self.bump(slot)


@dataclass(frozen=True)
class JobDone:
    """A finished job, delivered on the GUI thread."""

    lane: str
    slot: str
    generation: int
    value: Any
    error: BaseException | None
    queued_at: float
    started_at: float
    finished_at: float
    tag: Any = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Pending:
    slot: str
    generation: int
    job: Job
    priority: Priority
    order: int
    queued_at: float
    tag: Any


class Lane(QThread):
    """One worker thread with a queue of jobs, most urgent first, newest per slot."""

    done = Signal(object)  # JobDone

    def __init__(self, name: str, generations: Generations,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"screener-{name}")
        self.name = name
        self._generations = generations
        self._cond = threading.Condition()
        self._pending: list[_Pending] = []
        self._order = 0
        self._stopping = False
        self.dropped = 0  #: jobs never run because a newer one superseded them
        self.ran = 0

    def submit(self, slot: str, generation: int, job: Job, *,
               priority: Priority = Priority.NORMAL, tag: Any = None) -> None:
        """Queue ``job``; a job of the same slot still waiting is dropped."""
        with self._cond:
            before = len(self._pending)
            self._pending = [p for p in self._pending if p.slot != slot]
            self.dropped += before - len(self._pending)
            self._order += 1
            self._pending.append(_Pending(slot, generation, job, priority, self._order,
                                          time.perf_counter(), tag))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def stop(self, timeout_ms: int = 5000) -> None:
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify()
        self.wait(timeout_ms)

    def run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                item = min(self._pending, key=lambda p: (p.priority, p.order))
                self._pending.remove(item)
                if not self._generations.is_current(item.slot, item.generation):
                    self.dropped += 1
                    continue
            self._run(item)

    def _run(self, item: _Pending) -> None:
        started = time.perf_counter()

        def stale() -> bool:
            return self._stopping or not self._generations.is_current(item.slot,
                                                                      item.generation)

        value: Any = None
        error: BaseException | None = None
        try:
            value = item.job(stale)
        except Exception as exc:  # delivered to the GUI, which says what went wrong
            error = exc
        self.ran += 1
        if not self._stopping:
            self.done.emit(JobDone(self.name, item.slot, item.generation, value, error,
                                   item.queued_at, started, time.perf_counter(), item.tag))


class RenderWorker(QObject):
    """The three lanes and their shared generations. Connect to :attr:`done`."""

    done = Signal(object)  # JobDone, from any lane, on the GUI thread

    DISPLAY = "display"
    INFERENCE = "inference"
    BACKGROUND = "background"

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.generations = Generations()
        self.lanes = {name: Lane(name, self.generations, self)
                      for name in (self.DISPLAY, self.INFERENCE, self.BACKGROUND)}
        for lane in self.lanes.values():
            lane.done.connect(self.done)
            lane.start()

    def submit(self, lane: str, slot: str, job: Job, *, priority: Priority = Priority.NORMAL,
               tag: Any = None) -> int:
        """Queue ``job`` as the newest of ``slot``; returns its generation."""
        generation = self.generations.bump(slot)
        self.lanes[lane].submit(slot, generation, job, priority=priority, tag=tag)
        return generation

    def is_current(self, done: JobDone) -> bool:
        return self.generations.is_current(done.slot, done.generation)

    def retire(self, slot: str) -> None:
        self.generations.retire(slot)

    @property
    def dropped(self) -> int:
        return sum(lane.dropped for lane in self.lanes.values())

    def stop(self) -> None:
        for lane in self.lanes.values():
            lane.stop()
