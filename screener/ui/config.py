"""The workstation's own settings (Qt-free): decision time, belt, AI overlay, conveyor.

Settings are data (DESIGN.md rule 7): a :class:`UiSettings` is built from defaults and an
optional JSON file (``format: screener-workstation-settings``), then command-line flags.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from screener.errors import ConfigError

FORMAT_NAME: Final = "screener-workstation-settings"
FORMAT_VERSION: Final = 1


class AiMode(StrEnum):
    """When the screener sees the AI's boxes."""

    OFF = "off"  #: the detector is not run; the log says so
    AFTER_FIRST_LOOK = "after-first-look"  #: hidden until revealed (key) or first look ends
    ALWAYS = "always"  #: shown as soon as the result is in

    @property
    def label(self) -> str:
        return {"off": "AI off", "after-first-look": "AI after first look",
                "always": "AI always"}[self.value]


class ViewsLayout(StrEnum):
    SIDE_BY_SIDE = "side-by-side"
    STACKED = "stacked"


@dataclass(frozen=True)
class UiSettings:
    """What a site tunes at the screener's screen. Times in seconds."""

    decision_time_s: float = 20.0  #: time to decide on a bag before the belt stops
    belt_stop_extension_s: float = 30.0  #: extra time each time the belt stops
    ai_mode: AiMode = AiMode.ALWAYS
    first_look_s: float = 4.0  #: after-first-look: AI shown after this long (0: key only)
    ai_timeout_s: float = 20.0  #: no AI answer by then: recorded unavailable, screening goes on
    bags_per_minute: float = 6.0  #: demo conveyor rate
    prefetch: int = 2  #: bags loaded ahead of the screen (including the one on screen)
    views_layout: ViewsLayout = ViewsLayout.SIDE_BY_SIDE
    default_function: str = "standard"
    watch_poll_s: float = 1.0  #: how often a watch folder is listed

    def __post_init__(self) -> None:
        for name in ("decision_time_s", "bags_per_minute", "ai_timeout_s", "watch_poll_s"):
            _positive(name, getattr(self, name))
        for name in ("belt_stop_extension_s", "first_look_s"):
            if getattr(self, name) < 0:
                raise ConfigError("workstation settings", name, "must be 0 or more")
        if self.prefetch < 1:
            raise ConfigError("workstation settings", "prefetch", "must be at least 1")

    def replace(self, **changes: Any) -> UiSettings:
        """A copy with ``changes`` applied (``None`` values are ignored: unset flags)."""
        given = {k: v for k, v in changes.items() if v is not None}
        if "ai_mode" in given:
            given["ai_mode"] = AiMode(given["ai_mode"])
        if "views_layout" in given:
            given["views_layout"] = ViewsLayout(given["views_layout"])
        return dataclasses.replace(self, **given)


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ConfigError("workstation settings", name, f"must be more than 0, not {value}")


def read_json(path: Path) -> object:
    """The JSON in the file at ``path``; :class:`ConfigError` naming the file when it
    cannot be read or is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), "(file)", f"cannot be read ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "(file)", f"not valid JSON ({exc})") from None


def load_ui_settings(path: Path | None) -> UiSettings:
    """Defaults, then the JSON file at ``path`` (if given). Unknown keys and bad values
    raise :class:`ConfigError` naming the file and the key."""
    if path is None:
        return UiSettings()
    source = str(path)
    data = read_json(path)
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise ConfigError(source, "format", f"must be {FORMAT_NAME!r}")
    if data.get("format_version") != FORMAT_VERSION:
        raise ConfigError(source, "format_version", f"must be {FORMAT_VERSION}")
    values = data.get("settings", {})
    if not isinstance(values, dict):
        raise ConfigError(source, "settings", "must be a JSON object")
    known = {f.name: f for f in fields(UiSettings)}
    for key in values:
        if key not in known:
            raise ConfigError(source, f"settings.{key}",
                              f"unknown setting; known: {', '.join(sorted(known))}")
    try:
        return UiSettings().replace(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(source, "settings", str(exc)) from None
