"""Is reviewbot healthy? The one check behind `GET /healthz` and `reviewbot health`.

Healthy means: the database answers, and every configured source had a successful
poll recently (within `max_silence`, or three of its poll intervals when that is
longer). Poll outcomes come from the stored poll log, so a `serve` process or the
`health` command judges the daemon's polls as well as its own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reviewbot.core.web.model import Check, HealthReport
from reviewbot.ports import PollLog, WebReads

log = logging.getLogger(__name__)

DEFAULT_MAX_SILENCE = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Expected:
    """A configured source the daemon should be polling."""

    list_name: str
    kind: str  # epoch | lore | mbox
    interval: float  # seconds between polls


def check_health(reads: WebReads, polls: PollLog, sources: Sequence[Expected],
                 now: datetime, *, max_silence: timedelta = DEFAULT_MAX_SILENCE
                 ) -> HealthReport:
    try:
        reads.ping()
        records = polls.records()
    except Exception as exc:  # any database failure is the answer, not a crash
        log.warning("health: database unreachable: %s", exc)
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return HealthReport(now, (Check("database", False, f"unreachable: {first_line}"),))
    checks = [Check("database", True, "reachable")]
    for s in sources:
        limit = max(max_silence, timedelta(seconds=3 * s.interval))
        mine = [r for r in records if r.list_name == s.list_name and r.kind == s.kind]
        last = max((r.last_success for r in mine if r.last_success), default=None)
        name = f"source {s.kind}:{s.list_name}"
        if last is None:
            error = next((r.last_error for r in mine if r.last_error), None)
            checks.append(Check(name, False, "never polled successfully"
                                + (f" (last error: {error})" if error else "")))
        elif now - last > limit:
            checks.append(Check(name, False, f"no successful poll since {last:%Y-%m-%d %H:%M} "
                                f"UTC (limit {_span(limit)})"))
        else:
            checks.append(Check(name, True, f"last successful poll {last:%Y-%m-%d %H:%M} UTC"))
    return HealthReport(now, tuple(checks))


def _span(t: timedelta) -> str:
    minutes = int(t.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
