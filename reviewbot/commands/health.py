"""`reviewbot health [--json]`: is the daemon doing its job? Exit 0 yes, 1 no.

What a container HEALTHCHECK (or a monitoring probe) runs: the database answers
and its schema is this reviewbot's, and every configured source and tree was
polled successfully recently (within `[daemon] health_missed_polls` of its poll
intervals; a long first ingest counts, every stored batch is recorded). With
nothing configured (an idle daemon waiting for its settings), a reachable
database is healthy. Read-only: it never migrates or writes. `GET /healthz` runs
the same check (reviewbot.wiring_health, service.backlog.health).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from reviewbot.commands.db import CommandError, open_engine, run_guarded, settings
from reviewbot.core.web.model import Check, HealthReport
from reviewbot.wiring_health import health_report


def report(args: argparse.Namespace, now: datetime) -> HealthReport:
    conf = settings(args)
    try:
        engine, where, read_only = open_engine(args, conf, write=False, upgrade=False)
    except CommandError as exc:
        return HealthReport(now, (Check("database", False, str(exc)),))
    try:
        return health_report(engine, conf, where, now, read_only=read_only,
                             max_age=args.max_age)
    finally:
        engine.dispose()


def _run(args: argparse.Namespace) -> int:
    found = report(args, datetime.now(UTC))
    if args.json:
        data: dict[str, Any] = {"healthy": found.ok, "checks": [
            {"name": c.name, "healthy": c.ok, "detail": c.detail,
             "last_poll": c.last_poll.isoformat() if c.last_poll else None,
             "age_seconds": c.age_seconds, "limit_seconds": c.limit_seconds}
            for c in found.checks]}
        print(json.dumps(data, indent=2))
    else:
        for c in found.checks:
            print(f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}")
    return 0 if found.ok else 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("health", help="check the database and that every source was polled "
                       "recently; exit 0 if healthy, 1 if not",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--max-age", type=float, metavar="SECONDS",
                   help="the oldest acceptable last successful poll (default: "
                   "[daemon] health_missed_polls times each source's poll interval)")
    p.set_defaults(func=run_guarded(_run))
