"""core.applied: which commits applied which posted patches (domain.md §5)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from reviewbot.core.applied.match import (
    AppliedMatch,
    MatchMethod,
    SeriesAppliedState,
    TrackedPatch,
    TreeCommit,
    match_commits,
    normalise_subject,
    series_applied,
    tracked_from_messages,
    trailer_message_ids,
)
from reviewbot.core.model import Message, MessageId, MessageKind, SeriesId, Subject

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MID = MessageId("20250301120000.1-1-dev@example.org")


def patch(
    mid: str = MID,
    *,
    patch_id: str | None = "aa" * 20,
    subject: str = "[PATCH rdma-next] RDMA/mlx5: Fix a leak",
    email: str = "dev@example.org",
    date: datetime = T0,
    files: tuple[str, ...] = ("drivers/infiniband/hw/mlx5/main.c",),
    series: str | None = None,
) -> TrackedPatch:
    return TrackedPatch(
        message_id=MessageId(mid), series_id=SeriesId(series or mid), patch_id=patch_id,
        subject=subject, author_email=email, date=date, files=files, author_name="Dev Eloper",
    )


def commit(
    sha: str = "c1" * 20,
    *,
    patch_id: str | None = "aa" * 20,
    subject: str = "RDMA/mlx5: Fix a leak",
    email: str = "dev@example.org",
    trailers: tuple[str, ...] = (),
    applied: datetime = T0 + timedelta(days=7),
    files: tuple[str, ...] = ("drivers/infiniband/hw/mlx5/main.c",),
) -> TreeCommit:
    return TreeCommit(
        sha=sha, subject=subject, author_name="Dev Eloper", author_email=email,
        author_date=T0, commit_date=applied, trailers=trailers, patch_id=patch_id, files=files,
    )


class TestNormaliseSubject:
    def test_strips_prefixes_reply_case_and_spaces(self) -> None:
        """Bracket tags, "Re:", runs of whitespace and case do not matter."""
        assert normalise_subject("Re: [PATCH v2 3/7]  RDMA/x:  Fix   y ") == "rdma/x: fix y"

    def test_strips_several_bracket_groups(self) -> None:
        """"[RFC][PATCH net-next,v3 1/2]" is two prefixes, both dropped."""
        assert normalise_subject("[RFC][PATCH net-next,v3 1/2] net: mana: Add X") == \
            "net: mana: add x"

    def test_is_idempotent(self) -> None:
        """Normalising twice changes nothing."""
        once = normalise_subject("[PATCH] IB/core: Tidy")
        assert normalise_subject(once) == once == "ib/core: tidy"


class TestTrailerMessageIds:
    def test_lore_r_list_and_msgid_link_forms(self) -> None:
        """lore /r/, lore /<list>/ and patch.msgid.link all name a Message-ID."""
        lines = (
            "Link: https://lore.kernel.org/r/a1@x.org",
            "Link: https://lore.kernel.org/linux-rdma/b2@x.org/",
            "Link: https://patch.msgid.link/c3@x.org",
        )
        assert trailer_message_ids(lines) == ("a1@x.org", "b2@x.org", "c3@x.org")

    def test_message_id_trailer_and_quoted_at(self) -> None:
        """QEMU-style "Message-ID: <id>" and URL-quoted "%40" are understood."""
        lines = ("Message-ID: <d4@x.org>", "Link: https://lore.kernel.org/all/e5%40x.org/T/")
        assert trailer_message_ids(lines) == ("d4@x.org", "e5@x.org")

    def test_lore_without_list_segment(self) -> None:
        """lore.kernel.org/<id> (no /r/) redirects to the message, so it names it too."""
        lines = ("Link: https://lore.kernel.org/20250101.1-1-a@x.org",)
        assert trailer_message_ids(lines) == ("20250101.1-1-a@x.org",)

    def test_other_links_and_trailers_are_ignored(self) -> None:
        """A bugzilla Link: or a Reviewed-by: names no posting."""
        lines = ("Link: https://bugzilla.kernel.org/show_bug.cgi?id=1",
                 "Reviewed-by: A <a@x.org>")
        assert trailer_message_ids(lines) == ()


class TestMatchByPatchId:
    def test_untouched_patch_matches_by_patch_id(self) -> None:
        """Same stable patch-id: an exact, non-fuzzy match."""
        [m] = match_commits([patch()], [commit()])
        assert m == AppliedMatch("c1" * 20, MID, SeriesId(MID), MatchMethod.PATCH_ID, False)

    def test_reworded_and_retitled_commit_still_matches(self) -> None:
        """patch-id ignores the message: a new subject, author and trailers don't matter."""
        c = commit(subject="RDMA/mlx5: Plug leak", email="maint@kernel.org",
                   trailers=("Reviewed-by: R <r@x.org>",))
        [m] = match_commits([patch()], [c])
        assert (m.message_id, m.method) == (MID, MatchMethod.PATCH_ID)

    def test_latest_revision_wins(self) -> None:
        """v1 and v2 with the same diff: the commit applied v2, the newest posting."""
        v1 = patch("v1@x.org", date=T0 - timedelta(days=10))
        v2 = patch("v2@x.org", date=T0)
        [m] = match_commits([v2, v1], [commit()])
        assert m.message_id == "v2@x.org"

    def test_posting_after_the_commit_is_not_a_candidate(self) -> None:
        """A later AUTOSEL copy or RESEND with the same diff cannot be what was applied."""
        original = patch("orig@x.org", date=T0)
        backport = patch("autosel@x.org", date=T0 + timedelta(days=60),
                         subject="[PATCH AUTOSEL 6.12 1/9] RDMA/mlx5: Fix a leak")
        [m] = match_commits([original, backport], [commit()])
        assert m.message_id == "orig@x.org"

    def test_link_names_the_revision_among_identical_diffs(self) -> None:
        """The maintainer took v1 although an identical v2 exists: its Link: says so."""
        v1 = patch("v1@x.org", date=T0 - timedelta(days=3))
        v2 = patch("v2@x.org", date=T0)
        c = commit(trailers=("Link: https://patch.msgid.link/v1@x.org",))
        [m] = match_commits([v1, v2], [c])
        assert (m.message_id, m.method) == ("v1@x.org", MatchMethod.PATCH_ID)


