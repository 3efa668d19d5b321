"""A bag's views side by side, one :class:`~screener.ui.scan_canvas.ScanCanvas` each, as
the screener's screen and a blind test show them, and what the view keys do to them:
zoom, marks, the view that has the focus.

Canvases are made as a bag needs them and kept: a bag with fewer views hides the rest.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QWidget

from screener.ui.scan_canvas import ScanCanvas
from screener.workflow.decisions import Mark


class ScanViews(QSplitter):
    """The canvases of a bag's views; :attr:`canvases` holds the hidden ones too."""

    marks_changed = Signal()  # on any canvas
    painted = Signal(object)  # Painted, of any canvas

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.setObjectName("views")
        self.setChildrenCollapsible(False)
        self.setHandleWidth(4)
        self.canvases: list[ScanCanvas] = []

    def show_views(self, count: int) -> None:
        """Show ``count`` canvases (made as needed), hide the others."""
        while len(self.canvases) < count:
            canvas = ScanCanvas(len(self.canvases), self)
            canvas.painted.connect(self.painted)
            canvas.marks_changed.connect(self.marks_changed)
            self.addWidget(canvas)
            self.canvases.append(canvas)
        for index, canvas in enumerate(self.canvases):
            canvas.setVisible(index < count)

    def visible(self) -> list[ScanCanvas]:
        return [c for c in self.canvases if not c.isHidden()]

    def active(self) -> ScanCanvas | None:
        """The shown canvas that has the focus, else the first one shown."""
        visible = self.visible()
        for canvas in visible:
            if canvas.hasFocus():
                return canvas
        return visible[0] if visible else None

    def marks(self) -> list[Mark]:
        return [Mark(canvas.view_name, box) for canvas in self.visible()
                for box in canvas.marks]

    def undo_mark(self) -> None:
        """Remove the last mark of the active view, else of the last view with marks."""
        canvas = self.active()
        if canvas is not None and canvas.marks:
            canvas.undo_mark()
            return
        for other in reversed(self.visible()):
            if other.marks:
                other.undo_mark()
                return

    def clear_marks(self) -> None:
        for canvas in self.visible():
            canvas.clear_marks()

    def zoom_in(self) -> None:
        for canvas in self.visible():
            canvas.zoom_in()

    def zoom_out(self) -> None:
        for canvas in self.visible():
            canvas.zoom_out()

    def fit(self) -> None:
        for canvas in self.visible():
            canvas.fit()
