"""Every mail template (digest, reminder, escalation, cycle report, acknowledgement) through
the etiquette checker, with hostile content; the report's figures and the reviewer
ranking on small worlds computed by hand; cycle periods from tags."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import ClassVar

import pytest

from reviewbot.core.backlog.cyclereport import (
    Thread,
    ThreadMail,
    UnknownCycle,
    cycle_period,
    cycle_report,
)
from reviewbot.core.backlog.nag import ESCALATION, NAG, Reminder
from reviewbot.core.backlog.suggest import PastReview, SectionPeople, rank_reviewers
from reviewbot.core.model import SeriesId
from reviewbot.core.notify.ack import CommandOutcome, ack_draft
from reviewbot.core.notify.commands import read_command_mail
from reviewbot.core.notify.digest import DigestView, Row, digest_drafts, render
from reviewbot.core.notify.etiquette import check_message
from reviewbot.core.notify.message import Draft, build_message
from reviewbot.core.notify.reminder import ReminderView, reminder_draft
from reviewbot.core.notify.report import render_report, report_draft
from reviewbot.core.policy.model import Policy, Report, Reviewers

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
SENDER = "reviewbot <bot@example.org>"
# Titles that would break a careless template: a trailer at column 0, very long words,
# non-ASCII, a Message-ID with a slash.
HOSTILE = ("Reviewed-by: Mallory <m@evil.org>",
           "RDMA/mlx5: " + "x" * 120,
           "RDMA/siw: fix für Müller’s “quotes” — and em dashes",
           "Acked-by: Someone <s@x.org> # for the DT part")
MID = "20250411071141.82619-1-honggangli@163.com"


def built(draft: Draft) -> bytes:
    mail = build_message(draft, sender=SENDER, now=NOW, version="0.1.0")
    assert check_message(mail.raw) == []
    return mail.raw


def rows(n: int = 20) -> tuple[Row, ...]:
    return tuple(Row(f"{i}/{MID}", HOSTILE[i % len(HOSTILE)], 1 + i % 3, 3, 3, i % 4,
                     NOW - timedelta(days=i), note="Signed-off-by: Not A Trailer <n@x>"
                     if i == 0 else "")
                 for i in range(n))


def view(**kw: object) -> DigestView:
    base = dict(subsystem="INFINIBAND SUBSYSTEM", day=date(2025, 6, 2), as_of=NOW,
                zone="America/Halifax", counts={"new": 3, "reviewed": 2, "stale": 7},
                previous={"new": 1, "reviewed": 2, "under_review": 4}, previous_day="2025-05-29",
                ready=rows(3), overdue=(("jgg@nvidia.com", rows(18)),), new=rows(2),
                new_since=NOW - timedelta(days=4), authors=(), applied=rows(1),
                expiring=None, cycle="v6.16-rc1: the next merge window opens in about 50 "
                "days.", lore="https://lore.kernel.org", schedule="on mon, thu at 09:00 "
                "America/Halifax", policy_file="policies/infiniband.toml",
                operator="bot@example.org")
    base.update(kw)
    return DigestView(**base)  # type: ignore[arg-type]


class TestDigestTemplate:
    def test_every_digest_mail_keeps_the_etiquette(self) -> None:
        drafts = digest_drafts(view(), ["Jason Gunthorpe <jgg@nvidia.com>", "leonro@nvidia.com"])
        assert [str(d.key) for d in drafts] == [
            "digest:INFINIBAND SUBSYSTEM:jgg@nvidia.com:2025-06-02",
            "digest:INFINIBAND SUBSYSTEM:leonro@nvidia.com:2025-06-02"]
        for d in drafts:
            raw = built(d)
            assert b"\r\n| Reviewed-by: Mallory" not in raw  # titles are indented, not defused
            assert b"\r\nReviewed-by:" not in raw and b"\r\nSigned-off-by:" not in raw

    def test_counts_and_their_change(self) -> None:
        text = render(view())
        assert "Open series: 12 (+5) since the digest of 2025-05-29" in text
        assert "  new                   3 (+2)" in text
        assert "  under_review          0 (-4)" in text  # gone since: shown as 0
        assert "  reviewed              2 (=)" in text
        first = render(view(previous=None, previous_day=None))
        assert "(the first digest: no earlier counts to compare with)" in first

    def test_long_tables_are_cut_with_a_pointer_to_the_queue(self) -> None:
        text = render(view())
        assert "... and 3 more: reviewbot queue --subsystem 'INFINIBAND SUBSYSTEM'" in text
        assert text.count("https://lore.kernel.org/r/") == 3 + 15 + 2 + 1

    def test_expiry_is_a_section_only_when_tracked(self) -> None:
        assert "Expiring soon" not in render(view())
        assert "Expiring soon (0)" in render(view(expiring=()))


def reminder(kind: str, title: str) -> ReminderView:
    to = ("rev@example.org",) if kind == NAG else ("jgg@nvidia.com", "leonro@nvidia.com")
    return ReminderView(
        reminder=Reminder(f"x/{MID}", kind, to, ("jgg@nvidia.com",) if kind == NAG else (),
                          "reviewer turn: 2 reminders without a response"),
        subsystem="INFINIBAND SUBSYSTEM", title=title, version=2, patches=3, total=3,
        reviewed=1, turn="reviewer", since=NOW - timedelta(days=20),
        due=NOW - timedelta(days=6), status_reason="v2 posted; waiting for reviewers",
        why_you="you are listed as R: (reviewer) of INFINIBAND SUBSYSTEM in MAINTAINERS",
        waiting_on=("rev@example.org",), day=date(2025, 6, 2),
        lore="https://lore.kernel.org", operator="bot@example.org")


@pytest.mark.parametrize("kind", [NAG, ESCALATION])
@pytest.mark.parametrize("title", HOSTILE)
def test_reminders_and_escalations_keep_the_etiquette(kind: str, title: str) -> None:
    draft = reminder_draft(reminder(kind, title))
    raw = built(draft)
    assert raw.count(b"https://lore.kernel.org/r/") == 1  # one link per series
    if kind == NAG:
        assert draft.to == ("rev@example.org",) and draft.cc == ("jgg@nvidia.com",)
        assert b"Why you: you are listed as R:" in raw and b"reviewbot: stop" in raw
    assert str(draft.key).startswith(f"{kind}:x/{MID}:")


def thread(sid: str, author: str, posted: datetime, *mails: ThreadMail,
           applied: datetime | None = None, reviewers: tuple[str, ...] = ()) -> Thread:
    return Thread(sid, author, "", posted, applied, reviewers,
                  (ThreadMail(posted, author, "", True, False), *mails))


T0 = datetime(2025, 6, 1, tzinfo=UTC)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def mail(n: float, who: str, tagged: bool = False, bot: bool = False) -> ThreadMail:
    return ThreadMail(day(n), who, who.split("@")[0].title(), False, bot, tagged)


WORLD = [
    # a@corp.com posts; r@other.org reviews with a tag; a answers; lkp reports
    thread("s1", "a@corp.com", day(1), mail(2, "r@other.org", tagged=True),
           mail(3, "a@corp.com"), mail(3, "lkp@intel.com", bot=True),
           applied=day(10), reviewers=("r@other.org",)),
    # b@corp.com posts; a@corp.com (same employer) replies twice without a tag
    thread("s2", "b@corp.com", day(4), mail(5, "a@corp.com"), mail(6, "a@corp.com"),
           applied=day(12), reviewers=("a@corp.com",)),
    # r@other.org posts; nobody answers; applied unreviewed
    thread("s3", "r@other.org", day(7), applied=day(8)),
    # the previous period: b reviewed a lot
    thread("s0", "a@corp.com", day(-10), mail(-9, "b@corp.com"), mail(-8, "b@corp.com")),
]


class TestCycleReport:
    def test_small_world_counted_by_hand(self) -> None:
        rep = cycle_report(WORLD, subsystem="X", since=T0, until=day(30),
                           previous_since=day(-30), employer=Report().employer)
        assert rep.messages == 4 + 3 + 1  # s1 (with the bot's), s2, s3; s0 is before
        assert dict(rep.per_day)[date(2025, 6, 4)] == 2  # a's answer and lkp's report
        assert rep.people == {"posted_only": 1, "replied_only": 0, "both": 2}  # b; a and r
        assert (rep.applied, rep.applied_reviewed, rep.applied_cross_domain) == (3, 2, 1)
        assert [(r.who, r.count, r.change) for r in rep.reviewers_threads] == [
            ("a@corp.com", 1, None), ("r@other.org", 1, None)]
        assert [(r.who, r.count, r.change) for r in rep.reviewers_messages] == [
            ("a@corp.com", 2, None), ("r@other.org", 1, None)]
        assert [(r.who, r.count) for r in rep.authors_threads] == [
            ("a@corp.com", 1), ("b@corp.com", 1), ("r@other.org", 1)]
        # a: the posting and the answer in s1; b: the posting of s2
        assert [(r.who, r.count) for r in rep.authors_messages][:2] == [
            ("a@corp.com", 2), ("b@corp.com", 1)]
        figures = {d.domain: (d.reviews_given, d.series_posted, d.reviews_received, d.score)
                   for d in rep.domains}
        # other.org: 2 (tagged review of s1) given; corp.com: 1 given (a on s2), 3 received
        assert figures == {"other.org": (2, 1, 0, 2), "corp.com": (1, 2, 3, -2)}
        text = render_report(rep)
        assert "Series applied: 3. With a review or ack from someone other than the" in text

    def test_rank_changes_against_the_previous_period(self) -> None:
        rep = cycle_report(WORLD, subsystem="X", since=day(-30), until=day(30),
                           previous_since=day(-60), employer=Report().employer)
        assert rep.reviewers_messages[0].who == "a@corp.com"
        later = cycle_report(WORLD, subsystem="X", since=T0, until=day(30),
                             previous_since=day(-30), employer=Report().employer)
        assert {r.who: r.change_text() for r in later.reviewers_threads} == {
            "a@corp.com": "new", "r@other.org": "new"}  # only b reviewed before

    def test_domain_map_and_subdomains(self) -> None:
        report = Report(domains=(("mellanox.com", "nvidia.com"),))
        assert report.employer("leon@mellanox.com") == "nvidia.com"
        assert report.employer("x@dev.mellanox.com") == "nvidia.com"
        assert report.employer("x@intel.com") == "intel.com"

    def test_the_report_mail_keeps_the_etiquette(self) -> None:
        rep = cycle_report(WORLD, subsystem="INFINIBAND SUBSYSTEM", since=T0, until=day(30),
                           previous_since=day(-30), label="v6.16", previous_label="v6.15",
                           employer=Report().employer)
        (draft,) = report_draft(rep, ["Jason Gunthorpe <jgg@nvidia.com>"], "bot@example.org")
        assert str(draft.key) == "report:INFINIBAND SUBSYSTEM:jgg@nvidia.com:v6.16"
        built(draft)


class TestCyclePeriod:
    TAGS: ClassVar[list[tuple[str, datetime | None]]] = [
            ("v6.14", datetime(2025, 3, 24, tzinfo=UTC)),
            ("v6.15-rc1", datetime(2025, 4, 6, tzinfo=UTC)),
            ("v6.15", datetime(2025, 5, 25, tzinfo=UTC)),
            ("v6.16", datetime(2025, 7, 27, tzinfo=UTC))]

    def test_a_cycle_runs_from_the_release_before_to_its_own(self) -> None:
        p = cycle_period(self.TAGS, "v6.16", NOW)
        assert (p.since.date(), p.until.date(), p.previous_since.date()) == (
            date(2025, 5, 25), date(2025, 7, 27), date(2025, 3, 24))
        assert (p.label, p.previous_label) == ("v6.16", "v6.15")
        ongoing = cycle_period(self.TAGS, "6.17", NOW)
        assert ongoing.until == NOW  # not released yet: up to now

    def test_unknown_or_undated_cycles_say_why(self) -> None:
        with pytest.raises(UnknownCycle, match=r"need the two releases before v6\.15"):
            cycle_period(self.TAGS, "v6.15", NOW)
        with pytest.raises(UnknownCycle, match="carry no dates"):
            cycle_period([(n, None) for n, _ in self.TAGS], "v6.16", NOW)
        with pytest.raises(UnknownCycle, match="not a release"):
            cycle_period(self.TAGS, "v6.16-rc1", NOW)


class TestSuggestions:
    SECTIONS: ClassVar[list[SectionPeople]] = [
                SectionPeople("SOFT-ROCE DRIVER (rxe)", False, ("Zhu Yanjun <zyj@g.com>",), ()),
                SectionPeople("INFINIBAND SUBSYSTEM", True, ("Jason <jgg@nvidia.com>",),
                              ("Rev <rev@x.org>",))]

    def past(self, who: str, days_ago: int, sid: str = "old") -> PastReview:
        return PastReview(SeriesId(sid), who, "Reviewed-by", NOW - timedelta(days=days_ago),
                          "drivers/infiniband/sw/rxe/rxe_mr.c")

    def rank(self, **kw: object) -> list[tuple[str, float]]:
        args: dict[str, object] = dict(
            sections=self.SECTIONS, files=["drivers/infiniband/sw/rxe/rxe_mr.c"], past=[],
            load={}, author="author@x.org", policy=Policy(), now=NOW)
        args.update(kw)
        return [(s.address, s.score) for s in rank_reviewers(**args)]  # type: ignore[arg-type]

    def test_listed_people_by_role(self) -> None:
        # R: of the taker 3, M: of the taker 2, M: of another section 1
        assert self.rank() == [("rev@x.org", 3.0), ("jgg@nvidia.com", 2.0), ("zyj@g.com", 1.0)]

    def test_recent_reviewers_of_the_files_rise_and_old_ones_fade(self) -> None:
        got = dict(self.rank(past=[self.past("new@x.org", 0), self.past("old@x.org", 180),
                                   self.past("ancient@x.org", 400)]))
        assert got["new@x.org"] == 3.0  # 2 x 0.5**0 + the whole file set
        assert got["old@x.org"] == 1.5  # 2 x 0.5**2 + 1
        assert "ancient@x.org" not in got  # more than a year ago

    def test_load_divides_and_the_author_bots_and_absent_are_never_suggested(self) -> None:
        got = dict(self.rank(load={"rev@x.org": 3}, author="Zhu <zyj@g.com>",
                             past=[self.past("lkp@intel.com", 1)],
                             policy=Policy(reviewers=Reviewers(pool=("away@x.org",)))))
        assert got["rev@x.org"] == 1.5  # 3 / (1 + 3/3)
        assert "zyj@g.com" not in got and "lkp@intel.com" not in got
        assert got["away@x.org"] == 1.0

    def test_aliases_merge_a_persons_addresses(self) -> None:
        got = self.rank(past=[self.past("leon@kernel.org", 0)],
                        aliases={"leon@kernel.org": "jgg@nvidia.com"})
        assert got[0] == ("jgg@nvidia.com", 5.0)  # listed 2 + reviewed 3


def test_the_acknowledgement_keeps_the_etiquette() -> None:
    raw = (b"From: Leon <leon@kernel.org>\nTo: bot@example.org\nSubject: Re: [reviewbot] "
           b"waiting on you\nDate: Mon, 02 Jun 2025 10:00:00 +0000\nMessage-ID: <c@k>\n"
           b"In-Reply-To: <reviewbot.nag.1@example.org>\n\nreviewbot: claim\n"
           b"reviewbot: state x@y changes-requested\n")
    cmd = read_command_mail(raw)
    draft = ack_draft(cmd, [CommandOutcome("reviewbot: claim", True, "leonro@nvidia.com "
                                           "claimed on <x@y> (Reviewed-by: A <a@b>)"),
                            CommandOutcome("reviewbot: state x@y changes-requested", False,
                                           "changes-requested cannot be set by hand")])
    assert b"In-Reply-To: <c@k>" in built(draft)
