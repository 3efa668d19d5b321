"""The screener view end to end: bags from the demo conveyor, decisions from the keyboard,
into the real audit log."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import ui_fixtures
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from ui_fixtures import (
    BrokenDetector,
    FixedDetector,
    demo_scans,
    logged,
    payloads,
    press,
    wait_decidable,
)

from screener.ui.ai_overlay import AiPhase
from screener.ui.bag_queue import EntryStatus
from screener.ui.config import AiMode, UiSettings
from screener.ui.scan_canvas import Highlight

# the shared fixtures, by assignment (pytest finds them in this module)
make_workstation = ui_fixtures.make_workstation
demo_dir = ui_fixtures.demo_dir


def test_a_keyboard_session_ends_with_the_right_decisions_in_the_audit_log(
        make_workstation, demo_dir, qtbot):
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=3)
    decided = []
    ws.controller.decided.connect(decided.append)

    wait_decidable(qtbot, ws)
    press(qtbot, ws, Qt.Key.Key_Space)  # clear
    qtbot.waitUntil(lambda: len(decided) == 1)

    wait_decidable(qtbot, ws)
    press(qtbot, ws, Qt.Key.Key_K)  # mark the centre of the focused view
    assert len(ws.view.marks()) == 1
    press(qtbot, ws, Qt.Key.Key_S)  # suspect, with the mark
    qtbot.waitUntil(lambda: len(decided) == 2)

    wait_decidable(qtbot, ws)
    press(qtbot, ws, Qt.Key.Key_C)  # clear (second key for it)
    qtbot.waitUntil(lambda: len(decided) == 3)

    ws.window.close()
    kinds = [e.kind for e in logged(ws)]
    assert kinds.count("scan.received") == 3
    assert kinds.count("ai.result") == 3
    assert kinds[-1] == "session.ended"
    decisions = payloads(ws, "screening.decision")
    assert [d["decision"] for d in decisions] == ["clear", "suspect", "clear"]
    assert [len(d["marks"]) for d in decisions] == [0, 1, 0]
    assert all(d["response_ms"] >= 0 for d in decisions)
    ai = payloads(ws, "ai.result")
    assert all(a["status"] == "ok" and a["detections"][0]["category"] == "gun" for a in ai)
    assert ws.controller.stats.decided == 3
    assert ws.controller.stats.suspect == 1
    assert [e.status for e in ws.controller.queue.entries] == [EntryStatus.DECIDED] * 3


def test_when_the_ai_fails_the_screen_says_ai_unavailable_and_screening_goes_on(
        make_workstation, demo_dir, qtbot):
    ws = make_workstation(demo=demo_dir, detector=BrokenDetector(), conveyor_limit=1)
    wait_decidable(qtbot, ws)
    assert ws.view.ai_badge.text().startswith("AI unavailable")
    assert "corrupt" in ws.view.ai_badge.text()
    assert all(not canvas.boxes for canvas in ws.view.canvases)
    press(qtbot, ws, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.controller.stats.decided == 1)
    (ai,) = payloads(ws, "ai.result")
    assert ai["status"] == "unavailable"
    assert "corrupt" in ai["reason"]
    assert payloads(ws, "screening.decision")[0]["decision"] == "clear"
    assert ws.controller.stats.ai_unavailable == 1


def _drop(folder: Path, name: str, data: bytes) -> Path:
    """Write a file the way a scanner should: under a hidden name, then renamed."""
    hidden = folder / f".{name}.part"
    hidden.write_bytes(data)
    return hidden.rename(folder / name)


def test_a_bad_file_in_the_watch_folder_shows_an_error_and_the_queue_goes_on(
        make_workstation, demo_dir, qtbot, tmp_path):
    watch = tmp_path / "incoming"
    watch.mkdir()
    ws = make_workstation(watch=watch, detector=FixedDetector(),
                          ui=UiSettings(watch_poll_s=0.1, decision_time_s=60))
    _drop(watch, "a-broken.h5", b"this is not an HDF5 scan")
    _drop(watch, "b-bag.h5", demo_scans(demo_dir)[0].read_bytes())
    qtbot.waitUntil(lambda: len(ws.controller.queue.entries) == 2)
    broken, good = ws.controller.queue.entries
    qtbot.waitUntil(lambda: broken.status is EntryStatus.ERROR)
    shown = [ws.view.queue_list.item(i).text() for i in range(ws.view.queue_list.count())]
    assert any(text.startswith("a-broken.h5: ") and "HDF5" in text for text in shown)
    assert str(watch / "a-broken.h5") in broken.error  # names the file and the problem
    wait_decidable(qtbot, ws)
    assert good.status is EntryStatus.ON_SCREEN
    press(qtbot, ws, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: good.status is EntryStatus.DECIDED)
    assert [d["decision"] for d in payloads(ws, "screening.decision")] == ["suspect"]
    assert ws.controller.stats.load_errors == 1
    received = payloads(ws, "scan.received")
    assert [r["source"] for r in received] == ["watch folder"]


def test_a_greyscale_png_in_the_watch_folder_is_imported_and_colour_functions_say_why_not(
        make_workstation, qtbot, tmp_path):
    watch = tmp_path / "incoming"
    watch.mkdir()
    ws = make_workstation(watch=watch, detector=FixedDetector(),
                          ui=UiSettings(watch_poll_s=0.1))
    image = np.full((120, 200), 230, np.uint8)
    image[40:80, 60:140] = 40
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    _drop(watch, "xray.png", encoded.tobytes())
    wait_decidable(qtbot, ws)
    toolbar = ws.view.toolbar
    assert not toolbar.actions_by_name["standard"].isEnabled()
    assert "single-energy" in toolbar.actions_by_name["standard"].toolTip()
    assert toolbar.current() == "greyscale"  # the first function this bag can show
    assert len(ws.view._visible()) == 1
    press(qtbot, ws, Qt.Key.Key_F1)  # colour: refused, nothing changes
    assert toolbar.current() == "greyscale"
    press(qtbot, ws, Qt.Key.Key_F3)  # inverse works on single energy
    qtbot.waitUntil(lambda: ws.view.canvases[0].image_key == ws.controller.on_screen.frames_key
                    and toolbar.current() == "inverse")
    press(qtbot, ws, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.controller.stats.decided == 1)
    (event,) = [e for e in logged(ws) if e.kind == "screening.decision"]
    assert event.scan_sha256 in ws.controller.store


def test_ai_after_first_look_hides_the_boxes_until_the_screener_asks(
        make_workstation, demo_dir, qtbot):
    ui = UiSettings(ai_mode=AiMode.AFTER_FIRST_LOOK, first_look_s=0, bags_per_minute=600)
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=1, ui=ui)
    wait_decidable(qtbot, ws)
    assert ws.controller.ai_view().phase is AiPhase.HIDDEN
    assert all(not canvas.boxes for canvas in ws.view.canvases)
    press(qtbot, ws, Qt.Key.Key_A)
    assert ws.controller.ai_view().phase is AiPhase.SHOWN
    assert len(ws.view.canvases[0].boxes) == 1
    press(qtbot, ws, Qt.Key.Key_A, Qt.KeyboardModifier.ShiftModifier)  # hide again
    assert not ws.view.canvases[0].boxes


def test_ai_off_runs_no_detector_and_the_log_says_why(make_workstation, demo_dir, qtbot):
    detector = FixedDetector()
    ui = UiSettings(ai_mode=AiMode.OFF, bags_per_minute=600)
    ws = make_workstation(demo=demo_dir, detector=detector, conveyor_limit=1, ui=ui)
    wait_decidable(qtbot, ws)
    assert ws.view.ai_badge.text() == "AI off"
    press(qtbot, ws, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.controller.stats.decided == 1)
    assert detector.calls == 0
    (ai,) = payloads(ws, "ai.result")
    assert ai["status"] == "unavailable" and "switched off" in ai["reason"]


def test_marking_with_the_mouse_gives_a_box_in_view_pixels(make_workstation, demo_dir, qtbot):
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=1)
    wait_decidable(qtbot, ws)
    canvas = ws.view.canvases[0]
    canvas.settle()
    shown = canvas.image_rect()  # where the image lies in the view
    start = QPoint(round(shown.left() + 0.2 * shown.width()),
                   round(shown.top() + 0.3 * shown.height()))
    end = QPoint(round(shown.left() + 0.6 * shown.width()),
                 round(shown.top() + 0.7 * shown.height()))
    expected_a, expected_b = canvas.to_image(QPointF(start)), canvas.to_image(QPointF(end))
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
    (mark,) = ws.view.marks()
    x0, y0, x1, y1 = mark.box
    assert mark.view == canvas.view_name
    assert abs(x0 - expected_a.x()) <= 1 and abs(y0 - expected_a.y()) <= 1
    assert abs(x1 - expected_b.x()) <= 1 and abs(y1 - expected_b.y()) <= 1
    press(qtbot, ws, Qt.Key.Key_Space)  # a marked bag cannot be cleared
    assert "remove them" in ws.view.message_label.text()
    press(qtbot, ws, Qt.Key.Key_Escape)  # remove the marks
    assert not ws.view.marks()
    press(qtbot, ws, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.controller.stats.decided == 1)


def test_zoom_fit_magnifier_and_density_from_the_keyboard(make_workstation, demo_dir, qtbot):
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=1)
    wait_decidable(qtbot, ws)
    canvas = ws.view.canvases[0]
    canvas.settle()
    fitted = canvas.scale
    press(qtbot, ws, Qt.Key.Key_Plus)
    press(qtbot, ws, Qt.Key.Key_Plus)
    canvas.settle()
    assert canvas.scale == pytest.approx(fitted * 1.25 ** 2)
    canvas.setFocus()
    before = canvas.to_image(QPointF(0, 0))
    qtbot.keyClick(canvas, Qt.Key.Key_Right)  # pan
    assert canvas.to_image(QPointF(0, 0)).x() > before.x()
    press(qtbot, ws, Qt.Key.Key_0)
    canvas.settle()
    assert canvas.scale == pytest.approx(fitted)
    press(qtbot, ws, Qt.Key.Key_M)
    assert canvas.magnifier
    canvas.repaint()  # paints the loupe
    press(qtbot, ws, Qt.Key.Key_M)
    assert not canvas.magnifier
    # the variable-density slider from the keyboard: switches to variable density
    lo, hi = ws.view.toolbar.density_window()
    press(qtbot, ws, Qt.Key.Key_BracketRight)
    assert ws.view.toolbar.density_window() == pytest.approx((lo + 0.5, hi + 0.5))
    qtbot.waitUntil(lambda: canvas.image_key == ws.controller.on_screen.frames_key)
    assert ws.view.toolbar.current() == "variable-density"
    assert ws.controller._adjustments().window == pytest.approx((lo + 0.5, hi + 0.5))


def test_when_decision_time_runs_out_the_belt_stops_and_time_is_extended(
        make_workstation, demo_dir, qtbot):
    ui = UiSettings(decision_time_s=0.2, belt_stop_extension_s=30, bags_per_minute=600)
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=1, ui=ui)
    wait_decidable(qtbot, ws)
    qtbot.waitUntil(lambda: not ws.controller.belt_running)
    assert ws.view.belt_label.text() == "BELT STOPPED"
    assert "belt is stopped" in ws.view.message_label.text()
    assert ws.controller.stats.belt_stops == 1
    press(qtbot, ws, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.controller.stats.decided == 1)
    assert ws.controller.belt_running  # restarted with the decision


def test_a_feedback_message_holds_the_decision_until_the_screener_continues(
        make_workstation, demo_dir, qtbot):
    ws = make_workstation(demo=demo_dir, detector=FixedDetector(), conveyor_limit=1)
    wait_decidable(qtbot, ws)
    view = ws.view
    continued = []
    name = view.canvases[0].view_name
    view.show_feedback("Threat image: a handgun was projected here. Screen the bag again.",
                       {name: [Highlight((10, 10, 90, 90), "TIP", QColor(48, 209, 88))]},
                       on_continue=lambda: continued.append(True))
    assert not view.clear_button.isEnabled()
    press(qtbot, ws, Qt.Key.Key_Space)  # held: no decision
    assert ws.controller.stats.decided == 0
    press(qtbot, ws, Qt.Key.Key_Return)
    assert continued == [True]
    assert view.clear_button.isEnabled()
    press(qtbot, ws, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: ws.controller.stats.decided == 1)


def test_a_dicos_scan_in_the_watch_folder_is_queued_once_when_all_its_files_are_in(
        make_workstation, demo_dir, qtbot, tmp_path):
    from screener.scan import read_scan
    from screener.scan.dicos_export import write_dicos_dx

    exported = write_dicos_dx(read_scan(demo_scans(demo_dir)[0]), tmp_path / "dx")
    assert len(exported) == 4  # two views, two energies
    watch = tmp_path / "incoming"
    watch.mkdir()
    ws = make_workstation(watch=watch, detector=FixedDetector(),
                          ui=UiSettings(watch_poll_s=0.1, decision_time_s=60))
    _drop(watch, exported[0].name, exported[0].read_bytes())  # the first file alone
    qtbot.wait(600)
    assert ws.controller.queue.entries == []  # its scan is not complete yet
    for path in exported[1:]:
        _drop(watch, path.name, path.read_bytes())
    qtbot.waitUntil(lambda: len(ws.controller.queue.entries) == 1)
    qtbot.wait(600)
    (entry,) = ws.controller.queue.entries  # once, not once per file
    assert entry.path.name == exported[0].name
    wait_decidable(qtbot, ws)
    press(qtbot, ws, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: entry.status is EntryStatus.DECIDED)
    (received,) = payloads(ws, "scan.received")
    assert received["views"] == ["top", "side"]
