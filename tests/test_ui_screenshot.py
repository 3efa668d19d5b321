"""A screenshot of the screener view, to look at. ``SCREENER_UPDATE_SCREENSHOTS=1`` also
writes it to docs/screenshots/screener-view.png (the picture in the docs)."""

from __future__ import annotations

import os
from pathlib import Path

import ui_fixtures
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from ui_fixtures import press

from screener.ui.ai_overlay import AiPhase
from screener.ui.config import UiSettings
from screener.workflow.model_ai import ModelAi

DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
MAX_BYTES = 500 * 1024

# the shared fixtures, by assignment (pytest finds them in this module)
make_workstation = ui_fixtures.make_workstation
demo_dir = ui_fixtures.demo_dir


def test_screenshot_of_the_screener_view(make_workstation, demo_dir, qtbot, tmp_path):
    ws = make_workstation(demo=demo_dir, detector=ModelAi(), conveyor_limit=3,
                          ui=UiSettings(bags_per_minute=600, decision_time_s=20))
    ws.window.resize(1600, 900)
    painted = []
    ws.view.screen_painted.connect(painted.append)
    qtbot.waitUntil(lambda: any(p.phase is AiPhase.SHOWN for p in painted), timeout=30_000)
    qtbot.waitUntil(lambda: ws.view.clear_button.isEnabled(), timeout=30_000)
    press(qtbot, ws, Qt.Key.Key_K)  # one region marked, as a screener would
    for canvas in ws.view.canvases:
        canvas.settle()
    image = ws.window.grab().toImage()
    assert image.width() >= 1600 and image.height() >= 900
    out = tmp_path / "screener-view.png"
    assert image.save(str(out), "PNG", 0)
    if os.environ.get("SCREENER_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        target = DOCS / "screener-view.png"
        # 256 colours, dithered: the docs copy stays small and looks the same
        small = image.convertToFormat(QImage.Format.Format_Indexed8,
                                      Qt.ImageConversionFlag.DiffuseDither)
        assert small.save(str(target), "PNG", 0)
        assert target.stat().st_size < MAX_BYTES, "screenshot too large for the docs"
