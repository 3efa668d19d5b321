"""Threat Image Projection at the screener's screen: the composite shown and analysed, the
feedback as in operations, the real bag screened again, the trials in the audit log."""

from __future__ import annotations

import json
import threading

import ui_fixtures
from PySide6.QtCore import QPointF, Qt
from ui_fixtures import FixedDetector, logged, payloads, press, save_screenshot, wait_decidable

from screener.audit.log import open_audit_log
from screener.tip.library import read_library
from screener.ui.config import AiMode, UiSettings
from screener.workflow.model_ai import ModelAi
from screener.workflow.roles import Role
from screener.workflow.session import Operator
from screener.workflow.tip_injection import HIT_MESSAGE, MISS_MESSAGE, NO_TIP_MESSAGE
from screener.workflow.tip_settings import change_settings

# the shared fixtures, by assignment (pytest finds them in this module)
make_workstation = ui_fixtures.make_workstation
demo_dir = ui_fixtures.demo_dir
tip_library = ui_fixtures.tip_library

BAGS = 20
SUPERVISOR = Operator("sup-1", Role.SUPERVISOR)


def _set_tip_rate(home, library, rate):
    """A supervisor's TIP settings, saved in the station's chain before the shift."""
    log = open_audit_log(home, ui_fixtures.STATION, checkpoint_every=1000)
    categories = read_library(library).by_category()
    change_settings(log, SUPERVISOR, min_rate=rate, max_rate=rate,
                    weights={category: 1.0 for category in categories})
    log.engine.dispose()


def _mark_by_keyboard(qtbot, ws, frame):
    """Zoom in, pan the FTI's view with the arrow keys until the FTI's centre is in the
    middle, and mark the middle of the view (K), as a screener does without a mouse."""
    view = ws.view
    canvas = next(c for c in view.canvases if c.view_name == frame.view)
    for _ in range(len(view.canvases)):
        if canvas.hasFocus():
            break
        press(qtbot, ws, Qt.Key.Key_V)  # next view
    assert canvas.hasFocus()
    press(qtbot, ws, Qt.Key.Key_Plus)
    press(qtbot, ws, Qt.Key.Key_Plus)
    canvas.settle()
    x0, y0, x1, y1 = frame.box
    step = 0.1 * min(canvas.width(), canvas.height())  # one arrow key's pan
    target = canvas.to_screen(QPointF((x0 + x1) / 2, (y0 + y1) / 2))
    dx, dy = target.x() - canvas.width() / 2, target.y() - canvas.height() / 2
    for delta, more, less in ((dx, Qt.Key.Key_Right, Qt.Key.Key_Left),
                              (dy, Qt.Key.Key_Down, Qt.Key.Key_Up)):
        for _ in range(round(abs(delta) / step)):
            press(qtbot, ws, more if delta > 0 else less)
    press(qtbot, ws, Qt.Key.Key_K)
    assert len(view.marks()) == 1


def _feedback_shown(qtbot, ws):
    qtbot.waitUntil(lambda: ws.view.feedback.isVisible(), timeout=10_000)
    return ws.view.feedback_text.text()


