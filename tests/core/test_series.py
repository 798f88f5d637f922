"""Series assembly: which postings form one series (hand-made messages)."""

from __future__ import annotations

from dataclasses import replace

from reviewbot.core.model import MessageKind, Series, Subject
from reviewbot.core.series.assemble import Assembly, assemble
from tests.core.series_builder import posting, reply, series_of_three


def only(assembly: Assembly) -> Series:
    assert len(assembly.series) == 1, [s.series_id for s in assembly.series]
    return assembly.series[0]


class TestGrouping:
    def test_cover_and_patches_form_one_complete_series(self) -> None:
        """A cover letter 0/3 and patches 1..3 threaded below it are one complete series."""
        s = only(assemble(series_of_three()))
        assert s.series_id == "a0@x"
        assert s.cover_message_id == "a0@x"
        assert [p.index for p in s.patches] == [1, 2, 3]
        assert [p.message_id for p in s.patches] == ["a1@x", "a2@x", "a3@x"]
        assert s.total == 3
        assert s.missing == ()
        assert s.complete
        assert s.title == "RDMA/foo: a series"

    def test_deep_threading_without_cover(self) -> None:
        """Each patch answering the previous one (deep threading) still makes one series."""
        p1 = posting("p1@x", n=1, of=3)
        p2 = posting("p2@x", n=2, of=3, irt="p1@x")
        p3 = posting("p3@x", n=3, of=3, irt="p2@x", refs=("p1@x", "p2@x"))
        s = only(assemble([p3, p1, p2]))
        assert s.series_id == "p1@x"
        assert s.cover_message_id is None
        assert [p.index for p in s.patches] == [1, 2, 3]

    def test_partial_series_lists_missing_indexes(self) -> None:
        """Patches 1 and 3 of 4 with their cover: 2 and 4 are reported missing."""
        cover = posting("c@x", n=0, of=4)
        msgs = [cover, posting("1@x", n=1, of=4, irt="c@x"), posting("3@x", n=3, of=4, irt="c@x")]
        s = only(assemble(msgs))
        assert s.missing == (2, 4)
        assert not s.complete

    def test_absent_cover_groups_patches_by_shared_root(self) -> None:
        """Patches whose cover never reached the list group by the cover they answer."""
        msgs = [
            posting("2@x", n=2, of=5, irt="cover@x"),
            posting("4@x", n=4, of=5, irt="cover@x"),
        ]
        s = only(assemble(msgs))
        assert s.series_id == "2@x"  # lowest-numbered patch present
        assert s.cover_message_id is None
        assert s.missing == (1, 3, 5)

    def test_single_patch_is_a_series_of_one(self) -> None:
        """A patch without n/N is a complete series of one at index 1."""
        s = only(assemble([posting("solo@x", "RDMA/bar: fix")]))
        assert (s.series_id, s.total, s.missing) == ("solo@x", 1, ())
        assert s.patches[0].index == 1
        assert s.patches[0].files == ("drivers/infiniband/core/foo.c",)

    def test_counter_above_total_widens_the_series(self) -> None:
        """`[PATCH 6/5]` makes the series six long, as b4 does."""
        cover = posting("c@x", n=0, of=5)
        msgs = [cover] + [posting(f"{i}@x", n=i, of=5, irt="c@x") for i in range(1, 6)]
        msgs.append(posting("6@x", n=6, of=5, irt="c@x"))
        s = only(assemble(msgs))
        assert s.total == 6
        assert len(s.patches) == 6

    def test_unthreaded_patches_of_one_sender_are_merged(self) -> None:
        """No In-Reply-To at all: same sender, version and total within 20 minutes join."""
        msgs = [posting(f"u{i}@x", f"part {i}", n=i, of=3, minutes=i * 2) for i in (1, 2, 3)]
        s = only(assemble(msgs))
        assert [p.message_id for p in s.patches] == ["u1@x", "u2@x", "u3@x"]

    def test_unthreaded_patches_hours_apart_stay_apart(self) -> None:
        """Unthreaded 1/2 and 2/2 sent three hours apart are two partial series."""
        msgs = [posting("u1@x", n=1, of=2), posting("u2@x", n=2, of=2, minutes=180)]
        a = assemble(msgs)
        assert len(a.series) == 2
        assert {s.missing for s in a.series} == {(2,), (1,)}

    def test_unthreaded_patches_of_two_senders_stay_apart(self) -> None:
        """Unthreaded patches by different senders never merge."""
        msgs = [posting("u1@x", n=1, of=2), posting("u2@y", n=2, of=2, sender="eve@example.org")]
        assert len(assemble(msgs).series) == 2

    def test_new_version_sent_in_reply_to_old_thread_is_a_new_series(self) -> None:
        """A v2 cover posted In-Reply-To the v1 cover starts its own series."""
        v1 = series_of_three("1", "a")
        v2 = series_of_three("2", "b", minutes=600)
        v2[0] = posting("b0@x", "RDMA/foo: a series", n=0, of=3, v="2", irt="a0@x", minutes=600)
        a = assemble(v1 + v2)
        assert [s.series_id for s in a.series] == ["a0@x", "b0@x"]
        assert [s.version for s in a.series] == [1, 2]
        assert a.series_of["b2@x"] == "b0@x"

    def test_other_series_in_old_thread_is_new_series(self) -> None:
        """A different 2-patch series sent In-Reply-To an old 3-patch series stays apart."""
        old = series_of_three()
        new = [
            posting("n1@x", "other 1", n=1, of=2, irt="a2@x", refs=("a0@x", "a2@x"), minutes=90),
            posting("n2@x", "other 2", n=2, of=2, irt="n1@x", minutes=91),
        ]
        a = assemble(old + new)
        assert [s.series_id for s in a.series] == ["a0@x", "n1@x"]
        assert a.series_of["n2@x"] == "n1@x"

    def test_duplicate_slot_makes_a_separate_series(self) -> None:
        """Two different 2/3 in one thread: the earlier one stays, the later stands alone."""
        msgs = [*series_of_three(), posting("dup@x", "again", n=2, of=3, irt="a0@x", minutes=30)]
        a = assemble(msgs)
        first = next(s for s in a.series if s.series_id == "a0@x")
        assert [p.message_id for p in first.patches] == ["a1@x", "a2@x", "a3@x"]
        assert a.series_of["dup@x"] == "dup@x"

    def test_pull_requests_are_not_series(self) -> None:
        """`[GIT PULL]` mail never becomes a series."""
        pull = posting("pull@x", "rdma fixes for 6.15")
        pull = replace(
            pull,
            kind=MessageKind.PULL_REQUEST,
            subject=Subject(raw="[GIT PULL] rdma", title="rdma", is_pull=True),
        )
        assert assemble([pull]).series == ()

    def test_autosel_backports_are_flagged_series(self) -> None:
        """AUTOSEL backports are series, with is_autosel set."""
        s = only(assemble([posting("as@x", n=1, of=1, autosel=True)]))
        assert s.is_autosel

    def test_unversioned_patch_under_versioned_cover_joins_it(self) -> None:
        """A patch lacking `v3` below a v3 cover letter belongs to that v3 (b4 too)."""
        cover = posting("c@x", n=0, of=1, v="3")
        s = only(assemble([cover, posting("p@x", n=1, of=1, irt="c@x")]))
        assert s.version == 3
        assert [p.message_id for p in s.patches] == ["p@x"]


