"""The supervisor's screen: TIP scores of the team and of each screener, the charts of
the report, the TIP settings and the report export (docs/tip-scoring.md).

* **Filters** (top): inclusive UTC days from and to (either open), the period of the
  per-period rows and the trend (day, ISO week, month, or the whole range), one FTI
  category or all, and a text filter on the operator. They are a
  :class:`~screener.tip.report.ReportFilters`, so the screen, the export and
  ``screener tip report`` always agree.
* **Scores**: the team (every operator's trials pooled) and each operator: H, F, d', A',
  c, Wilson intervals, response times and the insufficient-data flag, in a sortable
  table; beside it the trend, the ranking or the heat map.
* **Breakdown**: per FTI category, screener alone vs screener + AI, and the difficulty
  bins (superposition, clutter), with the matching chart.
* **TIP settings** (:mod:`screener.ui.supervisor_settings`) and **Export**
  (:mod:`screener.ui.supervisor_export`).

Reading the events and scoring them, drawing the charts and exporting run on worker
threads (:class:`~screener.ui.background.BackgroundJobs`); the view only shows
results. Reading scores needs the ``scores.view`` permission: the worker checks it
through the workflow's guard, which logs a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from PySide6.QtCore import QDate, QSize, Qt, QTimer
from PySide6.QtGui import QImage, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from screener.tip.fti import FtiCategory
from screener.tip.report import (
    TEAM,
    ReportFilters,
    SupervisorReport,
    TipReportError,
    build_report,
    read_report_data,
)
from screener.tip.scoring import ALL, Period, ScoreCard, Split
from screener.ui.background import BackgroundJobs, JobProgress, JobResult, Progress
from screener.ui.chart_widget import ChartWidget, figure_image, fitting_dpi
from screener.ui.context import ViewContext
from screener.ui.score_table import (
    BREAKDOWN_COLUMNS,
    SCORE_COLUMNS,
    Column,
    ScoreProxy,
    ScoreRow,
    ScoreTableModel,
    number,
    score_view,
)
from screener.ui.supervisor_export import EXPORT, ExportPanel
from screener.ui.supervisor_settings import SAVE, SettingsPanel
from screener.ui.theme import AMBER, MUTED, TIP_VIEWS_STYLE
from screener.ui.widgets import error_text, say
from screener.workflow.roles import Action, Guard

LOAD = "scores.load"
CHART_PREFIX = "chart:"
#: Period choices: label, the table's rows, the report's period (trend, heat map, export)
PERIODS = (("Whole range", Period.ALL, Period.WEEK), ("Day", Period.DAY, Period.DAY),
           ("ISO week", Period.WEEK, Period.WEEK), ("Month", Period.MONTH, Period.MONTH))
BREAKDOWNS = (("FTI category", "category", "categories"),
              ("Screener alone vs screener + AI", Split.AI.value, "ai_assistance"),
              ("Superposition bins", Split.SUPERPOSITION.value, "difficulty"),
              ("Clutter bins", Split.CLUTTER.value, "difficulty"))
CHART_TITLES = {"trend": "Trend: H, F and d\u2032 per period",
                "operators_ranked": "Operators ranked by d\u2032",
                "operators_by_period": "d\u2032 per operator and period (heat map)"}


@dataclass(frozen=True)
class Loaded:
    report: SupervisorReport
    rows_period: Period


def load_report(context: ViewContext, filters: ReportFilters) -> SupervisorReport:
    """The scores for ``filters``, after the role check (worker thread)."""
    operator = context.operator
    Guard(context.log).require(operator.id, operator.role, Action.VIEW_SCORES,
                               subject="TIP scores")
    data = read_report_data(context.log.engine, filters)
    return build_report(data, filters)


def chart_image(report: SupervisorReport, name: str, size: QSize) -> QImage | None:
    """Draw the report's chart ``name`` to fit ``size`` pixels (worker thread); None when
    the report has no such chart (no trial, or a heat map of one operator)."""
    from screener.tip.report_charts import chart_plan  # matplotlib, on first use

    plans = {plan.name: plan for plan in chart_plan(report)}
    plan = plans.get(name)
    if plan is None:
        return None
    figure = plan.draw()
    return figure_image(figure, fitting_dpi(figure, size.width(), size.height()))


class Tile(QFrame):
    """One headline figure: a big value and a caption."""

    def __init__(self, caption: str, tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidePanel")
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 8, 12, 8)
        column.setSpacing(0)
        self.value = QLabel("\u2013", self)
        self.value.setStyleSheet("font-size: 17pt; font-weight: bold;")
        self.caption = QLabel(caption, self)
        self.caption.setObjectName("panelTitle")
        column.addWidget(self.value)
        column.addWidget(self.caption)
        self.setToolTip(tip)

    def set(self, value: str, colour: str | None = None) -> None:
        self.value.setText(value)
        style = "font-size: 17pt; font-weight: bold;"
        self.value.setStyleSheet(style + (f" color: {colour};" if colour else ""))


class ChartPanel(QWidget):
    """A chart chooser above a chart."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(6)
        row = QHBoxLayout()
        self.label = QLabel("Ch&art", self)
        self.choice = QComboBox(self)
        self.choice.setObjectName(f"{name}Choice")
        self.choice.setAccessibleName("Chart")
        self.label.setBuddy(self.choice)
        row.addWidget(self.label)
        row.addWidget(self.choice, 1)
        column.addLayout(row)
        self.chart = ChartWidget(self)
        column.addWidget(self.chart, 1)

    def chosen(self) -> str:
        return str(self.choice.currentData() or "")


