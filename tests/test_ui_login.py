"""Logging in at the workstation: the core's messages on the screen, lockout, the first
administrator, demo mode, logging out."""

from __future__ import annotations

import json

import ui_fixtures
from PySide6.QtCore import Qt
from ui_fixtures import FakeView, log_in, save_screenshot, station_events

from screener.accounts.users import DEMO_USERS
from screener.ui.login import FirstRunDialog, LoginDialog
from screener.ui.screener_view import ScreenerView
from screener.workflow.roles import Role

# the shared fixtures, by assignment (pytest finds them in this module)
make_station = ui_fixtures.make_station


def _payloads(station, kind):
    return [json.loads(e.payload) for e in station_events(station, kind)]


def test_demo_mode_says_so_lists_the_demo_accounts_and_logs_a_screener_in(
        make_station, qtbot, tmp_path):
    station = make_station(demo=True)
    dialog = station.begin()
    assert isinstance(dialog, LoginDialog)
    qtbot.waitExposed(dialog)
    banner = dialog.findChild(type(dialog.card), "demoBanner")
    assert banner is not None and banner.isVisible()
    texts = " ".join(label.text() for label in banner.findChildren(type(dialog.message)))
    assert "DEMO MODE" in texts and "Not for operational use" in texts
    for user, role, password in DEMO_USERS:
        assert user in texts and password in texts and role.value.capitalize() in texts
    dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSize()))
    save_screenshot(dialog.grab().toImage(), "login.png", tmp_path, palette=False)

    qtbot.mouseClick(dialog.demo_buttons["screener1"], Qt.MouseButton.LeftButton)
    assert (dialog.user.text(), dialog.password.text()) == ("screener1", "screener-demo")
    qtbot.keyClick(dialog.login_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: station.window is not None, timeout=10_000)
    window = station.window
    assert not dialog.isVisible()
    assert window.demo and "DEMO" in window.windowTitle()
    assert isinstance(window.current_view(), ScreenerView)
    assert window.offered_views() == ["screener"]
    (login,) = _payloads(station, "auth.login")
    assert login == {"user": "screener1", "role": "screener", "demo": True}


def test_a_wrong_password_and_an_unknown_id_get_the_same_message(make_station, qtbot):
    station = make_station(demo=True)
    dialog = station.begin()
    log_in(qtbot, station, "screener1", "not-the-password")
    assert dialog.message.text() == "Unknown user id or wrong password."
    assert dialog.message.property("level") == "error"
    assert dialog.password.text() == "" and station.window is None
    log_in(qtbot, station, "nobody", "whatever-it-is")
    assert dialog.message.text() == "Unknown user id or wrong password."
    reasons = [p["reason"] for p in _payloads(station, "auth.failed")]
    assert reasons == ["wrong password", "unknown user id"]  # the log knows which
    log_in(qtbot, station, "", "x")
    assert dialog.message.text() == "Enter your operator ID."


def test_repeated_failures_lock_the_account_and_the_screen_says_until_when(
        make_station, qtbot):
    station = make_station(demo=True, max_failures=3)
    dialog = station.begin()
    for _ in range(2):
        log_in(qtbot, station, "trainer1", "wrong-password-1")
        assert dialog.message.text() == "Unknown user id or wrong password."
    log_in(qtbot, station, "trainer1", "wrong-password-1")
    locked = dialog.message.text()
    assert locked.startswith("Account trainer1 is locked after repeated failed logins until")
    assert "UTC; an administrator can unlock it." in locked
    log_in(qtbot, station, "trainer1", "trainer-demo")  # the right password: still locked
    assert dialog.message.text() == locked
    assert station.window is None
    assert [p["user"] for p in _payloads(station, "auth.locked")] == ["trainer1"]
    assert _payloads(station, "auth.failed")[-1]["reason"] == "account locked"


def test_first_run_creates_the_administrator_who_then_logs_in(make_station, qtbot):
    station = make_station()  # no account, not demo
    dialog = station.begin()
    assert isinstance(dialog, FirstRunDialog)
    qtbot.keyClicks(dialog.user, "chief")
    qtbot.keyClicks(dialog.password, "correct horse")
    qtbot.keyClicks(dialog.repeat, "correct hose")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    assert dialog.message.text().startswith("The two passwords differ")
    dialog.password.setText("short")
    qtbot.keyClicks(dialog.repeat, "short")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.worker.running)
    assert dialog.message.text() == "The password must have at least 8 characters."
    assert station.accounts.is_empty()
    dialog.password.setText("correct horse")
    dialog.repeat.setText("correct horse")
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: station.login_dialog is not None
                    and station.login_dialog.isVisible(), timeout=10_000)
    login = station.login_dialog
    assert not dialog.isVisible()
    assert login.user.text() == "chief" and "Administrator chief created" in login.message.text()
    assert login.findChild(type(login.card), "demoBanner") is None  # not demo mode
    (created,) = _payloads(station, "user.created")
    assert created == {"user": "chief", "role": "admin", "first_run": True, "demo": False}
    qtbot.keyClicks(login.password, "correct horse")
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: station.window is not None, timeout=10_000)
    assert station.window.offered_views() == ["admin"]
    assert isinstance(station.window.current_view(), FakeView)
    assert station.window.current_view().context.operator.role is Role.ADMIN


def test_log_out_ends_the_session_logs_it_and_returns_to_the_login_screen(
        make_station, qtbot):
    station = make_station(demo=True)
    dialog = station.begin()
    log_in(qtbot, station, "screener1", "screener-demo")
    qtbot.waitUntil(lambda: station.window is not None, timeout=10_000)
    window = station.window
    workstation = station.workstation
    qtbot.waitUntil(lambda: workstation.controller.started, timeout=10_000)
    window.show()
    qtbot.waitExposed(window)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)  # Log out
    qtbot.waitUntil(lambda: dialog.isVisible())
    assert station.window is None
    assert dialog.message.text() == "screener1 logged out."
    kinds = [e.kind for e in station_events(station)
             if e.kind.startswith(("session.", "auth."))]
    assert kinds[-4:] == ["auth.login", "session.started", "session.ended", "auth.logout"]
    assert _payloads(station, "auth.logout") == [{"user": "screener1", "reason": "logged out"}]
    # the next operator logs in at the same station
    log_in(qtbot, station, "supervisor1", "supervisor-demo")
    qtbot.waitUntil(lambda: station.window is not None, timeout=10_000)
    assert station.window.offered_views() == ["supervisor"]


def test_demo_mode_sets_tip_rates_a_demo_screener_will_meet(tmp_path):
    from screener.accounts.users import Accounts
    from screener.audit.log import open_audit_log
    from screener.audit.query import events_of_kinds
    from screener.ui.app import DEMO_TIP_RATES, prepare_accounts
    from screener.workflow.tip_settings import KIND_TIP_SETTINGS, current_settings

    log = open_audit_log(tmp_path / "home", "demo-station")
    accounts = Accounts(log)
    assert prepare_accounts(accounts, demo=True)
    settings = current_settings(log.engine)
    assert (settings.min_rate, settings.max_rate) == DEMO_TIP_RATES
    (event,) = events_of_kinds(log.engine, [KIND_TIP_SETTINGS])
    assert event.actor == "supervisor1"
    assert prepare_accounts(accounts, demo=True)  # again: no second change
    assert len(events_of_kinds(log.engine, [KIND_TIP_SETTINGS])) == 1
    log.engine.dispose()
