"""Password hashing with scrypt (hashlib, OpenSSL), in a self-describing string.

``scrypt$<log2 N>$<r>$<p>$<salt, base64>$<key, base64>``: the cost parameters travel
with the hash, so raising them later leaves old hashes verifiable (and
:func:`needs_rehash` says when to upgrade one at the next login). N = 2^15, r = 8, p = 1
take about 50 ms and 32 MiB here: cheap for one login, costly for a guessing attack on
a stolen database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from screener.errors import ScreenerError

LOG2_N = 15
R = 8
P = 1
SALT_BYTES = 16
KEY_BYTES = 32
MIN_LENGTH = 8
_MAX_MEMORY = 256 * 1024 * 1024


class PasswordPolicyError(ScreenerError):
    """A new password does not meet the policy; says which rule."""


@dataclass(frozen=True)
class _Parsed:
    log2_n: int
    r: int
    p: int
    salt: bytes
    key: bytes


def check_policy(user_id: str, password: str) -> None:
    """At least :data:`MIN_LENGTH` characters, not the user id, not all one character."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"the password must have at least {MIN_LENGTH} characters")
    if password.strip().lower() == user_id.strip().lower():
        raise PasswordPolicyError("the password must not be the user id")
    if len(set(password)) == 1:
        raise PasswordPolicyError("the password must not repeat one character")


def hash_password(password: str, *, log2_n: int = LOG2_N) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, log2_n, R, P)
    return "$".join(("scrypt", str(log2_n), str(R), str(P), _b64(salt), _b64(key)))


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of ``password`` against a stored hash; False for a malformed
    hash (an account whose hash is damaged cannot log in)."""
    parsed = _parse(stored)
    if parsed is None:
        return False
    key = _derive(password, parsed.salt, parsed.log2_n, parsed.r, parsed.p)
    return hmac.compare_digest(key, parsed.key)


def needs_rehash(stored: str) -> bool:
    parsed = _parse(stored)
    return parsed is None or (parsed.log2_n, parsed.r, parsed.p) < (LOG2_N, R, P)


def _derive(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2**log2_n, r=r, p=p,
                          maxmem=_MAX_MEMORY, dklen=KEY_BYTES)


def _parse(stored: str) -> _Parsed | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        log2_n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    if not (10 <= log2_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16 and salt and key):
        return None
    return _Parsed(log2_n, r, p, salt, key)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
