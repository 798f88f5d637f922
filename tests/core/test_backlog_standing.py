"""Standing: a stored replay that answers for any later `now` exactly as a full replay does."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.core.backlog.events import EventKind, SeriesEvent
from reviewbot.core.backlog.replay import derive_state, replay
from reviewbot.core.backlog.standing import standing, status_at
from reviewbot.core.backlog.turn import SeriesStatus
from reviewbot.core.policy.model import Policy, Sla
from tests.core.test_backlog_properties import AUTHOR, MAINT, T0, history

# The default (stale at 30 days, expired at 90), quick staleness, and expiry sooner than
# staleness: every path through Replay.advance.
POLICIES = [Policy(), Policy(sla=Sla(stale_after=timedelta(days=3))),
            Policy(sla=Sla(stale_after=timedelta(days=20), expire_after=timedelta(days=10)))]


def _without_timeline(s: SeriesStatus) -> SeriesStatus:
    return replace(s, timeline=())


@settings(max_examples=600, deadline=None, derandomize=True)
@given(history, st.integers(min_value=0, max_value=400 * 24), st.sampled_from(POLICIES))
def test_status_at_equals_a_full_replay_for_any_later_now(
        events: list[SeriesEvent], hours_after: int, policy: Policy) -> None:
    """Stored after the last event, advanced to `now`: the same status as replaying to `now`."""
    kept = standing(replay(events, policy, maintainers=[MAINT], reviewers=["r1@x.org"]))
    now = kept.last_event_at + timedelta(hours=hours_after)
    full = derive_state(events, policy, now, maintainers=[MAINT], reviewers=["r1@x.org"])
    assert _without_timeline(status_at(kept, policy, now)) == _without_timeline(full)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(history)
def test_a_standing_that_cannot_be_open_never_shows_open(events: list[SeriesEvent]) -> None:
    """The query narrows candidates by `can_be_open`: nothing open may hide outside it."""
    kept = standing(replay(events, Policy(), maintainers=[MAINT]))
    for days in (0, 1, 31, 400):
        now = kept.last_event_at + timedelta(days=days)
        if status_at(kept, Policy(), now).is_open:
            assert kept.can_be_open


EVENTS = [SeriesEvent(at=T0, kind=EventKind.POSTED, actor=AUTHOR, total=2),
          SeriesEvent(at=T0 + timedelta(days=2), kind=EventKind.REPLY, actor="r1@x.org"),
          SeriesEvent(at=T0 + timedelta(days=3), kind=EventKind.CLAIM, actor="r2@x.org")]


def test_a_now_before_the_last_event_is_refused() -> None:
    """Answering for the past from a later standing would leak the future: replay instead."""
    kept = standing(replay(EVENTS, Policy()))
    with pytest.raises(ValueError, match="before the series' last event"):
        status_at(kept, Policy(), kept.last_event_at - timedelta(seconds=1))


def test_the_last_event_time_is_recorded_even_when_it_moves_nothing() -> None:
    """A claim changes no state, yet a query before it must replay: it is the last event."""
    kept = standing(replay(EVENTS, Policy()))
    assert kept.last_event_at == T0 + timedelta(days=3)
    assert kept.last_activity == T0 + timedelta(days=2)
