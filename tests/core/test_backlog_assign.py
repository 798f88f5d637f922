"""Reviewer assignment: candidates from MAINTAINERS and the pool, load, absences, tie-breaks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from reviewbot.core.backlog.assign import (
    assignment_events,
    candidates,
    claim_event,
    open_load,
    pick_reviewers,
    release_event,
)
from reviewbot.core.backlog.events import EventKind, SeriesEvent
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.policy.model import (
    Absence,
    AssignStrategy,
    DateRange,
    Policy,
    Reviewers,
)

NOW = datetime(2025, 8, 6, 12, tzinfo=UTC)
M = ["Jason Gunthorpe <jgg@nvidia.com>", "Leon Romanovsky <leonro@nvidia.com>"]
R = ["Zhu Yanjun <yanjun.zhu@linux.dev>"]


def policy(strategy: AssignStrategy = AssignStrategy.LEAST_LOADED, **kw: object) -> Policy:
    return Policy(reviewers=Reviewers(strategy=strategy, **kw))  # type: ignore[arg-type]


def test_candidates_are_r_then_m_then_pool_deduplicated() -> None:
    """R: entries come first, then M:, then the pool, each address once."""
    p = policy(pool=("extra@x.org", "jgg@nvidia.com"))
    assert candidates(p, maintainers=M, reviewers=R) == (
        "yanjun.zhu@linux.dev", "jgg@nvidia.com", "leonro@nvidia.com", "extra@x.org")
    assert candidates(policy(include_maintainers=False), maintainers=M, reviewers=R) == (
        "yanjun.zhu@linux.dev",)


def test_least_loaded_picks_the_fewest_open_assignments() -> None:
    """The candidate with the least open load wins."""
    load = {"yanjun.zhu@linux.dev": 4, "jgg@nvidia.com": 2, "leonro@nvidia.com": 1}
    a = pick_reviewers(policy(), NOW, maintainers=M, reviewers=R, load=load)
    assert a.reviewers == ("leonro@nvidia.com",)
    assert a.reason == "least loaded: leonro@nvidia.com (1 open)"


def test_ties_go_to_the_earlier_candidate() -> None:
    """Equal load: R: before M:, then MAINTAINERS order; the result never depends on dict order."""
    a = pick_reviewers(policy(per_series=2), NOW, maintainers=M, reviewers=R, load={})
    assert a.reviewers == ("yanjun.zhu@linux.dev", "jgg@nvidia.com")


def test_absent_and_author_are_skipped() -> None:
    """Someone on leave today, and the series' author, are never picked."""
    away = Absence("yanjun.zhu@linux.dev", DateRange(date(2025, 8, 4), date(2025, 8, 8)))
    p = policy(absences=(away,))
    a = pick_reviewers(p, NOW, maintainers=M, reviewers=R, author="JGG@nvidia.com")
    assert a.reviewers == ("leonro@nvidia.com",)
    assert a.skipped == (("yanjun.zhu@linux.dev", "absent"), ("jgg@nvidia.com", "the author"))
    later = pick_reviewers(p, NOW + timedelta(days=3), maintainers=M, reviewers=R)
    assert later.reviewers == ("yanjun.zhu@linux.dev",)


def test_round_robin_continues_after_the_last_assigned() -> None:
    """Round-robin takes the next candidate after the previous pick, wrapping around."""
    p = policy(AssignStrategy.ROUND_ROBIN)
    assert pick_reviewers(p, NOW, maintainers=M, reviewers=R).reviewers == (
        "yanjun.zhu@linux.dev",)
    assert pick_reviewers(p, NOW, maintainers=M, reviewers=R,
                          last_assigned="jgg@nvidia.com").reviewers == ("leonro@nvidia.com",)
    assert pick_reviewers(p, NOW, maintainers=M, reviewers=R,
                          last_assigned="leonro@nvidia.com").reviewers == (
        "yanjun.zhu@linux.dev",)


def test_round_robin_skips_the_absent() -> None:
    """The next in rotation is skipped while away."""
    away = Absence("leonro@nvidia.com", DateRange(date(2025, 8, 1), date(2025, 8, 31)))
    p = policy(AssignStrategy.ROUND_ROBIN, absences=(away,))
    a = pick_reviewers(p, NOW, maintainers=M, reviewers=R, last_assigned="jgg@nvidia.com")
    assert a.reviewers == ("yanjun.zhu@linux.dev",)


def test_strategy_none_and_nobody_available() -> None:
    """"none" assigns nobody; no available candidate is said so."""
    assert pick_reviewers(policy(AssignStrategy.NONE), NOW, maintainers=M).reviewers == ()
    a = pick_reviewers(policy(), NOW, maintainers=["a@x.org"], author="a@x.org")
    assert (a.reviewers, a.reason) == ((), "no available candidate")


def test_assignments_claims_and_releases_are_events_that_set_the_load() -> None:
    """Recorded as events, assignments show in the status and in the open load."""
    posted = SeriesEvent(at=NOW, kind=EventKind.POSTED, actor="author@x.org")
    a = pick_reviewers(policy(), NOW, maintainers=M, reviewers=R)
    history = [posted, *assignment_events(a, NOW, by="reviewbot"),
               claim_event("Leon <leonro@nvidia.com>", NOW + timedelta(hours=1))]
    s1 = derive_state(history, Policy(), NOW + timedelta(hours=2), maintainers=M)
    s2 = derive_state([*history, release_event("leonro@nvidia.com", NOW + timedelta(hours=3))],
                      Policy(), NOW + timedelta(hours=4), maintainers=M)
    assert s1.assignees == ("yanjun.zhu@linux.dev", "leonro@nvidia.com")
    assert s2.assignees == ("yanjun.zhu@linux.dev",)
    assert open_load([s1, s2]) == {"yanjun.zhu@linux.dev": 2, "leonro@nvidia.com": 1}