class TestMatchByTrailer:
    def test_edited_code_found_by_link(self) -> None:
        """Code fixed up while applying changes the patch-id; the Link: still names it."""
        c = commit(patch_id="bb" * 20, trailers=(f"Link: https://lore.kernel.org/r/{MID}",))
        [m] = match_commits([patch()], [c])
        assert (m.message_id, m.method, m.fuzzy) == (MID, MatchMethod.TRAILER, False)

    def test_link_to_cover_letter_picks_the_member_by_subject(self) -> None:
        """A Link: to the cover letter is resolved to the series member with the commit's title."""
        p1 = patch("p1@x.org", patch_id="11" * 20, subject="[PATCH 1/2] a: one", series="cover@x")
        p2 = patch("p2@x.org", patch_id="22" * 20, subject="[PATCH 2/2] a: two", series="cover@x")
        c = commit(patch_id="99" * 20, subject="a: two",
                   trailers=("Link: https://lore.kernel.org/r/cover@x",))
        [m] = match_commits([p1, p2], [c])
        assert (m.message_id, m.series_id) == ("p2@x.org", "cover@x")

    def test_link_to_an_unrelated_posting_is_not_trusted(self) -> None:
        """A Link: citing an earlier, different patch (other title, other files) is no match."""
        other = patch("other@x.org", patch_id="33" * 20, subject="[PATCH] net: other fix",
                      files=("net/core/dev.c",))
        c = commit(patch_id="99" * 20, subject="s390/pci: Fix deadlock",
                   files=("arch/s390/pci/pci.c",),
                   trailers=("Link: https://lore.kernel.org/r/other@x.org",))
        assert match_commits([other], [c]) == []


