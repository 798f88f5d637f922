"""Per-subsystem backlog figures from derived statuses. Pure; `now` is a parameter.

Percentiles use the nearest-rank method (the smallest value with at least p%
of the values at or below it), so every figure is an observed duration.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reviewbot.core.backlog.assign import open_load
from reviewbot.core.backlog.turn import SeriesStatus, State, Turn

AGE_BUCKETS = ("lt1d", "1to7d", "7to30d", "gt30d")  # conventions.md §7 label values


@dataclass(frozen=True, slots=True)
class Percentiles:
    count: int
    p50: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True, slots=True)
class Waiting:
    series_id: str
    since: datetime
    state: State
    turn: Turn
    reason: str


@dataclass(frozen=True, slots=True)
class SubsystemStats:
    open_total: int
    open_by_state: Mapping[str, int]
    age_buckets: Mapping[str, int]  # open series by age since posting
    oldest_waiting: tuple[Waiting, ...]  # reviewer's or maintainer's turn, longest first
    time_to_first_review: Percentiles
    time_to_applied: Percentiles
    reviewer_load: Mapping[str, int]


def percentile(values: Sequence[timedelta], p: float) -> timedelta | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _percentiles(values: Sequence[timedelta]) -> Percentiles:
    return Percentiles(len(values), percentile(values, 50), percentile(values, 90))


def age_bucket(age: timedelta) -> str:
    if age < timedelta(days=1):
        return "lt1d"
    if age < timedelta(days=7):
        return "1to7d"
    if age < timedelta(days=30):
        return "7to30d"
    return "gt30d"


@dataclass(frozen=True, slots=True)
class Durations:
    """What the time figures need of one series (open or closed)."""

    posted_at: datetime
    first_review_at: datetime | None
    applied_at: datetime | None


def subsystem_stats(
    open_: Mapping[str, SeriesStatus], history: Iterable[Durations], now: datetime, *,
    oldest: int = 10,
) -> SubsystemStats:
    """Figures over one subsystem: its open series (series id -> status at `now`) and the
    durations of all its series, open or closed, for time to first review and applied."""
    by_state: dict[str, int] = {}
    for s in open_.values():
        by_state[s.state.value] = by_state.get(s.state.value, 0) + 1
    ages = {b: 0 for b in AGE_BUCKETS}
    for s in open_.values():
        ages[age_bucket(now - s.posted_at)] += 1
    waiting = sorted(
        (Waiting(sid, s.since, s.state, s.turn, s.reason) for sid, s in open_.items()
         if s.turn in (Turn.REVIEWER, Turn.MAINTAINER)),
        key=lambda w: (w.since, w.series_id),
    )
    first: list[timedelta] = []
    applied: list[timedelta] = []
    for d in history:
        if d.first_review_at:
            first.append(d.first_review_at - d.posted_at)
        if d.applied_at:
            applied.append(d.applied_at - d.posted_at)
    return SubsystemStats(
        open_total=len(open_),
        open_by_state=dict(sorted(by_state.items())),
        age_buckets=ages,
        oldest_waiting=tuple(waiting[:oldest]),
        time_to_first_review=_percentiles(first),
        time_to_applied=_percentiles(applied),
        reviewer_load=dict(sorted(open_load(open_.values()).items())),
    )
