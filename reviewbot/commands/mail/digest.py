"""`reviewbot digest --subsystem NAME [--as-of DATETIME] [--to ADDR] [--dry-run]`.

The maintainers' daily digest of one subsystem: counts by state (with their change
since the previous digest), ready to apply, waiting on reviewers past their time
(by reviewer), new since the last digest, waiting on authors, newly applied,
expiring soon, and the merge-window countdown; unreviewed series with suggested
reviewers. Recipients: --to, else the policy's [digest] recipients (the section's
M: by default, mailmap applied). --dry-run prints the complete RFC 5322 message(s)
on stdout; otherwise they are queued in the outbox (one per recipient and local
day: running it twice queues nothing new) and sent when `[mail] smtp` is set.
The daemon sends it by itself on the policy's days and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime

from reviewbot.adapters.sql import locks
from reviewbot.adapters.sql.mail.outbox import SqlOutbox
from reviewbot.adapters.sql.mail.state import SqlMailState
from reviewbot.commands.db import CommandError, open_app, run_guarded
from reviewbot.commands.mail.setup import cycle_reader, identity, policy_file
from reviewbot.commands.timeargs import NO_MAINTAINERS, add_as_of, now_or
from reviewbot.core.notify.message import EtiquetteError
from reviewbot.service.backlog.queries import UnknownSubsystem
from reviewbot.service.mail.digest import plan_digest, queue_digest
from reviewbot.service.mail.outbox import flush
from reviewbot.service.mail.schedule import CycleSource


def _run(args: argparse.Namespace) -> int:
    app = open_app(args)
    if app.ctx.maintainers is None:
        raise CommandError(f"--subsystem {args.subsystem}: {NO_MAINTAINERS}")
    mail = app.settings.mail
    if mail is None and not args.dry_run:
        raise CommandError("no [mail] in the settings: add `[mail]` with `from` (and `smtp` "
                           "to send), or use --dry-run")
    now = now_or(args.as_of)
    state = SqlMailState(app.engine)
    cycle, why = CycleSource(cycle_reader(args)).at(now)
    try:
        plan = plan_digest(app.reader, app.ctx, args.subsystem, now, digests=state, index=state,
                           cycle=cycle, cycle_error=why, identity=identity(mail),
                           policy_file=policy_file(app.settings, os.environ)(
                               app.ctx.policies.for_subsystem(args.subsystem)), to=args.to or ())
    except UnknownSubsystem as exc:
        raise CommandError(f"no MAINTAINERS section or list is called {exc.args[0]!r}") from exc
    except EtiquetteError as exc:
        raise CommandError(f"the digest breaks the mail rules: {exc}") from exc
    if not plan.recipients:
        raise CommandError(f"nobody to send the {plan.view.subsystem} digest to: its policy's "
                           "[digest] recipients name no one here (use --to)")
    if args.dry_run:
        for n, m in enumerate(plan.mails):
            if n:
                print()
            sys.stdout.write(m.raw.decode("ascii").replace("\r\n", "\n"))
        return 0
    done = queue_digest(plan, SqlOutbox(app.engine), state, now)
    for e in done.queued:
        new = "queued" if e.key in done.new_keys else f"already recorded ({e.state.value})"
        print(f"{new}: {e.key}")
    assert mail is not None
    if mail.smtp is None:
        print("not sent: no [mail] smtp in the settings (the daemon or `outbox flush` sends "
              "once it is set)")
        return 0
    from reviewbot.commands.mail.outbox import mailer_for

    report = asyncio.run(flush(SqlOutbox(app.engine), mailer_for(mail),
                               locks.for_engine(app.engine), mail.retry_policy(),
                               datetime.now(UTC), force=False))
    print(report.summary())
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("digest", help="the maintainers' daily digest of a subsystem",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--subsystem", required=True, metavar="NAME",
                   help="a MAINTAINERS section name (any case) or list address")
    p.add_argument("--to", action="append", metavar="ADDR",
                   help="send to this address instead of the policy's recipients (repeatable)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the complete message(s) instead of queueing them")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--tree", metavar="PATH", help="a kernel repository for the merge-window "
                       "countdown (default: as `reviewbot cycle`)")
    where.add_argument("--upstream", metavar="URL", help=argparse.SUPPRESS)
    add_as_of(p)
    p.set_defaults(func=run_guarded(_run))
