"""Operator accounts and login: scrypt-hashed passwords, lockout after repeated failures,
every authentication event in the audit chain.

Accounts live in the ``users`` table of the audit database (migration 4; so the stations
of a site share them), outside the hash chain: they change (failed attempts, lockouts, new
passwords), and the chain only grows. What happens to them is in the chain: each
creation, change, login, failure, lockout and logout is an event (the table in
docs/accounts.md). Passwords and hashes never reach the log.

* **Login** fails with one message for an unknown id and a wrong password, so the
  screen does not tell which ids exist; the log records which it was.
* **Lockout**: after ``max_failures`` wrong passwords in a row (5) the account is locked
  for ``lockout`` (15 minutes) or until an administrator unlocks it. Attempts on a locked
  account are logged and refused without checking the password.
* **First run**: with no account at all, :meth:`Accounts.create_first_admin` makes the
  administrator; after that only an administrator creates accounts.
* **Demo mode** (:meth:`Accounts.seed_demo_users`) creates one account per role with a
  published password, marked ``demo``, and says so in the log.
* Fail closed: a login is granted only once its ``auth.login`` event is committed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.engine import Connection, Row

from screener.accounts.passwords import (
    check_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from screener.audit.database import translated_errors
from screener.audit.log import AuditLog
from screener.audit.schema import User
from screener.errors import ScreenerError
from screener.workflow.roles import Action, Guard, Role
from screener.workflow.session import Operator

KIND_USER_CREATED = "user.created"
KIND_USER_CHANGED = "user.changed"
KIND_LOGIN = "auth.login"
KIND_LOGIN_FAILED = "auth.failed"
KIND_LOCKED = "auth.locked"
KIND_LOGOUT = "auth.logout"
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
BAD_CREDENTIALS = "unknown user id or wrong password"
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

USERS = cast(Table, User.__table__)

#: Demo accounts (user id, role, password), published on the login screen in demo mode.
DEMO_USERS = (
    ("screener1", Role.SCREENER, "screener-demo"),
    ("supervisor1", Role.SUPERVISOR, "supervisor-demo"),
    ("trainer1", Role.TRAINER, "trainer-demo"),
    ("investigator1", Role.INVESTIGATOR, "investigator-demo"),
    ("admin1", Role.ADMIN, "admin-demo"),
)


class AccountError(ScreenerError):
    """An account cannot be created or changed as asked; says why."""


class LoginError(ScreenerError):
    """Login refused (the message is safe to show on the login screen)."""


class AccountLockedError(LoginError):
    def __init__(self, user_id: str, until: datetime) -> None:
        self.until = until
        super().__init__(f"account {user_id} is locked after repeated failed logins until "
                         f"{until:%H:%M} UTC; an administrator can unlock it")


@dataclass(frozen=True)
class Account:
    """An account as administrators see it (never the password hash)."""

    user_id: str
    role: Role
    display_name: str
    created_utc: str
    disabled: bool
    failed_attempts: int
    locked_until_utc: str | None
    demo: bool

    def locked(self, now: datetime) -> bool:
        return self.locked_until_utc is not None and \
            datetime.fromisoformat(self.locked_until_utc) > now


class Accounts:
    """The accounts of the audit database behind ``log``; events go to ``log``."""

    def __init__(self, log: AuditLog, *, max_failures: int = MAX_FAILURES,
                 lockout: timedelta = LOCKOUT,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if max_failures < 1:
            raise AccountError("max_failures must be at least 1")
        self.log = log
        self.engine = log.engine
        self.max_failures = max_failures
        self.lockout = lockout
        self.clock = clock
        self.guard = Guard(log)

    # ------------------------------------------------------------------ reading
    def is_empty(self) -> bool:
        """True before the first account exists (the first-run flow)."""
        with translated_errors(self.log.where), self.engine.connect() as conn:
            return conn.execute(select(USERS.c.user_id).limit(1)).first() is None

    def all(self) -> list[Account]:
        with translated_errors(self.log.where), self.engine.connect() as conn:
            rows = conn.execute(select(USERS).order_by(USERS.c.user_id)).all()
        return [_account(row) for row in rows]

    def get(self, user_id: str) -> Account:
        with translated_errors(self.log.where), self.engine.connect() as conn:
            row = _row(conn, user_id)
        if row is None:
            raise AccountError(f"no account {user_id!r}")
        return _account(row)

    @property
    def demo_mode(self) -> bool:
        return any(account.demo for account in self.all())

    # ------------------------------------------------------------------ creating
    def create_first_admin(self, user_id: str, password: str,
                           display_name: str = "") -> Account:
        """The first account of a new installation: an administrator."""
        if not self.is_empty():
            raise AccountError("accounts exist already: an administrator creates new ones")
        self._insert(user_id, Role.ADMIN, password, display_name, demo=False)
        self.log.append(KIND_USER_CREATED, {"user": user_id, "role": Role.ADMIN.value,
                                            "first_run": True, "demo": False},
                        actor=user_id, role=Role.ADMIN.value)
        return self.get(user_id)

    def create(self, admin: Operator, user_id: str, role: Role, password: str,
               display_name: str = "") -> Account:
        self._require_admin(admin, f"create account {user_id}")
        self._insert(user_id, role, password, display_name, demo=False)
        self.log.append(KIND_USER_CREATED, {"user": user_id, "role": role.value,
                                            "first_run": False, "demo": False},
                        actor=admin.id, role=admin.role.value)
        return self.get(user_id)

    def seed_demo_users(self) -> list[tuple[str, Role, str]]:
        """Demo mode: one account per role with a published password (only on an empty
        installation, or again when the demo accounts exist already)."""
        existing = {a.user_id for a in self.all()}
        if existing and not existing >= {user for user, _, _ in DEMO_USERS}:
            raise AccountError("demo accounts go only into a new installation; this one "
                               "has real accounts")
        for user_id, role, password in DEMO_USERS:
            if user_id in existing:
                continue
            self._insert(user_id, role, password, f"Demo {role.value}", demo=True)
            self.log.append(KIND_USER_CREATED, {"user": user_id, "role": role.value,
                                                "first_run": False, "demo": True})
        return list(DEMO_USERS)

    def _insert(self, user_id: str, role: Role, password: str, display_name: str, *,
                demo: bool) -> None:
        if not _USER_ID.fullmatch(user_id):
            raise AccountError(f"user id {user_id!r}: use 1-64 letters, digits, '.', '_' "
                               "or '-', starting with a letter or digit")
        check_policy(user_id, password)
        now = self.clock().isoformat()
        with translated_errors(self.log.where), self.engine.begin() as conn:
            if _row(conn, user_id) is not None:
                raise AccountError(f"an account {user_id!r} exists already")
            conn.execute(insert(USERS).values(
                user_id=user_id, role=role.value, display_name=display_name,
                password_hash=hash_password(password), created_utc=now,
                password_changed_utc=now, disabled=False, failed_attempts=0,
                locked_until_utc=None, demo=demo))

    # ------------------------------------------------------------------ logging in
    def login(self, user_id: str, password: str) -> Operator:
        """The operator, once ``auth.login`` is committed; else :class:`LoginError`
        (:class:`AccountLockedError` while locked), with the attempt logged."""
        now = self.clock()
        with translated_errors(self.log.where), self.engine.connect() as conn:
            row = _row(conn, user_id)
        if row is None:
            self._failed(user_id, "unknown user id")
            raise LoginError(BAD_CREDENTIALS)
        account = _account(row)
        if account.disabled:
            self._failed(user_id, "account disabled")
            raise LoginError(f"account {user_id} is disabled; ask an administrator")
        if account.locked(now):
            self._failed(user_id, "account locked")
            assert account.locked_until_utc is not None
            raise AccountLockedError(user_id, datetime.fromisoformat(account.locked_until_utc))
        if not verify_password(password, row.password_hash):
            self._wrong_password(user_id, now)
        with translated_errors(self.log.where), self.engine.begin() as conn:
            values: dict[str, Any] = {"failed_attempts": 0, "locked_until_utc": None}
            if needs_rehash(row.password_hash):
                values["password_hash"] = hash_password(password)
            conn.execute(update(USERS).where(USERS.c.user_id == user_id).values(**values))
        operator = Operator(user_id, account.role)
        self.log.append(KIND_LOGIN, {"user": user_id, "role": account.role.value,
                                     "demo": account.demo},
                        actor=user_id, role=account.role.value)
        return operator

    def _wrong_password(self, user_id: str, now: datetime) -> NoReturn:
        with translated_errors(self.log.where), self.engine.begin() as conn:
            conn.execute(update(USERS).where(USERS.c.user_id == user_id).values(
                failed_attempts=USERS.c.failed_attempts + 1))
            attempts = conn.execute(select(USERS.c.failed_attempts).where(
                USERS.c.user_id == user_id)).scalar_one()
            until = None
            if attempts >= self.max_failures:
                until = now + self.lockout
                conn.execute(update(USERS).where(USERS.c.user_id == user_id).values(
                    locked_until_utc=until.isoformat(), failed_attempts=0))
        self._failed(user_id, "wrong password", attempts=int(attempts))
        if until is not None:
            self.log.append(KIND_LOCKED, {"user": user_id, "failures": int(attempts),
                                          "until_utc": until.isoformat()})
            raise AccountLockedError(user_id, until)
        raise LoginError(BAD_CREDENTIALS)

    def _failed(self, user_id: str, reason: str, *, attempts: int | None = None) -> None:
        payload: dict[str, Any] = {"user": user_id[:64], "reason": reason}
        if attempts is not None:
            payload["consecutive_failures"] = attempts
        self.log.append(KIND_LOGIN_FAILED, payload)

    def logout(self, operator: Operator, reason: str = "logged out") -> None:
        self.log.append(KIND_LOGOUT, {"user": operator.id, "reason": reason},
                        actor=operator.id, role=operator.role.value)

    # ------------------------------------------------------------------ changing
    def change_password(self, operator: Operator, old: str, new: str) -> None:
        """An operator changes their own password (the old one is checked)."""
        with translated_errors(self.log.where), self.engine.connect() as conn:
            row = _row(conn, operator.id)
        if row is None or not verify_password(old, row.password_hash):
            raise LoginError("the current password is wrong")
        self._set(operator.id, {"password_hash": _new_hash(operator.id, new),
                                "password_changed_utc": self.clock().isoformat()},
                  operator, "password changed")

    def reset_password(self, admin: Operator, user_id: str, new: str) -> None:
        self._require_admin(admin, f"reset the password of {user_id}")
        self.get(user_id)
        self._set(user_id, {"password_hash": _new_hash(user_id, new),
                            "password_changed_utc": self.clock().isoformat(),
                            "failed_attempts": 0, "locked_until_utc": None},
                  admin, "password reset")

    def unlock(self, admin: Operator, user_id: str) -> None:
        self._require_admin(admin, f"unlock {user_id}")
        self.get(user_id)
        self._set(user_id, {"failed_attempts": 0, "locked_until_utc": None}, admin,
                  "unlocked")

    def set_disabled(self, admin: Operator, user_id: str, disabled: bool) -> None:
        self._require_admin(admin, f"{'disable' if disabled else 'enable'} {user_id}")
        if disabled and user_id == admin.id:
            raise AccountError("an administrator cannot disable their own account")
        self.get(user_id)
        self._set(user_id, {"disabled": disabled}, admin,
                  "disabled" if disabled else "enabled")

    def set_role(self, admin: Operator, user_id: str, role: Role) -> None:
        self._require_admin(admin, f"change the role of {user_id}")
        if user_id == admin.id and role is not Role.ADMIN:
            raise AccountError("an administrator cannot take their own admin role away")
        self.get(user_id)
        self._set(user_id, {"role": role.value}, admin, f"role set to {role.value}")

    def _set(self, user_id: str, values: dict[str, Any], by: Operator, change: str) -> None:
        with translated_errors(self.log.where), self.engine.begin() as conn:
            conn.execute(update(USERS).where(USERS.c.user_id == user_id).values(**values))
        self.log.append(KIND_USER_CHANGED, {"user": user_id, "change": change},
                        actor=by.id, role=by.role.value)

    def _require_admin(self, admin: Operator, subject: str) -> None:
        self.guard.require(admin.id, admin.role, Action.MANAGE_USERS, subject=subject)


def _new_hash(user_id: str, password: str) -> str:
    check_policy(user_id, password)
    return hash_password(password)


def _row(conn: Connection, user_id: str) -> Row[Any] | None:
    return conn.execute(select(USERS).where(USERS.c.user_id == user_id)).first()


def _account(row: Row[Any]) -> Account:
    return Account(row.user_id, Role(row.role), row.display_name, row.created_utc,
                   bool(row.disabled), int(row.failed_attempts), row.locked_until_utc,
                   bool(row.demo))
