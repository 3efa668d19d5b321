"""Holds on scans for a case, only by investigators (the guard logs any other attempt)."""

from __future__ import annotations

from collections.abc import Iterable

from screener.audit import cases
from screener.audit.chain import EventRecord
from screener.workflow.roles import Action, Guard, Role


def place_hold(guard: Guard, actor: str, role: Role, case_id: str, scans: Iterable[str], *,
               reason: str) -> EventRecord:
    """Put ``scans`` (sha256) on hold under ``case_id``; retention will not delete them."""
    guard.require(actor, role, Action.PLACE_HOLD, subject=f"case {case_id}")
    return cases.place_hold(guard.log, case_id, scans, actor=actor, role=role.value,
                            reason=reason)


def release_hold(guard: Guard, actor: str, role: Role, case_id: str, *,
                 reason: str) -> EventRecord:
    guard.require(actor, role, Action.RELEASE_HOLD, subject=f"case {case_id}")
    return cases.release_hold(guard.log, case_id, actor=actor, role=role.value, reason=reason)
