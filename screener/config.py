"""Settings: built-in defaults < TOML file < environment (SCREENER_*) < command-line flags.

Settings are data, loaded once and passed down; nothing reads a global. The TOML file is
``$SCREENER_CONFIG`` if set, else ``~/.config/screener/screener.toml`` if it exists.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from screener.errors import ConfigError
from screener.scan.hdf5 import ScanLimits

ENV_PREFIX = "SCREENER_"
DEFAULT_CONFIG_PATH = Path("~/.config/screener/screener.toml")


def _default_home() -> Path:
    return Path("~/.local/share/screener").expanduser()


@dataclass(frozen=True)
class Settings:
    """Every setting Screener reads, with its default."""

    home: Path = field(default_factory=_default_home)  # where stores and databases live
    station: str = "station-1"
    lane: str = "lane-1"
    max_view_pixels: int = 100_000_000  # cap per view; a cargo view is ~12 M pixels
    max_views: int = 8
    audit_db: str = ""  # SQLAlchemy URL; empty: SQLite file audit.sqlite in home
    checkpoint_every: int = 100  # signed audit checkpoint every N events
    # the content-addressed scan store; empty: <home>/scans. Stations of one site point it
    # at one shared folder (docs/audit.md, "Multi-station sites")
    scan_store_dir: str = ""

    @property
    def scan_store(self) -> Path:
        if self.scan_store_dir:
            return Path(self.scan_store_dir).expanduser()
        return self.home / "scans"

    @property
    def audit_url(self) -> str:
        return self.audit_db or f"sqlite:///{self.home / 'audit.sqlite'}"

    @property
    def scan_limits(self) -> ScanLimits:
        return ScanLimits(max_view_pixels=self.max_view_pixels, max_views=self.max_views)


def load_settings(
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from the four layers; any bad value raises ConfigError naming it."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    path = config_path or _config_path_from(environ)
    if path is not None:
        settings = _apply(settings, _read_toml(path), str(path))
    from_env = {
        f.name: environ[ENV_PREFIX + f.name.upper()]
        for f in fields(Settings)
        if ENV_PREFIX + f.name.upper() in environ
    }
    settings = _apply(settings, from_env, "environment")
    return _apply(settings, {k: v for k, v in (overrides or {}).items() if v is not None}, "flags")


def _config_path_from(environ: Mapping[str, str]) -> Path | None:
    if "SCREENER_CONFIG" in environ:
        return Path(environ["SCREENER_CONFIG"]).expanduser()
    default = DEFAULT_CONFIG_PATH.expanduser()
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(path), "(file)", "configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "(file)", f"not valid TOML: {exc}") from None


def _apply(settings: Settings, values: Mapping[str, Any], source: str) -> Settings:
    known = {f.name: f for f in fields(Settings)}
    changes: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in known:
            raise ConfigError(source, key, f"unknown setting; known: {', '.join(sorted(known))}")
        changes[key] = _coerce(source, key, raw, type(getattr(settings, key)))
    return replace(settings, **changes)


def _coerce(source: str, key: str, raw: Any, kind: type) -> Any:
    if issubclass(kind, Path):
        if not isinstance(raw, (str, Path)) or not str(raw):
            raise ConfigError(source, key, f"must be a path, found {raw!r}")
        return Path(raw).expanduser()
    if kind is int:
        if isinstance(raw, bool):  # TOML true/false would otherwise pass as 1/0
            raise ConfigError(source, key, f"must be a whole number, found {raw!r}")
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ConfigError(source, key, f"must be a whole number, found {raw!r}") from None
        if isinstance(raw, float) or value < 1:
            raise ConfigError(source, key, f"must be a whole number of at least 1, found {raw!r}")
        return value
    if not isinstance(raw, str) or not raw.strip():
        raise ConfigError(source, key, f"must be non-empty text, found {raw!r}")
    return raw
