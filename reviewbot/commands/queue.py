"""`reviewbot queue [--subsystem NAME] [--json] [--as-of DATE]`: open series, oldest first.

States are derived at --as-of (default: now) with each series' policy, MAINTAINERS
routing, manual actions and commit matches. With --subsystem (a MAINTAINERS section
name, any case, or one of its list addresses) only that subsystem's series, plus its
figures: open by state, age distribution, oldest waiting, time to first review and
to applied (p50/p90, per latest revision), and reviewers' load.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from reviewbot.commands.db import CommandError, open_app, run_guarded
from reviewbot.commands.timeargs import NO_MAINTAINERS, add_as_of, now_or
from reviewbot.core.backlog.stats import Percentiles
from reviewbot.core.model import SeriesId
from reviewbot.service.queries import Queue, UnknownSubsystem, queue
from reviewbot.service.shapes import days as _days
from reviewbot.service.shapes import entry_json as _entry_json
from reviewbot.service.shapes import stats_json


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


def _print_text(q: Queue, now: datetime) -> None:
    print(f"{'AGE':>5} {'VER':>3} {'PATCHES':>7}  {'STATE':<17} {'TURN':<10} {'TITLE':<60} "
          "AUTHOR")
    for e in q.entries:
        s, st = e.summary, e.status
        title = s.title if len(s.title) <= 60 else s.title[:57] + "..."
        print(f"{_age(now, s.date):>5} {'v' + str(s.version):>3} "
              f"{f'{s.patch_count}/{s.total}':>7}  {st.state.value:<17} {st.turn.value:<10} "
              f"{title:<60} {s.author_name or s.author_email}")
    ignored = f" ({q.ignored} more ignored by policy)" if q.ignored else ""
    print(f"{len(q.entries)} open series{ignored}")
    if q.stats is None:
        return
    fig = q.stats
    titles = {e.summary.series_id: e.summary.title for e in q.entries}
    print(f"\n{q.subsystem} as of {now:%Y-%m-%d %H:%M} UTC")
    print("open by state: " + ", ".join(f"{k} {v}" for k, v in fig.open_by_state.items()))
    print("age since posting: " + ", ".join(f"{k} {v}" for k, v in fig.age_buckets.items()))
    print(f"time to first review: {_pct_text(fig.time_to_first_review)}")
    print(f"time to applied: {_pct_text(fig.time_to_applied)}")
    print("reviewers' load: " + (", ".join(f"{k} {v}" for k, v in fig.reviewer_load.items())
                                 or "nobody assigned"))
    print("oldest waiting (reviewer's or maintainer's turn):")
    for w in fig.oldest_waiting:
        print(f"  {_age(now, w.since):>5}  {w.state.value:<17} {w.turn.value:<10} "
              f"{titles.get(SeriesId(w.series_id), '')[:60]}  <{w.series_id}>")


def _run(args: argparse.Namespace) -> int:
    app = open_app(args)
    now = now_or(args.as_of)  # the CLI is the shell: it may read the clock
    if args.subsystem is not None and app.ctx.maintainers is None:
        raise CommandError(f"--subsystem {args.subsystem}: {NO_MAINTAINERS}")
    try:
        q = queue(app.reader, app.ctx, now, args.subsystem)
    except UnknownSubsystem as exc:
        raise CommandError(f"no MAINTAINERS section or list is called {exc.args[0]!r} (give "
                           "a section name, e.g. 'INFINIBAND SUBSYSTEM', or its list "
                           "address)") from exc
    if not args.json:
        _print_text(q, now)
        return 0
    rows = [_entry_json(e, now) for e in q.entries]
    if q.stats is None:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        print(json.dumps({"subsystem": q.subsystem, "as_of": now.isoformat(), "series": rows,
                          "ignored": q.ignored, "stats": stats_json(q.stats)},
                         indent=2, ensure_ascii=False))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("queue", help="list open series, oldest first (per subsystem: with "
                       "its backlog figures)")
    p.add_argument("--subsystem", metavar="NAME", help="a MAINTAINERS section name (any case) "
                   "or list address, e.g. 'INFINIBAND SUBSYSTEM' or linux-rdma@vger.kernel.org")
    p.add_argument("--json", action="store_true", help="machine-readable output (with "
                   "--subsystem: an object with series, stats)")
    add_as_of(p)
    p.set_defaults(func=run_guarded(_run))
