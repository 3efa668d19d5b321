"""The workstation application: QApplication, login, the operator's shell, logout.

``screener gui [--demo DIR] [--watch DIR] ...`` and ``python -m screener.ui`` land in
:func:`run_from_args`, which opens the audit log and the accounts and hands the station
to a :class:`Station`:

* **First run** (no account, not demo mode): the first administrator is created
  (:class:`~screener.ui.login.FirstRunDialog`).
* **Demo mode** (``--demo``, on an installation without real accounts): the demo accounts
  are made (``Accounts.seed_demo_users``) and the login screen says so and lists them.
* **Login** (:class:`~screener.ui.login.LoginDialog`), then the **shell**
  (:class:`~screener.ui.main_window.MainWindow`) with the views the operator's role may
  use (:mod:`screener.ui.role_views`); **Log out** ends the screening session, logs
  ``auth.logout`` and goes back to the login screen.

The screener's view is made by :func:`build_workstation` for the logged-in operator's
:class:`~screener.ui.context.ViewContext`: the screening session (with TIP when the
station has an FTI library), the AI (the shipped models through
:class:`~screener.workflow.model_ai.ModelAi`), the bag sources and the controller.
:func:`open_screening` opens it without the login screen (tests and the UI benchmark).
"""

from __future__ import annotations

import argparse
import contextlib
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from screener.accounts.users import DEMO_USERS, Accounts
from screener.audit.chain import EventRecord
from screener.audit.log import AuditLog, open_audit_log
from screener.config import Settings, load_settings
from screener.errors import ConfigError, ScreenerError
from screener.imaging.presets import PresetSet, load_presets, shipped_presets
from screener.scan.store import ScanStore
from screener.tip.library import FtiLibrary, read_library
from screener.tip.scheduler import TipScheduler
from screener.ui import role_views
from screener.ui.bag_queue import DemoConveyor, WatchFolder, demo_files
from screener.ui.config import UiSettings, load_ui_settings
from screener.ui.context import ViewContext
from screener.ui.controller import ScreeningController
from screener.ui.keymap import KeyMap, load_keymap
from screener.ui.login import FirstRunDialog, LoginDialog, sentence
from screener.ui.main_window import MainWindow
from screener.ui.screener_view import ScreenerView
from screener.ui.theme import apply_dark_theme
from screener.workflow.ai import Detector
from screener.workflow.model_ai import ModelAi
from screener.workflow.roles import Role
from screener.workflow.session import Operator, ScreeningSession, TipMode
from screener.workflow.tip_injection import TipInjector
from screener.workflow.tip_settings import DEFAULT_SETTINGS, change_settings, current_settings

SCREENER_VIEW = Role.SCREENER.value
WINDOW_SIZE = (1600, 950)


def ensure_app(argv: Sequence[str] | None = None) -> QApplication:
    """The process's QApplication (created once), with the dark theme."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv) if argv is not None else [sys.argv[0]])
    app.setApplicationName("Screener")
    app.setOrganizationName("Screener")
    apply_dark_theme(app)
    return app


@dataclass(frozen=True)
class StationOptions:
    """What the station screens with, the same for every operator who logs in."""

    ui: UiSettings = field(default_factory=UiSettings)
    presets: PresetSet | None = None
    keymap: KeyMap | None = None
    demo: Path | None = None  #: a `screener demo` folder on the demo conveyor
    watch: Path | None = None  #: a folder the scanner writes scans into
    detector: Detector | None = None
    conveyor_limit: int | None = None  #: the demo conveyor stops after this many bags
    watch_existing: bool = False  #: the watch folder's files at start are screened too
    tip_library: Path | None = None  #: the FTI library: TIP for screeners, blind tests
    tip_seed: int | None = None  #: TIP's random seed (None: a fresh one per session)
    autostart: bool = True  #: start the screening session when the view is made


@dataclass(eq=False)
class Workstation:
    """The screener's view and what drives it; ``window`` and ``station`` once it is in
    a shell."""

    view: ScreenerView
    controller: ScreeningController
    session: ScreeningSession
    log: AuditLog
    window: MainWindow | None = None
    station: Station | None = None

    def start(self) -> None:
        self.controller.start()

    def close(self, reason: str = "application closed") -> None:
        """End the session (or checkpoint it) and stop the threads."""
        self.controller.shutdown(reason)

    def dispose(self) -> None:
        """Close the station (if any) and delete the window now, in Qt's order."""
        if self.station is not None:
            self.station.close()  # the window goes with it
        else:
            self.close()
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


