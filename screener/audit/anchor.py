"""The station's anchor: a copy of its latest signed checkpoint kept *outside* the
database (``<home>/audit/<station>.anchor.json``).

The chain proves that rows were not changed in place; it cannot, by itself, show that its
last rows were cut off together with their checkpoint, or that the whole database was
swapped for another valid chain. The anchor can: verification compares the database
with it. Written atomically (temporary file, fsync, rename).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from screener.atomic_files import written_atomically
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
    write_json_atomically(path, checkpoint.as_dict())


def write_json_atomically(path: Path, document: dict[str, Any]) -> None:
    """``document`` as JSON at ``path``, sorted and indented, replacing any file there
    atomically (``written_atomically``: two processes of one station, or the site, may
    anchor at the same moment, and each writes its own aside file)."""
    with written_atomically(path) as aside, aside.open("w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, sort_keys=True)
        handle.write("\n")


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
