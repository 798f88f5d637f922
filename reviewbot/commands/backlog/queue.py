"""`reviewbot queue [--subsystem NAME] [filters] [--ready] [--json] [--as-of DATE]`.

States are derived at --as-of (default: now) with each series' policy, MAINTAINERS
routing, manual actions and commit matches. With --subsystem (a MAINTAINERS section
name, any case, or one of its list addresses) only that subsystem's series, and its
figures first: open by state, expired, age distribution, time to first review and to
applied (p50/p90), reviewers' load and the oldest waiting.

The rows come most urgent first (overdue, then due within a week, then newest
activity); `--order oldest` lists by posting. Filters (service.backlog.queries.QueueFilter):
--state, --turn, --waiting-on EMAIL, --mine (the settings' `me`, else `git config
user.email`), --limit. `--ready` is the maintainer's apply list: reviewed, no NAK, not
applied, oldest first, each row naming the `reviewbot am` command that writes it out and
flagging patches whose signature (DKIM or patatt, checked by b4) failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from reviewbot.commands.db import CommandError, open_app, run_guarded
from reviewbot.commands.timeargs import NO_MAINTAINERS, add_as_of, now_or
from reviewbot.core.backlog.stats import Percentiles
from reviewbot.core.backlog.turn import State, Turn
from reviewbot.service.backlog.queries import (
    Entry,
    Order,
    Queue,
    QueueFilter,
    UnknownSubsystem,
    queue,
)
from reviewbot.service.backlog.shapes import am_command, stats_json
from reviewbot.service.backlog.shapes import days as _days
from reviewbot.service.backlog.shapes import entry_json as _entry_json

if TYPE_CHECKING:  # b4 loads only for --ready
    from reviewbot.adapters.b4.attest import B4Attestor
    from reviewbot.wiring import App


def _age(now: datetime, then: datetime) -> str:
    seconds = max((now - then).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _pct_text(p: Percentiles) -> str:
    if not p.count:
        return "none"
    return f"p50 {_days(p.p50)} d, p90 {_days(p.p90)} d (over {p.count} series)"


def _due_text(e: Entry, now: datetime) -> str:
    due = e.status.due
    if due is None:
        return "-"
    return f"-{_age(now, due)}" if due <= now else f"+{_age(due, now)}"


def _print_figures(q: Queue, now: datetime) -> None:
    fig = q.stats
    assert fig is not None
    print(f"{q.subsystem} as of {now:%Y-%m-%d %H:%M} UTC")
    print(f"open: {fig.open_total} (" + ", ".join(f"{k} {v}" for k, v in
                                                 fig.open_by_state.items()) + ")"
          + (f"; {q.ignored} more ignored by policy" if q.ignored else ""))
    print(f"expired (no activity for the policy's expire_after): {fig.expired}")
    print("age since posting: " + ", ".join(f"{k} {v}" for k, v in fig.age_buckets.items()))
    print(f"time to first review: {_pct_text(fig.time_to_first_review)}")
    print(f"time to applied: {_pct_text(fig.time_to_applied)}")
    print("reviewers' load: " + (", ".join(f"{k} {v}" for k, v in fig.reviewer_load.items())
                                 or "nobody assigned"))
    print("oldest waiting (reviewer's or maintainer's turn):")
    for w in fig.oldest_waiting[:5]:
        print(f"  {_age(now, w.since):>5}  {w.state.value:<17} {w.turn.value:<10} "
              f"<{w.series_id}>")
    print()


def _print_rows(q: Queue, now: datetime, failed: Mapping[str, tuple[int, ...]] | None) -> None:
    print(f"{'DUE':>6} {'AGE':>5} {'VER':>3} {'PATCHES':>7}  {'STATE':<17} {'TURN':<10} "
          f"{'TITLE':<60} AUTHOR")
    for e in q.entries:
        s, st = e.summary, e.status
        title = s.title if len(s.title) <= 60 else s.title[:57] + "..."
        print(f"{_due_text(e, now):>6} {_age(now, s.date):>5} {'v' + str(s.version):>3} "
              f"{f'{s.patch_count}/{s.total}':>7}  {st.state.value:<17} {st.turn.value:<10} "
              f"{title:<60} {s.author_name or s.author_email}")
        if failed is not None:
            bad = failed.get(s.series_id, ())
            flag = (f"  ATTESTATION FAILED on patch {', '.join(map(str, bad))}; "
                    if bad else "  ")
            print(f"{'':>6} {flag}{am_command(s.series_id)}")
    more = f", {q.matched - len(q.entries)} more past --limit" if q.matched > len(q.entries) \
        else ""
    what = "ready to apply" if failed is not None else "open series"
    print(f"{len(q.entries)} {what}{more}"
          + (f" ({q.ignored} more ignored by policy)" if q.ignored and q.stats is None else ""))


def _git_email() -> str | None:
    try:
        out = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True,
                             timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None


def _filters(args: argparse.Namespace, me: str | None) -> QueueFilter:
    who = args.waiting_on
    if args.mine:
        who = me or _git_email()
        if not who:
            raise CommandError("--mine: who are you? Set `me = \"you@example.org\"` in the "
                               "settings file, or git's user.email")
    if args.limit is not None and args.limit < 1:
        raise CommandError(f"--limit must be at least 1, not {args.limit}")
    return QueueFilter(states=frozenset(args.state or ()), turns=frozenset(args.turn or ()),
                       waiting_on=who, ready=args.ready, order=Order(args.order),
                       limit=args.limit)


def attestation_failures(app: App, q: Queue, attestor: B4Attestor | None = None
                         ) -> dict[str, tuple[int, ...]]:
    """Listed series -> patches whose signature b4 found bad (offline: DKIM is not
    checked, patatt against the local keyring). `attestor`: tests answer DNS locally."""
    from reviewbot.adapters.b4.attest import B4Attestor
    from reviewbot.adapters.sql.series.lookup import SqlSeriesLookup

    lookup = SqlSeriesLookup(app.engine, app.raw_reader())
    attestor = attestor or B4Attestor()
    out: dict[str, tuple[int, ...]] = {}
    histories = app.reader.histories([e.summary.series_id for e in q.entries])
    for sid, h in histories.items():
        patches = {p.index: p.message_id for p in h.series.patches}
        results = attestor.attest(lookup.raw_messages(list(patches.values())))
        out[sid] = tuple(i for i, mid in sorted(patches.items())
                         if mid in results and results[mid].result == "fail")
    return out


def _run(args: argparse.Namespace) -> int:
    app = open_app(args)
    now = now_or(args.as_of)  # the CLI is the shell: it may read the clock
    if args.subsystem is not None and app.ctx.maintainers is None:
        raise CommandError(f"--subsystem {args.subsystem}: {NO_MAINTAINERS}")
    filters = _filters(args, app.settings.me)
    try:
        q = queue(app.reader, app.ctx, now, args.subsystem, filters)
    except UnknownSubsystem as exc:
        raise CommandError(f"no MAINTAINERS section or list is called {exc.args[0]!r} (give "
                           "a section name, e.g. 'INFINIBAND SUBSYSTEM', or its list "
                           "address)") from exc
    failed = attestation_failures(app, q) if args.ready else None
    if not args.json:
        if q.stats is not None:
            _print_figures(q, now)
        _print_rows(q, now, failed)
        return 0
    rows = [_entry_json(e, now, failed) for e in q.entries]
    if q.stats is None:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print(json.dumps({"subsystem": q.subsystem, "as_of": now.isoformat(), "series": rows,
                          "ignored": q.ignored, "stats": stats_json(q.stats),
                          "matched": q.matched}, indent=2, ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("queue", help="list open series, most urgent first (per subsystem: "
                       "its backlog figures first)")
    p.add_argument("--subsystem", metavar="NAME", help="a MAINTAINERS section name (any case) "
                   "or list address, e.g. 'INFINIBAND SUBSYSTEM' or linux-rdma@vger.kernel.org")
    p.add_argument("--state", action="append", metavar="STATE",
                   choices=[s.value for s in State], help="only series in this state "
                   "(repeatable): " + ", ".join(s.value for s in State))
    p.add_argument("--turn", action="append", metavar="TURN", choices=[t.value for t in Turn],
                   help="only series whose turn it is (repeatable): "
                   + ", ".join(t.value for t in Turn))
    who = p.add_mutually_exclusive_group()
    who.add_argument("--waiting-on", metavar="EMAIL", help="only series waiting on this "
                     "person (any of their addresses)")
    who.add_argument("--mine", action="store_true", help="only series waiting on you (the "
                     "settings' `me`, else git's user.email)")
    p.add_argument("--ready", action="store_true", help="the apply list: reviewed, no NAK, "
                   "not applied, oldest first, with the `reviewbot am` command for each")
    p.add_argument("--order", choices=[o.value for o in Order], default=Order.URGENCY.value,
                   help="urgency (default: overdue, then due within a week, then newest "
                   "activity) or oldest (by posting)")
    p.add_argument("--limit", type=int, metavar="N", help="show at most N series")
    p.add_argument("--json", action="store_true", help="machine-readable output (with "
                   "--subsystem: an object with series, stats)")
    add_as_of(p)
    p.set_defaults(func=run_guarded(_run))
