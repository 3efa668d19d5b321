"""TIP at the station: what happens to a bag before the screener sees it, and what the
screener is told after deciding.

Before (:meth:`TipInjector.plan`, pure computation, safe to run off the GUI thread): the
scheduler decides for the operator's next bag (:class:`~screener.tip.scheduler.TipScheduler`);
when it says "project", an FTI of the chosen category is drawn from the library (one of
the scan's scanner profile, not one of the operator's last :data:`RECENT_FTI_MEMORY`
when the category has more) and projected into every view of the real bag
(:func:`~screener.tip.projector.project_scan`). When nothing fits (no FTI of that
category and profile, no acceptable placement) the bag is shown without TIP and the
plan says why. The bag's clutter is measured for scoring either way, when the trial is
scored (not before the bag is shown: it costs tens of milliseconds per view).

After (:func:`score_response`): the screener's decision on what was shown becomes one
:class:`~screener.tip.scoring.TipTrial` and, as in operations, feedback:

* a TIP bag with a mark on the FTI: **hit**, "fictional threat correctly identified",
  the FTI framed; then the FTI is removed and the screener screens the real bag;
* a TIP bag cleared, or marked elsewhere: **miss**, the FTI framed; then the real bag;
* a bag without TIP called suspect: "no TIP: treat as a real threat", and the search
  path; the decision stands.

A mark **overlaps the FTI** when at least one pixel of the FTI's placed mask lies inside
it in the same view, and the mark covers at most :data:`MAX_MARK_SHARE` of the view
(marking the whole bag does not show where the threat is). The AI **flagged the FTI**
by the same rule for its boxes.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np
from sqlalchemy import Engine

from screener.errors import ScreenerError
from screener.scan.model import Scan, SourceKind
from screener.tip.fti import FtiCategory
from screener.tip.library import FtiLibrary
from screener.tip.library_checks import FtiRecord
from screener.tip.projector import (
    UNKNOWN_PROFILES,
    ProjectionError,
    ProjectionOptions,
    ScanProjection,
    bag_clutter,
    project_scan,
)
from screener.tip.scheduler import TipDecision, TipScheduler
from screener.tip.scoring import TipTrial
from screener.workflow.ai import AiResult, AiStatus
from screener.workflow.decisions import Box, Decision, Mark
from screener.workflow.tip_settings import follow_settings

KIND_TIP_PROJECTED = "tip.projected"
KIND_TIP_NOT_PROJECTED = "tip.not_projected"
#: A plan the scheduler made for a bag that was never received (the operator left, the
#: bag's file failed): its decision is logged so that the operator's ``bag_index``
#: sequence in the chain has no gap
#: (:meth:`~screener.workflow.session.ScreeningSession.discard_tip_plan`).
KIND_TIP_PLAN_DISCARDED = "tip.plan_discarded"
#: A mark covering more of its view than this does not locate anything.
MAX_MARK_SHARE = 0.25
#: An operator is not shown an FTI again within this many of their TIP bags (when the
#: category and profile have more FTIs than that).
RECENT_FTI_MEMORY = 50
_PLAN_STREAM = 0x71B
LOG = logging.getLogger(__name__)

HIT_MESSAGE = ("Fictional threat correctly identified. The TIP image will be removed: "
               "screen the real bag.")
MISS_MESSAGE = ("Fictional threat missed: it is framed on the image. The TIP image will be "
                "removed: screen the real bag.")
NO_TIP_MESSAGE = "No TIP in this bag: treat it as a real threat."
SEARCH_PATH = ("Stop the belt, keep the bag in sight, call for a search of the marked "
               "regions and follow the local alarm procedure.")


class FeedbackKind(StrEnum):
    HIT = "hit"
    MISS = "miss"
    NO_TIP = "no_tip"


@dataclass(frozen=True)
class TipFrame:
    """Where the FTI is in one view: its box (x0, y0, x1, y1, pixel corners)."""

    view: str
    box: Box


@dataclass(frozen=True)
class TipFeedback:
    """What the screener is told after a decision. ``rescreen``: the FTI is removed and
    the real bag comes back for a decision of its own."""

    kind: FeedbackKind
    message: str
    frames: tuple[TipFrame, ...] = ()
    search_path: str | None = None

    @property
    def rescreen(self) -> bool:
        return self.kind is not FeedbackKind.NO_TIP


@dataclass(frozen=True, eq=False)
class TipPlan:
    """One bag's TIP: the scheduler's decision, the FTI and its projection (None when
    nothing was projected; ``failure`` says why when one was scheduled) and the bag's
    clutter, measured on first use from ``real`` (None when it cannot be measured, e.g. a
    pseudo-colour scan, or when no scan is given)."""

    decision: TipDecision
    fti: FtiRecord | None = None
    projection: ScanProjection | None = None
    failure: str | None = None
    real: Scan | None = field(default=None, repr=False)
    options: ProjectionOptions | None = field(default=None, repr=False)

    @cached_property
    def clutter(self) -> float | None:
        return None if self.real is None else scan_clutter(self.real, self.options)

    @property
    def projected(self) -> bool:
        return self.projection is not None

    def shown(self, real: Scan) -> Scan:
        """The scan the screener sees: the composite on a TIP bag, else the real one."""
        return real if self.projection is None else self.projection.scan

    def frames(self) -> tuple[TipFrame, ...]:
        if self.projection is None:
            return ()
        return tuple(TipFrame(p.view.name, p.box) for p in self.projection.projections)

    @property
    def superposition(self) -> float | None:
        """The FTI's superposition share in its easiest view (a screener looks at every
        view, so the easiest one counts), or None without a projection."""
        if self.projection is None:
            return None
        return min(p.superposition_share for p in self.projection.projections)

    def projected_payload(self) -> dict[str, Any]:
        """The ``tip.projected`` event payload: enough to reproduce the composite from the
        stored real scan and the library."""
        assert self.projection is not None and self.fti is not None
        return {"fti_id": self.fti.fti_id, "article_id": self.fti.article_id,
                "category": self.fti.category.value, "subcategory": self.fti.subcategory,
                "projections": [p.record() for p in self.projection.projections]}

    def not_projected_payload(self) -> dict[str, Any]:
        """The ``tip.not_projected`` event payload: the category scheduled and why it
        was not shown."""
        category = self.decision.category
        return {"category": None if category is None else category.value,
                "fti_id": None if self.fti is None else self.fti.fti_id,
                "reason": self.failure}

    def discarded_payload(self, reason: str) -> dict[str, Any]:
        """The ``tip.plan_discarded`` event payload: the scheduler's decision (as in
        ``tip.scheduled``), the FTI drawn for it if any (never shown) and why the bag was
        never received."""
        return {**self.decision.payload(),
                "fti_id": None if self.fti is None else self.fti.fti_id, "reason": reason}


class TipInjector:
    """Plans TIP for each bag an operator screens. Not thread-safe: one per station."""

    def __init__(self, library: FtiLibrary, scheduler: TipScheduler, *, seed: int,
                 options: ProjectionOptions | None = None,
                 settings_from: Engine | None = None) -> None:
        self.library = library
        self.scheduler = scheduler
        self.settings_from = settings_from
        self.seed = seed
        self.options = options
        self._by_category = library.by_category()
        self._recent: dict[str, deque[str]] = {}

    def plan(self, operator: str, scan: Scan) -> TipPlan:
        """Decide and, if scheduled, project. Never raises once the scheduler has decided:
        for a bag the projector cannot use, and for any unexpected failure of the FTI
        draw or the projection (logged here with its traceback), the plan carries the
        reason and the bag goes through without TIP, so the decision's ``bag_index``
        still reaches the chain (``tip.not_projected``). With ``settings_from`` (the audit
        database) a supervisor's latest settings take effect here, at the next bag."""
        if self.settings_from is not None:
            follow_settings(self.scheduler, self.settings_from)
        decision = self.scheduler.decide(operator)
        if not decision.projected:
            return TipPlan(decision, real=scan, options=self.options)
        try:
            return self._project(operator, decision, scan)
        except Exception as error:  # the decision is spent: it must reach the chain
            LOG.exception("TIP projection failed for operator %s, bag %d", operator,
                          decision.bag_index)
            return TipPlan(decision, failure=f"the TIP projection failed unexpectedly "
                           f"({type(error).__name__}: {error}); the bag is shown without TIP",
                           real=scan, options=self.options)

    def _project(self, operator: str, decision: TipDecision, scan: Scan) -> TipPlan:
        """The plan for a decision to project: an FTI drawn and projected, or the reason
        none could be."""
        assert decision.category is not None
        rng = np.random.default_rng(np.random.SeedSequence(
            [self.seed, _PLAN_STREAM, _operator_key(operator), decision.bag_index]))
        if scan.metadata.source_kind is SourceKind.PSEUDO_COLOUR:
            return TipPlan(decision, failure="the scan holds pseudo-colour images, not "
                           "transmission: an FTI cannot be composed into it",
                           real=scan, options=self.options)
        record = self._choose(operator, decision.category, scan.metadata.scanner_profile, rng)
        if record is None:
            return TipPlan(decision, failure=f"the FTI library holds no "
                           f"{decision.category.value} image for scanner profile "
                           f"{scan.metadata.scanner_profile!r}",
                           real=scan, options=self.options)
        try:
            image = self.library.load(record.fti_id)
        except ScreenerError as error:  # a damaged or vanished library file: say so, go on
            return TipPlan(decision, record, failure=f"the FTI could not be read: {error}",
                           real=scan, options=self.options)
        try:
            projection = project_scan(scan, image, rng, options=self.options)
        except ProjectionError as error:
            return TipPlan(decision, record, failure=str(error), real=scan,
                           options=self.options)
        self._recent.setdefault(operator, deque(maxlen=RECENT_FTI_MEMORY)).append(
            record.fti_id)
        return TipPlan(decision, record, projection, real=scan, options=self.options)

    def _choose(self, operator: str, category: FtiCategory, profile: str,
                rng: np.random.Generator) -> FtiRecord | None:
        records = [r for r in self._by_category.get(category, ())
                   if profile in UNKNOWN_PROFILES or r.scanner_profile == profile]
        if not records:
            return None
        recent = set(self._recent.get(operator, ()))
        fresh = [r for r in records if r.fti_id not in recent]
        pool = fresh or records
        return pool[int(rng.integers(len(pool)))]



