"""Invariants of derive_state over generated histories (Hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.core.backlog.events import EventKind, OverrideAction, SeriesEvent
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.backlog.turn import OPEN_STATES, SeriesStatus, State, Turn
from reviewbot.core.model import TrailerKind
from reviewbot.core.policy.model import Policy

T0 = datetime(2025, 1, 6, tzinfo=UTC)
AUTHOR, MAINT = "author@x.org", "maint@x.org"
PEOPLE = [AUTHOR, MAINT, "r1@x.org", "r2@x.org", "lkp@intel.com"]
NOW = T0 + timedelta(days=120)

times = st.integers(min_value=0, max_value=150 * 24).map(lambda h: T0 + timedelta(hours=h))
patches = st.sampled_from([(), (1,), (2,), (3,), (1, 2, 3)])

event = st.one_of(
    st.builds(lambda at, who, bot: SeriesEvent(at=at, kind=EventKind.REPLY, actor=who, bot=bot,
                                               failure=bot and who == "lkp@intel.com"),
              times, st.sampled_from(PEOPLE), st.booleans()),
    st.builds(lambda at, who, kind, p: SeriesEvent(at=at, kind=EventKind.TRAILER, actor=who,
                                                   trailer=kind, patches=p),
              times, st.sampled_from(PEOPLE),
              st.sampled_from([TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY,
                               TrailerKind.TESTED_BY, TrailerKind.NACKED_BY]), patches),
    st.builds(lambda at, p: SeriesEvent(at=at, kind=EventKind.COMMITTED, patches=p, ref="c"),
              times, patches),
    st.builds(lambda at, action, days: SeriesEvent(
        at=at, kind=EventKind.OVERRIDE, actor=MAINT, action=action,
        until=at + timedelta(days=days) if action is OverrideAction.SNOOZE else None),
        times, st.sampled_from(list(OverrideAction)), st.integers(1, 30)),
    st.builds(lambda at, who, kind: SeriesEvent(at=at, kind=kind, actor=who, target=who),
              times, st.sampled_from(PEOPLE),
              st.sampled_from([EventKind.CLAIM, EventKind.RELEASE, EventKind.ASSIGN])),
    st.builds(lambda at: SeriesEvent(at=at, kind=EventKind.NEW_REVISION, revision=2, ref="v2"),
              times),
    st.builds(lambda at, p: SeriesEvent(at=at, kind=EventKind.APPLIED, patches=p, carried=True,
                                        ref="v0", note="v0"), times, patches),
    st.builds(lambda at, who, p: SeriesEvent(at=at, kind=EventKind.APPLIED, actor=who,
                                             patches=p, partial=not p),
              times, st.sampled_from(PEOPLE), patches),
)
history = st.builds(
    lambda rfc, rest: [SeriesEvent(at=T0, kind=EventKind.POSTED, actor=AUTHOR, total=3,
                                   rfc=rfc), *rest],
    st.booleans(), st.lists(event, max_size=25),
)


def derive(events: list[SeriesEvent], now: datetime = NOW) -> SeriesStatus:
    return derive_state(events, Policy(), now, maintainers=[MAINT], reviewers=["r1@x.org"])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(history, st.randoms(use_true_random=False))
def test_order_of_the_input_does_not_matter(events: list[SeriesEvent], rnd: object) -> None:
    """The same events in any order give the same status."""
    shuffled = list(events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert derive(shuffled) == derive(events)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(history, st.integers(min_value=0, max_value=120 * 24))
def test_the_future_does_not_leak_into_now(events: list[SeriesEvent], hours: int) -> None:
    """The status at `now` ignores every later event."""
    now = T0 + timedelta(hours=hours)
    assert derive(events, now) == derive([e for e in events if e.at <= now], now)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(history)
def test_status_is_consistent_with_its_timeline_and_turn(events: list[SeriesEvent]) -> None:
    """Timeline in order, ending at the status; nobody's turn iff closed; no SLA on authors."""
    s = derive(events)
    ats = [t.at for t in s.timeline]
    assert ats == sorted(ats)
    assert (s.timeline[-1].state, s.timeline[-1].turn) == (s.state, s.turn)
    assert (s.turn is Turn.NOBODY) == (not s.is_open)
    assert s.is_open <= (s.state in OPEN_STATES)
    if s.state is State.PARTIALLY_APPLIED and not s.is_open:  # closed by a later revision
        assert any(e.kind is EventKind.NEW_REVISION for e in events)
    if s.turn in (Turn.AUTHOR, Turn.NOBODY) or s.rfc:
        assert s.due is None
    if s.turn is Turn.AUTHOR:
        assert s.waiting_on == (AUTHOR,)
    if s.turn in (Turn.REVIEWER, Turn.MAINTAINER):
        assert s.waiting_on
    if s.state is State.APPLIED:
        assert s.applied_patches == (1, 2, 3)
    assert s.since <= NOW and s.last_activity <= NOW