class TestMembers:
    def test_replies_are_members_of_their_series(self) -> None:
        """Cover, patches and every reply below them are members; series_of maps them all."""
        msgs = series_of_three()
        r1 = reply("r1@x", msgs[2])
        r2 = reply("r2@x", r1, sender="alice@example.org", name="Alice Author")
        s = only(assemble([*msgs, r1, r2]))
        assert set(s.members) == {"a0@x", "a1@x", "a2@x", "a3@x", "r1@x", "r2@x"}
        assert s.members[0] == "a0@x"  # earliest first

    def test_reply_whose_parent_is_absent_finds_patch_via_references(self) -> None:
        """A reply to a missing reply still lands in the series through References."""
        msgs = series_of_three()
        ghost = reply("ghost@x", msgs[1])
        r = reply("r@x", ghost)
        a = assemble([*msgs, r])
        assert a.series_of["r@x"] == "a0@x"
        assert "ghost@x" not in a.series_of

    def test_unrelated_threads_are_not_members(self) -> None:
        """A bug report and its answers outside any series map to no series."""
        report = posting("bug@x", "crash in foo")
        report = replace(report, kind=MessageKind.OTHER)
        a = assemble([report, reply("re@x", report)])
        assert a.series == ()
        assert a.series_of == {}

    def test_series_date_is_earliest_member(self) -> None:
        """Series.date is the earliest Date: among its members."""
        msgs = series_of_three(minutes=30)
        early = reply("early@x", msgs[1], minutes=-100)  # a misdated reply
        s = only(assemble([*msgs, early]))
        assert s.date == early.date


class TestPartialReroll:
    def test_v2_of_one_patch_in_reply_to_v1_completes_from_v1(self) -> None:
        """v2 of patch 2/3 sent In-Reply-To v1's 2/3 becomes a full v2 (b4's partial reroll)."""
        v1 = series_of_three()
        v2p2 = posting(
            "b2@x",
            "RDMA/foo: part 2",
            n=2,
            of=3,
            v="2",
            irt="a2@x",
            refs=("a0@x", "a2@x"),
            minutes=300,
        )
        a = assemble([*v1, v2p2])
        by_id = {s.series_id: s for s in a.series}
        v2 = by_id["b2@x"]
        assert v2.version == 2
        assert [p.message_id for p in v2.patches] == ["a1@x", "b2@x", "a3@x"]
        assert v2.missing == ()
        assert by_id["a0@x"].superseded_by == "b2@x"
        assert v2.revisions == ("a0@x", "b2@x")
        assert v2.revision_link == "reference"
        assert a.series_of["a1@x"] == "a0@x"  # carried patches stay with v1


class TestOtherSenders:
    def test_someone_elses_patch_below_a_cover_is_its_own_series(self) -> None:
        """A reviewer's `[PATCH 2/3]` sent below Alice's cover does not join her series."""
        msgs = [m for m in series_of_three() if m.message_id != "a2@x"]
        other = posting("o@x", "alt", n=2, of=3, irt="a0@x", sender="eve@example.org", minutes=30)
        a = assemble([*msgs, other])
        first = next(s for s in a.series if s.series_id == "a0@x")
        assert [p.message_id for p in first.patches] == ["a1@x", "a3@x"]
        assert first.missing == (2,)
        assert a.series_of["o@x"] == "o@x"

    def test_absent_cover_does_not_pull_in_other_senders(self) -> None:
        """Patches below an absent cover group per sender, so Eve's 2/3 stays apart."""
        msgs = [
            posting("1@x", n=1, of=3, irt="gone@x"),
            posting("3@x", n=3, of=3, irt="gone@x"),
            posting("e2@x", n=2, of=3, irt="gone@x", sender="eve@example.org"),
        ]
        a = assemble(msgs)
        assert a.series_of["3@x"] == "1@x"
        assert a.series_of["e2@x"] == "e2@x"
