"""One scan view on screen: smooth zoom and pan, a magnifier, the AI's boxes, the
screener's marks and framed feedback regions.

Coordinates: the image is addressed as in the scan format, ``x`` = column and ``y`` = row
as pixel corners, so a box ``(x0, y0, x1, y1)`` is what ``Mark`` and ``AiDetection``
carry. The canvas keeps a ``scale`` (screen pixels per image pixel) and the image point
at the widget's centre; "fit" recomputes both when the widget resizes.

Mouse: wheel zooms about the pointer; left-drag marks a region; right- or middle-drag
pans; double-click fits. Keyboard (when the view has focus): arrow keys pan; the screen's
shortcuts zoom, fit, toggle the magnifier and mark the centre of the view.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from PySide6.QtCore import (
    QEasingCurve,
    QPointF,
    QRectF,
    QSize,
    Qt,
    QVariantAnimation,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from screener.workflow.ai import AiDetection
from screener.workflow.decisions import Box

BACKGROUND = QColor(14, 16, 19)
MARK_COLOUR = QColor(61, 214, 245)
FOCUS_COLOUR = QColor(90, 150, 230)
#: AI box colour per category (threat categories of the shipped models)
CATEGORY_COLOURS = {
    "gun": QColor(255, 59, 48),
    "knife": QColor(255, 149, 0),
    "ied": QColor(255, 45, 146),
    "other": QColor(255, 214, 10),
    "benign": QColor(142, 142, 147),
}
MIN_SCALE_FACTOR = 0.5  #: of the fit scale
MAX_SCALE = 16.0  #: screen pixels per image pixel
ZOOM_STEP = 1.25
LOUPE_RADIUS = 110
LOUPE_ZOOM = 3.0
_MIN_MARK_PX = 4


@dataclass(frozen=True)
class Highlight:
    """A framed region with a caption (TIP feedback, a colleague's mark)."""

    box: tuple[float, float, float, float]
    caption: str
    colour: QColor


@dataclass(frozen=True)
class Painted:
    """What one paint showed: the frame's key and whether AI boxes were drawn."""

    view: int
    key: object
    boxes: int
    overlay: int  #: the overlay serial the screen gave with the boxes
    at: float  #: time.perf_counter()


class ScanCanvas(QWidget):
    """One view of the bag on screen."""

    marks_changed = Signal()
    painted = Signal(object)  # Painted
    activated = Signal(int)  # this view got focus

    def __init__(self, index: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.index = index
        self.setObjectName(f"scanCanvas{index}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.view_name = ""
        self._image: QImage | None = None
        self._image_key: object = None
        self._reason: str | None = None
        self._rows = 0
        self._cols = 0
        self._scale = 1.0
        self._centre = QPointF(0.0, 0.0)
        self._fit = True
        self._boxes: tuple[AiDetection, ...] = ()
        self._overlay = 0
        self._highlights: tuple[Highlight, ...] = ()
        self.marks: list[Box] = []
        self.marking_enabled = True
        self._drag_start: QPointF | None = None
        self._drag_now: QPointF | None = None
        self._pan_from: QPointF | None = None
        self._pointer: QPointF | None = None
        self.magnifier = False
        self._anim = QVariantAnimation(self)
        self._anim.setDuration(140)
        self._anim.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._anim.valueChanged.connect(self._animate)
        self._anim_from = (1.0, QPointF())
        self._anim_to = (1.0, QPointF())

    # ------------------------------------------------------------------ content
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(800, 600)

    def set_view(self, name: str, rows: int, cols: int) -> None:
        """A new bag's view: forget the last one's image, boxes, marks and zoom."""
        self.view_name = name
        self._rows, self._cols = rows, cols
        self._image = None
        self._image_key = None
        self._reason = None
        self._boxes = ()
        self._highlights = ()
        self.marks = []
        self._anim.stop()
        self._fit = True
        self._refit()
        self.marks_changed.emit()
        self.update()

    def set_image(self, image: QImage | None, key: object, reason: str | None = None) -> None:
        """Show ``image`` (or ``reason`` why the view cannot show this function)."""
        self._image = image
        self._image_key = key
        self._reason = reason
        self.update()

    @property
    def image_key(self) -> object:
        return self._image_key

    def set_boxes(self, boxes: tuple[AiDetection, ...], overlay: int = 0) -> None:
        """Draw the AI's ``boxes``; ``overlay`` is the screen's serial of this overlay,
        reported back with each paint."""
        self._boxes = boxes
        self._overlay = overlay
        self.update()

    @property
    def boxes(self) -> tuple[AiDetection, ...]:
        return self._boxes

    def set_highlights(self, highlights: tuple[Highlight, ...]) -> None:
        self._highlights = highlights
        self.update()

    # ------------------------------------------------------------------ geometry
    @property
    def scale(self) -> float:
        return self._scale

    def fit_scale(self) -> float:
        if not self._rows or not self._cols or self.width() < 2 or self.height() < 2:
            return 1.0
        return min((self.width() - 8) / self._cols, (self.height() - 8) / self._rows)

    def to_image(self, point: QPointF) -> QPointF:
        centre = QPointF(self.width() / 2, self.height() / 2)
        return self._centre + (point - centre) / self._scale

    def to_screen(self, point: QPointF) -> QPointF:
        centre = QPointF(self.width() / 2, self.height() / 2)
        return centre + (point - self._centre) * self._scale

    def image_rect(self) -> QRectF:
        top_left = self.to_screen(QPointF(0, 0))
        return QRectF(top_left.x(), top_left.y(), self._cols * self._scale,
                      self._rows * self._scale)

    def _refit(self) -> None:
        if self._fit:
            self._scale = self.fit_scale()
            self._centre = QPointF(self._cols / 2, self._rows / 2)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        self._refit()
        super().resizeEvent(event)

    def fit(self) -> None:
        self._fit = True
        self._animate_to(self.fit_scale(), QPointF(self._cols / 2, self._rows / 2))

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping the image point under ``anchor`` (widget
        coordinates; default the centre) where it is."""
        if not self._rows:
            return
        target_scale, target_centre = self._anim_to if self._anim.state() == \
            QVariantAnimation.State.Running else (self._scale, self._centre)
        low = self.fit_scale() * MIN_SCALE_FACTOR
        new_scale = min(MAX_SCALE, max(low, target_scale * factor))
        if anchor is None:
            anchor = QPointF(self.width() / 2, self.height() / 2)
        offset = anchor - QPointF(self.width() / 2, self.height() / 2)
        image_point = target_centre + offset / target_scale
        new_centre = image_point - offset / new_scale
        self._fit = False
        self._animate_to(new_scale, new_centre)

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the view by (dx, dy) screen pixels."""
        self._anim.stop()
        self._fit = False
        self._centre = self._clamped(self._centre - QPointF(dx, dy) / self._scale)
        self.update()

    def _clamped(self, centre: QPointF) -> QPointF:
        return QPointF(min(max(centre.x(), 0.0), float(self._cols)),
                       min(max(centre.y(), 0.0), float(self._rows)))

    def _animate_to(self, scale: float, centre: QPointF) -> None:
        centre = self._clamped(centre)
        self._anim.stop()
        self._anim_from = (self._scale, QPointF(self._centre))
        self._anim_to = (scale, centre)
        self._anim.setStartValue(0.0)
        self._anim.setEndValue(1.0)
        self._anim.start()

    def _animate(self, value: object) -> None:
        t = float(value)  # type: ignore[arg-type]
        (s0, c0), (s1, c1) = self._anim_from, self._anim_to
        # interpolate the scale geometrically: a zoom feels even at every level
        self._scale = s0 * math.pow(s1 / s0, t) if s0 > 0 else s1
        self._centre = c0 + (c1 - c0) * t
        self.update()

    def settle(self) -> None:
        """Finish a running zoom animation at once (tests, benchmarks)."""
        if self._anim.state() == QVariantAnimation.State.Running:
            self._anim.stop()
            self._animate(1.0)

    # ------------------------------------------------------------------ marks
    def add_mark(self, box: Box) -> None:
        self.marks.append(box)
        self.marks_changed.emit()
        self.update()

    def mark_centre(self) -> Box | None:
        """Mark the middle third of what the view shows (keyboard marking: zoom and pan
        onto the object, then mark)."""
        if not self._rows:
            return None
        a = self.to_image(QPointF(self.width() / 3, self.height() / 3))
        b = self.to_image(QPointF(2 * self.width() / 3, 2 * self.height() / 3))
        box = self._box(a, b)
        if box is not None:
            self.add_mark(box)
        return box

    def undo_mark(self) -> None:
        if self.marks:
            self.marks.pop()
            self.marks_changed.emit()
            self.update()

    def clear_marks(self) -> None:
        if self.marks:
            self.marks.clear()
            self.marks_changed.emit()
            self.update()

    def _box(self, a: QPointF, b: QPointF) -> Box | None:
        """The image box spanned by two image points, clipped to the view, whole pixels
        covering the region; None if nothing of it lies inside."""
        x0 = max(0, math.floor(min(a.x(), b.x())))
        y0 = max(0, math.floor(min(a.y(), b.y())))
        x1 = min(self._cols, math.ceil(max(a.x(), b.x())))
        y1 = min(self._rows, math.ceil(max(a.y(), b.y())))
        if x1 <= x0 or y1 <= y0:
            return None
        return (x0, y0, x1, y1)

    # ------------------------------------------------------------------ input
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_by(ZOOM_STEP ** steps, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        if event.button() == Qt.MouseButton.LeftButton and self.marking_enabled:
            self._drag_start = event.position()
            self._drag_now = event.position()
        elif event.button() in (Qt.MouseButton.RightButton, Qt.MouseButton.MiddleButton):
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._pointer = event.position()
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan_by(delta.x(), delta.y())
        elif self._drag_start is not None:
            self._drag_now = event.position()
            self.update()
        elif self.magnifier:
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._drag_start is not None and event.button() == Qt.MouseButton.LeftButton:
            start, end = self._drag_start, event.position()
            self._drag_start = self._drag_now = None
            if (abs(end.x() - start.x()) >= _MIN_MARK_PX
                    and abs(end.y() - start.y()) >= _MIN_MARK_PX):
                box = self._box(self.to_image(start), self.to_image(end))
                if box is not None:
                    self.add_mark(box)
            self.update()
        if self._pan_from is not None:
            self._pan_from = None
            self.unsetCursor()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self.fit()
        event.accept()

    def leaveEvent(self, event: object) -> None:  # noqa: N802
        self._pointer = None
        if self.magnifier:
            self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        step = 0.1 * min(self.width(), self.height())
        moves = {Qt.Key.Key_Left: (step, 0.0), Qt.Key.Key_Right: (-step, 0.0),
                 Qt.Key.Key_Up: (0.0, step), Qt.Key.Key_Down: (0.0, -step)}
        move = moves.get(Qt.Key(event.key()))
        if move is not None:
            self.pan_by(*move)
            event.accept()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        self.activated.emit(self.index)
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802
        self.update()
        super().focusOutEvent(event)

    def set_magnifier(self, on: bool) -> None:
        self.magnifier = on
        self.update()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        target = self.image_rect()
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self._scale < 2)
            painter.drawImage(target, self._image)
        elif self._reason:
            self._centred_text(painter, self._reason, QColor(230, 180, 80))
        elif self._rows:
            self._centred_text(painter, "Rendering…", QColor(150, 155, 160))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_highlights(painter)
        self._paint_boxes(painter)
        self._paint_marks(painter)
        self._paint_drag(painter)
        if self.magnifier and self._image is not None:
            self._paint_loupe(painter)
        self._paint_label(painter)
        if self.hasFocus():
            painter.setPen(QPen(FOCUS_COLOUR, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        painter.end()
        if self._image is not None:
            self.painted.emit(Painted(self.index, self._image_key, len(self._boxes),
                                      self._overlay, time.perf_counter()))

    def _screen_box(self, box: tuple[float, float, float, float]) -> QRectF:
        a = self.to_screen(QPointF(box[0], box[1]))
        b = self.to_screen(QPointF(box[2], box[3]))
        return QRectF(a, b).normalized()

    def _tag(self, painter: QPainter, at: QPointF, text: str, colour: QColor) -> None:
        metrics = painter.fontMetrics()
        width = metrics.horizontalAdvance(text) + 8
        rect = QRectF(at.x(), at.y() - metrics.height() - 2, width, metrics.height() + 2)
        if rect.top() < 0:
            rect.moveTop(at.y())
        painter.fillRect(rect, colour)
        painter.setPen(QColor(0, 0, 0) if colour.lightness() > 120 else QColor(255, 255, 255))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_boxes(self, painter: QPainter) -> None:
        if not self._boxes:
            return
        painter.save()
        font = QFont(painter.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
        painter.setFont(font)
        for detection in self._boxes:
            colour = CATEGORY_COLOURS.get(detection.category, CATEGORY_COLOURS["other"])
            rect = self._screen_box(detection.box)
            painter.setPen(QPen(colour, 2.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
            self._tag(painter, rect.topLeft(),
                      f"AI {detection.label} {detection.score:.0%}", colour)
        painter.restore()

    def _paint_marks(self, painter: QPainter) -> None:
        pen = QPen(MARK_COLOUR, 2, Qt.PenStyle.DashLine)
        for number, box in enumerate(self.marks, 1):
            rect = self._screen_box(tuple(float(v) for v in box))  # type: ignore[arg-type]
            painter.setPen(pen)
            painter.setBrush(QColor(61, 214, 245, 28))
            painter.drawRect(rect)
            self._tag(painter, rect.bottomLeft() + QPointF(0, 18), f"mark {number}",
                      MARK_COLOUR)

    def _paint_drag(self, painter: QPainter) -> None:
        if self._drag_start is None or self._drag_now is None:
            return
        painter.setPen(QPen(MARK_COLOUR, 1.5, Qt.PenStyle.DashLine))
        painter.setBrush(QColor(61, 214, 245, 40))
        painter.drawRect(QRectF(self._drag_start, self._drag_now).normalized())

    def _paint_highlights(self, painter: QPainter) -> None:
        for highlight in self._highlights:
            rect = self._screen_box(highlight.box).adjusted(-4, -4, 4, 4)
            painter.setPen(QPen(highlight.colour, 4))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(rect)
            if highlight.caption:
                self._tag(painter, rect.topLeft(), highlight.caption, highlight.colour)

    def _paint_loupe(self, painter: QPainter) -> None:
        assert self._image is not None
        at = self._pointer or QPointF(self.width() / 2, self.height() / 2)
        radius = float(LOUPE_RADIUS)
        path = QPainterPath()
        path.addEllipse(at, radius, radius)
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(QRectF(at.x() - radius, at.y() - radius, 2 * radius, 2 * radius),
                         BACKGROUND)
        scale = self._scale * LOUPE_ZOOM
        image_point = self.to_image(at)
        top_left = at - image_point * scale
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 2)
        painter.drawImage(QRectF(top_left.x(), top_left.y(), self._cols * scale,
                                 self._rows * scale), self._image)
        painter.restore()
        painter.setPen(QPen(QColor(230, 230, 230), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawEllipse(at, radius, radius)

    def _paint_label(self, painter: QPainter) -> None:
        if not self.view_name:
            return
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        text = self.view_name.upper()
        if not self._fit and self._rows:
            text += f"  {self._scale / max(self.fit_scale(), 1e-9):.1f}\u00d7"
        self._tag(painter, QPointF(8, 8 + painter.fontMetrics().height() + 2), text,
                  QColor(40, 44, 52))

    def _centred_text(self, painter: QPainter, text: str, colour: QColor) -> None:
        painter.setPen(colour)
        painter.drawText(QRectF(self.rect()).adjusted(24, 24, -24, -24),
                         Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