def test_a_tip_shift_driven_by_the_keyboard_logs_each_trial_as_the_keys_made_it(
        make_workstation, demo_dir, tip_library, qtbot, tmp_path):
    _set_tip_rate(tmp_path / "home", tip_library, 0.5)
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=BAGS,
                          tip_library=tip_library, tip_seed=7)
    assert ws.controller.tip and "TIP bags" in ws.view.stat_values
    expected = []  # each bag's trial outcome, as the keys made it
    rescreens = 0
    for bag in range(BAGS):
        wait_decidable(qtbot, ws)
        shown = ws.controller.on_screen
        assert not shown.rescreen and shown.plan is not None
        if shown.plan.projected:
            frames = shown.plan.frames()
            assert shown.bag.scan is not shown.incoming.scan  # the composite is on screen
            if expected.count("hit") <= expected.count("miss"):
                _mark_by_keyboard(qtbot, ws, frames[0])
                press(qtbot, ws, Qt.Key.Key_S)
                expected.append("hit")
                assert _feedback_shown(qtbot, ws) == HIT_MESSAGE
            else:
                press(qtbot, ws, Qt.Key.Key_Space)  # cleared: the FTI is missed
                expected.append("miss")
                assert _feedback_shown(qtbot, ws) == MISS_MESSAGE
            framed = {c.view_name: c._highlights for c in ws.view._visible()}
            assert {f.view for f in frames} == {v for v, h in framed.items() if h}
            assert not ws.view.clear_button.isEnabled()
            press(qtbot, ws, Qt.Key.Key_Space)  # held: no decision during the feedback
            assert ws.view.feedback.isVisible() and not ws.controller.on_screen.rescreen
            press(qtbot, ws, Qt.Key.Key_Return)  # continue: the real bag comes back
            wait_decidable(qtbot, ws)
            again = ws.controller.on_screen
            assert again.rescreen and again.bag.scan is again.incoming.scan
            assert not any(c._highlights for c in ws.view.canvases)
            press(qtbot, ws, Qt.Key.Key_Space)
            rescreens += 1
        elif "false_alarm" not in expected:  # a suspect call on a bag without TIP
            press(qtbot, ws, Qt.Key.Key_K)
            press(qtbot, ws, Qt.Key.Key_S)
            expected.append("false_alarm")
            assert _feedback_shown(qtbot, ws).startswith(NO_TIP_MESSAGE)
            assert "search" in ws.view.feedback_text.text()
            press(qtbot, ws, Qt.Key.Key_Return)
        else:
            press(qtbot, ws, Qt.Key.Key_Space)
            expected.append("correct_rejection")
        qtbot.waitUntil(lambda n=bag + 1: ws.controller.stats.decided == n, timeout=10_000)

    assert "hit" in expected and "miss" in expected
    stats = ws.controller.stats
    assert (stats.tip_hits, stats.tip_misses) == (expected.count("hit"),
                                                  expected.count("miss"))
    assert ws.view.stat_values["TIP bags"].text() == str(rescreens)
    ws.window.close()

    kinds = [e.kind for e in logged(ws)]
    assert kinds[-1] == "session.ended"
    decisions = payloads(ws, "screening.decision")
    assert len(decisions) == BAGS + rescreens
    assert sum(bool(d.get("rescreen")) for d in decisions) == rescreens
    assert [d["tip"]["projected"] for d in decisions if not d.get("rescreen")].count(True) \
        == rescreens
    outcomes = payloads(ws, "tip.outcome")
    assert [o["outcome"] for o in outcomes] == expected
    feedback = {"hit": "hit", "miss": "miss", "false_alarm": "no_tip",
                "correct_rejection": None}
    assert [o["feedback"] for o in outcomes] == [feedback[e] for e in expected]
    assert kinds.count("tip.projected") == rescreens
    assert kinds.count("tip.scheduled") == BAGS
    (ended,) = payloads(ws, "session.ended")
    assert (ended["bags_decided"], ended["rescreens"]) == (BAGS, rescreens)
    # the AI analysed what was on screen: the composite, then the real bag again
    assert kinds.count("ai.result") == BAGS + rescreens


def test_a_tip_bag_is_planned_off_the_gui_thread_and_shown_only_once_logged(
        make_workstation, demo_dir, tip_library, qtbot, tmp_path):
    _set_tip_rate(tmp_path / "home", tip_library, 1.0)
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=2,
                          tip_library=tip_library, tip_seed=3, start=False)
    planned_on = []
    plan_tip = ws.session.plan_tip

    def recording(bag):
        planned_on.append(threading.get_ident())
        return plan_tip(bag)

    ws.session.plan_tip = recording
    shown_at = []
    ws.controller.frames_ready.connect(
        lambda _ready: shown_at.append([e.kind for e in logged(ws)]))
    ws.start()
    wait_decidable(qtbot, ws)
    assert ws.controller.on_screen.plan.projected
    assert planned_on and threading.get_ident() not in planned_on
    first = shown_at[0]
    assert "tip.projected" in first and first.index("scan.received") < first.index(
        "tip.projected")
    projected = json.loads(next(e.payload for e in logged(ws) if e.kind == "tip.projected"))
    assert projected["fti_id"] == ws.controller.on_screen.plan.fti.fti_id
    qtbot.waitUntil(lambda: len(planned_on) == 2)  # the next bag, planned ahead


def test_screenshot_of_tip_feedback_after_a_hit(make_workstation, demo_dir, tip_library,
                                                qtbot, tmp_path):
    """The picture in docs/ui.md: an FTI marked with the mouse, the hit message and the
    FTI framed in both views; the shipped AI runs, its boxes kept for after the first
    look (``SCREENER_UPDATE_SCREENSHOTS=1`` writes the picture to docs)."""
    _set_tip_rate(tmp_path / "home", tip_library, 1.0)
    ws = make_workstation(demo=demo_dir, detector=ModelAi(), conveyor_limit=2,
                          operator="screener1",
                          tip_library=tip_library, tip_seed=11,
                          ui=UiSettings(bags_per_minute=600, decision_time_s=20,
                                        ai_mode=AiMode.AFTER_FIRST_LOOK, first_look_s=0))
    ws.window.resize(1600, 900)
    wait_decidable(qtbot, ws, timeout=30_000)
    shown = ws.controller.on_screen
    assert shown.plan.projected
    frame = shown.plan.frames()[0]
    canvas = next(c for c in ws.view.canvases if c.view_name == frame.view)
    canvas.settle()
    x0, y0, x1, y1 = frame.box
    pad = 0.08 * max(x1 - x0, y1 - y0)  # a screener's mark is a little loose
    start = canvas.to_screen(QPointF(x0 - pad, y0 - pad)).toPoint()
    end = canvas.to_screen(QPointF(x1 + pad, y1 + pad)).toPoint()
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    press(qtbot, ws, Qt.Key.Key_S)
    assert _feedback_shown(qtbot, ws) == HIT_MESSAGE
    for view in ws.view.canvases:
        view.settle()
    image = ws.window.grab().toImage()
    assert image.width() >= 1600 and image.height() >= 900
    save_screenshot(image, "tip-feedback.png", tmp_path)
    (outcome,) = payloads(ws, "tip.outcome")
    assert outcome["outcome"] == "hit"


