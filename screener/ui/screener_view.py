"""The screen a screener works at: the bag's views side by side, the enhancement
toolbar, the AI overlay, marking, Clear and Suspect, the decision timer, the queue and
the shift's statistics.

Everything is reachable from the keyboard (bindings from the key map, see
:mod:`screener.ui.keymap`); Tab moves between the toolbar, the views and the panels.
The view owns widgets only: :class:`~screener.ui.controller.ScreeningController` decides
what is on screen and talks to the session.

Feedback: :meth:`ScreenerView.show_feedback` frames regions in the views, shows a
message and holds the decision keys until the screener continues (Return). With TIP the
controller's ``tip_feedback`` brings the session's feedback: a hit or a miss frames the
fictional threat (green, red), and on continuing the real bag comes back without it for
a decision of its own; a suspect call on a bag without TIP says "treat it as a real
threat", frames the marked regions and gives the search path.

As a role view (:mod:`screener.ui.role_views`) it offers ``shutdown`` (end the session),
``busy_reason`` (a received bag not decided yet blocks logging out) and
``shortcut_help``.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from screener.ui import shortcuts
from screener.ui.ai_overlay import AiPhase, AiView
from screener.ui.bag_queue import EntryStatus, QueueEntry
from screener.ui.config import AiMode, ViewsLayout
from screener.ui.controller import FeedbackShown, FramesReady, OnScreen, ScreeningController
from screener.ui.enhancement_toolbar import EnhancementToolbar
from screener.ui.keymap import ACTIONS, FUNCTION_PREFIX, KeyMap
from screener.ui.scan_canvas import Highlight, Painted, ScanCanvas
from screener.ui.scan_views import ScanViews
from screener.ui.theme import AMBER, MUTED
from screener.ui.widgets import bar_title, panel_title, restyle, say, side_panel, timer_column
from screener.workflow.decisions import Box, Decision, Mark
from screener.workflow.tip_injection import FeedbackKind

HIT_COLOUR = QColor(48, 209, 88)
MISS_COLOUR = QColor(255, 69, 58)
SEARCH_COLOUR = QColor(255, 179, 64)
#: The feedback banner's colours per kind: background, border
_BANNER = {"hit": ("#10331d", "#30d158"), "miss": ("#3a1414", "#ff453a"),
           "no_tip": ("#3a2a0c", "#ffb340"), "": ("#12324f", "#3d8fe0")}
_FEEDBACK_TITLES = {FeedbackKind.HIT: "TIP — HIT", FeedbackKind.MISS: "TIP — MISS",
                    FeedbackKind.NO_TIP: "NO TIP — REAL THREAT?"}
_STATUS_COLOURS = {
    EntryStatus.ERROR: QColor(255, 128, 128),
    EntryStatus.ON_SCREEN: QColor(120, 180, 255),
    EntryStatus.DECIDED: QColor(120, 128, 136),
}


def _float_box(box: Box) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = box
    return float(x0), float(y0), float(x1), float(y1)


@dataclass(frozen=True)
class ScreenPainted:
    """Every view of the bag has been painted with these frames and this AI overlay."""

    entry_id: int
    key: object
    phase: AiPhase
    boxes: int
    at: float  #: time.perf_counter() of the last view's paint


class ScreenerView(QWidget):
    """The screener's screen."""

    screen_painted = Signal(object)  # ScreenPainted

    def __init__(self, controller: ScreeningController, keymap: KeyMap,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("screenerView")
        self.controller = controller
        self.keymap = keymap
        self._shown: OnScreen | None = None
        self._frames_key: object = None
        self._ai = AiView(AiPhase.NONE, "")
        self._overlay = 0
        self._painted: dict[int, tuple[object, int]] = {}
        self._reported: set[tuple[object, int]] = set()
        self._feedback_done: Callable[[], None] | None = None
        self._build()
        self._connect()
        self.shortcuts = shortcuts.install(self, keymap, self._handlers())
        self.toolbar.refresh_tooltips()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        controller = self.controller
        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)

        self.toolbar = EnhancementToolbar(controller.presets, self.keymap, self)
        outer.addWidget(self.toolbar)

        self.feedback = QFrame(self)
        self.feedback.setObjectName("feedbackBanner")
        feedback_row = QHBoxLayout(self.feedback)
        self.feedback_title = QLabel(self.feedback)
        self.feedback_title.setObjectName("feedbackTitle")
        self.feedback_title.hide()
        self.feedback_text = QLabel(self.feedback)
        self.feedback_text.setObjectName("feedbackText")
        self.feedback_text.setWordWrap(True)
        self.feedback_button = QPushButton(f"Continue ({self.keymap.label('feedback.continue')})",
                                           self.feedback)
        self.feedback_button.setObjectName("continueButton")
        feedback_row.setContentsMargins(12, 8, 12, 8)
        feedback_row.setSpacing(14)
        feedback_row.addWidget(self.feedback_title)
        feedback_row.addWidget(self.feedback_text, 1)
        feedback_row.addWidget(self.feedback_button)
        self._style_feedback("")
        self.feedback.hide()
        outer.addWidget(self.feedback)

        middle = QHBoxLayout()
        middle.setSpacing(6)
        orientation = (Qt.Orientation.Vertical
                       if controller.settings.views_layout is ViewsLayout.STACKED
                       else Qt.Orientation.Horizontal)
        self.views = ScanViews(orientation, self)
        self.canvases = self.views.canvases
        self.views.painted.connect(self._canvas_painted)
        self.views.marks_changed.connect(self._marks_changed)
        self.views.show_views(2)
        middle.addWidget(self.views, 1)
        middle.addWidget(self._side_panel())
        outer.addLayout(middle, 1)
        outer.addWidget(self._decision_bar())

    def _side_panel(self) -> QWidget:
        panel, column = side_panel(self, "VIEW", (8, 8, 8, 8))
        panel.setFixedWidth(250)
        column.setSpacing(6)
        tools_row = QHBoxLayout()
        tools_row.setSpacing(2)
        self.zoom_buttons: dict[str, QToolButton] = {}
        for action, text in (("view.zoom_out", "\u2212"), ("view.zoom_in", "+"),
                             ("view.fit", "Fit"), ("view.magnifier", "Loupe")):
            button = QToolButton(panel)
            button.setText(text)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setToolTip(self._tip(action))
            button.setObjectName(action.replace(".", "-"))
            tools_row.addWidget(button)
            self.zoom_buttons[action] = button
        self.zoom_buttons["view.magnifier"].setCheckable(True)
        column.addLayout(tools_row)
        self.ai_mode_box = QComboBox(panel)
        self.ai_mode_box.setObjectName("aiMode")
        self.ai_mode_box.setAccessibleName("AI overlay mode")
        for mode in AiMode:
            self.ai_mode_box.addItem(mode.label, mode.value)
        self.ai_mode_box.setCurrentIndex(list(AiMode).index(self.controller.ai_mode))
        self.ai_mode_box.setToolTip("When the AI's boxes are shown (applies from the next "
                                    f"bag). {self._tip('ai.reveal')}")
        column.addWidget(self.ai_mode_box)
        column.addWidget(panel_title("BAG QUEUE", panel))
        self.queue_list = QListWidget(panel)
        self.queue_list.setObjectName("queueList")
        self.queue_list.setAccessibleName("Bag queue")
        self.queue_list.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.queue_list.setWordWrap(True)
        self.queue_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        column.addWidget(self.queue_list, 1)
        column.addWidget(panel_title("SHIFT", panel))
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.stat_values: dict[str, QLabel] = {}
        for row, (label, value) in enumerate(self.controller.stats.rows(time.monotonic())):
            name = QLabel(label, panel)
            name.setStyleSheet(f"color: {MUTED};")
            shown = QLabel(value, panel)
            shown.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(name, row, 0)
            grid.addWidget(shown, row, 1)
            self.stat_values[label] = shown
        column.addLayout(grid)
        return panel

    def _decision_bar(self) -> QWidget:
        bar = QFrame(self)
        bar.setObjectName("decisionBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(10, 6, 10, 6)
        row.setSpacing(12)
        info, self.bag_label, self.source_label = bar_title(bar, "No bag")
        row.addLayout(info)
        self.ai_badge = QLabel("", bar)
        self.ai_badge.setObjectName("aiBadge")
        self.ai_badge.setProperty("phase", "none")
        row.addWidget(self.ai_badge)
        self.message_label = QLabel("", bar)
        self.message_label.setObjectName("messageLabel")
        self.message_label.setWordWrap(True)
        row.addWidget(self.message_label, 1)
        timer, self.timer_label, self.timer_bar = timer_column(bar, 180)
        row.addLayout(timer)
        self.belt_label = QLabel("", bar)
        self.belt_label.setToolTip(self._tip("belt.toggle"))
        row.addWidget(self.belt_label)
        self.clear_button = QPushButton(f"CLEAR  ({self.keymap.label('decision.clear')})", bar)
        self.clear_button.setObjectName("clearButton")
        self.clear_button.setToolTip(self._tip("decision.clear"))
        self.suspect_button = QPushButton(
            f"SUSPECT / SEARCH  ({self.keymap.label('decision.suspect')})", bar)
        self.suspect_button.setObjectName("suspectButton")
        self.suspect_button.setToolTip(self._tip("decision.suspect"))
        for button in (self.clear_button, self.suspect_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setEnabled(False)
            row.addWidget(button)
        return bar

    def _tip(self, action: str) -> str:
        keys = self.keymap.keys(action)
        return f"{ACTIONS.get(action, action)}" + (f" ({', '.join(keys)})" if keys else "")

    # ------------------------------------------------------------------ wiring
    def _connect(self) -> None:
        c = self.controller
        c.bag_changed.connect(self._bag_changed)
        c.frames_ready.connect(self._frames_ready)
        c.ai_changed.connect(self._ai_changed)
        c.decidable_changed.connect(self._decidable)
        c.message.connect(self.show_message)
        c.stats_changed.connect(self.refresh_stats)
        c.timer_tick.connect(self._timer_tick)
        c.belt_changed.connect(self._belt_changed)
        c.queue.arrived.connect(self._queue_changed)
        c.queue.changed.connect(self._queue_changed)
        c.tip_feedback.connect(self._tip_feedback)
        self.toolbar.function_chosen.connect(c.choose_function)
        self.toolbar.density_changing.connect(c.set_density)
        self.toolbar.density_finished.connect(c.set_density)
        self.ai_mode_box.currentIndexChanged.connect(
            lambda i: c.set_ai_mode(AiMode(self.ai_mode_box.itemData(i))))
        self.clear_button.clicked.connect(self.clear)
        self.suspect_button.clicked.connect(self.suspect)
        self.feedback_button.clicked.connect(self.continue_after_feedback)
        self.zoom_buttons["view.zoom_in"].clicked.connect(self.views.zoom_in)
        self.zoom_buttons["view.zoom_out"].clicked.connect(self.views.zoom_out)
        self.zoom_buttons["view.fit"].clicked.connect(self.views.fit)
        self.zoom_buttons["view.magnifier"].toggled.connect(self._set_magnifier)
        self._belt_changed(c.belt_running if c.conveyor is not None else True)

    def _handlers(self) -> Mapping[str, Callable[[], None]]:
        handlers: dict[str, Callable[[], None]] = {
            "decision.clear": self.clear,
            "decision.suspect": self.suspect,
            "ai.reveal": self.controller.reveal_ai,
            "ai.toggle": self.controller.toggle_ai,
            "view.zoom_in": self.views.zoom_in,
            "view.zoom_out": self.views.zoom_out,
            "view.fit": self.views.fit,
            "view.magnifier": self.zoom_buttons["view.magnifier"].toggle,
            "view.next": self.focus_next_view,
            "marks.add": self.mark_centre,
            "marks.undo": self.views.undo_mark,
            "marks.clear": self.views.clear_marks,
            "density.up": lambda: self.toolbar.step_density(1),
            "density.down": lambda: self.toolbar.step_density(-1),
            "belt.toggle": self.controller.toggle_belt,
            "feedback.continue": self.continue_after_feedback,
        }
        for name in self.controller.presets.names:
            handlers[FUNCTION_PREFIX + name] = functools.partial(self.toolbar.choose, name)
        return handlers

    # ------------------------------------------------------------------ controller -> screen
    def _visible(self) -> list[ScanCanvas]:
        return self.views.visible()

    def _bag_changed(self, shown: OnScreen | None) -> None:
        self._shown = shown
        self._frames_key = None
        self._painted.clear()
        self._reported.clear()
        if shown is None:
            self.bag_label.setText("No bag")
            self.source_label.setText("")
            self.timer_label.setText("")
            self.timer_bar.setValue(0)
            for canvas in self._visible():
                canvas.set_view("", 0, 0)
            return
        scan = shown.bag.scan
        self.views.show_views(len(scan.views))
        for canvas, view in zip(self.canvases, scan.views, strict=False):
            rows, cols = view.shape
            canvas.set_view(view.name, rows, cols)
        self.toolbar.set_available(shown.bag.available)
        self.toolbar.set_function(shown.function)
        self.bag_label.setText(shown.bag.bag_id)
        kind = scan.metadata.source_kind.value
        self.source_label.setText(f"{shown.entry.source} · {kind} · "
                                  f"{len(scan.views)} view{'s' if len(scan.views) > 1 else ''}")
        focused = self.focusWidget()
        if focused is None or focused in self.canvases or focused is self:
            self.canvases[0].setFocus(Qt.FocusReason.OtherFocusReason)

    def _frames_ready(self, ready: FramesReady) -> None:
        shown = self._shown
        if shown is None or ready.entry_id != shown.entry.id:
            return
        self._frames_key = ready.key
        self.toolbar.set_function(ready.frames.function)
        for canvas, image, reason in zip(self.canvases, ready.images, ready.frames.reasons,
                                         strict=False):
            canvas.set_image(image, ready.key, reason)

    def _ai_changed(self, view: AiView) -> None:
        self._ai = view
        self._overlay += 1
        self.ai_badge.setText(view.text)
        self.ai_badge.setProperty("phase", view.phase.value)
        self.ai_badge.setToolTip(view.text)
        restyle(self.ai_badge)
        for canvas in self._visible():
            canvas.set_boxes(view.boxes.get(canvas.view_name, ()), self._overlay)

    def _canvas_painted(self, painted: Painted) -> None:
        shown = self._shown
        if shown is None or painted.key != self._frames_key:
            return
        self._painted[painted.view] = (painted.key, painted.overlay)
        visible = self._visible()
        if not all(self._painted.get(c.index, (None, -1)) == (self._frames_key, self._overlay)
                   for c in visible):
            return
        mark = (self._frames_key, self._overlay)
        if mark in self._reported:
            return
        self._reported.add(mark)
        self.controller.notify_painted(self._frames_key)
        boxes = sum(len(c.boxes) for c in visible)
        self.screen_painted.emit(ScreenPainted(shown.entry.id, self._frames_key, self._ai.phase,
                                               boxes, painted.at))

    def _decidable(self, ready: bool) -> None:
        held = self.feedback.isVisible()
        self.clear_button.setEnabled(ready and not held)
        self.suspect_button.setEnabled(ready and not held)

    def show_message(self, level: str, text: str) -> None:
        say(self.message_label, level, text)

    def refresh_stats(self) -> None:
        for label, value in self.controller.stats.rows(time.monotonic()):
            widget = self.stat_values.get(label)
            if widget is not None:
                widget.setText(value)

    def _timer_tick(self, remaining: float, total: float, extended: bool) -> None:
        fraction = max(0.0, min(1.0, remaining / total)) if total > 0 else 0.0
        self.timer_bar.setValue(round(fraction * 1000))
        state = "over" if remaining <= 0 else ("late" if extended or fraction < 0.25 else "ok")
        if self.timer_bar.property("state") != state:
            self.timer_bar.setProperty("state", state)
            restyle(self.timer_bar)
        self.timer_label.setText(f"{remaining:.0f} s" if remaining > 0
                                 else f"over by {-remaining:.0f} s")

    def _belt_changed(self, running: bool) -> None:
        if self.controller.conveyor is None:
            self.belt_label.setText("Watch folder")
            return
        self.belt_label.setText("Belt running" if running else "BELT STOPPED")
        self.belt_label.setStyleSheet("" if running else f"color: {AMBER}; font-weight: bold;")

    def _queue_changed(self, _entry: QueueEntry) -> None:
        self.queue_list.clear()
        entries = self.controller.queue.entries
        done = (EntryStatus.DECIDED, EntryStatus.ERROR)
        ordered = ([e for e in entries if e.status is EntryStatus.ON_SCREEN]
                   + [e for e in entries if e.status not in (*done, EntryStatus.ON_SCREEN)]
                   + [e for e in reversed(entries) if e.status in done])
        for entry in ordered:
            item = QListWidgetItem(entry.describe())
            colour = _STATUS_COLOURS.get(entry.status)
            if colour is not None:
                item.setForeground(colour)
            if entry.error:
                item.setToolTip(entry.error)
            self.queue_list.addItem(item)
        self.refresh_stats()

    # ------------------------------------------------------------------ screener's actions
    def marks(self) -> list[Mark]:
        return self.views.marks()

    def clear(self) -> None:
        if not self.feedback.isVisible():
            self.controller.decide(Decision.CLEAR, self.marks())

    def suspect(self) -> None:
        if not self.feedback.isVisible():
            self.controller.decide(Decision.SUSPECT, self.marks())

    def _set_magnifier(self, on: bool) -> None:
        for canvas in self.canvases:
            canvas.set_magnifier(on)

    def focus_next_view(self) -> None:
        visible = self._visible()
        if not visible:
            return
        current = self.views.active()
        index = visible.index(current) if current in visible and current.hasFocus() else -1
        visible[(index + 1) % len(visible)].setFocus(Qt.FocusReason.TabFocusReason)

    def mark_centre(self) -> None:
        canvas = self.views.active()
        if canvas is not None:
            canvas.mark_centre()

    def _marks_changed(self) -> None:
        count = len(self.marks())
        if count:
            self.show_message("", f"{count} region{'s' if count > 1 else ''} marked: "
                              "Suspect sends the bag to search with them")

    # ------------------------------------------------------------------ feedback (TIP)
    def _style_feedback(self, kind: str) -> None:
        background, border = _BANNER.get(kind, _BANNER[""])
        self.feedback.setStyleSheet(
            f"#feedbackBanner {{ background: {background}; border: 2px solid {border}; "
            "border-radius: 4px; } "
            f"#feedbackTitle {{ color: {border}; font-weight: bold; font-size: 12pt; "
            "letter-spacing: 1px; padding-right: 6px; } "
            "#feedbackText { font-size: 12pt; }")

    def _tip_feedback(self, shown: FeedbackShown) -> None:
        """The session's feedback after a decision, as in operations."""
        feedback = shown.feedback
        regions: dict[str, list[Highlight]] = {}
        if feedback.kind is FeedbackKind.NO_TIP:
            for mark in shown.marks:
                regions.setdefault(mark.view, []).append(
                    Highlight(_float_box(mark.box), "search here", SEARCH_COLOUR))
        else:
            colour = HIT_COLOUR if feedback.kind is FeedbackKind.HIT else MISS_COLOUR
            for frame in feedback.frames:
                regions.setdefault(frame.view, []).append(
                    Highlight(_float_box(frame.box), "TIP: fictional threat", colour))
        text = feedback.message
        if feedback.search_path:
            text += "\n" + feedback.search_path
        self.show_feedback(text, regions, on_continue=self.controller.continue_after_feedback,
                           kind=feedback.kind.value,
                           title=_FEEDBACK_TITLES.get(feedback.kind, ""))

    def show_feedback(self, text: str, regions: Mapping[str, list[Highlight]], *,
                      on_continue: Callable[[], None] | None = None, kind: str = "",
                      title: str = "") -> None:
        """Frame ``regions`` (by view name), show ``text`` and hold the decision keys
        until the screener continues (button or key); then call ``on_continue``.
        ``kind`` ("hit", "miss", "no_tip") colours the banner; ``title`` heads it."""
        self._style_feedback(kind)
        self.feedback_title.setText(title)
        self.feedback_title.setVisible(bool(title))
        self.feedback_text.setText(text)
        self._feedback_done = on_continue
        for canvas in self._visible():
            canvas.set_highlights(tuple(regions.get(canvas.view_name, ())))
        self.feedback.show()
        self.clear_button.setEnabled(False)
        self.suspect_button.setEnabled(False)
        self.feedback_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def continue_after_feedback(self) -> None:
        if not self.feedback.isVisible():
            return
        self.feedback.hide()
        for canvas in self.canvases:
            canvas.set_highlights(())
        done, self._feedback_done = self._feedback_done, None
        shown = self.controller.on_screen
        self._decidable(shown is not None and shown.decidable)
        if done is not None:
            done()

    # ------------------------------------------------------------------ as a role view
    def shutdown(self, reason: str) -> None:
        """The operator leaves (log out, application closed): end the session."""
        self.controller.shutdown(reason)

    def busy_reason(self) -> str | None:
        """Why the screener must not log out now: a bag the log has received and that is
        not decided (it must not be left undecided), else None."""
        shown = self.controller.on_screen
        if shown is None:
            return None
        if shown.feedback is not None or shown.rescreen:
            return (f"Screen the real bag {shown.bag.bag_id} first: the TIP image was "
                    "removed and the bag needs a decision of its own")
        if shown.received or shown.sync_pending or shown.deciding:
            return (f"Decide on bag {shown.bag.bag_id} first: the audit log has received "
                    "it, and it must not be left undecided")
        return None

    def shortcut_help(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every key of this screen."""
        rows: list[tuple[str, str]] = []
        labels = {p.name: p.label for p in self.controller.presets.presets}
        for action in self._handlers():
            keys = self.keymap.keys(action)
            if not keys:
                continue
            if action.startswith(FUNCTION_PREFIX):
                name = action[len(FUNCTION_PREFIX):]
                does = f"Enhancement function: {labels.get(name, name)}"
            else:
                does = ACTIONS.get(action, action)
            rows.append((", ".join(keys), does))
        rows.append(("Arrow keys", "Pan the view that has the focus"))
        rows.append(("Tab", "Move between the toolbar, the views and the panels"))
        return rows
