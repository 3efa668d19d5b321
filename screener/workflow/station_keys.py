"""An administrator's actions on the signing keys: rotate the station's key, sign a
checkpoint now, and hand the site key over to a new one. The workstation's admin view,
``screener audit key rotate`` and ``screener audit site-key rotate`` come here, and the
guard refuses (and logs) anyone without ``keys.manage``.

Rotation writes the new key file aside first, then the database records the rotation
(endorsed by the outgoing key), then the old file is kept as ``*.retired-<fingerprint>``
and the new one takes its place: there is never a chain naming a key whose file is
missing. (Should the process stop between the two, the new key is in ``*.new``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from screener.audit.chain import CheckpointRecord, EventRecord
from screener.audit.keys import StationKey, key_path, load_key, save_key
from screener.audit.log import AuditLog
from screener.audit.site import SiteCheckpointRecord, current_site_key_of, rotate_site_key
from screener.audit.site_keys import SiteKeyRotationRecord
from screener.errors import ScreenerError
from screener.workflow.roles import Action, Guard
from screener.workflow.session import Operator

MANUAL_REASON = "manual checkpoint"
KIND_SITE_KEY_ROTATED = "site.key_rotated"


@dataclass(frozen=True)
class Rotation:
    old_fingerprint: str
    new_fingerprint: str
    retired: Path
    event: EventRecord


def rotate_station_key(log: AuditLog, home: Path, operator: Operator) -> Rotation:
    """Hand the station's chain to a new key (the key file under ``home``)."""
    Guard(log).require(operator.id, operator.role, Action.MANAGE_KEYS,
                       subject=f"rotate the key of station {log.station}")
    path = key_path(home, log.station)
    old = log.key.fingerprint
    pending = path.with_name(f"{path.name}.new")
    new_key = StationKey.generate()
    save_key(new_key, pending)  # on disk before the chain names it
    event = log.rotate_key(new_key, actor=operator.id, role=operator.role.value)
    retired = _swap_in(path, pending, old)
    assert retired is not None  # the station's key file exists: the log was opened with it
    return Rotation(old, new_key.fingerprint, retired, event)


@dataclass(frozen=True)
class SiteRotation:
    record: SiteKeyRotationRecord
    checkpoint: SiteCheckpointRecord  # the new key's first site checkpoint
    retired: Path | None
    event: EventRecord


def hand_over_site_key(log: AuditLog, key_file: Path, operator: Operator,
                       engine: Engine | None = None) -> SiteRotation:
    """Hand the site key in ``key_file`` over to a new key: the rotation (signed by both
    keys) and the new key's first site checkpoint go into the site database (``engine``,
    default the log's), ``site.key_rotated`` into this station's chain in the operator's
    name, and the files are swapped as for a station key."""
    Guard(log).require(operator.id, operator.role, Action.MANAGE_KEYS,
                       subject="hand the site key over to a new key")
    site = engine or log.engine
    old_key = load_key(key_file)
    pending = _pending(key_file)
    new_key = StationKey.generate()
    save_key(new_key, pending)  # on disk before the database names it
    try:
        record, checkpoint = rotate_site_key(site, old_key, new_key)
    except BaseException:
        _settle(key_file, pending, site)  # set aside if refused; installed if it committed
        raise
    retired = _swap_in(key_file, pending, old_key.fingerprint)
    event = log.append(KIND_SITE_KEY_ROTATED, {
        "rotation": record.number, "first_checkpoint": record.first_checkpoint,
        "previous_fingerprint": record.old_fingerprint, "fingerprint": record.new_fingerprint},
        actor=operator.id, role=operator.role.value)
    return SiteRotation(record, checkpoint, retired, event)


def finish_hand_over(key_file: Path, engine: Engine) -> Path | None:
    """Settle a hand-over that stopped half-way (``<key_file>.new`` left behind), by what
    the site database positively says: when it names that key, the key takes the place
    of ``key_file`` (returns where the old one is kept); when it names the key in
    ``key_file``, the unused one is set aside as ``*.unused-<fingerprint[:8]>``. When it
    names neither (another database, none reachable) nothing is touched. A key file is
    never deleted."""
    pending = _pending(key_file)
    if not pending.exists():
        return None
    return _settle(key_file, pending, engine)


def _settle(key_file: Path, pending: Path, engine: Engine) -> Path | None:
    new = load_key(pending).fingerprint
    old = load_key(key_file).fingerprint if key_file.exists() else None
    try:
        current = current_site_key_of(engine)
    except ScreenerError:
        return None
    if current == new and old != new:
        return _swap_in(key_file, pending, old)
    if current is not None and current == old:
        pending.replace(pending.with_name(f"{key_file.name}.unused-{new[:8]}"))
    return None


def _pending(key_file: Path) -> Path:
    return key_file.with_name(f"{key_file.name}.new")


def _swap_in(key_file: Path, pending: Path, old_fingerprint: str | None) -> Path | None:
    """The new key file takes the place of ``key_file`` in one rename (``key_file`` is
    never missing); the old one, if any, is kept beside it as
    ``*.retired-<fingerprint[:8]>`` (returned)."""
    retired = None
    if old_fingerprint is not None and key_file.exists():
        retired = key_file.with_name(f"{key_file.name}.retired-{old_fingerprint[:8]}")
        if not retired.exists():
            retired.hardlink_to(key_file)
    pending.replace(key_file)
    return retired


def sign_checkpoint(log: AuditLog, operator: Operator,
                    reason: str = MANUAL_REASON) -> CheckpointRecord | None:
    """Sign the head now; None when a checkpoint covers it already."""
    Guard(log).require(operator.id, operator.role, Action.MANAGE_KEYS,
                       subject=f"sign a checkpoint of station {log.station}")
    return log.checkpoint(reason)
