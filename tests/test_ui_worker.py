"""The worker lanes: stale jobs are dropped, heavy work never runs on the GUI thread,
session steps run in order off the GUI thread."""

from __future__ import annotations

import threading

import ui_fixtures
from PySide6.QtCore import Qt, QTimer
from ui_fixtures import FixedDetector, press, wait_decidable

import screener.ui.controller as controller_module
from screener.ui.render_worker import Generations, Lane, RenderWorker
from screener.ui.session_runner import SessionRunner

DISPLAY = RenderWorker.DISPLAY

# the shared fixtures, by assignment (pytest finds them in this module)
make_workstation = ui_fixtures.make_workstation
demo_dir = ui_fixtures.demo_dir


def _block(worker, lane=DISPLAY):
    """Occupy ``lane`` until the returned event is set."""
    gate, started = threading.Event(), threading.Event()

    def job(_stale):
        started.set()
        assert gate.wait(20)
        return "blocker"

    worker.submit(lane, "blocker", job)
    assert started.wait(20)
    return gate


def test_a_newer_job_replaces_the_waiting_jobs_of_its_slot(qapp, qtbot):
    worker = RenderWorker()
    results = []
    worker.done.connect(results.append)
    gate = _block(worker)
    ran = []
    for i in range(5):
        worker.submit(DISPLAY, "render", lambda _stale, i=i: ran.append(i) or i)
    worker.submit(DISPLAY, "other", lambda _stale: "other")  # another slot is kept
    gate.set()
    qtbot.waitUntil(lambda: len(results) == 3)
    worker.stop()
    assert ran == [4]
    assert worker.lanes[DISPLAY].dropped == 4
    renders = [r for r in results if r.slot == "render"]
    assert [r.value for r in renders] == [4]
    assert all(worker.is_current(r) for r in results)


def test_a_running_job_learns_it_is_stale_and_its_result_is_not_current(qapp, qtbot):
    worker = RenderWorker()
    results = []
    worker.done.connect(results.append)
    gate, started = threading.Event(), threading.Event()
    seen = []

    def first(stale):
        started.set()
        assert gate.wait(20)
        seen.append(stale())
        return "first"

    worker.submit(DISPLAY, "render", first)
    assert started.wait(20)
    worker.submit(DISPLAY, "render", lambda stale: "second")
    gate.set()
    qtbot.waitUntil(lambda: len(results) == 2)
    worker.stop()
    assert seen == [True]
    current = [r.value for r in results if worker.is_current(r)]
    assert current == ["second"]


def test_jobs_run_most_urgent_first():
    generations = Generations()
    lane = Lane("test", generations)
    order = []
    for slot, priority in (("ahead", 2), ("urgent", 0), ("normal", 1)):
        lane.submit(slot, generations.bump(slot), lambda _s, n=slot: order.append(n),
                    priority=priority)
    lane.start()
    while lane.pending():
        lane.wait(10)
    lane.stop()  # lets the job it is running finish
    assert order == ["urgent", "normal", "ahead"]


def test_function_switches_queued_behind_a_busy_lane_collapse_to_the_last(
        make_workstation, demo_dir, qtbot, monkeypatch):
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=1)
    wait_decidable(qtbot, ws)
    calls = []
    real = controller_module.render_frames

    def counting(prepared, function, *args, **kwargs):
        calls.append(function)
        return real(prepared, function, *args, **kwargs)

    monkeypatch.setattr(controller_module, "render_frames", counting)
    gate = _block(ws.controller.worker)
    for key in (Qt.Key.Key_F2, Qt.Key.Key_F3, Qt.Key.Key_F4, Qt.Key.Key_F6):
        press(qtbot, ws, key)
    gate.set()
    on_screen = ws.controller.on_screen
    qtbot.waitUntil(lambda: ws.view.canvases[0].image_key == on_screen.frames_key)
    assert calls == ["metal-only"]
    assert ws.view.toolbar.current() == "metal-only"


def test_the_gui_thread_keeps_working_while_a_render_runs(make_workstation, demo_dir, qtbot,
                                                          monkeypatch):
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=1)
    wait_decidable(qtbot, ws)
    gate = threading.Event()
    real = controller_module.render_frames

    def slow(*args, **kwargs):
        # released only by the GUI thread: a render on the GUI thread would never finish
        assert gate.wait(20), "the GUI thread was blocked while rendering"
        return real(*args, **kwargs)

    monkeypatch.setattr(controller_module, "render_frames", slow)
    canvas = ws.view.canvases[0]
    old_key = canvas.image_key
    press(qtbot, ws, Qt.Key.Key_F2)  # returns at once: the render waits in the worker
    assert canvas.image_key == old_key and not gate.is_set()
    canvas.settle()
    scale = canvas.scale
    press(qtbot, ws, Qt.Key.Key_Plus)  # the screen still answers keys meanwhile
    canvas.settle()
    assert canvas.scale > scale
    ticks = []
    QTimer.singleShot(0, lambda: (ticks.append(1), gate.set()))
    qtbot.waitUntil(lambda: canvas.image_key == ws.controller.on_screen.frames_key)
    assert ticks == [1]
    assert ws.view.toolbar.current() == "greyscale"
    assert "failed" not in ws.view.message_label.text()


class _Session:
    def __init__(self):
        self.steps = []


def test_session_steps_run_in_order_off_the_gui_thread_and_errors_come_back(qapp, qtbot):
    runner = SessionRunner(_Session())
    outcomes = []
    runner.finished_step.connect(outcomes.append)
    runner.start()
    gui = threading.get_ident()
    gate = threading.Event()

    def step(name, fail=False):
        def run(session):
            if name == "first":
                assert gate.wait(20)  # set by the GUI thread below
            session.steps.append((name, threading.get_ident() != gui))
            if fail:
                raise RuntimeError("audit log unavailable (test)")
            return name
        return run

    runner.submit("a", step("first"))
    runner.submit("b", step("second", fail=True))
    runner.submit("c", step("third"))
    QTimer.singleShot(0, gate.set)
    qtbot.waitUntil(lambda: len(outcomes) == 3)
    runner.finish()
    assert [o.tag for o in outcomes] == ["a", "b", "c"]
    assert [o.ok for o in outcomes] == [True, False, True]
    assert "unavailable" in str(outcomes[1].error)
    assert runner.session.steps == [("first", True), ("second", True), ("third", True)]
