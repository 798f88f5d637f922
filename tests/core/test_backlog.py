"""derive_state: every state and whose-turn transition, replayed on a simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reviewbot.core.backlog.events import EventKind, OverrideAction, SeriesEvent
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.backlog.turn import Role, SeriesStatus, State, Turn, timeline_lines
from reviewbot.core.model import TrailerKind
from reviewbot.core.policy.model import Policy, Sla

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
AUTHOR = "alice@example.org"
MAINT = "jgg@nvidia.com"
REV = "rev@example.org"
OTHER = "bob@example.org"
POLICY = Policy(sla=Sla(first_review=timedelta(days=14), followup_review=timedelta(days=7),
                        apply=timedelta(days=10), stale_after=timedelta(days=30)))


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def posted(at: datetime = T0, total: int = 2, revision: int = 1, rfc: bool = False) -> SeriesEvent:
    return SeriesEvent(at=at, kind=EventKind.POSTED, actor=AUTHOR, total=total,
                       revision=revision, rfc=rfc)


def reply(at: datetime, who: str, *, bot: bool = False, failure: bool = False) -> SeriesEvent:
    return SeriesEvent(at=at, kind=EventKind.REPLY, actor=who, bot=bot, failure=failure)


def tag(at: datetime, who: str, kind: TrailerKind = TrailerKind.REVIEWED_BY,
        patches: tuple[int, ...] = ()) -> SeriesEvent:
    return SeriesEvent(at=at, kind=EventKind.TRAILER, actor=who, trailer=kind, patches=patches)


def override(at: datetime, action: OverrideAction, until: datetime | None = None) -> SeriesEvent:
    return SeriesEvent(at=at, kind=EventKind.OVERRIDE, actor=MAINT, action=action, until=until)


def derive(events: list[SeriesEvent], now: datetime, policy: Policy = POLICY) -> SeriesStatus:
    return derive_state(events, policy, now, maintainers=[MAINT], reviewers=[REV])


class TestReviewFlow:
    def test_new_series_waits_for_the_routed_reviewers(self) -> None:
        """A fresh posting is new, the reviewers' turn, due after first_review."""
        s = derive([posted()], day(1))
        assert (s.state, s.turn, s.since, s.due) == (State.NEW, Turn.REVIEWER, T0, day(14))
        assert s.waiting_on == (REV,)
        assert s.reason == "posted; waiting for a first review"
        assert s.first_review_at is None

    def test_without_r_entries_the_maintainers_review(self) -> None:
        """A section with no R: entries leaves the first review to its M: entries."""
        s = derive_state([posted()], POLICY, day(1), maintainers=[MAINT])
        assert s.waiting_on == (MAINT,)

    def test_reviewer_feedback_hands_the_turn_to_the_author(self) -> None:
        """A non-author reply without review tags is feedback: the author's turn, no SLA."""
        s = derive([posted(), reply(day(2), OTHER)], day(3))
        assert (s.state, s.turn, s.since, s.due) == (
            State.CHANGES_REQUESTED, Turn.AUTHOR, day(2), None)
        assert s.waiting_on == (AUTHOR,)
        assert s.first_review_at == day(2)
        assert s.reason == f"reviewer {OTHER} replied without a review tag; waiting for the author"

    def test_author_answer_goes_back_to_the_reviewers_who_spoke(self) -> None:
        """The author's reply returns the turn to whoever gave feedback (followup SLA)."""
        s = derive([posted(), reply(day(2), OTHER), reply(day(4), AUTHOR)], day(5))
        assert (s.state, s.turn, s.since, s.due) == (
            State.UNDER_REVIEW, Turn.REVIEWER, day(4), day(11))
        assert s.waiting_on == (OTHER,)

    def test_author_follow_up_on_a_new_series_changes_nothing(self) -> None:
        """The author commenting on their own fresh series is not review."""
        s = derive([posted(), reply(day(1), AUTHOR)], day(2))
        assert (s.state, s.turn, s.since) == (State.NEW, Turn.REVIEWER, T0)
        assert s.last_activity == day(1)

    def test_partial_review_stays_with_reviewers(self) -> None:
        """A review of one patch of two: under review, reviewers' turn."""
        s = derive([posted(), tag(day(1), REV, patches=(1,))], day(2))
        assert (s.state, s.turn) == (State.UNDER_REVIEW, Turn.REVIEWER)
        assert s.reason == "1 of 2 patches reviewed; waiting for the rest"
        assert s.reviewed_patches == (1,)
        assert s.due == day(8)  # a first review happened: followup SLA from the review

    def test_every_patch_reviewed_is_ready_to_apply(self) -> None:
        """Reviewed-by on patch 1 and Acked-by on patch 2: the maintainer's turn."""
        s = derive([posted(), tag(day(1), REV, patches=(1,)),
                    tag(day(2), OTHER, TrailerKind.ACKED_BY, patches=(2,))], day(3))
        assert (s.state, s.turn, s.since, s.due) == (
            State.REVIEWED, Turn.MAINTAINER, day(2), day(12))
        assert s.waiting_on == (MAINT,)
        assert s.reason == "every patch has a review or ack: ready to apply"

    def test_a_cover_letter_ack_covers_every_patch(self) -> None:
        """A trailer on the cover letter counts for all patches."""
        s = derive([posted(total=5), tag(day(1), OTHER, TrailerKind.ACKED_BY)], day(2))
        assert (s.state, s.reviewed_patches) == (State.REVIEWED, (1, 2, 3, 4, 5))

    def test_carried_tags_count_but_are_not_a_response(self) -> None:
        """A Reviewed-by written in the posting covers the patch, yet nobody has responded yet."""
        carried = SeriesEvent(at=T0, kind=EventKind.TRAILER, actor=OTHER,
                              trailer=TrailerKind.REVIEWED_BY, patches=(1,), carried=True)
        s = derive([posted(), carried], day(1))
        assert (s.state, s.reviewed_patches, s.first_review_at) == (
            State.UNDER_REVIEW, (1,), None)
        assert s.due == day(14)  # still the first-review SLA
        assert s.waiting_on == (REV,)  # the routed reviewers, not the carried name

    def test_self_acks_do_not_count(self) -> None:
        """The author's own Reviewed-by neither reviews nor counts as a response."""
        s = derive([posted(total=1), tag(day(1), AUTHOR)], day(2))
        assert (s.state, s.turn, s.first_review_at) == (State.NEW, Turn.REVIEWER, None)

    def test_tested_by_is_not_review(self) -> None:
        """Tested-by is activity but leaves the series new."""
        s = derive([posted(total=1), tag(day(1), OTHER, TrailerKind.TESTED_BY)], day(2))
        assert (s.state, s.turn, s.last_activity) == (State.NEW, Turn.REVIEWER, day(1))

    def test_review_after_author_answer_completes_the_review(self) -> None:
        """Feedback, answer, then acks on every patch: ready to apply."""
        s = derive([posted(total=1), reply(day(1), REV), reply(day(2), AUTHOR),
                    tag(day(3), REV)], day(4))
        assert (s.state, s.turn) == (State.REVIEWED, Turn.MAINTAINER)

    def test_acks_while_changes_are_requested_wait_for_the_author(self) -> None:
        """An ack from one reviewer does not override another's open feedback."""
        s = derive([posted(total=1), reply(day(1), OTHER), tag(day(2), REV)], day(3))
        assert (s.state, s.turn) == (State.CHANGES_REQUESTED, Turn.AUTHOR)
        s = derive([posted(total=1), reply(day(1), OTHER), tag(day(2), REV),
                    reply(day(3), AUTHOR)], day(4))
        assert (s.state, s.turn) == (State.REVIEWED, Turn.MAINTAINER)

    def test_a_review_tag_from_the_objector_withdraws_the_objection(self) -> None:
        """Feedback then Reviewed-by from the same reviewer: the author owes nothing more."""
        s = derive([posted(total=1), reply(day(1), REV), tag(day(2), REV)], day(3))
        assert (s.state, s.turn, s.since) == (State.REVIEWED, Turn.MAINTAINER, day(2))
        s = derive([posted(), reply(day(1), REV), tag(day(2), REV, patches=(1,))], day(3))
        assert (s.state, s.turn) == (State.UNDER_REVIEW, Turn.REVIEWER)
        assert s.reason == "1 of 2 patches reviewed; waiting for the rest"

    def test_a_robot_failure_needs_the_author_even_after_acks(self) -> None:
        """A build failure is not withdrawn by a reviewer's ack; only the author's answer."""
        s = derive([posted(total=1), reply(day(1), "lkp@intel.com", bot=True, failure=True),
                    tag(day(2), REV)], day(3))
        assert (s.state, s.turn) == (State.CHANGES_REQUESTED, Turn.AUTHOR)

    def test_maintainer_reply_on_a_ready_series_asks_the_author(self) -> None:
        """"Doesn't apply, please rebase" from the maintainer: changes requested."""
        s = derive([posted(total=1), tag(day(1), REV), reply(day(2), MAINT)], day(3))
        assert (s.state, s.turn) == (State.CHANGES_REQUESTED, Turn.AUTHOR)
        assert s.reason.startswith(f"maintainer {MAINT} replied")