def test_a_plan_that_fails_is_said_and_tried_again_and_nothing_is_shown_meanwhile(
        make_workstation, demo_dir, tip_library, qtbot, monkeypatch):
    import screener.ui.controller as controller_module

    monkeypatch.setattr(controller_module, "RETRY_MS", 50)
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=1,
                          tip_library=tip_library, tip_seed=5, start=False)
    plan_tip, failures = ws.session.plan_tip, []

    def flaky(bag):
        if not failures:
            failures.append(True)
            raise OSError("FTI library unreadable (test)")
        return plan_tip(bag)

    ws.session.plan_tip = flaky
    messages = []
    ws.controller.message.connect(lambda level, text: messages.append((level, text)))
    ws.start()
    wait_decidable(qtbot, ws)
    assert any(level == "error" and "TIP could not be planned" in text
               and "unreadable" in text for level, text in messages)
    press(qtbot, ws, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.controller.stats.decided == 1)
    assert len(payloads(ws, "tip.scheduled")) == 1


def _bag_indexes(ws):
    """The operator's bag_index values in the chain: each plan scheduled or discarded."""
    return sorted(p["bag_index"] for kind in ("tip.scheduled", "tip.plan_discarded")
                  for p in payloads(ws, kind))


def test_leaving_with_the_next_bag_planned_logs_its_plan_as_discarded(
        make_workstation, demo_dir, tip_library, qtbot, tmp_path):
    _set_tip_rate(tmp_path / "home", tip_library, 0.0)
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=2,
                          tip_library=tip_library, tip_seed=9)
    wait_decidable(qtbot, ws)
    press(qtbot, ws, Qt.Key.Key_K)
    press(qtbot, ws, Qt.Key.Key_S)  # a bag without TIP called suspect: feedback, held
    assert _feedback_shown(qtbot, ws).startswith(NO_TIP_MESSAGE)
    queue = ws.controller.queue
    qtbot.waitUntil(lambda: any("plan" in e.extra for e in queue.entries
                                if e is not ws.controller.on_screen.entry), timeout=10_000)
    ws.close("application closed")  # the operator leaves before the next bag is shown

    (dropped,) = payloads(ws, "tip.plan_discarded")
    assert dropped["bag_index"] == 1 and dropped["operator"] == "op-test"
    assert dropped["reason"] == "application closed before the bag was shown"
    assert [p["bag_index"] for p in payloads(ws, "tip.scheduled")] == [0]
    assert _bag_indexes(ws) == [0, 1]
    kinds = [e.kind for e in logged(ws)]
    assert kinds.index("tip.plan_discarded") < kinds.index("session.ended")


def test_a_bag_whose_file_fails_after_its_plan_has_the_plan_discarded(
        make_workstation, demo_dir, tip_library, qtbot, tmp_path, monkeypatch):
    import screener.ui.controller as controller_module

    _set_tip_rate(tmp_path / "home", tip_library, 1.0)
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=2,
                          tip_library=tip_library, tip_seed=3, start=False)
    planned = threading.Event()
    plan_tip = ws.session.plan_tip

    def plan_and_say(bag):
        plan = plan_tip(bag)
        planned.set()
        return plan

    store_bag, stores = controller_module.store_bag, []

    def first_store_fails(store, bag):
        stores.append(bag)
        if len(stores) == 1:  # the first bag's file, once its plan is made
            assert planned.wait(10)
            raise OSError("disk full (test)")
        return store_bag(store, bag)

    ws.session.plan_tip = plan_and_say
    monkeypatch.setattr(controller_module, "store_bag", first_store_fails)
    ws.start()
    wait_decidable(qtbot, ws)  # the second bag, its plan received
    assert ws.controller.stats.load_errors == 1

    (dropped,) = payloads(ws, "tip.plan_discarded")
    assert dropped["bag_index"] == 0 and dropped["projected"] is True
    assert dropped["reason"].startswith("the bag could not be screened")
    assert "disk full (test)" in dropped["reason"]
    assert [p["bag_index"] for p in payloads(ws, "tip.scheduled")] == [1]
    assert _bag_indexes(ws) == [0, 1]
