"""The bags waiting for the screener, and where they come from.

* :class:`BagQueue`: entries in arrival order, each with its status (waiting, loading,
  ready, on screen, decided, error). A file that cannot be read stays in the queue as
  an error naming the file and the problem; the queue goes on with the next bag.
* :class:`DemoConveyor`: a belt that delivers the scans of a demo folder
  (``screener demo``'s ``manifest.json``, else its scan files in name order) at a
  configurable number of bags a minute, round and round. The belt can stop (the
  screener's timer ran out, or the screener stopped it) and restart.
* :class:`WatchFolder`: picks up new scan files (``.h5``, ``.hdf5``, ``.png``, ``.jpg``,
  ``.jpeg``, ``.npy``, DICOS ``.dcs``) that appear in a folder, once their size has
  stopped changing (a scanner may still be writing them). A DICOS scan arrives as one
  file per energy per view: it is queued once, when all its files are there, as its
  first file (the import reads the rest); a Threat Detection Report is not a scan and is
  passed over. Listing a folder is cheap; reading is done by the worker.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from screener.demo import MANIFEST_NAME
from screener.errors import ConfigError
from screener.ui.jobs import DICOS_SUFFIX, LoadedBag, dicos_lead, is_scan_name
from screener.workflow.ai import AiResult

SOURCE_CONVEYOR = "demo conveyor"
SOURCE_WATCH = "watch folder"
SOURCE_FILE = "file"


class EntryStatus(StrEnum):
    WAITING = "waiting"
    LOADING = "loading"
    READY = "ready"
    ON_SCREEN = "on screen"
    DECIDED = "decided"
    ERROR = "error"


@dataclass(eq=False)
class QueueEntry:
    """One bag's file on its way through the station."""

    id: int
    path: Path
    source: str
    arrived_at: float  #: time.perf_counter() when the file was handed to the queue
    status: EntryStatus = EntryStatus.WAITING
    error: str | None = None
    bag: LoadedBag | None = None
    ai: AiResult | None = None
    stored: bool = False
    decision: str | None = None
    bag_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.bag_id or self.path.name

    def describe(self) -> str:
        """One line for the queue list."""
        if self.status is EntryStatus.ERROR:
            return f"{self.path.name}: {self.error}"
        if self.status is EntryStatus.DECIDED and self.decision:
            return f"{self.label} \u00b7 {self.decision}"
        return f"{self.label} \u00b7 {self.status.value}"


class BagQueue(QObject):
    """Entries in arrival order. Emits ``arrived`` for each new one and ``changed``
    whenever an entry's status changes."""

    arrived = Signal(object)  # QueueEntry
    changed = Signal(object)  # QueueEntry

    #: decided and failed entries kept for the list
    HISTORY = 50

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self.entries: list[QueueEntry] = []

    def add(self, path: Path, source: str) -> QueueEntry:
        entry = QueueEntry(next(self._ids), Path(path), source, time.perf_counter())
        self.entries.append(entry)
        self._trim()
        self.arrived.emit(entry)
        return entry

    def set_status(self, entry: QueueEntry, status: EntryStatus, error: str | None = None
                   ) -> None:  # fmt: skip
        entry.status = status
        if error is not None:
            entry.error = error
        if status in (EntryStatus.DECIDED, EntryStatus.ERROR):
            entry.bag = None  # free the images; the scan is in the store
            entry.extra.pop("images", None)
        self.changed.emit(entry)

    def with_status(self, *statuses: EntryStatus) -> list[QueueEntry]:
        return [e for e in self.entries if e.status in statuses]

    def waiting_count(self) -> int:
        return len(self.with_status(EntryStatus.WAITING, EntryStatus.LOADING,
                                    EntryStatus.READY))

    def _trim(self) -> None:
        finished = [e for e in self.entries
                    if e.status in (EntryStatus.DECIDED, EntryStatus.ERROR)]
        for entry in finished[:-self.HISTORY] if len(finished) > self.HISTORY else []:
            self.entries.remove(entry)


def demo_files(folder: Path) -> list[Path]:
    """The scans of a demo folder: ``manifest.json``'s order, else scan files by name."""
    if not folder.is_dir():
        raise ConfigError("--demo", "folder", f"{folder} is not a folder")
    manifest = folder / MANIFEST_NAME
    files: list[Path] = []
    if manifest.is_file():
        try:
            items = json.loads(manifest.read_text(encoding="utf-8"))["items"]
            files = [folder / str(item["file"]) for item in items]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(str(manifest), "items",
                              f"not a demo manifest ({exc}); run `screener demo` again") \
                from None
    else:
        files = sorted(p for p in folder.iterdir() if p.is_file() and is_scan_name(p))
    if not files:
        raise ConfigError("--demo", "folder", f"{folder} holds no scans; make some with "
                          "`screener demo --out FOLDER`")
    return files