class TestNaksAndBots:
    def test_naks_are_remembered_until_the_naker_reviews(self) -> None:
        """Who NAKed stays on the status (the apply list leaves such series out) until
        that person gives a review tag."""
        nak = tag(day(1), OTHER, TrailerKind.NACKED_BY)
        s = derive([posted(), nak, reply(day(2), AUTHOR), tag(day(3), REV)], day(4))
        assert s.naks == (OTHER,)
        s = derive([posted(), nak, reply(day(2), AUTHOR), tag(day(3), OTHER)], day(4))
        assert s.naks == ()

    def test_nak_from_a_reviewer_is_feedback(self) -> None:
        """A non-maintainer's NAK asks the author to act."""
        s = derive([posted(), tag(day(1), OTHER, TrailerKind.NACKED_BY)], day(2))
        assert (s.state, s.turn) == (State.CHANGES_REQUESTED, Turn.AUTHOR)
        assert s.reason == f"NAKed by {OTHER}; waiting for the author"

    def test_nak_from_a_maintainer_rejects(self) -> None:
        """A maintainer's NAK rejects the series: nobody's turn."""
        s = derive([posted(), tag(day(1), MAINT, TrailerKind.NACKED_BY)], day(2))
        assert (s.state, s.turn, s.due) == (State.REJECTED, Turn.NOBODY, None)
        assert not s.is_open

    def test_ordinary_bot_mail_moves_nothing(self) -> None:
        """A bot reply is neither feedback nor activity."""
        s = derive([posted(), reply(day(1), "patchwork-bot+netdevbpf@kernel.org", bot=True)],
                   day(2))
        assert (s.state, s.turn, s.last_activity) == (State.NEW, Turn.REVIEWER, T0)
        assert s.timeline[-1].role is Role.BOT

    def test_build_failure_from_an_error_bot_is_the_authors_turn(self) -> None:
        """The kernel test robot's build failure sends the series back to the author."""
        s = derive([posted(), reply(day(1), "lkp@intel.com", bot=True, failure=True)], day(2))
        assert (s.state, s.turn, s.since) == (State.CHANGES_REQUESTED, Turn.AUTHOR, day(1))
        assert s.reason == "lkp@intel.com reported a failure; waiting for the author"


