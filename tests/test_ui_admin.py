"""The administrator's view (issue 7, item 1, the admin part): accounts (create, unlock,
change role, disable, reset a password; policy and mismatch errors next to the fields),
station keys (checkpoint now, rotation as ``screener audit key rotate`` does), retention
(dry run and purge, held scans kept), and every change refused and logged for a
non-administrator. ``SCREENER_UPDATE_SCREENSHOTS=1`` also writes
docs/screenshots/admin-view.png."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import make_synthetic_scan
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from screener.accounts.users import AccountLockedError, Accounts, LoginError
from screener.audit.cases import place_hold
from screener.audit.chain import EventRecord
from screener.audit.database import create_audit_engine
from screener.audit.keys import key_path, load_key
from screener.audit.log import open_audit_log
from screener.audit.pins import station_expectations
from screener.audit.query import events_in_range
from screener.audit.verify import verify_database
from screener.config import Settings
from screener.scan.store import ScanStore
from screener.ui.admin_view import KEYS_TAB, RETENTION_TAB, AdminView
from screener.ui.app import ensure_app
from screener.ui.context import ViewContext
from screener.workflow.decisions import Decision
from screener.workflow.roles import KIND_AUTH_DENIED, Role
from screener.workflow.session import IncomingBag, Operator, ScreeningSession

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
MAX_BYTES = 500 * 1024
STATION = "admin-station"
PASSWORD = "correct horse 7"
CHIEF = Operator("chief", Role.ADMIN)
WAIT = 30_000
OLD = time.time() - 40 * 86_400  # 40 days ago


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A station home made once: accounts (one locked out), three screened bags, and two
    old stored scans no event names, one of them on hold under CASE-1."""
    home = tmp_path_factory.mktemp("admin") / "home"
    log = open_audit_log(home, STATION, checkpoint_every=100)
    accounts = Accounts(log, max_failures=2)
    accounts.create_first_admin("chief", PASSWORD, "Chief administrator")
    for user, role, name in (("op-1", Role.SCREENER, "Ana Ortiz"),
                             ("op-2", Role.SCREENER, "Bo Lind"),
                             ("inv1", Role.INVESTIGATOR, "Ida Nkemelu"),
                             ("sup1", Role.SUPERVISOR, "Sam Okafor")):
        accounts.create(CHIEF, user, role, PASSWORD, name)
    for _ in range(2):
        with pytest.raises(LoginError):
            accounts.login("op-2", "wrong password!")
    with pytest.raises(AccountLockedError):
        accounts.login("op-2", PASSWORD)
    store = ScanStore(home / "scans")
    session = ScreeningSession(log, Operator("op-1", Role.SCREENER))
    session.start()
    for seed in (1, 2, 3):
        scan, _ = make_synthetic_scan(views=1, seed=seed)
        session.receive(IncomingBag.from_store(store, store.add_scan(scan), "file"))
        session.run_ai()
        session.decide(Decision.CLEAR, [])
    session.end()
    old, held = (store.add_scan(make_synthetic_scan(views=1, seed=seed)[0]) for seed in (8, 9))
    for digest in (old, held):
        os.utime(store.path_for(digest), (OLD, OLD))
    place_hold(log, "CASE-1", [held], actor="inv1", role="investigator",
               reason="police request")
    log.close("test setup")
    return SimpleNamespace(home=home, old=old, held=held)


@pytest.fixture
def station(template: SimpleNamespace, tmp_path: Path):
    home = tmp_path / "home"
    shutil.copytree(template.home, home)
    for digest in (template.old, template.held):  # copytree keeps times; be sure
        os.utime(ScanStore(home / "scans").path_for(digest), (OLD, OLD))
    settings = Settings(home=home, station=STATION)
    log = open_audit_log(home, STATION, checkpoint_every=100)
    yield SimpleNamespace(home=home, settings=settings, log=log, accounts=Accounts(log),
                          store=ScanStore(home / "scans"), old=template.old,
                          held=template.held)
    log.engine.dispose()


@pytest.fixture
def make_view(qapp, qtbot, station):
    ensure_app()
    made: list[AdminView] = []

    def make(operator: Operator = CHIEF) -> AdminView:
        context = ViewContext(station.settings, station.log, station.accounts, operator,
                              station.store)
        view = AdminView(context)
        qtbot.addWidget(view)
        view.resize(1600, 900)
        view.show()
        view.activateWindow()
        qtbot.waitExposed(view)
        qtbot.waitUntil(lambda: view.users.model.rowCount() > 0, timeout=WAIT)
        # every panel's first read (users, keys, retention) shares the view's queue
        qtbot.waitUntil(lambda: not view.tasks.busy, timeout=WAIT)
        made.append(view)
        return view

    yield make
    for view in made:
        view.wait_idle()


def logged(station: SimpleNamespace, kind: str) -> list[EventRecord]:
    return [e for e in events_in_range(station.log.engine, STATION, 1, 10**6) if e.kind == kind]


