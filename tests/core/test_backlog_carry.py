"""What an older revision hands on to a later one (issue 7): patches it applied (same
patch-id) are applied in the later one too, and reviews carried by patch-id count, shown
"carried from vN"; review_counts tells carried reviews from new ones for the digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reviewbot.core.backlog.events import (
    EventKind,
    OlderRevision,
    SeriesEvent,
    applied_times,
    carried_events,
    merge_events,
    older_revisions,
)
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.backlog.stats import ReviewCounts, review_counts
from reviewbot.core.backlog.turn import State, Turn, describe_event
from reviewbot.core.model import (
    MessageId,
    Series,
    SeriesId,
    SeriesPatch,
    Trailer,
    TrailerKind,
)
from reviewbot.core.policy.model import Policy

T0 = datetime(2025, 5, 5, 9, 0, tzinfo=UTC)
ALICE, MAINT, REV = "alice@x.org", "maint@x.org", "rev@x.org"


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def review(source: str, who: str = REV) -> Trailer:
    return Trailer(TrailerKind.REVIEWED_BY, "Rev", who, f"Rev <{who}>",
                   source=MessageId(source))


def revision(sid: str, version: int, date: datetime, patch_ids: list[str],
             trailers: dict[int, tuple[Trailer, ...]] | None = None,
             members: tuple[str, ...] = ()) -> Series:
    patches = tuple(SeriesPatch(i, MessageId(f"{sid}-{i}"), f"[PATCH v{version} {i}/"
                                f"{len(patch_ids)}] x", ("a.c",), pid,
                                (trailers or {}).get(i, ()))
                    for i, pid in enumerate(patch_ids, 1))
    return Series(SeriesId(sid), "x", version, len(patch_ids), "Alice", ALICE, date, None,
                  patches, (), members=tuple(MessageId(m) for m in
                                             (*(p.message_id for p in patches), *members)),
                  revisions=(SeriesId("v1"), SeriesId("v2")))


V1 = revision("v1", 1, T0, ["pa", "pb"], members=("v1-reply",))
POSTED_V1 = SeriesEvent(at=T0, kind=EventKind.POSTED, actor=ALICE, total=2, ref="v1")


def older(events: list[SeriesEvent]) -> OlderRevision:
    return OlderRevision(V1, tuple(events), frozenset(V1.members))


def test_the_chain_before_a_revision() -> None:
    assert older_revisions(V1) == ()
    assert older_revisions(revision("v2", 2, day(5), ["pa"])) == ("v1",)


def test_patches_applied_in_v1_are_applied_in_v2_from_its_posting() -> None:
    """v1's patch 1 applied on day 3 (the "applied" mail names it); v2 (day 5) resends it
    as patch 2 with a new patch 1: patch 2 of v2 is applied, at v2's posting."""
    applied = SeriesEvent(at=day(3), kind=EventKind.APPLIED, actor=MAINT, patches=(1,))
    v2 = revision("v2", 2, day(5), ["pc", "pa"])
    assert applied_times(V1, [POSTED_V1, applied]) == {1: day(3)}
    [carried] = carried_events(v2, set(v2.members), [older([POSTED_V1, applied])])
    assert (carried.kind, carried.patches, carried.at, carried.carried) == (
        EventKind.APPLIED, (2,), day(5), True)
    assert describe_event(carried) == "applied in v1 <v1> on patch 2"


def test_v1_applied_after_v2_was_posted_hands_on_at_that_time() -> None:
    """The maintainer took v1 a day after v2 came: v2's patch is applied from then."""
    commit = SeriesEvent(at=day(6), kind=EventKind.COMMITTED, patches=(1, 2), ref="c")
    v2 = revision("v2", 2, day(5), ["pa", "pb"])
    events = carried_events(v2, set(v2.members), [older([POSTED_V1, commit])])
    assert [(e.at, e.patches) for e in events] == [(day(6), (1, 2))]
    posted = SeriesEvent(at=day(5), kind=EventKind.POSTED, actor=ALICE, total=2, ref="v2")
    s = derive_state(merge_events([posted], events), Policy(), day(7))
    # Every patch came from v1: applied, but time to applied belongs to v1.
    assert (s.state, s.turn, s.applied_at) == (State.APPLIED, Turn.NOBODY, None)


def test_a_subset_without_a_list_and_other_revisions_hand_on_nothing() -> None:
    """"(subset)" naming no patch says nothing about which; a patch-id that differs is
    another patch."""
    subset = SeriesEvent(at=day(3), kind=EventKind.APPLIED, actor=MAINT, partial=True)
    v2 = revision("v2", 2, day(5), ["pa", "pb"])
    assert carried_events(v2, set(v2.members), [older([POSTED_V1, subset])]) == []
    commit = SeriesEvent(at=day(3), kind=EventKind.COMMITTED, patches=(1,), ref="c")
    changed = revision("v2", 2, day(5), ["pa2", "pb"])
    assert carried_events(changed, set(changed.members), [older([POSTED_V1, commit])]) == []


def test_reviews_carried_by_patch_id_count_and_say_from_where() -> None:
    """A Reviewed-by given in reply to v1 (assembly carried it onto v2's identical patch)
    counts as review in v2's posting, "carried from v1"; one given on v2 itself is new."""
    v2 = revision("v2", 2, day(5), ["pa", "pb"],
                  trailers={1: (review("v1-reply"),), 2: (review("v2-reply", "r2@x.org"),)},
                  members=("v2-reply",))
    events = carried_events(v2, set(v2.members), [older([POSTED_V1])])
    assert [(e.kind, e.patches, e.from_version, e.carried, e.ref) for e in events] == [
        (EventKind.TRAILER, (1,), 1, True, "v1-reply")]
    assert describe_event(events[0]) == f"Reviewed-by from {REV} on patch 1 (carried from v1)"
    posted = SeriesEvent(at=day(5), kind=EventKind.POSTED, actor=ALICE, total=2, ref="v2")
    s = derive_state(merge_events([posted], events), Policy(), day(6), maintainers=[MAINT])
    assert (s.state, s.reviewed_patches, s.first_review_at) == (
        State.UNDER_REVIEW, (1,), None)  # carried: review, but nobody answered v2 yet


def test_review_counts_tell_carried_from_new() -> None:
    """New: replies to this revision; in the posting: written in by the author; carried:
    from a reply to an earlier revision. A cover-letter reply counts once."""
    in_posting = Trailer(TrailerKind.ACKED_BY, "A", "a@x.org", "A <a@x.org>",
                         source=MessageId("v2-1"))
    cover_reply = Trailer(TrailerKind.TESTED_BY, "T", "t@x.org", "T <t@x.org>",
                          source=MessageId("v2-cover-reply"))
    signed = Trailer(TrailerKind.SIGNED_OFF_BY, "Alice", ALICE, f"Alice <{ALICE}>",
                     source=MessageId("v2-1"))
    v2 = revision("v2", 2, day(5), ["pa", "pb"],
                  trailers={1: (review("v1-reply"), in_posting, signed, cover_reply),
                            2: (review("v2-reply"), cover_reply)},
                  members=("v2-reply", "v2-cover-reply"))
    assert review_counts(v2) == ReviewCounts(new=2, in_posting=1, carried=1)
    assert review_counts(v2).total == 4
