"""Operator accounts: scrypt hashes, login, lockout, roles, first run, demo accounts, every
authentication event in the chain (issue 7, item 1, Qt-free part)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from screener.accounts.passwords import (
    PasswordPolicyError,
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from screener.accounts.users import (
    BAD_CREDENTIALS,
    DEMO_USERS,
    AccountError,
    AccountLockedError,
    Accounts,
    LoginError,
)
from screener.audit.log import open_audit_log
from screener.audit.query import events_in_range
from screener.errors import AuditUnavailableError
from screener.workflow.errors import PermissionDenied
from screener.workflow.roles import Role
from screener.workflow.session import Operator

STATION = "lane-3"


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def accounts(tmp_path, clock):
    log = open_audit_log(tmp_path / "home", STATION)
    made = Accounts(log, clock=clock)
    yield made
    log.engine.dispose()


def events(accounts, kind=None):
    found = events_in_range(accounts.engine, STATION, 1, 10**9)
    return [(e, json.loads(e.payload)) for e in found if kind is None or e.kind == kind]


def with_admin(accounts):
    accounts.create_first_admin("chief", "chief-pass-1")
    return accounts.login("chief", "chief-pass-1")


def test_scrypt_hashes_verify_only_the_right_password():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$15$8$1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)
    assert hash_password("correct horse") != stored  # salted
    assert not verify_password("x", "scrypt$15$8$1$not-base64$@@")
    assert not verify_password("x", "md5$abc")
    weak = hash_password("correct horse", log2_n=12)
    assert verify_password("correct horse", weak) and needs_rehash(weak)
    assert not needs_rehash(stored)


@pytest.mark.parametrize(("password", "rule"), [
    ("short", "at least 8"), ("operator7", "user id"), ("aaaaaaaaaa", "one character")])
def test_the_password_policy_says_which_rule(password, rule):
    with pytest.raises(PasswordPolicyError, match=rule):
        check_policy("operator7", password)


def test_the_first_run_creates_the_administrator_once(accounts):
    assert accounts.is_empty()
    account = accounts.create_first_admin("chief", "chief-pass-1", "Head of security")
    assert account.role is Role.ADMIN and not accounts.is_empty()
    with pytest.raises(AccountError, match="exist already"):
        accounts.create_first_admin("other", "other-pass-1")
    (event, payload), = events(accounts, "user.created")
    assert payload == {"user": "chief", "role": "admin", "first_run": True, "demo": False}
    assert event.actor == "chief"


def test_login_is_logged_and_unknown_ids_look_like_wrong_passwords(accounts):
    admin = with_admin(accounts)
    accounts.create(admin, "op-1", Role.SCREENER, "op-1-secret")
    operator = accounts.login("op-1", "op-1-secret")
    assert operator == Operator("op-1", Role.SCREENER)
    with pytest.raises(LoginError) as unknown:
        accounts.login("nobody", "whatever-1")
    with pytest.raises(LoginError) as wrong:
        accounts.login("op-1", "not-the-secret")
    assert str(unknown.value) == str(wrong.value) == BAD_CREDENTIALS
    reasons = [p["reason"] for _, p in events(accounts, "auth.failed")]
    assert reasons == ["unknown user id", "wrong password"]
    logins = [(e.actor, p["role"]) for e, p in events(accounts, "auth.login")]
    assert logins == [("chief", "admin"), ("op-1", "screener")]
    accounts.logout(operator)
    assert events(accounts, "auth.logout")[0][1]["user"] == "op-1"


def test_repeated_failures_lock_the_account_until_the_time_is_up(accounts, clock):
    admin = with_admin(accounts)
    accounts.create(admin, "op-2", Role.SCREENER, "op-2-secret")
    for _ in range(accounts.max_failures - 1):
        with pytest.raises(LoginError):
            accounts.login("op-2", "guess-1234")
    assert accounts.get("op-2").failed_attempts == accounts.max_failures - 1
    with pytest.raises(AccountLockedError) as locked:
        accounts.login("op-2", "guess-1234")
    assert locked.value.until == clock.now + accounts.lockout
    # the right password does not help while locked, and the attempt is logged
    with pytest.raises(AccountLockedError):
        accounts.login("op-2", "op-2-secret")
    (_, lock), = events(accounts, "auth.locked")
    assert lock["failures"] == accounts.max_failures
    assert events(accounts, "auth.failed")[-1][1]["reason"] == "account locked"
    clock.now += accounts.lockout + timedelta(seconds=1)
    assert accounts.login("op-2", "op-2-secret").role is Role.SCREENER
    assert accounts.get("op-2").failed_attempts == 0


def test_an_administrator_unlocks_disables_and_changes_roles(accounts):
    admin = with_admin(accounts)
    accounts.create(admin, "op-3", Role.SCREENER, "op-3-secret")
    for _ in range(accounts.max_failures):
        with pytest.raises(LoginError):
            accounts.login("op-3", "guess-1234")
    accounts.unlock(admin, "op-3")
    assert accounts.login("op-3", "op-3-secret").role is Role.SCREENER
    accounts.set_role(admin, "op-3", Role.SUPERVISOR)
    assert accounts.login("op-3", "op-3-secret").role is Role.SUPERVISOR
    accounts.set_disabled(admin, "op-3", True)
    with pytest.raises(LoginError, match="disabled"):
        accounts.login("op-3", "op-3-secret")
    with pytest.raises(AccountError, match="own account"):
        accounts.set_disabled(admin, "chief", True)
    with pytest.raises(AccountError, match="own admin role"):
        accounts.set_role(admin, "chief", Role.SCREENER)
    changes = [p["change"] for _, p in events(accounts, "user.changed")]
    assert changes == ["unlocked", "role set to supervisor", "disabled"]


def test_only_administrators_manage_accounts_and_refusals_are_logged(accounts):
    admin = with_admin(accounts)
    accounts.create(admin, "sup-1", Role.SUPERVISOR, "sup-1-secret")
    supervisor = accounts.login("sup-1", "sup-1-secret")
    with pytest.raises(PermissionDenied):
        accounts.create(supervisor, "sneaky", Role.ADMIN, "sneaky-pass")
    with pytest.raises(PermissionDenied):
        accounts.unlock(supervisor, "chief")
    denied = [p for _, p in events(accounts, "auth.denied")]
    assert len(denied) == 2 and all(p["action"] == "users.manage" for p in denied)
    with pytest.raises(AccountError, match="no account"):
        accounts.get("sneaky")


def test_passwords_change_and_never_reach_the_log(accounts):
    admin = with_admin(accounts)
    accounts.create(admin, "op-4", Role.SCREENER, "first-secret")
    operator = accounts.login("op-4", "first-secret")
    with pytest.raises(LoginError, match="current password"):
        accounts.change_password(operator, "wrong-one", "second-secret")
    accounts.change_password(operator, "first-secret", "second-secret")
    with pytest.raises(LoginError):
        accounts.login("op-4", "first-secret")
    accounts.reset_password(admin, "op-4", "third-secret")
    assert accounts.login("op-4", "third-secret") == operator
    text = " ".join(e.payload for e, _ in events(accounts))
    for secret in ("chief-pass-1", "first-secret", "second-secret", "third-secret",
                   "scrypt$"):
        assert secret not in text
    with pytest.raises(PasswordPolicyError):
        accounts.reset_password(admin, "op-4", "short")


def test_bad_user_ids_and_duplicates_are_refused(accounts):
    admin = with_admin(accounts)
    with pytest.raises(AccountError, match="letters, digits"):
        accounts.create(admin, "bad id", Role.SCREENER, "good-pass-1")
    accounts.create(admin, "op-5", Role.SCREENER, "good-pass-1")
    with pytest.raises(AccountError, match="exists already"):
        accounts.create(admin, "op-5", Role.TRAINER, "good-pass-2")


def test_demo_accounts_cover_every_role_and_stay_out_of_real_installations(accounts,
                                                                           tmp_path):
    users = accounts.seed_demo_users()
    assert {role for _, role, _ in users} == set(Role)
    assert accounts.demo_mode
    for user_id, role, password in DEMO_USERS:
        assert accounts.login(user_id, password).role is role
    assert accounts.seed_demo_users() == users  # again: nothing new
    assert all(p["demo"] for _, p in events(accounts, "user.created"))
    real = Accounts(open_audit_log(tmp_path / "real", STATION))
    with_admin(real)
    with pytest.raises(AccountError, match="real accounts"):
        real.seed_demo_users()
    assert not real.demo_mode
    real.engine.dispose()


def test_a_login_the_log_cannot_take_is_refused(accounts, monkeypatch):
    with_admin(accounts)

    def down(*args, **kwargs):
        raise AuditUnavailableError("audit.sqlite", "unreachable")

    monkeypatch.setattr(accounts.log, "append", down)
    with pytest.raises(AuditUnavailableError):
        accounts.login("chief", "chief-pass-1")


def test_the_user_command(isolated_cli, monkeypatch):
    def run(*args, stdin=""):
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return isolated_cli("user", "--password-stdin", *args)

    code, out, err = run("list")
    assert code == 0 and "no accounts yet" in out
    code, out, err = run("init", "chief", stdin="chief-pass-1\n")
    assert code == 0, err
    code, out, err = run("add", "op-9", "--role", "screener", "--as", "chief",
                         stdin="chief-pass-1\nop-9-secret\n")
    assert code == 0, err
    code, out, err = run("add", "op-10", "--role", "screener", "--as", "chief",
                         stdin="wrong-pass-1\nop-10-secret\n")
    assert code == 2 and BAD_CREDENTIALS in err and "Traceback" not in err
    code, out, err = run("role", "op-9", "trainer", "--as", "chief", stdin="chief-pass-1\n")
    assert code == 0, err
    code, out, err = run("list")
    lines = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert lines["chief"][1] == "admin" and lines["op-9"][1] == "trainer"
    assert "op-10" not in lines
    code, out, err = run("demo")
    assert code == 2 and "real accounts" in err
