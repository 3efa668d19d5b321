"""Enhancement presets: the named functions the toolbar shows, as versioned data.

The shipped set is ``screener/imaging/presets.json``; a site may supply its own file of the
same format (:func:`load_presets`). A file is validated completely on load and anything
wrong raises :class:`PresetFileError` naming the file and the field, e.g.
``presets.json: presets[3].params.amount: must be a number in (0, 20], not -1``.

File format (``format_version`` 1)::

    {
      "format": "screener-enhancement-presets",
      "format_version": 1,
      "palette": {                       # optional; every key optional
        "organic": [r, g, b], "inorganic": [...], "metal": [...],
        "impenetrable": [...], "removed": [...],
        "pivot": 0.6,                    # lightness at which a hue is shown pure
        "zeff_stops": [[zeff, [r, g, b]], ...]
      },
      "presets": [
        {
          "name": "organic-only",        # lower-case words joined by '-', unique
          "label": "Organic only",       # what the toolbar shows
          "function": "material-only",   # one of enhance.BASE_FUNCTIONS
          "params": {"show": "organic"}, # the base function's parameters (optional)
          "adjustments": {"gamma": 1.2}, # default adjustments (optional)
          "shortcut": "O",               # suggested key (optional, unique)
          "description": "..."           # what it shows a screener (optional)
        }
      ]
    }
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from screener.errors import ScreenerError
from screener.imaging.colour import Palette, Rgb
from screener.imaging.enhance import Adjustments, EnhancementFunction, make_function

FORMAT_NAME: Final = "screener-enhancement-presets"
FORMAT_VERSION: Final = 1
SHIPPED_FILE: Final = "presets.json"
_NAME_PATTERN: Final = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_PRESET_KEYS: Final = frozenset(
    {"name", "label", "function", "params", "adjustments", "shortcut", "description"}
)
_PALETTE_COLOURS: Final = ("organic", "inorganic", "metal", "impenetrable", "removed")


class PresetFileError(ScreenerError):
    """A preset file cannot be accepted. Names the file, the field and the problem."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = " ".join(problem.split())
        super().__init__(f"{source}: {field}: {self.problem}. Fix the preset file, or remove it "
                         "to use the shipped presets.")  # fmt: skip


class UnknownFunctionError(ScreenerError):
    """A function or preset name that the preset set does not define."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        super().__init__(f"unknown enhancement function {name!r}; choose one of: "
                         f"{', '.join(known)}")  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """A named function with default adjustments, as the toolbar shows it."""

    name: str
    label: str
    function: EnhancementFunction
    adjustments: Adjustments = field(default_factory=Adjustments)
    shortcut: str | None = None
    description: str = ""


@dataclass(frozen=True)
class PresetSet:
    """The presets of one file, in toolbar order."""

    source: str
    format_version: int
    palette: Palette
    presets: tuple[Preset, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.presets)

    def get(self, name: str) -> Preset:
        """The preset called ``name``; :class:`UnknownFunctionError` if there is none."""
        for preset in self.presets:
            if preset.name == name:
                return preset
        raise UnknownFunctionError(name, self.names)


@functools.cache
def shipped_presets() -> PresetSet:
    """The presets shipped with Screener (loaded once)."""
    resource = resources.files("screener.imaging") / SHIPPED_FILE
    return parse_presets(resource.read_text(encoding="utf-8"), f"screener/imaging/{SHIPPED_FILE}")


def load_presets(path: Path | str) -> PresetSet:
    """Read and validate a preset file."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise PresetFileError(str(source), "file", f"cannot be read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise PresetFileError(str(source), "file", f"is not UTF-8 text ({exc.reason})") from exc
    return parse_presets(text, str(source))


