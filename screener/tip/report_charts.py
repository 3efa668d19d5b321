"""The charts of the supervisor's TIP report (matplotlib, Agg canvas; pyplot is never
imported, so no interactive backend is ever chosen).

Who is drawn depends on how many operators the report covers. With up to
:data:`MAX_SERIES` operators each has their own line or bar (and the pooled team beside
them when there are two or more); with more, the trends show the median operator with
the middle half of the operators as a band, and the bar charts show the pooled team.
Per-operator detail for a large team is in the ranked chart and the heat map, which stay
readable at 50 operators (one row each, :data:`ROWS_PER_CHART` rows per figure).

Error bars on H and F are the Wilson 95 % intervals of the raw proportions (the bars
show the corrected rates, which lie inside them). d' has no interval here: read it
with the H and F intervals and the number of TIP trials printed on the bar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from numpy.typing import NDArray

from screener.tip.fti import FtiCategory
from screener.tip.report import SupervisorReport
from screener.tip.scoring import ALL, ScoreCard, Split

__all__ = ["MAX_SERIES", "ROWS_PER_CHART", "ChartPlan", "chart_plan", "new_figure"]

MAX_SERIES = 6  # operators drawn one by one; more and the team stands for them
ROWS_PER_CHART = 50  # operators per ranked chart or heat map
PNG_DPI = 110
ANNOTATE_CELLS = 160  # heat maps up to this size print each value (text is slow to draw)
TEAM_COLOUR = "#1f3b73"
FLAG_COLOUR = "#b8b8b8"
H_COLOUR = "#2166ac"
F_COLOUR = "#d6604d"
MEASURE_LABELS = {"hit_rate": "H (hit rate)", "false_alarm_rate": "F (false-alarm rate)",
                  "d_prime": "d'"}
GROUP_LABELS = {"screener_alone": "screener alone", "screener_plus_ai": "screener + AI"}
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class ChartPlan:
    """One chart still to draw: its file name (``<name>.png``) and how to draw it."""

    name: str
    draw: Callable[[], Figure]


def chart_plan(report: SupervisorReport) -> list[ChartPlan]:
    """The charts this report gets, in PDF order. None when it has no trial."""
    if report.empty:
        return []
    plans = [ChartPlan("trend", lambda: trend_figure(report))]
    ranked = ranked_operators(report)
    chunks = [ranked[i:i + ROWS_PER_CHART] for i in range(0, len(ranked), ROWS_PER_CHART)]
    for number, chunk in enumerate(chunks, start=1):
        suffix = "" if len(chunks) == 1 else f"-{number}"
        label = "" if len(chunks) == 1 else f" ({number} of {len(chunks)})"
        plans.append(ChartPlan(f"operators_ranked{suffix}",
                               partial(ranking_figure, report, chunk, label)))
        if len(ranked) > 1:
            plans.append(ChartPlan(f"operators_by_period{suffix}",
                                   partial(heatmap_figure, report, chunk, label)))
    plans += [ChartPlan("categories", lambda: category_figure(report)),
              ChartPlan("ai_assistance", lambda: ai_figure(report)),
              ChartPlan("difficulty", lambda: difficulty_figure(report))]
    return plans


def new_figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


# ---------------------------------------------------------------------------- who


@dataclass(frozen=True)
class _Series:
    label: str
    cards: Callable[..., ScoreCard | None]  # card(category=, split=, group=)
    colour: str


def _series(report: SupervisorReport) -> list[_Series]:
    operators = report.operators_with_data
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
    team = _Series(f"team ({len(operators)} operators pooled)", report.team_card,
                   TEAM_COLOUR)
    if len(operators) > MAX_SERIES:
        return [team]
    series = [_Series(op, lambda op=op, **kw: report.card(op, **kw), palette[i])
              for i, op in enumerate(operators)]
    return series if len(series) == 1 else [*series, team]


def _scope(report: SupervisorReport) -> str:
    operators = report.operators_with_data
    if len(operators) == 1:
        return f"operator {operators[0]}"
    return f"{len(operators)} operators"


def ranked_operators(report: SupervisorReport) -> list[str]:
    """Operators with data, best d' first (operators without a d' last, by name)."""
    def key(operator: str) -> tuple[bool, float, str]:
        card = report.card(operator)
        d = None if card is None else card.d_prime
        return (d is None, -(d or 0.0), operator)

    return sorted(report.operators_with_data, key=key)


# ---------------------------------------------------------------------------- helpers


def _value(card: ScoreCard | None, measure: str) -> float:
    value = None if card is None else getattr(card, measure)
    return np.nan if value is None else float(value)


def _interval(card: ScoreCard | None, measure: str) -> tuple[float, float]:
    """Distances below and above the value to the Wilson bounds (NaN when unknown)."""
    value = _value(card, measure)
    ci = None if card is None else getattr(card, f"{measure}_ci")
    if ci is None or np.isnan(value):
        return (np.nan, np.nan)
    return (max(value - ci[0], 0.0), max(ci[1] - value, 0.0))


def _grouped_bars(axes: Axes, groups: Sequence[str], series: Sequence[_Series],
                  measure: str, cards: Callable[[_Series, str], ScoreCard | None],
                  *, counts: bool = False) -> None:
    """One cluster of bars per group, one bar per series; Wilson intervals for H and F;
    with ``counts`` the number of TIP trials is written under each bar's top."""
    x = np.arange(len(groups), dtype=np.float64)
    width = 0.8 / len(series)
    for i, s in enumerate(series):
        found = [cards(s, g) for g in groups]
        values = np.array([_value(c, measure) for c in found])
        offsets = x - 0.4 + width * (i + 0.5)
        errors = None
        if measure in ("hit_rate", "false_alarm_rate"):
            errors = np.array([_interval(c, measure) for c in found]).T
        flagged = [c is not None and c.insufficient_data for c in found]
        bars = axes.bar(offsets, np.nan_to_num(values), width * 0.92, color=s.colour,
                        label=s.label, yerr=errors, capsize=3 if len(series) < 4 else 1.5,
                        error_kw={"elinewidth": 1.0, "ecolor": "#333333"})
        for bar, flag, value in zip(bars, flagged, values, strict=True):
            if flag:
                bar.set_hatch("///")
                bar.set_edgecolor("white")
            if np.isnan(value):
                bar.set_visible(False)
        if counts:
            for offset, card, value in zip(offsets, found, values, strict=True):
                if card is not None and not np.isnan(value):
                    axes.annotate(f"{card.tip_trials}", (offset, value), xytext=(0, 2),
                                  textcoords="offset points", ha="center", va="bottom",
                                  fontsize=6.5, rotation=90 if len(series) > 3 else 0)
    axes.set_xticks(x, [GROUP_LABELS.get(g, g) for g in groups])
    axes.set_ylabel(MEASURE_LABELS[measure])
    axes.grid(True, axis="y", alpha=0.3)
    if measure in ("hit_rate", "false_alarm_rate"):
        axes.set_ylim(0.0, 1.05)
    else:
        axes.axhline(0.0, color="black", linewidth=0.8)


