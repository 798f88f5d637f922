"""Per-subsystem figures: open by state, age buckets, oldest waiting, percentiles, load."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reviewbot.core.backlog.events import EventKind, SeriesEvent
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.backlog.stats import (
    Durations,
    SubsystemStats,
    age_bucket,
    percentile,
    subsystem_stats,
)
from reviewbot.core.backlog.turn import SeriesStatus, State, Turn
from reviewbot.core.model import TrailerKind
from reviewbot.core.policy.model import Policy

NOW = datetime(2025, 12, 31, 12, tzinfo=UTC)
MAINT = "jgg@nvidia.com"


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def posted(at: datetime) -> SeriesEvent:
    return SeriesEvent(at=at, kind=EventKind.POSTED, actor="a@x.org")


def status(*events: SeriesEvent) -> SeriesStatus:
    return derive_state(events, Policy(), NOW, maintainers=[MAINT])


def test_percentile_is_nearest_rank() -> None:
    """p50 of 1..4 days is 2 days; p90 is 4 days; no values gives None."""
    days = [timedelta(days=n) for n in (4, 1, 3, 2)]
    assert percentile(days, 50) == timedelta(days=2)
    assert percentile(days, 90) == timedelta(days=4)
    assert percentile([], 50) is None


def test_age_buckets_have_closed_lower_bounds() -> None:
    """Exactly 1, 7 and 30 days fall in the next bucket."""
    assert [age_bucket(timedelta(days=d)) for d in (0.5, 1, 6.9, 7, 29, 30, 400)] == [
        "lt1d", "1to7d", "1to7d", "7to30d", "7to30d", "gt30d", "gt30d"]


def figures(statuses: dict[str, SeriesStatus], oldest: int = 10) -> SubsystemStats:
    """The open ones as they are; every one for the durations."""
    return subsystem_stats({k: s for k, s in statuses.items() if s.is_open},
                           [Durations(s.posted_at, s.first_review_at, s.applied_at)
                            for s in statuses.values()], NOW, oldest=oldest)


def test_subsystem_figures() -> None:
    """Four series: counts, buckets, who waits longest, review and apply times, load."""
    review = SeriesEvent(at=ago(8), kind=EventKind.TRAILER, actor="r@x.org",
                         trailer=TrailerKind.REVIEWED_BY)
    applied = SeriesEvent(at=ago(2), kind=EventKind.APPLIED, actor=MAINT)
    feedback = SeriesEvent(at=ago(3), kind=EventKind.REPLY, actor="r@x.org")
    claim = SeriesEvent(at=ago(0.25), kind=EventKind.CLAIM, actor="r@x.org")
    statuses = {
        "new@x": status(posted(ago(0.5)), claim),  # new, 12 h old, claimed
        "ready@x": status(posted(ago(10)), review),  # reviewed after 2 days, ready since day 8
        "asked@x": status(posted(ago(5)), feedback),  # author's turn after 2 days
        "done@x": status(posted(ago(20)), applied),  # applied after 18 days
    }
    assert statuses["ready@x"].state is State.REVIEWED
    stats = figures(statuses)
    assert stats.open_total == 3
    assert stats.open_by_state == {"changes_requested": 1, "new": 1, "reviewed": 1}
    assert stats.age_buckets == {"lt1d": 1, "1to7d": 1, "7to30d": 1, "gt30d": 0}
    assert [(w.series_id, w.since, w.turn) for w in stats.oldest_waiting] == [
        ("ready@x", ago(8), Turn.MAINTAINER), ("new@x", ago(0.5), Turn.REVIEWER)]
    assert (stats.time_to_first_review.count, stats.time_to_first_review.p50,
            stats.time_to_first_review.p90) == (2, timedelta(days=2), timedelta(days=2))
    assert (stats.time_to_applied.count, stats.time_to_applied.p50) == (1, timedelta(days=18))
    assert stats.reviewer_load == {"r@x.org": 1}


def test_oldest_waiting_is_capped() -> None:
    """Only the requested number of oldest series are listed."""
    statuses = {f"s{n}@x": status(posted(ago(n + 1))) for n in range(12)}
    stats = figures(statuses, oldest=10)
    assert [w.series_id for w in stats.oldest_waiting][:2] == ["s11@x", "s10@x"]
    assert len(stats.oldest_waiting) == 10