def changes(station: SimpleNamespace) -> list[tuple[str, str, str]]:
    return [(e.actor, json.loads(e.payload)["user"], json.loads(e.payload)["change"])
            for e in logged(station, "user.changed")]


def finish(qtbot, panel) -> None:
    """Wait for the panel's change to be done and its list read again."""
    qtbot.waitUntil(lambda: not panel.tasks.busy, timeout=WAIT)


# ---------------------------------------------------------------------- users
def test_the_list_shows_roles_and_states(make_view):
    view = make_view()
    model = view.users.model
    rows = {model.data(model.index(r, 0)): (model.data(model.index(r, 1)),
                                            model.data(model.index(r, 2)))
            for r in range(model.rowCount())}
    assert rows["chief"] == ("admin", "active")
    assert rows["inv1"] == ("investigator", "active")
    assert rows["op-2"][0] == "screener" and rows["op-2"][1].startswith("locked until")


def test_admin_creates_a_user(make_view, qtbot, station):
    view = make_view()
    users = view.users
    users.new_id.setText("op-9")
    users.new_name.setText("Noor Haddad")
    users.new_role.setCurrentIndex(users.new_role.findData(Role.TRAINER))
    users.new_password.setText("seven words long")
    users.new_repeat.setText("seven words lunk")
    users.create_button.click()
    assert users.create_errors["repeat"].text() == "the two passwords differ"
    assert not users.tasks.busy  # nothing was sent to the core

    users.new_repeat.setText("short")
    users.new_password.setText("short")
    users.create_button.click()
    qtbot.waitUntil(lambda: users.create_errors["password"].isVisible(), timeout=WAIT)
    assert "at least 8 characters" in users.create_errors["password"].text()

    users.new_password.setText("seven words long")
    users.new_repeat.setText("seven words long")
    qtbot.keyClick(users.new_repeat, Qt.Key.Key_Return)  # Enter creates
    qtbot.waitUntil(lambda: users.model.row_of("op-9") >= 0, timeout=WAIT)
    account = station.accounts.get("op-9")
    assert (account.role, account.display_name) == (Role.TRAINER, "Noor Haddad")
    assert users.selected() is not None and users.selected().user_id == "op-9"
    assert users.status.level == "ok" and users.new_id.text() == ""
    (created,) = [e for e in logged(station, "user.created")
                  if json.loads(e.payload)["user"] == "op-9"]
    assert created.actor == "chief" and json.loads(created.payload)["role"] == "trainer"
    assert "seven words" not in created.payload


def test_admin_unlocks_changes_a_role_disables_and_resets(make_view, qtbot, station):
    view = make_view()
    users = view.users
    assert users.select_user("op-2") and users.unlock_button.isEnabled()
    users.unlock_button.click()
    finish(qtbot, users)
    assert station.accounts.get("op-2").locked_until_utc is None
    row = users.model.row_of("op-2")
    assert users.model.state(row) == "active"

    assert users.select_user("op-1")
    users.role.setCurrentIndex(users.role.findData(Role.SUPERVISOR))
    users.role_button.click()
    finish(qtbot, users)
    assert station.accounts.get("op-1").role is Role.SUPERVISOR

    users.disable_button.click()
    finish(qtbot, users)
    assert station.accounts.get("op-1").disabled
    assert users.disable_button.text() == "&Enable"
    users.disable_button.click()
    finish(qtbot, users)
    assert not station.accounts.get("op-1").disabled

    users.reset_password.setText("a fresh secret 9")
    users.reset_repeat.setText("a fresh secret 9")
    users.reset_button.click()
    finish(qtbot, users)
    assert station.accounts.login("op-1", "a fresh secret 9").role is Role.SUPERVISOR
    assert changes(station) == [("chief", "op-2", "unlocked"),
                                ("chief", "op-1", "role set to supervisor"),
                                ("chief", "op-1", "disabled"), ("chief", "op-1", "enabled"),
                                ("chief", "op-1", "password reset")]

    # the core's own rules come back as messages
    assert users.select_user("chief")
    users.role.setCurrentIndex(users.role.findData(Role.SCREENER))
    users.role_button.click()
    finish(qtbot, users)
    assert users.status.level == "error" and "own admin role" in users.status.text()


def test_a_non_administrator_is_refused_and_the_attempt_logged(make_view, qtbot, station):
    view = make_view(Operator("inv1", Role.INVESTIGATOR))
    users = view.users
    users.new_id.setText("mallory")
    users.new_password.setText("let me in please")
    users.new_repeat.setText("let me in please")
    users.create_button.click()
    finish(qtbot, users)
    assert users.status.level == "error" and "may not manage users" in users.status.text()
    assert users.select_user("op-2")
    users.unlock_button.click()
    finish(qtbot, users)
    view.show_tab(KEYS_TAB)
    view.keys.rotate_button.click()
    view.keys.rotate_confirm.click()
    qtbot.waitUntil(lambda: view.keys.status.level == "error", timeout=WAIT)
    assert "may not manage station keys" in view.keys.status.text()
    view.show_tab(RETENTION_TAB)
    view.retention.days.setValue(30)
    view.retention.purge_button.click()
    view.retention.purge_confirm.click()
    qtbot.waitUntil(lambda: view.retention.summary.level == "error", timeout=WAIT)
    denied = logged(station, KIND_AUTH_DENIED)
    assert [json.loads(e.payload)["action"] for e in denied] == [
        "users.manage", "users.manage", "keys.manage", "retention.manage"]
    assert {(e.actor, e.role) for e in denied} == {("inv1", "investigator")}
    with pytest.raises(Exception, match="no account"):
        station.accounts.get("mallory")
    assert station.accounts.get("op-2").locked_until_utc is not None
    assert station.store.path_for(station.old).is_file()
    assert load_key(key_path(station.home, STATION)).fingerprint == station.log.key.fingerprint


