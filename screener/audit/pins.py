"""What a station knows of the chains from outside the database: each key file in its home
pins that station's key fingerprint, and each anchor file its latest checkpoint.
``audit verify`` checks the database against these pins."""

from __future__ import annotations

from pathlib import Path

from screener.audit.anchor import anchor_path, read_anchor
from screener.audit.keys import load_key
from screener.audit.verify import Expectation


def station_expectations(home: Path) -> dict[str, Expectation]:
    """The pins of every station whose key file lies in ``home/keys``."""
    expectations = {}
    for path in sorted((home / "keys").glob("*.ed25519.pem")):
        station = path.name.removesuffix(".ed25519.pem")
        expectations[station] = Expectation(
            fingerprint=load_key(path).fingerprint,
            anchor=read_anchor(anchor_path(home, station)))
    return expectations
