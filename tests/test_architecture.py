"""House rule 1: only screener.ui imports Qt. The import contract must cover every package."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import screener

ROOT = Path(__file__).resolve().parents[1]


def _qt_contract_sources() -> set[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (qt,) = [c for c in contracts if "PySide6" in c["forbidden_modules"]]
    return set(qt["source_modules"])


def test_every_top_level_module_but_ui_is_under_the_qt_contract():
    modules = {
        f"screener.{m.name}"
        for m in pkgutil.iter_modules(screener.__path__)
        if m.name not in {"ui", "__main__"}
    }
    missing = modules - _qt_contract_sources()
    assert not missing, f"add these to the Qt import contract in pyproject.toml: {missing}"


def test_the_qt_contract_names_no_module_that_does_not_exist():
    modules = {f"screener.{m.name}" for m in pkgutil.iter_modules(screener.__path__)}
    assert _qt_contract_sources() <= modules
