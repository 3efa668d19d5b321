"""Fixtures for the Qt workstation tests (tests/test_ui_*.py): offscreen Qt, a small demo
stream made once per test session, and a factory for a whole workstation with a real
audit log in tmp. Imported by the UI test modules (``from ui_fixtures import *``)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from screener.audit.chain import EventRecord
from screener.audit.query import events_in_range
from screener.config import Settings
from screener.demo import write_demo
from screener.ui.app import StationOptions, Workstation, ensure_app, open_screening
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
    """``make_workstation(demo=DIR | watch=DIR, detector=..., ui=UiSettings(...))``: the
    screener view of a station with its own home (scan store, audit log) in tmp, for an
    operator ``op-test`` without the login screen, shown and started. Other keywords are
    :class:`StationOptions` fields (``tip_library``, ``tip_seed``, ``conveyor_limit``)."""
    ensure_app()
    made: list[Workstation] = []

    def make(*, ui: UiSettings | None = None, start: bool = True, operator: str = "op-test",
             **kwargs: Any) -> Workstation:
        settings = Settings(home=tmp_path / "home", station=STATION)
        ui = ui or UiSettings(bags_per_minute=600, decision_time_s=60)
        options = StationOptions(ui=ui, autostart=start, **kwargs)
        workstation = open_screening(settings, options, operator=operator)
        made.append(workstation)
        window = workstation.window
        assert window is not None
        window.resize(1280, 800)
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
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


# ---------------------------------------------------------------------------- stations
# The whole application at a station: accounts, login, the shell of each role.

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
SCREENSHOT_MAX_BYTES = 500 * 1024


def save_screenshot(image: Any, name: str, tmp_path: Path, *, palette: bool = True) -> Path:
    """Save ``image`` (a QImage) in tmp, and with ``SCREENER_UPDATE_SCREENSHOTS=1`` also
    as docs/screenshots/NAME: with ``palette`` in 256 colours, dithered (an X-ray image
    stays small and looks the same), else as it is (flat dialogs compress well and
    dithering would speckle them)."""
    from PySide6.QtGui import QImage

    out = tmp_path / name
    assert image.save(str(out), "PNG", 0)
    if os.environ.get("SCREENER_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        target = SCREENSHOTS / name
        small = image.convertToFormat(QImage.Format.Format_Indexed8,
                                      Qt.ImageConversionFlag.DiffuseDither) if palette \
            else image.convertToFormat(QImage.Format.Format_RGB32)
        assert small.save(str(target), "PNG", 0)
        assert target.stat().st_size < SCREENSHOT_MAX_BYTES, "screenshot too large for docs"
    return out


class FakeView(QWidget):
    """A stand-in for a role view made by another module: ``FakeView(context, parent)``;
    records ``shutdown`` calls."""

    made: ClassVar[list[FakeView]] = []

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.shutdowns: list[str] = []
        FakeView.made.append(self)

    def shutdown(self, reason: str) -> None:
        self.shutdowns.append(reason)


def fake_views() -> dict[Any, Any]:
    """Stand-ins for every role view but the screener's."""
    from screener.workflow.roles import Role

    return {role: FakeView for role in Role if role is not Role.SCREENER}


MakeStation = Callable[..., Any]


@pytest.fixture
def make_station(qapp: Any, qtbot: Any, tmp_path: Path) -> Iterator[MakeStation]:
    """``make_station(demo=False, options=StationOptions(...), overrides={...},
    max_failures=5)``: a Station (not begun) with its own home in tmp; the screener view
    watches an empty folder unless ``options`` says otherwise, and the other role views
    are :class:`FakeView` unless ``overrides`` says otherwise."""
    from screener.accounts.users import Accounts
    from screener.audit.log import open_audit_log
    from screener.ui.app import Station, prepare_accounts

    ensure_app()
    made: list[Any] = []

    def make(*, demo: bool = False, options: StationOptions | None = None,
             overrides: dict[Any, Any] | None = None, max_failures: int = 5) -> Any:
        settings = Settings(home=tmp_path / "home", station=STATION)
        if options is None:
            watch = tmp_path / "incoming"
            watch.mkdir(exist_ok=True)
            options = StationOptions(watch=watch, detector=FixedDetector())
        log = open_audit_log(settings.home, STATION, checkpoint_every=1000)
        accounts = Accounts(log, max_failures=max_failures)
        demo_mode = prepare_accounts(accounts, demo)
        station = Station(settings, options, log=log, accounts=accounts, demo=demo_mode,
                          view_overrides=fake_views() if overrides is None else overrides)
        station.owns_log = True
        made.append(station)
        return station

    yield make
    for station in made:
        station.close()
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def station_events(station: Any, kind: str | None = None) -> list[EventRecord]:
    events = events_in_range(station.log.engine, STATION, 1, 1_000_000)
    return [e for e in events if kind is None or e.kind == kind]


def log_in(qtbot: Any, station: Any, user: str, password: str) -> None:
    """Type ``user`` and ``password`` into the login dialog and press Return; waits until
    the dialog has the core's answer (a window, or a message)."""
    dialog = station.login_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.user.clear()
    dialog.password.clear()
    qtbot.keyClicks(dialog.user, user)
    qtbot.keyClick(dialog.user, Qt.Key.Key_Return)  # to the password field
    qtbot.keyClicks(dialog.password, password)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)


_LIBRARY: dict[str, Path] = {}


@pytest.fixture(scope="session")
def tip_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small FTI library (5 articles x 2 orientations), built once per test session."""
    if "path" not in _LIBRARY:
        from screener.tip.build import BuildSettings, build_library

        path = tmp_path_factory.mktemp("ui-fti") / "library.h5"
        build_library(path, BuildSettings(articles=5, orientations=2, seed=3), jobs=1)
        _LIBRARY["path"] = path
    return _LIBRARY["path"]
