"""Passwords for commands that log someone in: asked at the terminal (never taken as
arguments, where they would land in the shell history), or read one per line from stdin
with ``--password-stdin`` (scripts, tests)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator

from screener.errors import ScreenerError


class PasswordPrompt:
    """Passwords from the terminal, or from stdin lines with --password-stdin."""

    def __init__(self, from_stdin: bool) -> None:
        self._lines: Iterator[str] | None = iter(sys.stdin.read().splitlines()) \
            if from_stdin else None

    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        if self._lines is not None:
            try:
                return next(self._lines)
            except StopIteration:
                raise ScreenerError(f"--password-stdin: no line left for: {prompt}") \
                    from None
        first = getpass.getpass(f"{prompt}: ")
        if confirm and getpass.getpass(f"{prompt} (again): ") != first:
            raise ScreenerError("the two passwords differ; nothing was changed")
        return first