def _flag_note(report: SupervisorReport) -> str:
    return f"hatched: fewer than {report.min_tip_trials} TIP trials (insufficient data)"


def _legend(figure: Figure, series: Sequence[_Series], report: SupervisorReport) -> None:
    handles = [Patch(color=s.colour, label=s.label) for s in series]
    handles.append(Patch(facecolor="#999999", hatch="///", edgecolor="white",
                         label=_flag_note(report)))
    figure.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4),
                  fontsize=8, frameon=False)


# ---------------------------------------------------------------------------- trend


def _period_matrix(report: SupervisorReport, operators: Sequence[str],
                   measure: str) -> Floats:
    return np.array([[_value(report.card(op, period=p), measure) for p in report.periods]
                     for op in operators], dtype=np.float64).reshape(len(operators), -1)


def _quantiles(matrix: Floats, q: float) -> Floats:
    out = np.full(matrix.shape[1], np.nan)
    for column in range(matrix.shape[1]):
        values = matrix[:, column][~np.isnan(matrix[:, column])]
        if values.size:
            out[column] = np.quantile(values, q)
    return out


def trend_figure(report: SupervisorReport) -> Figure:
    """H, F and d' per period, and the TIP trials behind them."""
    periods = report.periods
    operators = report.operators_with_data
    figure = new_figure(9.0, 10.0)
    axes_list = figure.subplots(4, 1, sharex=True,
                                gridspec_kw={"height_ratios": [3, 3, 3, 1.6]})
    x = np.arange(len(periods))
    single = len(operators) == 1
    draw_each = len(operators) <= MAX_SERIES
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"]
    for axes, measure in zip(axes_list[:3], ("hit_rate", "false_alarm_rate", "d_prime"),
                             strict=True):
        matrix = _period_matrix(report, operators, measure)
        if len(operators) > 1:
            median = _quantiles(matrix, 0.5)
            if len(operators) >= 4:
                axes.fill_between(x, _quantiles(matrix, 0.25), _quantiles(matrix, 0.75),
                                  color=TEAM_COLOUR, alpha=0.15, linewidth=0,
                                  label="middle 50 % of operators")
            axes.plot(x, median, color=TEAM_COLOUR, linewidth=2.4, marker="o",
                      markersize=4, label="median operator", zorder=3)
        if draw_each:
            for i, op in enumerate(operators):
                colour = TEAM_COLOUR if single else palette[i]
                cards = [report.card(op, period=p) for p in periods]
                flagged = np.array([c is not None and c.insufficient_data for c in cards])
                errors = None
                if single and measure != "d_prime":
                    errors = np.array([_interval(c, measure) for c in cards]).T
                axes.errorbar(x, matrix[i], yerr=errors, color=colour,
                              linewidth=2.0 if single else 1.0, capsize=3,
                              alpha=1.0 if single else 0.8, label=op, zorder=2)
                axes.plot(x[flagged], matrix[i][flagged], linestyle="none", marker="o",
                          markerfacecolor="white", markeredgecolor=colour, markersize=5,
                          zorder=4)
                axes.plot(x[~flagged], matrix[i][~flagged], linestyle="none", marker="o",
                          color=colour, markersize=5, zorder=4)
        axes.set_ylabel(MEASURE_LABELS[measure])
        axes.grid(True, alpha=0.3)
        if measure != "d_prime":
            axes.set_ylim(-0.02, 1.02)
    counts = [report.team_card(period=p) for p in periods]
    axes = axes_list[3]
    axes.bar(x, [0 if c is None else c.tip_trials for c in counts], color="#8c8c8c",
             width=0.7)
    axes.set_ylabel("TIP trials\n(in the report)", fontsize=8)
    axes.grid(True, axis="y", alpha=0.3)
    step = max(1, int(np.ceil(len(periods) / 20)))
    axes.set_xticks(x[::step], [periods[i] for i in range(0, len(periods), step)],
                    rotation=45 if len(periods) > 6 else 0,
                    ha="right" if len(periods) > 6 else "center", fontsize=8)
    axes.set_xlabel(f"{report.filters.period.value} (UTC)")
    handles, labels = axes_list[0].get_legend_handles_labels()
    if draw_each:
        handles.append(axes_list[0].plot([], [], linestyle="none", marker="o",
                                         markerfacecolor="white", markeredgecolor="grey")[0])
        labels.append(f"hollow: fewer than {report.min_tip_trials} TIP trials in the "
                      f"{report.filters.period.value}")
    if handles:
        figure.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8,
                      frameon=False)
    bars = " with Wilson 95 % intervals" if single else ""
    figure.suptitle(f"H, F and d' per {report.filters.period.value}: {_scope(report)}"
                    f"{bars}", fontsize=12)
    return figure


