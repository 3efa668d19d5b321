"""The supervisor's TIP report (``screener tip report``): the numbers in its CSV files
against a hand computation on a small known event set, the operator, day and category
filters, the PDF's pages, the command's errors. The events are written through the real
AuditLog (its clock set to each event's time), so they form valid chains."""

from __future__ import annotations

import ast
import contextlib
import csv
import io
import math
import re
from datetime import date, datetime
from pathlib import Path
from statistics import NormalDist

import pytest
from conftest import SCREENER_VARIABLES

from screener.audit.database import create_audit_engine
from screener.audit.log import open_audit_log
from screener.audit.query import events_of_kind_between
from screener.audit.verify import verify_database
from screener.tip.fti import FtiCategory
from screener.tip.report import (
    CARD_COLUMNS,
    CARDS_CSV,
    SUMMARY_CSV,
    TEAM_CARDS_CSV,
    ReportData,
    ReportFilters,
    TipReportError,
    build_report,
    card_row,
    read_report_data,
    write_csv_files,
)
from screener.tip.report_charts import chart_plan
from screener.tip.report_files import PDF_NAME, report_steps, write_report
from screener.tip.report_pdf import page_count
from screener.tip.scoring import (
    KIND_TIP_OUTCOME,
    Period,
    ScoringOptions,
    TipTrial,
    score_trials,
)

Z = NormalDist().inv_cdf(0.975)
GUN, KNIFE, IED, OTHER = FtiCategory.GUN, FtiCategory.KNIFE, FtiCategory.IED, FtiCategory.OTHER
ROOT = Path(__file__).resolve().parents[1]


def tip(op, category, result, when, rt, ai=None):
    """A TIP trial: result is hit, miss (cleared) or mislocated (suspect, no mark)."""
    return TipTrial(operator=op, time=_time(when), category=category, was_tip=True,
                    responded_suspect=result != "miss", region_overlapped=result == "hit",
                    response_ms=rt, ai_flagged_fti=ai, superposition=0.2, clutter=0.3)


def bag(op, suspect, when, ai=None):
    return TipTrial(operator=op, time=_time(when), category=None, was_tip=False,
                    responded_suspect=suspect, region_overlapped=False, response_ms=700.0,
                    ai_flagged_fti=ai, superposition=None, clutter=0.3)


def _time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# (station, trial). op-a: 7 TIP trials (4 hits, 1 of the 3 misses mislocated), 6 bags
# without TIP (1 false alarm). Two of op-a's events sit on the very edges of 2025-03-10.
EVENTS = [
    ("lane-1", tip("op-a", GUN, "hit", "2025-03-03T08:00:00.000000Z", 1000.0)),
    ("lane-1", tip("op-a", GUN, "hit", "2025-03-03T08:01:00.000000Z", 1200.0, ai=True)),
    ("lane-1", tip("op-a", KNIFE, "miss", "2025-03-03T08:02:00.000000Z", 1400.0)),
    ("lane-1", tip("op-a", KNIFE, "mislocated", "2025-03-03T08:03:00.000000Z", 1600.0)),
    ("lane-1", tip("op-a", IED, "hit", "2025-03-03T08:04:00.000000Z", 1800.0, ai=True)),
    ("lane-1", bag("op-a", True, "2025-03-03T08:05:00.000000Z")),
    ("lane-1", bag("op-a", False, "2025-03-03T08:06:00.000000Z")),
    ("lane-1", bag("op-a", False, "2025-03-03T08:07:00.000000Z")),
    ("lane-1", bag("op-a", False, "2025-03-03T08:08:00.000000Z")),
    ("lane-2", tip("op-b", KNIFE, "hit", "2025-03-04T09:00:00.000000Z", 900.0)),
    ("lane-2", tip("op-b", KNIFE, "miss", "2025-03-04T09:01:00.000000Z", 950.0)),
    ("lane-2", bag("op-b", True, "2025-03-04T09:02:00.000000Z")),
    ("lane-2", bag("op-b", False, "2025-03-04T09:03:00.000000Z")),
    ("lane-2", tip("op-a", GUN, "miss", "2025-03-10T00:00:00.000000Z", 2000.0)),
    ("lane-2", bag("op-a", False, "2025-03-10T12:00:00.000000Z")),
    ("lane-2", bag("op-a", False, "2025-03-10T12:01:00.000000Z")),
    ("lane-2", tip("op-a", OTHER, "hit", "2025-03-10T23:59:59.999999Z", 2200.0)),
    ("lane-1", tip("op-b", GUN, "hit", "2025-03-11T00:00:00.000000Z", 1100.0)),
    ("lane-1", bag("op-b", False, "2025-03-11T00:01:00.000000Z")),
    ("lane-1", tip("op-c", GUN, "hit", "2025-03-20T10:00:00.000000Z", 1300.0)),
    ("lane-1", bag("op-c", True, "2025-03-20T10:01:00.000000Z")),
]
TRIALS = [trial for _, trial in EVENTS]


