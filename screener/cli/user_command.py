"""``screener user ...``: operator accounts (docs/accounts.md).

``init`` creates the first administrator of a new installation; every other change is
made by an administrator who logs in with ``--as ID`` (a real login: logged, and
counted towards lockout). Passwords are asked at the terminal, never taken as
arguments; ``--password-stdin`` reads them one per line instead (scripts, tests): the
acting administrator's first, then the new password where there is one.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from screener.accounts.users import Account, Accounts
from screener.audit.log import open_audit_log
from screener.cli.passwords import PasswordPrompt
from screener.config import Settings
from screener.workflow.roles import Role
from screener.workflow.session import Operator


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    user = commands.add_parser("user", help="operator accounts: create, list, unlock, roles")
    user.add_argument("--db", metavar="URL", help="audit database (default: the station's)")
    user.add_argument("--password-stdin", action="store_true",
                      help="read passwords from stdin, one per line, instead of prompting")
    actions = user.add_subparsers(dest="user_action", required=True, metavar="ACTION")

    init = actions.add_parser("init", help="create the first administrator (new install)")
    init.add_argument("user_id")
    init.add_argument("--name", default="", help="display name")
    init.set_defaults(run=run_init)

    demo = actions.add_parser("demo", help="create the demo accounts (one per role)")
    demo.set_defaults(run=run_demo)

    listing = actions.add_parser("list", help="accounts, roles and lock state")
    listing.set_defaults(run=run_list)

    add = actions.add_parser("add", help="create an account")
    add.add_argument("user_id")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--name", default="", help="display name")
    _acting(add)
    add.set_defaults(run=run_add)

    for name, helptext in (("unlock", "unlock an account locked by failed logins"),
                           ("disable", "disable an account"), ("enable", "enable it again"),
                           ("passwd", "set a new password for an account")):
        sub = actions.add_parser(name, help=helptext)
        sub.add_argument("user_id")
        _acting(sub)
        sub.set_defaults(run=run_change, change=name)

    role = actions.add_parser("role", help="change an account's role")
    role.add_argument("user_id")
    role.add_argument("role", choices=[r.value for r in Role])
    _acting(role)
    role.set_defaults(run=run_change, change="role")


def _acting(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as", dest="admin", required=True, metavar="ADMIN",
                        help="the administrator making the change (logs in)")


def _accounts(args: argparse.Namespace) -> Accounts:
    settings: Settings = args.settings
    log = open_audit_log(settings.home, settings.station,
                         url=args.db or settings.audit_db or None,
                         checkpoint_every=settings.checkpoint_every)
    return Accounts(log)


def _admin(accounts: Accounts, args: argparse.Namespace, passwords: PasswordPrompt) -> Operator:
    return accounts.login(args.admin, passwords.ask(f"password of {args.admin}"))


def run_init(args: argparse.Namespace) -> int:
    passwords = PasswordPrompt(args.password_stdin)
    accounts = _accounts(args)
    try:
        accounts.create_first_admin(args.user_id, passwords.ask(
            f"new password for {args.user_id}", confirm=True), args.name)
    finally:
        accounts.log.close("accounts changed")
    print(f"created administrator {args.user_id}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        users = accounts.seed_demo_users()
    finally:
        accounts.log.close("accounts changed")
    print("demo accounts (DEMO MODE: published passwords; never on a real checkpoint):")
    for user_id, role, password in users:
        print(f"  {user_id:<14} {role.value:<13} password {password}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    accounts = _accounts(args)
    try:
        found = accounts.all()
    finally:
        accounts.engine.dispose()
    if not found:
        print("no accounts yet: create the first administrator with 'screener user init ID'")
        return 0
    now = datetime.now(UTC)
    print(f"{'user':<16}{'role':<14}{'state':<26}name")
    for account in found:
        print(f"{account.user_id:<16}{account.role.value:<14}{_state(account, now):<26}"
              f"{account.display_name}")
    return 0


def _state(account: Account, now: datetime) -> str:
    if account.disabled:
        return "disabled"
    if account.locked(now):
        return f"locked until {account.locked_until_utc or ''}"[:25]
    return "demo" if account.demo else "active"


def run_add(args: argparse.Namespace) -> int:
    passwords = PasswordPrompt(args.password_stdin)
    accounts = _accounts(args)
    try:
        admin = _admin(accounts, args, passwords)
        accounts.create(admin, args.user_id, Role(args.role),
                        passwords.ask(f"new password for {args.user_id}", confirm=True),
                        args.name)
        accounts.logout(admin)
    finally:
        accounts.log.close("accounts changed")
    print(f"created {args.role} {args.user_id}")
    return 0


def run_change(args: argparse.Namespace) -> int:
    passwords = PasswordPrompt(args.password_stdin)
    accounts = _accounts(args)
    try:
        admin = _admin(accounts, args, passwords)
        if args.change == "unlock":
            accounts.unlock(admin, args.user_id)
        elif args.change in ("disable", "enable"):
            accounts.set_disabled(admin, args.user_id, args.change == "disable")
        elif args.change == "passwd":
            accounts.reset_password(admin, args.user_id, passwords.ask(
                f"new password for {args.user_id}", confirm=True))
        else:
            accounts.set_role(admin, args.user_id, Role(args.role))
        accounts.logout(admin)
    finally:
        accounts.log.close("accounts changed")
    print(f"{args.user_id}: {args.change} done")
    return 0