def parse_presets(text: str, source: str) -> PresetSet:
    """Validate the JSON text of a preset file; ``source`` names it in errors."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetFileError(source, "file", f"not valid JSON: {exc.msg} at line {exc.lineno} "
                              f"column {exc.colno}") from exc  # fmt: skip
    if not isinstance(data, dict):
        raise PresetFileError(source, "file", "must hold a JSON object")
    unknown = sorted(set(data) - {"format", "format_version", "palette", "presets"})
    if unknown:
        raise PresetFileError(source, unknown[0], "unknown field")
    if data.get("format") != FORMAT_NAME:
        raise PresetFileError(source, "format", f"is {data.get('format')!r}, expected "
                              f"{FORMAT_NAME!r}")  # fmt: skip
    version = data.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise PresetFileError(source, "format_version", f"is {version!r}, expected an integer")
    if version > FORMAT_VERSION:
        raise PresetFileError(source, "format_version", f"is {version}: written for a newer "
                              f"Screener (this one reads version {FORMAT_VERSION})")  # fmt: skip
    if version < 1:
        raise PresetFileError(source, "format_version", f"is {version}, expected 1")
    palette = _palette(data.get("palette", {}), source)
    entries = data.get("presets")
    if not isinstance(entries, list) or not entries:
        raise PresetFileError(source, "presets", "must be a non-empty list of presets")
    presets = tuple(_preset(entry, f"presets[{i}]", palette, source)
                    for i, entry in enumerate(entries))  # fmt: skip
    used: dict[tuple[str, str], int] = {}
    for i, preset in enumerate(presets):
        for key, value in (("name", preset.name), ("shortcut", preset.shortcut)):
            if value is None:
                continue
            if (key, value.lower()) in used:
                raise PresetFileError(source, f"presets[{i}].{key}", f"{value!r} is already "
                                      f"used by presets[{used[key, value.lower()]}]")  # fmt: skip
            used[key, value.lower()] = i
    return PresetSet(source, version, palette, presets)


def _preset(entry: Any, where: str, palette: Palette, source: str) -> Preset:
    if not isinstance(entry, dict):
        raise PresetFileError(source, where, "must be a JSON object")
    unknown = sorted(set(entry) - _PRESET_KEYS)
    if unknown:
        raise PresetFileError(source, f"{where}.{unknown[0]}", "unknown field (known: "
                              f"{', '.join(sorted(_PRESET_KEYS))})")  # fmt: skip
    name = _string(entry, "name", where, source)
    if not _NAME_PATTERN.match(name):
        raise PresetFileError(source, f"{where}.name", f"{name!r} must be lower-case words "
                              "joined by '-'")  # fmt: skip
    label = _string(entry, "label", where, source)
    base = _string(entry, "function", where, source)
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise PresetFileError(source, f"{where}.params", "must be a JSON object")
    adjustments = entry.get("adjustments", {})
    if not isinstance(adjustments, dict):
        raise PresetFileError(source, f"{where}.adjustments", "must be a JSON object")
    try:
        function = make_function(base, params, palette)
    except ValueError as exc:
        field_name, _, problem = str(exc).partition(": ")
        raise PresetFileError(source, f"{where}.{field_name}", problem) from exc
    try:
        adjust = Adjustments.from_mapping(adjustments)
    except ValueError as exc:
        field_name, _, problem = str(exc).partition(": ")
        raise PresetFileError(source, f"{where}.adjustments.{field_name}", problem) from exc
    shortcut = entry.get("shortcut")
    if shortcut is not None and (not isinstance(shortcut, str) or not shortcut.strip()):
        raise PresetFileError(source, f"{where}.shortcut", f"is {shortcut!r}, expected a key "
                              "name such as 'F3' or 'O'")  # fmt: skip
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise PresetFileError(source, f"{where}.description", "must be a string")
    return Preset(name, label, function, adjust, shortcut, description)


def _string(entry: Mapping[str, Any], key: str, where: str, source: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PresetFileError(source, f"{where}.{key}", f"is {value!r}, expected a non-empty "
                              "string")  # fmt: skip
    return value


def _palette(data: Any, source: str) -> Palette:
    if not isinstance(data, dict):
        raise PresetFileError(source, "palette", "must be a JSON object")
    unknown = sorted(set(data) - {*_PALETTE_COLOURS, "pivot", "zeff_stops"})
    if unknown:
        raise PresetFileError(source, f"palette.{unknown[0]}", "unknown field")
    kwargs: dict[str, Any] = {}
    for key in _PALETTE_COLOURS:
        if key in data:
            kwargs[key] = _rgb(data[key], f"palette.{key}", source)
    if "pivot" in data:
        kwargs["pivot"] = data["pivot"]
    if "zeff_stops" in data:
        stops = data["zeff_stops"]
        if not isinstance(stops, list):
            raise PresetFileError(source, "palette.zeff_stops", "must be a list of "
                                  "[zeff, [r, g, b]]")  # fmt: skip
        parsed = []
        for i, stop in enumerate(stops):
            where = f"palette.zeff_stops[{i}]"
            if (not isinstance(stop, list) or len(stop) != 2 or isinstance(stop[0], bool)
                    or not isinstance(stop[0], (int, float))):  # fmt: skip
                raise PresetFileError(source, where, f"is {stop!r}, expected [zeff, [r, g, b]]")
            parsed.append((float(stop[0]), _rgb(stop[1], where, source)))
        kwargs["zeff_stops"] = tuple(parsed)
    try:
        return Palette(**kwargs)
    except (ValueError, TypeError) as exc:
        field_name, _, problem = str(exc).partition(": ")
        raise PresetFileError(source, f"palette.{field_name}", problem) from exc


def _rgb(value: Any, where: str, source: str) -> Rgb:
    if (not isinstance(value, list) or len(value) != 3
            or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255
                       for c in value)):  # fmt: skip
        raise PresetFileError(source, where, f"is {value!r}, expected [r, g, b] with integers "
                              "0-255")  # fmt: skip
    return (value[0], value[1], value[2])