class TestApplied:
    def test_applied_mail_closes_the_series(self) -> None:
        """"Applied, thanks": applied, nobody's turn."""
        e = SeriesEvent(at=day(5), kind=EventKind.APPLIED, actor=MAINT, note="for-next",
                        ref="abc123")
        s = derive([posted(), e], day(6))
        assert (s.state, s.turn, s.applied_at) == (State.APPLIED, Turn.NOBODY, day(5))
        assert s.reason == "applied to for-next (abc123)"
        assert s.applied_patches == (1, 2)

    def test_subset_applied_mail_is_partial(self) -> None:
        """"(subset)" without a list: partially applied, the maintainer owes the rest."""
        e = SeriesEvent(at=day(5), kind=EventKind.APPLIED, actor=MAINT, partial=True)
        s = derive([posted(), e], day(6))
        assert (s.state, s.turn, s.applied_at) == (State.PARTIALLY_APPLIED, Turn.MAINTAINER, None)

    def test_commits_apply_patch_by_patch(self) -> None:
        """One of three patches in the tree is partial; all three is applied."""
        one = SeriesEvent(at=day(5), kind=EventKind.COMMITTED, patches=(2,), ref="c1",
                          note="for-next")
        rest = SeriesEvent(at=day(7), kind=EventKind.COMMITTED, patches=(1, 3), ref="c2")
        s = derive([posted(total=3), one], day(6))
        assert (s.state, s.turn) == (State.PARTIALLY_APPLIED, Turn.MAINTAINER)
        assert s.reason == "1 of 3 patches applied to for-next; pending: 1, 3"
        s = derive([posted(total=3), one, rest], day(8))
        assert (s.state, s.applied_patches, s.applied_at) == (State.APPLIED, (1, 2, 3), day(7))
        assert s.timeline[-1].role is Role.SYSTEM

    def test_newer_revision_supersedes(self) -> None:
        """A newer revision: superseded, nobody's turn."""
        e = SeriesEvent(at=day(3), kind=EventKind.NEW_REVISION, actor=AUTHOR, revision=2,
                        ref="v2@x")
        s = derive([posted(), tag(day(1), REV, patches=(1,)), e], day(4))
        assert (s.state, s.turn, s.reason) == (State.SUPERSEDED, Turn.NOBODY,
                                               "superseded by v2 (v2@x)")

    def test_an_applied_series_stays_applied_when_a_later_revision_comes(self) -> None:
        """v1 applied, then the author sends v2 (a follow-up): v1 is still applied."""
        applied = SeriesEvent(at=day(5), kind=EventKind.APPLIED, actor=MAINT, ref="m1")
        v2 = SeriesEvent(at=day(8), kind=EventKind.NEW_REVISION, actor=AUTHOR, revision=2,
                         ref="v2@x")
        s = derive([posted(), applied, v2], day(9))
        assert (s.state, s.turn, s.applied_at) == (State.APPLIED, Turn.NOBODY, day(5))
        assert s.reason == "applied (m1); v2 posted later (v2@x)"
        assert not s.is_open

    def test_a_partly_applied_series_stays_partly_applied_and_closes(self) -> None:
        """Patch 1 of 2 committed, the rest resent as v2: partially applied, nobody owes
        the rest here (it went on in v2), so it leaves the open queue."""
        one = SeriesEvent(at=day(5), kind=EventKind.COMMITTED, patches=(1,), ref="c1")
        v2 = SeriesEvent(at=day(8), kind=EventKind.NEW_REVISION, actor=AUTHOR, revision=2,
                         ref="v2@x")
        s = derive([posted(), one, v2, reply(day(9), OTHER)], day(200))
        assert (s.state, s.turn) == (State.PARTIALLY_APPLIED, Turn.NOBODY)
        assert s.reason == "1 of 2 patches applied; the rest went on in v2 (v2@x)"
        assert (s.applied_patches, s.is_open, s.due) == ((1,), False, None)

    def test_v1_applied_while_v2_was_out_is_applied(self) -> None:
        """The maintainer took v1 after v2 was posted: v1 is applied, from its posting."""
        v2 = SeriesEvent(at=day(3), kind=EventKind.NEW_REVISION, actor=AUTHOR, revision=2,
                         ref="v2@x")
        applied = SeriesEvent(at=day(5), kind=EventKind.APPLIED, actor=MAINT, ref="m1")
        s = derive([posted(), v2, applied], day(6))
        assert (s.state, s.applied_at) == (State.APPLIED, day(5))

    def test_patches_applied_in_an_older_revision_are_applied_here(self) -> None:
        """Carried applications mark patches applied without being this revision's
        application: no activity, and no time to applied unless this revision finished."""
        carried = SeriesEvent(at=T0, kind=EventKind.APPLIED, patches=(1,), carried=True,
                              ref="v1@x", note="v1")
        s = derive([posted(), carried], day(1))
        assert (s.state, s.turn) == (State.PARTIALLY_APPLIED, Turn.MAINTAINER)
        assert s.reason == "1 of 2 patches applied in v1; pending: 2"
        assert s.timeline[-1].role is Role.SYSTEM
        rest = SeriesEvent(at=day(4), kind=EventKind.COMMITTED, patches=(2,), ref="c2")
        s = derive([posted(), carried, rest], day(5))
        assert (s.state, s.applied_at) == (State.APPLIED, day(4))
        everything = SeriesEvent(at=T0, kind=EventKind.APPLIED, patches=(1, 2), carried=True,
                                 ref="v1@x", note="v1")
        s = derive([posted(), everything], day(5))
        assert (s.state, s.applied_at, s.last_activity) == (State.APPLIED, None, T0)

    def test_a_revision_in_the_same_history_restarts_review(self) -> None:
        """v2 posted after v1 was reviewed: reviewers' turn again, old acks dropped."""
        s = derive([posted(total=1), tag(day(1), REV), posted(day(3), total=2, revision=2)],
                   day(4))
        assert (s.state, s.turn, s.since, s.revision) == (
            State.UNDER_REVIEW, Turn.REVIEWER, day(3), 2)
        assert s.reviewed_patches == ()
        assert s.due == day(10)  # reviewed before: the followup SLA applies


