"""`reviewbot report --subsystem NAME [--cycle vX.Y | --since DATE --until DATE] [--json]`.

Who reviews and who only posts, after netdev's "development stats": messages per
day; people by role; the share of applied series reviewed by someone other than
the author, and from another employer domain; top reviewers and authors by
threads and messages with rank changes against the previous period; per employer
domain (mailmap, and the policy's `[report] domains` map) reviews given, series
posted, reviews received and the score. Definitions: README, "Cycle review report".

--cycle vX.Y is the development cycle of that release (from the release before it
to its own), from mainline tags with dates (--tree, $REVIEWBOT_MAINLINE or
`maintainers` as a git repository); --since/--until any period (the previous one
is as long, right before it).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from reviewbot.commands.db import CommandError, open_app, run_guarded
from reviewbot.commands.timeargs import NO_MAINTAINERS, now_or, parse_when
from reviewbot.core.backlog.cyclereport import CycleReport, Period, Ranked, UnknownCycle
from reviewbot.core.notify.report import render_report
from reviewbot.service.backlog.queries import UnknownSubsystem
from reviewbot.service.mail.report import dates_period, report


def _ranked(rows: tuple[Ranked, ...]) -> list[dict[str, Any]]:
    return [{"rank": r.rank, "address": r.who, "name": r.name, "count": r.count,
             "change": r.change} for r in rows]


def report_json(rep: CycleReport) -> dict[str, Any]:
    return {
        "subsystem": rep.subsystem, "label": rep.label, "since": rep.since.isoformat(),
        "until": rep.until.isoformat(), "previous": rep.previous_label,
        "messages": rep.messages,
        "messages_per_day": {d.isoformat(): n for d, n in rep.per_day},
        "people": dict(rep.people),
        "applied": {"series": rep.applied, "reviewed": rep.applied_reviewed,
                    "reviewed_share": rep.share(rep.applied_reviewed),
                    "cross_domain": rep.applied_cross_domain,
                    "cross_domain_share": rep.share(rep.applied_cross_domain)},
        "top_reviewers_threads": _ranked(rep.reviewers_threads),
        "top_reviewers_messages": _ranked(rep.reviewers_messages),
        "top_authors_threads": _ranked(rep.authors_threads),
        "top_authors_messages": _ranked(rep.authors_messages),
        "domains": [{"domain": d.domain, "reviews_given": d.reviews_given,
                     "series_posted": d.series_posted, "reviews_received": d.reviews_received,
                     "score": d.score} for d in rep.domains],
    }


def _period(args: argparse.Namespace) -> Period:
    if args.cycle:
        if args.since or args.until:
            raise CommandError("give --cycle or --since/--until, not both")
        from reviewbot.commands.trees.cycle import tag_source
        from reviewbot.core.backlog.cyclereport import cycle_period

        source = tag_source(args)
        try:
            return cycle_period(source.tags(), args.cycle, now_or(None))
        except UnknownCycle as exc:
            raise CommandError(f"--cycle {args.cycle}: {exc}") from exc
        except Exception as exc:  # git errors: one line
            raise CommandError(f"mainline tags from {source.source}: {exc}") from exc
    if not (args.since and args.until):
        raise CommandError("give --cycle vX.Y, or both --since and --until")
    if args.until <= args.since:
        raise CommandError("--until must be after --since")
    return dates_period(args.since, args.until)


def _run(args: argparse.Namespace) -> int:
    period = _period(args)
    app = open_app(args)
    if app.ctx.maintainers is None:
        raise CommandError(NO_MAINTAINERS)
    try:
        rep, _ = report(app.reader, app.ctx, args.subsystem, period, top=args.top)
    except UnknownSubsystem as exc:
        raise CommandError(f"no MAINTAINERS section or list is called {exc.args[0]!r}") from exc
    if args.json:
        print(json.dumps(report_json(rep), indent=2, ensure_ascii=False))
    else:
        print(render_report(rep))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="the cycle review report: who reviews, who only posts",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--subsystem", required=True, metavar="NAME",
                   help="a MAINTAINERS section name or list address")
    p.add_argument("--cycle", metavar="vX.Y", help="the development cycle of this release")
    p.add_argument("--since", type=parse_when, metavar="DATE",
                   help="the period's start, instead of --cycle (needs --until)")
    p.add_argument("--until", type=parse_when, metavar="DATE",
                   help="the period's end (needs --since)")
    p.add_argument("--top", type=int, help="rows per ranking (default: the policy's, 10)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--tree", metavar="PATH", help="a kernel repository with dated tags")
    where.add_argument("--upstream", metavar="URL", help=argparse.SUPPRESS)
    p.set_defaults(func=run_guarded(_run))