# ---------------------------------------------------------------------------- operators


def ranking_figure(report: SupervisorReport, operators: Sequence[str],
                   part: str = "") -> Figure:
    """Operators ranked by d' over the whole range, with H and F and their intervals."""
    rows = len(operators)
    figure = new_figure(9.0, 1.6 + 0.2 * max(rows, 4))
    left, right = figure.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    y = np.arange(rows)
    cards = [report.card(op) for op in operators]
    flagged = [c is None or c.insufficient_data for c in cards]
    dprime = np.array([_value(c, "d_prime") for c in cards])
    bars = left.barh(y, np.nan_to_num(dprime), color=[FLAG_COLOUR if f else TEAM_COLOUR
                                                      for f in flagged], height=0.75)
    for bar, flag in zip(bars, flagged, strict=True):
        if flag:
            bar.set_hatch("///")
            bar.set_edgecolor("white")
    team = report.team_card()
    if team is not None and team.d_prime is not None:
        left.axvline(team.d_prime, color="black", linestyle="--", linewidth=1,
                     label=f"team pooled d' {team.d_prime:.2f}")
        left.legend(loc="lower right", fontsize=7)
    left.set_yticks(y, [f"{op}  ({0 if c is None else c.tip_trials})"
                        for op, c in zip(operators, cards, strict=True)],
                    fontsize=7 if rows > 25 else 8)
    left.invert_yaxis()
    left.set_xlabel("d' (whole range)")
    left.axvline(0.0, color="black", linewidth=0.8)
    left.grid(True, axis="x", alpha=0.3)
    for measure, colour, marker, shift in (("hit_rate", H_COLOUR, "o", -0.15),
                                           ("false_alarm_rate", F_COLOUR, "s", 0.15)):
        values = np.array([_value(c, measure) for c in cards])
        errors = np.array([_interval(c, measure) for c in cards]).reshape(-1, 2).T
        right.errorbar(values, y + shift, xerr=errors, linestyle="none", marker=marker,
                       markersize=3.5, color=colour, elinewidth=1, capsize=1.5,
                       label=MEASURE_LABELS[measure])
    right.set_xlim(0.0, 1.0)
    right.set_xlabel("rate, Wilson 95 % interval")
    right.grid(True, axis="x", alpha=0.3)
    right.legend(loc="lower right", fontsize=7)
    figure.suptitle(f"Operators ranked by d'{part} (TIP trials in brackets; grey hatched: "
                    f"fewer than {report.min_tip_trials})", fontsize=11)
    return figure