class TestOverrides:
    def test_snooze_holds_then_wakes_by_itself(self) -> None:
        """Snoozed until day 10: nobody's turn; after that, back where it was."""
        events = [posted(), reply(day(1), OTHER), override(day(2), OverrideAction.SNOOZE, day(10))]
        s = derive(events, day(5))
        assert (s.state, s.turn, s.due) == (State.SNOOZED, Turn.NOBODY, None)
        s = derive(events, day(11))
        assert (s.state, s.turn, s.since) == (State.CHANGES_REQUESTED, Turn.AUTHOR, day(10))
        woke = s.timeline[-1]
        assert (woke.event, woke.at, woke.role) == (None, day(10), Role.SYSTEM)
        assert woke.reason.startswith("snooze ended 2025-03-13; ")

    def test_a_snooze_into_the_past_ends_at_once(self) -> None:
        """Snoozing "until" an earlier time never moves the timeline backwards."""
        s = derive([posted(), override(day(5), OverrideAction.SNOOZE, day(2))], day(6))
        assert (s.state, s.since) == (State.NEW, day(5))
        assert [e.at for e in s.timeline] == [T0, day(5), day(5)]

    @pytest.mark.parametrize(("action", "state"), [
        (OverrideAction.DEFER, State.DEFERRED),
        (OverrideAction.REJECT, State.REJECTED),
        (OverrideAction.ARCHIVE, State.ARCHIVED),
    ])
    def test_manual_states_hold_until_reopened(self, action: OverrideAction, state: State) -> None:
        """Defer, reject and archive are nobody's turn until a maintainer reopens."""
        events = [posted(), tag(day(1), REV, patches=(1,)), override(day(2), action)]
        s = derive(events, day(40))
        assert (s.state, s.turn) == (state, Turn.NOBODY)
        s = derive([*events, override(day(41), OverrideAction.REOPEN)], day(42))
        assert (s.state, s.turn, s.since) == (State.UNDER_REVIEW, Turn.REVIEWER, day(41))
        assert s.reason == f"reopened by {MAINT}; 1 of 2 patches reviewed; waiting for the rest"

    def test_replies_do_not_move_a_held_series(self) -> None:
        """Mail on a deferred series is activity, not a state change."""
        s = derive([posted(), override(day(1), OverrideAction.DEFER), reply(day(2), OTHER)],
                   day(3))
        assert (s.state, s.last_activity) == (State.DEFERRED, day(2))

    def test_reopen_returns_to_the_state_at_the_latest_hold(self) -> None:
        """A commit ends a snooze; a later defer, once reopened, returns to partially applied."""
        commit = SeriesEvent(at=day(3), kind=EventKind.COMMITTED, patches=(1,), ref="c1")
        s = derive([posted(), reply(day(1), OTHER),
                    override(day(2), OverrideAction.SNOOZE, day(30)), commit,
                    override(day(4), OverrideAction.DEFER),
                    override(day(5), OverrideAction.REOPEN)], day(6))
        assert (s.state, s.turn) == (State.PARTIALLY_APPLIED, Turn.MAINTAINER)

    def test_applying_beats_a_manual_state(self) -> None:
        """A commit in the tree is a fact: a deferred series becomes applied."""
        e = SeriesEvent(at=day(3), kind=EventKind.COMMITTED, patches=(1,), ref="c1")
        s = derive([posted(total=1), override(day(1), OverrideAction.DEFER), e], day(4))
        assert s.state is State.APPLIED


