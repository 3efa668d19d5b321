"""The ``screener`` command: every headless operation of the workstation.

Each sub-command lives in its own module with a ``register(subparsers)`` function. Errors
Screener raises on purpose end as one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from screener import __version__
from screener.cli import (
    audit_command,
    blind_test_command,
    demo_command,
    detect_command,
    eval_command,
    evidence_command,
    render_command,
    retention_command,
    scan_commands,
    simulate_commands,
    tip_command,
    user_command,
)
from screener.config import load_settings
from screener.errors import ScreenerError
from screener.ui import command as gui_command

EXIT_OK = 0
EXIT_ERROR = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="screener",
        description="Screener: open X-ray security-screening workstation (headless commands).",
    )
    parser.add_argument("--version", action="version", version=f"screener {__version__}")
    parser.add_argument("--config", type=Path, help="settings file (TOML); default "
                        "$SCREENER_CONFIG or ~/.config/screener/screener.toml")
    parser.add_argument("--home", type=Path, help="data folder (scan store, databases)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        audit_command,
        blind_test_command,
        demo_command,
        detect_command,
        eval_command,
        evidence_command,
        gui_command,
        render_command,
        retention_command,
        scan_commands,
        simulate_commands,
        tip_command,
        user_command,
    ):
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.settings = load_settings(args.config, overrides={"home": args.home})
        code: int = args.run(args)
    except ScreenerError as exc:
        print(f"screener: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("screener: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code
