"""What a station knows of the chains from outside the database: each key file in its home
pins that station's key fingerprint, each anchor file its latest checkpoint, and the site
key and site anchor (where it holds them) the site checkpoints. ``audit verify`` checks
the database against these pins."""

from __future__ import annotations

from pathlib import Path

from screener.audit.anchor import anchor_path, read_anchor
from screener.audit.keys import load_key
from screener.audit.site import read_site_anchor, site_anchor_path, site_key_path
from screener.audit.verify import Expectation, SiteExpectation


def station_expectations(home: Path) -> dict[str, Expectation]:
    """The pins of every station whose key file lies in ``home/keys``."""
    expectations = {}
    for path in sorted((home / "keys").glob("*.ed25519.pem")):
        station = path.name.removesuffix(".ed25519.pem")
        expectations[station] = Expectation(
            fingerprint=load_key(path).fingerprint,
            anchor=read_anchor(anchor_path(home, station)))
    return expectations


def site_pins(home: Path) -> SiteExpectation:
    """The site key's fingerprint and the latest site checkpoint's copy, where this home
    holds them (the supervisor's machine makes site checkpoints; other stations may hold
    a copy of the site key's public part as its fingerprint only)."""
    key_file = site_key_path(home)
    fingerprint = load_key(key_file).fingerprint if key_file.is_file() else None
    return SiteExpectation(fingerprint=fingerprint,
                           anchor=read_site_anchor(site_anchor_path(home)))