class TestClockAndFlags:
    def test_no_activity_for_stale_after_is_stale(self) -> None:
        """30 days without human activity: stale, the turn unchanged, the reason says so."""
        s = derive([posted()], day(29))
        assert s.state is State.NEW
        s = derive([posted()], day(31))
        assert (s.state, s.turn, s.since) == (State.STALE, Turn.REVIEWER, T0)
        assert s.reason == "no activity for 30 days; posted; waiting for a first review"
        assert s.overdue(day(31))
        assert s.timeline[-1].at == day(30)

    def test_activity_revives_a_stale_series(self) -> None:
        """A reply after going stale moves it on; the timeline keeps the stale entry."""
        s = derive([posted(), reply(day(40), OTHER)], day(41))
        assert (s.state, s.turn) == (State.CHANGES_REQUESTED, Turn.AUTHOR)
        assert [e.state for e in s.timeline] == [State.NEW, State.STALE, State.CHANGES_REQUESTED]

    def test_closing_a_stale_series_ends_stale(self) -> None:
        """Deferred the moment it went stale: deferred, not stale."""
        s = derive([posted(), override(day(30), OverrideAction.DEFER)], day(31))
        assert (s.state, s.turn) == (State.DEFERRED, Turn.NOBODY)

    def test_stale_respects_the_policy(self) -> None:
        """A subsystem with stale_after = 60d keeps a 40-day-old series open."""
        patient = Policy(sla=Sla(stale_after=timedelta(days=60)))
        assert derive([posted()], day(40), patient).state is State.NEW

    def test_rfc_is_flagged_without_sla_and_never_stale(self) -> None:
        """An RFC shows as rfc, with a turn but no due time, until it expires."""
        s = derive([posted(rfc=True)], day(89))
        assert (s.state, s.turn, s.due, s.rfc) == (State.RFC, Turn.REVIEWER, None, True)
        s = derive([posted(rfc=True), reply(day(1), OTHER)], day(2))
        assert (s.state, s.turn) == (State.RFC, Turn.AUTHOR)

    def test_no_activity_for_expire_after_expires(self) -> None:
        """90 days without activity: expired, closed, nobody's turn; the timeline says when."""
        s = derive([posted(), reply(day(2), OTHER)], day(95))
        assert (s.state, s.turn, s.due, s.is_open) == (State.EXPIRED, Turn.NOBODY, None, False)
        assert s.since == day(92)
        assert s.reason == "no activity for 90 days: closed until new mail reopens it"
        assert [t.state for t in s.timeline][-2:] == [State.STALE, State.EXPIRED]
        assert derive([posted(rfc=True)], day(91)).state is State.EXPIRED

    def test_new_mail_reopens_an_expired_series(self) -> None:
        """Any human mail brings back the state it had; bot mail does not."""
        events = [posted(), reply(day(2), OTHER)]
        s = derive([*events, reply(day(100), "lkp@intel.com", bot=True)], day(101))
        assert s.state is State.EXPIRED
        s = derive([*events, reply(day(100), AUTHOR)], day(101))
        assert (s.state, s.turn, s.since) == (State.UNDER_REVIEW, Turn.REVIEWER, day(100))
        s = derive([*events, tag(day(100), REV)], day(101))
        assert (s.state, s.turn) == (State.CHANGES_REQUESTED, Turn.AUTHOR)
        assert s.reason.startswith(f"reopened by mail from {REV}")
        s = derive([*events, override(day(100), OverrideAction.REOPEN)], day(101))
        assert s.state is State.CHANGES_REQUESTED

    def test_expiry_follows_the_policy_and_may_come_before_stale(self) -> None:
        """`expire_after` no longer than `stale_after`: expired without going stale."""
        quick = Policy(sla=Sla(stale_after=timedelta(days=30), expire_after=timedelta(days=20)))
        s = derive([posted()], day(25), quick)
        assert s.state is State.EXPIRED
        assert State.STALE not in [t.state for t in s.timeline]

    def test_closed_and_held_series_do_not_expire(self) -> None:
        """Applied, superseded, deferred: nothing to expire."""
        applied = SeriesEvent(at=day(1), kind=EventKind.APPLIED, actor=MAINT)
        assert derive([posted(), applied], day(400)).state is State.APPLIED
        assert derive([posted(), override(day(1), OverrideAction.DEFER)],
                      day(400)).state is State.DEFERRED

    def test_future_events_are_ignored(self) -> None:
        """The state as of `now` ignores anything after it."""
        s = derive([posted(), reply(day(5), OTHER)], day(4))
        assert s.state is State.NEW

    def test_same_state_keeps_since(self) -> None:
        """A second reviewer's feedback does not restart the author's clock."""
        s = derive([posted(), reply(day(1), OTHER), reply(day(2), REV)], day(3))
        assert (s.since, s.waiting_on) == (day(1), (AUTHOR,))

    def test_naive_now_is_refused(self) -> None:
        """Backlog math needs an aware `now`."""
        with pytest.raises(ValueError, match="aware"):
            derive([posted()], datetime(2025, 3, 4))  # noqa: DTZ001

    def test_history_must_have_a_posting(self) -> None:
        """Replies alone are not a series."""
        with pytest.raises(ValueError, match="posted"):
            derive([reply(day(1), OTHER)], day(2))


