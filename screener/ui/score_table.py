"""Score cards in a sortable table: one row per card, the measures of
docs/tip-scoring.md in columns, thin data greyed and flagged.

:class:`ScoreTableModel` holds :class:`ScoreRow` s (a label for who and which cell, and
the :class:`~screener.tip.scoring.ScoreCard`, or None for a selected operator without a
trial). Each column shows formatted text and sorts by the number behind it
(:data:`SORT_ROLE`); :meth:`ScoreTableModel.row_card` gives a row's card back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from screener.tip.report import TEAM
from screener.tip.scoring import ScoreCard
from screener.ui.table_model import Index, RowsModel, bold
from screener.ui.theme import AMBER, MUTED

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
MISSING = "\u2013"
THIN = QColor(MUTED)
FLAG = QColor(AMBER)
TEAM_BACKGROUND = QColor("#1f2a38")



@dataclass(frozen=True)
class ScoreRow:
    """One line of the table: who (``operator``), the cell it describes and its card."""

    operator: str
    period: str
    category: str
    split: str
    group: str
    card: ScoreCard | None

    @property
    def is_team(self) -> bool:
        return self.operator == TEAM


class Column(StrEnum):
    OPERATOR = "Operator"
    PERIOD = "Period"
    CATEGORY = "Category"
    SPLIT = "Split"
    GROUP = "Group"
    TIP = "TIP"
    NON_TIP = "Non-TIP"
    HITS = "Hits"
    MISSES = "Misses"
    FALSE_ALARMS = "FA"
    H = "H"
    H_CI = "H CI"
    F = "F"
    F_CI = "F CI"
    D_PRIME = "d\u2032"
    A_PRIME = "A\u2032"
    C = "c"
    RT_MEDIAN = "RT med."
    RT_P90 = "RT p90"
    RT = "RT med / p90"
    DATA = "Data"


TOOLTIPS = {
    Column.TIP: "TIP trials: bags with a fictional threat projected",
    Column.NON_TIP: "bags without TIP (they give F)",
    Column.HITS: "TIP trials called suspect with a mark on the FTI",
    Column.MISSES: "TIP trials cleared, or called suspect with no mark on the FTI "
                   "(mislocated, in brackets)",
    Column.FALSE_ALARMS: "bags without TIP called suspect",
    Column.H: "hit rate, log-linear corrected (x + 0.5) / (n + 1)",
    Column.H_CI: "Wilson 95 % interval of hits / TIP trials",
    Column.F: "false-alarm rate, log-linear corrected",
    Column.F_CI: "Wilson 95 % interval of false alarms / bags without TIP",
    Column.D_PRIME: "sensitivity d\u2032 = z(H) \u2212 z(F)",
    Column.A_PRIME: "A\u2032 (Grier 1971), from the corrected H and F",
    Column.C: "criterion c = \u2212(z(H) + z(F)) / 2; above 0: cautious, below 0: liberal",
    Column.RT_MEDIAN: "median response time of the TIP trials (seconds)",
    Column.RT_P90: "90th-percentile response time of the TIP trials (seconds)",
    Column.RT: "median and 90th-percentile response time of the TIP trials (seconds)",
    Column.DATA: "fewer than 100 TIP trials: too few for a reliable score (Buser et al. "
                 "2025: about 100 give a reliability near 0.7)",
}

#: Which columns each table shows.
SCORE_COLUMNS = (Column.OPERATOR, Column.PERIOD, Column.TIP, Column.NON_TIP, Column.H,
                 Column.H_CI, Column.F, Column.F_CI, Column.D_PRIME, Column.A_PRIME, Column.C,
                 Column.RT, Column.DATA)
BREAKDOWN_COLUMNS = (Column.OPERATOR, Column.GROUP, Column.TIP, Column.NON_TIP, Column.H,
                     Column.H_CI, Column.F, Column.D_PRIME, Column.A_PRIME, Column.C,
                     Column.DATA)
GROUP_LABELS = {"screener_alone": "screener alone", "screener_plus_ai": "screener + AI"}


def number(value: float | None, digits: int = 3) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def interval(value: tuple[float, float] | None) -> str:
    return MISSING if value is None else f"{value[0]:.2f}\u2013{value[1]:.2f}"


def seconds(value_ms: float | None) -> str:
    return MISSING if value_ms is None else f"{value_ms / 1000:.1f} s"


def _times(median_ms: float | None, p90_ms: float | None) -> str:
    if median_ms is None or p90_ms is None:
        return MISSING
    return f"{median_ms / 1000:.1f} / {p90_ms / 1000:.1f} s"


def _text(row: ScoreRow, column: Column) -> str:
    card = row.card
    keys = {Column.OPERATOR: "Team (pooled)" if row.is_team else row.operator,
            Column.PERIOD: "whole range" if row.period == "all" else row.period,
            Column.CATEGORY: row.category, Column.SPLIT: row.split,
            Column.GROUP: GROUP_LABELS.get(row.group, row.group)}
    if column in keys:
        return keys[column]
    if card is None:
        return "NO DATA" if column is Column.DATA else MISSING
    values: dict[Column, Callable[[ScoreCard], str]] = {
        Column.TIP: lambda c: str(c.tip_trials),
        Column.NON_TIP: lambda c: str(c.non_tip_trials),
        Column.HITS: lambda c: str(c.hits),
        Column.MISSES: lambda c: f"{c.misses}" + (f" ({c.mislocated})" if c.mislocated else ""),
        Column.FALSE_ALARMS: lambda c: str(c.false_alarms),
        Column.H: lambda c: number(c.hit_rate),
        Column.H_CI: lambda c: interval(c.hit_rate_ci),
        Column.F: lambda c: number(c.false_alarm_rate),
        Column.F_CI: lambda c: interval(c.false_alarm_rate_ci),
        Column.D_PRIME: lambda c: number(c.d_prime, 2),
        Column.A_PRIME: lambda c: number(c.a_prime),
        Column.C: lambda c: number(c.c, 2),
        Column.RT_MEDIAN: lambda c: seconds(c.rt_median_ms),
        Column.RT_P90: lambda c: seconds(c.rt_p90_ms),
        Column.RT: lambda c: _times(c.rt_median_ms, c.rt_p90_ms),
        Column.DATA: lambda c: "insufficient" if c.insufficient_data else "ok",
    }
    return values[column](card)


def _sort_key(row: ScoreRow, column: Column) -> object:
    card = row.card
    team_first = 0 if row.is_team else 1
    if column is Column.OPERATOR:
        return f"{team_first}{row.operator}"
    if column in (Column.PERIOD, Column.CATEGORY, Column.SPLIT, Column.GROUP):
        return _text(row, column)
    if card is None:
        return float("-inf")
    numbers: dict[Column, float | None] = {
        Column.TIP: card.tip_trials, Column.NON_TIP: card.non_tip_trials,
        Column.HITS: card.hits, Column.MISSES: card.misses,
        Column.FALSE_ALARMS: card.false_alarms, Column.H: card.hit_rate,
        Column.H_CI: None if card.hit_rate_ci is None else card.hit_rate_ci[0],
        Column.F: card.false_alarm_rate,
        Column.F_CI: None if card.false_alarm_rate_ci is None else card.false_alarm_rate_ci[0],
        Column.D_PRIME: card.d_prime, Column.A_PRIME: card.a_prime, Column.C: card.c,
        Column.RT_MEDIAN: card.rt_median_ms, Column.RT_P90: card.rt_p90_ms,
        Column.RT: card.rt_median_ms, Column.DATA: 0.0 if card.insufficient_data else 1.0,
    }
    value = numbers[column]
    return float("-inf") if value is None else float(value)


class ScoreTableModel(RowsModel[ScoreRow]):
    """Rows of score cards, in the given columns."""

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.COLUMNS = tuple(column.value for column in self.columns)

    def row_card(self, row: int) -> ScoreRow:
        return self.rows[row]

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and orientation is Qt.Orientation.Horizontal \
                and 0 <= section < len(self.columns):
            return TOOLTIPS.get(self.columns[section])
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = self.columns[index.column()]
        if role == SORT_ROLE:
            return _sort_key(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            left = column in (Column.OPERATOR, Column.PERIOD, Column.CATEGORY, Column.SPLIT,
                              Column.GROUP)
            horizontal = Qt.AlignmentFlag.AlignLeft if left else Qt.AlignmentFlag.AlignRight
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            return TEAM_BACKGROUND if row.is_team else None
        return super().data(index, role)

    def display(self, row: ScoreRow, column: int) -> str:
        return _text(row, self.columns[column])

    def foreground(self, row: ScoreRow, column: int) -> QColor | None:
        thin = row.card is None or row.card.insufficient_data
        if self.columns[column] is Column.DATA and thin:
            return FLAG
        return THIN if thin and not row.is_team else None

    def font(self, row: ScoreRow, column: int) -> QFont | None:
        return bold() if row.is_team or self.columns[column] is Column.D_PRIME else None

    def tooltip(self, row: ScoreRow, column: int) -> str | None:
        card = row.card
        if card is not None and self.columns[column] in (Column.TIP, Column.NON_TIP, Column.H,
                                                         Column.F):
            return (f"{card.hits} hits, {card.misses} misses ({card.mislocated} of them "
                    f"called suspect with no mark on the FTI) in {card.tip_trials} TIP "
                    f"trials; {card.false_alarms} false alarms in {card.non_tip_trials} bags "
                    "without TIP")
        if card is None or card.insufficient_data:
            count = 0 if card is None else card.tip_trials
            return (f"{count} TIP trials: fewer than 100, read this score as a trend, not "
                    "a verdict")
        return None


class ScoreProxy(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE`, keeps the team on top, filters on the operator text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(0)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802
        model = self.sourceModel()
        if isinstance(model, ScoreTableModel) and model.row_card(source_row).is_team:
            return True
        return super().filterAcceptsRow(source_row, source_parent)

    def lessThan(self, left: Index, right: Index) -> bool:  # noqa: N802
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if isinstance(a, float) and isinstance(b, float):
            return a < b
        return str(a) < str(b)


def score_view(model: ScoreTableModel, parent: QWidget | None = None,
               name: str = "scoreTable") -> tuple[QTableView, ScoreProxy]:
    """A sortable table view over ``model``."""
    proxy = ScoreProxy(parent)
    proxy.setSourceModel(model)
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setShowGrid(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(24)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setResizeContentsPrecision(200)
    header.setStretchLastSection(True)
    header.setHighlightSections(False)
    return view, proxy
