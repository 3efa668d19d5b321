"""The report's matplotlib charts on screen.

The supervisor view draws the very figures of the report files
(:mod:`screener.tip.report_charts`, Agg canvas, no pyplot) on a worker thread with
:func:`figure_image`, and :class:`ChartWidget` shows the image scaled to fit, on a white
card like the printed page. QtCharts is not part of PySide6-Essentials, and reusing the
report's figures keeps the screen and the PDF the same.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from screener.ui.theme import BORDER, MUTED

CARD = QColor("#f4f5f7")
CARD_BORDER = QColor(BORDER)
PLACEHOLDER = QColor(MUTED)
SCREEN_DPI = 96


def fitting_dpi(figure: Figure, width: int, height: int) -> float:
    """The resolution at which ``figure`` fills ``width`` x ``height`` pixels (aspect
    kept), so that the screen shows it unscaled: text stays sharp."""
    inches_wide, inches_high = figure.get_size_inches()
    dpi = min(width / inches_wide, height / inches_high)
    return float(min(max(dpi, 40.0), 220.0))


def figure_image(figure: Figure, dpi: float = SCREEN_DPI) -> QImage:
    """Draw ``figure`` with the Agg canvas into a QImage (safe on a worker thread)."""
    canvas = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) \
        else FigureCanvasAgg(figure)
    figure.set_dpi(dpi)
    canvas.draw()  # type: ignore[no-untyped-call]
    buffer = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    rgba = np.ascontiguousarray(np.asarray(buffer))
    rows, cols = rgba.shape[:2]
    image = QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888)
    return image.copy()  # own the pixels: the buffer goes with the figure


class ChartWidget(QWidget):
    """One chart image, scaled to the widget with its aspect kept, or a line of text
    (drawing, no data, an error)."""

    resized = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chartWidget")
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._image: QImage | None = None
        self._text = ""
        self.name = ""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        return QSize(640, 520)

    @property
    def image(self) -> QImage | None:
        return self._image

    @property
    def text(self) -> str:
        return self._text

    def set_image(self, image: QImage | None, name: str = "") -> None:
        self._image = image
        self._text = ""
        self.name = name
        self.setAccessibleName(f"chart {name}" if name else "chart")
        self.update()

    def set_text(self, text: str) -> None:
        """Show ``text`` instead of a chart (the last chart is dropped)."""
        self._image = None
        self._text = text
        self.update()

    def pixel_size(self) -> QSize:
        """The drawing area in device pixels: the size to draw a chart at."""
        ratio = self.devicePixelRatioF()
        return QSize(max(1, round((self.width() - 12) * ratio)),
                     max(1, round((self.height() - 12) * ratio)))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.resized.emit()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        if self._image is None:
            painter.setPen(QPen(CARD_BORDER, 1, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(frame, 6, 6)
            painter.setPen(PLACEHOLDER)
            painter.drawText(frame.adjusted(16, 16, -16, -16),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._text)
            painter.end()
            return
        area = frame.adjusted(6, 6, -6, -6)
        size = QSize(self._image.width(), self._image.height()).scaled(
            area.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRectF(area.x() + (area.width() - size.width()) / 2,
                        area.y() + (area.height() - size.height()) / 2,
                        size.width(), size.height())
        card = target.adjusted(-6, -6, 6, 6)
        painter.setPen(QPen(CARD_BORDER, 1))
        painter.setBrush(CARD)
        painter.drawRoundedRect(card, 6, 6)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        painter.drawImage(target, self._image)
        painter.end()
