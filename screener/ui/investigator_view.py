"""The investigator's view: search the audit log, look at the exact image a screener
decided on, check the chain, export evidence and hold scans for a case.

Left, the event search (:mod:`screener.ui.event_search`): a form, the events found and
the selected event in full. Right, three tabs for the selected event:

* **Exact image** (:mod:`screener.ui.evidence_image`): the stored scan as the screener saw
  it, with the screener's marks, the AI's boxes and, on a TIP bag, the FTI's place;
* **Evidence && holds** (:mod:`screener.ui.evidence_export`,
  :mod:`screener.ui.investigator_holds`): a signed bundle for the scan, a case or a seq
  range, checked once written; legal holds;
* **Chain** (:mod:`screener.ui.chain_status`): verify every station's chain, per-station
  results and this station's key fingerprint.

Everything that reads or writes the log runs off the GUI thread (two workers: quick reads,
and long or writing work). Keyboard: Ctrl+F the search form, Alt+1/2/3 the tabs, F5
verifies, Tab moves through every control; every field has an Alt mnemonic.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from screener.audit.chain import EventRecord
from screener.ui import shortcuts
from screener.ui.background import BackgroundJobs
from screener.ui.chain_status import ChainStatusPanel
from screener.ui.context import ViewContext
from screener.ui.event_search import EventSearchPanel
from screener.ui.evidence_export import EvidenceExportPanel
from screener.ui.evidence_image import ExactImagePanel
from screener.ui.investigator_holds import HoldsPanel
from screener.ui.theme import CHAIN_VIEWS_STYLE
from screener.ui.widgets import StatusLine, show_tab, view_header

IMAGE_TAB, EVIDENCE_TAB, CHAIN_TAB = 0, 1, 2


class InvestigatorView(QWidget):
    """Search, exact image, evidence export, holds and chain status."""

    def __init__(self, context: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("investigatorView")
        self.setStyleSheet(CHAIN_VIEWS_STYLE)
        self.context = context
        # quick reads: search, images, lists; long or writing work: verify, export, holds
        self.tasks = BackgroundJobs("investigator-reads", parent=self)
        self.jobs = BackgroundJobs("investigator-work", parent=self)
        self._build()
        self._connect()

    def _build(self) -> None:
        context = self.context
        log = context.log
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(6)

        header = view_header(self, "Investigation", context,
                             "Ctrl+F search · Alt+1/2/3 tabs · F5 verify")
        self.chain_chip = StatusLine(self, "chip")
        self.chain_chip.setWordWrap(False)
        self.chain_chip.say("Chain not verified · F5", "info")
        self.chain_chip.setToolTip("The audit chain's state after the last verification")
        header.addWidget(self.chain_chip)
        outer.addLayout(header)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(6)
        self.search = EventSearchPanel(log.engine, self.tasks, self._user_ids, self.splitter)
        self.splitter.addWidget(self.search)

        self.tabs = QTabWidget(self.splitter)
        self.tabs.setObjectName("investigatorTabs")
        self.image = ExactImagePanel(log.engine, context.store, self.tasks, parent=self.tabs)
        self.tabs.addTab(self.image, "Exact image")
        evidence_page = QWidget(self.tabs)
        evidence_page.setObjectName("tabPage")
        evidence_page.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        evidence_row = QHBoxLayout(evidence_page)
        evidence_row.setContentsMargins(8, 8, 8, 8)
        evidence_row.setSpacing(8)
        self.export = EvidenceExportPanel(log, context.store, context.operator, self.jobs,
                                          evidence_page)
        self.holds = HoldsPanel(log, context.operator, self.jobs, evidence_page)
        evidence_row.addWidget(self.export, 5)
        evidence_row.addWidget(self.holds, 4)
        self.tabs.addTab(evidence_page, "Evidence && holds")
        self.chain = ChainStatusPanel(log, context.settings, self.jobs, self.tabs)
        self.tabs.addTab(self.chain, "Chain")
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([920, 680])
        outer.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        self.search.selection_changed.connect(self._event_selected)
        self.holds.case_chosen.connect(self.export.set_case)
        self.chain.state_changed.connect(self.chain_chip.say)
        for number, tab in ((1, IMAGE_TAB), (2, EVIDENCE_TAB), (3, CHAIN_TAB)):
            shortcuts.bind(self, f"Alt+{number}", functools.partial(self.show_tab, tab))
        shortcuts.bind(self, "F5", self.chain.verify)
        shortcuts.bind(self, "Ctrl+F", self.search.focus_form)

    def _user_ids(self) -> list[str]:
        return [account.user_id for account in self.context.accounts.all()]

    def _event_selected(self, event: EventRecord | None) -> None:
        self.image.show_event(event)
        if event is not None and event.scan_sha256:
            self.export.set_scan(event.scan_sha256)
            self.holds.set_scan(event.scan_sha256)

    def show_tab(self, index: int) -> None:
        show_tab(self.tabs, index)

    def wait_idle(self, timeout_ms: int = 60_000) -> bool:
        """Block until the view's workers are idle (shutdown, tests)."""
        return self.tasks.wait(timeout_ms) and self.jobs.wait(timeout_ms)

    # ------------------------------------------------------------------ the shell's hooks
    def shutdown(self, reason: str = "") -> None:
        """Logout or close: let running work (an export, a hold) finish."""
        self.wait_idle()

    def busy_reason(self) -> str | None:
        for task, text in (("export", "an evidence bundle is being written"),
                           ("holds.place", "a legal hold is being logged"),
                           ("holds.release", "a case release is being logged")):
            if self.jobs.running(task):
                return text
        return None

    def shortcut_help(self) -> list[tuple[str, str]]:
        return [("Ctrl+F", "the search form"), ("Enter", "search (in a search field)"),
                ("Alt+1", "the exact image"), ("Alt+2", "evidence export and holds"),
                ("Alt+3", "the chain's state"), ("F5", "verify the chain"),
                ("Ctrl+= / Ctrl+- / Ctrl+0", "zoom the image in, out, fit"),
                ("Arrow keys", "move through results; pan the focused image view")]