def scan_clutter(scan: Scan, options: ProjectionOptions | None = None) -> float | None:
    """The bag's clutter for TIP scoring: the mean over its views of the edge density
    inside the bag outline (:func:`~screener.tip.projector.bag_clutter`)."""
    shares = []
    for view in scan.views:
        try:
            share = bag_clutter(view, profile=scan.metadata.scanner_profile, options=options)
        except ProjectionError:
            share = None
        if share is not None:
            shares.append(share)
    return float(np.mean(shares)) if shares else None


def _operator_key(operator: str) -> int:
    return int.from_bytes(hashlib.sha256(operator.encode()).digest()[:8], "big")


# ---------------------------------------------------------------------------- scoring


def marks_fti(plan: TipPlan, view: str, box: tuple[float, float, float, float]) -> bool:
    """Whether a region (a screener's mark or an AI box) in ``view`` overlaps the FTI."""
    if plan.projection is None:
        return False
    placed = next((p for p in plan.projection.projections if p.view.name == view), None)
    if placed is None:
        return False
    rows, columns = placed.view.shape
    x0, y0, x1, y1 = (float(v) for v in box)
    if (x1 - x0) * (y1 - y0) > MAX_MARK_SHARE * rows * columns:
        return False
    bx0, by0, bx1, by1 = placed.box
    cx0, cy0 = max(math.floor(x0), bx0), max(math.floor(y0), by0)
    cx1, cy1 = min(math.ceil(x1), bx1), min(math.ceil(y1), by1)
    if cx0 >= cx1 or cy0 >= cy1:
        return False
    return bool(placed.mask[cy0 - by0:cy1 - by0, cx0 - bx0:cx1 - bx0].any())