class DemoConveyor(QObject):
    """Delivers a demo folder's scans at ``bags_per_minute``, looping."""

    belt_changed = Signal(bool)  # running

    def __init__(self, queue: BagQueue, files: list[Path], bags_per_minute: float, *,
                 loop: bool = True, limit: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        if bags_per_minute <= 0:
            raise ConfigError("demo conveyor", "bags_per_minute", "must be more than 0")
        self.queue = queue
        self.files = list(files)
        self.loop = loop
        self.limit = limit
        self.delivered = 0
        self._next = 0
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(60_000 / bags_per_minute)))
        self._timer.timeout.connect(self.deliver)
        self._running = False

    @property
    def running(self) -> bool:
        return self._running

    def set_rate(self, bags_per_minute: float) -> None:
        self._timer.setInterval(max(1, round(60_000 / bags_per_minute)))

    def start(self) -> None:
        """Start the belt; the first bag arrives at once."""
        self._running = True
        self.deliver()
        self._timer.start()
        self.belt_changed.emit(True)

    def stop(self) -> None:
        self._running = False
        self._timer.stop()
        self.belt_changed.emit(False)

    def resume(self) -> None:
        if not self._running:
            self._running = True
            self._timer.start()
            self.belt_changed.emit(True)

    def deliver(self) -> QueueEntry | None:
        """Put the next scan on the queue now (None when the demo is over)."""
        if self.limit is not None and self.delivered >= self.limit:
            self._timer.stop()
            return None
        if self._next >= len(self.files):
            if not self.loop:
                self._timer.stop()
                return None
            self._next = 0
        path = self.files[self._next]
        self._next += 1
        self.delivered += 1
        return self.queue.add(path, SOURCE_CONVEYOR)


class WatchFolder(QObject):
    """Adds each new scan file of ``folder`` to the queue once its size is stable."""

    def __init__(self, queue: BagQueue, folder: Path, poll_s: float = 1.0, *,
                 include_existing: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if not folder.is_dir():
            raise ConfigError("--watch", "folder", f"{folder} is not a folder")
        self.queue = queue
        self.folder = folder
        self._seen: set[str] = set()
        self._sizes: dict[str, int] = {}
        self._settling = False
        if not include_existing:
            self._seen.update(p.name for p in self._list())
        self._watcher = QFileSystemWatcher([str(folder)], self)
        self._watcher.directoryChanged.connect(lambda _path: self.poll())
        self._timer = QTimer(self)
        self._timer.setInterval(max(50, round(poll_s * 1000)))
        self._timer.timeout.connect(self.poll)

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()

    def resume(self) -> None:
        """A scanner's belt is not ours to stop: the folder is always watched."""

    def _list(self) -> list[Path]:
        try:
            with os.scandir(self.folder) as found:
                return [Path(e.path) for e in found if e.is_file() and is_scan_name(Path(e.path))]
        except OSError:
            return []

    def poll(self) -> list[QueueEntry]:
        """Queue the files that are new and whose size did not change since the last look."""
        added: list[QueueEntry] = []
        listed = sorted(self._list())
        names = {p.name for p in listed}
        for gone in [n for n in self._sizes if n not in names]:
            del self._sizes[gone]
        for path in listed:
            if path.name in self._seen:
                continue
            try:
                size = path.stat().st_size
            except OSError:
                continue
            if self._sizes.get(path.name) != size:
                self._sizes[path.name] = size  # new or still growing: look again next time
                continue
            if path.suffix.lower() == DICOS_SUFFIX:
                lead = dicos_lead(path)
                if lead is None:  # the rest of its scan is still arriving
                    self._sizes[path.name] = -1
                    continue
                if not lead:
                    self._seen.add(path.name)
                    self._sizes.pop(path.name, None)
                    continue
            self._seen.add(path.name)
            self._sizes.pop(path.name, None)
            added.append(self.queue.add(path, SOURCE_WATCH))
        if self._sizes and not self._settling:
            self._settling = True  # a file is settling: look again soon
            QTimer.singleShot(150, self._settle)
        return added

    def _settle(self) -> None:
        self._settling = False
        self.poll()
