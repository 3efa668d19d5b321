"""Which view each role works in, and how the shell makes it.

Every role has one view (:data:`TITLES`): the screener screens bags, the supervisor reads
scores and sets TIP, the trainer runs blind tests, the investigator searches the chain
and exports evidence, the administrator manages accounts, keys and retention. A view is
opened by the permission that its work needs (:data:`VIEW_ACTIONS`), so who may open
which view follows :data:`screener.workflow.roles.PERMISSIONS`, and a refusal goes
through the same :class:`~screener.workflow.roles.Guard` as the workflow's own checks
(an ``auth.denied`` event).

A view is a ``QWidget`` made as ``View(context, parent=None)`` (:class:`ViewContext`).
The four views other than the screener's are imported by name when first opened
(:func:`lazy_view`), so the shell starts without loading them. The screener's view needs
the station's belt or watch folder and its AI as well, so the station gives its own
factory for it (:func:`registry`).

A view may offer, and the shell then uses:

* ``shutdown(reason: str) -> None``: called once when the operator logs out or the
  application closes (end sessions, stop threads);
* ``busy_reason() -> str | None``: why the operator must not log out yet (a bag on
  screen that the audit log has received and that is not decided);
* ``shortcut_help() -> list[tuple[str, str]]``: (keys, what they do) for the
  keyboard-shortcut help.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, cast

from PySide6.QtWidgets import QWidget

from screener.ui.context import ViewContext
from screener.workflow.roles import Action, Role, may

ViewFactory = Callable[[ViewContext, QWidget | None], QWidget]

#: The title of each role's view, as the View menu shows it.
TITLES: Final[Mapping[Role, str]] = {
    Role.SCREENER: "Screening",
    Role.SUPERVISOR: "Supervision",
    Role.TRAINER: "Training",
    Role.INVESTIGATOR: "Investigation",
    Role.ADMIN: "Administration",
}

#: The permission each view's work needs; opening the view is refused without it.
VIEW_ACTIONS: Final[Mapping[Role, Action]] = {
    Role.SCREENER: Action.SCREEN_BAGS,
    Role.SUPERVISOR: Action.CHANGE_TIP_SETTINGS,
    Role.TRAINER: Action.RUN_BLIND_TEST,
    Role.INVESTIGATOR: Action.EXPORT_EVIDENCE,
    Role.ADMIN: Action.MANAGE_USERS,
}

#: Where the views other than the screener's live (module, class), imported when opened.
VIEW_CLASSES: Final[Mapping[Role, tuple[str, str]]] = {
    Role.SUPERVISOR: ("screener.ui.supervisor_view", "SupervisorView"),
    Role.TRAINER: ("screener.ui.trainer_view", "TrainerView"),
    Role.INVESTIGATOR: ("screener.ui.investigator_view", "InvestigatorView"),
    Role.ADMIN: ("screener.ui.admin_view", "AdminView"),
}


@dataclass(frozen=True)
class RoleView:
    """One role's view: its name in the shell (the role's value), title, the permission
    that opens it and the factory that makes it."""

    role: Role
    title: str
    action: Action
    factory: ViewFactory

    @property
    def name(self) -> str:
        return self.role.value

    def may_open(self, role: Role) -> bool:
        return may(role, self.action)


def lazy_view(module: str, name: str) -> ViewFactory:
    """A factory that imports ``module`` when the view is first made and calls
    ``name(context, parent)``."""

    def make(context: ViewContext, parent: QWidget | None = None) -> QWidget:
        view_class = getattr(importlib.import_module(module), name)
        return cast(QWidget, view_class(context, parent))

    make.__qualname__ = f"lazy_view({module}.{name})"
    return make


def registry(screener: ViewFactory,
             overrides: Mapping[Role, ViewFactory] | None = None) -> dict[Role, RoleView]:
    """Every role's view: the station's ``screener`` factory, the others imported by
    name; ``overrides`` replaces factories (tests inject stand-in views)."""
    factories: dict[Role, ViewFactory] = {Role.SCREENER: screener}
    for role, (module, name) in VIEW_CLASSES.items():
        factories[role] = lazy_view(module, name)
    factories.update(overrides or {})
    return {role: RoleView(role, TITLES[role], VIEW_ACTIONS[role], factories[role])
            for role in Role}


def offered(views: Mapping[Role, RoleView], role: Role) -> list[RoleView]:
    """The views an operator in ``role`` may open, in menu order."""
    return [view for view in views.values() if view.may_open(role)]