class SupervisorView(QWidget):
    """Scores, charts, TIP settings and the report export for a supervisor."""

    def __init__(self, context: ViewContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("supervisorView")
        self.setStyleSheet(TIP_VIEWS_STYLE)
        self.context = context
        self.report: SupervisorReport | None = None
        self.rows_period = Period.ALL
        self.data_jobs = BackgroundJobs("supervisor-data", parent=self)
        self.draw_jobs = BackgroundJobs("supervisor-draw", parent=self)
        self.audit_jobs = BackgroundJobs("supervisor-audit", parent=self)
        self._charts: dict[str, tuple[str, QSize]] = {}  # panel -> what it shows
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.setInterval(250)
        self._redraw.timeout.connect(self.refresh_charts)
        self._build()
        self._connect()
        self.settings_panel.reload()
        self.reload()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 8, 8, 8)
        outer.setSpacing(8)
        outer.addWidget(self._filter_bar())
        self.message = QLabel("", self)
        self.message.setObjectName("messageLabel")
        self.message.setWordWrap(True)
        self.message.hide()
        outer.addWidget(self.message)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("supervisorTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._scores_tab(), "S&cores")
        self.tabs.addTab(self._breakdown_tab(), "&Breakdown")
        self.settings_panel = SettingsPanel(self.context, self.audit_jobs, self)
        self.tabs.addTab(self.settings_panel, "T&IP settings")
        home = self.context.settings.home
        self.export_panel = ExportPanel(self.context.log, self.draw_jobs, self.filters,
                                        home / "reports" / datetime.now(UTC).strftime(
                                            "tip-report-%Y-%m-%d"), self)
        self.tabs.addTab(self.export_panel, "E&xport")
        outer.addWidget(self.tabs, 1)

    def _filter_bar(self) -> QWidget:
        bar = QFrame(self)
        bar.setObjectName("decisionBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(10, 6, 10, 6)
        row.setSpacing(8)
        today = QDate.currentDate()
        self.from_check = QCheckBox("&From", bar)
        self.from_check.setObjectName("fromCheck")
        self.from_date = QDateEdit(today.addDays(-28), bar)
        self.to_check = QCheckBox("&To", bar)
        self.to_check.setObjectName("toCheck")
        self.to_date = QDateEdit(today, bar)
        for check, edit, name in ((self.from_check, self.from_date, "fromDate"),
                                  (self.to_check, self.to_date, "toDate")):
            edit.setObjectName(name)
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            edit.setToolTip("an inclusive UTC day")
            check.setToolTip("limit the days (inclusive, UTC); unticked: open-ended")
            check.ensurePolished()
            check.setMinimumWidth(check.sizeHint().width() + 6)
            row.addWidget(check)
            row.addWidget(edit)
        row.addSpacing(10)
        label = QLabel("&Rows per", bar)
        self.period_box = QComboBox(bar)
        self.period_box.setObjectName("periodBox")
        for text, rows, _report in PERIODS:
            self.period_box.addItem(text, rows.value)
        label.setBuddy(self.period_box)
        self.period_box.setToolTip("whole range: one row per operator; day, week or month: "
                                   "one per operator and period. The trend and the heat map "
                                   "use weeks for the whole range.")
        row.addWidget(label)
        row.addWidget(self.period_box)
        label = QLabel("Cate&gory", bar)
        self.category_box = QComboBox(bar)
        self.category_box.setObjectName("categoryBox")
        self.category_box.addItem("All categories", "")
        for category in FtiCategory:
            self.category_box.addItem(category.value, category.value)
        self.category_box.setToolTip("TIP trials of this FTI category only; bags without "
                                     "TIP always count (they give F)")
        label.setBuddy(self.category_box)
        row.addWidget(label)
        row.addWidget(self.category_box)
        self.search = QLineEdit(bar)
        self.search.setObjectName("operatorSearch")
        self.search.setPlaceholderText("Filter operators…")
        self.search.setAccessibleName("Filter operators")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(220)
        row.addWidget(self.search)
        row.addStretch(1)
        self.busy = QProgressBar(bar)
        self.busy.setObjectName("busyBar")
        self.busy.setRange(0, 0)
        self.busy.setFixedWidth(90)
        self.busy.setFixedHeight(8)
        self.busy.setTextVisible(False)
        self.busy.hide()
        row.addWidget(self.busy)
        self.status = QLabel("", bar)
        self.status.setObjectName("scoresStatus")
        self.status.setStyleSheet(f"color: {MUTED};")
        row.addWidget(self.status)
        self.refresh_button = QPushButton("R&efresh", bar)
        self.refresh_button.setObjectName("refreshScores")
        self.refresh_button.setToolTip("Read the audit log again (F5)")
        self.refresh_button.setShortcut("F5")
        row.addWidget(self.refresh_button)
        return bar

    def _scores_tab(self) -> QWidget:
        page = QWidget(self)
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 8, 0, 0)
        column.setSpacing(8)
        tiles = QHBoxLayout()
        tiles.setSpacing(8)
        self.tiles = {
            "d_prime": Tile("TEAM d\u2032", "sensitivity of the pooled team", page),
            "hit_rate": Tile("TEAM H", "hit rate (log-linear corrected) with its Wilson "
                             "95 % interval", page),
            "false_alarm_rate": Tile("TEAM F", "false-alarm rate with its Wilson interval",
                                     page),
            "a_prime": Tile("TEAM A\u2032", "A\u2032 (Grier 1971)", page),
            "tip": Tile("TIP TRIALS", "bags with an FTI projected / all bags", page),
            "operators": Tile("OPERATORS", "operators with trials; in brackets those with "
                              "fewer than 100 TIP trials", page),
        }
        for tile in self.tiles.values():
            tiles.addWidget(tile, 1)
        column.addLayout(tiles)
        split = QSplitter(Qt.Orientation.Horizontal, page)
        split.setChildrenCollapsible(False)
        self.scores_model = ScoreTableModel(SCORE_COLUMNS, self)
        self.scores_table: QTableView
        self.scores_proxy: ScoreProxy
        self.scores_table, self.scores_proxy = score_view(self.scores_model, split)
        self.scores_table.setAccessibleName("TIP scores per operator")
        split.addWidget(self.scores_table)
        self.scores_chart = ChartPanel("scoresChart", split)
        split.addWidget(self.scores_chart)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([1020, 600])
        column.addWidget(split, 1)
        return page

    def _breakdown_tab(self) -> QWidget:
        page = QWidget(self)
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 8, 0, 0)
        row = QHBoxLayout()
        label = QLabel("Break &down by", page)
        self.breakdown_box = QComboBox(page)
        self.breakdown_box.setObjectName("breakdownBox")
        for text, key, _chart in BREAKDOWNS:
            self.breakdown_box.addItem(text, key)
        label.setBuddy(self.breakdown_box)
        row.addWidget(label)
        row.addWidget(self.breakdown_box)
        note = QLabel("Whole range. Bags without TIP have no category and no "
                      "superposition: F is shared there.", page)
        note.setStyleSheet(f"color: {MUTED};")
        row.addWidget(note, 1)
        column.addLayout(row)
        split = QSplitter(Qt.Orientation.Horizontal, page)
        split.setChildrenCollapsible(False)
        self.breakdown_model = ScoreTableModel(BREAKDOWN_COLUMNS, self)
        self.breakdown_table, self.breakdown_proxy = score_view(
            self.breakdown_model, split, "breakdownTable")
        self.breakdown_table.setAccessibleName("TIP scores broken down")
        split.addWidget(self.breakdown_table)
        self.breakdown_chart = ChartPanel("breakdownChart", split)
        self.breakdown_chart.label.hide()
        self.breakdown_chart.choice.hide()
        split.addWidget(self.breakdown_chart)
        split.setSizes([900, 740])
        column.addWidget(split, 1)
        return page

    def _connect(self) -> None:
        for check, edit in ((self.from_check, self.from_date), (self.to_check, self.to_date)):
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(self.reload)
            edit.dateChanged.connect(self._date_changed)
        self.period_box.currentIndexChanged.connect(self.reload)
        self.category_box.currentIndexChanged.connect(self.reload)
        self.refresh_button.clicked.connect(self.reload)
        self.search.textChanged.connect(self.scores_proxy.setFilterFixedString)
        self.search.textChanged.connect(self.breakdown_proxy.setFilterFixedString)
        self.scores_chart.choice.currentIndexChanged.connect(self.refresh_charts)
        self.breakdown_box.currentIndexChanged.connect(self._show_breakdown)
        self.tabs.currentChanged.connect(self.refresh_charts)
        for panel in (self.scores_chart, self.breakdown_chart):
            panel.chart.resized.connect(self._redraw.start)
        self.data_jobs.finished.connect(self._loaded)
        self.draw_jobs.finished.connect(self._drawn)
        self.data_jobs.progressed.connect(self._progressed)
        self.settings_panel.saved.connect(lambda _s: self.status.setText("TIP settings saved"))
        self.setTabOrder(self.from_check, self.from_date)
        self.setTabOrder(self.from_date, self.to_check)
        self.setTabOrder(self.to_check, self.to_date)
        self.setTabOrder(self.to_date, self.period_box)
        self.setTabOrder(self.period_box, self.category_box)
        self.setTabOrder(self.category_box, self.search)
        self.setTabOrder(self.search, self.refresh_button)
        self.setTabOrder(self.refresh_button, self.tabs)

    # ------------------------------------------------------------------ filters
    def filters(self) -> ReportFilters | None:
        """The filters on screen; None (and the reason shown) when they cannot be used."""
        rows = Period(self.period_box.currentData())
        report_period = next(p for _t, r, p in PERIODS if r is rows)
        category = self.category_box.currentData()
        try:
            filters = ReportFilters(
                first_day=_day(self.from_date) if self.from_check.isChecked() else None,
                last_day=_day(self.to_date) if self.to_check.isChecked() else None,
                categories=(FtiCategory(category),) if category else (),
                period=report_period)
        except TipReportError as error:
            self.show_message("error", error.problem.replace("--to", "To").replace(
                "--from", "From"))
            return None
        self.show_message("", "")
        return filters

    def _date_changed(self) -> None:
        if self.from_check.isChecked() or self.to_check.isChecked():
            self.reload()

    def show_message(self, level: str, text: str) -> None:
        say(self.message, level, text)
        self.message.setVisible(bool(text))

    # ------------------------------------------------------------------ loading
    def reload(self) -> None:
        """Read and score the events for the filters on screen (worker thread)."""
        filters = self.filters()
        if filters is None:
            return
        rows = Period(self.period_box.currentData())
        context = self.context

        def work(progress: Progress) -> Loaded:
            progress(0, 0, "reading and scoring")
            return Loaded(load_report(context, filters), rows)

        self.busy.show()
        self.status.setText("Reading the audit log…")
        self.data_jobs.submit(LOAD, work, drop_stale=True)

    def _progressed(self, progress: JobProgress) -> None:
        if progress.tag == LOAD and self.data_jobs.is_current(progress):
            self.status.setText(progress.label[:1].upper() + progress.label[1:] + "…")

    def _loaded(self, result: JobResult) -> None:
        if not self.data_jobs.running(LOAD):
            self.busy.hide()
        if result.skipped or not self.data_jobs.is_current(result):
            return
        if result.error is not None:
            self.status.setText("")
            text = error_text(result.error)
            self.show_message("error", f"The scores cannot be shown: {text}")
            self.report = None
            self.scores_model.set_rows([])
            self.breakdown_model.set_rows([])
            for panel in (self.scores_chart, self.breakdown_chart):
                panel.chart.set_text("No scores")
            return
        loaded: Loaded = result.value
        self.report = loaded.report
        self.rows_period = loaded.rows_period
        self._show_report()

    def _show_report(self) -> None:
        report = self.report
        assert report is not None
        self.scores_model.set_rows(self.score_rows())
        self.scores_table.setColumnHidden(self.scores_model.columns.index(Column.PERIOD),
                                          self.rows_period is Period.ALL)
        self._fill_tiles(report)
        when = datetime.now().strftime("%H:%M:%S")
        if report.empty:
            self.status.setText(f"No tip.outcome events match · {when}")
        else:
            self.status.setText(f"{report.trials} bags, {report.tip_trials} TIP trials, "
                                f"{len(report.stations)} station"
                                f"{'' if len(report.stations) == 1 else 's'} · read {when}")
        self._charts.clear()
        choice = self.scores_chart.choice
        wanted = self.scores_chart.chosen() or "trend"
        choice.blockSignals(True)
        choice.clear()
        for name in self._score_chart_names(report):
            base = name.split("-")[0]
            suffix = name[len(base):]
            choice.addItem(CHART_TITLES.get(base, base) + (f" (part {suffix[1:]})"
                                                            if suffix else ""), name)
        index = max(0, choice.findData(wanted))
        choice.setCurrentIndex(index)
        choice.blockSignals(False)
        self._show_breakdown()

    @staticmethod
    def _score_chart_names(report: SupervisorReport) -> list[str]:
        if report.empty:
            return []
        names = ["trend"]
        count = len(report.operators_with_data)
        parts = max(1, -(-count // 50))
        for part in range(1, parts + 1):
            suffix = "" if parts == 1 else f"-{part}"
            names.append(f"operators_ranked{suffix}")
            if count > 1:
                names.append(f"operators_by_period{suffix}")
        return names

    def score_rows(self) -> list[ScoreRow]:
        """The Scores table: the team, then each operator, whole range or per period."""
        report = self.report
        if report is None:
            return []
        periods = (ALL,) if self.rows_period is Period.ALL else report.periods
        rows: list[ScoreRow] = []
        for period in periods:
            if report.empty:
                break
            rows.append(ScoreRow(TEAM, period, ALL, Split.NONE.value, ALL,
                                 report.team_card(period=period)))
        for operator in report.operators:
            for period in periods:
                card = report.card(operator, period=period)
                if card is None and period != ALL:
                    continue  # no trial of this operator in this period
                rows.append(ScoreRow(operator, period, ALL, Split.NONE.value, ALL, card))
        return rows

    def breakdown_rows(self) -> list[ScoreRow]:
        """The Breakdown table for the split chosen."""
        report = self.report
        if report is None or report.empty:
            return []
        key = str(self.breakdown_box.currentData())
        rows: list[ScoreRow] = []
        for operator in [TEAM, *report.operators_with_data]:
            if key == "category":
                categories = [c.value for c in FtiCategory if not report.filters.categories
                              or c in report.filters.categories]
                for category in [*categories, ALL]:
                    card = _card(report, operator, category=category)
                    if card is not None:
                        rows.append(ScoreRow(operator, ALL, category, card.split.value,
                                             category, card))
                continue
            split = Split(key)
            for group in report.groups(split):
                card = _card(report, operator, split=split, group=group)
                if card is not None:
                    rows.append(ScoreRow(operator, ALL, ALL, split.value, group, card))
        return rows

    def _show_breakdown(self) -> None:
        self.breakdown_model.set_rows(self.breakdown_rows())
        self.breakdown_table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.refresh_charts()

    def _fill_tiles(self, report: SupervisorReport) -> None:
        team = report.team_card()
        tiles = self.tiles
        if team is None:
            for tile in tiles.values():
                tile.set("\u2013")
            tiles["operators"].set(str(len(report.operators)))
            return
        tiles["d_prime"].set(number(team.d_prime, 2), "#7cc4ff")
        ci = team.hit_rate_ci
        tiles["hit_rate"].set(number(team.hit_rate) if ci is None else
                              f"{number(team.hit_rate)}  [{ci[0]:.2f}\u2013{ci[1]:.2f}]")
        ci = team.false_alarm_rate_ci
        tiles["false_alarm_rate"].set(
            number(team.false_alarm_rate) if ci is None else
            f"{number(team.false_alarm_rate)}  [{ci[0]:.2f}\u2013{ci[1]:.2f}]")
        tiles["a_prime"].set(number(team.a_prime))
        tiles["tip"].set(f"{report.tip_trials} / {report.trials}")
        thin = sum(s.insufficient_data for s in report.summaries())
        tiles["operators"].set(f"{len(report.operators)}  ({thin} thin)" if thin
                               else str(len(report.operators)),
                               AMBER if thin else None)

    # ------------------------------------------------------------------ charts
    def _visible_panels(self) -> list[tuple[ChartPanel, str]]:
        page = self.tabs.currentIndex()
        if page == 0:
            return [(self.scores_chart, self.scores_chart.chosen())]
        if page == 1:
            key = str(self.breakdown_box.currentData())
            chart = next(c for _t, k, c in BREAKDOWNS if k == key)
            return [(self.breakdown_chart, chart)]
        return []

    def refresh_charts(self) -> None:
        """Draw the chart each visible panel should show, at its size (worker thread)."""
        report = self.report
        if report is None or not self.isVisible():
            return
        for panel, name in self._visible_panels():
            tag = CHART_PREFIX + panel.objectName()
            if report.empty or not name:
                panel.chart.set_text("No tip.outcome events match these filters.")
                self._charts[panel.objectName()] = ("", QSize())
                continue
            size = panel.chart.pixel_size()
            shown = self._charts.get(panel.objectName())
            if shown is not None and shown[0] == name and _close(shown[1], size):
                continue
            self._charts[panel.objectName()] = (name, size)
            if panel.chart.image is None or panel.chart.name != name:
                panel.chart.set_text("Drawing the chart…")

            def work(_progress: Progress, report: SupervisorReport = report,
                     name: str = name, size: QSize = size) -> tuple[str, QImage | None]:
                return name, chart_image(report, name, size)

            self.draw_jobs.submit(tag, work, drop_stale=True)

    def _drawn(self, result: JobResult) -> None:
        if not result.tag.startswith(CHART_PREFIX):
            return
        if result.skipped or not self.draw_jobs.is_current(result):
            return
        panel = self.scores_chart if result.tag == CHART_PREFIX + "scoresChart" \
            else self.breakdown_chart
        if result.error is not None:
            panel.chart.set_text(f"The chart cannot be drawn: {result.error}")
            return
        name, image = result.value
        if image is None:
            panel.chart.set_text("This chart needs more than one operator with trials.")
        else:
            panel.chart.set_image(image, name)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._redraw.start()

    # ------------------------------------------------------------------ lifetime
    def busy_jobs(self) -> bool:
        """Whether any work is still under way (tests wait for this to be False)."""
        return any(jobs.busy for jobs in (self.data_jobs, self.draw_jobs, self.audit_jobs))

    def busy_reason(self) -> str | None:
        """Why the supervisor should not log out yet (the shell asks)."""
        if self.audit_jobs.running(SAVE):
            return "the TIP settings are being saved"
        if self.draw_jobs.running(EXPORT):
            return "the TIP report is being exported; wait until it is written"
        return None

    def shortcut_help(self) -> list[tuple[str, str]]:
        """Keys of this view, for the shell's shortcut help."""
        return [("F5", "Read the audit log again"),
                ("Alt+C, Alt+B, Alt+I, Alt+X", "Scores, Breakdown, TIP settings, Export"),
                ("Alt+F, Alt+T", "Limit the days from, to (Space ticks the box)"),
                ("Alt+R, Alt+G", "Rows per period; FTI category"),
                ("Alt+A / Alt+D", "Choose the chart / the breakdown"),
                ("Alt+L", "Save and apply the TIP settings (on their page)"),
                ("Alt+P", "Export the report (on its page)")]

    def shutdown(self, reason: str = "closed") -> None:
        """Stop the worker threads (skip what has not started, stop an export at its next
        step); the shell calls it when the supervisor logs out or the station closes."""
        self._redraw.stop()
        for jobs in (self.data_jobs, self.draw_jobs, self.audit_jobs):
            jobs.shutdown()


def _card(report: SupervisorReport, operator: str, *, category: str = ALL,
          split: Split = Split.NONE, group: str = ALL) -> ScoreCard | None:
    if operator == TEAM:
        return report.team_card(category=category, split=split, group=group)
    return report.card(operator, category=category, split=split, group=group)


def _day(edit: QDateEdit) -> date:
    value = edit.date()
    return date(value.year(), value.month(), value.day())


def _close(a: QSize, b: QSize) -> bool:
    return abs(a.width() - b.width()) < 24 and abs(a.height() - b.height()) < 24


__all__ = ["SupervisorView", "chart_image", "load_report"]
