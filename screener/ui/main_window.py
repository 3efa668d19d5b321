"""The workstation's shell: one window with a place per role view and a status bar.

For now the only view is the screener's; supervisor, trainer, investigator and admin
views join the stack later (``add_view``). The status bar shows the station, the
operator, the AI's state and the head of the audit chain (seq and hash), so that
everyone at the station can see the log is moving.
"""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QStackedWidget, QStatusBar, QWidget

from screener.audit.chain import EventRecord


class MainWindow(QMainWindow):
    """Shell: role views in a stack, status bar below."""

    def __init__(self, station: str, operator: str, role: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"Screener — {station}")
        self.views = QStackedWidget(self)
        self.setCentralWidget(self.views)
        self._by_name: dict[str, QWidget] = {}
        bar = QStatusBar(self)
        bar.setSizeGripEnabled(False)
        self.setStatusBar(bar)
        self.station_label = QLabel(f"Station {station}", self)
        self.operator_label = QLabel(f"Operator {operator} ({role})", self)
        self.ai_label = QLabel("AI: starting", self)
        self.audit_label = QLabel("Audit: \u2013", self)
        self.audit_label.setObjectName("auditHead")
        for label in (self.station_label, self.operator_label, self.ai_label):
            bar.addWidget(label)
        bar.addPermanentWidget(self.audit_label)
        self._on_close: list[object] = []

    def add_view(self, name: str, view: QWidget) -> None:
        self._by_name[name] = view
        self.views.addWidget(view)

    def show_view(self, name: str) -> None:
        self.views.setCurrentWidget(self._by_name[name])

    def view(self, name: str) -> QWidget:
        return self._by_name[name]

    def set_audit_head(self, event: EventRecord | None) -> None:
        if event is None:
            return
        self.audit_label.setText(f"Audit chain seq {event.seq} · {event.hash[:12]}…")
        self.audit_label.setToolTip(f"Head of the audit chain at {event.station}: seq "
                                    f"{event.seq}, hash {event.hash} ({event.kind})")

    def set_ai_status(self, text: str) -> None:
        self.ai_label.setText(text or "AI ready")
        self.ai_label.setStyleSheet("color: #e0a030;" if text else "")

    def on_close(self, callback: object) -> None:
        self._on_close.append(callback)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        for callback in self._on_close:
            if callable(callback):
                callback()
        super().closeEvent(event)
