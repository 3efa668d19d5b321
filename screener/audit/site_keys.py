"""Site key rotation: the site key hands over to a new key, and which key signs which site
checkpoint.

A rotation is one record (table ``site_key_rotations``, docs/audit.md "Site key
rotation"): the old and new public keys, the number of the first site checkpoint the new
key signs, and two Ed25519 signatures over the same message,
``"screener-site-key-rotation-v1\\n" + canonical({number, time_utc, first_checkpoint,
previous, previous_rotation, old_fingerprint, old_public_key, new_fingerprint,
new_public_key})``, where ``previous`` is the digest of the last site checkpoint the old
key signed (number ``first_checkpoint - 1``) and ``previous_rotation`` the digest of the
rotation before (64 zeros for the first), so that the rotations form a chain of their own
and a later key vouches for every earlier hand-over:

* the **endorsement**, by the old key: whoever trusts the old key trusts the new one;
* the **acceptance**, by the new key: whoever trusts the new key (a supervisor who pins
  today's site key) trusts the checkpoints the old key signed before it, as far as they
  link by ``previous`` digests to the one the rotation names: a thief of the old key can
  neither sign an earlier checkpoint of their own that passes nor hand the site to a key
  of their own without the current one.

:func:`key_schedule` follows the rotations from the first site key and says which key
must have signed each site checkpoint; the database verifier and the offline check of an
evidence bundle both use it.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from screener.audit.canonical import canonical_json
from screener.audit.keys import display_fingerprint, fingerprint, signature_valid
from screener.audit.schema import SiteKeyRotation

ROTATION_DOMAIN = b"screener-site-key-rotation-v1\n"
NO_PREVIOUS_ROTATION = "0" * 64
#: The fields of a rotation record and their types, as a bundle's JSON holds them.
ROTATION_FIELDS: dict[str, type] = {
    "number": int, "time_utc": str, "first_checkpoint": int, "previous": str,
    "previous_rotation": str, "old_fingerprint": str,
    "old_public_key": str, "new_fingerprint": str, "new_public_key": str,
    "endorsement": str, "acceptance": str}


@dataclass(frozen=True)
class SiteKeyRotationRecord:
    number: int
    time_utc: str
    first_checkpoint: int
    previous: str
    previous_rotation: str
    old_fingerprint: str
    old_public_key: str
    new_fingerprint: str
    new_public_key: str
    endorsement: str
    acceptance: str

    def signed_fields(self) -> dict[str, Any]:
        return {"number": self.number, "time_utc": self.time_utc,
                "first_checkpoint": self.first_checkpoint, "previous": self.previous,
                "previous_rotation": self.previous_rotation,
                "old_fingerprint": self.old_fingerprint, "old_public_key": self.old_public_key,
                "new_fingerprint": self.new_fingerprint, "new_public_key": self.new_public_key}

    def message(self) -> bytes:
        return rotation_message(self.signed_fields())

    def digest(self) -> str:
        """What the next rotation's ``previous_rotation`` names."""
        return hashlib.sha256(self.message()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {**self.signed_fields(), "endorsement": self.endorsement,
                "acceptance": self.acceptance}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SiteKeyRotationRecord:
        return cls(**{name: kind(data[name]) for name, kind in ROTATION_FIELDS.items()})

    def signature_fault(self) -> str | None:
        """Why the record does not prove a hand-over (a fingerprint that is not its
        key's, a signature that does not verify), or None."""
        for role, key, named in (("old", self.old_public_key, self.old_fingerprint),
                                 ("new", self.new_public_key, self.new_fingerprint)):
            try:
                actual = fingerprint(bytes.fromhex(key))
            except ValueError:
                return f"its {role} public key is not hex"
            if actual != named:
                return f"its {role} fingerprint is not the fingerprint of its {role} key"
        if self.old_fingerprint == self.new_fingerprint:
            return "it hands the site key over to itself"
        message = self.message()
        if not signature_valid(self.old_public_key, message, self.endorsement):
            return "its endorsement does not verify with the key it replaces"
        if not signature_valid(self.new_public_key, message, self.acceptance):
            return "its acceptance does not verify with the new key"
        return None


def rotation_message(fields: dict[str, Any]) -> bytes:
    return ROTATION_DOMAIN + canonical_json(fields, "site key rotation")


@dataclass(frozen=True)
class KeySchedule:
    """Which site key signs which site checkpoint: ``first_key`` until the first
    rotation's ``first_checkpoint``, then each rotation's new key."""

    first_key: str | None
    starts: tuple[int, ...] = ()  # first_checkpoint of each sound rotation, ascending
    successors: tuple[str, ...] = ()  # the new key of each
    handed_over_at: tuple[str, ...] = ()  # the ``previous`` digest of each

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key of the site in order, the first one first."""
        return (() if self.first_key is None else (self.first_key,)) + self.successors

    @property
    def current(self) -> str | None:
        return self.successors[-1] if self.successors else self.first_key

    def hand_over_after(self, checkpoint: int) -> tuple[int, str] | None:
        """For a checkpoint of a retired key: the number of that key's last checkpoint and
        the digest the rotation that retired it names for it (the checkpoint must link to
        it by ``previous`` digests); None for a checkpoint of the current key."""
        index = bisect.bisect_right(self.starts, checkpoint)
        if index >= len(self.starts):
            return None
        return self.starts[index] - 1, self.handed_over_at[index]

    def key_for(self, checkpoint: int) -> str | None:
        """The key that must have signed site checkpoint ``checkpoint``."""
        index = bisect.bisect_right(self.starts, checkpoint)
        return self.successors[index - 1] if index else self.first_key

    def required_key(self, checkpoint: int, pinned: str | None) -> tuple[str | None, bool]:
        """The key site checkpoint ``checkpoint`` needs, and whether it is the pinned
        one: :meth:`key_for`, unless ``pinned`` is none of the schedule's keys (then the
        pinned key: only a checkpoint outside this schedule could match it). Trust in
        any key of the schedule carries to all of them: each rotation is signed by both
        its keys (and binds the old key's history by its ``previous`` digest)."""
        if pinned is not None and pinned not in self.keys:
            return pinned, True
        key = self.key_for(checkpoint)
        return key, key is not None and key == pinned


@dataclass(frozen=True)
class RotationFault:
    """A rotation the schedule could not follow (it and every later one are ignored)."""

    rotation: int
    first_checkpoint: int
    detail: str

    def __str__(self) -> str:
        return f"site key rotation {self.rotation}: {self.detail}"


def key_schedule(first_key: str | None, rotations: list[SiteKeyRotationRecord]
                 ) -> tuple[KeySchedule, RotationFault | None]:  # fmt: skip
    """Follow ``rotations`` (by number) from ``first_key`` (the key of site checkpoint 1,
    or of the earliest one known). Each must be numbered next, start after the previous
    one, be signed by both its keys and hand over from the key then current. The first
    that fails stops the schedule there and is returned: the checkpoints its new key
    signed are then reported as signed by another key."""
    starts: list[int] = []
    successors: list[str] = []
    digests: list[str] = []
    current = first_key
    before = NO_PREVIOUS_ROTATION
    for expected, rotation in enumerate(sorted(rotations, key=lambda r: r.number), 1):
        detail = _rotation_fault(rotation, expected, current, starts, before)
        if detail is not None:
            fault = RotationFault(rotation.number, rotation.first_checkpoint, detail)
            return KeySchedule(first_key, tuple(starts), tuple(successors),
                               tuple(digests)), fault
        if current is None:
            first_key = rotation.old_fingerprint
        starts.append(rotation.first_checkpoint)
        successors.append(rotation.new_fingerprint)
        digests.append(rotation.previous)
        current = rotation.new_fingerprint
        before = rotation.digest()
    return KeySchedule(first_key, tuple(starts), tuple(successors), tuple(digests)), None


def _rotation_fault(rotation: SiteKeyRotationRecord, expected: int, current: str | None,
                    starts: list[int], before: str) -> str | None:
    if rotation.number != expected:
        return f"rotation {expected} is missing (next present: {rotation.number})"
    if rotation.previous_rotation != before:
        return "it does not name the rotation before it (previous_rotation)"
    if rotation.first_checkpoint < 2 or (starts and rotation.first_checkpoint <= starts[-1]):
        return (f"it starts at site checkpoint {rotation.first_checkpoint}, not after the "
                "rotation before it")
    if current is not None and rotation.old_fingerprint != current:
        return (f"it hands over from key {display_fingerprint(rotation.old_fingerprint)}, "
                f"but the site key then was {display_fingerprint(current)}")
    return rotation.signature_fault()


def site_key_rotations(conn: Connection) -> list[SiteKeyRotationRecord]:
    """Every site key rotation in the database, by number."""
    rows = conn.execute(select(SiteKeyRotation.__table__).order_by(SiteKeyRotation.number))
    return [SiteKeyRotationRecord(**{name: getattr(row, name) for name in ROTATION_FIELDS})
            for row in rows]
