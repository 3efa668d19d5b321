"""Keyboard bindings as data (Qt-free): every action the screener's screen offers and the
keys that trigger it.

Defaults come from :data:`DEFAULT_BINDINGS` and, for the enhancement functions, from the
presets' suggested shortcuts (F1-F12 in ``presets.json``). A site overrides any of them
with a JSON file::

    {"format": "screener-key-bindings", "format_version": 1,
     "bindings": {"decision.clear": ["Space", "C"], "function.metal-only": ["F6", "Ctrl+M"]}}

Keys are Qt key-sequence text ("S", "Space", "Shift+A", "F5"); the UI checks that Qt can
parse each one. A key bound to two actions, or an unknown action, is refused with an
error naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from screener.errors import ConfigError
from screener.imaging.presets import PresetSet
from screener.ui.config import read_json

FORMAT_NAME: Final = "screener-key-bindings"
FORMAT_VERSION: Final = 1
FUNCTION_PREFIX: Final = "function."

#: Actions of the screener view, with what each does (shown in tooltips and help).
ACTIONS: Final[Mapping[str, str]] = {
    "decision.clear": "Clear the bag",
    "decision.suspect": "Suspect: send the bag to search (with your marks)",
    "ai.reveal": "Show the AI's boxes now (after first look)",
    "ai.toggle": "Hide or show the AI's boxes on this bag",
    "view.zoom_in": "Zoom in",
    "view.zoom_out": "Zoom out",
    "view.fit": "Fit the views to the screen",
    "view.magnifier": "Magnifier on or off",
    "view.next": "Next view (keyboard focus)",
    "marks.add": "Mark the centre of the view you look at",
    "marks.undo": "Remove the last mark",
    "marks.clear": "Remove all marks",
    "density.up": "Variable density: denser slice",
    "density.down": "Variable density: thinner slice",
    "belt.toggle": "Stop or restart the belt (stopping gives more time)",
    "feedback.continue": "Continue after a message",
}

DEFAULT_BINDINGS: Final[Mapping[str, tuple[str, ...]]] = {
    "decision.clear": ("Space", "C"),
    "decision.suspect": ("S",),
    "ai.reveal": ("A",),
    "ai.toggle": ("Shift+A",),
    "view.zoom_in": ("+", "="),
    "view.zoom_out": ("-",),
    "view.fit": ("0",),
    "view.magnifier": ("M",),
    "view.next": ("V",),
    "marks.add": ("K",),
    "marks.undo": ("Backspace",),
    "marks.clear": ("Escape",),
    "density.up": ("]",),
    "density.down": ("[",),
    "belt.toggle": ("B",),
    "feedback.continue": ("Return", "Enter"),
}


@dataclass(frozen=True)
class KeyMap:
    """Action id -> key sequences, in the order shown to the screener."""

    bindings: Mapping[str, tuple[str, ...]]
    source: str = "built-in defaults"

    def keys(self, action: str) -> tuple[str, ...]:
        return self.bindings.get(action, ())

    def label(self, action: str) -> str:
        """The first key, as a hint on a button ("Space"), or ''."""
        keys = self.keys(action)
        return keys[0] if keys else ""


def default_keymap(presets: PresetSet) -> KeyMap:
    """Built-in bindings plus each preset's suggested shortcut."""
    bindings: dict[str, tuple[str, ...]] = dict(DEFAULT_BINDINGS)
    for preset in presets.presets:
        bindings[FUNCTION_PREFIX + preset.name] = (preset.shortcut,) if preset.shortcut else ()
    return KeyMap(bindings)


def load_keymap(path: Path | None, presets: PresetSet) -> KeyMap:
    """The defaults, overridden action by action by the file at ``path`` (if any)."""
    base = default_keymap(presets)
    if path is None:
        return base
    return merge_bindings(base, read_json(path), str(path))


def merge_bindings(base: KeyMap, data: object, source: str) -> KeyMap:
    """``base`` with the ``bindings`` of a parsed key-binding document applied."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise ConfigError(source, "format", f"must be {FORMAT_NAME!r}")
    if data.get("format_version") != FORMAT_VERSION:
        raise ConfigError(source, "format_version", f"must be {FORMAT_VERSION}")
    given = data.get("bindings")
    if not isinstance(given, dict):
        raise ConfigError(source, "bindings", "must be a JSON object of action: [keys]")
    bindings = dict(base.bindings)
    for action, keys in given.items():
        if action not in bindings:
            raise ConfigError(source, f"bindings.{action}", "unknown action; known: "
                              f"{', '.join(sorted(bindings))}")
        bindings[action] = _keys(keys, f"bindings.{action}", source)
    check_unique(bindings, source)
    return KeyMap(bindings, source)


def _keys(value: object, where: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(k, str) and k.strip() for k in value):
        raise ConfigError(source, where, "must be a key or a list of keys, e.g. [\"F5\"]")
    return tuple(k.strip() for k in value)


def check_unique(bindings: Mapping[str, Sequence[str]], source: str) -> None:
    """Refuse a key bound to two actions (compared without case)."""
    used: dict[str, str] = {}
    for action, keys in bindings.items():
        for key in keys:
            other = used.get(key.lower())
            if other is not None and other != action:
                raise ConfigError(source, f"bindings.{action}", f"key {key!r} is already "
                                  f"bound to {other!r}")
            used[key.lower()] = action
