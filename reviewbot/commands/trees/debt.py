"""`reviewbot debt`: the upstream debt of a downstream branch (the OFED report).

Every commit on --branch that is not in --upstream is classified: upstream
under another id, in a maintainer tree, waiting on reviewers, waiting on the
author, rejected or expired, never posted. A vendor commits first and posts
later, so postings match whatever their dates. `--record` stores the totals,
so later reports show the trend.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from reviewbot.adapters.git.tree import GitTreeError
from reviewbot.adapters.sql.trees.pulls import SqlPulls
from reviewbot.commands.db import CommandError, open_app, run_guarded
from reviewbot.commands.timeargs import now_or, parse_when
from reviewbot.commands.trees.pr import lookup, maintainers_index, open_tree, subsystem_policy
from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.maintainers.subsystems import route_files
from reviewbot.core.pulls.debt import DebtClass, trend
from reviewbot.core.pulls.model import CommitInfo
from reviewbot.service.trees.debt import DebtReport, debt_report
from reviewbot.service.trees.pulls import PullError


def _subsystem_of(index: RoutingIndex | None) -> Callable[[CommitInfo], str] | None:
    if index is None:
        return None

    def of(c: CommitInfo) -> str:
        taker = route_files(index, c.files).taker
        return taker.section if taker else "(unowned)"
    return of


def report_json(r: DebtReport, changes: dict[str, int]) -> dict[str, Any]:
    return {
        "tree": r.tree, "branch": r.branch, "upstream": r.upstream,
        "as_of": r.as_of.isoformat(), "since": r.since.isoformat() if r.since else None,
        "commits": [i.to_json() for i in r.items], "totals": r.totals,
        "trend": changes, "by_subsystem": r.by_subsystem,
        "by_author_domain": r.by_author_domain,
    }


_HEADINGS = {
    DebtClass.NEVER_POSTED: "never posted: send them",
    DebtClass.WAITING_ON_AUTHOR: "waiting on the author: changes requested",
    DebtClass.WAITING_ON_REVIEWERS: "waiting on reviewers",
    DebtClass.REJECTED_OR_EXPIRED: "rejected or expired: rework or drop",
    DebtClass.IN_MAINTAINER_TREE: "in a maintainer tree, not upstream yet",
    DebtClass.UPSTREAM: "upstream under another id: drop from the branch",
}


def report_text(r: DebtReport, changes: dict[str, int]) -> str:
    t = r.totals
    lines = [f"upstream debt of {r.branch} against {r.upstream} in {r.tree}, "
             f"as of {r.as_of:%Y-%m-%d}: {len(r.items)} commits"]
    for cls, heading in _HEADINGS.items():
        items = [i for i in r.items if i.cls is cls]
        delta = f" ({changes[cls.value]:+d})" if changes else ""
        lines += ["", f"{heading}: {t[cls.value]}{delta}"]
        for i in sorted(items, key=lambda i: -i.age_days):
            c = i.commit
            lines.append(f"  {c.sha[:12]} {i.age_days:4}d  {c.subject}")
            lines.append(f"      {c.author_name} <{c.author_email}>; {i.reason}"
                         + (f"; {i.link}" if i.link else ""))
    if r.by_subsystem:
        lines += ["", "by subsystem:"]
        lines += [f"  {k}: " + ", ".join(f"{c} {n}" for c, n in v.items() if n)
                  for k, v in r.by_subsystem.items()]
    lines += ["", "by author domain:"]
    lines += [f"  {k}: " + ", ".join(f"{c} {n}" for c, n in v.items() if n)
              for k, v in r.by_author_domain.items()]
    return "\n".join(lines)


def _debt(args: argparse.Namespace) -> int:
    now = now_or(args.as_of)
    tree = open_tree(args.tree)
    store = open_app(args)
    policy = subsystem_policy(args, args.subsystem)
    try:
        report = debt_report(tree, lookup(store), branch=args.branch,
                             upstream=args.upstream, now=now, since=args.since,
                             stale_after=policy.sla.stale_after,
                             subsystem_of=_subsystem_of(maintainers_index(args)))
    except PullError as exc:
        raise CommandError(str(exc)) from exc
    except GitTreeError as exc:
        raise CommandError(f"git: {exc}") from exc
    pulls = SqlPulls(store.engine)
    changes = trend(pulls.debt_history(report.tree, report.branch), report.totals)
    if args.record:
        pulls.record_debt(report.tree, report.branch, now, report.totals)
    print(json.dumps(report_json(report, changes), indent=2, ensure_ascii=False) if args.json
          else report_text(report, changes))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("debt", help="upstream debt of a downstream branch (the OFED report)",
                       description=__doc__)
    p.add_argument("--tree", required=True, metavar="PATH", help="the downstream repository")
    p.add_argument("--branch", required=True, metavar="REF", help="the downstream branch")
    p.add_argument("--upstream", required=True, metavar="REF",
                   help="the upstream branch in the same repository (e.g. origin/master)")
    p.add_argument("--since", type=parse_when, metavar="DATE",
                   help="only commits committed since then")
    p.add_argument("--as-of", type=parse_when, metavar="DATETIME",
                   help="judge ages and expiry as of then (default: now)")
    p.add_argument("--subsystem", metavar="NAME",
                   help="the policy whose [sla] stale_after expires postings (default policy)")
    p.add_argument("--record", action="store_true",
                   help="store the totals, for the trend of later reports")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_guarded(_debt))
