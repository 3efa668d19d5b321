"""The chain proof inside a bundle (``data/events.jsonl``) and its offline check.

One JSON object per line, in chain order per station:

* ``{"record": "event", "selected": true|false, <the event's columns>}``: every column
  of the event as stored (:meth:`EventRecord.as_dict`, with ``prev_hash`` and ``hash``).
  ``selected`` marks the events the export was asked for; the others are there to prove
  them: the run of events from each selected event up to the signed checkpoint that
  covers it, and the station's signing-key events (genesis and key rotations, each with
  its own run to a checkpoint).
* ``{"record": "checkpoint", <the checkpoint's columns>}``: the signed checkpoints.

Checking needs nothing but these lines (:func:`check_chain`): each event's hash over its
own columns, each link ``prev_hash`` = previous ``hash`` from an event to its
checkpoint, each checkpoint's ``head_hash``, its Ed25519 signature by the key the key
events name for that seq, and each key rotation's endorsement by the key it replaces.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from screener.audit.canonical import canonical_text
from screener.audit.chain import (
    GENESIS_PREV_HASH,
    KIND_GENESIS,
    KIND_KEY_ROTATED,
    CheckpointRecord,
    EventRecord,
    rotation_message,
)
from screener.audit.keys import display_fingerprint, fingerprint, signature_valid

EventKey = tuple[str, int]
KEY_KINDS = (KIND_GENESIS, KIND_KEY_ROTATED)

EVENT_FIELDS: dict[str, tuple[type, ...]] = {
    "station": (str,), "seq": (int,), "time_utc": (str,), "actor": (str,), "role": (str,),
    "kind": (str,), "payload": (str,), "scan_sha256": (str, type(None)),
    "model_sha256": (str, type(None)), "prev_hash": (str,), "hash": (str,)}
_CHECKPOINT_FIELDS: dict[str, tuple[type, ...]] = {
    "station": (str,), "genesis_hash": (str,), "seq": (int,), "time_utc": (str,),
    "head_hash": (str,), "reason": (str,), "key_fingerprint": (str,), "signature": (str,)}


def event_label(station: str, seq: int) -> str:
    return f"event {station}#{seq}"


def checkpoint_label(station: str, seq: int) -> str:
    return f"checkpoint {station}#{seq}"


# ---------------------------------------------------------------------- writing
def chain_lines(events: Mapping[EventKey, EventRecord], selected: Iterable[EventKey],
                checkpoints: Mapping[EventKey, CheckpointRecord]) -> bytes:
    """The bytes of ``events.jsonl``: events and checkpoints in (station, seq) order, a
    checkpoint right after the event it signs."""
    chosen = set(selected)
    rows: list[tuple[EventKey, int, dict[str, Any]]] = []
    for key, record in events.items():
        rows.append((key, 0, {"record": "event", "selected": key in chosen,
                              **record.as_dict()}))
    for key, cp in checkpoints.items():
        rows.append((key, 1, {"record": "checkpoint", **cp.as_dict()}))
    rows.sort(key=lambda row: (row[0], row[1]))
    return "".join(canonical_text(row, "events.jsonl") + "\n" for _, _, row in rows
                   ).encode("utf-8")


# ---------------------------------------------------------------------- reading
@dataclass
class Chain:
    """The parsed lines of ``events.jsonl``."""

    events: dict[EventKey, EventRecord] = field(default_factory=dict)
    selected: list[EventKey] = field(default_factory=list)
    checkpoints: dict[EventKey, CheckpointRecord] = field(default_factory=dict)


def field_fault(obj: Mapping[str, Any], spec: Mapping[str, tuple[type, ...]]) -> str | None:
    """What is wrong with ``obj`` against ``spec`` (name: allowed types), or None."""
    for name, types in spec.items():
        if name not in obj:
            return f"has no '{name}'"
        value = obj[name]
        if isinstance(value, bool) or not isinstance(value, types):
            return f"'{name}' is not {' or '.join(t.__name__ for t in types)}"
    return None


def event_from_dict(obj: Mapping[str, Any]) -> EventRecord:
    """The event of an object that :func:`field_fault` found sound against
    :data:`EVENT_FIELDS` (other keys are ignored)."""
    return EventRecord(**{k: obj[k] for k in EVENT_FIELDS})


def parse_chain(name: str, data: bytes) -> tuple[Chain, list[str]]:
    """The events and checkpoints of ``events.jsonl``, and the lines that are not."""
    chain = Chain()
    problems: list[str] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return chain, [f"{name}: not UTF-8 text"]
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            problems.append(f"{name}: line {number}: not JSON")
            continue
        if not isinstance(obj, dict) or obj.get("record") not in ("event", "checkpoint"):
            problems.append(f"{name}: line {number}: not an event or checkpoint record")
            continue
        if obj["record"] == "event":
            fault = field_fault(obj, EVENT_FIELDS)
            if fault is None and not isinstance(obj.get("selected"), bool):
                fault = "'selected' is not true or false"
            if fault is not None:
                problems.append(f"{name}: line {number}: event {fault}")
                continue
            record = event_from_dict(obj)
            key = (record.station, record.seq)
            if key in chain.events:
                problems.append(f"{name}: {event_label(*key)} appears more than once")
                continue
            chain.events[key] = record
            if obj["selected"]:
                chain.selected.append(key)
        else:
            fault = field_fault(obj, _CHECKPOINT_FIELDS)
            if fault is not None:
                problems.append(f"{name}: line {number}: checkpoint {fault}")
                continue
            cp = CheckpointRecord(**{k: obj[k] for k in _CHECKPOINT_FIELDS})
            key = (cp.station, cp.seq)
            if key in chain.checkpoints:
                problems.append(f"{name}: {checkpoint_label(*key)} appears more than once")
                continue
            chain.checkpoints[key] = cp
    return chain, problems


# ---------------------------------------------------------------------- checking
@dataclass
class ChainCheck:
    problems: list[str] = field(default_factory=list)
    proven: set[EventKey] = field(default_factory=set)  # events linked to a good checkpoint
    keys: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # station: (seq, hex)
    checkpoints_used: set[EventKey] = field(default_factory=set)

    def active_key(self, station: str) -> str | None:
        """The public key (hex) the station's chain names last."""
        keys = self.keys.get(station)
        return keys[-1][1] if keys else None


