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

With TIP (a session with a :class:`~screener.workflow.session.TipMode`) every bag is
planned before anything of it is shown: ``session.plan_tip`` (the scheduler, the bag's
clutter and, for a TIP bag, the projection: tens of milliseconds) runs on the worker, one
bag at a time in the order the bags go on screen, ahead of need while the screener looks
at the previous bag. A TIP bag's composite is prepared and rendered there too, and the
AI analyses the composite. Each bag is stored as soon as it is loaded and goes on screen
once ``receive(bag, plan)`` has committed its events (``tip.scheduled``, and
``tip.projected`` for a composite): a bag with an FTI never shows unlogged, and bags
with and without one reach the screen the same way, so their timing does not give TIP
away (on a busy belt about 60 ms from a decision to the next bag's paint either way).
After the decision the session's feedback reaches the view (``tip_feedback``); on a TIP
bag the screener continues to the real bag (the FTI removed), which the AI analyses again
and the screener decides on anew (``rescreen``).

A plan is the scheduler's decision for the operator's next bag, used up when it is made.
A planned bag that never reaches ``receive`` has its plan discarded in the log
(``session.discard_tip_plan``, ``tip.plan_discarded`` with the reason), so the operator's
``bag_index`` sequence has no gap: when its file fails (stored, read) after or while it
is planned, when its composite cannot be made, and when the operator leaves (logout,
application closed) with a bag planned ahead or held for its receive. A plan that was
received is never also discarded (the session ignores it).
"""

from __future__ import annotations

import dataclasses
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
    bag_functions,
    choose_function,
    load_bag,
    prepare_all,
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
    TrialNotLoggedError,
)
from screener.workflow.tip_injection import FeedbackKind, TipFeedback, TipPlan

AI_OFF_REASON = "AI display is switched off at this station"
VARIABLE_DENSITY = "variable-density"
#: How long to wait before trying again when a TIP plan or a held bag's receive failed.
RETRY_MS = 2000


class PlanUnusableError(Exception):
    """A TIP plan was made (its decision used up) but its bag cannot be shown with it (the
    composite failed): the plan comes back to be discarded."""

    def __init__(self, plan: TipPlan, error: BaseException) -> None:
        super().__init__(str(error))
        self.plan = plan
        self.error = error


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


@dataclass(frozen=True)
class DecideResult:
    """A decide step's outcome: the confirmed decision, the chain's head, and the error
    of the TIP trial's event when the decision was committed but its trial was not."""

    confirmed: ConfirmedDecision
    head: EventRecord | None
    state: SessionState
    trial_error: BaseException | None = None


@dataclass(frozen=True)
class FeedbackShown:
    """What the view shows after a decision: the session's feedback and the marks the
    screener made (framed as the regions to search when there is no TIP in the bag)."""

    feedback: TipFeedback
    marks: tuple[Mark, ...]


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
    plan: TipPlan | None = None  #: this bag's TIP plan (TIP sessions), once made
    held: bool = False  #: nothing of the bag may be shown yet (TIP plan or receive pending)
    rescreen: bool = False  #: the real bag again after TIP feedback
    feedback: FeedbackShown | None = None  #: feedback on screen; decisions wait

    @property
    def decidable(self) -> bool:
        return (self.ai_recorded and not self.deciding and not self.held
                and self.feedback is None)

    @property
    def look(self) -> int:
        return 1 if self.rescreen else 0


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


def composite_bag(real: LoadedBag, plan: TipPlan, function: str,
                  adjustments: Adjustments | None, presets: PresetSet) -> LoadedBag:
    """``real`` as the screener sees it with ``plan``'s FTI: the composite scan prepared
    and rendered with ``function`` (worker thread). It keeps the real bag's sha256 and
    file: the events name the stored real scan, from which the plan remakes the
    composite."""
    scan = plan.shown(real.scan)
    prepared = prepare_all(scan)
    available = bag_functions(prepared, presets)
    chosen = choose_function(function, available, presets)
    frames = render_frames(prepared, chosen, adjustments if chosen == function else None,
                           presets=presets)
    return dataclasses.replace(real, scan=scan, prepared=prepared, available=available,
                               frames=frames, timings_ms={"render": frames.render_ms})


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
    tip_feedback = Signal(object)  # FeedbackShown

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
        self.tip = session.tip is not None and session.tip.injector is not None
        self.stats = ShiftStats(time.monotonic(), tip=self.tip)
        self.function = settings.default_function
        self.window: tuple[float, float] | None = None
        self.on_screen: OnScreen | None = None
        self.conveyor: DemoConveyor | None = None
        self.watch: WatchFolder | None = None
        self.started = False
        self._warming_ai = False
        self._start_waiting = False
        self._planning: QueueEntry | None = None  #: the bag whose TIP plan is being made
        self._plan_after = 0.0  #: time.monotonic() before which no plan is tried (a failure)
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
            planned = [e for e in ready if "plan" in e.extra]
            if planned:  # TIP: bags go on screen in the order they were planned
                self._show(planned[0])
            elif ready and self._planning is None:
                self._show(ready[0])
        self._plan_next()
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
        if self.tip:  # with TIP every bag is received before it is shown: store it now
            self._store(entry)
        self._pump()  # may put it on screen
        if entry.ai is None and not entry.extra.get("ai_submitted"):
            self._analyse(entry)
        elif entry.ai is not None and entry.status is not EntryStatus.ERROR:
            self._store(entry)  # the AI's answer came first, or it is off

    def _failed(self, entry: QueueEntry, error: BaseException) -> None:
        text = _say(error)
        self.stats.load_errors += 1
        self.queue.set_status(entry, EntryStatus.ERROR, text)
        self._discard_plan(entry, f"the bag could not be screened: {text}")
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
        if entry.extra.get("storing"):
            return  # on its way
        entry.extra["storing"] = True
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
        if self.tip:  # received (with its TIP plan) before anything of it is shown
            shown.held = True
            self.bag_changed.emit(shown)
            self.decidable_changed.emit(False)
            self.message.emit("", "Preparing the bag\u2026")
            if "plan" in entry.extra:
                self._apply_plan(shown)
            else:
                self._plan_next()
            return
        self._present(shown, entry.extra.pop("images", ()))

    def _present(self, shown: OnScreen, images: tuple[QImage | None, ...]) -> None:
        """Put ``shown`` on screen: its frames (those given, or a render), its AI."""
        shown.held = False
        entry = shown.entry
        self.bag_changed.emit(shown)
        self.message.emit("", "")
        frames = shown.bag.frames
        if (images and frames.function == shown.function
                and frames.adjustments == self._adjustments(shown.function)):
            shown.frames_key = (entry.id, shown.look, 0)
            self.frames_ready.emit(FramesReady(entry.id, shown.frames_key, frames, images))
        else:
            self._request_frames()
        if entry.ai is None:
            self._ai_timeout.start(round(self.settings.ai_timeout_s * 1000))
        self._emit_ai()
        self.decidable_changed.emit(False)
        self._advance_session()

    # ------------------------------------------------------------------ TIP
    def _plan_next(self) -> None:
        """TIP: plan the next bag for the screen on the worker, one bag at a time and in
        the order they go on screen: the bag on screen if it waits for its plan, else the
        first ready bag (ahead of need, so that planning, the composite and storing are
        done before the screen is free)."""
        if (not self.tip or not self.started or self._closing or self._planning is not None
                or time.monotonic() < self._plan_after):
            return
        shown = self.on_screen
        target: QueueEntry | None = None
        if shown is not None and shown.held and "plan" not in shown.entry.extra:
            target = shown.entry
        else:
            target = next((e for e in self.queue.with_status(EntryStatus.READY)
                           if "plan" not in e.extra), None)
        if target is None or target.bag is None:
            return
        self._planning = target
        urgent = shown is not None and shown.entry is target
        session, presets, real = self.runner.session, self.presets, target.bag
        function = choose_function(self.function, real.available, presets)
        adjustments = self._adjustments(function)
        incoming = IncomingBag(real.sha256, real.scan, target.source)
        target.extra["incoming"] = incoming

        def job(_stale: Callable[[], bool]
                ) -> tuple[TipPlan, LoadedBag | None, tuple[QImage | None, ...]]:
            plan = session.plan_tip(incoming)
            if not plan.projected:
                return plan, None, ()
            try:
                composite = composite_bag(real, plan, function, adjustments, presets)
                return plan, composite, _images(composite.frames)
            except Exception as error:  # the plan is made: it comes back to be discarded
                raise PlanUnusableError(plan, error) from error

        lane = RenderWorker.DISPLAY if urgent else RenderWorker.BACKGROUND
        self.worker.submit(lane, f"plan:{target.id}", job,
                           priority=Priority.URGENT if urgent else Priority.AHEAD, tag=target)

    def _planned(self, done: JobDone) -> None:
        entry: QueueEntry = done.tag
        if self._planning is entry:
            self._planning = None
        made: TipPlan | None = (done.value[0] if done.error is None else
                                done.error.plan if isinstance(done.error, PlanUnusableError)
                                else None)
        if entry.status not in (EntryStatus.READY, EntryStatus.ON_SCREEN):
            if made is not None:  # gone meanwhile (its file failed): never received
                self._send_discard(made, "the bag could not be screened: "
                                   f"{entry.error or 'it left the queue'}")
            self._pump()
            return
        if done.error is not None:
            error = done.error
            if isinstance(error, PlanUnusableError):  # a new plan is made for the bag
                self._send_discard(error.plan, "the TIP image could not be composed "
                                   f"into the bag: {_say(error.error)}")
                error = error.error
            self.message.emit("error", f"TIP could not be planned for {entry.label}: "
                              f"{_say(error)}. Trying again\u2026")
            self._plan_after = time.monotonic() + RETRY_MS / 1000
            QTimer.singleShot(RETRY_MS + 10, self, self._pump)
            return
        plan, composite, images = done.value
        entry.extra["plan"] = plan
        shown = self.on_screen
        on_screen = shown is not None and shown.entry is entry
        if composite is not None:
            # the composite is what the screener will see and what the AI analyses
            entry.extra["composite"] = composite
            entry.extra["tip_images"] = images
            if not entry.extra.get("ai_off"):
                self.worker.retire(f"ai:{entry.id}")
                entry.ai = None
                self._submit_ai(entry, composite, urgent=on_screen)
        if shown is not None and on_screen and shown.plan is None:
            self._apply_plan(shown)
        self._pump()  # the screen may be free for it; the next bag may be planned

    def _apply_plan(self, shown: OnScreen) -> None:
        """The bag on screen has its plan: receive it (once stored), then show it."""
        entry = shown.entry
        shown.plan = entry.extra["plan"]
        shown.incoming = entry.extra.get("incoming", shown.incoming)
        composite: LoadedBag | None = entry.extra.get("composite")
        if composite is not None:
            shown.bag = composite
            shown.function = choose_function(self.function, composite.available,
                                             self.presets)
        self._store(entry)
        self._advance_session()

    def _discard_plan(self, entry: QueueEntry, reason: str) -> None:
        """``entry`` leaves the station: if it was planned, the plan is discarded in the
        log (the session ignores a plan it has received)."""
        plan: TipPlan | None = entry.extra.pop("plan", None)
        entry.extra.pop("composite", None)
        entry.extra.pop("tip_images", None)
        if plan is not None:
            self._send_discard(plan, reason)

    def _send_discard(self, plan: TipPlan, reason: str) -> None:
        """Log ``plan``'s discard on the session thread, after the steps before it (a
        receive already submitted goes first, and the discard is then ignored)."""
        self.runner.submit("discard",
                           lambda session: session.discard_tip_plan(plan, reason), plan)

    def continue_after_feedback(self) -> None:
        """The screener has read the feedback: after a TIP bag the real bag comes back
        (FTI removed) for a decision of its own; otherwise the next bag."""
        shown = self.on_screen
        if shown is None or shown.feedback is None:
            return
        feedback, shown.feedback = shown.feedback.feedback, None
        if not feedback.rescreen:
            self._finish(shown)
            return
        entry = shown.entry
        real = entry.bag
        assert real is not None
        again = OnScreen(entry, real, shown.incoming,
                         choose_function(self.function, real.available, self.presets),
                         received=True, rescreen=True)
        self.on_screen = again
        self.worker.retire(f"ai:{entry.id}")
        if entry.extra.get("ai_off"):
            entry.ai = AiResult.unavailable(self._detector_name(), AI_OFF_REASON)
        else:
            entry.ai = None
            self._submit_ai(entry, real, urgent=True)
        self._present(again, entry.extra.pop("images", ()))

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

    def _finish(self, shown: OnScreen) -> None:
        """The bag is decided for good: off the screen, the next one on."""
        entry = shown.entry
        self.queue.set_status(entry, EntryStatus.DECIDED)
        self.worker.retire(f"ai:{entry.id}")
        self._leave_screen()
        if self.belt_stopped_by_timer:
            self.set_belt(True)
        self._pump()

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
        if shown is None or shown.held:
            return  # a held bag is rendered when it goes on screen
        prepared, function = shown.bag.prepared, shown.function
        adjustments, presets = self._adjustments(function), self.presets

        def job(stale: Callable[[], bool]) -> tuple[Frames, tuple[QImage | None, ...]] | None:
            frames = render_frames(prepared, function, adjustments, presets=presets,
                                   stale=stale)
            if stale():
                return None
            return frames, _images(frames)

        generation = self.worker.submit(RenderWorker.DISPLAY, "render", job,
                                        priority=Priority.URGENT, tag=shown)
        shown.frames_key = (shown.entry.id, shown.look, generation)

    def _rendered(self, done: JobDone) -> None:
        shown = self.on_screen
        if (shown is None or done.tag is not shown or not self.worker.is_current(done)):
            return  # superseded: a newer render is on its way
        if done.error is not None:
            self.message.emit("error", f"Rendering failed: {_say(done.error)}")
            return
        if done.value is None:
            return
        frames, images = done.value
        self.frames_ready.emit(FramesReady(shown.entry.id,
                                           (shown.entry.id, shown.look, done.generation),
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
        if shown.held:  # not on screen yet: no boxes where nothing is shown
            return overlay(self.ai_mode, None, switched_off=False, revealed=False,
                           hidden_by_screener=False)
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
        """Bring the session up to the bag on screen: receive it (with its TIP plan) once
        it is stored, then record its AI result once that is in."""
        shown = self.on_screen
        if shown is None or shown.deciding or not shown.entry.stored:
            return
        if self.tip and shown.plan is None and not shown.received:
            return  # received only with its plan
        ai = shown.entry.ai
        if shown.received and (ai is None or shown.recorded_ai is ai):
            return
        if shown.sync_pending:
            shown.resync = True
            return
        shown.sync_pending = True
        incoming, plan = shown.incoming, shown.plan
        self.runner.submit("sync", lambda session: _sync(session, incoming, ai, plan),
                           (shown, ai))

    def decide(self, decision: Decision, marks: list[Mark], *,
               timed_out: bool = False) -> bool:
        """The screener's decision; False (with a message) when it cannot be taken now.
        ``timed_out``: the decision time's hard limit made it (logged as such)."""
        shown = self.on_screen
        if shown is None:
            self.message.emit("warning", "No bag on screen")
            return False
        if shown.deciding or shown.feedback is not None:
            return False
        ready = not shown.held and (shown.ai_recorded or (
            shown.sync_failed and shown.entry.ai is not None and shown.entry.stored))
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
        incoming, ai, chosen, plan = shown.incoming, shown.entry.ai, tuple(marks), shown.plan

        def step(session: ScreeningSession) -> DecideResult:
            _sync(session, incoming, ai, plan)
            try:
                confirmed = session.decide(decision, chosen, response_ms=response_ms,
                                           timed_out=timed_out)
            except TrialNotLoggedError as exc:  # committed; the session logs the trial next
                return DecideResult(exc.decision, exc.decision.event, session.state, exc)
            return DecideResult(confirmed, confirmed.event, session.state)

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
        elif outcome.tag == "discard":
            if outcome.error is not None:
                self.message.emit("warning", "A TIP plan could not be marked discarded: "
                                  f"{_say(outcome.error)}")
            elif outcome.value is not None:
                self.audit_head.emit(outcome.value)

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
        current = self.on_screen is not None and shown is self.on_screen
        if outcome.error is not None:
            shown.sync_failed = True
            self.message.emit("error", f"Not recorded: {_say(outcome.error)}. Decide when "
                              "the audit log is back; nothing is confirmed until it is.")
            if shown.held and current:  # a TIP bag waits for its receive: try again
                QTimer.singleShot(RETRY_MS, self, self._advance_session)
        else:
            shown.sync_failed = False
            result: SyncResult = outcome.value
            shown.received = result.state is not SessionState.AWAITING_BAG
            if result.state is SessionState.AWAITING_DECISION:
                shown.ai_recorded = True
                shown.recorded_ai = ai
            if result.head is not None:
                self.audit_head.emit(result.head)
            if current and shown.held and shown.received:
                # the plan is logged: the bag (the composite with an FTI) goes on screen
                projected = shown.plan is not None and shown.plan.projected
                self._present(shown, shown.entry.extra.pop(
                    "tip_images" if projected else "images", ()))
            if current:
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
        result: DecideResult = outcome.value
        confirmed = result.confirmed
        trial = confirmed.trial
        if trial is not None and trial.was_tip:  # the decision on the TIP image
            self.stats.record_tip(hit=trial.responded_suspect and trial.region_overlapped)
        else:  # the bag's decision (a bag without TIP, or the real bag after TIP)
            ai = shown.entry.ai
            flagged = ai is not None and bool(ai.detections)
            available = ai is not None and (ai.status is AiStatus.OK
                                            or bool(shown.entry.extra.get("ai_off")))
            self.stats.record(confirmed.decision, confirmed.response_ms, ai_flagged=flagged,
                              ai_available=available)
            shown.entry.decision = confirmed.decision.value
        if result.head is not None:
            self.audit_head.emit(result.head)
        self.decided.emit(confirmed)
        self.stats_changed.emit()
        feedback = confirmed.feedback
        if result.trial_error is not None:
            self.message.emit("error", "The decision is recorded, but not its TIP result: "
                              f"{_say(result.trial_error)}")
            if result.state is SessionState.AWAITING_AI:  # the real bag comes back
                feedback = TipFeedback(FeedbackKind.MISS, "The TIP image will be removed: "
                                       "screen the real bag.")
        if feedback is None:
            self._finish(shown)
            return
        # the bag stays on screen with the feedback until the screener continues
        self.timer.stop()
        self._ai_timeout.stop()
        self._first_look.stop()
        shown.feedback = FeedbackShown(feedback, confirmed.marks)
        self.decidable_changed.emit(False)
        self.message.emit("", "")
        self.tip_feedback.emit(shown.feedback)

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
            entry.extra.pop("storing", None)
            if done.error is not None:
                self._failed(entry, done.error)
            else:
                self._stored(entry)
        elif kind == "render":
            self._rendered(done)
        elif kind == "plan":
            self._planned(done)
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
                # the bags planned ahead (or held for their receive, or being planned when
                # the worker stopped) will not be received: their plans are discarded
                session.discard_tip_plans(f"{reason} before the bag was shown")
                if session.state is SessionState.AWAITING_BAG:
                    session.end(reason)
                elif session.state is not SessionState.NOT_STARTED:
                    session.log.checkpoint(f"{reason} with a bag undecided")
            except ScreenerError:
                pass  # the log is unavailable: nothing more can be recorded now

        self.runner.finish(last)


def _start(session: ScreeningSession) -> EventRecord:
    return session.start()


def _sync(session: ScreeningSession, incoming: IncomingBag, ai: AiResult | None,
          plan: TipPlan | None = None) -> SyncResult:
    """Receive ``incoming`` (with its TIP ``plan``) and record ``ai`` if the session has
    not yet (runs on the session thread; each step is logged before it counts)."""
    head: EventRecord | None = None
    if session.state is SessionState.AWAITING_BAG:
        head = session.receive(incoming, plan)
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
