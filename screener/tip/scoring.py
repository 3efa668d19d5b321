"""TIP scores per screener, period and FTI category: signal-detection measures from
TIP trials (Qt-free, numpy only). Formulas are in :mod:`screener.tip.sdt` and
docs/tip-scoring.md.

Definitions
-----------
* A **TIP trial** is a bag screened with an FTI projected into it; a **non-TIP trial**
  is a bag screened without one. Both count: H comes from TIP trials, F from non-TIP.
  The second look at the real bag after the TIP message is not a trial.
* **Hit**: a TIP trial answered "suspect" with at least one marked region overlapping
  the FTI.
* **Miss**: a TIP trial cleared, *or* answered "suspect" with no mark on the FTI
  (counted apart as ``mislocated``, a subset of the misses). Calling such a bag suspect
  is not a hit because the screener did not show that they saw the FTI, and counting it
  would reward flagging every bag: a screener who calls everything suspect would score
  H = 1. (The workflow's bag-level scoring against real threats, in
  ``screener.workflow.scoring``, is coarser and ignores marks.)
* **False alarm**: a non-TIP trial answered "suspect", whatever the bag really holds.
  A bag with a real threat called suspect is a false alarm *for TIP scoring* (TIP
  measures FTI detection); the real threat goes to search and is scored elsewhere.
* **Correct rejection**: a non-TIP trial cleared.

Cells and splits
----------------
A :class:`ScoreCard` describes one cell: an operator, a period (``all``, a day
``2025-01-31``, an ISO week ``2025-W05`` or a month ``2025-01``, from the trial's UTC
time), a category (one :class:`FtiCategory`, or ``all``) and a group of one split:

* ``none``: every trial (group ``all``);
* ``ai``: ``screener_plus_ai`` when the AI also flagged the FTI (on a non-TIP bag: when
  the AI flagged anything), ``screener_alone`` when it did not or was unavailable;
* ``superposition`` and ``clutter``: difficulty bins, equal-width on [0, 1] or quantile
  bins from the values in the data (:class:`Binning`), labelled ``[lo, hi)`` (the last
  bin closed).

Non-TIP bags carry no category and no superposition, so F in a cell comes from the
operator's non-TIP trials of the period *in the same group* where the split applies to
them (``none``, ``ai``, ``clutter``), and from all the operator's non-TIP trials of the
period otherwise (every category; every superposition bin). Trials missing a split's
value are left out of that split only.

In every cell: hits, misses (mislocated among them), false alarms, correct rejections;
H and F with the log-linear correction ``(x + 0.5) / (n + 1)``; d', c and A' from those
corrected rates; Wilson 95 % intervals for the *raw* proportions ``hits / TIP trials`` and
``false alarms / non-TIP trials`` (the corrected rates lie inside them); the median and
90th percentile response time of the cell's TIP trials (numpy's linear interpolation);
and ``insufficient_data`` when the cell has fewer than 100 TIP trials (about 100 give a
reliability near 0.7: Buser et al. 2025). H is ``None`` with no TIP trial, F with no
non-TIP trial, and d', c, A' with either missing. A card is made for each cell with a TIP
trial, and for category ``all`` also for a group that has only non-TIP trials.

Audit events
------------
The workflow writes one ``tip.outcome`` event (:data:`KIND_TIP_OUTCOME`) per screened
bag, TIP or not, once the decision is committed, with :meth:`TipTrial.payload`::

    {"operator": str, "category": "gun"|"knife"|"ied"|"other"|null (null iff not tip),
     "tip": bool, "outcome": "hit"|"miss"|"false_alarm"|"correct_rejection",
     "response_ms": number|null, "ai_flagged": bool|null (null: AI unavailable),
     "superposition": number in [0, 1]|null (null on non-TIP bags),
     "clutter": number in [0, 1]|null, "responded_suspect": bool}

``responded_suspect`` is optional when reading: without it a miss is taken as a clear.
The trial's time is the event's ``time_utc``. :func:`trials_from_events` reads these
back (other kinds are skipped) and refuses a malformed payload with
:class:`TipDataError` naming the event and the field.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from screener.audit.chain import EventRecord
from screener.errors import ScreenerError
from screener.tip.fti import FtiCategory
from screener.tip.sdt import a_prime, loglinear_rate, probit, wilson_interval

__all__ = ["ALL", "KIND_TIP_OUTCOME", "MIN_TIP_EVENTS", "Binning", "Period", "ScoreCard",
           "ScoringOptions", "Split", "TipDataError", "TipOutcome", "TipReport", "TipTrial",
           "score_trials", "trials_from_events"]

KIND_TIP_OUTCOME = "tip.outcome"
MIN_TIP_EVENTS = 100
ALL = "all"
SCREENER_ALONE = "screener_alone"
SCREENER_PLUS_AI = "screener_plus_ai"
_CATEGORIES = tuple(FtiCategory)


class TipDataError(ScreenerError):
    """A TIP trial or a ``tip.outcome`` event cannot be scored; names the field."""

    def __init__(self, where: str, field: str, problem: str) -> None:
        self.where = where
        self.field = field
        self.problem = problem
        super().__init__(f"{where}: field '{field}': {problem}")


class TipOutcome(StrEnum):
    HIT = "hit"
    MISS = "miss"
    FALSE_ALARM = "false_alarm"
    CORRECT_REJECTION = "correct_rejection"


class Period(StrEnum):
    ALL = "all"
    DAY = "day"
    WEEK = "week"  # ISO week
    MONTH = "month"


class Binning(StrEnum):
    EQUAL_WIDTH = "equal_width"  # equal bins on [0, 1]
    QUANTILE = "quantile"  # edges at quantiles of the values scored


class Split(StrEnum):
    NONE = "none"
    AI = "ai"
    SUPERPOSITION = "superposition"
    CLUTTER = "clutter"


@dataclass(frozen=True)
class TipTrial:
    """One screened bag as TIP scoring sees it.

    ``category`` is the FTI's category on a TIP trial and None otherwise.
    ``region_overlapped``: a marked region overlapped the FTI (False on non-TIP trials
    and on clears). ``ai_flagged_fti``: on a TIP trial, whether the AI flagged the FTI;
    on a non-TIP trial, whether it flagged anything; None when the AI was unavailable.
    ``superposition`` (TIP trials only) and ``clutter`` are in [0, 1], None if unknown.
    A naive ``time`` is taken as UTC."""

    operator: str
    time: datetime
    category: FtiCategory | None
    was_tip: bool
    responded_suspect: bool
    region_overlapped: bool
    response_ms: float | None
    ai_flagged_fti: bool | None
    superposition: float | None = None
    clutter: float | None = None

    def __post_init__(self) -> None:
        where = f"TIP trial of '{self.operator}' at {self.time}"
        if not self.operator:
            raise TipDataError(where, "operator", "must not be empty")
        if self.was_tip and self.category is None:
            raise TipDataError(where, "category", "a TIP trial needs the FTI's category")
        if not self.was_tip and self.category is not None:
            raise TipDataError(where, "category", "a bag without TIP has no FTI category")
        if self.region_overlapped and not (self.was_tip and self.responded_suspect):
            raise TipDataError(where, "region_overlapped", "only a TIP bag called suspect "
                               "can have a mark on the FTI")
        if not self.was_tip and self.superposition is not None:
            raise TipDataError(where, "superposition", "a bag without TIP has no FTI to "
                               "superpose")
        for name, value in (("superposition", self.superposition),
                            ("clutter", self.clutter)):
            if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
                raise TipDataError(where, name, f"must be in [0, 1], got {value!r}")
        if self.response_ms is not None and not (math.isfinite(self.response_ms)
                                                 and self.response_ms >= 0):
            raise TipDataError(where, "response_ms", f"must be a time >= 0, got "
                               f"{self.response_ms!r}")

    @property
    def outcome(self) -> TipOutcome:
        if self.was_tip:
            hit = self.responded_suspect and self.region_overlapped
            return TipOutcome.HIT if hit else TipOutcome.MISS
        return TipOutcome.FALSE_ALARM if self.responded_suspect else \
            TipOutcome.CORRECT_REJECTION

    def payload(self) -> dict[str, Any]:
        """The ``tip.outcome`` event payload (the time is the event's own)."""
        return {"operator": self.operator,
                "category": None if self.category is None else self.category.value,
                "tip": self.was_tip, "outcome": self.outcome.value,
                "response_ms": self.response_ms, "ai_flagged": self.ai_flagged_fti,
                "superposition": self.superposition, "clutter": self.clutter,
                "responded_suspect": self.responded_suspect}


def trials_from_events(events: Iterable[EventRecord]) -> list[TipTrial]:
    """The TIP trials recorded as ``tip.outcome`` events, in the order given."""
    trials = []
    for event in events:
        if event.kind == KIND_TIP_OUTCOME:
            trials.append(_trial_of(event))
    return trials


def _trial_of(event: EventRecord) -> TipTrial:
    where = f"audit event {event.station}#{event.seq} ({event.kind})"
    try:
        payload = json.loads(event.payload)
    except ValueError as error:
        raise TipDataError(where, "payload", f"is not JSON ({error})") from None
    if not isinstance(payload, dict):
        raise TipDataError(where, "payload", "must be a JSON object")

    def get(name: str, kinds: tuple[type, ...], *, optional: bool = False) -> Any:
        if name not in payload:
            if optional:
                return None
            raise TipDataError(where, name, "is missing")
        value = payload[name]
        if value is None and optional:
            return None
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise TipDataError(where, name, f"must be {names}"
                               f"{' or null' if optional else ''}, got {value!r}")
        return value

    operator = get("operator", (str,))
    tip = get("tip", (bool,))
    outcome_text = get("outcome", (str,))
    try:
        outcome = TipOutcome(outcome_text)
    except ValueError:
        raise TipDataError(where, "outcome", f"{outcome_text!r} is not one of "
                           f"{', '.join(o.value for o in TipOutcome)}") from None
    if tip != (outcome in (TipOutcome.HIT, TipOutcome.MISS)):
        raise TipDataError(where, "outcome", f"'{outcome}' does not fit tip={tip}")
    category_text = get("category", (str,), optional=True)
    category = None
    if category_text is not None:
        try:
            category = FtiCategory(category_text)
        except ValueError:
            raise TipDataError(where, "category", f"{category_text!r} is not a category "
                               f"({', '.join(_CATEGORIES)})") from None
    suspect = get("responded_suspect", (bool,), optional=True)
    if suspect is None:
        suspect = outcome in (TipOutcome.HIT, TipOutcome.FALSE_ALARM)
    elif suspect != (outcome in (TipOutcome.HIT, TipOutcome.FALSE_ALARM)) \
            and outcome is not TipOutcome.MISS:
        raise TipDataError(where, "responded_suspect", f"{suspect} does not fit '{outcome}'")
    number = (int, float)
    response = get("response_ms", number, optional=True)
    superposition = get("superposition", number, optional=True)
    clutter = get("clutter", number, optional=True)
    try:
        time = datetime.fromisoformat(event.time_utc)
    except ValueError:
        raise TipDataError(where, "time_utc", f"{event.time_utc!r} is not an ISO time") \
            from None
    try:
        return TipTrial(operator=operator, time=time, category=category, was_tip=tip,
                        responded_suspect=suspect, region_overlapped=outcome is TipOutcome.HIT,
                        response_ms=None if response is None else float(response),
                        ai_flagged_fti=get("ai_flagged", (bool,), optional=True),
                        superposition=None if superposition is None else float(superposition),
                        clutter=None if clutter is None else float(clutter))
    except TipDataError as error:
        raise TipDataError(where, error.field, error.problem) from None


# ---------------------------------------------------------------------------- options


@dataclass(frozen=True)
class ScoringOptions:
    """How to cut the trials: the period, the difficulty bins (``bins`` per factor,
    ``binning``), which splits to report, and the TIP-trial count below which a cell is
    flagged as insufficient data."""

    period: Period = Period.ALL
    bins: int = 3
    binning: Binning = Binning.EQUAL_WIDTH
    splits: tuple[Split, ...] = tuple(Split)
    min_tip_events: int = MIN_TIP_EVENTS

    def __post_init__(self) -> None:
        if self.bins < 1:
            raise TipDataError("scoring options", "bins", f"must be >= 1, got {self.bins}")
        if self.min_tip_events < 1:
            raise TipDataError("scoring options", "min_tip_events",
                               f"must be >= 1, got {self.min_tip_events}")


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ScoreCard:
    """The scores of one cell (operator, period, category, split and group)."""

    operator: str
    period: str
    category: str  # an FtiCategory value, or "all"
    split: Split
    group: str
    hits: int
    misses: int
    mislocated: int  # misses called suspect with no mark on the FTI
    false_alarms: int
    correct_rejections: int
    hit_rate: float | None  # log-linear corrected
    false_alarm_rate: float | None
    d_prime: float | None
    c: float | None
    a_prime: float | None
    hit_rate_ci: tuple[float, float] | None  # Wilson 95 %, raw proportion
    false_alarm_rate_ci: tuple[float, float] | None
    rt_median_ms: float | None  # of the cell's TIP trials
    rt_p90_ms: float | None
    insufficient_data: bool

    @property
    def tip_trials(self) -> int:
        return self.hits + self.misses

    @property
    def non_tip_trials(self) -> int:
        return self.false_alarms + self.correct_rejections

    def as_dict(self) -> dict[str, Any]:
        return {"operator": self.operator, "period": self.period,
                "category": self.category, "split": self.split.value, "group": self.group,
                "hits": self.hits, "misses": self.misses, "mislocated": self.mislocated,
                "false_alarms": self.false_alarms,
                "correct_rejections": self.correct_rejections,
                "tip_trials": self.tip_trials, "non_tip_trials": self.non_tip_trials,
                "hit_rate": self.hit_rate, "false_alarm_rate": self.false_alarm_rate,
                "d_prime": self.d_prime, "c": self.c, "a_prime": self.a_prime,
                "hit_rate_ci": None if self.hit_rate_ci is None else list(self.hit_rate_ci),
                "false_alarm_rate_ci": None if self.false_alarm_rate_ci is None
                else list(self.false_alarm_rate_ci),
                "rt_median_ms": self.rt_median_ms, "rt_p90_ms": self.rt_p90_ms,
                "insufficient_data": self.insufficient_data}


@dataclass(frozen=True)
class TipReport:
    """All cards of one scoring run, with the options and the bin edges used."""

    options: ScoringOptions
    cards: tuple[ScoreCard, ...]
    bin_edges: Mapping[Split, tuple[float, ...]] = field(default_factory=dict)

    def select(self, *, split: Split | None = None, operator: str | None = None,
               category: str | None = None, period: str | None = None,
               group: str | None = None) -> list[ScoreCard]:
        """The cards matching every criterion given."""
        return [card for card in self.cards
                if (split is None or card.split is split)
                and (operator is None or card.operator == operator)
                and (category is None or card.category == category)
                and (period is None or card.period == period)
                and (group is None or card.group == group)]

    def card(self, operator: str, *, category: str = ALL, split: Split = Split.NONE,
             group: str = ALL, period: str = ALL) -> ScoreCard | None:
        found = self.select(split=split, operator=operator, category=category,
                            period=period, group=group)
        return found[0] if found else None

    def as_dict(self) -> dict[str, Any]:
        return {"options": {"period": self.options.period.value, "bins": self.options.bins,
                            "binning": self.options.binning.value,
                            "splits": [s.value for s in self.options.splits],
                            "min_tip_events": self.options.min_tip_events},
                "bin_edges": {s.value: list(e) for s, e in self.bin_edges.items()},
                "cards": [card.as_dict() for card in self.cards]}


# ---------------------------------------------------------------------------- scoring

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]


