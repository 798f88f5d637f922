"""Wiring shared by the mail commands (digest, nag, report) and the daemon's mail loops.

Not a command itself: `build_mail_loops` is what `reviewbot run` adds beside its
pollers (service.mail.schedule.MailLoops), built from `[mail]` the same way the
commands build their pieces, so a dry run and the daemon plan the same mail.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from reviewbot import __version__
from reviewbot.adapters.sql import locks
from reviewbot.adapters.sql.mail.outbox import SqlOutbox
from reviewbot.adapters.sql.mail.state import SqlMailState, SqlNewMail
from reviewbot.commands.db import CommandError
from reviewbot.config import MailSettings, Settings
from reviewbot.core.notify.addresses import DEFAULT_LORE
from reviewbot.core.policy.model import Policy
from reviewbot.service.mail.digest import MailIdentity
from reviewbot.service.mail.mailcmd import CommandPolicy
from reviewbot.service.mail.mailexec import CommandEnv
from reviewbot.service.mail.schedule import CycleSource, MailLoops
from reviewbot.wiring import App, policy_dir

DRY_RUN_FROM = "reviewbot <reviewbot@localhost>"  # a dry run without [mail] still shows a mail


def identity(mail: MailSettings | None) -> MailIdentity:
    if mail is None:
        return MailIdentity(DRY_RUN_FROM, DEFAULT_LORE, __version__)
    return MailIdentity(mail.sender, mail.lore, __version__)


def policy_file(conf: Settings, env: Mapping[str, str]) -> Callable[[Policy], str]:
    """Where a policy's file is, for footers ("policies/infiniband.toml")."""
    try:
        directory = policy_dir(conf, env)
    except ValueError:
        directory = None

    # The directory's own name only: a mail line has 80 columns, a deployment's path more.
    folder = directory.name if directory is not None and directory.name else "policies"

    def name(p: Policy) -> str:
        return f"{folder}/{p.name}.toml"
    return name


def cycle_reader(args: argparse.Namespace) -> Callable[[], list[tuple[str, datetime | None]]]:
    """Mainline tags as `reviewbot cycle` finds them (--tree/--upstream, $REVIEWBOT_MAINLINE,
    `maintainers` when a git repository, else torvalds/linux)."""
    from reviewbot.commands.trees.cycle import tag_source

    return tag_source(args).tags


def command_env(app: App, state: SqlMailState, outbox: SqlOutbox) -> CommandEnv:
    return CommandEnv(app.reader, app.actions, lambda: app.ctx, outbox, state, state,
                      refresh=app.refresh)


def build_mail_loops(app: App, args: argparse.Namespace, *,
                     clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                     interval: float = 300.0, dns: object = None) -> MailLoops | None:
    """The daemon's mail loops, or None without `[mail]` in the settings."""
    conf = app.settings
    mail = conf.mail
    if mail is None:
        return None
    outbox = SqlOutbox(app.engine)
    state = SqlMailState(app.engine)
    mailer = None
    if mail.smtp is not None:
        from reviewbot.commands.mail.outbox import mailer_for

        mailer = mailer_for(mail)
    from reviewbot.adapters.mail.dkim import DkimpyVerifier
    from reviewbot.adapters.mail.maildir import CommandMaildir

    maildir = None
    if mail.commands_maildir is not None:
        if not mail.commands_maildir.is_dir():
            raise CommandError(f"[mail] commands_maildir {mail.commands_maildir}: no such "
                               "directory")
        maildir = CommandMaildir(mail.commands_maildir)
    return MailLoops(
        outbox=outbox, sent=outbox, locks=locks.for_engine(app.engine),
        identity=identity(mail), ctx=lambda: app.ctx, reader=app.reader, digests=state,
        index=state, optouts=state, env=command_env(app, state, outbox), clock=clock,
        cycle=CycleSource(cycle_reader(args)), mailer=mailer, retry=mail.retry_policy(),
        policy_file=policy_file(conf, os.environ), maildir=maildir,
        new_mail=SqlNewMail(app.engine), raw_reader=app.raw_reader(),
        verifier=DkimpyVerifier(dns) if dns is not None else DkimpyVerifier(),  # type: ignore[arg-type]
        seen=outbox,
        command_policy=CommandPolicy(frozenset({mail.address.lower()}), mail.trusted_relay),
        interval=interval)
