"""The audit tables (SQLAlchemy 2.x declarative models). Dialect-neutral: text, integers
and one composite key; timestamps are ISO 8601 UTC text so that the bytes an event's hash
covers are the bytes every database returns.

Append-only is enforced by triggers added in :mod:`screener.audit.migrations`; nothing
here ever updates or deletes a row.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HASH_LENGTH = 64  # sha256, lower-case hex


class Base(DeclarativeBase):
    pass


class SchemaMigration(Base):
    """One row per migration applied to this database, in order."""

    __tablename__ = "schema_migrations"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    description: Mapped[str] = mapped_column(Text)
    applied_utc: Mapped[str] = mapped_column(String(32))


class Event(Base):
    """One audit event: a link of its station's hash chain."""

    __tablename__ = "events"

    station: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time_utc: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON text
    scan_sha256: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    model_sha256: Mapped[str | None] = mapped_column(String(HASH_LENGTH))
    prev_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)

    __table_args__ = (
        Index("ix_events_prev_hash", "prev_hash"),
        Index("ix_events_scan", "scan_sha256"),
        Index("ix_events_kind", "kind"),
        Index("ix_events_time", "time_utc"),
    )


class Checkpoint(Base):
    """A signed statement by the station key: "my chain's event ``seq`` has hash
    ``head_hash``" (docs/audit.md, "Checkpoints")."""

    __tablename__ = "checkpoints"

    station: Mapped[str] = mapped_column(String(128), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    genesis_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    time_utc: Mapped[str] = mapped_column(String(32))
    head_hash: Mapped[str] = mapped_column(String(HASH_LENGTH))
    reason: Mapped[str] = mapped_column(String(64))
    key_fingerprint: Mapped[str] = mapped_column(String(HASH_LENGTH))
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519, hex


class SiteCheckpoint(Base):
    """A signed statement by the site key over every station's chain head at one moment:
    a Merkle root over the heads (docs/audit.md, "Site checkpoints"). Numbered from 1;
    each names the previous one by the sha256 of its signed message."""

    __tablename__ = "site_checkpoints"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time_utc: Mapped[str] = mapped_column(String(32))
    previous: Mapped[str] = mapped_column(String(HASH_LENGTH))
    root: Mapped[str] = mapped_column(String(HASH_LENGTH))
    stations: Mapped[int] = mapped_column(Integer)
    heads: Mapped[str] = mapped_column(Text)  # canonical JSON array of the station heads
    key_fingerprint: Mapped[str] = mapped_column(String(HASH_LENGTH))
    public_key: Mapped[str] = mapped_column(String(HASH_LENGTH))  # Ed25519, raw, hex
    signature: Mapped[str] = mapped_column(String(128))  # Ed25519, hex


class SiteKeyRotation(Base):
    """The site key handed over to a new one: signed by the key it replaces (endorsement)
    and by the new key (acceptance), so that trust in either carries to the other
    (docs/audit.md, "Site key rotation"). Numbered from 1; ``first_checkpoint`` is the
    number of the first site checkpoint the new key signs, ``previous`` the digest of the
    last one the old key signed (binding the old key's history to the hand-over)."""

    __tablename__ = "site_key_rotations"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    time_utc: Mapped[str] = mapped_column(String(32))
    first_checkpoint: Mapped[int] = mapped_column(Integer)
    previous: Mapped[str] = mapped_column(String(HASH_LENGTH))  # digest of the checkpoint before
    previous_rotation: Mapped[str] = mapped_column(String(HASH_LENGTH))  # digest, or 64 zeros
    old_fingerprint: Mapped[str] = mapped_column(String(HASH_LENGTH))
    old_public_key: Mapped[str] = mapped_column(String(HASH_LENGTH))
    new_fingerprint: Mapped[str] = mapped_column(String(HASH_LENGTH))
    new_public_key: Mapped[str] = mapped_column(String(HASH_LENGTH))
    endorsement: Mapped[str] = mapped_column(String(128))  # Ed25519 by the old key, hex
    acceptance: Mapped[str] = mapped_column(String(128))  # Ed25519 by the new key, hex


class User(Base):
    """An operator account (:mod:`screener.accounts.users`). Unlike the audit tables it
    changes (failed attempts, lockouts, passwords): what happens to it is logged as chain
    events, the row itself is the current state."""

    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    created_utc: Mapped[str] = mapped_column(String(40))
    password_changed_utc: Mapped[str] = mapped_column(String(40))
    disabled: Mapped[bool] = mapped_column(Boolean)
    failed_attempts: Mapped[int] = mapped_column(Integer)
    locked_until_utc: Mapped[str | None] = mapped_column(String(40), nullable=True)
    demo: Mapped[bool] = mapped_column(Boolean)


APPEND_ONLY_TABLES = ("events", "checkpoints", "schema_migrations", "site_checkpoints",
                      "site_key_rotations")
#: What a supervisor's database role may append to (docs/audit.md).
SITE_TABLES = ("site_checkpoints", "site_key_rotations")
ACCOUNT_TABLES = ("users",)  # changed in place by every station and supervisor login
EVENT_TABLES = ("events", "checkpoints")  # what a station writes (docs/audit.md)
