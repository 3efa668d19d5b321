"""The exact image: a stored scan shown as the screener saw it, with the screener's marks,
the AI's boxes and, on a TIP bag, where the fictional threat image was placed.

The scan comes from the write-once store (its sha256 re-checked) and is drawn on the
screener's own canvas (:class:`~screener.ui.scan_canvas.ScanCanvas`) with the screener's
default function, so marks and AI boxes look as they did at the station. What is drawn
comes from the bag's events, read defensively by the evidence code
(:func:`~screener.audit.evidence.annotate.scan_annotations`): the decision asked about
(or, for another event of the bag, the decision it led to), the AI result that decision
was made with, and, on a TIP bag, the placement the ``tip.projected`` event records.

A TIP bag was shown to the screener as a composite of the bag and the FTI. The store
keeps the real bag only; the FTI's place is framed and labelled instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import Engine

from screener.audit.chain import EventRecord
from screener.audit.evidence.annotate import as_box, scan_annotations
from screener.audit.query import events_for_scan
from screener.imaging.presets import PresetSet, shipped_presets
from screener.imaging.render import PreparedView
from screener.scan.store import ScanStore
from screener.ui.background import BackgroundJobs, Progress
from screener.ui.controller import to_qimage
from screener.ui.jobs import bag_functions, choose_function, prepare_all, render_frames
from screener.ui.scan_canvas import Highlight, ScanCanvas
from screener.ui.widgets import StatusLine, error_text, field_label, panel_title
from screener.workflow.ai import AiDetection
from screener.workflow.decisions import Box
from screener.workflow.session import KIND_AI_RESULT, KIND_DECISION

KIND_TIP_PROJECTED = "tip.projected"
KIND_TIP_OUTCOME = "tip.outcome"
TIP_COLOUR = QColor(255, 69, 58)
DEFAULT_FUNCTION = "standard"  # the screener's default (UiSettings.default_function)


# ---------------------------------------------------------------------- what is drawn
@dataclass(frozen=True)
class TipFrame:
    view: str
    box: tuple[float, float, float, float]
    caption: str


@dataclass
class ScanOverlay:
    """What the events say was on screen for one look at a scan."""

    scan_sha256: str
    decision: EventRecord | None = None
    ai_event: EventRecord | None = None
    tip_event: EventRecord | None = None
    marks: dict[str, list[Box]] = field(default_factory=dict)
    ai: dict[str, list[AiDetection]] = field(default_factory=dict)
    tip: dict[str, list[TipFrame]] = field(default_factory=dict)
    legend: list[str] = field(default_factory=list)  # what is drawn, one line each
    notes: list[str] = field(default_factory=list)  # the scan's events, one line each
    unusable: int = 0  # boxes left out (malformed)

    def views(self) -> set[str]:
        return set(self.marks) | set(self.ai) | set(self.tip)


def _payload(event: EventRecord) -> dict[str, Any]:
    try:
        value = json.loads(event.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _focus_decision(events: Sequence[EventRecord], selected: EventRecord | None
                    ) -> EventRecord | None:  # fmt: skip
    """The decision a selected event is about: itself; else the first decision of the
    same station after it; else the last one before it (or the scan's last decision)."""
    decisions = [e for e in events if e.kind == KIND_DECISION]
    if not decisions:
        return None
    if selected is None:
        return decisions[-1]
    if selected.kind == KIND_DECISION:
        return next((d for d in decisions if (d.station, d.seq) ==
                     (selected.station, selected.seq)), selected)
    same = [d for d in decisions if d.station == selected.station]
    after = [d for d in same if d.seq >= selected.seq]
    if after:
        return after[0]
    return same[-1] if same else decisions[-1]


def _last_before(events: Iterable[EventRecord], kind: str, station: str,
                 seq: int) -> EventRecord | None:
    found = None
    for event in events:
        if event.kind == kind and event.station == station and event.seq < seq:
            found = event
    return found


def _outcome_after(events: Iterable[EventRecord], decision: EventRecord) -> str | None:
    for event in events:
        if event.station != decision.station or event.seq <= decision.seq:
            continue
        if event.kind == KIND_DECISION:
            return None
        if event.kind == KIND_TIP_OUTCOME:
            outcome = _payload(event).get("outcome")
            return str(outcome).replace("_", " ") if outcome is not None else None
    return None


def scan_overlay(events: Iterable[EventRecord], scan_sha256: str,
                 selected: EventRecord | None = None) -> ScanOverlay:
    """The marks, AI boxes and TIP frames to draw for ``selected`` (an event naming the
    scan), from the scan's events (any order; others are ignored)."""
    mine = sorted((e for e in events if e.scan_sha256 == scan_sha256),
                  key=lambda e: (e.time_utc, e.station, e.seq))
    overlay = ScanOverlay(scan_sha256, notes=scan_annotations(mine, scan_sha256).notes)
    decision = _focus_decision(mine, selected)
    overlay.decision = decision
    if decision is not None:
        overlay.ai_event = _last_before(mine, KIND_AI_RESULT, decision.station, decision.seq)
    else:
        overlay.ai_event = next((e for e in reversed(mine) if e.kind == KIND_AI_RESULT), None)
    shown = [e for e in (overlay.ai_event, decision) if e is not None]
    for annotation in scan_annotations(shown, scan_sha256).boxes:
        if annotation.kind == "mark":
            x0, y0, x1, y1 = (round(v) for v in annotation.box)
            overlay.marks.setdefault(annotation.view, []).append((x0, y0, x1, y1))
        elif annotation.kind == "tip":  # a decision that names its TIP boxes itself
            overlay.tip.setdefault(annotation.view, []).append(
                TipFrame(annotation.view, annotation.box, annotation.label))
    if overlay.ai_event is not None:
        _add_ai(overlay, overlay.ai_event)
    _add_tip(overlay, mine, decision, selected)
    _write_legend(overlay)
    return overlay


def _add_ai(overlay: ScanOverlay, event: EventRecord) -> None:
    payload = _payload(event)
    if payload.get("status") != "ok":
        return
    found = payload.get("detections")
    for item in found if isinstance(found, list) else []:
        box = as_box(item.get("box")) if isinstance(item, dict) else None
        if box is None or not isinstance(item, dict):
            overlay.unusable += 1
            continue
        score = item.get("score")
        value = float(score) if isinstance(score, int | float) and \
            not isinstance(score, bool) else 0.0
        view = str(item.get("view", ""))
        overlay.ai.setdefault(view, []).append(AiDetection(
            view, box, str(item.get("label", "?")), str(item.get("category", "other")), value))


def _add_tip(overlay: ScanOverlay, events: Sequence[EventRecord],
             decision: EventRecord | None, selected: EventRecord | None) -> None:
    """The FTI's placement from ``tip.projected``, when the screener was shown it: the
    decision's payload says ``tip.projected``; without a decision, when the projection
    itself is selected."""
    tip_event: EventRecord | None = None
    outcome: str | None = None
    if decision is not None:
        tip = _payload(decision).get("tip")
        if isinstance(tip, dict) and tip.get("projected"):
            tip_event = _last_before(events, KIND_TIP_PROJECTED, decision.station,
                                     decision.seq)
            outcome = _outcome_after(events, decision)
    elif selected is not None and selected.kind == KIND_TIP_PROJECTED:
        tip_event = selected
    if tip_event is None:
        return
    overlay.tip_event = tip_event
    payload = _payload(tip_event)
    fti = str(payload.get("fti_id", "?"))
    category = payload.get("category")
    caption = f"TIP {fti}" + (f" ({category})" if category else "") + \
        (f": {outcome.upper()}" if outcome else "")
    projections = payload.get("projections")
    for item in projections if isinstance(projections, list) else []:
        box = as_box(item.get("box")) if isinstance(item, dict) else None
        if box is None or not isinstance(item, dict):
            overlay.unusable += 1
            continue
        view = str(item.get("view", ""))
        overlay.tip.setdefault(view, []).append(TipFrame(view, box, caption))


def _write_legend(overlay: ScanOverlay) -> None:
    decision = overlay.decision
    if decision is None:
        overlay.legend.append("No screening decision names this scan.")
    else:
        payload = _payload(decision)
        marks = sum(len(v) for v in overlay.marks.values())
        answer = str(payload.get("decision", "?")).upper()
        ms = payload.get("response_ms")
        timing = f" after {ms / 1000:.1f} s" if isinstance(ms, int | float) and \
            not isinstance(ms, bool) else ""
        rescreen = " (re-screen of the real bag)" if payload.get("rescreen") else ""
        overlay.legend.append(
            f"Decision {answer}{rescreen} by {decision.actor}{timing} — {decision.station}"
            f"#{decision.seq}, {decision.time_utc[:19].replace('T', ' ')} UTC; "
            f"{marks} mark(s), cyan dashed")
    ai = overlay.ai_event
    if ai is None:
        overlay.legend.append("No AI result for this look.")
    else:
        payload = _payload(ai)
        if payload.get("status") == "ok":
            count = sum(len(v) for v in overlay.ai.values())
            overlay.legend.append(f"AI: {count} box(es) from {payload.get('detector')} — "
                                  f"{ai.station}#{ai.seq}, coloured by category")
        else:
            overlay.legend.append(f"AI unavailable: {payload.get('reason', 'no reason given')}"
                                  f" — {ai.station}#{ai.seq}")
    if overlay.tip_event is not None:
        frames = [f for v in overlay.tip.values() for f in v]
        caption = frames[0].caption if frames else "TIP"
        overlay.legend.append(
            f"{caption} — {overlay.tip_event.station}#{overlay.tip_event.seq}: the screener "
            "saw this FTI composed into the bag; the store keeps the real bag, so its "
            "place is framed in red")
    elif overlay.tip:
        overlay.legend.append("TIP image place framed in red (from the decision)")
    if overlay.unusable:
        overlay.legend.append(f"{overlay.unusable} box(es) in the events were malformed and "
                              "are not drawn")


# ---------------------------------------------------------------------- loading
@dataclass(frozen=True, eq=False)
class ExactImage:
    """A scan ready for the panel (made on the worker)."""

    overlay: ScanOverlay
    bag_id: str = ""
    view_names: tuple[str, ...] = ()
    shapes: tuple[tuple[int, int], ...] = ()
    prepared: tuple[PreparedView, ...] = ()
    available: dict[str, str | None] = field(default_factory=dict)
    function: str = DEFAULT_FUNCTION
    images: tuple[QImage | None, ...] = ()
    reasons: tuple[str | None, ...] = ()
    missing: str | None = None  # why the image cannot be shown


def load_exact_image(engine: Engine, store: ScanStore, scan_sha256: str,
                     selected: EventRecord | None, *, function: str = DEFAULT_FUNCTION,
                     presets: PresetSet | None = None) -> ExactImage:
    """Read the scan's events and the stored scan, and render it (worker thread)."""
    book = presets or shipped_presets()
    overlay = scan_overlay(events_for_scan(engine, scan_sha256), scan_sha256, selected)
    if not store.path_for(scan_sha256).is_file():
        return ExactImage(overlay, missing="The scan file is no longer stored (deleted by "
                          "retention?): its events are kept, the image is not.")
    scan = store.open(scan_sha256)  # re-checks the sha256
    prepared = prepare_all(scan)
    available = bag_functions(prepared, book)
    return render_exact(ExactImage(overlay, scan.metadata.bag_id,
                                   tuple(v.name for v in scan.views),
                                   tuple(v.shape for v in prepared), prepared, available),
                        function, book)


def render_exact(image: ExactImage, function: str, presets: PresetSet | None = None
                 ) -> ExactImage:  # fmt: skip
    book = presets or shipped_presets()
    chosen = choose_function(function, image.available, book)
    frames = render_frames(image.prepared, chosen, None, presets=book)
    return ExactImage(image.overlay, image.bag_id, image.view_names, image.shapes,
                      image.prepared, image.available, chosen,
                      tuple(None if f is None else to_qimage(f) for f in frames.images),
                      frames.reasons)


# ---------------------------------------------------------------------- the panel
class ExactImagePanel(QWidget):
    """The selected event's scan, with what the screener and the AI marked."""

    shown = Signal(object)  # ExactImage, once on screen

    def __init__(self, engine: Engine, store: ScanStore, tasks: BackgroundJobs,
                 presets: PresetSet | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tabPage")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.engine = engine
        self.store = store
        self.tasks = tasks
        self.presets = presets or shipped_presets()
        self.canvases: list[ScanCanvas] = []
        self.current: ExactImage | None = None
        self._generation = 0
        self._build()

    def _build(self) -> None:
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 8, 8, 8)
        column.setSpacing(6)
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(panel_title("Exact image", self))
        self.title = QLabel("No scan selected", self)
        self.title.setObjectName("valueLabel")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.title, 1)
        self.function = QComboBox(self)
        self.function.setObjectName("function")
        self.function.setAccessibleName("Enhancement function")
        for name in self.presets.names:
            self.function.addItem(self.presets.get(name).label, name)
        self.function.setCurrentIndex(max(0, self.function.findData(DEFAULT_FUNCTION)))
        self.function.setToolTip("The enhancement function (the screener's default is "
                                 "Colour; the screener may have switched during the look)")
        top.addWidget(field_label("Functio&n", self.function, self))
        top.addWidget(self.function)
        self.zoom_buttons: dict[str, QToolButton] = {}
        for name, text, keys, tip in (("zoom_out", "\u2212", "Ctrl+-", "Zoom out"),
                                      ("zoom_in", "+", "Ctrl+=", "Zoom in"),
                                      ("fit", "Fit", "Ctrl+0", "Fit the views")):
            button = QToolButton(self)
            button.setText(text)
            button.setObjectName(name)
            button.setToolTip(f"{tip} ({keys})")
            button.clicked.connect(lambda _=False, n=name: self._zoom(n))
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda n=name: self._zoom(n))
            top.addWidget(button)
            self.zoom_buttons[name] = button
        column.addLayout(top)
        self.views = QSplitter(Qt.Orientation.Vertical, self)  # views are wide: stacked
        self.views.setChildrenCollapsible(False)
        self.views.setHandleWidth(4)
        column.addWidget(self.views, 1)
        self.legend = QLabel(self)
        self.legend.setObjectName("valueLabel")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.PlainText)
        self.legend.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.legend)
        self.status = StatusLine(self)
        self.status.say("Select an event that names a scan (a decision, an AI result…) to "
                        "see the image the screener saw.")
        column.addWidget(self.status)
        self.function.currentIndexChanged.connect(self._function_changed)

    # ------------------------------------------------------------------ showing
    def show_event(self, event: EventRecord | None) -> None:
        """Show the scan ``event`` names (nothing when it names none)."""
        self._generation += 1
        generation = self._generation
        if event is None or event.scan_sha256 is None:
            self._clear("No scan selected",
                        "This event names no scan." if event is not None else
                        "Select an event that names a scan to see the image the screener "
                        "saw.")
            return
        digest = event.scan_sha256
        engine, store, presets = self.engine, self.store, self.presets
        function = str(self.function.currentData() or DEFAULT_FUNCTION)
        shown = self.current
        if shown is not None and shown.overlay.scan_sha256 == digest:
            # the same scan, another of its events: only what is drawn changes
            def redraw(_progress: Progress) -> ExactImage | None:
                return replace(shown, overlay=scan_overlay(
                    events_for_scan(engine, digest), digest, event))

            self.tasks.submit("image.overlay", redraw,
                              lambda image: self._loaded(generation, image, refit=False),
                              failed=lambda error: self._failed(generation, digest, error))
            return
        self.status.say(f"Loading scan {digest[:12]}… from the store", "busy")

        def work(_progress: Progress) -> ExactImage | None:
            if generation != self._generation:  # already superseded: skip the work
                return None
            return load_exact_image(engine, store, digest, event, function=function,
                                    presets=presets)

        self.tasks.submit("image", work, lambda image: self._loaded(generation, image),
                          failed=lambda error: self._failed(generation, digest, error))

    def _function_changed(self) -> None:
        image = self.current
        if image is None or not image.prepared:
            return
        self._generation += 1
        generation = self._generation
        function = str(self.function.currentData() or DEFAULT_FUNCTION)
        presets = self.presets

        def work(_progress: Progress) -> ExactImage:
            return render_exact(image, function, presets)

        self.tasks.submit("image.render", work,
                          lambda done: self._loaded(generation, done, refit=False),
                          failed=lambda error: self._failed(generation,
                                                            image.overlay.scan_sha256, error))

    def _loaded(self, generation: int, image: ExactImage | None, refit: bool = True) -> None:
        if generation != self._generation or image is None:
            return
        self.current = image
        overlay = image.overlay
        digest = overlay.scan_sha256
        self.title.setText(f"{image.bag_id or 'scan'} · {digest[:16]}…")
        self.title.setToolTip(f"scan sha256 {digest}")
        self.legend.setText("\n".join(overlay.legend))
        self.legend.setToolTip("Events of this scan:\n" + "\n".join(overlay.notes))
        if image.missing is not None:
            self._set_canvases(0)
            self.status.say(image.missing, "warning")
            self.shown.emit(image)
            return
        index = self.function.findData(image.function)
        if index >= 0 and index != self.function.currentIndex():
            self.function.blockSignals(True)
            self.function.setCurrentIndex(index)
            self.function.blockSignals(False)
        self._set_canvases(len(image.view_names))
        for canvas, name, shape, qimage, reason in zip(
                self.canvases, image.view_names, image.shapes, image.images, image.reasons,
                strict=True):
            if refit or canvas.view_name != name:
                canvas.set_view(name, *shape)
            canvas.set_image(qimage, (digest, image.function, name), reason)
            canvas.set_boxes(tuple(overlay.ai.get(name, ())))
            canvas.marks = list(overlay.marks.get(name, ()))
            canvas.set_highlights(tuple(Highlight(f.box, f.caption, TIP_COLOUR)
                                        for f in overlay.tip.get(name, ())))
        strays = sorted(overlay.views() - set(image.view_names))
        label = self.function.currentText()
        if strays:
            self.status.say(f"{label} · events name views this scan does not have: "
                            f"{', '.join(strays)}", "warning")
        else:
            self.status.say(f"{label} · {len(image.view_names)} view(s) · scan read from "
                            "the store, sha256 checked", "ok")
        self.shown.emit(image)

    def _failed(self, generation: int, digest: str, error: BaseException) -> None:
        if generation != self._generation:
            return
        self._clear(f"scan {digest[:16]}…", f"Cannot show the scan: {error_text(error)}",
                    "error")

    def _clear(self, title: str, message: str, level: str = "info") -> None:
        self.current = None
        self.title.setText(title)
        self.legend.clear()
        self._set_canvases(0)
        self.status.say(message, level)

    def _set_canvases(self, count: int) -> None:
        while len(self.canvases) < count:
            canvas = ScanCanvas(len(self.canvases), self.views)
            canvas.marking_enabled = False
            canvas.setMinimumSize(120, 90)
            self.views.addWidget(canvas)
            self.canvases.append(canvas)
        for index, canvas in enumerate(self.canvases):
            canvas.setVisible(index < count)
            if index >= count:
                canvas.set_view("", 0, 0)

    def _zoom(self, name: str) -> None:
        for canvas in self.canvases:
            if canvas.isVisible():
                {"zoom_in": canvas.zoom_in, "zoom_out": canvas.zoom_out,
                 "fit": canvas.fit}[name]()

    def visible_canvases(self) -> list[ScanCanvas]:
        return [c for c in self.canvases if c.isVisible()]
