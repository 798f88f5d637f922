"""Reminder planning: caps, cadence, quiet periods, opt-in and escalation on a simulated clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from reviewbot.core.backlog.events import EventKind, SeriesEvent
from reviewbot.core.backlog.nag import ESCALATION, NAG, ReminderPlan, SentReminder, plan_reminders
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.backlog.turn import SeriesStatus
from reviewbot.core.model import TrailerKind
from reviewbot.core.policy.model import (
    Absence,
    DateRange,
    Escalation,
    NagPolicy,
    Policy,
    Quiet,
    Reviewers,
    Sla,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
MAINT, REV, AUTHOR = "jgg@nvidia.com", "rev@x.org", "author@x.org"
POLICY = Policy(
    sla=Sla(first_review=timedelta(days=14), stale_after=timedelta(days=90)),
    nag=NagPolicy(enabled=True, first_after=timedelta(days=7), cadence=timedelta(days=7),
                  per_reviewer_series_week=1, per_reviewer_week=2, global_daily=3),
    escalation=Escalation(after_nags=2, after=None, to=("maintainers",)),
)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def series(now: datetime, *extra: SeriesEvent, reviewer: str = REV,
           posted: datetime = T0, rfc: bool = False) -> SeriesStatus:
    events = [SeriesEvent(at=posted, kind=EventKind.POSTED, actor=AUTHOR, rfc=rfc), *extra]
    return derive_state(events, POLICY, now, maintainers=[MAINT], reviewers=[reviewer])


def plan(statuses: dict[str, SeriesStatus], now: datetime, sent: list[SentReminder] | None = None,
         policy: Policy = POLICY, window: bool = False,
         opted_in: tuple[str, ...] = (REV,)) -> ReminderPlan:
    return plan_reminders(policy, statuses, sent or [], now, merge_window_open=window,
                          opted_in=opted_in, maintainers=[MAINT])


def test_nothing_before_the_series_is_due() -> None:
    """Day 13 of a 14-day first-review SLA: no reminder."""
    assert plan({"s": series(day(13))}, day(13)).send == ()


def test_overdue_reviewer_is_reminded_privately_with_the_maintainer_in_cc() -> None:
    """Once overdue, the reviewer whose turn it is gets one reminder, Cc the maintainer."""
    (r,) = plan({"s": series(day(15))}, day(15)).send
    assert (r.kind, r.to, r.cc) == (NAG, (REV,), (MAINT,))
    assert r.reason == "reviewer turn since 2025-03-03; due 2025-03-17"


def test_a_month_on_the_simulated_clock() -> None:
    """Planned daily and logged: reminders a week apart, one escalation the day after the
    second (a reminder planned in the same round had no chance of an answer yet)."""
    log: list[SentReminder] = []
    timeline = []
    for n in range(14, 40):
        now = day(n)
        for r in plan({"s": series(now)}, now, log).send:
            timeline.append((n, r.kind, r.to))
            log.extend(SentReminder(now, r.series_id, who, r.kind) for who in r.to[:1])
    assert timeline == [
        (14, NAG, (REV,)),
        (21, NAG, (REV,)),
        (22, ESCALATION, (MAINT,)),
        (28, NAG, (REV,)),
        (35, NAG, (REV,)),
    ]


def test_replanning_after_a_restart_sends_nothing_twice() -> None:
    """With the first plan's sends in the log, the same plan is empty."""
    first = plan({"s": series(day(15))}, day(15)).send
    log = [SentReminder(day(15), r.series_id, r.to[0], r.kind) for r in first]
    assert plan({"s": series(day(15))}, day(15), log).send == ()


def test_weekly_cap_per_reviewer() -> None:
    """Three overdue series for one reviewer, cap 2 a week: the oldest two are reminded."""
    statuses = {f"s{n}": series(day(20), posted=day(n)) for n in range(3)}
    result = plan(statuses, day(20))
    assert [r.series_id for r in result.send] == ["s0", "s1"]
    assert [(s.series_id, s.reason) for s in result.skipped] == [("s2", "weekly cap reached")]


def test_global_daily_cap() -> None:
    """Four reviewers, daily cap 3: the fourth waits for tomorrow."""
    people = [f"r{n}@x.org" for n in range(4)]
    statuses = {f"s{n}": series(day(20), reviewer=p, posted=day(n)) for n, p in enumerate(people)}
    result = plan(statuses, day(20), opted_in=tuple(people))
    assert [r.to for r in result.send] == [(p,) for p in people[:3]]
    assert [s.reason for s in result.skipped] == ["daily cap reached"]


def test_merge_window_quiet_period_and_switch() -> None:
    """No reminders in the merge window, on quiet days, or when disabled."""
    statuses = {"s": series(day(20))}
    assert plan(statuses, day(20), window=True).quiet == "merge window"
    holidays = replace(POLICY, quiet=Quiet(periods=(DateRange(date(2025, 3, 20),
                                                              date(2025, 3, 25)),)))
    assert plan(statuses, day(20), policy=holidays).quiet == "quiet period 2025-03-20..2025-03-25"
    off = replace(POLICY, nag=NagPolicy(enabled=False))
    assert plan(statuses, day(20), policy=off).send == ()


def test_people_who_cannot_be_reminded() -> None:
    """Not opted in, opted out, absent, or recent activity: skipped with the reason."""
    statuses = {"s": series(day(20))}
    assert plan(statuses, day(20), opted_in=()).skipped[0].reason == "not opted in"
    out = plan_reminders(POLICY, statuses, [], day(20), merge_window_open=False,
                         opted_in=(REV,), opted_out=(REV,))
    assert out.skipped[0].reason == "opted out"
    away = replace(POLICY, reviewers=Reviewers(
        absences=(Absence(REV, DateRange(date(2025, 3, 20), date(2025, 3, 30))),)))
    assert plan(statuses, day(20), policy=away).skipped[0].reason == "absent"
    tested = SeriesEvent(at=day(18), kind=EventKind.TRAILER, actor="t@x.org",
                         trailer=TrailerKind.TESTED_BY)
    busy = {"s": series(day(20), tested)}
    assert plan(busy, day(20)).skipped[0].reason == "activity within 7 days"


def test_authors_and_rfcs_are_never_reminded() -> None:
    """The author's turn carries no SLA, and an RFC has no due time."""
    feedback = SeriesEvent(at=day(1), kind=EventKind.REPLY, actor=REV)
    statuses = {"a": series(day(40), feedback), "b": series(day(40), rfc=True)}
    assert plan(statuses, day(40)) == plan({}, day(40))
