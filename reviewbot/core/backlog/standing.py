"""A series' standing: its replayed history right after the last event, stored per series.

Queries never replay histories. The store keeps each series' Standing, updated
whenever an event touches the series (mail, tree commit, manual action, policy or
MAINTAINERS change), and `status_at` lets time pass from there to any `now` at or
after the last event: snoozes end, quiet series go stale. Because it resumes the
very Replay that `derive_state` runs, the result equals a full replay to `now`
(tests/core/test_backlog_standing.py checks this on generated histories).
A `now` before the last event needs the real replay (`--as-of` in the past).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reviewbot.core.backlog.replay import Replay, finish
from reviewbot.core.backlog.turn import OPEN_STATES, SeriesStatus, State, Turn
from reviewbot.core.policy.model import Policy

# Stored states that a query can still see open: the live ones (stale and RFC are
# derived from them) and a snooze, which wakes by itself.
_CAN_OPEN = frozenset({
    State.NEW, State.UNDER_REVIEW, State.CHANGES_REQUESTED, State.REVIEWED,
    State.PARTIALLY_APPLIED, State.SNOOZED,
})
CAN_OPEN_STATES = frozenset(s.value for s in _CAN_OPEN)
assert all(s in OPEN_STATES or s is State.SNOOZED for s in _CAN_OPEN)


@dataclass(frozen=True, slots=True)
class Standing:
    state: State  # the replay's own state: never STALE or RFC (those are derived)
    turn: Turn
    reason: str
    since: datetime
    posted_at: datetime
    last_activity: datetime
    last_event_at: datetime
    first_review_at: datetime | None
    applied_at: datetime | None
    stale: bool  # the last event found it stale and did not wake it (a bot mail, a claim)
    snooze_until: datetime | None
    resume: tuple[State, Turn, str] | None  # what a hold (snooze, defer...) hides
    author: str
    total: int
    revision: int
    rfc: bool
    reviewed: tuple[int, ...]
    applied: tuple[int, ...]
    spoke: tuple[str, ...]
    assignees: tuple[str, ...]
    maintainers: tuple[str, ...]  # canonical addresses of the taker's M:
    reviewers: tuple[str, ...]  # ... and R:
    superseded: bool = False  # a later revision was posted: never open again
    naks: tuple[str, ...] = ()  # who NAKed this revision and did not review it since

    @property
    def can_be_open(self) -> bool:
        """Whether some `now` after the last event shows the series open. (Time only
        closes: an open series goes stale, then expires; only an event reopens it.)"""
        return self.state in _CAN_OPEN and not self.superseded


def standing(r: Replay) -> Standing:
    """Capture a replay after its last event (before time passes to any `now`)."""
    if r.posted_at is None or r.since is None or r.last_activity is None or \
            r.last_event_at is None:
        raise ValueError("a standing needs a replay that saw its posting")
    return Standing(
        state=r.state, turn=r.turn, reason=r.reason, since=r.since, posted_at=r.posted_at,
        last_activity=r.last_activity, last_event_at=r.last_event_at,
        first_review_at=r.first_review_at, applied_at=r.applied_at, stale=r.stale,
        snooze_until=r.snooze_until, resume=r.resume, author=r.author, total=r.total,
        revision=r.revision, rfc=r.rfc, reviewed=tuple(r.reviewed()),
        applied=tuple(sorted(r.applied)), spoke=tuple(sorted(r.spoke)),
        assignees=tuple(r.assignees), maintainers=tuple(sorted(r.maintainers)),
        reviewers=tuple(sorted(r.reviewers)), superseded=r.superseded,
        naks=tuple(sorted(r.naks)))


def resume(s: Standing, policy: Policy) -> Replay:
    """The Replay a standing was captured from, as far as the rest of time needs it."""
    r = Replay(policy, frozenset(s.maintainers), frozenset(s.reviewers), author=s.author,
               total=s.total, revision=s.revision, rfc=s.rfc, state=s.state, turn=s.turn,
               reason=s.reason, since=s.since, posted_at=s.posted_at,
               last_activity=s.last_activity, first_review_at=s.first_review_at,
               applied_at=s.applied_at, stale=s.stale, snooze_until=s.snooze_until,
               resume=s.resume, last_event_at=s.last_event_at, superseded=s.superseded)
    r.acks = {p: {""} for p in s.reviewed}  # reviewed() needs only which patches
    r.applied = set(s.applied)
    r.spoke = set(s.spoke)
    r.assignees = list(s.assignees)
    r.naks = set(s.naks)
    return r


def status_at(s: Standing, policy: Policy, now: datetime) -> SeriesStatus:
    """The status at `now` (>= the last event): what a full replay to `now` says."""
    if now < s.last_event_at:
        raise ValueError(f"status_at({now:%Y-%m-%d %H:%M}) is before the series' last event "
                         f"({s.last_event_at:%Y-%m-%d %H:%M}): replay the history instead")
    return finish(resume(s, policy), now)
