"""The supervisor's TIP report, its data half: which trials, their scores, the CSV files.

Qt-free and without matplotlib (the charts are in :mod:`screener.tip.report_charts`, the
PDF in :mod:`screener.tip.report_pdf`, writing every file in
:mod:`screener.tip.report_files`). docs/tip-scoring.md, "Supervisor reports", describes
the files.

The trials are the ``tip.outcome`` events of *every* station in one audit database. The
operator and the UTC days are filtered in SQL (:func:`events_of_kind_between`), then
again exactly in Python: SQLite's ``LIKE`` ignores case, and the day is checked on the
parsed time rather than on the text. A category filter keeps the TIP trials of those
categories and every non-TIP trial, because non-TIP bags carry no category and give F.

Scores are made twice per operator (the whole range, and per day, week or month), and
twice for the *team*: every selected operator's trials pooled as if one screener had
made them. The team's d' is therefore the d' of the pooled rates, not a mean of the
operators' d'.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from screener.audit.database import engine_label
from screener.audit.query import events_of_kind_between
from screener.errors import ScreenerError
from screener.tip.fti import FtiCategory
from screener.tip.scoring import (
    ALL,
    KIND_TIP_OUTCOME,
    Period,
    ScoreCard,
    ScoringOptions,
    Split,
    TipReport,
    TipTrial,
    score_trials,
    trials_from_events,
)

__all__ = [
    "CARDS_CSV",
    "CARD_COLUMNS",
    "SUMMARY_COLUMNS",
    "SUMMARY_CSV",
    "TEAM",
    "TEAM_CARDS_CSV",
    "OperatorSummary",
    "ReportData",
    "ReportFilters",
    "SupervisorReport",
    "TipReportError",
    "build_report",
    "parse_day",
    "prepare_output_dir",
    "read_report_data",
    "write_csv_files",
]

TEAM = "team"
CARDS_CSV = "score_cards.csv"
TEAM_CARDS_CSV = "team_score_cards.csv"
SUMMARY_CSV = "operator_summary.csv"

#: The columns of the score-card CSV files: every key of ``ScoreCard.as_dict()``, in its
#: order, with each interval as two columns ``..._low`` and ``..._high``.
CARD_COLUMNS = (
    "operator", "period", "category", "split", "group", "hits", "misses", "mislocated",
    "false_alarms", "correct_rejections", "tip_trials", "non_tip_trials", "hit_rate",
    "false_alarm_rate", "d_prime", "c", "a_prime", "hit_rate_ci_low", "hit_rate_ci_high",
    "false_alarm_rate_ci_low", "false_alarm_rate_ci_high", "rt_median_ms", "rt_p90_ms",
    "insufficient_data")

SUMMARY_COLUMNS = (
    "operator", "tip_trials", "non_tip_trials", "hits", "misses", "mislocated",
    "false_alarms", "correct_rejections", "hit_rate", "hit_rate_ci_low", "hit_rate_ci_high",
    "false_alarm_rate", "false_alarm_rate_ci_low", "false_alarm_rate_ci_high", "d_prime",
    "a_prime", "c", "rt_median_ms", "rt_p90_ms", "insufficient_data")


class TipReportError(ScreenerError):
    """A report cannot be made as asked. ``field`` is the command-line option at fault
    (``--from``, ``--to``, ``--operator``, ``--out``)."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"TIP report: {field}: {problem}")


