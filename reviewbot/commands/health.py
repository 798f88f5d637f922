"""`reviewbot health [--json]`: is the daemon doing its job? Exit 0 yes, 1 no.

What a container HEALTHCHECK (or a monitoring probe) runs: the database answers
and its schema is this reviewbot's, and every configured source and tree was
polled successfully recently (within `[daemon] health_missed_polls` of its poll
intervals; a long first ingest counts, every stored batch is recorded). With
nothing configured (an idle daemon waiting for its settings), a reachable
database is healthy. Read-only: it never migrates or writes.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql import ops
from reviewbot.commands.db import CommandError, first_line, open_engine, run_guarded, settings
from reviewbot.config import Settings
from reviewbot.wiring import SourceError, build_source, configured_trees


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # "database", or a source's / tree's key
    healthy: bool
    detail: str
    last_poll: str | None = None  # ISO time
    age_seconds: float | None = None
    limit_seconds: float | None = None


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _watched(conf: Settings, max_age: float | None) -> tuple[list[tuple[str, float]], list[Check]]:
    """(key, age limit) of every configured source and tree; Checks for those that are
    broken in the settings already."""
    missed = conf.daemon.health_missed_polls
    keys: list[tuple[str, float]] = []
    broken: list[Check] = []
    for s in conf.sources:
        try:
            keys.append((build_source(s).key, max_age or missed * conf.poll_interval))
        except SourceError as exc:
            broken.append(Check(f"{s.kind}:{s.list_name}", False, str(exc)))
    try:
        for t in configured_trees(conf):
            keys.append((f"tree:{t.source}",
                         max_age or missed * (t.interval or conf.poll_interval)))
    except SourceError as exc:
        broken.append(Check("trees", False, str(exc)))
    return keys, broken


def checks(args: argparse.Namespace, now: datetime) -> list[Check]:
    conf = settings(args)
    try:
        engine, where, read_only = open_engine(args, conf, write=False, upgrade=False)
    except CommandError as exc:
        return [Check("database", False, str(exc))]
    try:
        current, head = sqlmigrate.current_revision(engine), sqlmigrate.head_revision()
        polls = ops.last_polls(engine) if current is not None else {}
    except Exception as exc:  # unreachable, refused, a broken file: unhealthy, one line
        return [Check("database", False, f"{where}: {first_line(exc)}")]
    finally:
        engine.dispose()
    found = [Check("database", current == head,
                   f"{where}: schema {current or 'empty'}"
                   + ("" if current == head else f", this reviewbot's is {head}: run "
                      "`reviewbot db upgrade` (the daemon does at start)")
                   + (f" (read-only: {read_only})" if read_only else ""))]
    keys, broken = _watched(conf, args.max_age)
    found += broken
    for key, limit in keys:
        last = polls.get(key)
        if last is None:
            found.append(Check(key, False, "never polled successfully", None, None, limit))
            continue
        age = (now - last).total_seconds()
        found.append(Check(key, age <= limit,
                           f"last successful poll {_ago(age)} ago (limit {_ago(limit)})",
                           last.isoformat(), round(age, 1), limit))
    return found


def _run(args: argparse.Namespace) -> int:
    found = checks(args, datetime.now(UTC))
    healthy = all(c.healthy for c in found)
    if args.json:
        data: dict[str, Any] = {"healthy": healthy, "checks": [asdict(c) for c in found]}
        print(json.dumps(data, indent=2))
    else:
        for c in found:
            print(f"{'ok  ' if c.healthy else 'FAIL'} {c.name}: {c.detail}")
    return 0 if healthy else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("health", help="check the database and that every source was polled "
                       "recently; exit 0 if healthy, 1 if not",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--max-age", type=float, metavar="SECONDS",
                   help="the oldest acceptable last successful poll (default: "
                   "[daemon] health_missed_polls times each source's poll interval)")
    p.set_defaults(func=run_guarded(_run))
