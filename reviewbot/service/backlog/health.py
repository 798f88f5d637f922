"""Is reviewbot healthy? The one judgement behind `reviewbot health` and `GET /healthz`.

Healthy means: the database answers with this reviewbot's schema, and every
configured source and tree had a successful poll (or stored a batch of a long first
ingest) within its limit: `[daemon] health_missed_polls` of its poll intervals, or
`--max-age`. With nothing configured (a daemon idling until its settings come), a
reachable database is healthy. Poll times come from the stored poll log, so any
process judges the daemon's polls. Pure: the caller reads the database and the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reviewbot.core.web.model import Check, HealthReport


@dataclass(frozen=True, slots=True)
class Watched:
    """A configured source or tree that someone should be polling."""

    key: str  # Source.key ("epoch:linux-rdma", "lore:netdev") or "tree:<source>"
    limit: timedelta  # the oldest acceptable last successful poll


def judge(database: Check, watched: Sequence[Watched], broken: Sequence[Check],
          last_polls: Mapping[str, datetime], now: datetime) -> HealthReport:
    """The report: the database check, the sources broken in the settings already, then
    one check per watched source or tree."""
    checks = [database, *broken]
    for w in watched:
        limit = w.limit.total_seconds()
        last = last_polls.get(w.key)
        if last is None:
            checks.append(Check(w.key, False, "never polled successfully",
                                limit_seconds=limit))
            continue
        age = (now - last).total_seconds()
        checks.append(Check(w.key, age <= limit,
                            f"last successful poll {ago(age)} ago (limit {ago(limit)})",
                            last, round(age, 1), limit))
    return HealthReport(now, tuple(checks))


def ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
