"""The workstation's dark theme: a Fusion palette and one style sheet.

Screening rooms are dim and screeners look at images for hours: dark neutral chrome that
does not compete with the image, one accent colour for focus, and the decision colours
(green clear, red suspect) kept for the two buttons that mean them.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

WINDOW = "#16191d"
PANEL = "#1d2126"
RAISED = "#262b31"
BORDER = "#343a42"
TEXT = "#d8dde3"
MUTED = "#8b949e"
ACCENT = "#3d8fe0"
CLEAR = "#2e9d58"
SUSPECT = "#d43c3c"
AMBER = "#e0a030"

STYLE_SHEET = f"""
QWidget {{ background: {WINDOW}; color: {TEXT}; font-size: 10pt; }}
QToolTip {{ background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QStatusBar QLabel {{ background: transparent; color: {MUTED}; padding: 0 8px; }}
#enhancementToolbar, #decisionBar {{ background: {PANEL}; border: 1px solid {BORDER};
    border-radius: 4px; }}
#enhancementToolbar QToolBar {{ background: transparent; border: none; spacing: 1px; }}
#enhancementToolbar QToolButton {{ background: transparent; border: 1px solid transparent;
    border-radius: 3px; padding: 3px 6px; color: {TEXT}; }}
#enhancementToolbar QToolButton:hover {{ background: {RAISED}; }}
#enhancementToolbar QToolButton#qt_toolbar_ext_button {{ background: {RAISED};
    border: 1px solid {BORDER}; min-width: 16px; padding: 0; }}
#enhancementToolbar QToolButton:checked {{ background: {ACCENT}; color: white; }}
#enhancementToolbar QToolButton:focus {{ border: 1px solid {ACCENT}; }}
#enhancementToolbar QToolButton:disabled {{ color: #4f565e; }}
#enhancementToolbar QLabel, #decisionBar QLabel {{ background: transparent; }}
#densityTitle, #densityLabel {{ color: {MUTED}; }}
QSlider::groove:horizontal {{ height: 6px; background: {RAISED}; border-radius: 3px; }}
QSlider::handle:horizontal {{ width: 14px; margin: -5px 0; background: {TEXT};
    border-radius: 7px; }}
QSlider::handle:horizontal:focus {{ background: {ACCENT}; }}
QComboBox, QPushButton {{ background: {RAISED}; border: 1px solid {BORDER}; border-radius: 3px;
    padding: 3px 8px; }}
QComboBox:focus, QPushButton:focus {{ border: 1px solid {ACCENT}; }}
QPushButton#clearButton {{ background: {CLEAR}; color: white; font-weight: bold;
    font-size: 12pt; padding: 8px 22px; border: 2px solid {CLEAR}; }}
QPushButton#suspectButton {{ background: {SUSPECT}; color: white; font-weight: bold;
    font-size: 12pt; padding: 8px 22px; border: 2px solid {SUSPECT}; }}
QPushButton#clearButton:focus, QPushButton#suspectButton:focus {{ border: 2px solid white; }}
QPushButton#clearButton:disabled, QPushButton#suspectButton:disabled {{
    background: {RAISED}; color: #5d646c; border: 2px solid {BORDER}; }}
QPushButton#continueButton {{ background: {ACCENT}; color: white; font-weight: bold; }}
#sidePanel {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; }}
#sidePanel QLabel {{ background: transparent; }}
#panelTitle {{ color: {MUTED}; font-size: 8pt; font-weight: bold; letter-spacing: 1px; }}
QListWidget {{ background: {WINDOW}; border: 1px solid {BORDER}; border-radius: 3px; }}
QListWidget::item {{ padding: 2px 4px; }}
QListWidget::item:selected {{ background: {RAISED}; }}
QProgressBar {{ background: {RAISED}; border: none; border-radius: 3px; height: 8px;
    text-align: center; color: transparent; }}
QProgressBar::chunk {{ border-radius: 3px; background: {CLEAR}; }}
QProgressBar[state="late"]::chunk {{ background: {AMBER}; }}
QProgressBar[state="over"]::chunk {{ background: {SUSPECT}; }}
#bagLabel {{ font-size: 11pt; font-weight: bold; }}
#aiBadge {{ border-radius: 3px; padding: 3px 8px; font-weight: bold; background: {RAISED}; }}
#aiBadge[phase="shown"] {{ background: #5a1f1f; color: #ffb4b4; }}
#aiBadge[phase="unavailable"] {{ background: #5a4312; color: #ffd98a; }}
#aiBadge[phase="off"] {{ color: {MUTED}; }}
#messageLabel {{ color: {MUTED}; }}
#messageLabel[level="error"] {{ color: #ff8080; font-weight: bold; }}
#messageLabel[level="warning"] {{ color: {AMBER}; }}
#feedbackBanner {{ background: #12324f; border: 2px solid {ACCENT}; border-radius: 4px; }}
#feedbackBanner QLabel {{ background: transparent; font-size: 12pt; }}
QSplitter::handle {{ background: {WINDOW}; }}
"""


def apply_dark_theme(app: QApplication) -> None:
    """Fusion style, a dark palette and the style sheet."""
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: WINDOW, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: WINDOW, QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.ToolTipBase: RAISED, QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: RAISED,
        QPalette.ColorRole.ButtonText: TEXT, QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText,
                     QColor("#5d646c"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#5d646c"))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
