"""Role boundaries at the workstation: the menu offers only the operator's views, the
shell's API refuses the others through the workflow's guard (``auth.denied`` in the
chain), and the workflow refuses a session to a role that may not screen."""

from __future__ import annotations

import json

import pytest
import ui_fixtures
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from ui_fixtures import FakeView, log_in, station_events

from screener.ui.app import build_workstation
from screener.ui.screener_view import ScreenerView
from screener.workflow.errors import PermissionDenied
from screener.workflow.roles import Role
from screener.workflow.session import Operator

# the shared fixtures, by assignment (pytest finds them in this module)
make_station = ui_fixtures.make_station

TITLES = {"screener": "Screening", "supervisor": "Supervision", "trainer": "Training",
          "investigator": "Investigation", "admin": "Administration"}


def _denied(station):
    return [(e.actor, e.role, json.loads(e.payload)) for e in station_events(station,
                                                                             "auth.denied")]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_is_offered_its_own_view_only(make_station, role):
    station = make_station()
    window = station.open_shell(Operator(f"{role.value}-7", role))
    assert window.offered_views() == [role.value]
    menu = [a.text().replace("&", "") for a in window.view_menu.actions()]
    assert menu == [f"1  {TITLES[role.value]}"]
    current = window.current_view()
    if role is Role.SCREENER:
        assert isinstance(current, ScreenerView)
    else:
        assert isinstance(current, FakeView)
        assert current.context.operator == Operator(f"{role.value}-7", role)
        assert current.context.log is station.log
    station.logout()
    if isinstance(current, FakeView):
        assert current.shutdowns == ["logged out"]


def test_a_screener_cannot_open_other_views_and_each_attempt_is_logged(make_station, qtbot):
    station = make_station(demo=True)
    station.begin()
    log_in(qtbot, station, "screener1", "screener-demo")
    qtbot.waitUntil(lambda: station.window is not None, timeout=10_000)
    window = station.window
    for name in ("supervisor", "investigator"):
        with pytest.raises(PermissionDenied, match="may not"):
            window.open_view(name)
        assert name not in window.offered_views()
        assert window.view(name) is None  # never made
    assert isinstance(window.current_view(), ScreenerView)
    assert "refused and logged" in window.notice.text()
    denied = _denied(station)
    assert [(actor, role) for actor, role, _ in denied] == [("screener1", "screener")] * 2
    assert [p["action"] for _, _, p in denied] == ["tip.configure", "evidence.export"]
    assert denied[0][2]["allowed_roles"] == ["supervisor"]
    assert denied[0][2]["subject"] == "Supervision view"
    assert not FakeView.made or all(v.context.operator.role is not Role.SCREENER
                                    for v in FakeView.made)


def test_a_supervisor_cannot_open_the_screener_view(make_station):
    station = make_station()
    window = station.open_shell(Operator("sup-2", Role.SUPERVISOR))
    with pytest.raises(PermissionDenied):
        window.open_view("screener")
    assert station.workstation is None  # no screening session was made
    (denied,) = _denied(station)
    assert denied[:2] == ("sup-2", "supervisor")
    assert denied[2]["action"] == "screening.decide"
    assert not [e for e in station_events(station) if e.kind == "session.started"]


def test_the_workflow_refuses_a_session_to_a_role_that_may_not_screen(
        make_station, qtbot):
    """Built past the shell, the screener view still cannot screen for a trainer: the
    session's own guard refuses and logs it."""
    station = make_station()
    context = station.context_for(Operator("trainer-3", Role.TRAINER))
    workstation = build_workstation(context, station.options)
    workstation.start()
    qtbot.waitUntil(lambda: "could not start" in workstation.view.message_label.text(),
                    timeout=10_000)
    assert "may not" in workstation.view.message_label.text()
    workstation.close()
    workstation.view.deleteLater()
    (denied,) = _denied(station)
    assert denied[:2] == ("trainer-3", "trainer")
    assert denied[2]["action"] == "screening.decide"


def test_the_menu_help_and_a_view_that_cannot_be_made(make_station, qtbot):
    def broken(context, parent=None):
        raise ImportError("No module named 'screener.ui.admin_view'")

    station = make_station(overrides={Role.ADMIN: broken})
    window = station.open_shell(Operator("root-1", Role.ADMIN))
    window.show()
    qtbot.waitExposed(window)
    label = window.current_view().findChild(QLabel)
    assert "The Administration view is not available" in label.text()
    assert "admin_view" in label.text()
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&View", "&Session", "&Help"]
    assert window.logout_action.shortcut().toString() == "Ctrl+L"
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    dialog = window.show_shortcuts()
    keys = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    assert {"Ctrl+L", "Ctrl+Q", "Ctrl+/"} <= set(keys)
    dialog.close()


def test_the_screener_help_lists_the_screen_keys_and_quit_ends_the_session(
        make_station, qtbot):
    station = make_station()
    quits = []
    station.quit_requested.connect(lambda: quits.append(True))
    window = station.open_shell(Operator("op-9", Role.SCREENER))
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: station.workstation.controller.started, timeout=10_000)
    rows = dict((does, keys) for keys, does in window.shortcut_rows())
    assert rows["Clear the bag"] == "Space, C"
    assert rows["Suspect: send the bag to search (with your marks)"] == "S"
    assert rows["Enhancement function: Metal only"] == "F6"
    qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert quits == [True] and station.window is None
    kinds = [e.kind for e in station_events(station)]
    assert kinds[-1] == "session.ended"


def test_the_real_role_views_open_in_the_shell_and_close_at_logout(make_station, qtbot):
    """Each role's own view module (imported by name when first opened) is made with the
    operator's context, and goes at logout."""
    from screener.ui.role_views import VIEW_CLASSES

    station = make_station(overrides={})
    for role, (module, name) in VIEW_CLASSES.items():
        window = station.open_shell(Operator(f"{role.value}-1", role))
        view = window.current_view()
        assert type(view).__name__ == name and type(view).__module__ == module
        assert station.logout()
        assert station.window is None
