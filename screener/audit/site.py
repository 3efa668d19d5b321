"""Site checkpoints: one signature by the site key over the head of every station's chain.

A site (several stations sharing one database) gets, periodically, a **site checkpoint**:
the head ``(station, genesis_hash, seq, head_hash)`` of every chain at one moment, a
Merkle root over those heads, and the site key's Ed25519 signature over the root. A
supervisor then verifies the whole site at once: every chain must still hold, at each
recorded ``seq``, the event with the recorded hash, so a station rewritten after a site
checkpoint (even one re-signed with its own station key) is caught.

The Merkle tree (docs/audit.md, "Site checkpoints"):

* leaves: one per station, in order of the station name's code points;
  ``leaf = sha256(0x00 || canonical({"station", "genesis_hash", "seq", "head_hash"}))``;
* ``node = sha256(0x01 || left || right)`` over the 32 raw bytes of each child;
* a level with an odd number of nodes promotes its last node unchanged to the next level
  (never duplicated, so no two different lists of heads share a root);
* the root is the single node left, in lower-case hex. A site with no station has no
  checkpoint.

The signature covers ``"screener-site-checkpoint-v1\\n" + canonical({number, time_utc,
previous, root, stations, key_fingerprint})``; ``previous`` is the sha256 of the previous
site checkpoint's signed message (64 zeros for number 1), so the checkpoints form a chain
of their own. Each site checkpoint is also written to a file outside the database
(:func:`site_anchor_path`), as a station's checkpoints are to its anchor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text

from screener.audit.anchor import write_json_atomically
from screener.audit.canonical import canonical_json, canonical_text
from screener.audit.chain import utc_now
from screener.audit.database import engine_label, translated_errors
from screener.audit.keys import StationKey, display_fingerprint
from screener.audit.schema import Event, SiteCheckpoint, SiteKeyRotation
from screener.audit.site_keys import (
    NO_PREVIOUS_ROTATION,
    KeySchedule,
    RotationFault,
    SiteKeyRotationRecord,
    key_schedule,
    rotation_message,
    site_key_rotations,
)
from screener.errors import AuditError

SITE_DOMAIN = b"screener-site-checkpoint-v1\n"
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
NO_PREVIOUS = "0" * 64


class SiteCheckpointError(AuditError):
    """A site checkpoint cannot be made (or its anchor file read); the message says why."""


@dataclass(frozen=True)
class SiteHead:
    """One station's chain head as a site checkpoint records it."""

    station: str
    genesis_hash: str
    seq: int
    head_hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"station": self.station, "genesis_hash": self.genesis_hash, "seq": self.seq,
                "head_hash": self.head_hash}


# ---------------------------------------------------------------------- Merkle tree
def leaf_hash(head: SiteHead) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + canonical_json(head.as_dict(), "site head")).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _ordered(heads: Sequence[SiteHead]) -> list[SiteHead]:
    ordered = sorted(heads, key=lambda h: h.station)
    names = [h.station for h in ordered]
    if len(set(names)) != len(names):
        raise SiteCheckpointError("a site checkpoint names each station once")
    return ordered


def merkle_root(heads: Sequence[SiteHead]) -> str:
    """The root over ``heads`` (any order: they are sorted by station), in hex."""
    if not heads:
        raise SiteCheckpointError("a site with no station chain has no Merkle root")
    level = [leaf_hash(h) for h in _ordered(heads)]
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0].hex()


