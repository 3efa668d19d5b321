"""Fixtures for the Qt workstation tests (tests/test_ui_*.py): offscreen Qt, a small demo
stream made once per test session, and a factory for a whole workstation with a real
audit log in tmp. Imported by the UI test modules (``from ui_fixtures import *``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from screener.audit.chain import EventRecord
from screener.audit.query import events_in_range
from screener.config import Settings
from screener.demo import write_demo
from screener.ui.app import Workstation, build_workstation, ensure_app
from screener.ui.config import UiSettings
from screener.workflow.ai import AiDetection

# before pytest-qt's qapp fixture creates the QApplication
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STATION = "ui-test-station"
DEMO_BAGS = 3
#: The bags' file names in the demo stream made for these tests
DEMO_SEED = 5


class FixedDetector:
    """A stand-in AI: one 'handgun' flag in the first view of every bag."""

    name = "fixed test detector"
    model_sha256 = "ab" * 32

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, scan: Any, scan_sha256: str) -> list[AiDetection]:
        self.calls += 1
        view = scan.views[0]
        return [AiDetection(view.name, (20.0, 30.0, 220.0, 180.0), "handgun", "gun", 0.91)]


class BrokenDetector:
    """An AI whose model cannot run."""

    name = "broken test detector"
    model_sha256 = "cd" * 32

    def detect(self, scan: Any, scan_sha256: str) -> list[AiDetection]:
        raise RuntimeError("model file is corrupt (test)")


_DEMO: dict[str, Path] = {}


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``screener demo`` output with a few cabin bags, made once per test session (each
    module that uses the fixture has its own copy of it; they share the folder)."""
    if "folder" not in _DEMO:
        folder = tmp_path_factory.mktemp("ui-demo")
        write_demo(folder, DEMO_BAGS, DEMO_SEED, threat_fraction=0.5, jobs=2)
        _DEMO["folder"] = folder
    return _DEMO["folder"]


def demo_scans(folder: Path) -> list[Path]:
    items = json.loads((folder / "manifest.json").read_text())["items"]
    return [folder / item["file"] for item in items]


MakeWorkstation = Callable[..., Workstation]


@pytest.fixture
def make_workstation(qapp: Any, qtbot: Any, tmp_path: Path) -> Iterator[MakeWorkstation]:
    """``make_workstation(demo=DIR | watch=DIR, detector=..., ui=UiSettings(...))``: a
    shown, started workstation with its own home (scan store, audit log) in tmp."""
    ensure_app()
    made: list[Workstation] = []

    def make(*, ui: UiSettings | None = None, start: bool = True, **kwargs: Any
             ) -> Workstation:
        settings = Settings(home=tmp_path / "home", station=STATION)
        ui = ui or UiSettings(bags_per_minute=600, decision_time_s=60)
        kwargs.setdefault("operator", "op-test")
        workstation = build_workstation(settings, ui, **kwargs)
        made.append(workstation)
        workstation.window.resize(1280, 800)
        workstation.window.show()
        workstation.window.activateWindow()
        qtbot.waitExposed(workstation.window)
        if start:
            workstation.start()
        return workstation

    yield make
    for workstation in made:
        workstation.dispose()


def logged(workstation: Workstation) -> list[EventRecord]:
    """Every event of the test station, in chain order."""
    return events_in_range(workstation.log.engine, STATION, 1, 1_000_000)


def payloads(workstation: Workstation, kind: str) -> list[dict[str, Any]]:
    return [json.loads(e.payload) for e in logged(workstation) if e.kind == kind]


def wait_decidable(qtbot: Any, workstation: Workstation, timeout: int = 20_000) -> None:
    """Until the bag on screen can be decided (image shown, AI recorded in the log)."""
    qtbot.waitUntil(lambda: workstation.view.clear_button.isEnabled(), timeout=timeout)


def press(qtbot: Any, workstation: Workstation, key: Qt.Key,
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key press where the screener's focus is (the focused widget of the window)."""
    target: QWidget = workstation.window.focusWidget() or workstation.view
    qtbot.keyClick(target, key, modifier)