def heatmap_figure(report: SupervisorReport, operators: Sequence[str],
                   part: str = "") -> Figure:
    """d' of each operator in each period, rows in the ranked order."""
    periods = report.periods
    matrix = _period_matrix(report, operators, "d_prime")
    counts = np.array([[0 if (c := report.card(op, period=p)) is None else c.tip_trials
                        for p in periods] for op in operators]).reshape(len(operators), -1)
    figure = new_figure(min(4.0 + 0.45 * len(periods), 11.0),
                        1.8 + 0.2 * max(len(operators), 4))
    axes = figure.add_subplot(1, 1, 1)
    masked = np.ma.masked_invalid(matrix)
    finite = matrix[np.isfinite(matrix)]
    high = max(float(np.max(finite)) if finite.size else 1.0, 0.5)
    low = min(float(np.min(finite)) if finite.size else 0.0, 0.0)
    image = axes.imshow(masked, aspect="auto", vmin=low, vmax=high, interpolation="nearest",
                        cmap=colormaps["viridis"].with_extremes(bad="#eeeeee"))
    if matrix.size <= ANNOTATE_CELLS:
        for (row, column), value in np.ndenumerate(matrix):
            if np.isfinite(value):
                text = f"{value:.1f}" if counts[row, column] >= report.min_tip_trials \
                    else f"({value:.1f})"
                axes.text(column, row, text, ha="center", va="center", fontsize=6,
                          color="white" if value < (low + high) / 2 else "black")
    axes.set_yticks(np.arange(len(operators)), operators,
                    fontsize=7 if len(operators) > 25 else 8)
    step = max(1, int(np.ceil(len(periods) / 20)))
    axes.set_xticks(np.arange(0, len(periods), step), periods[::step], rotation=45,
                    ha="right", fontsize=7)
    figure.colorbar(image, ax=axes, label="d'", shrink=0.5, aspect=30)
    note = "" if matrix.size > ANNOTATE_CELLS else f"; (d') in brackets: fewer than " \
        f"{report.min_tip_trials} TIP trials"
    figure.suptitle(f"d' per operator and {report.filters.period.value}{part}\n"
                    f"grey: no TIP or no non-TIP trial{note}", fontsize=10)
    return figure


