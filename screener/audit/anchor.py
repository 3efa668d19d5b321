"""The station's anchor: a copy of its latest signed checkpoint kept *outside* the
database (``<home>/audit/<station>.anchor.json``).

The chain proves that rows were not changed in place; it cannot, by itself, show that its
last rows were cut off together with their checkpoint, or that the whole database was
swapped for another valid chain. The anchor can: verification compares the database
with it. Written atomically (temporary file, fsync, rename).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from screener.audit.chain import CheckpointRecord
from screener.audit.keys import check_station_name
from screener.errors import AuditError


class AnchorError(AuditError):
    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: audit anchor: {problem}")


def anchor_path(home: Path, station: str) -> Path:
    return home / "audit" / f"{check_station_name(station)}.anchor.json"


def write_anchor(path: Path, checkpoint: CheckpointRecord) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(checkpoint.as_dict(), handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def read_anchor(path: Path) -> CheckpointRecord | None:
    """The anchored checkpoint, or None when the station has not written one yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise AnchorError(path, f"unreadable ({exc})") from None
    try:
        return CheckpointRecord(**{name: data[name] for name in (
            "station", "genesis_hash", "seq", "time_utc", "head_hash", "reason",
            "key_fingerprint", "signature")})
    except (KeyError, TypeError) as exc:
        raise AnchorError(path, f"missing field {exc}") from None
