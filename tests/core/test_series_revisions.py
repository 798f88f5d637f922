"""Revision linking v1 -> v2 -> v3 and supersede (domain.md §2)."""

from __future__ import annotations

from dataclasses import replace

from reviewbot.core.model import Message, Series
from reviewbot.core.series.assemble import assemble
from tests.core.series_builder import posting, reply, tr


def by_id(messages: list[Message]) -> dict[str, Series]:
    return {s.series_id: s for s in assemble(messages).series}


class TestRevisions:
    def test_change_id_links_revisions_whatever_the_title(self) -> None:
        """Covers sharing a b4 change-id are revisions even after a retitle."""
        s = by_id(
            [
                posting("a@x", "old title", n=0, of=2, change_id="20250101-foo-1234"),
                posting(
                    "b@x",
                    "new title",
                    n=0,
                    of=2,
                    v="2",
                    change_id="20250101-foo-1234",
                    minutes=900,
                    sender="alice@other.example",
                ),
            ]
        )
        assert s["a@x"].revisions == ("a@x", "b@x")
        assert s["b@x"].revisions == ("a@x", "b@x")
        assert s["a@x"].superseded_by == "b@x"
        assert s["b@x"].superseded_by is None
        assert s["b@x"].revision_link == "change-id"
        assert s["a@x"].revision_link is None

    def test_lore_link_in_body_links_revisions(self) -> None:
        """A v2 whose body links v1's cover on lore is v1's successor ("reference")."""
        s = by_id(
            [
                posting("a@x", "first try", n=0, of=2),
                posting("b@x", "second try", n=0, of=2, v="2", linked=("a@x",), minutes=900),
            ]
        )
        assert s["b@x"].revisions == ("a@x", "b@x")
        assert s["b@x"].revision_link == "reference"

    def test_link_to_an_older_unrelated_v3_does_not_make_a_v1_its_successor(self) -> None:
        """References only point forward in version: a v1 citing a v3 is no revision of it."""
        s = by_id(
            [
                posting("a@x", "dependency", v="3"),
                posting("b@x", "user of it", linked=("a@x",), minutes=60),
            ]
        )
        assert s["b@x"].revisions == ("b@x",)
        assert s["a@x"].superseded_by is None

    def test_same_title_and_sender_links_heuristically(self) -> None:
        """v1, v2, v3 with one title from one sender chain by the subject heuristic."""
        s = by_id(
            [
                posting("v3@x", "RDMA/foo: Fix  Leak", v="3", minutes=2000),
                posting("v1@x", "RDMA/foo: fix leak"),
                posting("v2@x", "rdma/foo: fix leak", v="2", minutes=1000),
            ]
        )
        assert s["v1@x"].revisions == ("v1@x", "v2@x", "v3@x")
        assert s["v1@x"].superseded_by == "v2@x"
        assert s["v2@x"].superseded_by == "v3@x"
        assert s["v3@x"].revision_link == "subject"

    def test_same_title_from_another_sender_is_not_a_revision(self) -> None:
        """The subject heuristic needs the same sender address."""
        s = by_id(
            [
                posting("a@x", "RDMA/foo: fix leak"),
                posting("b@x", "RDMA/foo: fix leak", v="2", sender="eve@example.org"),
            ]
        )
        assert s["b@x"].revisions == ("b@x",)

    def test_resend_supersedes_the_same_version(self) -> None:
        """A RESEND of v2 supersedes the earlier v2 posting."""
        s = by_id(
            [
                posting("a@x", "RDMA/foo: fix", v="2"),
                posting("b@x", "RDMA/foo: fix", v="2", resend=True, minutes=5000),
            ]
        )
        assert s["a@x"].superseded_by == "b@x"
        assert s["b@x"].is_resend

    def test_thread_reply_links_a_new_version(self) -> None:
        """A v2 posted In-Reply-To v1 is linked by reference even after a retitle."""
        s = by_id(
            [
                posting("a@x", "RDMA/foo: fix"),
                posting("b@x", "RDMA/foo: fix it properly", v="2", irt="a@x", minutes=100),
            ]
        )
        assert s["a@x"].superseded_by == "b@x"
        assert s["b@x"].revision_link == "reference"

    def test_autosel_backports_are_not_linked_by_title(self) -> None:
        """AUTOSEL posts for two stable branches reuse one title: no heuristic link."""
        s = by_id(
            [
                posting("a@x", "RDMA/foo: fix", autosel=True, sender="sasha@kernel.org"),
                posting("b@x", "RDMA/foo: fix", v="2", autosel=True, sender="sasha@kernel.org"),
            ]
        )
        assert s["a@x"].revisions == ("a@x",)

    def test_point_version_orders_after_its_base(self) -> None:
        """v4.1 comes after v4 and before v5."""
        s = by_id(
            [
                posting("v5@x", "RDMA/foo: fix", v="5", minutes=30),
                posting("v41@x", "RDMA/foo: fix", v="4.1", minutes=20),
                posting("v4@x", "RDMA/foo: fix", v="4", minutes=10),
            ]
        )
        assert s["v4@x"].revisions == ("v4@x", "v41@x", "v5@x")

    def test_link_to_another_senders_series_is_a_dependency(self) -> None:
        """A v2 cover linking someone else's differently titled v1 is not its revision."""
        s = by_id(
            [
                posting("dep@x", "core: new API", n=0, of=4, sender="jgg@example.org"),
                posting("use@x", "driver: use it", n=0, of=2, v="2", linked=("dep@x",)),
            ]
        )
        assert s["use@x"].revisions == ("use@x",)
        assert s["dep@x"].superseded_by is None

    def test_same_version_repost_supersedes_by_subject(self) -> None:
        """The same [PATCH] from the same sender posted again later supersedes the first."""
        s = by_id(
            [
                posting("a@x", "RDMA/rxe: fix lock"),
                posting("b@x", "RDMA/rxe: fix lock", minutes=13 * 24 * 60),
            ]
        )
        assert s["a@x"].superseded_by == "b@x"
        assert s["b@x"].revision_link == "subject"


class TestCarriedTrailers:
    def test_review_of_an_identical_patch_carries_to_the_next_revision(self) -> None:
        """Bob's Reviewed-by on v1 applies to v2's patch with the same patch-id (as in b4)."""
        v1 = posting("a@x", "RDMA/foo: fix", change_id="c-1")
        v2 = replace(posting("b@x", "RDMA/foo: fix", v="2", minutes=900), patch_id="pid-a@x")
        v3 = posting("c@x", "RDMA/foo: fix", v="3", minutes=1900)  # changed: new patch-id
        rb = tr("Reviewed-by", "Bob Reviewer", "bob@example.org")
        s = by_id([v1, v2, v3, reply("r@x", v1, trailers=(rb,))])
        assert [(t.email, t.source) for t in s["b@x"].patches[0].trailers] == [
            ("bob@example.org", "r@x")
        ]
        assert s["c@x"].patches[0].trailers == ()
