"""Recorded schema migrations (the sqlite-utils way): each migration has a version, runs
once in a transaction, and leaves a row in ``schema_migrations``. A database whose newest
migration is unknown to this code is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, inspect, select, text

from screener.audit.schema import Base, SchemaMigration
from screener.errors import NotAnAuditDatabaseError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_tables(conn: Connection) -> None:
    tables = [Base.metadata.tables[name] for name in ("events", "checkpoints")]
    Base.metadata.create_all(conn, tables=tables)


def _append_only_triggers(conn: Connection) -> None:
    """Triggers that abort UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) on the audit
    tables: append-only holds for every client, not only for this code."""
    _refuse_changes(conn, ("events", "checkpoints", "schema_migrations"))


def _site_checkpoints(conn: Connection) -> None:
    """The site checkpoint table (one signed Merkle root over every station's head),
    append-only like the others."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["site_checkpoints"]])
    _refuse_changes(conn, ("site_checkpoints",))


def _refuse_changes(conn: Connection, tables: tuple[str, ...]) -> None:
    dialect = conn.dialect.name
    if dialect == "sqlite":
        for table in tables:
            for action in ("UPDATE", "DELETE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    elif dialect == "postgresql":
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION screener_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = "
            "TG_TABLE_NAME || ' is append-only'; END $$")
        for table in tables:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION screener_append_only()")
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION screener_append_only()")
    else:
        raise NotAnAuditDatabaseError(dialect, "Screener's audit log runs on SQLite or "
                                      "PostgreSQL; this database cannot enforce append-only")


def _users(conn: Connection) -> None:
    """Operator accounts, shared by the stations of a site (not append-only)."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["users"]])


def _site_key_rotations(conn: Connection) -> None:
    """The site key rotation table (each endorsed by the old key and accepted by the new),
    append-only like the others."""
    Base.metadata.create_all(conn, tables=[Base.metadata.tables["site_key_rotations"]])
    _refuse_changes(conn, ("site_key_rotations",))


# A migration, once released, never changes: a new need is a new migration.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "events and checkpoints tables", _create_tables),
    Migration(2, "triggers that make the audit tables append-only", _append_only_triggers),
    Migration(3, "site checkpoints table (signed Merkle root over station heads)",
              _site_checkpoints),
    Migration(4, "operator accounts table", _users),
    Migration(5, "site key rotations table (endorsed by the old key, accepted by the new)",
              _site_key_rotations),
)
LATEST_VERSION = MIGRATIONS[-1].version


def applied_versions(conn: Connection) -> list[int]:
    names = set(inspect(conn).get_table_names())
    if "schema_migrations" not in names:
        if names & {"events", "checkpoints"} or names:
            raise NotAnAuditDatabaseError(
                _where(conn), f"it holds tables ({', '.join(sorted(names))}) but no "
                "schema_migrations record")
        return []
    return list(conn.scalars(select(SchemaMigration.version).order_by(SchemaMigration.version)))


def migrate(conn: Connection) -> list[int]:
    """Apply the missing migrations in order inside the caller's transaction; returns the
    versions applied now. On PostgreSQL a transaction-scoped advisory lock makes stations
    that start at once on a new database migrate one after the other."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('screener-migrate'))"))
    done = applied_versions(conn)
    if done and done[-1] > LATEST_VERSION:
        raise NotAnAuditDatabaseError(
            _where(conn), f"schema version {done[-1]} was written by a newer Screener "
            f"(this one knows up to {LATEST_VERSION}); upgrade Screener")
    if not done:
        Base.metadata.create_all(conn, tables=[Base.metadata.tables["schema_migrations"]])
    applied = []
    for migration in MIGRATIONS:
        if migration.version in done:
            continue
        migration.apply(conn)
        conn.execute(insert(SchemaMigration).values(
            version=migration.version, description=migration.description,
            applied_utc=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
        applied.append(migration.version)
    return applied


def check_schema(conn: Connection) -> None:
    """Refuse a database that is not a (fully migrated) Screener audit database."""
    done = applied_versions(conn)
    if not done:
        raise NotAnAuditDatabaseError(_where(conn), "it has no audit tables")
    if done != list(range(1, len(done) + 1)) or done[-1] != LATEST_VERSION:
        raise NotAnAuditDatabaseError(
            _where(conn), f"schema versions {done} do not match this Screener "
            f"(1..{LATEST_VERSION}); migrate it: 'screener audit db migrate --db URL' (or open "
            "it once with the station software)")


def _where(conn: Connection) -> str:
    return conn.engine.url.render_as_string(hide_password=True)