def inclusion_proof(heads: Sequence[SiteHead], station: str) -> list[tuple[str, str]]:
    """The sibling hashes from ``station``'s leaf up to the root, each as ``("L"|"R",
    hex)`` (the side the sibling stands on); a promoted node has no sibling at that
    level. With :func:`root_from_proof` anyone holding one head can check it against a
    signed root without the other heads."""
    ordered = _ordered(heads)
    index = next((i for i, h in enumerate(ordered) if h.station == station), None)
    if index is None:
        raise SiteCheckpointError(f"station {station!r} is not in this site checkpoint")
    level = [leaf_hash(h) for h in ordered]
    proof: list[tuple[str, str]] = []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            proof.append(("L" if sibling < index else "R", level[sibling].hex()))
        level = [node_hash(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
        index //= 2
    return proof


def root_from_proof(head: SiteHead, proof: Sequence[tuple[str, str]]) -> str:
    node = leaf_hash(head)
    for side, sibling in proof:
        other = bytes.fromhex(sibling)
        node = node_hash(other, node) if side == "L" else node_hash(node, other)
    return node.hex()


# ---------------------------------------------------------------------- the record
@dataclass(frozen=True)
class SiteCheckpointRecord:
    number: int
    time_utc: str
    previous: str
    root: str
    heads: tuple[SiteHead, ...]
    key_fingerprint: str
    public_key: str
    signature: str

    def signed_fields(self) -> dict[str, Any]:
        return {"number": self.number, "time_utc": self.time_utc, "previous": self.previous,
                "root": self.root, "stations": len(self.heads),
                "key_fingerprint": self.key_fingerprint}

    def message(self) -> bytes:
        return site_message(self.signed_fields())

    def digest(self) -> str:
        """What the next site checkpoint's ``previous`` names."""
        return hashlib.sha256(self.message()).hexdigest()

    def head_of(self, station: str) -> SiteHead | None:
        return next((h for h in self.heads if h.station == station), None)

    def as_dict(self) -> dict[str, Any]:
        return {**self.signed_fields(), "heads": [h.as_dict() for h in self.heads],
                "public_key": self.public_key, "signature": self.signature}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteCheckpointRecord:
        heads = tuple(SiteHead(str(h["station"]), str(h["genesis_hash"]), int(h["seq"]),
                               str(h["head_hash"])) for h in data["heads"])
        return cls(int(data["number"]), str(data["time_utc"]), str(data["previous"]),
                   str(data["root"]), heads, str(data["key_fingerprint"]),
                   str(data["public_key"]), str(data["signature"]))


def site_message(fields: dict[str, Any]) -> bytes:
    return SITE_DOMAIN + canonical_json(fields, "site checkpoint")


def _record(row: Any) -> SiteCheckpointRecord:
    try:
        heads = tuple(SiteHead(str(h["station"]), str(h["genesis_hash"]), int(h["seq"]),
                               str(h["head_hash"])) for h in json.loads(row.heads))
    except (ValueError, TypeError, KeyError):
        heads = ()  # a damaged row: its root will not match, and verification says so
    return SiteCheckpointRecord(row.number, row.time_utc, row.previous, row.root, heads,
                                row.key_fingerprint, row.public_key, row.signature)


# ---------------------------------------------------------------------- database
def site_checkpoints(conn: Connection) -> list[SiteCheckpointRecord]:
    """Every site checkpoint in the database, by number."""
    rows = conn.execute(select(SiteCheckpoint.__table__).order_by(SiteCheckpoint.number))
    return [_record(row) for row in rows]


def station_heads(conn: Connection) -> list[SiteHead]:
    """Every station's chain head now (the event with the highest seq) and genesis."""
    last = (select(Event.station, func.max(Event.seq).label("seq"))
            .group_by(Event.station).subquery())
    rows = conn.execute(select(Event.station, Event.seq, Event.hash).join(
        last, (Event.station == last.c.station) & (Event.seq == last.c.seq)))
    tops = {row.station: (row.seq, row.hash) for row in rows}
    genesis = {row.station: row.hash for row in conn.execute(
        select(Event.station, Event.hash).where(Event.seq == 1))}
    return [SiteHead(station, genesis.get(station, ""), seq, digest)
            for station, (seq, digest) in sorted(tops.items())]


def make_site_checkpoint(engine: Engine, key: StationKey) -> SiteCheckpointRecord:
    """Sign every station's current head with the site key and record it (the next
    number). Refuses when ``key`` is not the site's current key (the key of the latest
    site checkpoint, or the one a rotation handed over to), and when a station's chain no
    longer holds the head the previous site checkpoint recorded: run ``screener audit
    verify`` to see what happened."""
    with translated_errors(engine_label(engine)), engine.begin() as conn:
        last = _lock_latest(conn)
        current = current_site_key(conn)
        if current is not None and key.fingerprint != current:
            given = display_fingerprint(key.fingerprint)
            raise SiteCheckpointError(
                f"{engine_label(engine)}: the site key given ({given}) is not the site's "
                f"current key ({display_fingerprint(current)}); sign with that key "
                "(--site-key), or run 'screener audit verify' if the site names a key you "
                "never made")
        return _sign_heads(conn, engine, key, last)


def rotate_site_key(engine: Engine, old: StationKey, new: StationKey
                    ) -> tuple[SiteKeyRotationRecord, SiteCheckpointRecord]:  # fmt: skip
    """Hand the site over from ``old`` (the current site key) to ``new``: record the
    rotation, signed by both, and the first site checkpoint by ``new`` (the next number)
    in one transaction. Refused before the first site checkpoint (the key has signed
    nothing: replace its file) and when ``old`` is not the current key."""
    with translated_errors(engine_label(engine)), engine.begin() as conn:
        last = _lock_latest(conn)
        if last is None:
            raise SiteCheckpointError(f"{engine_label(engine)}: no site checkpoint yet, so the "
                                      "site key has signed nothing: replace its file instead")
        schedule, fault = _schedule(conn)
        if fault is not None:
            raise SiteCheckpointError(f"{engine_label(engine)}: {fault}; run 'screener audit "
                                      "verify' and deal with it before handing over")
        current = None if schedule is None else schedule.current
        if old.fingerprint != current:
            raise SiteCheckpointError(
                f"{engine_label(engine)}: the site key file holds key "
                f"{display_fingerprint(old.fingerprint)}, but the site's current key is "
                f"{display_fingerprint(str(current))}: only the current key can hand over")
        if new.fingerprint == old.fingerprint:
            raise SiteCheckpointError("the new site key is the old one")
        rotations = site_key_rotations(conn)
        fields: dict[str, Any] = {
            "number": len(rotations) + 1, "time_utc": utc_now(),
            "first_checkpoint": last.number + 1, "previous": last.digest(),
            "previous_rotation": rotations[-1].digest() if rotations else NO_PREVIOUS_ROTATION,
            "old_fingerprint": old.fingerprint, "old_public_key": old.public_hex,
            "new_fingerprint": new.fingerprint, "new_public_key": new.public_hex}
        message = rotation_message(fields)
        rotation = SiteKeyRotationRecord(**fields, endorsement=old.sign(message),
                                         acceptance=new.sign(message))
        conn.execute(insert(SiteKeyRotation).values(**rotation.as_dict()))
        return rotation, _sign_heads(conn, engine, new, last)


def current_site_key(conn: Connection) -> str | None:
    """The fingerprint of the key that must sign the next site checkpoint: site checkpoint
    1's key as every sound rotation hands it over (rows that do not verify are ignored,
    so an inserted one cannot lock the real key out); None before the first."""
    schedule, _ = _schedule(conn)
    return None if schedule is None else schedule.current


def _schedule(conn: Connection) -> tuple[KeySchedule | None, RotationFault | None]:
    """The key schedule from site checkpoint 1's key (None before it)."""
    first = conn.execute(select(SiteCheckpoint.key_fingerprint)
                         .where(SiteCheckpoint.number == 1)).scalar()
    if first is None:
        return None, None
    return key_schedule(first, site_key_rotations(conn))


def current_site_key_of(engine: Engine) -> str | None:
    """:func:`current_site_key` of the database (None before the first site checkpoint)."""
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        return current_site_key(conn)


def _lock_latest(conn: Connection) -> SiteCheckpointRecord | None:
    """Serialise site signing (PostgreSQL: an advisory lock; SQLite: BEGIN IMMEDIATE
    already does) and return the latest site checkpoint."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('screener-site'))"))
    previous = conn.execute(select(SiteCheckpoint.__table__)
                            .order_by(SiteCheckpoint.number.desc()).limit(1)).first()
    return None if previous is None else _record(previous)


def _sign_heads(conn: Connection, engine: Engine, key: StationKey,
                last: SiteCheckpointRecord | None) -> SiteCheckpointRecord:
    heads = station_heads(conn)
    if not heads:
        raise SiteCheckpointError(f"{engine_label(engine)}: no station has written an "
                                  "event yet; nothing to sign")
    if last is not None:
        _check_extends(conn, last, heads)
    fields: dict[str, Any] = {
        "number": 1 if last is None else last.number + 1, "time_utc": utc_now(),
        "previous": NO_PREVIOUS if last is None else last.digest(),
        "root": merkle_root(heads), "stations": len(heads),
        "key_fingerprint": key.fingerprint}
    record = SiteCheckpointRecord(
        fields["number"], fields["time_utc"], fields["previous"], fields["root"],
        tuple(heads), key.fingerprint, key.public_hex, key.sign(site_message(fields)))
    conn.execute(insert(SiteCheckpoint).values(
        number=record.number, time_utc=record.time_utc, previous=record.previous,
        root=record.root, stations=len(heads),
        heads=canonical_text([h.as_dict() for h in heads], "heads"),
        key_fingerprint=record.key_fingerprint, public_key=record.public_key,
        signature=record.signature))
    return record


def _check_extends(conn: Connection, last: SiteCheckpointRecord,
                   heads: list[SiteHead]) -> None:
    """Every chain the previous site checkpoint recorded still holds its head there."""
    now = {h.station: h for h in heads}
    for old in last.heads:
        current = now.get(old.station)
        stored = conn.execute(select(Event.hash).where(Event.station == old.station,
                                                       Event.seq == old.seq)).scalar()
        if current is None or current.genesis_hash != old.genesis_hash or stored != old.head_hash:
            raise SiteCheckpointError(
                f"station {old.station!r} no longer holds the head that site checkpoint "
                f"{last.number} recorded (seq {old.seq}); run 'screener audit verify' "
                "before signing the site again")


# ---------------------------------------------------------------------- files
def site_key_path(home: Path) -> Path:
    """The site key, apart from the station keys (``keys/<station>.ed25519.pem``)."""
    return home / "keys" / "site" / "site.ed25519.pem"


def site_anchor_path(home: Path) -> Path:
    return home / "audit" / "site-checkpoint.latest.json"


def write_site_anchor(path: Path, record: SiteCheckpointRecord) -> None:
    """The site checkpoint as JSON, written atomically (temporary file, fsync, rename)."""
    write_json_atomically(path, record.as_dict())


def read_site_anchor(path: Path) -> SiteCheckpointRecord | None:
    """The site checkpoint in a file, or None when there is no such file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SiteCheckpointError(f"{path}: site checkpoint file unreadable ({exc})") from None
    try:
        return SiteCheckpointRecord.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise SiteCheckpointError(f"{path}: not a site checkpoint file ({exc!r})") from None