def key_at(keys: list[tuple[int, str]], seq: int) -> str | None:
    """The public key that signs a checkpoint at ``seq``: the genesis key for seq 1, else
    the key named by the last key event *before* ``seq`` (a rotation's own checkpoint is
    still signed by the key it replaces)."""
    active = None
    for start, public in keys:
        if start < seq or (start == seq and active is None):
            active = public
    return active


def _public_key(payload: str) -> tuple[str | None, dict[str, Any]]:
    try:
        data = json.loads(payload)
        public = str(data["public_key"])
        if len(bytes.fromhex(public)) != 32:
            return None, data
    except (ValueError, KeyError, TypeError):
        return None, {}
    return public.lower(), data


def _key_schedule(name: str, station: str, chain: Chain, check: ChainCheck) -> None:
    keys: list[tuple[int, str]] = []
    for (st, seq), record in sorted(chain.events.items()):
        if st != station or record.kind not in KEY_KINDS:
            continue
        label = f"{name}: {event_label(st, seq)}"
        public, payload = _public_key(record.payload)
        if public is None:
            check.problems.append(f"{label}: {record.kind} event names no Ed25519 public key")
            continue
        named = payload.get("fingerprint")
        if named is not None and named != fingerprint(bytes.fromhex(public)):
            check.problems.append(f"{label}: the fingerprint it states is not its key's")
        if record.kind == KIND_GENESIS:
            if seq != 1 or record.prev_hash != GENESIS_PREV_HASH:
                check.problems.append(f"{label}: a genesis event must be the chain's first "
                                      "(seq 1, prev_hash all zeros)")
                continue
        else:
            if not keys:
                check.problems.append(f"{label}: key rotation, but the bundle holds no "
                                      "earlier key event of this station")
                continue
            endorsement = str(payload.get("endorsement") or "")
            if not signature_valid(keys[-1][1], rotation_message(station, public),
                                   endorsement):
                check.problems.append(f"{label}: key rotation not endorsed by the key it "
                                      "replaces")
                continue
        keys.append((seq, public))
    check.keys[station] = keys


