"""Manual backlog actions, each stored as an event with its actor and time:

    reviewbot claim <id> --by EMAIL          a reviewer takes the series
    reviewbot release <id> --by EMAIL        ... and gives it back
    reviewbot assign <id> [--to EMAIL]       name a reviewer; without --to, pick from the
                                             taker section's R:/M: and the policy's pool,
                                             least loaded first, skipping absences
    reviewbot override <id> --state STATE --by EMAIL [--until DATE] [--reason TEXT]

STATE: deferred, rejected, archived, snoozed (needs --until), or open (undo the
others). `deferred --until DATE` is a snooze: it wakes by itself on DATE. <id> is any
Message-ID of the series. `--at` records an action made earlier (default: now).
`--by` defaults to `git config user.email`, as b4 does.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from reviewbot.commands.db import CommandError, open_app, run_guarded, unknown_series
from reviewbot.commands.timeargs import now_or, parse_when
from reviewbot.locations import git_config
from reviewbot.service.backlog import manual
from reviewbot.service.backlog.manual import STATES, ActionDone, ActionRefused
from reviewbot.service.backlog.queries import UnknownSeries
from reviewbot.wiring import App


def _act(args: argparse.Namespace, do: Callable[[App], ActionDone]) -> int:
    if args.by is None and args.by_required:  # assign without --by: reviewbot picked
        args.by = git_config("user.email", os.environ)
    if args.by is None and args.by_required:
        raise CommandError(f"who acts? give --by EMAIL, or set `git config user.email` "
                           f"(`{args.command}` records the actor)")
    app = open_app(args, write=True)
    try:
        done = do(app)
    except ActionRefused as exc:
        raise CommandError(str(exc)) from exc
    except UnknownSeries as exc:
        raise CommandError(unknown_series(args.series.strip("<> "),
                                          exc.args[1] == "in no series", "series")) from exc
    app.refresh()  # the series' standing reflects the action at once
    print(done.summary())
    return 0


def _claim(args: argparse.Namespace) -> int:
    return _act(args, lambda app: manual.claim(app.reader, app.actions, args.series, args.by,
                                               now_or(args.at)))


def _release(args: argparse.Namespace) -> int:
    return _act(args, lambda app: manual.release(app.reader, app.actions, args.series,
                                                 args.by, now_or(args.at), args.reason or ""))


def _override(args: argparse.Namespace) -> int:
    return _act(args, lambda app: manual.override(
        app.reader, app.actions, args.series, args.by, now_or(args.at), args.state,
        args.until, args.reason or ""))


def _assign(args: argparse.Namespace) -> int:
    return _act(args, lambda app: manual.assign(app.reader, app.actions, app.ctx, args.series,
                                                now_or(args.at), by=args.by, to=args.to))


def _common(p: argparse.ArgumentParser, by_required: bool = True) -> None:
    p.add_argument("series", metavar="ID", help="a Message-ID of the series (with or without <>)")
    p.add_argument("--by", metavar="EMAIL",
                   help="who acts (default: git config user.email)" if by_required else
                   "who acts (default: reviewbot itself)")
    p.set_defaults(by_required=by_required)
    p.add_argument("--at", type=parse_when, metavar="DATE",
                   help="when it happened (default: now)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("claim", help="a reviewer takes a series")
    _common(p)
    p.set_defaults(func=run_guarded(_claim))
    p = sub.add_parser("release", help="a reviewer gives a claimed or assigned series back")
    _common(p)
    p.add_argument("--reason", metavar="TEXT", help="why (recorded with the action)")
    p.set_defaults(func=run_guarded(_release))
    p = sub.add_parser("assign", help="assign a reviewer (picked when --to is not given)")
    _common(p, by_required=False)
    p.add_argument("--to", metavar="EMAIL", help="the reviewer (default: pick one)")
    p.set_defaults(func=run_guarded(_assign))
    p = sub.add_parser("override", help="set a series' state by hand (deferred, rejected, "
                       "archived, snoozed; open undoes them)")
    _common(p)
    p.add_argument("--state", required=True, choices=sorted(STATES),
                   help="the state to set (open undoes an earlier override)")
    p.add_argument("--until", type=parse_when, metavar="DATE", help="snooze until")
    p.add_argument("--reason", metavar="TEXT", help="why (recorded with the action)")
    p.set_defaults(func=run_guarded(_override))
