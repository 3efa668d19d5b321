"""``screener gui``: the workstation window (Qt-free registration).

The CLI stays headless: this module adds the sub-command without importing Qt. Qt is
loaded only when ``gui`` runs (``screener.ui.app``); if PySide6 is missing the command
says how to install it instead of failing with a traceback.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from screener.errors import ScreenerError


class GuiUnavailableError(ScreenerError):
    """The Qt workstation cannot start on this machine."""


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gui = commands.add_parser(
        "gui", help="open the screening workstation window",
        description="The station's workstation: log in, then the views of your role. "
        "Screeners get bags from the demo conveyor or a watch folder, enhancement "
        "functions, AI flags, TIP and Clear/Suspect decisions into the audit log. With "
        "--demo on a new installation, demo accounts (one per role) are created and listed "
        "on the login screen; on an installation without accounts the first screen creates "
        "the administrator. Offscreen: QT_QPA_PLATFORM=offscreen.")
    add_arguments(gui)
    gui.set_defaults(run=run_gui)


def add_arguments(gui: argparse.ArgumentParser) -> None:
    """The workstation's options (shared by ``screener gui`` and ``python -m screener.ui``)."""
    gui.add_argument("--demo", type=Path, metavar="DIR",
                     help="deliver the scans of a `screener demo` folder on a conveyor")
    gui.add_argument("--watch", type=Path, metavar="DIR",
                     help="screen new scan files (.h5, .png, .jpg, .npy) appearing in DIR")
    gui.add_argument("--bags-per-minute", type=float, default=None,
                     help="demo conveyor rate (default 6)")
    gui.add_argument("--ai", choices=["off", "after-first-look", "always"], default=None,
                     dest="ai_mode", help="when the AI's boxes are shown (default always)")
    gui.add_argument("--model", type=Path, help="ONNX model for every scan (default: the "
                     "shipped model for each scan's kind)")
    gui.add_argument("--no-ai", action="store_true", help="run without a detector")
    gui.add_argument("--tip-library", type=Path, metavar="FILE",
                     help="FTI library for Threat Image Projection (and blind tests); with "
                     "--demo and no library, a small simulated one is built once under the "
                     "home folder")
    gui.add_argument("--no-tip", action="store_true",
                     help="no Threat Image Projection at this station")
    gui.add_argument("--decision-time", type=float, default=None, metavar="S",
                     help="seconds to decide on a bag before the belt stops (default 20)")
    gui.add_argument("--keys", type=Path, metavar="FILE",
                     help="key bindings (JSON, format screener-key-bindings)")
    gui.add_argument("--ui-settings", type=Path, metavar="FILE",
                     help="workstation settings (JSON, format screener-workstation-settings)")
    gui.add_argument("--presets", type=Path, metavar="FILE",
                     help="enhancement presets (default: the shipped presets.json)")
    gui.add_argument("--quit-after", type=float, default=None, metavar="S",
                     help=argparse.SUPPRESS)  # smoke tests: close the window after S seconds


#: Debian/Ubuntu packages Qt's widgets and its X11 (xcb) platform plugin load.
QT_SYSTEM_PACKAGES = ("libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 "
                      "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 "
                      "libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 "
                      "libxcb-xkb1 libxkbcommon-x11-0")


def run_gui(args: argparse.Namespace) -> int:
    try:
        app = importlib.import_module("screener.ui.app")
    except ImportError as exc:
        raise GuiUnavailableError(missing_qt(exc)) from None
    code: int = app.run_from_args(args)
    return code


def missing_qt(error: ImportError) -> str:
    """What to install when Qt cannot be imported: PySide6 itself, or a system library
    its wheel needs (named in the error)."""
    text = " ".join(str(error).split())
    if ".so" in text:
        return (f"Qt cannot load a system library ({text}); Debian/Ubuntu: apt-get install "
                f"{QT_SYSTEM_PACKAGES}")
    return (f"the workstation window needs PySide6 ({text}); install it with "
            "`pip install PySide6-Essentials`, or use the headless commands")