# ---------------------------------------------------------------------- keys
def test_checkpoint_now_and_key_rotation(make_view, qtbot, station):
    station.log.append("test.after_setup")  # the head is not yet checkpointed
    view = make_view()
    view.show_tab(KEYS_TAB)
    keys = view.keys
    qtbot.waitUntil(lambda: keys.state is not None, timeout=WAIT)
    old = station.log.key.fingerprint
    assert keys.values["full"].text() == old
    assert "not yet" in keys.values["covered"].text()
    keys.checkpoint_button.click()
    qtbot.waitUntil(lambda: keys.status.level == "ok", timeout=WAIT)
    qtbot.waitUntil(lambda: "manual checkpoint" in keys.values["covered"].text(),
                    timeout=WAIT)

    keys.rotate_button.click()
    assert keys.confirm.isVisible()
    keys.rotate_cancel.click()
    assert not keys.confirm.isVisible() and station.log.key.fingerprint == old
    keys.rotate_button.click()
    with qtbot.waitSignal(keys.changed, timeout=WAIT):
        keys.rotate_confirm.click()
    new = station.log.key.fingerprint
    assert new != old and load_key(key_path(station.home, STATION)).fingerprint == new
    assert (station.home / "keys" / f"{STATION}.ed25519.pem.retired-{old[:8]}").is_file()
    qtbot.waitUntil(lambda: keys.values["full"].text() == new, timeout=WAIT)
    (rotated,) = logged(station, "station.key_rotated")
    assert rotated.actor == "chief" and json.loads(rotated.payload)["fingerprint"] == new
    engine = create_audit_engine(station.settings.audit_url, create=False)
    try:
        (report,) = verify_database(engine, station_expectations(station.settings.home))
    finally:
        engine.dispose()
    assert report.ok, report.findings
    assert station.log.append("test.after_rotation").seq > rotated.seq  # the log goes on


# ---------------------------------------------------------------------- retention
def test_retention_dry_run_and_purge_keep_held_scans(make_view, qtbot, station):
    view = make_view()
    view.show_tab(RETENTION_TAB)
    retention = view.retention
    retention.days.setValue(30)
    with qtbot.waitSignal(retention.reviewed, timeout=WAIT) as reviewed:
        retention.dry_run_button.click()
    plan = reviewed.args[0].plan
    assert (plan.purge, plan.held, plan.kept) == ((station.old,), (station.held,), 3)
    statuses = {row.scan_sha256: row.status for row in retention.model.rows}
    assert statuses == {station.old: "to delete", station.held: "on hold: CASE-1"}
    assert "Would delete 1 scan file(s)" in retention.summary.text()
    assert station.store.path_for(station.old).is_file() and not logged(station,
                                                                        "retention.purged")
    retention.purge_button.click()
    with qtbot.waitSignal(retention.purged, timeout=WAIT):
        retention.purge_confirm.click()
    assert not station.store.path_for(station.old).exists()
    assert station.store.path_for(station.held).is_file()
    (purged,) = logged(station, "retention.purged")
    assert json.loads(purged.payload)["scans"] == [station.old] and purged.actor == "chief"
    assert {row.scan_sha256: row.status for row in retention.model.rows} == {
        station.old: "deleted", station.held: "on hold: CASE-1"}


# ---------------------------------------------------------------------- the picture
def test_screenshot_of_the_admin_view(make_view, qtbot, tmp_path):
    view = make_view()
    users = view.users
    assert users.select_user("op-2")
    users.new_id.setText("op-17")
    users.new_name.setText("Lea Varga")
    users.new_role.setCurrentIndex(users.new_role.findData(Role.SCREENER))
    users.table.setFocus()
    QApplication.processEvents()  # the layout catches up with the texts set last
    image = view.grab().toImage()
    assert image.width() >= 1600 and image.height() >= 900
    assert image.save(str(tmp_path / "admin-view.png"), "PNG", 0)
    if os.environ.get("SCREENER_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        target = DOCS / "admin-view.png"
        small = image.convertToFormat(QImage.Format.Format_Indexed8,
                                      Qt.ImageConversionFlag.DiffuseDither)
        assert small.save(str(target), "PNG", 0)
        assert target.stat().st_size < MAX_BYTES, "screenshot too large for the docs"
