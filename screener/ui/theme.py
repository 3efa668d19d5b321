"""The workstation's dark theme: a Fusion palette and its style sheets.

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
DISABLED = "#5d646c"
ERROR = "#ff8080"
#: Text for a pass on the dark panels, the counterpart of ERROR.
PASSED = "#5fd38a"
SELECTION = "#24476b"

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
    background: {RAISED}; color: {DISABLED}; border: 2px solid {BORDER}; }}
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
#messageLabel[level="error"] {{ color: {ERROR}; font-weight: bold; }}
#messageLabel[level="warning"] {{ color: {AMBER}; }}
#feedbackBanner {{ background: #12324f; border: 2px solid {ACCENT}; border-radius: 4px; }}
#feedbackBanner QLabel {{ background: transparent; font-size: 12pt; }}
QSplitter::handle {{ background: {WINDOW}; }}
"""

#: Added by the supervisor's and the trainer's views: the form fields, tables, tabs and
#: check boxes that the screener's screen does not have, and ``primary`` buttons.
TIP_VIEWS_STYLE = f"""
QCheckBox, QRadioButton {{ background: transparent; }}
QCheckBox::indicator, QRadioButton::indicator {{ width: 13px; height: 13px;
    border: 1px solid #5a626c; background: {PANEL}; border-radius: 3px; }}
QRadioButton::indicator {{ border-radius: 7px; }}
QCheckBox::indicator:checked, QRadioButton::indicator:checked {{ background: {ACCENT};
    border: 1px solid {ACCENT}; }}
QCheckBox:focus, QRadioButton:focus {{ color: #ffffff; }}
QCheckBox::indicator:focus, QRadioButton::indicator:focus {{ border: 1px solid #ffffff; }}
QLineEdit {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 3px;
    padding: 3px 6px; selection-background-color: {SELECTION}; }}
QLineEdit:focus {{ border: 1px solid {ACCENT}; }}
QLineEdit:disabled {{ color: {DISABLED}; }}
QTableView, QTreeWidget, QListWidget {{ background: {WINDOW};
    alternate-background-color: {PANEL}; border: 1px solid {BORDER}; border-radius: 3px;
    selection-background-color: {SELECTION}; selection-color: #ffffff; }}
QTableView:focus, QTreeWidget:focus, QListWidget:focus {{ border: 1px solid {ACCENT}; }}
QTableView::item, QTreeWidget::item {{ padding: 0 4px; }}
QHeaderView::section {{ background: {RAISED}; color: {MUTED}; border: none;
    border-right: 1px solid {BORDER}; border-bottom: 1px solid {BORDER}; padding: 4px 6px;
    font-weight: bold; }}
QTabWidget::pane {{ border: none; }}
QTabBar::tab {{ background: transparent; color: {MUTED}; padding: 6px 16px;
    border: none; border-bottom: 2px solid transparent; }}
QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:hover {{ color: {TEXT}; }}
QTabBar::tab:focus {{ color: #ffffff; }}
QScrollBar:horizontal, QScrollBar:vertical {{ background: {WINDOW}; border: none;
    width: 10px; height: 10px; }}
QScrollBar::handle {{ background: {RAISED}; border-radius: 4px; min-width: 24px;
    min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QPushButton:default {{ border: 1px solid {ACCENT}; }}
QPushButton[primary="true"] {{ background: {ACCENT}; color: white; font-weight: bold;
    border: 1px solid {ACCENT}; padding: 4px 14px; }}
QPushButton[primary="true"]:focus {{ border: 1px solid #ffffff; }}
QPushButton[primary="true"]:disabled {{ background: {RAISED}; color: {DISABLED};
    border: 1px solid {BORDER}; }}
QWidget#formRow {{ background: transparent; }}
QLabel#fieldError {{ color: {ERROR}; background: transparent; }}
QLabel#hint {{ color: {MUTED}; background: transparent; }}
#messageLabel[level="ok"] {{ color: {PASSED}; }}
QTextBrowser {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 3px; }}
"""

