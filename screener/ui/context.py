"""What every role view is given: who is logged in, at which station, and the station's
stores. Views act through the Qt-free core with ``operator``; the core checks the role
again and logs refusals, so a view that shows a control it should not cannot do more
than the CLI could.

Each role view is a ``QWidget`` made as ``View(context, parent=None)`` and registered in
:mod:`screener.ui.role_views`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from screener.accounts.users import Accounts
from screener.audit.log import AuditLog
from screener.config import Settings
from screener.scan.store import ScanStore
from screener.workflow.session import Operator


@dataclass(frozen=True, eq=False)
class ViewContext:
    settings: Settings
    log: AuditLog
    accounts: Accounts
    operator: Operator
    store: ScanStore
    tip_library: Path | None = None  # the FTI library for TIP and blind tests, if any