class Clock:
    """Stands in for the audit log's clock: every event gets the time it is given."""

    def __init__(self):
        self.now = "2025-03-01T00:00:00.000000Z"

    def __call__(self):
        return self.now


def write_events(home, events, *, other_kinds=True):
    clock = Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("screener.audit.log.utc_now", clock)
        logs = {station: open_audit_log(home, station, checkpoint_every=1000)
                for station in sorted({s for s, _ in events})}
        for station, trial in sorted(events, key=lambda e: e[1].time):
            clock.now = trial.time.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            logs[station].append(KIND_TIP_OUTCOME, trial.payload(), actor=trial.operator,
                                 role="screener")
            if other_kinds:  # another kind naming the operator: never read as a trial
                logs[station].append("tip.scheduled", {"operator": trial.operator,
                                                       "projected": trial.was_tip})
        for log in logs.values():
            log.close("test data written")
    return f"sqlite:///{home / 'audit.sqlite'}"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return write_events(tmp_path_factory.mktemp("audit") / "home", EVENTS)


@pytest.fixture(scope="module")
def command_run(database, tmp_path_factory):
    """``screener tip report`` run once (charts take a second or two) for the tests that
    read its files: every operator with an event, and one without ('ghost'); the days
    cover every event. Returns (folder, stdout, stderr)."""
    from screener.cli import main

    out = tmp_path_factory.mktemp("report") / "out"
    home = tmp_path_factory.mktemp("home")
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(stderr):
        patch.setenv("HOME", str(home))
        for name in SCREENER_VARIABLES:
            patch.delenv(name, raising=False)
        code = main(["--home", str(home), "tip", "report", "--db", database, "--out",
                     str(out), "--operator", "op-a", "op-b", "--operator", "op-c", "ghost",
                     "--from", "2025-03-03", "--to", "2025-03-20"])
    assert code == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def full_report(command_run):
    return command_run[0]


def rows(path):
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def number(cell):
    return None if cell == "" else float(cell)


def wilson(x, n):
    centre = (x + Z * Z / 2) / (n + Z * Z)
    half = Z / (n + Z * Z) * math.sqrt(x * (n - x) / n + Z * Z / 4)
    return centre - half, centre + half


def expected_scores(hits, tip_n, false_alarms, nontip_n):
    """The measures from docs/tip-scoring.md, computed here without screener.tip.sdt."""
    z = NormalDist().inv_cdf
    h, f = (hits + 0.5) / (tip_n + 1), (false_alarms + 0.5) / (nontip_n + 1)
    a = 0.5 + (h - f) * (1 + h - f) / (4 * h * (1 - f)) if h >= f else \
        0.5 - (f - h) * (1 + f - h) / (4 * f * (1 - h))
    return {"hit_rate": h, "false_alarm_rate": f, "d_prime": z(h) - z(f),
            "c": -(z(h) + z(f)) / 2, "a_prime": a}


def quantile(values, q):
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def pdf_pages(path):
    return len(re.findall(rb"/Type\s*/Page\b", path.read_bytes()))


def library_report(database, **filters):
    engine = create_audit_engine(database, create=False)
    try:
        chosen = ReportFilters(**filters)
        data = read_report_data(engine, chosen)
    finally:
        engine.dispose()
    return data, build_report(data, chosen)


