"""Style for the supervisor's and the trainer's views: the workstation's dark theme
(:mod:`screener.ui.theme`) carried over to the form fields, tables, tabs and check boxes
that the screener's screen does not have. Applied on the view, so it adds to the
application's style sheet without changing it."""

from __future__ import annotations

from screener.ui.theme import ACCENT, BORDER, MUTED, PANEL, RAISED, TEXT, WINDOW

SELECTION = "#24476b"

VIEW_STYLE = f"""
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
QLineEdit:disabled {{ color: #5d646c; }}
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
QPushButton[primary="true"]:disabled {{ background: {RAISED}; color: #5d646c;
    border: 1px solid {BORDER}; }}
QWidget#formRow {{ background: transparent; }}
QLabel#fieldError {{ color: #ff8080; background: transparent; }}
QLabel#hint {{ color: {MUTED}; background: transparent; }}
#messageLabel[level="ok"] {{ color: #5fd38a; }}
QTextBrowser {{ background: {PANEL}; border: 1px solid {BORDER}; border-radius: 3px; }}
"""
