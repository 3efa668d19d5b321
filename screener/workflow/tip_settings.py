"""The site's TIP settings live in the audit chain: each change a supervisor makes is a
``tip.settings_changed`` event carrying the whole new settings, and the current settings
are those of the latest such event (from any station of the database). So every change
is logged by construction, and a station picks one up by reading the latest event
(:func:`follow_settings`) before it plans the next bag.

Versions count up from 1 across the database. Two supervisors saving at the same moment
may both write the same version number; the later event (by time) wins, and the
scheduler tells their bags apart by the events' settings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from screener.audit.database import engine_label, translated_errors
from screener.audit.log import AuditLog
from screener.audit.schema import Event
from screener.tip.fti import FtiCategory
from screener.tip.scheduler import TipScheduler, TipSettings
from screener.workflow.roles import Action, Guard

if TYPE_CHECKING:  # the session imports this module's users
    from screener.workflow.session import Operator

KIND_TIP_SETTINGS = "tip.settings_changed"
#: Until a supervisor sets them: 2 to 5 % of bags, guns, knives and IEDs alike.
DEFAULT_SETTINGS = TipSettings(0.02, 0.05, {FtiCategory.GUN: 1.0, FtiCategory.KNIFE: 1.0,
                                            FtiCategory.IED: 1.0}, version=1)


def current_settings(engine: Engine) -> TipSettings | None:
    """The settings of the latest ``tip.settings_changed`` event; None before any."""
    with translated_errors(engine_label(engine)), engine.connect() as conn:
        row = conn.execute(select(Event.payload).where(Event.kind == KIND_TIP_SETTINGS)
                           .order_by(Event.time_utc.desc(), Event.seq.desc()).limit(1)).first()
    if row is None:
        return None
    return TipSettings.from_mapping(json.loads(row.payload)["settings"])


def change_settings(log: AuditLog, supervisor: Operator, *, min_rate: float,
                    max_rate: float, weights: Mapping[FtiCategory, float]) -> TipSettings:
    """Save new settings (a supervisor's action, refused and logged for anyone else);
    they take effect at each station's next bag."""
    Guard(log).require(supervisor.id, supervisor.role, Action.CHANGE_TIP_SETTINGS,
                       subject="TIP settings")
    previous = current_settings(log.engine)
    version = 1 if previous is None else previous.version + 1
    settings = TipSettings(min_rate, max_rate, weights, version,
                           *(() if previous is None else (previous.block_bags,
                                                          previous.slack)))
    log.append(KIND_TIP_SETTINGS, {"settings": settings.as_dict(),
                                   "previous_version": None if previous is None
                                   else previous.version},
               actor=supervisor.id, role=supervisor.role.value)
    return settings


def follow_settings(scheduler: TipScheduler, engine: Engine) -> bool:
    """Give the scheduler the database's current settings if they differ from its own;
    True when they changed."""
    latest = current_settings(engine)
    if latest is None or latest.as_dict() == scheduler.settings.as_dict():
        return False
    scheduler.update_settings(latest)
    return True