# ---------------------------------------------------------------------------- numbers


def test_the_test_data_is_a_valid_chain(database):
    engine = create_audit_engine(database, create=False)
    try:
        reports = verify_database(engine)
    finally:
        engine.dispose()
    assert [r.station for r in reports] == ["lane-1", "lane-2"]
    assert all(r.ok for r in reports)


def test_operator_summary_equals_a_hand_computation(full_report):
    summary = {row["operator"]: row for row in rows(full_report / SUMMARY_CSV)}
    assert list(summary) == ["op-a", "op-b", "op-c", "ghost"]  # as selected
    a = summary["op-a"]
    assert (a["tip_trials"], a["non_tip_trials"], a["hits"], a["misses"], a["mislocated"],
            a["false_alarms"], a["correct_rejections"]) == ("7", "6", "4", "3", "1", "1", "5")
    for name, value in expected_scores(4, 7, 1, 6).items():
        assert number(a[name]) == pytest.approx(value, abs=1e-12), name
    for (low, high), prefix in ((wilson(4, 7), "hit_rate_ci"),
                                (wilson(1, 6), "false_alarm_rate_ci")):
        assert number(a[f"{prefix}_low"]) == pytest.approx(low, abs=1e-12)
        assert number(a[f"{prefix}_high"]) == pytest.approx(high, abs=1e-12)
    times = [1000.0, 1200.0, 1400.0, 1600.0, 1800.0, 2000.0, 2200.0]
    assert number(a["rt_median_ms"]) == 1600.0
    assert number(a["rt_p90_ms"]) == pytest.approx(quantile(times, 0.9))  # 2080
    assert a["insufficient_data"] == "true"
    b = summary["op-b"]
    assert (b["tip_trials"], b["hits"], b["false_alarms"]) == ("3", "2", "1")
    assert number(b["d_prime"]) == pytest.approx(expected_scores(2, 3, 1, 3)["d_prime"])


def test_score_cards_hold_every_card_with_full_precision(full_report):
    cards = rows(full_report / CARDS_CSV)
    assert tuple(cards[0]) == CARD_COLUMNS
    expected = [*score_trials(TRIALS).cards,
                *score_trials(TRIALS, ScoringOptions(period=Period.WEEK)).cards]
    assert len(cards) == len(expected)
    for row, card in zip(cards, expected, strict=True):
        for name, value in card_row(card).items():
            if isinstance(value, bool):
                assert row[name] == str(value).lower()
            elif isinstance(value, float):
                assert float(row[name]) == value, name  # repr: every digit
            else:
                assert row[name] == ("" if value is None else str(value)), name
    (knives,) = [r for r in cards if (r["operator"], r["period"], r["category"], r["split"])
                 == ("op-a", "2025-W10", "knife", "none")]
    assert (knives["hits"], knives["misses"], knives["mislocated"], knives["false_alarms"],
            knives["correct_rejections"]) == ("0", "2", "1", "1", "3")


def test_team_cards_pool_every_operator(full_report):
    team = {(r["period"], r["category"], r["split"], r["group"]): r
            for r in rows(full_report / TEAM_CARDS_CSV)}
    overall = team[("all", "all", "none", "all")]
    assert overall["operator"] == "team"
    assert (overall["tip_trials"], overall["hits"], overall["non_tip_trials"],
            overall["false_alarms"]) == ("11", "7", "10", "3")
    assert number(overall["d_prime"]) == pytest.approx(expected_scores(7, 11, 3, 10)["d_prime"])
    assert team[("2025-W11", "all", "none", "all")]["tip_trials"] == "3"


def test_charts_and_pdf(full_report):
    charts = sorted(p.name for p in full_report.glob("*.png"))
    assert charts == ["ai_assistance.png", "categories.png", "difficulty.png",
                      "operators_by_period.png", "operators_ranked.png", "trend.png"]
    for path in full_report.glob("*.png"):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = full_report / PDF_NAME
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert pdf_pages(pdf) == 1 + 6 + 1  # title, the charts, one table page


# ---------------------------------------------------------------------------- filters


