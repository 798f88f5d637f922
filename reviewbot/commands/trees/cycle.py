"""`reviewbot cycle`: where mainline is in its release cycle.

Tags come from `--tree PATH` (a kernel repository: tag dates are read), or
`--upstream URL` (`git ls-remote`: names only, the newest tag is dated to the
last Sunday), or by default the settings' `maintainers` when it is a git
repository, else torvalds/linux on git.kernel.org.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import datetime
from pathlib import Path

from reviewbot.adapters.git.mainline import TORVALDS, LocalMainlineTags, RemoteMainlineTags
from reviewbot.adapters.git.tree import GitTreeError
from reviewbot.commands.db import CommandError, run_guarded, settings
from reviewbot.commands.timeargs import now_or, parse_when
from reviewbot.core.pulls.cycle import Cycle, NoMainlineTags, cycle_from_tags
from reviewbot.ports import MainlineTags


def tag_source(args: argparse.Namespace) -> MainlineTags:
    """--upstream, --tree, else $REVIEWBOT_MAINLINE (a kernel repository or URL: what the
    daemon's digests and reminders use), else `maintainers` when it is a git
    repository, else torvalds/linux."""
    if getattr(args, "upstream", None):
        return RemoteMainlineTags(args.upstream)
    tree = getattr(args, "tree", None) or os.environ.get("REVIEWBOT_MAINLINE")
    if tree and "://" in tree:
        return RemoteMainlineTags(tree)
    if tree:
        return LocalMainlineTags(str(Path(tree).resolve()))
    where = settings(args).maintainers or os.environ.get("REVIEWBOT_MAINTAINERS")
    if where and ((Path(where) / ".git").exists() or (Path(where) / "HEAD").is_file()):
        return LocalMainlineTags(str(where))
    return RemoteMainlineTags(TORVALDS)


def read_cycle(source: MainlineTags, now: datetime) -> Cycle:
    try:
        return cycle_from_tags(source.tags(), now)
    except GitTreeError as exc:
        raise CommandError(f"mainline tags from {source.source}: {exc}") from exc
    except NoMainlineTags as exc:
        raise CommandError(f"{source.source}: {exc}") from exc


def describe(c: Cycle) -> list[str]:
    when = f" ({c.latest_tag_date:%Y-%m-%d}{', estimated' if c.estimated_dates else ''})" \
        if c.latest_tag_date else ""
    if c.merge_window_open:
        lines = [f"{c.latest_tag}{when}: the merge window for {c.developing} is open "
                 f"(week {c.window_week}); -rc1 expected {c.merge_window_closes}"]
    else:
        lines = [f"{c.latest_tag}{when}: {c.phase} of {c.developing}, after release {c.release}; "
                 "merge window closed"]
    days = c.days_to_next_merge_window()
    lines.append(f"next merge window: {c.next_merge_window}"
                 + (f" (in {days} days)" if days is not None and days >= 0 else "")
                 + f", or {c.next_merge_window_latest} if an extra rc comes")
    return lines


def _cycle(args: argparse.Namespace) -> int:
    source = tag_source(args)
    c = read_cycle(source, now_or(args.as_of))
    if args.json:
        print(json.dumps({**c.to_json(), "source": source.source}, indent=2))
    else:
        print("\n".join(describe(c)))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cycle", help="the mainline release cycle: release, rc, merge window",
                       description=__doc__)
    where = p.add_mutually_exclusive_group()
    where.add_argument("--tree", metavar="PATH", help="a kernel git repository with its tags")
    where.add_argument("--upstream", metavar="URL",
                       help=f"read tags with git ls-remote (default {TORVALDS})")
    p.add_argument("--as-of", type=parse_when, metavar="DATETIME",
                   help="the cycle as it was then (YYYY-MM-DD: end of day UTC, or ISO)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_guarded(_cycle))
