"""Database roles for a site on PostgreSQL: what a station and a supervisor may do.

The append-only triggers stop every client, but the owner of the tables can drop them.
Stations therefore connect as a role that owns nothing and holds only the rights an
append needs (docs/audit.md, "Multi-station sites"):

* **station role**: ``SELECT`` on the audit tables, ``INSERT`` on ``events`` and
  ``checkpoints``; no ``UPDATE``, ``DELETE`` or ``TRUNCATE``, no DDL. Row-level security
  lets it insert only rows of the stations it was granted, so a station cannot append to
  another station's chain either.
* **supervisor role**: ``SELECT`` on the audit tables and ``INSERT`` on
  ``site_checkpoints`` and ``site_key_rotations`` only (reports, search, verification,
  site checkpoints and site key rotation).
* both: ``SELECT``, ``INSERT`` and ``UPDATE`` (never ``DELETE``) on ``users``, the operator
  accounts: a login counts failed attempts and lockouts in place, and an administrator
  at any station manages accounts. Every such change is also a chain event.

Every grant first revokes whatever the role held on these tables, so running it again
(or on a role that had more rights) leaves exactly these. The database must be migrated
first (``screener audit db migrate``), by the owner.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, text

from screener.audit.database import engine_label, translated_errors
from screener.audit.keys import check_station_name
from screener.audit.migrations import check_schema
from screener.audit.schema import ACCOUNT_TABLES, APPEND_ONLY_TABLES, EVENT_TABLES, SITE_TABLES
from screener.errors import AuditError

_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,39}")
READ_POLICY = "screener_read"
STATION_POLICY_PREFIX = "screener_station_"


class RoleError(AuditError):
    """A role cannot be granted or revoked as asked; the message says why."""


def check_role_name(role: str) -> str:
    if not _ROLE.fullmatch(role):
        raise RoleError(f"{role!r} is not a role name Screener grants to: lower-case "
                        "letters, digits and '_', starting with a letter or '_', at most 40 "
                        "characters")
    return role


def _literal(value: str) -> str:
    if "\x00" in value:
        raise RoleError("a password cannot contain a NUL character")
    return "'" + value.replace("'", "''") + "'"


def _postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise RoleError(f"{engine_label(engine)}: database roles are a PostgreSQL feature; a "
                        "SQLite audit file is protected by its file permissions")


def _prepare(conn: Connection, role: str, password: str | None) -> str:
    """Create the role (LOGIN) if needed, refuse one that would bypass the grants, and
    take every right it held on the audit tables away. Returns the quoted name."""
    check_schema(conn)
    quoted = conn.dialect.identifier_preparer.quote(role)
    row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"),
                       {"r": role}).first()
    if row is None:
        conn.exec_driver_sql(f"CREATE ROLE {quoted} LOGIN")
    elif row.rolsuper or row.rolbypassrls:
        raise RoleError(f"role {role!r} is a superuser (or bypasses row-level security): no "
                        "grant can restrict it; use a plain role")
    owner = conn.execute(text(
        "SELECT c.relname FROM pg_class c WHERE c.oid = to_regclass('events') "
        "AND pg_has_role(:r, c.relowner, 'USAGE')"), {"r": role}).first()
    if owner is not None:
        raise RoleError(f"role {role!r} owns the audit tables (or is a member of their "
                        "owner): it could drop the append-only triggers; use another role")
    if password is not None:
        conn.exec_driver_sql(f"ALTER ROLE {quoted} PASSWORD {_literal(password)}")
    schema = conn.dialect.identifier_preparer.quote(
        str(conn.execute(text("SELECT current_schema()")).scalar()))
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {quoted}")
    tables = ", ".join(APPEND_ONLY_TABLES)
    conn.exec_driver_sql(f"REVOKE ALL ON {tables} FROM {quoted}")
    for table in EVENT_TABLES:
        conn.exec_driver_sql(f"DROP POLICY IF EXISTS {STATION_POLICY_PREFIX}{role} ON {table}")
    conn.exec_driver_sql(f"GRANT SELECT ON {tables} TO {quoted}")
    accounts = ", ".join(ACCOUNT_TABLES)
    conn.exec_driver_sql(f"REVOKE ALL ON {accounts} FROM {quoted}")
    conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE ON {accounts} TO {quoted}")
    return quoted


def grant_station(engine: Engine, role: str, stations: Sequence[str], *,
                  password: str | None = None) -> None:
    """Make ``role`` a station role that may append to the chains of ``stations``."""
    _postgresql(engine)
    check_role_name(role)
    if not stations:
        raise RoleError("name at least one station the role appends for (--station)")
    names = sorted({check_station_name(s) for s in stations})
    allowed = ", ".join(f"'{name}'" for name in names)  # names are [A-Za-z0-9._-] only
    with translated_errors(engine_label(engine)), engine.begin() as conn:
        quoted = _prepare(conn, role, password)
        for table in EVENT_TABLES:
            conn.exec_driver_sql(f"GRANT INSERT ON {table} TO {quoted}")
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            conn.exec_driver_sql(f"DROP POLICY IF EXISTS {READ_POLICY} ON {table}")
            conn.exec_driver_sql(f"CREATE POLICY {READ_POLICY} ON {table} FOR SELECT "
                                 "USING (true)")
            conn.exec_driver_sql(f"CREATE POLICY {STATION_POLICY_PREFIX}{role} ON {table} "
                                 f"FOR INSERT TO {quoted} WITH CHECK (station IN ({allowed}))")
        _check_restricted(conn, role)


def grant_supervisor(engine: Engine, role: str, *, password: str | None = None) -> None:
    """Make ``role`` a supervisor role: read everything, write site checkpoints and site
    key rotations only."""
    _postgresql(engine)
    check_role_name(role)
    with translated_errors(engine_label(engine)), engine.begin() as conn:
        quoted = _prepare(conn, role, password)
        conn.exec_driver_sql(f"GRANT INSERT ON {', '.join(SITE_TABLES)} TO {quoted}")
        _check_restricted(conn, role)


def _check_restricted(conn: Connection, role: str) -> None:
    """The role must end with no right to change a row, whatever it inherits (PUBLIC,
    another role it belongs to)."""
    for table in APPEND_ONLY_TABLES:
        for right in ("UPDATE", "DELETE", "TRUNCATE"):
            if conn.execute(text("SELECT has_table_privilege(:r, to_regclass(:t), :p)"),
                            {"r": role, "t": table, "p": right}).scalar():
                raise RoleError(f"role {role!r} still may {right} {table}, through PUBLIC "
                                "or a role it belongs to; revoke that grant first")


def revoke(engine: Engine, role: str) -> None:
    """Take every right on the audit tables from ``role`` (the role itself stays)."""
    _postgresql(engine)
    check_role_name(role)
    with translated_errors(engine_label(engine)), engine.begin() as conn:
        check_schema(conn)
        quoted = conn.dialect.identifier_preparer.quote(role)
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                        {"r": role}).first() is None:
            raise RoleError(f"there is no role {role!r}")
        conn.exec_driver_sql(f"REVOKE ALL ON {', '.join(APPEND_ONLY_TABLES + ACCOUNT_TABLES)} "
                             f"FROM {quoted}")
        for table in EVENT_TABLES:
            conn.exec_driver_sql(f"DROP POLICY IF EXISTS {STATION_POLICY_PREFIX}{role} "
                                 f"ON {table}")


def table_rights(engine: Engine, role: str) -> dict[str, list[str]]:
    """What ``role`` may do on each audit table, as PostgreSQL answers it."""
    _postgresql(engine)
    rights = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        return {table: [r for r in rights if conn.execute(text(
            "SELECT has_table_privilege(:role, to_regclass(:table), :right)"),
            {"role": role, "table": table, "right": r}).scalar()]
            for table in APPEND_ONLY_TABLES}
