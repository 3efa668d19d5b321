"""An administrator's actions on the station's signing key: rotate it and sign a checkpoint
now. The workstation's admin view and ``screener audit key rotate`` both come here, and
the guard refuses (and logs) anyone without ``keys.manage``.

Rotation writes the new key file aside first, then the chain records the rotation
(endorsed and checkpointed by the outgoing key), then the old file is kept as
``*.retired-<fingerprint>`` and the new one takes its place: there is never a chain
naming a key whose file is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from screener.audit.chain import CheckpointRecord, EventRecord
from screener.audit.keys import StationKey, key_path, save_key
from screener.audit.log import AuditLog
from screener.workflow.roles import Action, Guard
from screener.workflow.session import Operator

MANUAL_REASON = "manual checkpoint"


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
    retired = path.with_name(f"{path.name}.retired-{old[:8]}")
    path.rename(retired)
    pending.rename(path)
    return Rotation(old, new_key.fingerprint, retired, event)


def sign_checkpoint(log: AuditLog, operator: Operator,
                    reason: str = MANUAL_REASON) -> CheckpointRecord | None:
    """Sign the head now; None when a checkpoint covers it already."""
    Guard(log).require(operator.id, operator.role, Action.MANAGE_KEYS,
                       subject=f"sign a checkpoint of station {log.station}")
    return log.checkpoint(reason)