def parse_day(text: str, field: str) -> date:
    """A ``YYYY-MM-DD`` day; :class:`TipReportError` naming ``field`` otherwise."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TipReportError(field, f"{text!r} is not a date; write it as YYYY-MM-DD "
                             "(a UTC day)") from None


@dataclass(frozen=True)
class ReportFilters:
    """What the report covers. Empty ``operators`` or ``categories``: all of them. The
    days are inclusive UTC days; either may be None (open-ended)."""

    operators: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    categories: tuple[FtiCategory, ...] = ()
    period: Period = Period.WEEK

    def __post_init__(self) -> None:
        if self.first_day is not None and self.last_day is not None \
                and self.first_day > self.last_day:
            raise TipReportError("--from", f"{self.first_day} is after --to "
                                 f"{self.last_day}; the range would be empty")
        for operator in self.operators:
            if not operator.strip():
                raise TipReportError("--operator", "an operator ID must not be empty")

    def keeps(self, trial: TipTrial) -> bool:
        if self.operators and trial.operator not in self.operators:
            return False
        if self.first_day is not None or self.last_day is not None:
            day = _utc(trial.time).date()
            if self.first_day is not None and day < self.first_day:
                return False
            if self.last_day is not None and day > self.last_day:
                return False
        return not (self.categories and trial.was_tip
                    and trial.category not in self.categories)

    def descriptions(self) -> list[tuple[str, str]]:
        """The filters as (name, value) lines, for people."""
        days = "all" if self.first_day is None and self.last_day is None else \
            f"{self.first_day or 'start'} to {self.last_day or 'end'} (inclusive, UTC)"
        return [("selected operators", ", ".join(self.operators) if self.operators else "all"),
                ("days", days),
                ("categories", ", ".join(c.value for c in self.categories)
                 if self.categories else "all"),
                ("period", self.period.value)]


def _utc(time: datetime) -> datetime:
    return time.replace(tzinfo=UTC) if time.tzinfo is None else time.astimezone(UTC)


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class ReportData:
    """The trials a report covers and where they came from."""

    trials: tuple[TipTrial, ...]
    stations: tuple[str, ...]  # stations with at least one of these trials
    database: str  # the database, without password
    events_read: int  # tip.outcome events read before the exact filters


def read_report_data(engine: Engine, filters: ReportFilters) -> ReportData:
    """The ``tip.outcome`` trials of every station that pass ``filters``."""
    since = None if filters.first_day is None else filters.first_day.isoformat()
    before = None if filters.last_day is None else \
        (filters.last_day + timedelta(days=1)).isoformat()
    fragments = [f'"operator":{json.dumps(op, ensure_ascii=False)}'
                 for op in filters.operators]
    events = events_of_kind_between(engine, KIND_TIP_OUTCOME, since=since, before=before,
                                    payload_contains=fragments)
    trials, stations = [], set()
    for event, trial in zip(events, trials_from_events(events), strict=True):
        if filters.keeps(trial):
            trials.append(trial)
            stations.add(event.station)
    return ReportData(tuple(trials), tuple(sorted(stations)), engine_label(engine),
                      len(events))


# ---------------------------------------------------------------------------- scoring

CardKey = tuple[str, str, str, Split, str]  # operator, period, category, split, group


def _index(report: TipReport) -> dict[CardKey, ScoreCard]:
    return {(c.operator, c.period, c.category, c.split, c.group): c for c in report.cards}


@dataclass(frozen=True)
class OperatorSummary:
    """One operator over the whole range, every selected category pooled (the card
    ``period=all, category=all, split=none``). ``card`` is None for a selected operator
    without a single trial."""

    operator: str
    card: ScoreCard | None
    min_tip_trials: int

    @property
    def tip_trials(self) -> int:
        return 0 if self.card is None else self.card.tip_trials

    @property
    def insufficient_data(self) -> bool:
        return self.card is None or self.card.insufficient_data

    def as_row(self) -> dict[str, Any]:
        if self.card is None:
            row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS)
            row.update(operator=self.operator, insufficient_data=True, **dict.fromkeys(
                ("tip_trials", "non_tip_trials", "hits", "misses", "mislocated",
                 "false_alarms", "correct_rejections"), 0))
            return row
        values = card_row(self.card)
        return {name: values[name] for name in SUMMARY_COLUMNS}


@dataclass(frozen=True)
class SupervisorReport:
    """Everything the files of one report show. ``overall`` and ``by_period`` hold each
    operator's cards (every split); ``team`` and ``team_by_period`` the cards of all the
    report's trials pooled under the operator name :data:`TEAM` (``team_by_period``: the
    ``none`` split only)."""

    filters: ReportFilters
    database: str
    stations: tuple[str, ...]
    generated_utc: datetime
    operators: tuple[str, ...]  # the selected operators, or every one with a trial
    trials: int
    tip_trials: int
    first_time: datetime | None
    last_time: datetime | None
    overall: TipReport
    by_period: TipReport
    team: TipReport
    team_by_period: TipReport
    _cards: dict[CardKey, ScoreCard] = field(repr=False, compare=False)
    _team_cards: dict[CardKey, ScoreCard] = field(repr=False, compare=False)

    @property
    def empty(self) -> bool:
        return self.trials == 0

    @property
    def min_tip_trials(self) -> int:
        return self.overall.options.min_tip_events

    @property
    def operators_with_data(self) -> tuple[str, ...]:
        return tuple(op for op in self.operators if (op, ALL, ALL, Split.NONE, ALL)
                     in self._cards)

    @property
    def periods(self) -> tuple[str, ...]:
        """The period labels (days, ISO weeks or months) with trials, in order."""
        return tuple(sorted({c.period for c in self.team_by_period.cards}))

    def card(self, operator: str, *, period: str = ALL, category: str = ALL,
             split: Split = Split.NONE, group: str = ALL) -> ScoreCard | None:
        """An operator's card; ``period`` is ``all`` or a label of :attr:`periods`."""
        return self._cards.get((operator, period, category, split, group))

    def team_card(self, *, period: str = ALL, category: str = ALL,
                  split: Split = Split.NONE, group: str = ALL) -> ScoreCard | None:
        return self._team_cards.get((TEAM, period, category, split, group))

    def groups(self, split: Split) -> list[str]:
        """The group labels of a split, in order (bins low to high)."""
        if split is Split.AI:
            return ["screener_alone", "screener_plus_ai"]
        if split is Split.NONE:
            return [ALL]
        seen = {c.group for c in self.team.cards if c.split is split}
        return sorted(seen, key=lambda label: float(label[1:].split(",")[0]))

    def summaries(self) -> list[OperatorSummary]:
        """One per operator of the report, in operator order."""
        return [OperatorSummary(op, self.card(op), self.min_tip_trials)
                for op in self.operators]


