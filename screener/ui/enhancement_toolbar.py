"""The enhancement-function toolbar and the variable-density slider.

One button per preset of the preset set (``screener/imaging/presets.json`` or a site's
own file), in the set's order; a function the bag on screen cannot show is disabled and
its tooltip says why. The variable-density slider moves a window of fixed width (the
preset's default window) along attenuation; moving it switches to variable density.
Like pyqtgraph's histogram item it says ``density_changing`` while it moves and
``density_finished`` when it stops. Shortcuts are bound by the screen from the key map.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolBar, QToolButton, QWidget

from screener.imaging.presets import PresetSet
from screener.imaging.view_index import A_MAX
from screener.ui.keymap import FUNCTION_PREFIX, KeyMap

VARIABLE_DENSITY = "variable-density"
SLIDER_STEPS_PER_UNIT = 10  #: slider resolution: 0.1 in -ln T


class EnhancementToolbar(QWidget):
    """Buttons for the functions (a tool bar: what does not fit goes into its » menu),
    then the variable-density slider."""

    function_chosen = Signal(str)
    density_changing = Signal(object)  # (lo, hi)
    density_finished = Signal(object)  # (lo, hi)

    def __init__(self, presets: PresetSet, keymap: KeyMap,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("enhancementToolbar")
        self.presets = presets
        self.keymap = keymap
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 6, 2)
        layout.setSpacing(4)
        self.bar = QToolBar("Enhancement functions", self)
        self.bar.setObjectName("functionBar")
        self.bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._group = QActionGroup(self)
        self._group.setExclusive(True)
        self.actions_by_name: dict[str, QAction] = {}
        for preset in presets.presets:
            action = QAction(preset.label.replace("&", "&&"), self)  # no mnemonic
            action.setObjectName(f"fn-{preset.name}")
            action.setCheckable(True)
            action.triggered.connect(lambda _checked=False, n=preset.name: self.choose(n))
            self._group.addAction(action)
            self.bar.addAction(action)
            self.actions_by_name[preset.name] = action
            button = self.bar.widgetForAction(action)
            if button is not None:
                button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        layout.addWidget(self.bar, 1)
        _mark_overflow(self.bar)
        self._available: dict[str, str | None] = {p.name: None for p in presets.presets}
        self._width = self._default_width()
        self.density_label = QLabel(self)
        self.density_label.setObjectName("densityLabel")
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("densitySlider")
        self.slider.setAccessibleName("Variable density")
        self.slider.setRange(0, int((A_MAX - self._width) * SLIDER_STEPS_PER_UNIT))
        self.slider.setSingleStep(1)
        self.slider.setPageStep(5)
        self.slider.setFixedWidth(140)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.setValue(round(self._default_lo() * SLIDER_STEPS_PER_UNIT))
        self.slider.valueChanged.connect(self._slid)
        self.slider.sliderReleased.connect(
            lambda: self.density_finished.emit(self.density_window()))
        vd_label = QLabel("Density", self)
        vd_label.setObjectName("densityTitle")
        layout.addWidget(vd_label)
        layout.addWidget(self.slider)
        layout.addWidget(self.density_label)
        self._show_window()
        self.refresh_tooltips()

    # ------------------------------------------------------------------ functions
    def choose(self, name: str) -> None:
        """The screener picked ``name`` (button or shortcut); ignored if unavailable."""
        action = self.actions_by_name.get(name)
        if action is None or self._available.get(name) is not None:
            current = self.current()
            if current is not None:
                self.set_function(current)
            return
        action.setChecked(True)
        self.function_chosen.emit(name)

    def set_function(self, name: str) -> None:
        """Show ``name`` as the current function (without emitting)."""
        action = self.actions_by_name.get(name)
        if action is not None:
            action.setChecked(True)

    def current(self) -> str | None:
        checked = self._group.checkedAction()
        for name, action in self.actions_by_name.items():
            if action is checked:
                return name
        return None

    def set_available(self, available: Mapping[str, str | None]) -> None:
        """Enable the functions the bag can show; the others say why not."""
        self._available = {name: available.get(name) for name in self.actions_by_name}
        for name, action in self.actions_by_name.items():
            action.setEnabled(self._available[name] is None)
        self.slider.setEnabled(self._available.get(VARIABLE_DENSITY) is None)
        self.refresh_tooltips()

    def refresh_tooltips(self) -> None:
        for preset in self.presets.presets:
            keys = self.keymap.keys(FUNCTION_PREFIX + preset.name)
            key = f" ({', '.join(keys)})" if keys else ""
            reason = self._available.get(preset.name)
            tip = f"{preset.label}{key}\n{preset.description}"
            if reason is not None:
                tip += f"\nUnavailable for this bag: {reason}"
            self.actions_by_name[preset.name].setToolTip(tip)
        self.slider.setToolTip("Variable density: slide the window along attenuation "
                               f"({', '.join(self.keymap.keys('density.down'))} / "
                               f"{', '.join(self.keymap.keys('density.up'))})")

    # ------------------------------------------------------------------ density
    def density_window(self) -> tuple[float, float]:
        lo = self.slider.value() / SLIDER_STEPS_PER_UNIT
        return (lo, min(A_MAX, round(lo + self._width, 6)))

    def step_density(self, steps: int) -> None:
        """Move the window by ``steps`` slider steps (keys) and report it finished."""
        if not self.slider.isEnabled():
            return
        self.slider.setValue(self.slider.value() + steps * self.slider.pageStep())
        self.density_finished.emit(self.density_window())

    def _slid(self, _value: int) -> None:
        self._show_window()
        if self._available.get(VARIABLE_DENSITY) is None:
            self.set_function(VARIABLE_DENSITY)
        self.density_changing.emit(self.density_window())

    def _show_window(self) -> None:
        lo, hi = self.density_window()
        self.density_label.setText(f"{lo:.1f}\u2013{hi:.1f}")

    def _default_window(self) -> tuple[float, float]:
        if VARIABLE_DENSITY in self.presets.names:
            function = self.presets.get(VARIABLE_DENSITY).function
            return function.default_window
        return (1.0, 3.0)

    def _default_width(self) -> float:
        lo, hi = self._default_window()
        return hi - lo

    def _default_lo(self) -> float:
        return self._default_window()[0]


def _mark_overflow(bar: QToolBar) -> None:
    """Give the tool bar's overflow button (functions that do not fit) a visible »."""
    from PySide6.QtGui import QIcon, QPainter, QPixmap

    button = bar.findChild(QToolButton, "qt_toolbar_ext_button")
    if button is None:
        return
    pixmap = QPixmap(16, 16)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(bar.palette().buttonText().color())
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "\u00bb")
    painter.end()
    button.setIcon(QIcon(pixmap))
    button.setToolTip("More functions")