def check_sources(options: StationOptions) -> None:
    """Refuse a demo or watch folder that is not there (a ConfigError naming it)."""
    if options.demo is not None:
        demo_files(options.demo)
    if options.watch is not None and not options.watch.is_dir():
        raise ConfigError("--watch", "folder", f"{options.watch} is not a folder")


def tip_mode(library: FtiLibrary, log: AuditLog, seed: int) -> TipMode:
    """TIP at a station: the site's current settings (a supervisor's latest change, else
    the defaults), followed at every bag."""
    settings = current_settings(log.engine) or DEFAULT_SETTINGS
    injector = TipInjector(library, TipScheduler(settings, seed), seed=seed,
                           settings_from=log.engine)
    return TipMode(injector)


def build_workstation(context: ViewContext, options: StationOptions, *,
                      library: FtiLibrary | None = None,
                      parent: QWidget | None = None) -> Workstation:
    """The screener's view for the operator of ``context``, not yet started (call
    ``start``). ``library``: TIP runs with it."""
    ui = options.ui
    presets = options.presets or shipped_presets()
    keymap = options.keymap or load_keymap(None, presets)
    settings, log, detector = context.settings, context.log, options.detector
    tip = None
    if library is not None:
        tip = tip_mode(library, log, secrets.randbelow(2**31) if options.tip_seed is None
                       else options.tip_seed)
    files = None if options.demo is None else demo_files(options.demo)
    check_sources(options)  # before any thread starts
    session = ScreeningSession(log, context.operator, detector=detector, lane=settings.lane,
                               tip=tip)
    controller = ScreeningController(session, context.store, ui, presets, detector=detector,
                                     limits=settings.scan_limits)
    try:
        if files is not None:
            controller.add_conveyor(DemoConveyor(controller.queue, files, ui.bags_per_minute,
                                                 limit=options.conveyor_limit,
                                                 parent=controller))
        if options.watch is not None:
            controller.add_watch(WatchFolder(controller.queue, options.watch,
                                             ui.watch_poll_s,
                                             include_existing=options.watch_existing,
                                             parent=controller))
        view = ScreenerView(controller, keymap, parent)
    except Exception:
        controller.shutdown("the screener view could not be made")
        raise
    controller.setParent(view)  # goes with the view
    ai_warm = detector.warm_up if isinstance(detector, ModelAi) else None
    controller.warm_up(ai_warm, warm_calibrations)
    return Workstation(view, controller, session, log)


