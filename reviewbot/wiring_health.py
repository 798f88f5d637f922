"""The health check's reads (service.backlog.health judges): which sources and trees the
settings watch, the database's schema and the poll log. Shared by `reviewbot health`
and `GET /healthz`, so both say the same."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.polllog import SqlPollLog
from reviewbot.config import Settings
from reviewbot.core.web.model import Check, HealthReport
from reviewbot.service.backlog.health import Watched, judge
from reviewbot.wiring import SourceError, build_source, configured_trees


def watched(conf: Settings, max_age: float | None = None) -> tuple[list[Watched], list[Check]]:
    """Every configured source and tree with its age limit; Checks for those the
    settings already break."""
    missed = conf.daemon.health_missed_polls
    found: list[Watched] = []
    broken: list[Check] = []

    def limit(interval: float) -> timedelta:
        return timedelta(seconds=max_age or missed * interval)

    for s in conf.sources:
        try:
            found.append(Watched(build_source(s).key, limit(conf.poll_interval)))
        except SourceError as exc:
            broken.append(Check(f"{s.kind}:{s.list_name}", False, str(exc)))
    try:
        for t in configured_trees(conf):
            found.append(Watched(f"tree:{t.source}", limit(t.interval or conf.poll_interval)))
    except SourceError as exc:
        broken.append(Check("trees", False, str(exc)))
    return found, broken


def health_report(engine: Engine, conf: Settings, where: str, now: datetime, *,
                  read_only: str | None = None, max_age: float | None = None) -> HealthReport:
    """Read the schema and the poll log (never writes), then judge."""
    try:
        current, head = sqlmigrate.current_revision(engine), sqlmigrate.head_revision()
        polls = SqlPollLog(engine).last_successes() if current is not None else {}
    except Exception as exc:  # unreachable, refused, a broken file: unhealthy, one line
        text = str(exc).strip().splitlines()
        database = Check("database", False, f"{where}: {text[0] if text else type(exc).__name__}")
        return judge(database, [], [], {}, now)
    database = Check("database", current == head,
                     f"{where}: schema {current or 'empty'}"
                     + ("" if current == head else f", this reviewbot's is {head}: run "
                        "`reviewbot db upgrade` (the daemon does at start)")
                     + (f" (read-only: {read_only})" if read_only else ""))
    found, broken = watched(conf, max_age)
    return judge(database, found, broken, polls, now)
