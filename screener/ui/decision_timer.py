"""The per-bag decision time.

It starts when the bag is first painted. When it runs out the controller stops the belt
and the screener gets ``extension_s`` more; stopping the belt by hand gives the same
extension once per bag. The timer only keeps time and says so (``tick`` ten times a
second, ``expired`` once); what happens then is the controller's business.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal


class DecisionTimer(QObject):
    """Counts down the time to decide on the bag on screen."""

    tick = Signal(float, float, bool)  # remaining s, total s, extended
    expired = Signal()  # the first time the decision time is up on this bag

    def __init__(self, decision_time_s: float, extension_s: float,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.decision_time_s = decision_time_s
        self.extension_s = extension_s
        self._deadline: float | None = None
        self._extended = False
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._update)

    @property
    def running(self) -> bool:
        return self._deadline is not None

    @property
    def extended(self) -> bool:
        return self._extended

    def remaining(self) -> float:
        return 0.0 if self._deadline is None else self._deadline - time.monotonic()

    def start(self) -> None:
        """A new bag is on screen: the full decision time from now."""
        self._deadline = time.monotonic() + self.decision_time_s
        self._extended = False
        self._timer.start()
        self._update()

    def stop(self) -> None:
        self._deadline = None
        self._timer.stop()

    def extend(self) -> bool:
        """Add the extension once per bag; False if it was already given."""
        if self._deadline is None or self._extended:
            return False
        self._extended = True
        self._deadline += self.extension_s
        self._update()
        return True

    def _update(self) -> None:
        if self._deadline is None:
            return
        remaining = self._deadline - time.monotonic()
        if remaining <= 0 and not self._extended:
            self.expired.emit()  # the controller stops the belt and extends
            remaining = self._deadline - time.monotonic() if self._deadline else 0.0
        total = self.decision_time_s + (self.extension_s if self._extended else 0.0)
        self.tick.emit(remaining, total, self._extended)