class TestPeopleAndTimeline:
    def test_claims_and_assignments_name_who_is_waited_on(self) -> None:
        """Claim and assign add named reviewers; release removes one; the turn stays."""
        claim = SeriesEvent(at=day(1), kind=EventKind.CLAIM, actor=OTHER)
        assign = SeriesEvent(at=day(1), kind=EventKind.ASSIGN, actor=MAINT, target=REV)
        release = SeriesEvent(at=day(2), kind=EventKind.RELEASE, actor=OTHER)
        s = derive([posted(), claim, assign], day(1))
        assert (s.turn, s.assignees, s.waiting_on) == (Turn.REVIEWER, (OTHER, REV), (OTHER, REV))
        s = derive([posted(), claim, assign, release], day(3))
        assert (s.assignees, s.since, s.last_activity) == ((REV,), T0, T0)

    def test_aliases_and_maintainers_entries_name_one_person(self) -> None:
        """M: entries as "Name <addr>", and a .mailmap alias, identify the maintainer."""
        nak = tag(day(1), "leon@kernel.org", TrailerKind.NACKED_BY)
        s = derive_state([posted(), nak], POLICY, day(2),
                         maintainers=["Leon Romanovsky <leonro@nvidia.com>"],
                         aliases={"Leon@kernel.org": "leonro@nvidia.com"})
        assert (s.state, s.reason) == (State.REJECTED, "NAKed by maintainer leonro@nvidia.com")
        s = derive_state([posted(), nak], POLICY, day(2),
                         maintainers=["Leon Romanovsky <leonro@nvidia.com>"])
        assert s.state is State.CHANGES_REQUESTED  # without the alias: just a reviewer

    def test_timeline_explains_each_step(self) -> None:
        """Each event appears with the role of its actor and the state it led to."""
        s = derive([posted(total=1), reply(day(1), REV), reply(day(2), AUTHOR),
                    tag(day(3), REV)], day(4))
        assert [(e.at, e.role, e.state, e.turn) for e in s.timeline] == [
            (T0, Role.AUTHOR, State.NEW, Turn.REVIEWER),
            (day(1), Role.REVIEWER, State.CHANGES_REQUESTED, Turn.AUTHOR),
            (day(2), Role.AUTHOR, State.UNDER_REVIEW, Turn.REVIEWER),
            (day(3), Role.REVIEWER, State.REVIEWED, Turn.MAINTAINER),
        ]
        assert all(e.event is not None for e in s.timeline)

    def test_events_need_aware_datetimes(self) -> None:
        """A naive event time is refused when the event is made."""
        with pytest.raises(ValueError, match="aware"):
            SeriesEvent(at=datetime(2025, 1, 1), kind=EventKind.POSTED)  # noqa: DTZ001


def test_timeline_renders_as_text() -> None:
    """`reviewbot series <id>` can print why the series is where it is."""
    s = derive([posted(total=1), reply(day(1), REV), reply(day(2), AUTHOR),
                override(day(3), OverrideAction.SNOOZE, day(5))], day(6))
    assert timeline_lines(s) == [
        f"2025-03-03 09:00  v1 posted by {AUTHOR} (1 patch)  ->  new (reviewer's turn): "
        "posted; waiting for a first review",
        f"2025-03-04 09:00  reply from {REV}  ->  changes_requested (author's turn): "
        f"reviewer {REV} replied without a review tag; waiting for the author",
        f"2025-03-05 09:00  reply from {AUTHOR}  ->  under_review (reviewer's turn): "
        "the author answered; back to the reviewers who spoke",
        f"2025-03-06 09:00  snooze by {MAINT} until 2025-03-08 09:00  ->  snoozed: "
        f"snoozed by {MAINT} until 2025-03-08 09:00 UTC",
        "2025-03-08 09:00  time passed  ->  under_review (reviewer's turn): "
        "snooze ended 2025-03-08; the author answered; back to the reviewers who spoke",
    ]