@dataclass(frozen=True)
class _Columns:
    """The trials as arrays, one entry per trial."""

    operators: list[str]
    periods: list[str]
    operator: Ints
    period: Ints
    tip: Bools
    hit: Bools
    mislocated: Bools
    suspect: Bools
    category: Ints  # index into _CATEGORIES; -1 on non-TIP trials
    ai: Bools  # the AI flagged (None counts as not flagged)
    superposition: Floats  # NaN when unknown
    clutter: Floats
    response_ms: Floats


def score_trials(trials: Iterable[TipTrial],
                 options: ScoringOptions | None = None) -> TipReport:
    """Score ``trials`` per operator, period and category, for each split in
    ``options`` (all four by default)."""
    options = ScoringOptions() if options is None else options
    columns = _columns(list(trials), options.period)
    cards: list[ScoreCard] = []
    edges: dict[Split, tuple[float, ...]] = {}
    for split in options.splits:
        group, nontip_grouped, labels, split_edges = _groups(split, columns, options)
        if split_edges is not None:
            edges[split] = split_edges
        cards.extend(_score_split(columns, split, group, nontip_grouped, labels, options))
    return TipReport(options, tuple(cards), edges)


def _columns(trials: Sequence[TipTrial], period: Period) -> _Columns:
    operators = sorted({t.operator for t in trials})
    op_index = {name: i for i, name in enumerate(operators)}
    label_of: dict[date, str] = {}
    period_labels = [_period_label(t.time, period, label_of) for t in trials]
    periods = sorted(set(period_labels))
    period_index = {name: i for i, name in enumerate(periods)}
    cat_index = {c: i for i, c in enumerate(_CATEGORIES)}
    n = len(trials)

    def floats(values: Iterable[float | None]) -> Floats:
        return np.fromiter((math.nan if v is None else v for v in values), np.float64, n)

    def bools(values: Iterable[bool]) -> Bools:
        return np.fromiter(values, np.bool_, n)

    tip = bools(t.was_tip for t in trials)
    suspect = bools(t.responded_suspect for t in trials)
    overlap = bools(t.region_overlapped for t in trials)
    return _Columns(
        operators=operators, periods=periods,
        operator=np.fromiter((op_index[t.operator] for t in trials), np.int64, n),
        period=np.fromiter((period_index[p] for p in period_labels), np.int64, n),
        tip=tip, hit=tip & suspect & overlap, mislocated=tip & suspect & ~overlap,
        suspect=suspect,
        category=np.fromiter((-1 if t.category is None else cat_index[t.category]
                              for t in trials), np.int64, n),
        ai=bools(t.ai_flagged_fti is True for t in trials),
        superposition=floats(t.superposition for t in trials),
        clutter=floats(t.clutter for t in trials),
        response_ms=floats(t.response_ms for t in trials))