def build_report(data: ReportData, filters: ReportFilters, *,
                 generated_utc: datetime | None = None) -> SupervisorReport:
    """Score the trials per operator and pooled, over the whole range and per period."""
    trials = list(data.trials)
    overall = score_trials(trials, ScoringOptions(period=Period.ALL))
    by_period = score_trials(trials, ScoringOptions(period=filters.period))
    pooled = [replace(t, operator=TEAM) for t in trials]
    team = score_trials(pooled, ScoringOptions(period=Period.ALL))
    team_by_period = score_trials(pooled, ScoringOptions(period=filters.period,
                                                         splits=(Split.NONE,)))
    operators = filters.operators or tuple(sorted({t.operator for t in trials}))
    times = [_utc(t.time) for t in trials]
    cards = _index(overall) | _index(by_period)
    return SupervisorReport(
        filters=filters, database=data.database, stations=data.stations,
        generated_utc=generated_utc or datetime.now(UTC), operators=tuple(operators),
        trials=len(trials), tip_trials=sum(t.was_tip for t in trials),
        first_time=min(times, default=None), last_time=max(times, default=None),
        overall=overall, by_period=by_period, team=team, team_by_period=team_by_period,
        _cards=cards, _team_cards=_index(team) | _index(team_by_period))


# ---------------------------------------------------------------------------- CSV


def card_row(card: ScoreCard) -> dict[str, Any]:
    """A card as a CSV row: ``as_dict()`` with each interval in two columns."""
    row: dict[str, Any] = {}
    for name, value in card.as_dict().items():
        if name.endswith("_ci"):
            low, high = (None, None) if value is None else value
            row[f"{name}_low"], row[f"{name}_high"] = low, high
        else:
            row[name] = value
    return row


def _cell(value: Any) -> str:
    """Empty for None, ``true``/``false``, floats with every digit (``repr``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_csv(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Path:
    try:
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([_cell(row[name]) for name in columns])
    except OSError as exc:
        raise output_error(path, exc) from None
    return path


def write_csv_files(report: SupervisorReport, out: Path) -> list[Path]:
    """``score_cards.csv`` (each operator: whole range, then per period),
    ``team_score_cards.csv`` (the pooled team, the same way) and
    ``operator_summary.csv`` (one row per operator)."""
    cards = (*report.overall.cards, *report.by_period.cards)
    team = (*report.team.cards, *report.team_by_period.cards)
    return [_write_csv(out / CARDS_CSV, CARD_COLUMNS, map(card_row, cards)),
            _write_csv(out / TEAM_CARDS_CSV, CARD_COLUMNS, map(card_row, team)),
            _write_csv(out / SUMMARY_CSV, SUMMARY_COLUMNS,
                       (s.as_row() for s in report.summaries()))]


# ---------------------------------------------------------------------------- output


def prepare_output_dir(out: Path) -> Path:
    """Create ``out`` if needed and check that files can be written into it, before any
    work is done."""
    if out.exists() and not out.is_dir():
        raise TipReportError("--out", f"{out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TipReportError("--out", f"{out} cannot be created "
                             f"({exc.strerror or exc})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise TipReportError("--out", f"{out} is not writable")
    return out


def output_error(path: Path, exc: OSError) -> TipReportError:
    return TipReportError("--out", f"{path} cannot be written ({exc.strerror or exc})")
