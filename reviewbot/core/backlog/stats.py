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
from reviewbot.core.model import Series, TrailerKind

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
    expired: int = 0  # closed for want of activity (sla.expire_after), not in open_total


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
    oldest: int = 10, expired: int = 0,
) -> SubsystemStats:
    """Figures over one subsystem: its open series (series id -> status at `now`) and the
    durations of all its series, open or closed, for time to first review and applied.
    `expired`: how many of its series are expired at `now` (counted, never open)."""
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
        expired=expired,
    )


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    """A series' review trailers (Reviewed-by, Acked-by, Tested-by from people other than
    its author) by where they were given."""

    new: int  # in replies to this revision, on the list
    in_posting: int  # written into the posting itself by its author (earlier or off-list review)
    carried: int  # given to an identical patch of an earlier revision, carried by patch-id

    @property
    def total(self) -> int:
        return self.new + self.in_posting + self.carried


_COUNTED = frozenset({TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY, TrailerKind.TESTED_BY})


def review_counts(series: Series) -> ReviewCounts:
    """Carried reviews apart from new ones (the digest reads this). A trailer's `source`
    says where it was given: a posting of this series, a reply in it (`members`), or
    neither: a reply to an earlier revision (core.series.assemble carries those). A
    cover-letter trailer counts once, not once per patch."""
    postings = {p.message_id for p in series.patches}
    if series.cover_message_id is not None:
        postings.add(series.cover_message_id)
    members = set(series.members)
    new = in_posting = carried = 0
    seen: set[tuple[str, str, str]] = set()
    for t in (*series.cover_trailers, *(t for p in series.patches for t in p.trailers)):
        if t.kind not in _COUNTED or t.source is None:
            continue
        key = (t.kind.value, t.email, str(t.source))
        if key in seen and t.source not in postings:
            continue  # one cover-letter reply, inherited by every patch
        seen.add(key)
        if t.source in postings:
            in_posting += 1
        elif t.source in members:
            new += 1
        else:
            carried += 1
    return ReviewCounts(new, in_posting, carried)
