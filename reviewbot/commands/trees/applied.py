"""`reviewbot trees poll` and `reviewbot applied <id>`: applied detection from the CLI.

`trees poll --once` fetches every configured tree ([[trees]] and the
policies' [tree]) once, matches the new commits and exits (1 if a tree
failed); without --once it keeps polling on each tree's interval until
SIGTERM. A tree the daemon (or another poll) is writing is waited for, or with
--no-wait the command exits 75. `applied` shows which commits applied which
patches of a series.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewbot.adapters.sql import locks
from reviewbot.adapters.sql.polllog import SqlPollLog
from reviewbot.adapters.sql.trees.applied import AppliedRow, applied_rows
from reviewbot.adapters.system.systemd import Notifier
from reviewbot.commands.db import (
    CommandError,
    add_wait_option,
    bring_up_to_date,
    find_series,
    holding,
    open_app,
    run_guarded,
    settings,
)
from reviewbot.commands.run import build_tree_pollers, serve
from reviewbot.config import TreeSettings
from reviewbot.core.applied.match import AppliedMatch, MatchMethod, series_applied
from reviewbot.core.model import Series
from reviewbot.daemon import Daemon, TreePoller
from reviewbot.service.trees.applied import poll_tree
from reviewbot.wiring import SourceError, build_tree, tree_cache_dir


def _pollers(args: argparse.Namespace) -> list[TreePoller]:
    conf = settings(args)
    if args.branch and not args.tree:
        raise CommandError("--branch goes with --tree (configured trees name their branches)")
    if args.tree:
        source = args.tree if "://" in args.tree or ":" in args.tree.split("/")[0] \
            else str(Path(args.tree).resolve())
        t = TreeSettings(source, tuple(args.branch or ["master"]))
        try:
            return [TreePoller(build_tree(t, tree_cache_dir(os.environ)), conf.poll_interval)]
        except SourceError as exc:
            raise CommandError(str(exc)) from exc
    pollers = build_tree_pollers(conf, args.interval)
    if not pollers:
        raise CommandError("no trees configured: add [[trees]] (url or path, branches) to the "
                           "settings file, set a [tree] in a policy of [policy] dir, or pass "
                           "--tree PATH --branch NAME")
    return pollers


def _poll(args: argparse.Namespace) -> int:
    pollers = _pollers(args)
    app = open_app(args, write=True)
    if not args.once and not args.rescan:
        daemon = Daemon(store=app.store, pollers=[], locks=locks.for_engine(app.engine),
                        notifier=Notifier(os.environ), tree_pollers=pollers, trees=app.trees,
                        refresher=app.refresh, poll_log=SqlPollLog(app.engine))
        return serve(daemon)
    failed = False
    for p in pollers:
        with holding(app, [p.key], wait=args.wait):
            try:
                report = poll_tree(p.tree, app.trees, datetime.now(UTC), rescan=args.rescan)
            except Exception as exc:  # report every tree, then fail
                failed = True
                print(f"reviewbot: error: tree {p.tree.source}: {exc}", file=sys.stderr)
                continue
            SqlPollLog(app.engine).progress(p.key, "", datetime.now(UTC))
        print(report.summary())
        for w in report.warnings:
            print(f"  warning: {w}")
    bring_up_to_date(app)  # the matched series' standing reflects their commits
    return 1 if failed else 0


def _commit(r: AppliedRow) -> dict[str, Any]:
    return {"sha": r.sha, "tree": r.tree, "branch": r.branch, "method": r.method,
            "fuzzy": r.fuzzy, "commit_date": r.commit_date.isoformat(),
            "first_seen": r.first_seen.isoformat()}


def applied_json(s: Series, rows: list[AppliedRow]) -> dict[str, Any]:
    """The stable JSON shape of `applied --json` (keys are only ever added)."""
    ids = [p.message_id for p in s.patches]
    state = series_applied(
        [AppliedMatch(r.sha, r.message_id, r.series_id, MatchMethod(r.method), r.fuzzy)
         for r in rows], ids)
    by_mid: dict[str, list[AppliedRow]] = {}
    for r in rows:
        by_mid.setdefault(r.message_id, []).append(r)
    return {
        "series_id": s.series_id, "title": s.title, "version": s.version,
        "state": state.state.value, "fuzzy": state.fuzzy, "commits": list(state.commits),
        "patches": [{"index": p.index, "message_id": p.message_id, "subject": p.subject,
                     "commits": [_commit(r) for r in by_mid.get(p.message_id, [])]}
                    for p in s.patches],
    }


def _text(data: dict[str, Any], total: int) -> str:
    applied = sum(1 for p in data["patches"] if p["commits"])
    lines = [data["title"],
             f"  {data['state']}: {applied}/{len(data['patches'])} patches in a watched tree"
             + (" (some only by subject and author: check)" if data["fuzzy"] else ""),
             f"  root <{data['series_id']}>"]
    for p in data["patches"]:
        lines.append(f"  [{p['index']}/{total}] {p['subject']}")
        if not p["commits"]:
            lines.append("        not applied")
        for c in p["commits"]:
            lines.append(f"        {c['sha'][:12]} {c['method']}{' (fuzzy)' if c['fuzzy'] else ''}"
                         f" on {c['branch']} of {c['tree']}, committed {c['commit_date'][:10]}")
    return "\n".join(lines)


def _applied(args: argparse.Namespace) -> int:
    app = open_app(args)
    sid = find_series(app, args.message_id)
    s = app.reader.histories([sid])[sid].series
    rows = applied_rows(app.engine, [p.message_id for p in s.patches])
    data = applied_json(s, rows)
    print(json.dumps(data, indent=2, ensure_ascii=False) if args.json else _text(data, s.total))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("trees", help="watched git trees (applied detection)")
    actions = p.add_subparsers(dest="trees_command", metavar="ACTION", required=True)
    poll = actions.add_parser("poll", help="fetch the trees and match new commits to patches",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    poll.add_argument("--once", action="store_true",
                      help="poll every tree once and exit; exit 1 if any failed")
    poll.add_argument("--rescan", action="store_true",
                      help="list the branches afresh (as on a first look) to match commits "
                           "polled before their postings were ingested; implies --once")
    poll.add_argument("--tree", metavar="PATH|URL",
                      help="poll this tree instead of the configured ones")
    poll.add_argument("--branch", action="append", metavar="NAME",
                      help="branch of --tree to watch (repeatable; default master)")
    poll.add_argument("--interval", type=float, metavar="SECONDS",
                      help="override the configured interval")
    add_wait_option(poll)
    poll.set_defaults(func=run_guarded(_poll))
    a = sub.add_parser("applied", help="which commits applied the patches of a series")
    a.add_argument("message_id", metavar="ID",
                   help="the series' root or any of its messages, with or without <>")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a.set_defaults(func=run_guarded(_applied))
