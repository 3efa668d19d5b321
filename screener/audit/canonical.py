"""Canonical JSON: the one byte string an event's hash and a checkpoint's signature cover.

The form (docs/audit.md, "Canonical JSON"):

* UTF-8, no byte-order mark, no whitespace outside strings;
* object keys sorted by Unicode code point, each key at most once; keys are strings;
* strings as JSON strings with non-ASCII characters written as themselves (only ``"``,
  ``\\`` and control characters are escaped, as ``json.dumps`` does);
* integers in decimal; finite floats as the shortest text that reads back to the same
  double (Python's ``repr``); NaN and infinities are refused;
* ``true``, ``false``, ``null``; arrays keep their order.

Any JSON library can reproduce it: parse, sort keys, dump compactly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from screener.errors import AuditPayloadError

JsonValue = Any


def canonical_json(value: JsonValue, field: str = "payload") -> bytes:
    """The canonical UTF-8 bytes of ``value``; raises AuditPayloadError naming the first
    part that JSON cannot carry exactly."""
    _check(value, field)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def canonical_text(value: JsonValue, field: str = "payload") -> str:
    return canonical_json(value, field).decode("utf-8")


def _check(value: JsonValue, path: str) -> None:
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditPayloadError(path, f"{value!r} is not a finite number")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditPayloadError(path, f"key {key!r} is not a string")
            _check(item, f"{path}.{key}")
        return
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]")
        return
    raise AuditPayloadError(path, f"a {type(value).__name__} cannot be stored in JSON; "
                            "convert it to text or numbers first")
