"""Errors the screening workflow raises on purpose; each says what to do next."""

from __future__ import annotations

from collections.abc import Iterable

from screener.errors import ScreenerError


class WorkflowError(ScreenerError):
    """Base of the workflow's own errors."""


class PermissionDenied(WorkflowError):  # noqa: N818 -- the name the roles design uses
    """A role attempted an action it may not take. The attempt is logged (``auth.denied``)
    before this is raised."""

    def __init__(self, actor: str, role: str, action: str, description: str,
                 allowed: Iterable[str]) -> None:
        self.actor = actor
        self.role = role
        self.action = action
        self.allowed = tuple(allowed)
        needs = " or ".join(self.allowed) if self.allowed else "no role"
        super().__init__(f"'{actor}' ({role}) may not {description} ({action}); that needs "
                         f"the {needs} role. The attempt was logged; ask a user who holds "
                         "that role.")


class SessionStateError(WorkflowError):
    """A session step was asked for out of order (a decision with no bag on screen, a
    second bag before the first is decided, anything after the session ended)."""

    def __init__(self, step: str, state: str, expected: str) -> None:
        self.step = step
        self.state = state
        super().__init__(f"cannot {step} while the session is {state}; {expected}")


class InvalidDecisionError(WorkflowError):
    """A decision or its marks do not fit the bag on screen."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"decision not accepted: {problem}; correct it and decide again")