def _period_label(time: datetime, period: Period, cache: dict[date, str]) -> str:
    if period is Period.ALL:
        return ALL
    if time.tzinfo is not None:
        time = time.astimezone(UTC)
    day = time.date()
    label = cache.get(day)
    if label is None:
        if period is Period.DAY:
            label = day.isoformat()
        elif period is Period.WEEK:
            year, week, _ = day.isocalendar()
            label = f"{year}-W{week:02d}"
        else:
            label = f"{day.year}-{day.month:02d}"
        cache[day] = label
    return label


def _groups(split: Split, columns: _Columns, options: ScoringOptions
            ) -> tuple[Ints, bool, list[str], tuple[float, ...] | None]:
    """Each trial's group in ``split`` (-1: not in the split), whether non-TIP trials'
    groups count (else their F is shared by every group), the group labels and the bin
    edges (for the difficulty splits)."""
    count = len(columns.tip)
    if split is Split.NONE:
        return np.zeros(count, np.int64), True, [ALL], None
    if split is Split.AI:
        return columns.ai.astype(np.int64), True, [SCREENER_ALONE, SCREENER_PLUS_AI], None
    if split is Split.SUPERPOSITION:
        values, nontip_grouped = columns.superposition, False
    else:
        values, nontip_grouped = columns.clutter, True
    edges = _bin_edges(values[np.isfinite(values)], options)
    known = np.isfinite(values)
    group = np.full(count, -1, np.int64)
    group[known] = np.searchsorted(edges[1:-1], values[known], side="right")
    labels = [f"[{lo:.3g}, {hi:.3g}{']' if i == len(edges) - 2 else ')'}"
              for i, (lo, hi) in enumerate(itertools.pairwise(edges))]
    return group, nontip_grouped, labels, tuple(float(e) for e in edges)


