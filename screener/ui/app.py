"""The workstation application: QApplication, the window, and the objects behind it.

``screener gui [--demo DIR] [--watch DIR] ...`` and ``python -m screener.ui`` land in
:func:`run_from_args`. :func:`build_workstation` assembles everything from settings (the
tests and the UI benchmark use it too): the audit log, the screening session with the
operator, the AI (the shipped models through :class:`~screener.workflow.model_ai.ModelAi`),
the scan store, the controller, the screener view and the window.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication

from screener.audit.log import AuditLog, open_audit_log
from screener.config import Settings, load_settings
from screener.errors import ScreenerError
from screener.imaging.presets import PresetSet, load_presets, shipped_presets
from screener.scan.store import ScanStore
from screener.ui.bag_queue import DemoConveyor, WatchFolder, demo_files
from screener.ui.config import UiSettings, load_ui_settings
from screener.ui.controller import ScreeningController
from screener.ui.keymap import KeyMap, load_keymap
from screener.ui.main_window import MainWindow
from screener.ui.screener_view import ScreenerView
from screener.ui.theme import apply_dark_theme
from screener.workflow.ai import Detector
from screener.workflow.model_ai import ModelAi
from screener.workflow.roles import Role
from screener.workflow.session import Operator, ScreeningSession

SCREENER_VIEW = "screener"


def ensure_app(argv: Sequence[str] | None = None) -> QApplication:
    """The process's QApplication (created once), with the dark theme."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
    app.setApplicationName("Screener")
    app.setOrganizationName("Screener")
    apply_dark_theme(app)
    return app


@dataclass(eq=False)
class Workstation:
    """The window and what drives it."""

    window: MainWindow
    view: ScreenerView
    controller: ScreeningController
    session: ScreeningSession
    log: AuditLog
    owns_log: bool
    closed: bool = False

    def start(self) -> None:
        self.controller.start()

    def close(self) -> None:
        """End the session (or checkpoint it), stop the worker, close the log."""
        if self.closed:
            return
        self.closed = True
        self.controller.shutdown()
        if self.owns_log:
            # an unavailable log: what was committed stays committed
            with contextlib.suppress(ScreenerError):
                self.log.close("application closed")

    def dispose(self) -> None:
        """Close, then delete the window and the controller now, in Qt's order (not
        whenever Python's garbage collector reaches their wrappers)."""
        self.window.close()
        self.close()
        self.window.deleteLater()
        self.controller.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def warm_calibrations() -> None:
    """Load every shipped calibration's classifier (the first bag then does not)."""
    from importlib import resources

    from screener.imaging.calibration import DATA_FILE_PATTERN
    from screener.imaging.render import classifier_for

    prefix, suffix = DATA_FILE_PATTERN.split("{profile}")
    for item in resources.files("screener.imaging").joinpath("data").iterdir():
        name = item.name
        if name.startswith(prefix) and name.endswith(suffix):
            classifier_for(name[len(prefix):-len(suffix)])


def build_workstation(settings: Settings, ui: UiSettings | None = None, *,
                      operator: str, role: Role = Role.SCREENER,
                      demo: Path | None = None, watch: Path | None = None,
                      detector: Detector | None = None, keymap: KeyMap | None = None,
                      presets: PresetSet | None = None, log: AuditLog | None = None,
                      conveyor_limit: int | None = None,
                      watch_existing: bool = False) -> Workstation:
    """Everything for one screener at this station, not yet started (call ``start``)."""
    ui = ui or UiSettings()
    presets = presets or shipped_presets()
    keymap = keymap or load_keymap(None, presets)
    owns_log = log is None
    log = log or open_audit_log(settings.home, settings.station, url=settings.audit_db or None,
                                checkpoint_every=settings.checkpoint_every)
    session = ScreeningSession(log, Operator(operator, role), detector=detector,
                               lane=settings.lane)
    store = ScanStore(settings.scan_store, settings.scan_limits)
    controller = ScreeningController(session, store, ui, presets, detector=detector,
                                     limits=settings.scan_limits)
    if demo is not None:
        controller.add_conveyor(DemoConveyor(controller.queue, demo_files(demo),
                                             ui.bags_per_minute, limit=conveyor_limit,
                                             parent=controller))
    if watch is not None:
        controller.add_watch(WatchFolder(controller.queue, watch, ui.watch_poll_s,
                                         include_existing=watch_existing, parent=controller))
    view = ScreenerView(controller, keymap)
    window = MainWindow(settings.station, operator, role.value)
    window.add_view(SCREENER_VIEW, view)
    window.show_view(SCREENER_VIEW)
    controller.audit_head.connect(window.set_audit_head)
    controller.ai_status.connect(window.set_ai_status)
    window.set_audit_head(log.head())
    if detector is None:
        window.set_ai_status("AI unavailable: no detector configured")
    ai_warm = detector.warm_up if isinstance(detector, ModelAi) else None
    controller.warm_up(ai_warm, warm_calibrations)
    workstation = Workstation(window, view, controller, session, log, owns_log)
    window.on_close(workstation.close)
    return workstation


def run_from_args(args: argparse.Namespace) -> int:
    """``screener gui``: build, show, run the event loop."""
    settings: Settings = args.settings
    if args.demo is None and args.watch is None:
        raise ScreenerError("say where bags come from: --demo DIR (make one with `screener "
                            "demo --out DIR`) or --watch DIR")
    presets = load_presets(args.presets) if args.presets else shipped_presets()
    ui = load_ui_settings(args.ui_settings).replace(
        bags_per_minute=args.bags_per_minute, ai_mode=args.ai_mode,
        decision_time_s=args.decision_time)
    keymap = load_keymap(args.keys, presets)
    detector: Detector | None = None if args.no_ai else ModelAi(args.model)
    app = ensure_app()
    workstation = build_workstation(settings, ui, operator=args.operator or _user(),
                                    demo=args.demo, watch=args.watch, detector=detector,
                                    keymap=keymap, presets=presets)
    workstation.window.resize(1600, 950)
    workstation.window.show()
    workstation.start()
    if args.quit_after is not None:
        QTimer.singleShot(round(args.quit_after * 1000), workstation.window.close)
    app.aboutToQuit.connect(workstation.close)
    code = app.exec()
    workstation.dispose()
    return int(code)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "screener"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m screener.ui``: the same options as ``screener gui``."""
    from screener.ui import command

    parser = argparse.ArgumentParser(prog="python -m screener.ui",
                                     description="The screening workstation window.")
    parser.add_argument("--config", type=Path, help="settings file (TOML)")
    parser.add_argument("--home", type=Path, help="data folder (scan store, databases)")
    command.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        args.settings = load_settings(args.config, overrides={"home": args.home})
        return run_from_args(args)
    except ScreenerError as exc:
        print(f"screener: error: {exc}", file=sys.stderr)
        return 2
