"""The state reassembly caches with each series (core/backlog/state.py): the backlog's state at the
series' own last event, with the default policy and no MAINTAINERS or manual actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reviewbot.core.backlog.state import OPEN_STATES, series_state
from reviewbot.core.model import (
    AppliedNotice,
    Message,
    MessageId,
    MessageKind,
    Series,
    SeriesId,
    SeriesPatch,
    Subject,
    Trailer,
    TrailerKind,
)

T0 = datetime(2020, 5, 1, tzinfo=UTC)  # long ago: the cached state never goes stale
AUTHOR = "author@example.org"


def trailer(kind: TrailerKind, email: str) -> Trailer:
    return Trailer(kind, "X", email, f"X <{email}>")


def make(n: int, *, rfc: bool = False, superseded: bool = False) -> Series:
    patches = tuple(SeriesPatch(i, MessageId(f"p{i}@x"), f"[PATCH {i}/{n}] s", (), None, ())
                    for i in range(1, n + 1))
    return Series(SeriesId("p1@x"), "t", 1, n, "A", AUTHOR, T0, None, patches, (), is_rfc=rfc,
                  superseded_by=SeriesId("v2@x") if superseded else None)


def patch(i: int, *trailers: Trailer) -> Message:
    return Message(MessageId(f"p{i}@x"), Subject(raw=f"[PATCH {i}/2] s", title="s",
                                                 is_patch=True), "A", AUTHOR, T0,
                   MessageKind.PATCH, trailers=trailers)


def reply(to: int, sender: str, *trailers: Trailer, hours: int = 1,
          applied: bool = False) -> Message:
    return Message(MessageId(f"r{to}-{sender}-{hours}@x"), Subject(raw="Re: s", title="s",
                                                                    is_reply=True),
                   "R", sender, T0 + timedelta(hours=hours), MessageKind.REPLY,
                   in_reply_to=MessageId(f"p{to}@x"), trailers=trailers,
                   applied=AppliedNotice("for-next", False) if applied else None)


REV = trailer(TrailerKind.REVIEWED_BY, "rev@example.org")
ACK = trailer(TrailerKind.ACKED_BY, "maint@example.org")
SELF_ACK = trailer(TrailerKind.ACKED_BY, AUTHOR)
TESTED = trailer(TrailerKind.TESTED_BY, "t@example.org")


@pytest.mark.parametrize(("series", "members", "expected"), [
    (make(2), [patch(1), patch(2)], "new"),
    (make(2), [patch(1), patch(2), reply(1, "rev@example.org", REV)], "under_review"),
    (make(2), [patch(1, REV), patch(2), reply(2, "maint@example.org", ACK)], "reviewed"),
    (make(2), [patch(1), patch(2), reply(1, "rev@example.org")], "changes_requested"),
    (make(2), [patch(1), patch(2), reply(1, "rev@example.org"),
               reply(1, AUTHOR, hours=2)], "under_review"),
    (make(2), [patch(1), patch(2), reply(1, "maint@example.org", applied=True)], "applied"),
    (make(2), [patch(1, SELF_ACK), patch(2, TESTED)], "new"),
    (make(2, rfc=True), [patch(1), patch(2)], "rfc"),
    (make(2, superseded=True), [patch(1), patch(2)], "superseded"),
])
def test_state_table(series: Series, members: list[Message], expected: str) -> None:
    """A reply without tags asks the author; the author's answer goes back to review; every
    patch reviewed is ready to apply; self-acks and Tested-by are not review; a tagless
    reply from anyone is not stale years later, because the cache is taken at the last event."""
    assert series_state(series, members) == expected


def test_superseded_with_the_newer_revision_at_hand() -> None:
    """Given the v2 that replaced it, a reviewed v1 is superseded, not reviewed."""
    v1 = make(1, superseded=True)
    v2 = Series(SeriesId("v2@x"), "t", 2, 1, "A", AUTHOR, T0 + timedelta(days=3), None,
                (), ())
    assert series_state(v1, [patch(1, REV)], v2) == "superseded"


def test_open_states_are_the_backlogs() -> None:
    """The store's `open` count and queue use the backlog's open states (stale and RFC too)."""
    expected = {"new", "under_review", "changes_requested", "reviewed", "partially_applied",
                "rfc", "stale"}
    assert expected == OPEN_STATES