def ai_flagged(plan: TipPlan, ai: AiResult | None) -> bool | None:
    """On a TIP bag, whether the AI flagged the FTI; on a bag without TIP, whether it
    flagged anything; None when the AI was unavailable."""
    if ai is None or ai.status is not AiStatus.OK:
        return None
    if plan.projection is None:
        return bool(ai.detections)
    return any(marks_fti(plan, d.view, d.box) for d in ai.detections)


@dataclass(frozen=True)
class TipResponse:
    """A decision on a bag as TIP sees it: the trial and the feedback due (None: none)."""

    trial: TipTrial
    feedback: TipFeedback | None


def score_response(plan: TipPlan, operator: str, decision: Decision, marks: Sequence[Mark],
                   response_ms: int, ai: AiResult | None, time: datetime) -> TipResponse:
    """The trial and the operational feedback for a decision on ``plan``'s bag."""
    suspect = decision is Decision.SUSPECT
    on_fti = suspect and any(marks_fti(plan, m.view, m.box) for m in marks)
    category = None
    if plan.fti is not None and plan.projected:
        category = plan.fti.category
    trial = TipTrial(operator=operator, time=time, category=category,
                     was_tip=plan.projected, responded_suspect=suspect,
                     region_overlapped=on_fti, response_ms=float(response_ms),
                     ai_flagged_fti=ai_flagged(plan, ai),
                     superposition=plan.superposition, clutter=plan.clutter)
    if plan.projected:
        kind = FeedbackKind.HIT if on_fti else FeedbackKind.MISS
        message = HIT_MESSAGE if on_fti else MISS_MESSAGE
        return TipResponse(trial, TipFeedback(kind, message, plan.frames()))
    if suspect:
        return TipResponse(trial, TipFeedback(FeedbackKind.NO_TIP, NO_TIP_MESSAGE,
                                              search_path=SEARCH_PATH))
    return TipResponse(trial, None)
