"""The hash chain's arithmetic: what an event's hash and a checkpoint's signature cover.

``hash = sha256(prev_hash + canonical(fields))`` where ``prev_hash`` is the previous
event's hash as 64 ASCII hex characters (64 zeros for a station's first event) and
``fields`` is the JSON object of the event's own columns, its payload as canonical JSON
text. Checkpoints sign ``"screener-checkpoint-v1\\n" + canonical(checkpoint fields)``.
Everything here is pure: the verifier and the bundle verifier use the same functions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from screener.audit.canonical import canonical_json

GENESIS_PREV_HASH = "0" * 64
CHECKPOINT_DOMAIN = b"screener-checkpoint-v1\n"
ROTATION_DOMAIN = b"screener-key-rotation-v1\n"

# Event kinds the chain itself relies on.
KIND_GENESIS = "chain.genesis"
KIND_KEY_ROTATED = "station.key_rotated"


def utc_now() -> str:
    """UTC time as stored: ISO 8601 with microseconds and a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class EventRecord:
    """One event as stored (and as exported in evidence bundles)."""

    station: str
    seq: int
    time_utc: str
    actor: str
    role: str
    kind: str
    payload: str  # canonical JSON text
    scan_sha256: str | None
    model_sha256: str | None
    prev_hash: str
    hash: str

    def hashed_fields(self, seq: int | None = None) -> dict[str, Any]:
        return {"station": self.station, "seq": self.seq if seq is None else seq,
                "time_utc": self.time_utc, "actor": self.actor, "role": self.role,
                "kind": self.kind, "payload": self.payload, "scan_sha256": self.scan_sha256,
                "model_sha256": self.model_sha256}

    def computed_hash(self, seq: int | None = None) -> str:
        """The hash this row should carry; with ``seq``, as if it stood at that seq
        (the verifier uses it to tell a moved row from a changed one)."""
        return event_hash(self.prev_hash, self.hashed_fields(seq))

    def as_dict(self) -> dict[str, Any]:
        return {**self.hashed_fields(), "prev_hash": self.prev_hash, "hash": self.hash}

    def payload_dict(self) -> dict[str, Any]:
        """The payload as an object; empty when it is not a JSON object (a damaged or
        foreign row: readers of payloads must not fail on it)."""
        try:
            data = json.loads(self.payload)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


def event_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    # a valid prev_hash is ASCII hex, where UTF-8 gives the same bytes; a damaged one must
    # give a hash that does not match rather than an exception
    return hashlib.sha256(prev_hash.encode("utf-8") + canonical_json(fields, "event")).hexdigest()


_quote = json.encoder.encode_basestring  # json.dumps' own quoting for ensure_ascii=False
_sha256 = hashlib.sha256


def row_hash(station: str, seq: int, time_utc: str, actor: str, role: str, kind: str,
             payload: str, scan_sha256: str | None, model_sha256: str | None,
             prev_hash: str) -> str:
    """:func:`event_hash` of one stored row, for the verifier's tight loop: the same bytes,
    written without building a dict or walking it (keys in their sorted order). Only for
    columns of the stored types (text, an int ``seq``, null hashes); anything else goes
    through :func:`event_hash`."""
    try:
        if type(seq) is not int:
            raise TypeError(seq)
        scan = "null" if scan_sha256 is None else _quote(scan_sha256)
        model = "null" if model_sha256 is None else _quote(model_sha256)
        body = (f'{{"actor":{_quote(actor)},"kind":{_quote(kind)},"model_sha256":{model},'
                f'"payload":{_quote(payload)},"role":{_quote(role)},"scan_sha256":{scan},'
                f'"seq":{seq},"station":{_quote(station)},"time_utc":{_quote(time_utc)}}}')
    except TypeError:  # a column of another type (a damaged row): the general form
        return event_hash(prev_hash, {
            "station": station, "seq": seq, "time_utc": time_utc, "actor": actor,
            "role": role, "kind": kind, "payload": payload, "scan_sha256": scan_sha256,
            "model_sha256": model_sha256})
    return _sha256((prev_hash + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CheckpointRecord:
    station: str
    genesis_hash: str  # names the chain: a checkpoint cannot be moved to another one
    seq: int
    time_utc: str
    head_hash: str
    reason: str
    key_fingerprint: str
    signature: str

    def signed_fields(self) -> dict[str, Any]:
        return {"station": self.station, "genesis_hash": self.genesis_hash, "seq": self.seq,
                "time_utc": self.time_utc, "head_hash": self.head_hash, "reason": self.reason,
                "key_fingerprint": self.key_fingerprint}

    def message(self) -> bytes:
        return checkpoint_message(self.signed_fields())

    def as_dict(self) -> dict[str, Any]:
        return {**self.signed_fields(), "signature": self.signature}


def checkpoint_message(fields: dict[str, Any]) -> bytes:
    return CHECKPOINT_DOMAIN + canonical_json(fields, "checkpoint")


def rotation_message(station: str, new_public_hex: str) -> bytes:
    """What the outgoing key signs to endorse its successor."""
    return ROTATION_DOMAIN + canonical_json({"station": station, "public_key": new_public_hex},
                                            "rotation")
