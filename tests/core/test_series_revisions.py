"""Revision linking v1 -> v2 -> v3 and supersede (domain.md §2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from reviewbot.core.model import Message, Series, SeriesId
from reviewbot.core.series.assemble import assemble
from reviewbot.core.series.revisions import Candidate, is_generic, link
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


DAY = 24 * 60


def patches(cover: str, title: str, subjects: tuple[str, ...], files: tuple[str, ...],
            **kw: Any) -> list[Message]:
    """A cover letter and its patches, each with its own subject and the given files."""
    of = len(subjects)
    out = [posting(cover, title, n=0, of=of, **kw)]
    for i, subject in enumerate(subjects, 1):
        p = posting(f"{i}.{cover}", subject, n=i, of=of, irt=cover, **kw)
        out.append(replace(p, files=files))
    return out


HNS = ("drivers/infiniband/hw/hns/hns_roce_hw_v2.c",)


class TestCorroboration:
    """A title + sender link needs corroboration (issue 7, "Revision links must be real")."""

    def test_two_unrelated_misc_fixes_five_months_apart_stay_apart(self) -> None:
        """The issue's case: two "RDMA/hns: Misc fixes" v1 series, other patches, same driver."""
        s = by_id(
            patches("jan@x", "RDMA/hns: Misc fixes",
                    ("RDMA/hns: Fix a leak", "RDMA/hns: Fix wrong port"), HNS,
                    sender="hns@hisilicon.com")
            + patches("jun@x", "RDMA/hns: Misc fixes",
                      ("RDMA/hns: Fix a deadlock", "RDMA/hns: Fix an overflow"), HNS,
                      sender="hns@hisilicon.com", minutes=150 * DAY)
        )
        assert s["jan@x"].revisions == ("jan@x",) and s["jan@x"].superseded_by is None
        assert s["jun@x"].revisions == ("jun@x",) and s["jun@x"].revision_link is None

    def test_generic_title_links_with_shared_patch_subjects(self) -> None:
        """A real v2 of "Misc fixes" keeps most patch subjects: that corroborates."""
        s = by_id(
            patches("a@x", "RDMA/hns: Misc fixes", ("RDMA/hns: Fix a leak", "RDMA/hns: Fix x"), HNS)
            + patches("b@x", "RDMA/hns: Misc fixes", ("RDMA/hns: Fix a leak", "RDMA/hns: Fix y"),
                      HNS, v="2", minutes=100 * DAY)
        )
        assert s["a@x"].superseded_by == "b@x"
        assert s["b@x"].revision_link == "subject"

    def test_generic_title_with_a_higher_version_still_needs_content(self) -> None:
        """A "v2" of "Cleanups" sharing no patch and no file months later is not a revision."""
        s = by_id(
            patches("a@x", "Cleanups", ("RDMA/foo: Drop x",), ("drivers/infiniband/core/foo.c",))
            + patches("b@x", "Cleanups", ("RDMA/bar: Drop y",), ("drivers/infiniband/core/bar.c",),
                      v="2", minutes=3 * DAY)
        )
        assert s["a@x"].superseded_by is None

    def test_generic_title_shared_files_count_only_within_the_window(self) -> None:
        """Shared files (every hns series touches hns_roce_hw_v2.c) corroborate only soon after."""
        soon = by_id(
            patches("a@x", "Bug fixes", ("RDMA/hns: Fix a",), HNS)
            + patches("b@x", "Bug fixes", ("RDMA/hns: Fix b",), HNS, v="2", minutes=2 * DAY))
        late = by_id(
            patches("a@x", "Bug fixes", ("RDMA/hns: Fix a",), HNS)
            + patches("b@x", "Bug fixes", ("RDMA/hns: Fix b",), HNS, v="2", minutes=60 * DAY))
        assert soon["a@x"].superseded_by == "b@x"
        assert late["a@x"].superseded_by is None

    def test_a_specific_title_links_when_the_version_goes_up(self) -> None:
        """The version number going up corroborates a specific title, however late."""
        s = by_id([posting("a@x", "RDMA/foo: fix leak"),
                   posting("b@x", "RDMA/foo: fix leak", v="2", minutes=200 * DAY)])
        assert s["a@x"].superseded_by == "b@x"

    def test_never_from_a_version_to_a_lower_one_posted_later(self) -> None:
        """An "RFC PATCH" v1 posted after v2 restarts numbering: it supersedes nothing and
        nothing older is "superseded by v1"."""
        s = by_id([posting("v1@x", "net/smc: add IPv6"),
                   posting("v2@x", "net/smc: add IPv6", v="2", minutes=6 * DAY),
                   posting("rfc@x", "net/smc: add IPv6", rfc=True, minutes=36 * DAY)])
        assert s["v1@x"].superseded_by == "v2@x"
        assert s["v2@x"].superseded_by is None
        assert s["rfc@x"].revisions == ("rfc@x",)

    def test_unrelated_same_version_postings_do_not_link(self) -> None:
        """Same title, same sender, v1 again, other patch and files: not a repost."""
        a = posting("a@x", "net/smc: fix general protection fault")
        b = replace(posting("b@x", "net/smc: fix general protection fault", minutes=175 * DAY),
                    files=("net/smc/smc_diag.c",))
        s = by_id([replace(a, files=("net/smc/af_smc.c",)), b])
        assert s["a@x"].superseded_by is None

    def test_same_patch_reposted_later_on_the_same_file_links(self) -> None:
        """The same [PATCH] again (same subject, same file) after the window is a repost."""
        s = by_id([posting("a@x", "net/mlx4_en: Remove a NULL check"),
                   posting("b@x", "net/mlx4_en: Remove a NULL check", minutes=75 * DAY)])
        assert s["a@x"].superseded_by == "b@x"

    def test_window_is_a_parameter(self) -> None:
        """Within the window, a same-version repost whose files changed still links."""
        old = posting("a@x", "RDMA/foo: fix")
        new = replace(posting("b@x", "RDMA/foo: fix", minutes=10 * DAY), files=("other.c",))
        cands = [Candidate(SeriesId(m.message_id), (1,), m.date, m.from_email,
                           m.subject.title, None, False, False, frozenset(),
                           files=frozenset(m.files), subjects=frozenset({"rdma/foo: fix"}))
                 for m in (old, new)]
        assert link(cands, {})[SeriesId("a@x")].superseded_by == "b@x"
        narrow = link(cands, {}, window=timedelta(days=7))
        assert narrow[SeriesId("a@x")].superseded_by is None

    def test_resend_of_the_same_version_links(self) -> None:
        """RESEND is a real repost: it links even months later when it is the same patch."""
        s = by_id([posting("a@x", "RDMA/foo: fix", v="2"),
                   posting("b@x", "RDMA/foo: fix", v="2", resend=True, minutes=90 * DAY)])
        assert s["a@x"].superseded_by == "b@x"

    def test_stable_backports_to_two_trees_are_not_revisions(self) -> None:
        """"[PATCH 6.6 ...]" and "[PATCH 6.12 ...]" of one fix, minutes apart, are two series."""
        s = by_id([posting("a@x", "RDMA/core: fix", tags=("patch", "6.12"), sender="greg@x"),
                   posting("b@x", "RDMA/core: fix", tags=("patch", "6.6"), sender="greg@x",
                           minutes=1)])
        assert s["a@x"].superseded_by is None


@pytest.mark.parametrize(
    ("title", "generic"),
    [
        ("RDMA/hns: Misc fixes", True),
        ("Bug fixes", True),
        ("Cleanups", True),
        ("Fixes for the erdma driver", True),
        ("Batch of mlx5_ib fixes", True),
        ("mlx5 misc fixes 2025-12-25", True),
        ("RDMA/hns: Bugfixes and cleanup", True),
        ("misc cleanups", True),
        ("RDMA/foo: fix leak", False),
        ("Cleanup around iommu_set_fault_handler()", False),
        ("net: mana: Enforce TX SGE limit and fix error cleanup", False),
        ("net/rds: RDS-TCP bug fix collection, subset 1: Work queue scalability", False),
    ],
)
def test_generic_titles(title: str, generic: bool) -> None:
    """Case-insensitive; a subsystem prefix, a date or a "for ..." tail do not matter."""
    assert is_generic(title) is generic
    assert is_generic(title.upper()) is generic
