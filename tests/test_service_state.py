"""The interim series state (core/state.py) the store records for `series` and `queue`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
from reviewbot.core.state import series_state

T0 = datetime(2025, 5, 1, tzinfo=UTC)
AUTHOR = "author@example.org"


def trailer(kind: TrailerKind, email: str) -> Trailer:
    return Trailer(kind, "X", email, f"X <{email}>")


def make(patch_trailers: list[tuple[Trailer, ...]], *, rfc: bool = False,
         superseded: bool = False, cover: tuple[Trailer, ...] = ()) -> Series:
    patches = tuple(SeriesPatch(i, MessageId(f"p{i}@x"), f"[PATCH {i}/n] s", (), None, ts)
                    for i, ts in enumerate(patch_trailers, 1))
    return Series(SeriesId("p1@x"), "t", 1, len(patches), "A", AUTHOR, T0, None, patches, (),
                  cover_trailers=cover, is_rfc=rfc,
                  superseded_by=SeriesId("v2@x") if superseded else None)


def reply(applied: bool) -> Message:
    return Message(MessageId("r@x"), Subject(raw="Re: x", title="x", is_reply=True), "M",
                   "m@example.org", T0, MessageKind.REPLY,
                   applied=AppliedNotice("for-next", False) if applied else None)


REV = trailer(TrailerKind.REVIEWED_BY, "rev@example.org")
ACK = trailer(TrailerKind.ACKED_BY, "maint@example.org")
SELF_ACK = trailer(TrailerKind.ACKED_BY, AUTHOR)
TESTED = trailer(TrailerKind.TESTED_BY, "t@example.org")
SOB = trailer(TrailerKind.SIGNED_OFF_BY, "s@example.org")


@pytest.mark.parametrize(("series", "members", "expected"), [
    (make([(REV,), (ACK,)], superseded=True), [reply(True)], "superseded"),
    (make([(), ()]), [reply(True)], "applied"),
    (make([(REV,)], rfc=True), [], "rfc"),
    (make([(REV,), (ACK,)]), [reply(False)], "reviewed"),
    (make([(REV,), ()]), [], "under review"),
    (make([(), ()], cover=(ACK,)), [], "under review"),
    (make([(SELF_ACK,), (TESTED, SOB)]), [], "new"),
    (make([()]), [], "new"),
])
def test_state_table(series: Series, members: list[Message], expected: str) -> None:
    """superseded > applied > rfc > reviewed (every patch) > under review (some) > new;
    self-acks, Tested-by and Signed-off-by are not review."""
    assert series_state(series, members) == expected
