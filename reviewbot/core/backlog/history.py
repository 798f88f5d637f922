"""The backlog over time, from stored columns only: no history is replayed. Pure.

Each series contributes one span: posted, first reviewed (if ever), closed (applied,
superseded by its next revision, or rejected/archived at its last event; open series
are not closed). At each sample time a series posted and not yet closed is open, and
"waiting for a first review" before its first review, "in review" after it. That is a
coarse state (it cannot say when a series was stale or snoozed in the past), but it is
exact about what it says, and the work is one sort and one sweep: O(n log n) for n
series and any number of sample times, whatever the history's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reviewbot.core.backlog.stats import percentile

WAITING = "waiting_first_review"
IN_REVIEW = "in_review"
COARSE_STATES = (WAITING, IN_REVIEW)


@dataclass(frozen=True, slots=True)
class Span:
    posted_at: datetime
    first_review_at: datetime | None
    closed_at: datetime | None  # None: still open


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    counts: tuple[int, ...]  # per COARSE_STATES


def sample_times(now: datetime, *, days: int = 365, step: timedelta = timedelta(days=7)
                 ) -> list[datetime]:
    """From `days` ago to `now`, every `step` (`now` last)."""
    start = now - timedelta(days=days)
    n = int((now - start) / step)
    return [now - step * k for k in range(n, -1, -1)]


def backlog_over_time(spans: Iterable[Span], times: Sequence[datetime]) -> list[Point]:
    """Open series per coarse state at each of `times` (ascending)."""
    # +1/-1 changes per state, applied in time order before each sample.
    changes: list[tuple[datetime, int, int]] = []
    for s in spans:
        end = s.closed_at
        if end is not None and end <= s.posted_at:
            continue
        review = s.first_review_at
        if review is not None:
            if end is not None and review >= end:
                review = None  # reviewed only once closed: never in review while open
            elif review < s.posted_at:
                review = s.posted_at  # reviewed in the posting itself (carried trailers)
        changes.append((s.posted_at, 0, +1))
        if review is not None:
            changes.append((review, 0, -1))
            changes.append((review, 1, +1))
        if end is not None:
            changes.append((end, 1 if review is not None else 0, -1))
    changes.sort(key=lambda c: c[0])
    counts = [0, 0]
    out: list[Point] = []
    i = 0
    for t in times:
        while i < len(changes) and changes[i][0] <= t:
            counts[changes[i][1]] += changes[i][2]
            i += 1
        out.append(Point(t, (counts[0], counts[1])))
    return out


@dataclass(frozen=True, slots=True)
class MonthFigure:
    month: str  # "2025-03"
    posted: int
    reviewed: int  # of those, reviewed by someone other than the author (so far)
    p50: timedelta | None  # time to first review of the reviewed ones
    p90: timedelta | None


def month_key(when: datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def months_back(now: datetime, n: int = 12) -> list[str]:
    """The last `n` calendar months, oldest first, ending with now's."""
    y, m = now.year, now.month
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def first_review_by_month(spans: Iterable[Span], months: Sequence[str]) -> list[MonthFigure]:
    """Per month of posting: how many were posted, how many got a first review, and the
    p50/p90 time to it."""
    posted: dict[str, int] = dict.fromkeys(months, 0)
    delays: dict[str, list[timedelta]] = {m: [] for m in months}
    for s in spans:
        key = month_key(s.posted_at)
        if key not in posted:
            continue
        posted[key] += 1
        if s.first_review_at is not None:
            delays[key].append(max(s.first_review_at - s.posted_at, timedelta(0)))
    return [MonthFigure(m, posted[m], len(delays[m]), percentile(delays[m], 50),
                        percentile(delays[m], 90)) for m in months]


AGE_BINS = (("<1d", timedelta(days=1)), ("1-7d", timedelta(days=7)),
            ("1-2w", timedelta(days=14)), ("2-4w", timedelta(days=28)),
            ("1-3m", timedelta(days=91)), ("3-6m", timedelta(days=182)))
OLDER = ">6m"


def age_distribution(posted: Iterable[datetime], now: datetime) -> dict[str, int]:
    """Open series by age since posting, in bins a maintainer reads at a glance."""
    out = dict.fromkeys([b for b, _ in AGE_BINS] + [OLDER], 0)
    for p in posted:
        age = now - p
        out[next((b for b, limit in AGE_BINS if age < limit), OLDER)] += 1
    return out
