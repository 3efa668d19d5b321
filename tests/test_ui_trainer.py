"""The trainer's view (issue 7, item 4): the FTI library browser, building a blind test,
a trainee taking it from the keyboard (their own password; a wrong one refused), the
result in the results list and its certificate. ``SCREENER_UPDATE_SCREENSHOTS=1`` also
writes docs/screenshots/trainer-view.png."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage

from screener.accounts.users import KIND_LOGIN_FAILED, Accounts
from screener.audit.log import open_audit_log
from screener.audit.query import events_of_kinds
from screener.config import Settings
from screener.scan.store import ScanStore
from screener.tip.build import BuildSettings, build_library
from screener.tip.fti import FtiCategory
from screener.ui.app import ensure_app
from screener.ui.context import ViewContext
from screener.ui.trainer_view import TrainerView
from screener.workflow.blind_tests import KIND_BLIND_COMPLETED, KIND_BLIND_STARTED
from screener.workflow.roles import Role
from screener.workflow.session import KIND_DECISION, Operator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
MAX_BYTES = 500 * 1024
STATION = "training-room"
TRAINER = Operator("trainer1", Role.TRAINER)


@pytest.fixture(scope="module")
def library_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fti") / "library.h5"
    build_library(path, BuildSettings(articles=4, orientations=2, seed=1, added="2026-01-15"),
                  jobs=1)
    return path


@pytest.fixture
def make_view(qapp, qtbot, tmp_path, library_path):
    ensure_app()
    made = []

    def make(size: tuple[int, int] = (1500, 860)) -> TrainerView:
        home = tmp_path / f"home-{len(made)}"
        settings = Settings(home=home, station=STATION)
        log = open_audit_log(home, STATION, checkpoint_every=1000)
        accounts = Accounts(log)
        accounts.seed_demo_users()  # screener1 / screener-demo among them
        context = ViewContext(settings, log, accounts, TRAINER,
                              ScanStore(settings.scan_store), tip_library=library_path)
        view = TrainerView(context)
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        view.activateWindow()
        qtbot.waitExposed(view)
        made.append(view)
        qtbot.waitUntil(lambda: view.library_page.model.rowCount() == 8, timeout=20_000)
        wait_idle(qtbot, view)
        return view

    yield make
    for view in made:
        view.shutdown()


def wait_idle(qtbot, view: TrainerView, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: not view.busy_jobs(), timeout=timeout)


def events(view: TrainerView, kind: str) -> list:
    return events_of_kinds(view.context.log.engine, [kind])


def fti_corners(run, canvas) -> tuple[QPoint, QPoint]:
    """Where the FTI lies in the canvas, in widget pixels (the test peeks at the
    projection; the trainee sees only the image)."""
    shown = run.sitting.session.on_screen
    placed = next(p for p in shown.tip.projection.projections
                  if p.view.name == canvas.view_name)
    x0, y0, x1, y1 = placed.box
    a = canvas.to_screen(QPointF(x0, y0)).toPoint()
    b = canvas.to_screen(QPointF(x1, y1)).toPoint()
    return a - QPoint(2, 2), b + QPoint(2, 2)


def test_the_library_browser_lists_filters_and_previews(make_view, qtbot):
    view = make_view()
    page = view.library_page
    assert page.count.text() == "8 images"
    first = page.proxy.index(0, 0).data()
    assert first == "sim1-a0000-handgun-o00"
    row = {page.model.headerData(c, Qt.Orientation.Horizontal): page.proxy.index(0, c).data()
           for c in range(page.model.columnCount())}
    assert (row["Category"], row["Subcategory"], row["Article"], row["Added"]) == \
        ("gun", "handgun", "sim1-a0000-handgun", "2026-01-15")
    qtbot.waitUntil(lambda: page.canvas.image_key == (first, "standard"), timeout=10_000)

    page.category.setCurrentIndex(page.category.findData(FtiCategory.KNIFE.value))
    knives = [page.proxy.index(r, 1).data() for r in range(page.proxy.rowCount())]
    assert knives == ["knife", "knife"] and page.count.text() == "2 of 8 images"
    page.table.selectRow(1)
    chosen = page.selected_id()
    assert chosen is not None and "knife" in chosen
    qtbot.waitUntil(lambda: page.canvas.image_key == (chosen, "standard"), timeout=10_000)
    page.function.setCurrentIndex(page.function.findData("metal-only"))
    qtbot.waitUntil(lambda: page.canvas.image_key == (chosen, "metal-only"), timeout=10_000)
    page.category.setCurrentIndex(0)
    page.search.setText("o01")
    assert page.proxy.rowCount() == 4

    summary = page.compliance.toPlainText()
    assert "NOT COMPLIANT" in summary and "images 8 < 6000" in summary
    assert page.report is not None and page.report.images == 8
    wait_idle(qtbot, view)


def test_a_blind_test_is_built_taken_from_the_keyboard_and_certified(make_view, qtbot,
                                                                    tmp_path):
    view = make_view()
    builder = view.builder_page
    view.tabs.setCurrentWidget(builder)
    builder.name.setText("Level 1")
    builder.trials.setValue(4)
    builder.prevalence.setValue(50.0)
    builder.weights[FtiCategory.IED].setValue(0.0)
    builder.time_limit.setValue(10.0)
    builder.pass_d.setValue(1.0)
    builder.pass_a.setValue(0.7)
    builder.simulated.setValue(2)
    out = tmp_path / "tests" / "level-1.json"
    builder.out.setText(str(out))
    builder.prevalence.setValue(99.0)  # 4 images at 99 %: no image without an FTI
    assert builder.error_labels["prevalence"].isVisible()
    builder.prevalence.setValue(50.0)
    assert not builder.error_labels["prevalence"].isVisible()
    qtbot.mouseClick(builder.build_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: out.is_file() and builder.build_button.isEnabled(),
                    timeout=60_000)
    assert "Wrote" in builder.status.text()
    test = json.loads(out.read_text())
    assert test["spec"]["name"] == "Level 1" and len(test["trials"]) == 4
    tips = [t["fti_id"] is not None for t in test["trials"]]
    assert sum(tips) == 2

    setup = view.setup_page  # the new test is chosen there
    view.tabs.setCurrentWidget(setup)
    qtbot.waitUntil(lambda: setup.test is not None, timeout=10_000)
    assert "Level 1" in setup.summary.text()
    qtbot.waitUntil(lambda: setup.trainee.findText("screener1") >= 0, timeout=10_000)
    setup.trainee.setEditText("screener1")
    qtbot.mouseClick(setup.start_button, Qt.MouseButton.LeftButton)
    dialog = view.login
    assert dialog is not None and dialog.isVisible()

    # a trainer cannot start the test without the trainee's own password
    qtbot.keyClicks(dialog.password, "not-the-password")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=10_000)
    assert "wrong password" in dialog.error.text()
    assert view.stack.currentWidget() is view.tabs
    assert not events(view, KIND_BLIND_STARTED)
    failed = [json.loads(e.payload) for e in events(view, KIND_LOGIN_FAILED)]
    assert [f["user"] for f in failed] == ["screener1"]

    run = view.run_page
    now = [1000.0]
    run.clock = lambda: now[0]  # the countdown's clock, moved by hand below
    qtbot.keyClicks(dialog.password, "screener-demo")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is run and run.accepting,
                    timeout=20_000)
    assert view.login is None or not view.login.isVisible()
    assert "under way" in (view.busy_reason() or "")  # no logout in the middle of it
    (started,) = events(view, KIND_BLIND_STARTED)
    assert (started.actor, json.loads(started.payload)["trainee"]) == ("trainer1", "screener1")

    timed_out = None
    for number in range(1, 5):
        qtbot.waitUntil(lambda n=number: run.accepting
                        and run.counter.text() == f"Image {n} of 4", timeout=20_000)
        assert run.countdown.text() == "10.0 s"
        assert run.sitting is not None and run.sitting.current is not None
        canvas = run.canvases[0]
        if run.sitting.current.is_tip:  # drag a mark around the FTI, then S
            near, far = fti_corners(run, canvas)
            qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=near)
            qtbot.mouseMove(canvas, far)
            qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=far)
            assert len(run.marks()) == 1
            now[0] += 2.0
            qtbot.keyClick(run.focusWidget() or canvas, Qt.Key.Key_S)
        elif timed_out is None:  # the time runs out: counted as cleared
            timed_out = number
            now[0] += 10.5
            run.tick()
            assert not run.accepting
        else:
            now[0] += 1.5
            qtbot.keyClick(run.focusWidget() or canvas, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: run.stack.currentWidget() is run.result_panel, timeout=20_000)

    (completed,) = events(view, KIND_BLIND_COMPLETED)
    result = json.loads(completed.payload)
    assert (result["trainee"], result["trials"], result["hits"], result["misses"],
            result["false_alarms"], result["correct_rejections"], result["timeouts"]) == \
        ("screener1", 4, 2, 0, 0, 2, 1)
    assert run.verdict.text() == ("PASSED" if result["passed"] else "NOT PASSED")
    decisions = [json.loads(e.payload) for e in events(view, KIND_DECISION)]
    assert [d.get("timed_out", False) for d in decisions] == \
        [n == timed_out for n in range(1, 5)]
    assert [d["response_ms"] for d in decisions if d.get("timed_out")] == [10_000]
    assert all(d["response_ms"] in (1500, 2000) for d in decisions if not d.get("timed_out"))

    assert view.busy_reason() is None
    assert ("Space, C", "Blind test: clear the image") in view.shortcut_help()
    qtbot.mouseClick(run.done_button, Qt.MouseButton.LeftButton)
    results = view.results_page
    assert view.stack.currentWidget() is view.tabs and view.tabs.currentWidget() is results
    qtbot.waitUntil(lambda: results.tree.topLevelItemCount() == 1, timeout=10_000)
    item = results.tree.topLevelItem(0)
    assert item.text(1) == "screener1" and item.text(3) == "4"
    assert results.tree.currentItem() is item
    folder = tmp_path / "certificates"
    results.folder.setText(str(folder))
    qtbot.mouseClick(results.certificate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Wrote" in results.message.text(), timeout=10_000)
    (certificate,) = folder.glob("*.html")
    assert "screener1" in certificate.read_text() and f"#{completed.seq}" in \
        certificate.read_text()
    wait_idle(qtbot, view)


def test_screenshot_of_the_trainer_view(make_view, qtbot, tmp_path):
    view = make_view(size=(1600, 900))
    page = view.library_page
    if os.environ.get("SCREENER_UPDATE_SCREENSHOTS") == "1":  # a fuller library to show
        bigger = tmp_path / "fti-library.h5"
        build_library(bigger, BuildSettings(articles=9, orientations=3, seed=2,
                                            added="2026-01-15"), jobs=2)
        page.open(bigger)
        qtbot.waitUntil(lambda: page.model.rowCount() == 27, timeout=20_000)
    page.table.selectRow(4)
    chosen = page.selected_id()
    qtbot.waitUntil(lambda: page.canvas.image_key == (chosen, "standard"), timeout=10_000)
    page.canvas.settle()
    wait_idle(qtbot, view)
    image = view.grab().toImage()
    out = tmp_path / "trainer-view.png"
    assert image.save(str(out), "PNG", 0)
    if os.environ.get("SCREENER_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        target = DOCS / "trainer-view.png"
        small = image.convertToFormat(QImage.Format.Format_Indexed8,
                                      Qt.ImageConversionFlag.DiffuseDither)
        assert small.save(str(target), "PNG", 0)
        assert target.stat().st_size < MAX_BYTES, "screenshot too large for the docs"
