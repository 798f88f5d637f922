"""`reviewbot queue [--json]`: open series (not superseded, not applied), oldest first."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from reviewbot.commands.db import open_store, run_guarded


def _age(now: datetime, then: datetime) -> str:
    seconds = max((now - then).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _run(args: argparse.Namespace) -> int:
    store = open_store(args)
    now = datetime.now(UTC)  # the CLI is the shell: it may read the clock
    entries = store.queue()
    if args.json:
        print(json.dumps([{
            "series_id": e.series_id, "title": e.title, "version": e.version,
            "patches": e.patch_count, "total": e.total, "state": e.state,
            "author": {"name": e.author_name, "email": e.author_email},
            "date": e.date.isoformat(), "age_seconds": int((now - e.date).total_seconds()),
        } for e in entries], indent=2, ensure_ascii=False))
        return 0
    print(f"{'AGE':>5} {'VER':>3} {'PATCHES':>7}  {'STATE':<12} {'TITLE':<60} AUTHOR")
    for e in entries:
        title = e.title if len(e.title) <= 60 else e.title[:57] + "..."
        print(f"{_age(now, e.date):>5} {'v' + str(e.version):>3} "
              f"{f'{e.patch_count}/{e.total}':>7}  {e.state:<12} {title:<60} "
              f"{e.author_name or e.author_email}")
    print(f"{len(entries)} open series")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("queue", help="list open series, oldest first")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_guarded(_run))
