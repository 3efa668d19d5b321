"""Station signing keys: Ed25519 (the ``cryptography`` package).

A station's private key lives in ``<home>/keys/<station>.ed25519.pem`` (PKCS#8 PEM,
owner-only permissions); its public key travels inside the chain (the genesis and
key-rotation events) and inside every evidence bundle. A key is named by its
fingerprint: the sha256 of the 32 raw public-key bytes, in hex.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from screener.atomic_files import written_atomically
from screener.errors import ConfigError, StationKeyError


def fingerprint(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


def display_fingerprint(value: str) -> str:
    """The first 128 bits in groups of four, as people read them out to each other."""
    return " ".join(value[i:i + 4] for i in range(0, 32, 4))


@dataclass(frozen=True)
class StationKey:
    private: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)

    @property
    def public_hex(self) -> str:
        return self.public_bytes.hex()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_bytes)

    def sign(self, message: bytes) -> str:
        return self.private.sign(message).hex()

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @classmethod
    def generate(cls) -> StationKey:
        return cls(Ed25519PrivateKey.generate())


_STATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_station_name(station: str) -> str:
    """Station names become file names (key, anchor): letters, digits, '.', '_', '-'."""
    if not _STATION.fullmatch(station):
        raise ConfigError("settings", "station", f"{station!r} is not a station name "
                          "(letters, digits, '.', '_', '-'; at most 128 characters)")
    return station


def key_path(home: Path, station: str) -> Path:
    return home / "keys" / f"{check_station_name(station)}.ed25519.pem"


def load_key(path: Path) -> StationKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StationKeyError(path, "no key file; create one with 'screener audit key "
                              "create' (or let the station create it on first start)") from None
    except OSError as exc:
        raise StationKeyError(path, f"cannot read: {exc.strerror}") from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise StationKeyError(path, f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise StationKeyError(path, f"a {type(private).__name__} key; Screener signs with "
                              "Ed25519 only")
    return StationKey(private)


def save_key(key: StationKey, path: Path) -> None:
    """Write a new key file readable by its owner only, atomically (written aside, then
    hard-linked into place); never overwrites a key."""
    pem = key.private.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    try:
        with written_atomically(path, overwrite=False, mode=0o600) as aside:
            aside.write_bytes(pem)
    except FileExistsError:
        raise StationKeyError(path, "a key file already exists; Screener never overwrites "
                              "a signing key") from None
    except OSError as exc:
        raise StationKeyError(path, f"cannot write: {exc.strerror}") from None


def load_or_create_key(path: Path) -> StationKey:
    """The station's key, made on first use (two processes starting at once get the same
    key: the one whose link lands first)."""
    if not path.exists():
        try:
            save_key(StationKey.generate(), path)
        except StationKeyError:
            if not path.exists():
                raise
    return load_key(path)


def signature_valid(public_hex: str, message: bytes, signature_hex: str) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex))
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True