# ---------------------------------------------------------------------------- splits


def category_figure(report: SupervisorReport) -> Figure:
    """H (with intervals and the shared F) and d' per FTI category."""
    series = _series(report)
    categories = [c.value for c in FtiCategory
                  if not report.filters.categories or c in report.filters.categories]
    groups = [*categories, ALL]
    figure = new_figure(9.0, 5.6)
    left, right = figure.subplots(1, 2)

    def card(s: _Series, category: str) -> ScoreCard | None:
        return s.cards(category=category)

    _grouped_bars(left, groups, series, "hit_rate", card)
    if len(series) == 1:
        overall = series[0].cards()
        if overall is not None and overall.false_alarm_rate is not None:
            low, high = overall.false_alarm_rate_ci or (np.nan, np.nan)
            left.axhspan(low, high, color=F_COLOUR, alpha=0.35, linewidth=0, zorder=3)
            line = left.axhline(overall.false_alarm_rate, color=F_COLOUR, linestyle="--",
                                linewidth=1.4, zorder=4,
                                label=f"F {overall.false_alarm_rate:.3f} (every category)")
            left.legend(handles=[line], loc="upper right", fontsize=7)
    left.set_title("H per category" + (" and the shared F" if len(series) == 1 else ""),
                   fontsize=10)
    _grouped_bars(right, groups, series, "d_prime", card, counts=True)
    right.set_title("d' per category (TIP trials on the bars)", fontsize=10)
    for axes in (left, right):
        axes.axvline(len(categories) - 0.5, color="grey", linestyle=":", linewidth=1)
    _legend(figure, series, report)
    figure.suptitle(f"FTI categories: {_scope(report)}, whole range", fontsize=12)
    return figure


def ai_figure(report: SupervisorReport) -> Figure:
    """Screener alone against screener with the AI flagging the FTI."""
    series = _series(report)
    groups = report.groups(Split.AI)
    figure = new_figure(10.0, 4.8)
    panels = figure.subplots(1, 3)

    def card(s: _Series, group: str) -> ScoreCard | None:
        return s.cards(split=Split.AI, group=group)

    for axes, measure in zip(panels, ("hit_rate", "false_alarm_rate", "d_prime"),
                             strict=True):
        _grouped_bars(axes, groups, series, measure, card, counts=measure == "d_prime")
        axes.set_title(MEASURE_LABELS[measure], fontsize=10)
    _legend(figure, series, report)
    figure.suptitle(f"Screener alone vs screener + AI: {_scope(report)}\n"
                    "(+ AI: the AI flagged the FTI, or on a bag without TIP flagged "
                    "anything)", fontsize=11)
    return figure


def difficulty_figure(report: SupervisorReport) -> Figure:
    """H, F and d' per superposition bin and per clutter bin."""
    series = _series(report)
    figure = new_figure(11.0, 7.6)
    panels = figure.subplots(2, 3)
    for row, split in enumerate((Split.SUPERPOSITION, Split.CLUTTER)):
        groups = report.groups(split)

        def card(s: _Series, group: str, split: Split = split) -> ScoreCard | None:
            return s.cards(split=split, group=group)

        if not groups:
            for axes in panels[row]:
                axes.text(0.5, 0.5, f"no {split.value} recorded", ha="center",
                          va="center", transform=axes.transAxes)
                axes.set_axis_off()
            continue
        for axes, measure in zip(panels[row], ("hit_rate", "false_alarm_rate", "d_prime"),
                                 strict=True):
            _grouped_bars(axes, groups, series, measure, card, counts=measure == "d_prime")
            axes.set_title(f"{MEASURE_LABELS[measure]} by {split.value}", fontsize=10)
            axes.set_xlabel(f"{split.value} bin (0 easy, 1 hard)", fontsize=8)
            axes.tick_params(axis="x", labelsize=8)
    _legend(figure, series, report)
    figure.suptitle(f"Difficulty: {_scope(report)}, whole range (TIP trials on the d' bars)"
                    "\nF by superposition is every bag without TIP (they have no FTI to "
                    "superpose); F by clutter, those in the same clutter bin", fontsize=11)
    return figure
