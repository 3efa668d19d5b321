"""Key bindings from the key map installed as Qt shortcuts on a widget."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from screener.errors import ConfigError
from screener.ui.keymap import KeyMap


def key_sequence(text: str, source: str, action: str) -> QKeySequence:
    """``text`` as one key combination; refused with the file and the action named."""
    sequence = QKeySequence.fromString(text, QKeySequence.SequenceFormat.PortableText)
    if sequence.count() != 1 or not sequence.toString(QKeySequence.SequenceFormat.PortableText):
        raise ConfigError(source, f"bindings.{action}", f"{text!r} is not a key Qt knows "
                          "(examples: \"S\", \"Space\", \"Shift+A\", \"F5\")")
    return sequence


def bind(widget: QWidget, keys: str, slot: Callable[[], object]) -> QShortcut:
    """``keys`` call ``slot`` while the focus is in ``widget`` or one of its children."""
    shortcut = QShortcut(QKeySequence(keys), widget)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    shortcut.activated.connect(slot)
    return shortcut


def install(widget: QWidget, keymap: KeyMap, handlers: Mapping[str, Callable[[], None]]
            ) -> dict[str, list[QShortcut]]:  # fmt: skip
    """A shortcut on ``widget`` (and its children) for every key of every action that has
    a handler."""
    installed: dict[str, list[QShortcut]] = {}
    for action, handler in handlers.items():
        for text in keymap.keys(action):
            shortcut = QShortcut(key_sequence(text, keymap.source, action), widget)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.setAutoRepeat(action.startswith(("view.zoom", "density.")))
            shortcut.activated.connect(handler)
            installed.setdefault(action, []).append(shortcut)
    return installed