def test_operator_filter(database, tmp_path):
    data, report = library_report(database, operators=("op-b",))
    assert {t.operator for t in data.trials} == {"op-b"}
    assert len(data.trials) == 6 and data.stations == ("lane-1", "lane-2")
    write_csv_files(report, tmp_path)
    assert {r["operator"] for r in rows(tmp_path / CARDS_CSV)} == {"op-b"}
    (summary,) = rows(tmp_path / SUMMARY_CSV)
    assert (summary["operator"], summary["tip_trials"]) == ("op-b", "3")


def test_operator_filter_is_exact(database):
    """SQLite's LIKE ignores case; the report must not."""
    data, _ = library_report(database, operators=("OP-A",))
    assert data.events_read > 0 and data.trials == ()


def test_days_are_inclusive_utc_days(database):
    data, report = library_report(database, first_day=date(2025, 3, 10),
                                  last_day=date(2025, 3, 10))
    assert sorted(t.time.isoformat() for t in data.trials if t.was_tip) == \
        ["2025-03-10T00:00:00+00:00", "2025-03-10T23:59:59.999999+00:00"]
    assert {t.operator for t in data.trials} == {"op-a"}  # op-b's 03-11 00:00 is out
    assert report.card("op-a").tip_trials == 2 and report.card("op-a").hits == 1
    data, _ = library_report(database, first_day=date(2025, 3, 4), last_day=date(2025, 3, 11))
    assert {t.time.date() for t in data.trials} == \
        {date(2025, 3, 4), date(2025, 3, 10), date(2025, 3, 11)}


def test_category_filter_keeps_the_bags_without_tip(database):
    _, report = library_report(database, operators=("op-a",), categories=(GUN,))
    card = report.card("op-a")
    assert (card.tip_trials, card.hits, card.non_tip_trials, card.false_alarms) == (3, 2, 6, 1)
    assert card.hit_rate == pytest.approx(2.5 / 4)
    assert {c.category for c in report.overall.cards} == {"all", "gun"}


def test_sql_filter_by_time_and_payload(database):
    engine = create_audit_engine(database, create=False)
    try:
        events = events_of_kind_between(engine, KIND_TIP_OUTCOME, since="2025-03-10",
                                        before="2025-03-11",
                                        payload_contains=['"operator":"op-a"'])
        assert len(events) == 4 and {e.station for e in events} == {"lane-2"}
        assert events_of_kind_between(engine, KIND_TIP_OUTCOME,
                                      payload_contains=['"operator":"op-%"']) == []
        assert len(events_of_kind_between(engine, KIND_TIP_OUTCOME)) == len(EVENTS)
    finally:
        engine.dispose()


def test_reversed_days_are_refused():
    with pytest.raises(TipReportError) as caught:
        ReportFilters(first_day=date(2025, 3, 2), last_day=date(2025, 3, 1))
    assert caught.value.field == "--from"


def test_card_columns_follow_score_card_as_dict():
    (card, *_) = score_trials(TRIALS).cards
    assert tuple(card_row(card)) == CARD_COLUMNS


def test_progress_steps_match_the_calls(tmp_path):
    nothing = ReportData(trials=(), stations=(), database="sqlite://", events_read=0)
    report = build_report(nothing, ReportFilters(operators=("ghost",)))
    calls = []
    written = write_report(report, tmp_path, calls.append)
    assert len(calls) == report_steps(report) == 1 + page_count(report, 0) == 3
    assert [p.name for p in written] == [CARDS_CSV, TEAM_CARDS_CSV, SUMMARY_CSV, PDF_NAME]
    assert chart_plan(report) == []


def test_report_modules_never_import_pyplot():
    for path in (ROOT / "screener" / "tip").glob("report*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names]
        names += [f"{node.module}.{alias.name}" for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) for alias in node.names]
        assert not [n for n in names if "pyplot" in n or n.startswith("matplotlib.use")], path


# ---------------------------------------------------------------------------- command


