"""The bag on screen and the session behind it: the screener view's controller.

It owns the queue's progress (which bag loads when, which goes on screen), asks the
worker for renders and AI results, runs the session's steps through the
:class:`~screener.ui.session_runner.SessionRunner`, keeps the decision timer and the belt,
and tells the view what to show through signals. The view owns widgets only.

A bag's way::

    arrives -> load (read, hash, prepare, render) -> on screen -> AI result
            -> stored -> session: receive + record_ai -> decidable -> decide -> next

Decisions are accepted only once the session has the bag and its AI result (or that the
AI is unavailable); a decision is confirmed only when the audit log committed it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from screener.audit.chain import EventRecord
from screener.errors import ScreenerError
from screener.imaging.enhance import Adjustments
from screener.imaging.presets import PresetSet
from screener.scan.hdf5 import ScanLimits
from screener.scan.store import ScanStore
from screener.ui.ai_overlay import NO_BAG, AiView, overlay
from screener.ui.bag_queue import BagQueue, DemoConveyor, EntryStatus, QueueEntry, WatchFolder
from screener.ui.config import AiMode, UiSettings
from screener.ui.decision_timer import DecisionTimer
from screener.ui.jobs import (
    Frames,
    LoadedBag,
    analyse_bag,
    choose_function,
    load_bag,
    render_frames,
    store_bag,
)
from screener.ui.render_worker import JobDone, Priority, RenderWorker
from screener.ui.session_runner import SessionRunner, StepOutcome
from screener.ui.shift_stats import ShiftStats
from screener.workflow.ai import AiResult, AiStatus, Detector
from screener.workflow.decisions import Decision, Mark
from screener.workflow.session import (
    ConfirmedDecision,
    IncomingBag,
    ScreeningSession,
    SessionState,
)

AI_OFF_REASON = "AI display is switched off at this station"
VARIABLE_DENSITY = "variable-density"


@dataclass(frozen=True)
class FramesReady:
    """Rendered views for the screen, converted to QImages off the GUI thread."""

    entry_id: int
    key: object
    frames: Frames
    images: tuple[QImage | None, ...]


@dataclass(frozen=True)
class SyncResult:
    state: SessionState
    head: EventRecord | None


@dataclass(eq=False)
class OnScreen:
    """The bag the screener is looking at and how far the session has got with it."""

    entry: QueueEntry
    bag: LoadedBag
    incoming: IncomingBag
    function: str
    frames_key: object = None
    painted_mono: float | None = None  #: time.monotonic() of the first paint
    revealed: bool = False
    user_hidden: bool = False
    received: bool = False
    ai_recorded: bool = False
    recorded_ai: AiResult | None = None
    sync_pending: bool = False
    resync: bool = False
    sync_failed: bool = False
    deciding: bool = False

    @property
    def decidable(self) -> bool:
        return self.ai_recorded and not self.deciding


def to_qimage(rgba: NDArray[np.uint8]) -> QImage:
    """An RGBA uint8 array as a QImage the raster engine paints without converting
    (RGB32: B, G, R, 255 in memory), in memory Qt owns; made on the worker thread."""
    rows, cols = rgba.shape[:2]
    image = QImage(cols, rows, QImage.Format.Format_RGB32)
    target = np.frombuffer(image.bits(), np.uint8).reshape(rows, image.bytesPerLine())
    cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA, dst=target[:, :cols * 4].reshape(rows, cols, 4))
    return image


def _images(frames: Frames) -> tuple[QImage | None, ...]:
    return tuple(None if image is None else to_qimage(image) for image in frames.images)


class ScreeningController(QObject):
    """Drives one screener's session at the station."""

    bag_changed = Signal(object)  # OnScreen | None
    frames_ready = Signal(object)  # FramesReady
    ai_changed = Signal(object)  # AiView
    decidable_changed = Signal(bool)
    decided = Signal(object)  # ConfirmedDecision
    message = Signal(str, str)  # level ("error", "warning", "info", ""), text
    stats_changed = Signal()
    audit_head = Signal(object)  # EventRecord
    belt_changed = Signal(bool)
    timer_tick = Signal(float, float, bool)  # remaining s, total s, belt stopped for it
    session_ready = Signal(bool)
    ai_status = Signal(str)  # "" when the AI is ready, else why it is unavailable

    def __init__(self, session: ScreeningSession, store: ScanStore, settings: UiSettings,
                 presets: PresetSet, *, detector: Detector | None = None,
                 limits: ScanLimits | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.presets = presets
        self.store = store
        self.limits = limits
        self.detector = detector
        self.ai_mode = settings.ai_mode
        self.queue = BagQueue(self)
        self.worker = RenderWorker(self)
        self.worker.done.connect(self._job_done)
        self.runner = SessionRunner(session, self)
        self.runner.finished_step.connect(self._step_done)
        self.stats = ShiftStats(time.monotonic())
        self.function = settings.default_function
        self.window: tuple[float, float] | None = None
        self.on_screen: OnScreen | None = None
        self.conveyor: DemoConveyor | None = None
        self.watch: WatchFolder | None = None
        self.started = False
        self._warming_ai = False
        self._start_waiting = False
        self.belt_running = True
        self.belt_stopped_by_timer = False
        self._closing = False
        self.queue.arrived.connect(lambda _entry: self._pump())
        self.timer = DecisionTimer(settings.decision_time_s, settings.belt_stop_extension_s,
                                   self)
        self.timer.tick.connect(self.timer_tick)
        self.timer.expired.connect(self._time_up)
        self._ai_timeout = QTimer(self)
        self._ai_timeout.setSingleShot(True)
        self._ai_timeout.timeout.connect(self._ai_timed_out)
        self._first_look = QTimer(self)
        self._first_look.setSingleShot(True)
        self._first_look.timeout.connect(self.reveal_ai)
        self.runner.start()

    # ------------------------------------------------------------------ sources
    def add_conveyor(self, conveyor: DemoConveyor) -> None:
        self.conveyor = conveyor
        conveyor.belt_changed.connect(self._belt_changed)

    def add_watch(self, watch: WatchFolder) -> None:
        self.watch = watch

    def warm_up(self, ai: Callable[[], str | None] | None = None,
                display: Callable[[], object] | None = None) -> None:
        """Load the AI model and the calibrations on the worker before the first bag
        needs them (the first bag then does not wait for either)."""
        if ai is not None:
            self._warming_ai = True
            self.worker.submit(RenderWorker.INFERENCE, "warm:ai", lambda _stale: ai(),
                               priority=Priority.URGENT)
        if display is not None:
            self.worker.submit(RenderWorker.DISPLAY, "warm:display",
                               lambda _stale: display(), priority=Priority.URGENT)

    def start(self) -> None:
        """Start the session (once the AI model is loaded, so that ``session.started``
        names it), and the sources: bags queue and load meanwhile."""
        if self._warming_ai:
            self._start_waiting = True
        else:
            self.runner.submit("start", _start)
        if self.watch is not None:
            self.watch.start()
        if self.conveyor is not None:
            self.conveyor.start()

    # ------------------------------------------------------------------ the queue
    def _pump(self) -> None:
        """Put a ready bag on screen if the screen is free; load ahead up to prefetch."""
        if self._closing:
            return
        if self.on_screen is None and self.started:
            ready = self.queue.with_status(EntryStatus.READY)
            if ready:
                self._show(ready[0])
        in_hand = len(self.queue.with_status(EntryStatus.LOADING, EntryStatus.READY,
                                             EntryStatus.ON_SCREEN))
        for entry in self.queue.with_status(EntryStatus.WAITING):
            if in_hand >= self.settings.prefetch:
                break
            self._load(entry)
            in_hand += 1
        if self.on_screen is None and self.started:
            self._announce_empty()

    def _announce_empty(self) -> None:
        loading = self.queue.with_status(EntryStatus.LOADING)
        if loading:
            self.message.emit("", f"Loading {loading[0].path.name}…")
        elif self.conveyor is not None and not self.conveyor.running:
            self.message.emit("info", "Belt stopped: restart it to receive bags")
        else:
            self.message.emit("", "Waiting for the next bag")

    def _load(self, entry: QueueEntry) -> None:
        self.queue.set_status(entry, EntryStatus.LOADING)
        urgent = self.on_screen is None and not self.queue.with_status(EntryStatus.READY)
        function, adjustments = self.function, self._adjustments()
        store, limits, presets = self.store, self.limits, self.presets
        ai_now = self.ai_mode is not AiMode.OFF

        def job(_stale: Callable[[], bool]) -> tuple[LoadedBag, tuple[QImage | None, ...]]:
            bag = load_bag(entry.path, entry.source, function=function,
                           adjustments=adjustments, store=store, limits=limits,
                           presets=presets)
            if ai_now:  # the AI starts now, while this thread makes the QImages
                entry.extra["ai_submitted"] = True
                self._submit_ai(entry, bag, urgent)
            return bag, _images(bag.frames)

        lane = RenderWorker.DISPLAY if urgent else RenderWorker.BACKGROUND
        self.worker.submit(lane, f"load:{entry.id}", job,
                           priority=Priority.URGENT if urgent else Priority.AHEAD, tag=entry)

    def _loaded(self, done: JobDone) -> None:
        entry: QueueEntry = done.tag
        if done.error is not None:
            self._failed(entry, done.error)
            return
        bag, images = done.value
        entry.bag = bag
        entry.bag_id = bag.bag_id
        entry.extra["images"] = images
        entry.stored = bag.stored
        self.queue.set_status(entry, EntryStatus.READY)
        if self.ai_mode is AiMode.OFF:
            entry.ai = AiResult.unavailable(self._detector_name(), AI_OFF_REASON)
            entry.extra["ai_off"] = True
        self._pump()  # may put it on screen
        if entry.ai is None and not entry.extra.get("ai_submitted"):
            self._analyse(entry)
        elif entry.ai is not None and entry.status is not EntryStatus.ERROR:
            self._store(entry)  # the AI's answer came first, or it is off

    def _failed(self, entry: QueueEntry, error: BaseException) -> None:
        text = _say(error)
        self.stats.load_errors += 1
        self.queue.set_status(entry, EntryStatus.ERROR, text)
        self.message.emit("warning", f"{entry.path.name} could not be screened: {text}")
        self.stats_changed.emit()
        if self.on_screen is not None and self.on_screen.entry is entry:
            self._leave_screen()
        self._pump()

    def _analyse(self, entry: QueueEntry) -> None:
        assert entry.bag is not None
        urgent = self.on_screen is not None and self.on_screen.entry is entry
        self._submit_ai(entry, entry.bag, urgent)

    def _submit_ai(self, entry: QueueEntry, bag: LoadedBag, urgent: bool) -> None:
        """Queue the AI for ``bag`` (thread-safe: the load job calls it)."""
        detector = self.detector
        self.worker.submit(RenderWorker.INFERENCE, f"ai:{entry.id}",
                           lambda _stale: analyse_bag(detector, bag),
                           priority=Priority.URGENT if urgent else Priority.AHEAD, tag=entry)

    def _analysed(self, done: JobDone) -> None:
        entry: QueueEntry = done.tag
        if entry.ai is not None or entry.status in (EntryStatus.DECIDED, EntryStatus.ERROR):
            return  # timed out meanwhile, or gone
        result = done.value if done.error is None else AiResult.unavailable(
            self._detector_name(), _say(done.error))
        entry.ai = result
        if entry.bag is None:
            return  # its load job has not reported yet; _loaded goes on from here
        self._store(entry)
        if self.on_screen is not None and self.on_screen.entry is entry:
            self._ai_timeout.stop()
            self._emit_ai()
            self._advance_session()

    def _store(self, entry: QueueEntry) -> None:
        if entry.stored:
            self._stored(entry)
            return
        assert entry.bag is not None
        bag, store = entry.bag, self.store
        self.worker.submit(RenderWorker.BACKGROUND, f"store:{entry.id}",
                           lambda _stale: store_bag(store, bag), priority=Priority.NORMAL,
                           tag=entry)

    def _stored(self, entry: QueueEntry) -> None:
        entry.stored = True
        if self.on_screen is not None and self.on_screen.entry is entry:
            self._advance_session()

    # ------------------------------------------------------------------ on screen
    def _show(self, entry: QueueEntry) -> None:
        assert entry.bag is not None
        bag = entry.bag
        self.queue.set_status(entry, EntryStatus.ON_SCREEN)
        function = choose_function(self.function, bag.available, self.presets)
        incoming = IncomingBag(bag.sha256, bag.scan, entry.source)
        shown = OnScreen(entry, bag, incoming, function)
        self.on_screen = shown
        self.bag_changed.emit(shown)
        self.message.emit("", "")
        frames = bag.frames
        if frames.function == function and frames.adjustments == self._adjustments(function):
            shown.frames_key = (entry.id, 0)
            self.frames_ready.emit(FramesReady(entry.id, shown.frames_key, frames,
                                               entry.extra.pop("images", ())))
        else:
            self._request_frames()
        if entry.ai is None:
            self._ai_timeout.start(round(self.settings.ai_timeout_s * 1000))
        self._emit_ai()
        self.decidable_changed.emit(False)
        self._advance_session()

    def _leave_screen(self) -> None:
        shown = self.on_screen
        if shown is None:
            return
        self.on_screen = None
        self.worker.retire("render")
        self._ai_timeout.stop()
        self._first_look.stop()
        self.timer.stop()
        self.bag_changed.emit(None)
        self.ai_changed.emit(NO_BAG)
        self.decidable_changed.emit(False)

    def notify_painted(self, key: object) -> None:
        """The view painted the frames ``key``: the screener sees the bag from now."""
        shown = self.on_screen
        if shown is None or shown.painted_mono is not None or key != shown.frames_key:
            return
        shown.painted_mono = time.monotonic()
        self.timer.start()
        if (self.ai_mode is AiMode.AFTER_FIRST_LOOK and self.settings.first_look_s > 0):
            self._first_look.start(round(self.settings.first_look_s * 1000))

    # ------------------------------------------------------------------ rendering
    def _adjustments(self, function: str | None = None) -> Adjustments:
        name = function or self.function
        base = self.presets.get(name).adjustments if name in self.presets.names \
            else Adjustments()
        if name == VARIABLE_DENSITY and self.window is not None:
            return Adjustments(base.brightness, base.contrast, base.gamma, base.invert,
                               self.window)
        return base

    def choose_function(self, name: str) -> None:
        if name not in self.presets.names:
            return
        self.function = name
        shown = self.on_screen
        if shown is not None and shown.bag.available.get(name) is None:
            shown.function = name
            self._request_frames()

    def set_density(self, window: tuple[float, float]) -> None:
        """The variable-density window moved (switches to variable density)."""
        self.window = window
        self.choose_function(VARIABLE_DENSITY)

    def _request_frames(self) -> None:
        shown = self.on_screen
        if shown is None:
            return
        prepared, function = shown.bag.prepared, shown.function
        adjustments, presets = self._adjustments(function), self.presets

        def job(stale: Callable[[], bool]) -> tuple[Frames, tuple[QImage | None, ...]] | None:
            frames = render_frames(prepared, function, adjustments, presets=presets,
                                   stale=stale)
            if stale():
                return None
            return frames, _images(frames)

        generation = self.worker.submit(RenderWorker.DISPLAY, "render", job,
                                        priority=Priority.URGENT, tag=shown.entry)
        shown.frames_key = (shown.entry.id, generation)

    def _rendered(self, done: JobDone) -> None:
        shown = self.on_screen
        if (done.value is None or shown is None or done.tag is not shown.entry
                or not self.worker.is_current(done)):
            return  # superseded: a newer render is on its way
        if done.error is not None:
            self.message.emit("error", f"Rendering failed: {_say(done.error)}")
            return
        frames, images = done.value
        self.frames_ready.emit(FramesReady(shown.entry.id, (shown.entry.id, done.generation),
                                           frames, images))

    # ------------------------------------------------------------------ the AI
    def set_ai_mode(self, mode: AiMode) -> None:
        """Applies to bags analysed from now on; the overlay of the bag on screen follows
        at once where its result allows."""
        self.ai_mode = AiMode(mode)
        for entry in self.queue.with_status(EntryStatus.READY):
            if mode is AiMode.OFF and entry.ai is None:
                self.worker.retire(f"ai:{entry.id}")
                entry.ai = AiResult.unavailable(self._detector_name(), AI_OFF_REASON)
                entry.extra["ai_off"] = True
                self._store(entry)
        self._emit_ai()

    def reveal_ai(self) -> None:
        shown = self.on_screen
        if shown is not None and not shown.revealed:
            shown.revealed = True
            shown.user_hidden = False
            self._emit_ai()

    def toggle_ai(self) -> None:
        shown = self.on_screen
        if shown is None:
            return
        if self.ai_mode is AiMode.AFTER_FIRST_LOOK and not shown.revealed:
            self.reveal_ai()
            return
        shown.user_hidden = not shown.user_hidden
        self._emit_ai()

    def ai_view(self) -> AiView:
        shown = self.on_screen
        if shown is None:
            return NO_BAG
        return overlay(self.ai_mode, shown.entry.ai,
                       switched_off=bool(shown.entry.extra.get("ai_off")),
                       revealed=shown.revealed, hidden_by_screener=shown.user_hidden)

    def _emit_ai(self) -> None:
        self.ai_changed.emit(self.ai_view())

    def _ai_timed_out(self) -> None:
        shown = self.on_screen
        if shown is None or shown.entry.ai is not None:
            return
        self.worker.retire(f"ai:{shown.entry.id}")
        shown.entry.ai = AiResult.unavailable(
            self._detector_name(), f"no answer within {self.settings.ai_timeout_s:g} s")
        self._store(shown.entry)
        self._emit_ai()
        self._advance_session()

    def _detector_name(self) -> str | None:
        try:
            return None if self.detector is None else self.detector.name
        except Exception:  # a broken detector's name must not stop screening
            return "AI"

    # ------------------------------------------------------------------ the session
    def _advance_session(self) -> None:
        """Bring the session up to the bag on screen: receive it once it is stored, then
        record its AI result once that is in."""
        shown = self.on_screen
        if shown is None or shown.deciding or not shown.entry.stored:
            return
        ai = shown.entry.ai
        if shown.received and (ai is None or shown.recorded_ai is ai):
            return
        if shown.sync_pending:
            shown.resync = True
            return
        shown.sync_pending = True
        incoming = shown.incoming
        self.runner.submit("sync", lambda session: _sync(session, incoming, ai), (shown, ai))

    def decide(self, decision: Decision, marks: list[Mark]) -> bool:
        """The screener's decision; False (with a message) when it cannot be taken now."""
        shown = self.on_screen
        if shown is None:
            self.message.emit("warning", "No bag on screen")
            return False
        if shown.deciding:
            return False
        ready = shown.ai_recorded or (shown.sync_failed and shown.entry.ai is not None
                                      and shown.entry.stored)
        if not ready:
            self.message.emit("info", "One moment: the bag is still being recorded")
            return False
        if decision is Decision.CLEAR and marks:
            self.message.emit("warning", "This bag has marks: remove them (Esc) to clear it, "
                              "or press Suspect to send it to search")
            return False
        response_ms = round((time.monotonic() - (shown.painted_mono or time.monotonic()))
                            * 1000)
        shown.deciding = True
        self.decidable_changed.emit(False)
        incoming, ai, chosen = shown.incoming, shown.entry.ai, tuple(marks)

        def step(session: ScreeningSession) -> tuple[ConfirmedDecision, EventRecord | None]:
            _sync(session, incoming, ai)
            confirmed = session.decide(decision, chosen, response_ms=response_ms)
            return confirmed, confirmed.event

        self.runner.submit("decide", step, shown)
        self.message.emit("", "Recording the decision…")
        return True

    def _step_done(self, outcome: StepOutcome) -> None:
        if outcome.tag == "start":
            self._started(outcome)
        elif outcome.tag == "sync":
            self._synced(outcome)
        elif outcome.tag == "decide":
            self._decided(outcome)

    def _started(self, outcome: StepOutcome) -> None:
        if outcome.error is not None:
            self.message.emit("error", f"The session could not start: {_say(outcome.error)}")
            self.session_ready.emit(False)
            return
        self.started = True
        self.audit_head.emit(outcome.value)
        self.session_ready.emit(True)
        self._pump()

    def _synced(self, outcome: StepOutcome) -> None:
        shown: OnScreen
        ai: AiResult | None
        shown, ai = outcome.context
        shown.sync_pending = False
        if outcome.error is not None:
            shown.sync_failed = True
            self.message.emit("error", f"Not recorded: {_say(outcome.error)}. Decide when "
                              "the audit log is back; nothing is confirmed until it is.")
        else:
            shown.sync_failed = False
            result: SyncResult = outcome.value
            shown.received = result.state is not SessionState.AWAITING_BAG
            if result.state is SessionState.AWAITING_DECISION:
                shown.ai_recorded = True
                shown.recorded_ai = ai
            if result.head is not None:
                self.audit_head.emit(result.head)
            if self.on_screen is not None and shown is self.on_screen:
                self.decidable_changed.emit(shown.decidable)
        if shown.resync:
            shown.resync = False
            self._advance_session()

    def _decided(self, outcome: StepOutcome) -> None:
        shown: OnScreen = outcome.context
        shown.deciding = False
        if outcome.error is not None:
            shown.sync_failed = True
            self.message.emit("error", f"Decision NOT recorded: {_say(outcome.error)}. The "
                              "bag stays on screen: decide again.")
            self.decidable_changed.emit(True)
            return
        confirmed, head = outcome.value
        ai = shown.entry.ai
        flagged = ai is not None and bool(ai.detections)
        available = ai is not None and (ai.status is AiStatus.OK
                                        or bool(shown.entry.extra.get("ai_off")))
        self.stats.record(confirmed.decision, confirmed.response_ms, ai_flagged=flagged,
                          ai_available=available)
        shown.entry.decision = confirmed.decision.value
        self.queue.set_status(shown.entry, EntryStatus.DECIDED)
        self.worker.retire(f"ai:{shown.entry.id}")
        self._leave_screen()
        if head is not None:
            self.audit_head.emit(head)
        self.decided.emit(confirmed)
        self.stats_changed.emit()
        if self.belt_stopped_by_timer:
            self.set_belt(True)
        self._pump()

    # ------------------------------------------------------------------ timer and belt
    def _time_up(self) -> None:
        """Decision time is up: the belt stops and the screener gets more time."""
        if self.belt_running and self.conveyor is not None:
            self.belt_stopped_by_timer = True
            self.set_belt(False)
            self.stats.belt_stops += 1
            self.stats_changed.emit()
        self.timer.extend()
        self.message.emit("warning", "Decision time is up: the belt is stopped and you have "
                          f"{self.settings.belt_stop_extension_s:g} s more")

    def toggle_belt(self) -> None:
        """The screener stops the belt (and gets more time, once a bag) or restarts it."""
        if self.conveyor is None:
            self.message.emit("info", "No belt to stop: bags come from a watch folder")
            return
        if self.belt_running:
            self.set_belt(False)
            self.stats.belt_stops += 1
            self.stats_changed.emit()
            self.timer.extend()
        else:
            self.set_belt(True)

    def set_belt(self, running: bool) -> None:
        if self.conveyor is None:
            return
        if running:
            self.belt_stopped_by_timer = False
            self.conveyor.resume()
        else:
            self.conveyor.stop()

    def _belt_changed(self, running: bool) -> None:
        self.belt_running = running
        self.belt_changed.emit(running)

    # ------------------------------------------------------------------ worker results
    def _job_done(self, done: JobDone) -> None:
        if self._closing:
            return
        kind = done.slot.split(":", 1)[0]
        if kind == "load":
            self._loaded(done)
        elif kind == "ai":
            if self.worker.is_current(done):
                self._analysed(done)
        elif kind == "store":
            entry: QueueEntry = done.tag
            if done.error is not None:
                self._failed(entry, done.error)
            else:
                self._stored(entry)
        elif kind == "render":
            self._rendered(done)
        elif done.slot == "warm:ai":
            reason = _say(done.error) if done.error is not None else done.value
            self.ai_status.emit(f"AI unavailable: {reason}" if reason else "")
            self._warming_ai = False
            if self._start_waiting:
                self._start_waiting = False
                self.runner.submit("start", _start)

    # ------------------------------------------------------------------ closing
    def shutdown(self, reason: str = "application closed") -> None:
        """Stop the sources and the worker, then end the session (or, with a bag still
        undecided, sign a checkpoint of what was logged)."""
        if self._closing:
            return
        self._closing = True
        self.timer.stop()
        for timer in (self._ai_timeout, self._first_look):
            timer.stop()
        if self.conveyor is not None:
            self.conveyor.stop()
        if self.watch is not None:
            self.watch.stop()
        self.worker.stop()

        def last(session: ScreeningSession) -> None:
            try:
                if session.state is SessionState.AWAITING_BAG:
                    session.end(reason)
                elif session.state is not SessionState.NOT_STARTED:
                    session.log.checkpoint(f"{reason} with a bag undecided")
            except ScreenerError:
                pass  # the log is unavailable: nothing more can be recorded now

        self.runner.finish(last)


def _start(session: ScreeningSession) -> EventRecord:
    return session.start()


def _sync(session: ScreeningSession, incoming: IncomingBag, ai: AiResult | None) -> SyncResult:
    """Receive ``incoming`` and record ``ai`` if the session has not yet (runs on the
    session thread; each step is logged before it counts)."""
    head: EventRecord | None = None
    if session.state is SessionState.AWAITING_BAG:
        head = session.receive(incoming)
    on_screen = session.on_screen
    if on_screen is None or on_screen.bag is not incoming:
        raise ScreenerError("the session holds another bag than the one on screen")
    if session.state is SessionState.AWAITING_AI and ai is not None:
        head = session.record_ai(ai)
    return SyncResult(session.state, head)


def _say(error: BaseException) -> str:
    """One line for the screener: a ScreenerError's own message, else the type and text."""
    text = " ".join(str(error).split())
    if isinstance(error, ScreenerError):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