class TestFuzzyFallback:
    def test_subject_and_author_within_window_is_fuzzy(self) -> None:
        """No patch-id, no link: subject + author + files find it, marked fuzzy."""
        [m] = match_commits([patch()], [commit(patch_id="bb" * 20)])
        assert (m.message_id, m.method, m.fuzzy) == (MID, MatchMethod.SUBJECT_AUTHOR, True)

    def test_other_author_is_no_match(self) -> None:
        """The same title by someone else is someone else's patch."""
        c = replace(commit(patch_id="bb" * 20), author_name="X Y", author_email="x@y.org")
        assert match_commits([patch()], [c]) == []

    def test_disjoint_files_is_no_match(self) -> None:
        """Same title and author but other files: a different change."""
        c = commit(patch_id="bb" * 20, files=("drivers/net/other.c",))
        assert match_commits([patch()], [c]) == []

    def test_outside_window_is_no_match(self) -> None:
        """Applied long after the window: too weak to claim."""
        c = commit(patch_id="bb" * 20, applied=T0 + timedelta(days=400))
        assert match_commits([patch()], [c], window=timedelta(days=365)) == []

    def test_retitled_and_edited_without_link_is_no_match(self) -> None:
        """Nothing left in common but the author: the matcher does not guess."""
        c = commit(patch_id="bb" * 20, subject="RDMA/mlx5: Rework cleanup")
        assert match_commits([patch()], [c]) == []


class TestSeriesApplied:
    IDS = (MessageId("p1@x"), MessageId("p2@x"), MessageId("p3@x"))

    def m(self, mid: str, sha: str, fuzzy: bool = False) -> AppliedMatch:
        method = MatchMethod.SUBJECT_AUTHOR if fuzzy else MatchMethod.PATCH_ID
        return AppliedMatch(sha, MessageId(mid), SeriesId("cover@x"), method, fuzzy)

    def test_all_patches_applied(self) -> None:
        """Every patch has a commit: the series is applied."""
        got = series_applied([self.m("p1@x", "a"), self.m("p2@x", "b"), self.m("p3@x", "c")],
                             self.IDS)
        assert (got.state, got.missing, got.commits) == \
            (SeriesAppliedState.APPLIED, (), ("a", "b", "c"))

    def test_some_patches_applied_is_partial(self) -> None:
        """Patches 1 and 3 only: partial, patch 2 missing."""
        got = series_applied([self.m("p3@x", "c"), self.m("p1@x", "a")], self.IDS)
        assert (got.state, got.applied, got.missing) == \
            (SeriesAppliedState.PARTIAL, ("p1@x", "p3@x"), ("p2@x",))

    def test_none_applied(self) -> None:
        """Matches of other series do not count."""
        got = series_applied([self.m("elsewhere@x", "z")], self.IDS)
        assert (got.state, got.applied) == (SeriesAppliedState.NONE, ())

    def test_fuzzy_only_when_no_exact_match_confirms(self) -> None:
        """A fuzzy match confirmed by an exact one (another branch) is not fuzzy."""
        exact = [self.m("p1@x", "a"), self.m("p1@x", "a2", fuzzy=True)]
        assert not series_applied(exact, self.IDS[:1]).fuzzy
        assert series_applied([self.m("p1@x", "a", fuzzy=True)], self.IDS[:1]).fuzzy


class TestTrackedFromMessages:
    @staticmethod
    def msg(mid: str, subject: Subject, kind: MessageKind = MessageKind.PATCH) -> Message:
        return Message(
            message_id=MessageId(mid), subject=subject, from_name="Sender", from_email="s@x.org",
            date=T0, kind=kind, author_name="Dev Eloper", author_email="dev@example.org",
            files=("a.c",), patch_id="aa" * 20,
        )

    def test_patches_become_tracked_with_their_series_and_author(self) -> None:
        """A posted patch is tracked under its series, with the in-body author."""
        s = Subject(raw="[PATCH 1/2] a: one", title="a: one", is_patch=True, counter=1, total=2)
        [t] = tracked_from_messages([self.msg("p1@x", s)], {MessageId("p1@x"): SeriesId("c@x")})
        assert (t.message_id, t.series_id, t.author_email, t.subject, t.patch_id) == \
            ("p1@x", "c@x", "dev@example.org", "a: one", "aa" * 20)

    def test_replies_suggestions_and_autosel_are_not_tracked(self) -> None:
        """Review replies, "Re: [PATCH]" diffs and stable AUTOSEL copies never get applied."""
        reply = Subject(raw="Re: [PATCH] a: one", title="a: one", is_reply=True, is_patch=True)
        autosel = Subject(raw="[PATCH AUTOSEL 6.12 1/9] a: one", title="a: one",
                          is_patch=True, is_autosel=True)
        plain = Subject(raw="[PATCH] a: one", title="a: one", is_patch=True)
        msgs = [self.msg("r@x", reply), self.msg("s@x", autosel),
                self.msg("c@x", plain, MessageKind.REPLY)]
        assert tracked_from_messages(msgs, {}) == []