def test_command_end_to_end(command_run):
    out, stdout, stderr = command_run
    assert "note: operator 'ghost' has no tip.outcome event in the range" in stderr
    assert f"wrote {out / PDF_NAME}, 6 charts and 3 CSV files" in stdout
    assert "21 bags (11 TIP trials) of 4 operators from 2 stations" in stdout
    ghost = rows(out / SUMMARY_CSV)[-1]
    assert (ghost["operator"], ghost["tip_trials"], ghost["insufficient_data"],
            ghost["hit_rate"]) == ("ghost", "0", "true", "")
    assert {r["operator"] for r in rows(out / CARDS_CSV)} == {"op-a", "op-b", "op-c"}


def test_period_by_day(database):
    _, report = library_report(database, operators=("op-a",), period=Period.DAY)
    assert report.periods == ("2025-03-03", "2025-03-10")
    assert report.card("op-a", period="2025-03-10").tip_trials == 2
    assert len(chart_plan(report)) == 5  # one operator with data: no heat map


def test_no_matching_events_gives_a_report_that_says_so(isolated_cli, database, tmp_path):
    out = tmp_path / "empty"
    code, stdout, stderr = isolated_cli("tip", "report", "--db", database, "--out", out,
                                        "--from", "2026-01-01")
    assert code == 0
    assert "note: no tip.outcome events match the filters" in stderr
    assert "0 bags" in stdout
    assert len(rows(out / CARDS_CSV)) == 0 and len(rows(out / SUMMARY_CSV)) == 0
    assert (out / CARDS_CSV).read_text().startswith("operator,period,category,split,group")
    assert not list(out.glob("*.png"))
    assert pdf_pages(out / PDF_NAME) == 1


@pytest.mark.parametrize(("arguments", "field"), [
    (["--from", "2025-03-05", "--to", "2025-03-01"], "--from"),
    (["--from", "2025-13-01"], "--from"),
    (["--to", "yesterday"], "--to"),
    (["--operator", " "], "--operator"),
])
def test_bad_input_is_a_clear_error(isolated_cli, database, tmp_path, arguments, field):
    code, _, stderr = isolated_cli("tip", "report", "--db", database, "--out",
                                   tmp_path / "out", *arguments)
    assert code == 2
    assert stderr.startswith(f"screener: error: TIP report: {field}: ")
    assert "Traceback" not in stderr
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_unwritable_out_and_missing_database(isolated_cli, database, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for out, problem in ((blocker, "is a file, not a folder"),
                         (blocker / "sub", "cannot be created")):
        code, _, stderr = isolated_cli("tip", "report", "--db", database, "--out", out)
        assert code == 2
        assert f"TIP report: --out: {out} {problem}" in stderr
    missing = tmp_path / "nowhere.sqlite"
    code, _, stderr = isolated_cli("tip", "report", "--db", f"sqlite:///{missing}",
                                   "--out", tmp_path / "out")
    assert code == 2
    assert f"TIP report: --db: {missing}: no such audit database file" in stderr
    code, _, stderr = isolated_cli("tip", "report", "--out", tmp_path / "out")
    assert code == 2 and "no such audit database file" in stderr  # the station's default
    assert not (tmp_path / "out").exists()  # refused before anything is written


def test_malformed_event_names_the_field(isolated_cli, tmp_path):
    home = tmp_path / "audit-home"
    log = open_audit_log(home, "lane-9")
    log.append(KIND_TIP_OUTCOME, {"operator": "op-x", "tip": "yes", "outcome": "hit"})
    log.close()
    code, _, stderr = isolated_cli("tip", "report", "--db",
                                   f"sqlite:///{home / 'audit.sqlite'}", "--out",
                                   tmp_path / "out")
    assert code == 2
    assert "lane-9#2" in stderr and "field 'tip'" in stderr


def test_naive_and_aware_times_agree():
    """A trial's day is its UTC day whatever zone its time was written in."""
    filters = ReportFilters(first_day=date(2025, 3, 10), last_day=date(2025, 3, 10))
    late = tip("op-a", GUN, "hit", "2025-03-11T00:30:00+01:00", 1.0)  # 23:30 UTC on 03-10
    assert filters.keeps(late)
    assert filters.keeps(tip("op-a", GUN, "hit", "2025-03-10T23:30:00", 1.0))
    assert not filters.keeps(tip("op-a", GUN, "hit", "2025-03-11T00:30:00", 1.0))