class Station(QObject):
    """The application at one station: first run, login, the operator's shell, logout.

    Signals: ``shell_opened(MainWindow)`` after a login; ``quit_requested`` when the
    operator quits (the application connects it to ``QApplication.quit``)."""

    shell_opened = Signal(object)  # MainWindow
    quit_requested = Signal()

    def __init__(self, settings: Settings, options: StationOptions | None = None, *,
                 log: AuditLog | None = None, accounts: Accounts | None = None,
                 demo: bool = False,
                 view_overrides: Mapping[Role, role_views.ViewFactory] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.options = options or StationOptions()
        self.owns_log = log is None
        self.log = log or open_audit_log(settings.home, settings.station,
                                         url=settings.audit_db or None,
                                         checkpoint_every=settings.checkpoint_every)
        self.accounts = accounts or Accounts(self.log)
        self.store = ScanStore(settings.scan_store, settings.scan_limits)
        self.demo = demo
        self.view_overrides = dict(view_overrides or {})
        self.window: MainWindow | None = None
        self.workstation: Workstation | None = None
        self.login_dialog: LoginDialog | None = None
        self.first_run_dialog: FirstRunDialog | None = None
        self.authenticated: Operator | None = None  #: logged in through the login screen
        self._library: FtiLibrary | None = None
        self.closed = False

    # ------------------------------------------------------------------ before login
    def begin(self) -> QWidget:
        """The first screen: the first-run dialog on an installation without accounts,
        else the login dialog."""
        if self.accounts.is_empty():
            return self.show_first_run()
        return self.show_login()

    def show_first_run(self) -> FirstRunDialog:
        if self.first_run_dialog is None:
            dialog = FirstRunDialog(self.accounts, self.settings.station)
            dialog.created.connect(self._admin_created)
            dialog.rejected.connect(self.quit)
            self.first_run_dialog = dialog
        self.first_run_dialog.show()
        self.first_run_dialog.raise_()
        self.first_run_dialog.activateWindow()
        return self.first_run_dialog

    def _admin_created(self, account: object) -> None:
        user_id = getattr(account, "user_id", "")
        self.show_login(user_id, f"Administrator {user_id} created: log in with the new "
                        "password.", "ok")
        if self.first_run_dialog is not None:
            self.first_run_dialog.hide()

    def show_login(self, user_id: str = "", message: str = "", level: str = "") -> LoginDialog:
        if self.login_dialog is None:
            demo_users = [(user, role, password) for user, role, password in DEMO_USERS]
            dialog = LoginDialog(self.accounts, self.settings.station, demo=self.demo,
                                 demo_users=demo_users)
            dialog.logged_in.connect(self._logged_in)
            dialog.rejected.connect(self.quit)
            self.login_dialog = dialog
        self.login_dialog.reset(user_id, message, level)
        self.login_dialog.show()
        self.login_dialog.raise_()
        self.login_dialog.activateWindow()
        return self.login_dialog

    def _logged_in(self, operator: object) -> None:
        assert isinstance(operator, Operator)
        self.authenticated = operator
        window = self.open_shell(operator)
        window.resize(*WINDOW_SIZE)
        window.show()
        window.activateWindow()
        if self.login_dialog is not None:
            self.login_dialog.hide()

    # ------------------------------------------------------------------ the shell
    def context_for(self, operator: Operator) -> ViewContext:
        return ViewContext(self.settings, self.log, self.accounts, operator, self.store,
                           tip_library=self.options.tip_library)

    def open_shell(self, operator: Operator) -> MainWindow:
        """The shell for ``operator`` with their role's first view open (not shown)."""
        if self.window is not None:
            raise ScreenerError(f"{self.window.operator.id} is still logged in at this "
                                "station: log out first")
        views = role_views.registry(self._make_screener_view, self.view_overrides)
        window = MainWindow(self.context_for(operator), views, demo=self.demo)
        window.logout_requested.connect(self.logout)
        window.quit_requested.connect(self.quit)
        window.on_close(self._window_closed)
        window.set_audit_head(self.log.head())
        self.window = window
        offered = window.offered_views()
        if offered:
            window.open_view(offered[0])
        if self.workstation is not None:
            self.workstation.window = window
        self.shell_opened.emit(window)
        return window

    def _make_screener_view(self, context: ViewContext, parent: QWidget | None) -> QWidget:
        workstation = build_workstation(context, self.options, library=self.tip_library(),
                                        parent=parent)
        workstation.station = self
        workstation.window = self.window
        self.workstation = workstation
        workstation.controller.audit_head.connect(self._audit_head)
        workstation.controller.ai_status.connect(self._ai_status)
        if self.options.detector is None:
            self._ai_status("AI unavailable: no detector configured")
        if self.options.autostart:
            workstation.start()
        return workstation.view

    def tip_library(self) -> FtiLibrary | None:
        """The station's FTI library (read once), or None without one."""
        if self._library is None and self.options.tip_library is not None:
            self._library = read_library(self.options.tip_library)
        return self._library

    def _audit_head(self, event: EventRecord | None) -> None:
        if self.window is not None:
            self.window.set_audit_head(event)

    def _ai_status(self, text: str) -> None:
        if self.window is not None:
            self.window.set_ai_status(text)

    # ------------------------------------------------------------------ leaving
    def logout(self) -> bool:
        """End the operator's work (the screening session ends), log ``auth.logout`` and
        go back to the login screen. False, with the reason shown, while a view says the
        operator must not leave yet (a received bag undecided)."""
        window = self.window
        if window is None:
            return False
        reason = window.busy_reason()
        if reason:
            window.show_notice(f"Cannot log out yet. {sentence(reason)}")
            return False
        user_id = window.operator.id
        problem = self._end_shell("logged out")
        self.show_login("", problem or f"{user_id} logged out.", "error" if problem else "")
        return True

    def _end_shell(self, reason: str) -> str | None:
        """Shut the views down, log ``auth.logout`` (after a login) and close the window.
        Returns what could not be recorded, if anything."""
        window, self.window = self.window, None
        if window is None:
            return None
        window.shutdown_views(reason)
        problem = None
        operator, self.authenticated = self.authenticated, None
        if operator is not None:
            try:
                self.accounts.logout(operator, reason)
            except ScreenerError as exc:
                problem = sentence(f"logged out, but the audit log could not record it: {exc}")
        self.workstation = None
        window.closing_quietly = True
        window.close()
        window.deleteLater()
        return problem

    def _window_closed(self) -> None:
        """The operator closed the window: as Quit."""
        self._end_shell("application closed")
        self.quit_requested.emit()

    def quit(self) -> None:
        """Leave the application: the operator's work ends as at logout, then the
        application is asked to quit."""
        self._end_shell("application closed")
        for dialog in (self.login_dialog, self.first_run_dialog):
            if dialog is not None:
                dialog.hide()
        self.quit_requested.emit()

    def close(self) -> None:
        """At the end: the shell ends, the dialogs go, the log is closed (if ours)."""
        if self.closed:
            return
        self.closed = True
        self._end_shell("application closed")
        for dialog in (self.login_dialog, self.first_run_dialog):
            if dialog is not None:
                dialog.hide()
                dialog.deleteLater()
        if self.owns_log:
            # an unavailable log: what was committed stays committed
            with contextlib.suppress(ScreenerError):
                self.log.close("application closed")


def open_screening(settings: Settings, options: StationOptions | None = None, *,
                   operator: str = "screener", log: AuditLog | None = None) -> Workstation:
    """A station with ``operator`` (role screener) at the screener view, without the login
    screen: for tests and the UI benchmark. The window is not shown yet."""
    station = Station(settings, options, log=log)
    station.open_shell(Operator(operator, Role.SCREENER))
    workstation = station.workstation
    if workstation is None:
        raise ScreenerError("the screener view could not be made")
    return workstation


#: Demo mode's TIP rates, set once by the demo supervisor (logged like any change): high
#: enough that a demo screener meets fictional threats within a 20-bag demo stream.
DEMO_TIP_RATES = (0.15, 0.25)


def prepare_accounts(accounts: Accounts, demo: bool) -> bool:
    """Demo mode on a new installation (or one that has only the demo accounts): make
    the demo accounts and, if no supervisor has set TIP rates yet, the demo rates. True
    when the login screen is in demo mode."""
    if demo and (accounts.is_empty() or accounts.demo_mode):
        accounts.seed_demo_users()
        if current_settings(accounts.engine) is None:
            supervisor = next(user for user, role, _ in DEMO_USERS if role is Role.SUPERVISOR)
            change_settings(accounts.log, Operator(supervisor, Role.SUPERVISOR),
                            min_rate=DEMO_TIP_RATES[0], max_rate=DEMO_TIP_RATES[1],
                            weights=DEFAULT_SETTINGS.weights)
    return accounts.demo_mode


def run_from_args(args: argparse.Namespace) -> int:
    """``screener gui``: open the station, show the first screen, run the event loop."""
    settings: Settings = args.settings
    if args.demo is None and args.watch is None:
        raise ScreenerError("say where bags come from: --demo DIR (make one with `screener "
                            "demo --out DIR`) or --watch DIR")
    presets = load_presets(args.presets) if args.presets else shipped_presets()
    ui = load_ui_settings(args.ui_settings).replace(
        bags_per_minute=args.bags_per_minute, ai_mode=args.ai_mode,
        decision_time_s=args.decision_time)
    keymap = load_keymap(args.keys, presets)
    check_sources(StationOptions(demo=args.demo, watch=args.watch))
    library = None if args.no_tip else args.tip_library
    if library is None and args.demo is not None and not args.no_tip:
        from screener.cli.tip_library import ensure_simulation_library, simulation_library_path

        if not simulation_library_path(settings.home).exists():
            print("Building the simulated FTI library for TIP (once, a few seconds) in "
                  f"{simulation_library_path(settings.home)}", file=sys.stderr)
        library = ensure_simulation_library(settings.home)
    detector: Detector | None = None if args.no_ai else ModelAi(args.model)
    options = StationOptions(ui=ui, presets=presets, keymap=keymap, demo=args.demo,
                             watch=args.watch, detector=detector, tip_library=library)
    if library is not None:
        read_library(library)  # a missing or damaged library is refused now, naming it
    app = ensure_app()
    log = open_audit_log(settings.home, settings.station, url=settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    accounts = Accounts(log)
    try:
        demo = prepare_accounts(accounts, args.demo is not None)
    except ScreenerError:
        log.close("application closed")
        raise
    station = Station(settings, options, log=log, accounts=accounts, demo=demo)
    station.owns_log = True
    station.quit_requested.connect(app.quit)
    station.begin()
    if args.quit_after is not None:
        QTimer.singleShot(round(args.quit_after * 1000), station.quit)
    code = app.exec()
    station.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return int(code)


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
