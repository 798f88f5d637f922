"""events_from_series: an assembled Series and its messages become the event history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reviewbot.core.backlog.events import (
    CommitMatch,
    EventKind,
    OverrideAction,
    SeriesEvent,
    events_from_series,
    merge_events,
)
from reviewbot.core.backlog.replay import derive_state, series_status
from reviewbot.core.backlog.turn import State, Turn
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
from reviewbot.core.policy.model import Policy

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
ALICE, BOB, CAROL, JASON = "alice@x.org", "bob@x.org", "carol@x.org", "jgg@nvidia.com"


def mid(s: str) -> MessageId:
    return MessageId(s)


def msg(message_id: str, sender: str, at: datetime, kind: MessageKind = MessageKind.REPLY,
        parent: str | None = None, refs: tuple[str, ...] = (), **kw: object) -> Message:
    subject = Subject(raw="x", title="RDMA/core: fix", is_reply=kind is MessageKind.REPLY,
                      is_patch=kind is not MessageKind.REPLY)
    return Message(message_id=mid(message_id), subject=subject, from_name="", from_email=sender,
                   date=at, kind=kind, in_reply_to=mid(parent) if parent else None,
                   references=tuple(mid(r) for r in refs), **kw)  # type: ignore[arg-type]


def trailer(kind: TrailerKind, email: str, source: str) -> Trailer:
    return Trailer(kind=kind, name="", email=email, value=email, source=mid(source))


SERIES = Series(
    series_id=SeriesId("c@x"), title="RDMA/core: fix", version=2, total=2, author_name="Alice",
    author_email=ALICE, date=T0, cover_message_id=mid("c@x"),
    patches=(SeriesPatch(1, mid("p1@x"), "a", (), None, ()),
             SeriesPatch(2, mid("p2@x"), "b", (), None, ())),
    missing=(),
)
COVER = msg("c@x", ALICE, T0, MessageKind.COVER)
P1 = msg("p1@x", ALICE, T0 + timedelta(minutes=1), MessageKind.PATCH, "c@x", ("c@x",),
         trailers=(trailer(TrailerKind.REVIEWED_BY, CAROL, "p1@x"),
                   trailer(TrailerKind.SIGNED_OFF_BY, ALICE, "p1@x")))
P2 = msg("p2@x", ALICE, T0 + timedelta(minutes=2), MessageKind.PATCH, "c@x", ("c@x",))
R1 = msg("r1@x", BOB, T0 + timedelta(days=1), parent="p2@x", refs=("c@x", "p2@x"))
R2 = msg("r2@x", ALICE, T0 + timedelta(days=2), parent="r1@x", refs=("c@x", "p2@x", "r1@x"))
R3 = msg("r3@x", BOB, T0 + timedelta(days=3), parent="c@x", refs=("c@x",),
         trailers=(trailer(TrailerKind.ACKED_BY, BOB, "r3@x"),
                   trailer(TrailerKind.LINK, "", "r3@x")))
R4 = msg("r4@x", "lkp@intel.com", T0 + timedelta(days=3, hours=12), parent="p1@x",
         refs=("c@x", "p1@x"), is_bot=True)
R5 = msg("r5@x", JASON, T0 + timedelta(days=5), parent="c@x", refs=("c@x",),
         applied=AppliedNotice(branch="for-next", partial=False, commits=("0123abcd",)))
ALL = [R5, R3, P2, COVER, R1, P1, R4, R2]  # any order


def test_messages_become_events_in_time_order() -> None:
    """Posting, carried trailers, replies by patch, robot report, applied mail; oldest first."""
    events = events_from_series(SERIES, ALL)
    assert [(e.kind, e.actor, e.patches) for e in events] == [
        (EventKind.POSTED, ALICE, (1, 2)),
        (EventKind.TRAILER, CAROL, (1,)),  # carried in the v2 posting of patch 1
        (EventKind.REPLY, BOB, (2,)),
        (EventKind.REPLY, ALICE, (2,)),  # a reply to a reply still concerns patch 2
        (EventKind.TRAILER, BOB, ()),  # an ack on the cover letter covers the series
        (EventKind.REPLY, "lkp@intel.com", (1,)),
        (EventKind.APPLIED, JASON, ()),
    ]
    posted = events[0]
    assert (posted.revision, posted.total, posted.at) == (2, 2, T0)
    assert events[4].trailer is TrailerKind.ACKED_BY
    assert [e.carried for e in events if e.kind is EventKind.TRAILER] == [True, False]
    assert (events[5].bot, events[5].failure) == (True, True)
    assert (events[6].note, events[6].ref) == ("for-next", "0123abcd")


def test_built_history_derives_the_expected_states() -> None:
    """The same history, replayed: feedback, answer, ready, robot failure, applied."""
    events = events_from_series(SERIES, ALL)
    states = [
        derive_state(events, Policy(), now, maintainers=[JASON]).state
        for now in (T0 + timedelta(hours=1), T0 + timedelta(days=1, hours=1),
                    T0 + timedelta(days=2, hours=1), T0 + timedelta(days=3, hours=1),
                    T0 + timedelta(days=4), T0 + timedelta(days=6))
    ]
    assert states == [State.UNDER_REVIEW, State.CHANGES_REQUESTED, State.UNDER_REVIEW,
                      State.REVIEWED, State.CHANGES_REQUESTED, State.APPLIED]


def test_a_reply_carrying_tested_by_is_a_trailer_not_feedback() -> None:
    """Tested-by in a reply is recorded as a trailer; the series stays with the reviewers."""
    tested = msg("t@x", CAROL, T0 + timedelta(days=1), parent="p1@x", refs=("c@x", "p1@x"),
                 trailers=(trailer(TrailerKind.TESTED_BY, CAROL, "t@x"),))
    events = events_from_series(SERIES, [COVER, P2, tested])
    assert [(e.kind, e.trailer) for e in events] == [
        (EventKind.POSTED, None), (EventKind.TRAILER, TrailerKind.TESTED_BY)]
    status = derive_state(events, Policy(), T0 + timedelta(days=2), maintainers=[JASON])
    assert (status.state, status.turn) == (State.NEW, Turn.REVIEWER)


def test_newer_revision_and_commits_are_added() -> None:
    """The superseding revision and tree matches join the history."""
    newer = Series(
        series_id=SeriesId("v3@x"), title="RDMA/core: fix", version=3, total=2,
        author_name="Alice", author_email=ALICE, date=T0 + timedelta(days=9),
        cover_message_id=None, patches=(), missing=())
    commit = CommitMatch(at=T0 + timedelta(days=8), sha="feedf00d", patches=(1,),
                         branch="for-rc")
    events = events_from_series(SERIES, [COVER], newer=newer, commits=[commit])
    assert [(e.kind, e.ref) for e in events] == [
        (EventKind.POSTED, "c@x"), (EventKind.COMMITTED, "feedf00d"),
        (EventKind.NEW_REVISION, "v3@x")]
    status = derive_state(events, Policy(), T0 + timedelta(days=10))
    # Patch 1 stays applied; the rest went on in v3 (issue 7: an applied series stays so).
    assert (status.state, status.applied_patches) == (State.PARTIALLY_APPLIED, (1,))
    assert not status.is_open


def test_merge_events_orders_stored_and_derived_events() -> None:
    """Manual events from the store interleave with mail events by time, then by kind."""
    mail = events_from_series(SERIES, [COVER, R1])
    claim = SeriesEvent(at=T0 + timedelta(hours=5), kind=EventKind.CLAIM, actor=CAROL)
    same_time = SeriesEvent(at=T0, kind=EventKind.CLAIM, actor=BOB)
    merged = merge_events(mail, [claim, same_time])
    assert [e.kind for e in merged] == [
        EventKind.POSTED, EventKind.CLAIM, EventKind.CLAIM, EventKind.REPLY]
    assert [e.actor for e in merged[1:3]] == [BOB, CAROL]


def test_a_reply_dated_before_the_posting_is_kept() -> None:
    """A skewed Date: header places the reply at the posting instead of dropping it."""
    early = msg("e@x", BOB, T0 - timedelta(hours=3), parent="p1@x", refs=("c@x", "p1@x"))
    events = events_from_series(SERIES, [COVER, early])
    assert [(e.kind, e.at) for e in events] == [(EventKind.POSTED, T0), (EventKind.REPLY, T0)]


def test_series_status_combines_mail_tree_and_manual_events() -> None:
    """One call: the mail says reviewed, a stored snooze holds it, the tree applies patch 1."""
    snooze = SeriesEvent(at=T0 + timedelta(days=4), kind=EventKind.OVERRIDE, actor=JASON,
                         action=OverrideAction.SNOOZE, until=T0 + timedelta(days=20))
    commit = CommitMatch(at=T0 + timedelta(days=6), sha="c0ffee", patches=(1,))
    before = series_status(SERIES, [COVER, P1, P2, R3], Policy(), T0 + timedelta(days=5),
                           commits=[commit], manual=[snooze], maintainers=[JASON])
    assert (before.state, before.turn) == (State.SNOOZED, Turn.NOBODY)
    after = series_status(SERIES, [COVER, P1, P2, R3], Policy(), T0 + timedelta(days=7),
                          commits=[commit], manual=[snooze], maintainers=[JASON])
    assert (after.state, after.applied_patches) == (State.PARTIALLY_APPLIED, (1,))
