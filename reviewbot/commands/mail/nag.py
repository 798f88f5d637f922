"""`reviewbot nag [--subsystem NAME] [--as-of DATETIME] [--dry-run]`: reviewer reminders.

For every subsystem whose policy enables `[nag]` (or the one named): the open
series whose reviewer or maintainer is past due, reminded privately (To the
person, Cc the maintainers) if they opted in (`[nag] opt_in`), did not say
`reviewbot: stop`, are not absent, and the caps, cadence, quiet periods and the
merge window allow; escalations to the maintainers after unanswered reminders.
--dry-run prints the decisions and the messages; otherwise they are queued in the
outbox (keys with the local day: running it twice queues nothing new) and sent
when `[mail] smtp` is set. The daemon plans reminders daily by itself.
"""

from __future__ import annotations

import argparse
import sys

from reviewbot.adapters.sql.mail.outbox import SqlOutbox
from reviewbot.adapters.sql.mail.state import SqlMailState
from reviewbot.commands.db import CommandError, open_app, run_guarded
from reviewbot.commands.mail.setup import cycle_reader, identity
from reviewbot.commands.timeargs import NO_MAINTAINERS, add_as_of, now_or
from reviewbot.service.backlog.queries import UnknownSubsystem
from reviewbot.service.mail.nag import NagRun, nag_subsystems, plan_nags, queue_nags
from reviewbot.service.mail.schedule import CycleSource


def _print(run: NagRun) -> None:
    p = run.plan
    print(f"{run.subsystem}: {len(p.send)} to send, {len(p.skipped)} skipped; merge window "
          f"{run.merge_window}" + (f"; quiet: {p.quiet}" if p.quiet else ""))
    for r in p.send:
        print(f"  {r.kind:<10} <{r.series_id}> to {', '.join(r.to)}"
              + (f" cc {', '.join(r.cc)}" if r.cc else "") + f": {r.reason}")
    for s in p.skipped:
        print(f"  {'skipped':<10} <{s.series_id}> {s.recipient}: {s.reason}")


def _run(args: argparse.Namespace) -> int:
    app = open_app(args)
    if app.ctx.maintainers is None:
        raise CommandError(NO_MAINTAINERS)
    mail = app.settings.mail
    if mail is None and not args.dry_run:
        raise CommandError("no [mail] in the settings: add `[mail]` with `from`, or use "
                           "--dry-run")
    now = now_or(args.as_of)
    if args.subsystem:
        names = [args.subsystem]
    else:
        names = [name for name, _ in nag_subsystems(app.ctx)]
        if not names:
            print("no subsystem policy enables [nag]: nothing to remind")
            return 0
    cycle, why = CycleSource(cycle_reader(args)).at(now)
    state = SqlMailState(app.engine)
    outbox = SqlOutbox(app.engine)
    for name in names:
        try:
            run = plan_nags(app.reader, app.ctx, name, now, log=outbox, optouts=state,
                            merge_window_open=cycle.merge_window_open if cycle else None,
                            merge_window_note=why or "", identity=identity(mail))
        except UnknownSubsystem as exc:
            raise CommandError(f"no MAINTAINERS section or list is called "
                               f"{exc.args[0]!r}") from exc
        _print(run)
        if args.dry_run:
            for m in run.mails:
                print()
                sys.stdout.write(m.raw.decode("ascii").replace("\r\n", "\n"))
            continue
        done = queue_nags(run, outbox, now)
        print(f"  queued {len(done.new_keys)} new ({len(done.queued) - len(done.new_keys)} "
              "already recorded); `reviewbot outbox flush` or the daemon sends them")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("nag", help="reviewer reminders and escalations (opt-in, private)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--subsystem", metavar="NAME", help="only this subsystem (default: every "
                   "subsystem whose policy enables [nag])")
    p.add_argument("--dry-run", action="store_true",
                   help="print the decisions and messages instead of queueing them")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--tree", metavar="PATH", help="a kernel repository for the merge "
                       "window (default: as `reviewbot cycle`)")
    where.add_argument("--upstream", metavar="URL", help=argparse.SUPPRESS)
    add_as_of(p)
    p.set_defaults(func=run_guarded(_run))