def _bin_edges(values: Floats, options: ScoringOptions) -> Floats:
    if options.binning is Binning.EQUAL_WIDTH or values.size == 0:
        edges: Floats = np.linspace(0.0, 1.0, options.bins + 1)
        return edges
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, options.bins + 1)))
    if edges.size < 2:  # every value the same: one bin around it
        edges = np.array([edges[0], edges[0]])
    return edges


def _score_split(columns: _Columns, split: Split, group: Ints, nontip_grouped: bool,
                 labels: list[str], options: ScoringOptions) -> list[ScoreCard]:
    n_ops, n_periods = len(columns.operators), len(columns.periods)
    n_cats, n_groups = len(_CATEGORIES) + 1, len(labels)  # category 0 is "all"
    size = n_ops * n_periods * n_cats * n_groups
    shape = (n_ops, n_periods, n_cats, n_groups)
    base = columns.operator * n_periods + columns.period

    # TIP trials: each counts in its category's cell and in the "all" cell.
    tip = columns.tip & (group >= 0)
    cell_cat = ((base[tip] * n_cats + columns.category[tip] + 1) * n_groups + group[tip])
    cell_all = ((base[tip] * n_cats) * n_groups + group[tip])
    cells = np.concatenate([cell_cat, cell_all])

    def tip_count(mask: Bools) -> Ints:
        weights = np.concatenate([mask[tip], mask[tip]]).astype(np.float64)
        counts = np.bincount(cells, weights=weights, minlength=size)
        return counts.astype(np.int64).reshape(shape)

    tip_n = tip_count(np.ones_like(columns.tip))
    hits = tip_count(columns.hit)
    mislocated = tip_count(columns.mislocated)

    # Non-TIP trials: per group where the split applies to them, else shared.
    if nontip_grouped:
        nontip = ~columns.tip & (group >= 0)
        cell = base[nontip] * n_groups + group[nontip]
        nontip_shape: tuple[int, ...] = (n_ops, n_periods, 1, n_groups)
        nontip_size = n_ops * n_periods * n_groups
    else:
        nontip = ~columns.tip
        cell = base[nontip]
        nontip_shape = (n_ops, n_periods, 1, 1)
        nontip_size = n_ops * n_periods
    fa_own = np.bincount(cell, weights=columns.suspect[nontip].astype(np.float64),
                         minlength=nontip_size).astype(np.int64).reshape(nontip_shape)
    nontip_own = np.bincount(cell, minlength=nontip_size).reshape(nontip_shape)
    false_alarms = np.broadcast_to(fa_own, shape)
    nontip_n = np.broadcast_to(nontip_own, shape)

    hit_rate = loglinear_rate(hits, tip_n)
    fa_rate = loglinear_rate(false_alarms, nontip_n)
    z_hit, z_fa = probit(hit_rate), probit(fa_rate)
    dprime, crit = z_hit - z_fa, -(z_hit + z_fa) / 2.0  # sdt.d_prime, sdt.criterion
    aprime = a_prime(hit_rate, fa_rate)
    hit_lo, hit_hi = wilson_interval(hits, tip_n)
    fa_lo, fa_hi = wilson_interval(false_alarms, nontip_n)

    timed = np.isfinite(columns.response_ms[tip])
    times = np.concatenate([columns.response_ms[tip], columns.response_ms[tip]])
    rt = _grouped_quantiles(cells[np.concatenate([timed, timed])],
                            times[np.concatenate([timed, timed])], size, (0.5, 0.9))
    rt_median, rt_p90 = rt[0].reshape(shape), rt[1].reshape(shape)

    is_all = np.zeros(shape, dtype=bool)
    is_all[:, :, 0, :] = True
    emit = (tip_n > 0) | (is_all & nontip_grouped & (nontip_n > 0))
    category_names = [ALL, *(c.value for c in _CATEGORIES)]
    cards = []
    for o, p, c, g in zip(*np.nonzero(emit), strict=True):
        at = (o, p, c, g)
        has_tip, has_nontip = bool(tip_n[at] > 0), bool(nontip_n[at] > 0)
        both = has_tip and has_nontip
        cards.append(ScoreCard(
            operator=columns.operators[o], period=columns.periods[p],
            category=category_names[c], split=split, group=labels[g],
            hits=int(hits[at]), misses=int(tip_n[at] - hits[at]),
            mislocated=int(mislocated[at]), false_alarms=int(false_alarms[at]),
            correct_rejections=int(nontip_n[at] - false_alarms[at]),
            hit_rate=_num(hit_rate[at], has_tip), false_alarm_rate=_num(fa_rate[at], has_nontip),
            d_prime=_num(dprime[at], both), c=_num(crit[at], both),
            a_prime=_num(aprime[at], both),
            hit_rate_ci=(float(hit_lo[at]), float(hit_hi[at])) if has_tip else None,
            false_alarm_rate_ci=(float(fa_lo[at]), float(fa_hi[at])) if has_nontip else None,
            rt_median_ms=_num(rt_median[at], True), rt_p90_ms=_num(rt_p90[at], True),
            insufficient_data=bool(tip_n[at] < options.min_tip_events)))
    return cards


def _num(value: np.float64, known: bool) -> float | None:
    return float(value) if known and math.isfinite(value) else None


def _grouped_quantiles(cells: Ints, values: Floats, size: int,
                       quantiles: tuple[float, ...]) -> Floats:
    """For each cell in ``range(size)``, the quantiles of its values, with numpy's
    default linear interpolation; NaN for a cell without values. Shape
    ``(len(quantiles), size)``."""
    out = np.full((len(quantiles), size), np.nan)
    if cells.size == 0:
        return out
    order = np.lexsort((values, cells))
    ordered, ordered_cells = values[order], cells[order]
    counts = np.bincount(ordered_cells, minlength=size)
    starts = np.cumsum(counts) - counts
    present = counts > 0
    first, count = starts[present], counts[present]
    for row, q in enumerate(quantiles):
        position = first + q * (count - 1)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, first + count - 1)
        fraction = position - low
        out[row, present] = ordered[low] + (ordered[high] - ordered[low]) * fraction
    return out
