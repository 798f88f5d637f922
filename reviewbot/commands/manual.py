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
"""

from __future__ import annotations

import argparse
from datetime import datetime

from reviewbot.commands.backlogctx import context, now_or, parse_when
from reviewbot.commands.db import CommandError, find_series, open_store, run_guarded
from reviewbot.core.backlog.assign import (
    assignment_events,
    claim_event,
    open_load,
    pick_reviewers,
    release_event,
)
from reviewbot.core.backlog.events import EventKind, OverrideAction, SeriesEvent
from reviewbot.core.model import Series
from reviewbot.core.policy.model import address
from reviewbot.service.backlog import track

STATES = {"deferred": OverrideAction.DEFER, "rejected": OverrideAction.REJECT,
          "archived": OverrideAction.ARCHIVE, "snoozed": OverrideAction.SNOOZE,
          "open": OverrideAction.REOPEN}


def _who(text: str) -> str:
    who = address(text)
    if "@" not in who:
        raise CommandError(f"{text!r} is not an email address")
    return who


def _series(args: argparse.Namespace) -> tuple[Series, object]:
    store = open_store(args)
    return find_series(store, args.series, noun="series")[0], store


def _record(args: argparse.Namespace, events: list[SeriesEvent], what: str) -> int:
    series, store = _series(args)
    _, backlog = context(args, store)  # type: ignore[arg-type]
    for e in events:
        backlog.add_action(series.series_id, e)
    print(f"{what} on <{series.series_id}> ({series.title})")
    return 0


def _when(args: argparse.Namespace) -> datetime:
    return now_or(args.at)


def _claim(args: argparse.Namespace) -> int:
    who = _who(args.by)
    return _record(args, [claim_event(who, _when(args))], f"{who} claimed")


def _release(args: argparse.Namespace) -> int:
    who = _who(args.by)
    return _record(args, [release_event(who, _when(args), args.reason or "")],
                   f"{who} released")


def _override(args: argparse.Namespace) -> int:
    who, at = _who(args.by), _when(args)
    action = STATES[args.state]
    if action is OverrideAction.DEFER and args.until is not None:
        action = OverrideAction.SNOOZE  # deferred to a date: wakes by itself
    if action is OverrideAction.SNOOZE and args.until is None:
        raise CommandError("--state snoozed needs --until DATE")
    if args.until is not None and args.until <= at:
        raise CommandError(f"--until {args.until:%Y-%m-%d %H:%M} is not after "
                           f"{at:%Y-%m-%d %H:%M}")
    event = SeriesEvent(at=at, kind=EventKind.OVERRIDE, actor=who, action=action,
                        until=args.until if action is OverrideAction.SNOOZE else None,
                        note=args.reason or "")
    return _record(args, [event], f"{who}: {action.value}")


def _assign(args: argparse.Namespace) -> int:
    at = _when(args)
    by = _who(args.by) if args.by else "reviewbot"
    if args.to:
        who = _who(args.to)
        event = SeriesEvent(at=at, kind=EventKind.ASSIGN, actor=by, target=who,
                            note="assigned by hand")
        return _record(args, [event], f"{who} assigned")
    series, store = _series(args)
    ctx, backlog = context(args, store)  # type: ignore[arg-type]
    tracked = track(backlog, ctx, at)
    mine = tracked.get(series.series_id)
    if mine is None:
        raise CommandError(f"<{series.series_id}> has no state as of {at:%Y-%m-%d %H:%M}")
    taker = mine.routing.taker
    pick = pick_reviewers(mine.policy, at, maintainers=taker.maintainers if taker else (),
                          reviewers=taker.reviewers if taker else (),
                          load=open_load(t.status for t in tracked.values()),
                          author=series.author_email)
    if not pick.reviewers:
        skipped = "; ".join(f"{w}: {why}" for w, why in pick.skipped)
        raise CommandError(f"nobody to assign: {pick.reason}"
                           + (f" ({skipped})" if skipped else "")
                           + ("" if taker else " (the series has no subsystem: is "
                              "MAINTAINERS configured?)"))
    for e in assignment_events(pick, at, by=by):
        backlog.add_action(series.series_id, e)
    print(f"{', '.join(pick.reviewers)} assigned on <{series.series_id}> ({series.title}): "
          f"{pick.reason}")
    return 0


def _common(p: argparse.ArgumentParser, by_required: bool = True) -> None:
    p.add_argument("series", metavar="ID", help="a Message-ID of the series (with or without <>)")
    p.add_argument("--by", required=by_required, metavar="EMAIL", help="who acts")
    p.add_argument("--at", type=parse_when, metavar="DATE",
                   help="when it happened (default: now)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("claim", help="a reviewer takes a series")
    _common(p)
    p.set_defaults(func=run_guarded(_claim))
    p = sub.add_parser("release", help="a reviewer gives a claimed or assigned series back")
    _common(p)
    p.add_argument("--reason", metavar="TEXT")
    p.set_defaults(func=run_guarded(_release))
    p = sub.add_parser("assign", help="assign a reviewer (picked when --to is not given)")
    _common(p, by_required=False)
    p.add_argument("--to", metavar="EMAIL", help="the reviewer (default: pick one)")
    p.set_defaults(func=run_guarded(_assign))
    p = sub.add_parser("override", help="set a series' state by hand (deferred, rejected, "
                       "archived, snoozed; open undoes them)")
    _common(p)
    p.add_argument("--state", required=True, choices=sorted(STATES))
    p.add_argument("--until", type=parse_when, metavar="DATE", help="snooze until")
    p.add_argument("--reason", metavar="TEXT")
    p.set_defaults(func=run_guarded(_override))
