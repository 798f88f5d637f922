"""`reviewbot suggest <message-id> [--json] [--as-of DATE]`: who should review a series.

Ranks the routed sections' R: and M:, the policy's reviewers pool, and the people
who gave Reviewed-by/Acked-by on the list in the past year to series touching the
same files, weighted by recency and by how many open series wait on them now;
each with the reasons (README, "Reviewer suggestions").
"""

from __future__ import annotations

import argparse
import json

from reviewbot.adapters.sql.mail.state import SqlMailState
from reviewbot.commands.db import CommandError, open_app, run_guarded, unknown_series
from reviewbot.commands.timeargs import add_as_of, now_or
from reviewbot.service.backlog.queries import NotYetPosted, UnknownSeries
from reviewbot.service.mail.suggest import suggest


def _run(args: argparse.Namespace) -> int:
    app = open_app(args)
    now = now_or(args.as_of)
    mid = args.message_id.strip().removeprefix("<").removesuffix(">")
    try:
        res = suggest(app.reader, app.ctx, SqlMailState(app.engine), mid, now, args.limit)
    except UnknownSeries as exc:
        raise CommandError(unknown_series(mid, exc.args[1] == "in no series")) from exc
    except NotYetPosted as exc:
        raise CommandError(f"<{mid}> was posted after {now:%Y-%m-%d %H:%M}") from exc
    if args.json:
        print(json.dumps({
            "series_id": res.series_id, "title": res.title, "subsystem": res.subsystem,
            "files": list(res.files), "as_of": now.isoformat(),
            "suggestions": [{"address": s.address, "name": s.name, "score": s.score,
                             "load": s.load, "reasons": list(s.reasons)}
                            for s in res.suggestions]}, indent=2, ensure_ascii=False))
        return 0
    print(f"{res.title} <{res.series_id}>")
    print(f"subsystem: {res.subsystem or 'none'}; {len(res.files)} files")
    if not res.suggestions:
        print("no candidates (no MAINTAINERS entries and no past reviewers of these files)")
    for n, s in enumerate(res.suggestions, 1):
        print(f"{n:>2}. {s.short()}  score {s.score}")
        for reason in s.reasons:
            print(f"      {reason}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("suggest", help="rank reviewers for a series, with the reasons",
                       description=__doc__)
    p.add_argument("message_id", metavar="MESSAGE-ID", help="any Message-ID of the series")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--limit", type=int, default=10, help="at most this many (default 10)")
    add_as_of(p)
    p.set_defaults(func=run_guarded(_run))
