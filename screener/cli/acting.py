"""Commands that act in someone's name log that person in, as the workstation does.

``--as ID`` names the user; the password is asked at the terminal (never an argument),
or read from stdin with ``--password-stdin``. :func:`acting_as` logs the user in with
:meth:`Accounts.login <screener.accounts.users.Accounts.login>` (wrong passwords count
towards the lockout; every attempt is logged), checks the role with
:class:`~screener.workflow.roles.Guard` (a refusal is logged as ``auth.denied``), hands
over the :class:`~screener.workflow.session.Operator` whose id and role the command
logs, and logs them out when the command ends. A refused login or role raises a
:class:`~screener.errors.ScreenerError` before the command changes anything: one line on
stderr, exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from screener.accounts.users import Accounts
from screener.audit.log import AuditLog
from screener.cli.passwords import PasswordPrompt
from screener.errors import ScreenerError
from screener.workflow.roles import ACTION_DESCRIPTIONS, Action, Guard
from screener.workflow.session import Operator

FAILED = "command failed"


def add_acting_arguments(parser: argparse.ArgumentParser, who: str, *,
                         required: bool = True) -> None:
    """``--as ID`` (``args.acting``) and ``--password-stdin``. ``who`` says whose id it
    is ("the administrator who rotates the key"). With ``required=False`` (a command whose
    other forms need no login) :func:`acting_as` says when it is missing."""
    parser.add_argument("--as", dest="acting", required=required, metavar="ID",
                        help=f"{who}: logs in with that account's password")
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password from stdin instead of prompting")


def acting_user(args: argparse.Namespace, action: Action) -> str:
    """The ``--as`` id; a :class:`ScreenerError` when it is missing (check it before
    opening anything, where ``--as`` is optional)."""
    user_id: str | None = args.acting
    if not user_id:
        raise ScreenerError(f"--as ID is needed to {ACTION_DESCRIPTIONS[action]}: the "
                            "user who does it logs in")
    return user_id


@contextmanager
def acting_as(log: AuditLog, args: argparse.Namespace, action: Action, *,
              subject: str | None = None,
              passwords: PasswordPrompt | None = None) -> Iterator[Operator]:
    """Log ``args.acting`` in on ``log``, require ``action`` of their role, yield them,
    and log them out at the end (also when the command fails)."""
    user_id = acting_user(args, action)
    prompt = passwords if passwords is not None else PasswordPrompt(args.password_stdin)
    accounts = Accounts(log)
    operator = accounts.login(user_id, prompt.ask(f"password of {user_id}"))
    try:
        Guard(log).require(operator.id, operator.role, action, subject=subject)
        yield operator
    except BaseException:
        with suppress(ScreenerError):  # the command's own error is the one to report
            accounts.logout(operator, FAILED)
        raise
    accounts.logout(operator)
