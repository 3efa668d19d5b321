"""The supervisor's view (issue 7, item 3): the score table against ``score_trials``, the
period and category filters, the charts, the TIP settings (saved by a supervisor, refused
for a screener), the report export off the GUI thread. ``SCREENER_UPDATE_SCREENSHOTS=1``
also writes docs/screenshots/supervisor-view.png."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from screener.accounts.users import Accounts
from screener.audit.log import open_audit_log
from screener.audit.query import events_of_kinds
from screener.config import Settings
from screener.scan.store import ScanStore
from screener.tip.fti import FtiCategory
from screener.tip.report import TEAM
from screener.tip.scoring import KIND_TIP_OUTCOME, Period, ScoringOptions, TipTrial, score_trials
from screener.ui.app import ensure_app
from screener.ui.context import ViewContext
from screener.ui.score_table import Column, interval, number, seconds
from screener.ui.supervisor_view import SupervisorView
from screener.workflow.roles import KIND_AUTH_DENIED, Role
from screener.workflow.session import Operator
from screener.workflow.tip_settings import KIND_TIP_SETTINGS

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
MAX_BYTES = 500 * 1024
STATION = "sup-station"
START = datetime(2025, 3, 3, 7, tzinfo=UTC)  # a Monday
SUPERVISOR = Operator("supervisor1", Role.SUPERVISOR)
PHI = NormalDist().cdf


def synthetic_trials(count: int, seed: int = 3, operators: int = 4) -> list[TipTrial]:
    """Screeners of different skill and workload, a bag every 45 minutes from START."""
    rng = np.random.default_rng(seed)
    names = [f"op-{chr(ord('a') + i)}" for i in range(operators)]
    skill = rng.uniform(0.9, 2.6, operators)
    share = np.sort(rng.dirichlet(np.full(operators, 3.0)))[::-1]
    categories = list(FtiCategory)
    trials = []
    for i in range(count):
        op = int(rng.choice(operators, p=share))
        tip = bool(rng.random() < 0.42)
        clutter = float(rng.beta(2, 3))
        ai = bool(rng.random() < 0.6) if rng.random() < 0.9 else None
        when = START + timedelta(minutes=45 * i)
        if tip:
            category = categories[i % 4]
            superposition = float(rng.beta(2, 2.5))
            d = skill[op] * (1 - 0.5 * superposition) + (0.5 if ai else 0.0)
            suspect = bool(rng.random() < PHI(d / 2))
            marked = suspect and bool(rng.random() < 0.9)
        else:
            category, superposition, marked = None, None, False
            suspect = bool(rng.random() < PHI(-skill[op] / 2))
        trials.append(TipTrial(operator=names[op], time=when, category=category, was_tip=tip,
                               responded_suspect=suspect, region_overlapped=marked,
                               response_ms=float(rng.lognormal(8.0, 0.4)), ai_flagged_fti=ai,
                               superposition=superposition, clutter=clutter))
    return trials


def make_home(home: Path, trials: list[TipTrial], monkeypatch: pytest.MonkeyPatch) -> None:
    """An audit database with the trials as ``tip.outcome`` events at their times."""
    now = {"t": "2025-03-01T00:00:00.000000Z"}
    with monkeypatch.context() as patch:
        patch.setattr("screener.audit.log.utc_now", lambda: now["t"])
        log = open_audit_log(home, STATION, checkpoint_every=1000)
        for trial in trials:
            now["t"] = trial.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            log.append(KIND_TIP_OUTCOME, trial.payload(), actor=trial.operator,
                       role="screener")
        log.close("test data written")


@pytest.fixture
def make_view(qapp, qtbot, tmp_path, monkeypatch):
    ensure_app()
    made = []

    def make(operator: Operator = SUPERVISOR, trials: list[TipTrial] | None = None,
             size: tuple[int, int] = (1500, 860), tab: int = 0) -> SupervisorView:
        """``tab``: the page shown first (2, the settings, draws no chart: faster)."""
        home = tmp_path / f"home-{len(made)}"
        trials = synthetic_trials(360) if trials is None else trials
        make_home(home, trials, monkeypatch)
        settings = Settings(home=home, station=STATION)
        log = open_audit_log(home, STATION, checkpoint_every=1000)
        context = ViewContext(settings, log, Accounts(log), operator,
                              ScanStore(settings.scan_store))
        view = SupervisorView(context)
        view.tabs.setCurrentIndex(tab)
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        made.append(view)
        wait_idle(qtbot, view)
        return view

    yield make
    for view in made:
        view.shutdown()


def wait_idle(qtbot, view: SupervisorView) -> None:
    qtbot.waitUntil(lambda: not view.busy_jobs(), timeout=30_000)


def row_texts(view: SupervisorView, operator: str, period: str = "all") -> dict[str, str]:
    model = view.scores_model
    for row, score in enumerate(model.rows):
        if score.operator == operator and score.period == period:
            return {column.value: model.index(row, i).data()
                    for i, column in enumerate(model.columns)}
    raise AssertionError(f"no row for {operator} {period}")


def expected_texts(card) -> dict[str, str]:
    return {Column.TIP.value: str(card.tip_trials),
            Column.NON_TIP.value: str(card.non_tip_trials), Column.H.value: number(card.hit_rate),
            Column.F.value: number(card.false_alarm_rate),
            Column.H_CI.value: interval(card.hit_rate_ci),
            Column.F_CI.value: interval(card.false_alarm_rate_ci),
            Column.D_PRIME.value: number(card.d_prime, 2),
            Column.A_PRIME.value: number(card.a_prime), Column.C.value: number(card.c, 2),
            Column.RT.value: f"{seconds(card.rt_median_ms)[:-2]} / {seconds(card.rt_p90_ms)}",
            Column.DATA.value: "insufficient" if card.insufficient_data else "ok"}


def events(view: SupervisorView, kind: str) -> list:
    return events_of_kinds(view.context.log.engine, [kind])


def test_the_table_shows_each_operators_scores_for_the_filters(make_view, qtbot):
    trials = synthetic_trials(360)
    view = make_view(trials=trials, tab=2)
    assert view.report is not None and view.report.trials == len(trials)
    whole = score_trials(trials, ScoringOptions(period=Period.ALL))
    for operator in ("op-a", "op-b", "op-c", "op-d"):
        shown = row_texts(view, operator)
        for column, text in expected_texts(whole.card(operator)).items():
            assert shown[column] == text, (operator, column)
    team = score_trials([replace(t, operator=TEAM) for t in trials])
    assert row_texts(view, TEAM)[Column.D_PRIME.value] == number(team.card(TEAM).d_prime, 2)
    assert view.tiles["d_prime"].value.text() == number(team.card(TEAM).d_prime, 2)

    # per ISO week: one row per operator and week
    view.period_box.setCurrentIndex(view.period_box.findData(Period.WEEK.value))
    wait_idle(qtbot, view)
    weekly = score_trials(trials, ScoringOptions(period=Period.WEEK))
    card = weekly.card("op-b", period="2025-W11")
    assert card is not None
    shown = row_texts(view, "op-b", "2025-W11")
    assert shown[Column.PERIOD.value] == "2025-W11"
    assert shown[Column.D_PRIME.value] == number(card.d_prime, 2)
    assert shown[Column.H.value] == number(card.hit_rate)

    # one category: its TIP trials and every bag without TIP
    view.category_box.setCurrentIndex(view.category_box.findData("knife"))
    view.period_box.setCurrentIndex(view.period_box.findData(Period.ALL.value))
    wait_idle(qtbot, view)
    knives = [t for t in trials if not t.was_tip or t.category is FtiCategory.KNIFE]
    card = score_trials(knives).card("op-a")
    shown = row_texts(view, "op-a")
    assert shown[Column.TIP.value] == str(card.tip_trials)
    assert shown[Column.D_PRIME.value] == number(card.d_prime, 2)

    # inclusive UTC days: the first week only
    view.to_date.setDate(datetime(2025, 3, 9).date())
    view.to_check.setChecked(True)
    wait_idle(qtbot, view)
    first_week = [t for t in knives if t.time.date() <= datetime(2025, 3, 9).date()]
    assert view.report is not None and view.report.trials == len(first_week)

    # From after To: refused on screen, nothing read
    view.from_date.setDate(datetime(2025, 3, 20).date())
    view.from_check.setChecked(True)
    assert "after" in view.message.text() and view.message.isVisible()


def test_sorting_the_breakdown_and_the_charts(make_view, qtbot):
    view = make_view()
    table = view.scores_table
    d_column = view.scores_model.columns.index(Column.D_PRIME)
    table.sortByColumn(d_column, Qt.SortOrder.DescendingOrder)
    proxy = view.scores_proxy
    values = [float(proxy.index(r, d_column).data()) for r in range(proxy.rowCount())]
    assert values == sorted(values, reverse=True)
    view.search.setText("op-c")
    operators = {proxy.index(r, 0).data() for r in range(proxy.rowCount())}
    assert operators == {"Team (pooled)", "op-c"}
    view.search.clear()

    qtbot.waitUntil(lambda: view.scores_chart.chart.image is not None, timeout=30_000)
    assert view.scores_chart.chart.name == "trend"
    view.tabs.setCurrentIndex(1)
    view.breakdown_box.setCurrentIndex(1)  # screener alone vs + AI
    groups = {row.group for row in view.breakdown_model.rows}
    assert groups == {"screener_alone", "screener_plus_ai"}
    qtbot.waitUntil(lambda: view.breakdown_chart.chart.name == "ai_assistance", timeout=30_000)
    view.breakdown_box.setCurrentIndex(0)
    categories = {row.group for row in view.breakdown_model.rows if row.operator == "op-a"}
    assert categories == {"gun", "knife", "ied", "other", "all"}
    wait_idle(qtbot, view)


def test_a_supervisor_changes_the_tip_settings(make_view, qtbot):
    view = make_view(trials=synthetic_trials(40), tab=2)
    panel = view.settings_panel
    view.tabs.setCurrentWidget(panel)
    assert "built-in default" in panel.version_label.text()

    panel.min_rate.setValue(6.0)
    panel.max_rate.setValue(4.0)
    assert panel.error_labels["min_rate"].isVisible()
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert not events(view, KIND_TIP_SETTINGS)
    panel.min_rate.setValue(1.5)
    assert not panel.error_labels["min_rate"].isVisible()
    for box in panel.weights.values():
        box.setValue(0.0)
    assert panel.error_labels["weights"].isVisible()
    panel.weights[FtiCategory.GUN].setValue(2.0)
    panel.weights[FtiCategory.KNIFE].setValue(1.0)
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "version 1" in panel.version_label.text(), timeout=10_000)
    (event,) = events(view, KIND_TIP_SETTINGS)
    assert (event.actor, event.role) == ("supervisor1", "supervisor")
    saved = json.loads(event.payload)["settings"]
    assert (saved["min_rate"], saved["max_rate"]) == (0.015, 0.04)
    assert saved["weights"] == {"gun": 2.0, "knife": 1.0, "ied": 0.0, "other": 0.0}
    assert "supervisor1" in panel.version_label.text()
    assert panel.history_tree.topLevelItemCount() == 1

    panel.max_rate.setValue(5.0)  # a second change: version 2, the form shows it
    panel.save()
    qtbot.waitUntil(lambda: "version 2" in panel.version_label.text(), timeout=10_000)
    assert panel.history_tree.topLevelItemCount() == 2
    assert panel.max_rate.value() == pytest.approx(5.0)
    wait_idle(qtbot, view)


def test_a_screener_cannot_change_the_settings_or_read_scores(make_view, qtbot):
    screener = Operator("screener1", Role.SCREENER)
    view = make_view(operator=screener, trials=synthetic_trials(40), tab=2)
    assert "may not" in view.message.text()
    assert view.scores_model.rowCount() == 0
    panel = view.settings_panel
    panel.min_rate.setValue(1.0)
    panel.save()
    qtbot.waitUntil(lambda: "Refused" in panel.message.text(), timeout=10_000)
    assert not events(view, KIND_TIP_SETTINGS)
    denied = [json.loads(e.payload)["action"] for e in events(view, KIND_AUTH_DENIED)]
    assert denied == ["scores.view", "tip.configure"]
    assert all(e.actor == "screener1" for e in events(view, KIND_AUTH_DENIED))


def test_export_writes_the_report_files(make_view, qtbot, tmp_path):
    view = make_view(tab=3)
    panel = view.export_panel
    view.tabs.setCurrentWidget(panel)
    out = tmp_path / "report"
    panel.folder.setText(str(out))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert not panel.export_button.isEnabled()  # the work is on a worker thread
    assert "exported" in (view.busy_reason() or "")  # the shell holds the logout
    qtbot.waitUntil(lambda: panel.files.count() > 0, timeout=60_000)
    names = {Path(panel.files.item(i).text()).name for i in range(panel.files.count())}
    assert {"score_cards.csv", "team_score_cards.csv", "operator_summary.csv", "trend.png",
            "tip_report.pdf"} <= names
    assert all((out / name).is_file() for name in names)
    assert panel.progress.value() == panel.progress.maximum()
    assert "Wrote" in panel.status.text()

    panel.folder.setText(str(out / "score_cards.csv" / "inside"))  # a file on the way
    panel.export()
    qtbot.waitUntil(lambda: panel.export_button.isEnabled(), timeout=10_000)
    assert "Not exported" in panel.status.text()


def test_screenshot_of_the_supervisor_view(make_view, qtbot, tmp_path):
    update = os.environ.get("SCREENER_UPDATE_SCREENSHOTS") == "1"
    trials = synthetic_trials(1500 if update else 400, seed=5, operators=11)
    view = make_view(trials=trials, size=(1600, 900))
    view.scores_table.sortByColumn(view.scores_model.columns.index(Column.D_PRIME),
                                   Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: view.scores_chart.chart.name == "trend", timeout=30_000)
    wait_idle(qtbot, view)
    image = view.grab().toImage()
    out = tmp_path / "supervisor-view.png"
    assert image.save(str(out), "PNG", 0)
    if update:
        DOCS.mkdir(parents=True, exist_ok=True)
        target = DOCS / "supervisor-view.png"
        small = image.convertToFormat(QImage.Format.Format_Indexed8,
                                      Qt.ImageConversionFlag.DiffuseDither)
        assert small.save(str(target), "PNG", 0)
        assert target.stat().st_size < MAX_BYTES, "screenshot too large for the docs"
