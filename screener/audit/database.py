"""Opening the audit database: SQLite (embedded default) or any SQLAlchemy URL.

SQLite runs in WAL mode with ``synchronous=FULL`` (a returned append survives power
loss) and foreign keys on. Every transaction starts with ``BEGIN IMMEDIATE``, which takes
the database's write lock at once: two processes appending to one file queue up instead
of both reading the same chain head and forking the chain.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from screener.audit.migrations import check_schema, migrate
from screener.errors import AuditUnavailableError

#: How long a writer waits for another process's transaction before giving up.
BUSY_TIMEOUT_S = 30.0
#: A pooled PostgreSQL connection idle longer than this is checked before use.
IDLE_PING_S = 1.0
_CHAIN_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:station))")


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def engine_label(engine: Engine) -> str:
    """The engine's URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, None for any other database or an in-memory
    one. With ``uri=true`` the database is a ``file:`` URI (``sqlite:///file:/x.db?mode=ro
    &uri=true``), whose path is its own, not a folder named "file:"."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    if parsed.query.get("uri") == "true" and database.startswith("file:"):
        if parsed.query.get("mode") == "memory":
            return None
        return Path(unquote(urlsplit(database).path))
    return Path(database)


def create_audit_engine(url: str, *, create: bool) -> Engine:
    """An engine for ``url``. With ``create`` the schema is created or migrated; without
    it the database must already exist and be a current Screener audit database."""
    return _open(url, create)[0]


def migrate_database(url: str) -> list[int]:
    """Create or migrate the audit schema at ``url``; returns the versions applied now."""
    engine, applied = _open(url, True)
    engine.dispose()
    return applied


def _open(url: str, create: bool) -> tuple[Engine, list[int]]:
    where = describe(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise AuditUnavailableError(url, f"not a database URL ({exc})") from None
    path = sqlite_path(url)
    if path is not None:
        if not create and not path.is_file():
            raise AuditUnavailableError(where, "no such database file")
        if create:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise AuditUnavailableError(where, f"cannot create its folder: {exc}") from None
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, poolclass=NullPool,
                                   connect_args={"timeout": BUSY_TIMEOUT_S})
            _configure_sqlite(engine)
        else:
            engine = create_engine(parsed)
            _ping_when_idle(engine)
    except (ArgumentError, ImportError) as exc:
        raise AuditUnavailableError(where, f"cannot use this database: {exc}") from None
    applied: list[int] = []
    try:
        with engine.begin() as conn:
            if create:
                applied = migrate(conn)
            else:
                check_schema(conn)
    except SQLAlchemyError as exc:
        engine.dispose()
        raise unavailable(where, exc) from None
    except Exception:
        engine.dispose()
        raise
    return engine, applied


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL, retrying while another connection holds it.

    Two connections switching a new file at once each hold a shared lock and want an
    exclusive one; SQLite answers one of them "database is locked" at once instead of
    calling the busy handler (waiting would deadlock). The switch succeeds once the other
    connection is done, so retry for up to :data:`BUSY_TIMEOUT_S`."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.001
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause * (1 + random.random()))
        pause = min(pause * 2, 0.05)


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use when it has been idle for more than
    :data:`IDLE_PING_S` (a server restart or a dropped link then costs no append): a dead
    one is replaced. A station appending continuously skips the extra round trip."""
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()
        except Exception as exc:  # any failure: let the pool connect afresh
            raise DisconnectionError(str(exc)) from exc


def lock_station_chain(conn: Connection, station: str) -> None:
    """Serialise appends to one station's chain across processes. SQLite already holds
    the database write lock (BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped
    advisory lock keyed by the station name."""
    if conn.dialect.name == "postgresql":
        conn.execute(_CHAIN_LOCK, {"station": chain_lock_key(station)})


def chain_lock_key(station: str) -> str:
    """The text whose ``hashtext`` names the advisory lock of ``station``'s chain."""
    return f"screener-chain:{station}"


def unavailable(where: str, exc: SQLAlchemyError) -> AuditUnavailableError:
    detail = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return AuditUnavailableError(where, str(detail).splitlines()[0] if str(detail) else
                                 type(detail).__name__)


@contextmanager
def translated_errors(where: str) -> Iterator[None]:
    """Database errors leave as :class:`AuditUnavailableError` naming the database."""
    try:
        yield
    except SQLAlchemyError as exc:
        raise unavailable(where, exc) from None
