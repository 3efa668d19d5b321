"""Cases and legal holds, kept as events in the chain (nothing mutable outside it).

An investigator puts scans on hold under a case id (``case.hold``) and may later release
the case (``case.release``). The hold state at any time is a replay of those events over
every station's chain, so it is as tamper-evident as the decisions themselves. Retention
never deletes a scan file that a case holds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from sqlalchemy import Engine

from screener.audit.chain import EventRecord
from screener.audit.log import AuditLog
from screener.audit.query import events_of_kinds
from screener.errors import AuditPayloadError

KIND_CASE_HOLD = "case.hold"
KIND_CASE_RELEASE = "case.release"
_CASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_case_id(case_id: str) -> str:
    if not _CASE_ID.fullmatch(case_id):
        raise AuditPayloadError("case", f"{case_id!r} is not a case id (letters, digits, "
                                "'.', '_', '/', '-', at most 64 characters)")
    return case_id


def place_hold(log: AuditLog, case_id: str, scans: Iterable[str], *, actor: str, role: str,
               reason: str) -> EventRecord:
    """Hold ``scans`` (sha256) under ``case_id``; a case may be held in several steps."""
    held = sorted(set(scans))
    for digest in held:
        if not _SHA256.fullmatch(digest):
            raise AuditPayloadError("scans", f"{digest!r} is not a lower-case hex sha256")
    if not held:
        raise AuditPayloadError("scans", "name at least one scan to hold")
    return log.append(KIND_CASE_HOLD, {"case": check_case_id(case_id), "scans": held,
                                       "reason": reason}, actor=actor, role=role)


def release_hold(log: AuditLog, case_id: str, *, actor: str, role: str,
                 reason: str) -> EventRecord:
    return log.append(KIND_CASE_RELEASE, {"case": check_case_id(case_id), "reason": reason},
                      actor=actor, role=role)


def case_holds(engine: Engine) -> dict[str, set[str]]:
    """Open cases and the scans each holds, replayed from the log (all stations)."""
    cases: dict[str, set[str]] = {}
    for event in events_of_kinds(engine, (KIND_CASE_HOLD, KIND_CASE_RELEASE)):
        payload = json.loads(event.payload)
        if event.kind == KIND_CASE_HOLD:
            cases.setdefault(payload["case"], set()).update(payload["scans"])
        else:
            cases.pop(payload["case"], None)
    return cases


def held_scans(engine: Engine) -> set[str]:
    return set().union(*case_holds(engine).values())


def case_scans(engine: Engine, case_id: str) -> set[str]:
    """Every scan ever put on hold under ``case_id`` (released or not): what an evidence
    export of the case contains."""
    scans: set[str] = set()
    for event in events_of_kinds(engine, (KIND_CASE_HOLD,)):
        payload = json.loads(event.payload)
        if payload["case"] == case_id:
            scans.update(payload["scans"])
    return scans
