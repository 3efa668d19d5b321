"""Roles, the actions each may take, and the guard that enforces them.

Permissions are data (``PERMISSIONS``): a screener decides on bags; a supervisor reads
scores and changes TIP settings; a trainer runs blind tests and reads scores; an
investigator exports evidence and puts or releases holds; an administrator manages
users, station keys and retention. Nothing is allowed by default: a role missing from
the table may do nothing, so the table fails closed.

:class:`Guard` checks an action before the workflow does it. A refused attempt is
recorded as an ``auth.denied`` event and then raised as
:class:`~screener.workflow.errors.PermissionDenied`. If the log cannot record the
refusal, the :class:`~screener.errors.AuditUnavailableError` propagates instead: the
action is refused either way, and the failure to log it is not hidden.
"""

from __future__ import annotations

from enum import StrEnum

from screener.audit.log import AuditLog
from screener.workflow.errors import PermissionDenied

__all__ = ["ACTION_DESCRIPTIONS", "KIND_AUTH_DENIED", "PERMISSIONS", "Action", "Guard",
           "PermissionDenied", "Role", "allowed_roles", "may"]

KIND_AUTH_DENIED = "auth.denied"


class Role(StrEnum):
    SCREENER = "screener"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"
    INVESTIGATOR = "investigator"
    ADMIN = "admin"


class Action(StrEnum):
    SCREEN_BAGS = "screening.decide"
    VIEW_SCORES = "scores.view"
    CHANGE_TIP_SETTINGS = "tip.configure"
    RUN_BLIND_TEST = "blind_test.run"
    EXPORT_EVIDENCE = "evidence.export"
    PLACE_HOLD = "case.hold"
    RELEASE_HOLD = "case.release"
    MANAGE_USERS = "users.manage"
    MANAGE_KEYS = "keys.manage"
    MANAGE_RETENTION = "retention.manage"


ACTION_DESCRIPTIONS: dict[Action, str] = {
    Action.SCREEN_BAGS: "screen bags and decide on them",
    Action.VIEW_SCORES: "read screeners' detection scores",
    Action.CHANGE_TIP_SETTINGS: "change TIP settings",
    Action.RUN_BLIND_TEST: "run a blind test",
    Action.EXPORT_EVIDENCE: "export an evidence bundle",
    Action.PLACE_HOLD: "put scans on hold for a case",
    Action.RELEASE_HOLD: "release a case's hold",
    Action.MANAGE_USERS: "manage users",
    Action.MANAGE_KEYS: "manage station keys",
    Action.MANAGE_RETENTION: "manage retention",
}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.SCREENER: frozenset({Action.SCREEN_BAGS}),
    Role.SUPERVISOR: frozenset({Action.VIEW_SCORES, Action.CHANGE_TIP_SETTINGS}),
    Role.TRAINER: frozenset({Action.VIEW_SCORES, Action.RUN_BLIND_TEST}),
    Role.INVESTIGATOR: frozenset({Action.EXPORT_EVIDENCE, Action.PLACE_HOLD,
                                  Action.RELEASE_HOLD}),
    Role.ADMIN: frozenset({Action.MANAGE_USERS, Action.MANAGE_KEYS, Action.MANAGE_RETENTION}),
}


def may(role: Role, action: Action) -> bool:
    return action in PERMISSIONS.get(role, frozenset())


def allowed_roles(action: Action) -> list[Role]:
    return [role for role in Role if may(role, action)]


class Guard:
    """Checks actions against ``PERMISSIONS`` and logs every refusal."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def require(self, actor: str, role: Role, action: Action, *,
                subject: str | None = None, scan_sha256: str | None = None) -> None:
        """Return if ``role`` may take ``action``; else log ``auth.denied`` and raise
        :class:`PermissionDenied`. ``subject`` names what the action was about."""
        if may(role, action):
            return
        allowed = [r.value for r in allowed_roles(action)]
        self.log.append(KIND_AUTH_DENIED, {"action": action.value, "subject": subject,
                                           "allowed_roles": allowed},
                        actor=actor, role=role.value, scan_sha256=scan_sha256)
        raise PermissionDenied(actor, role.value, action.value, ACTION_DESCRIPTIONS[action],
                               allowed)