def _check_checkpoint(name: str, cp: CheckpointRecord, chain: Chain,
                      check: ChainCheck) -> bool:
    label = f"{name}: {checkpoint_label(cp.station, cp.seq)}"
    ok = True
    public = key_at(check.keys.get(cp.station, []), cp.seq)
    if public is None:
        check.problems.append(f"{label}: no key event in the bundle names the key that "
                              "signs it")
        ok = False
    elif fingerprint(bytes.fromhex(public)) != cp.key_fingerprint:
        check.problems.append(f"{label}: names key {display_fingerprint(cp.key_fingerprint)}"
                              f" but the chain's key at seq {cp.seq} is "
                              f"{display_fingerprint(fingerprint(bytes.fromhex(public)))}")
        ok = False
    elif not signature_valid(public, cp.message(), cp.signature):
        check.problems.append(f"{label}: signature does not verify with the station key "
                              f"{display_fingerprint(cp.key_fingerprint)}")
        ok = False
    genesis = chain.events.get((cp.station, 1))
    if genesis is None or genesis.kind != KIND_GENESIS:
        check.problems.append(f"{label}: the chain's genesis event "
                              f"{cp.station}#1 is not in the bundle")
        ok = False
    elif cp.genesis_hash != genesis.hash:
        check.problems.append(f"{label}: belongs to another chain (its genesis hash is not "
                              f"that of {cp.station}#1)")
        ok = False
    head = chain.events.get((cp.station, cp.seq))
    if head is None:
        check.problems.append(f"{label}: the event it signs ({cp.station}#{cp.seq}) is not "
                              "in the bundle")
        ok = False
    elif head.hash != cp.head_hash:
        check.problems.append(f"{label}: signs hash {cp.head_hash[:16]}... but "
                              f"{event_label(cp.station, cp.seq)} has hash "
                              f"{head.hash[:16]}...")
        ok = False
    return ok


def check_chain(name: str, chain: Chain) -> ChainCheck:
    """Every event's hash, every link to a checkpoint, every checkpoint's signature. Each
    problem names ``name`` and the event or checkpoint at fault."""
    check = ChainCheck()
    hash_ok: dict[EventKey, bool] = {}
    for key, record in sorted(chain.events.items()):
        hash_ok[key] = record.computed_hash() == record.hash
        if not hash_ok[key]:
            check.problems.append(f"{name}: {event_label(*key)}: hash does not match its "
                                  "contents")
    stations = sorted({st for st, _ in chain.events} | {st for st, _ in chain.checkpoints})
    for station in stations:
        _key_schedule(name, station, chain, check)
        cps = sorted(seq for st, seq in chain.checkpoints if st == station)
        cp_ok = {seq: _check_checkpoint(name, chain.checkpoints[(station, seq)], chain, check)
                 for seq in cps}
        seqs = sorted(seq for st, seq in chain.events if st == station)
        reported_missing: set[int] = set()
        proven: dict[int, bool] = {}
        for seq in reversed(seqs):
            key = (station, seq)
            at = bisect.bisect_left(cps, seq)
            if at == len(cps):
                check.problems.append(f"{name}: {event_label(*key)}: no signed checkpoint in "
                                      "the bundle covers it")
                proven[seq] = False
                continue
            cp_seq = cps[at]
            check.checkpoints_used.add((station, cp_seq))
            if seq == cp_seq:
                proven[seq] = hash_ok[key] and cp_ok[cp_seq]
                continue
            following = chain.events.get((station, seq + 1))
            if following is None:
                if seq + 1 not in reported_missing:
                    reported_missing.add(seq + 1)
                    check.problems.append(
                        f"{name}: {event_label(station, seq + 1)} is missing: it links "
                        f"{event_label(*key)} to {checkpoint_label(station, cp_seq)}")
                proven[seq] = False
                continue
            if following.prev_hash != chain.events[key].hash:
                check.problems.append(f"{name}: {event_label(station, seq + 1)}: prev_hash "
                                      f"does not match the hash of {event_label(*key)}")
                proven[seq] = False
                continue
            proven[seq] = hash_ok[key] and proven.get(seq + 1, False)
        check.proven |= {(station, seq) for seq, ok in proven.items() if ok}
    return check