#: Added by the investigator's and the administrator's views: forms, tables, tabs, cards,
#: status lines and chips (:mod:`screener.ui.widgets`).
CHAIN_VIEWS_STYLE = f"""
QLineEdit, QSpinBox, QPlainTextEdit, QTextBrowser {{ background: {WINDOW};
    border: 1px solid {BORDER}; border-radius: 3px; padding: 3px 6px;
    selection-background-color: {ACCENT}; }}
QLineEdit:focus, QSpinBox:focus, QPlainTextEdit:focus, QTextBrowser:focus {{
    border: 1px solid {ACCENT}; }}
QLineEdit[invalid="true"] {{ border: 1px solid {SUSPECT}; }}
QLineEdit:disabled {{ color: {DISABLED}; }}
QComboBox QAbstractItemView {{ background: {RAISED}; border: 1px solid {BORDER};
    selection-background-color: {ACCENT}; }}
QPushButton:hover {{ background: #2f353c; }}
QPushButton:disabled {{ color: {DISABLED}; }}
QPushButton#primaryButton {{ background: {ACCENT}; color: white; font-weight: bold;
    border: 1px solid {ACCENT}; padding: 4px 14px; }}
QPushButton#primaryButton:focus {{ border: 1px solid white; }}
QPushButton#primaryButton:disabled {{ background: {RAISED}; color: {DISABLED};
    border: 1px solid {BORDER}; }}
QPushButton#dangerButton {{ background: #4a1c1c; color: #ffc2c2; border: 1px solid {SUSPECT};
    padding: 4px 14px; }}
QPushButton#dangerButton:focus {{ border: 1px solid white; }}
QPushButton#dangerButton:disabled {{ background: {RAISED}; color: {DISABLED};
    border: 1px solid {BORDER}; }}
QTableView {{ background: {WINDOW}; alternate-background-color: #1a1e23;
    border: 1px solid {BORDER}; border-radius: 3px; gridline-color: {BORDER};
    selection-background-color: #22486e; selection-color: white; }}
QTableView:focus {{ border: 1px solid {ACCENT}; }}
QTableView::item {{ padding: 2px 6px; }}
QHeaderView::section {{ background: {PANEL}; color: {MUTED}; border: none;
    border-right: 1px solid {BORDER}; border-bottom: 1px solid {BORDER}; padding: 4px 6px;
    font-weight: bold; }}
QTableCornerButton::section {{ background: {PANEL}; border: none; }}
QTabWidget::pane {{ border: 1px solid {BORDER}; border-radius: 4px; top: -1px;
    background: {PANEL}; }}
QTabBar::tab {{ background: {WINDOW}; color: {MUTED}; padding: 6px 16px;
    border: 1px solid {BORDER}; border-bottom: none; border-top-left-radius: 4px;
    border-top-right-radius: 4px; margin-right: 2px; }}
QTabBar::tab:selected {{ background: {PANEL}; color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
QTabBar::tab:focus {{ color: white; }}
QTabWidget > QWidget {{ background: {PANEL}; }}
#card {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; }}
#card QLabel, #card QCheckBox, #card QRadioButton, #tabPage QLabel, #tabPage QCheckBox,
#tabPage QRadioButton {{ background: transparent; }}
#tabPage {{ background: {PANEL}; }}
#fieldError {{ color: {ERROR}; background: transparent; }}
#fieldLabel {{ color: {MUTED}; background: transparent; }}
#valueLabel {{ color: {TEXT}; background: transparent; }}
#fingerprint {{ font-family: monospace; font-size: 11pt; color: {TEXT}; background: transparent; }}
#statusLine {{ color: {MUTED}; background: transparent; }}
#statusLine[level="ok"] {{ color: {CLEAR}; font-weight: bold; }}
#statusLine[level="error"] {{ color: {ERROR}; font-weight: bold; }}
#statusLine[level="warning"] {{ color: {AMBER}; }}
#statusLine[level="busy"] {{ color: {ACCENT}; }}
#chip {{ border-radius: 3px; padding: 3px 10px; font-weight: bold; background: {RAISED};
    color: {MUTED}; }}
#chip[level="ok"] {{ background: #173d27; color: #8ee6ad; }}
#chip[level="error"] {{ background: #5a1f1f; color: #ffb4b4; }}
#chip[level="busy"] {{ background: #12324f; color: #9cc9f5; }}
#chip[level="warning"] {{ background: #5a4312; color: #ffd98a; }}
#confirmBar {{ background: #2a1c1c; border: 1px solid {SUSPECT}; border-radius: 4px; }}
#confirmBar QLabel {{ background: transparent; color: {TEXT}; }}
QProgressBar#taskProgress {{ max-height: 8px; }}
QProgressBar#taskProgress::chunk {{ background: {ACCENT}; }}
QProgressBar#taskProgress[state="ok"]::chunk {{ background: {CLEAR}; }}
QProgressBar#taskProgress[state="error"]::chunk {{ background: {SUSPECT}; }}
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
                     QColor(DISABLED))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(DISABLED))
    app.setPalette(palette)
    app.setStyleSheet(STYLE_SHEET)
