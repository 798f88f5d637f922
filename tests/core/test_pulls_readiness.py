"""Readiness checks: each passes on a clean pull request and fails (or warns) when it should.

The facts are built by hand here; tests/test_pulls.py gathers them from real
git repositories and the ingested corpus.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.maintainers.sections import parse_maintainers
from reviewbot.core.model import MessageId, SeriesId, TrailerKind
from reviewbot.core.pulls.cycle import cycle_from_tags
from reviewbot.core.pulls.match import CommitPosting
from reviewbot.core.pulls.model import (
    CheckResult,
    CommitInfo,
    Posting,
    Review,
    SeriesSummary,
    TagInfo,
)
from reviewbot.core.pulls.readiness import PullFacts, fixes_hashes, readiness

NOW = datetime(2025, 7, 24, 12, tzinfo=UTC)
MAINT = ("Leon Romanovsky", "leon@kernel.org")
MAINTAINERS = parse_maintainers("""\
INFINIBAND SUBSYSTEM
M:\tLeon Romanovsky <leon@kernel.org>
L:\tlinux-rdma@vger.kernel.org
S:\tSupported
F:\tdrivers/infiniband/
F:\tinclude/rdma/

MELLANOX MLX5 core VPI driver
M:\tSaeed Mahameed <saeedm@nvidia.com>
S:\tSupported
F:\tdrivers/net/ethernet/mellanox/mlx5/core/

THE REST
M:\tLinus Torvalds <torvalds@linux-foundation.org>
S:\tBuried alive in reporters
F:\t*
F:\t*/
""")


def commit(n: int, *, author: str = "a@example.org", files: tuple[str, ...] = (
        "drivers/infiniband/core/x.c",), trailers: tuple[tuple[str, str], ...] = (),
        days_ago: int = 20, sob: bool = True) -> CommitInfo:
    when = NOW - timedelta(days=days_ago)
    t = (*trailers, *((("Signed-off-by", f"{MAINT[0]} <{MAINT[1]}>"),) if sob else ()))
    return CommitInfo(f"{n:040x}", f"RDMA/x: change {n}", "A Author", author, when,
                      MAINT[0], MAINT[1], when, t, files, f"pid{n}")


def series(sid: str, *reviews: Review, author: str = "a@example.org",
           superseded_by: str | None = None) -> SeriesSummary:
    return SeriesSummary(SeriesId(sid), f"RDMA/x: series {sid}", 2, "A Author", author,
                         NOW - timedelta(days=40), "reviewed",
                         SeriesId(superseded_by) if superseded_by else None, reviews, 1, 1,
                         NOW - timedelta(days=30))


REVIEWED = Review(TrailerKind.REVIEWED_BY, "R", "r@example.org", 1)
SELF_ACK = Review(TrailerKind.ACKED_BY, "A Author", "a@example.org", 1)
NAK = Review(TrailerKind.NACKED_BY, "N", "n@example.org", 0)
TAG = TagInfo("rdma-for-6.17", "f" * 40, "e" * 40, True, True, *MAINT, NOW, "RDMA changes")


def posting(c: CommitInfo, sid: str) -> CommitPosting:
    return CommitPosting(c.sha, Posting(MessageId(f"{sid}-p"), SeriesId(sid), 1, c.subject,
                                        "A Author", c.author_email, NOW, c.patch_id),
                         "patch-id")


def facts(**changes: object) -> PullFacts:
    """A pull request that passes every check; `changes` break one thing."""
    c1, c2 = commit(1), commit(2)
    base = PullFacts(
        tag=TAG, verify_ok=True, verify_output='gpg: Good signature from "Leon"',
        pushed=TAG.object_sha, url="git://example.org/rdma.git", base="v6.16-rc1",
        base_commit="b" * 40, base_tags=("v6.16-rc1",), upstream_ref=None,
        upstream_commit=None, commits=(c1, c2),
        postings={c1.sha: posting(c1, "s1"), c2.sha: posting(c2, "s2")},
        series={SeriesId("s1"): series("s1", REVIEWED), SeriesId("s2"): series("s2", REVIEWED)},
        unknown_fixes=frozenset(), linux_next_ref="linux-next", not_in_next=(), now=NOW,
        late_rebase=timedelta(days=5),
        cycle=cycle_from_tags([("v6.15", NOW - timedelta(days=60)),
                               ("v6.16-rc7", NOW - timedelta(days=4))], NOW),
        maintainers=RoutingIndex(MAINTAINERS), sections=("INFINIBAND SUBSYSTEM",))
    return replace(base, **changes)  # type: ignore[arg-type]


def result(f: PullFacts, name: str) -> tuple[CheckResult, str]:
    check = next(c for c in readiness(f) if c.name == name)
    return check.result, check.reason


def test_a_clean_pull_request_passes_every_check() -> None:
    checks = readiness(facts())
    assert [c.name for c in checks] == [
        "tag_signed", "tag_verified", "tag_pushed", "base", "series", "signed_off", "fixes",
        "outside_files", "linux_next", "late_rebase", "uapi", "merge_window"]
    assert {c.name: c.result for c in checks if c.result is not CheckResult.PASS} == {}


class TestTag:
    def test_a_lightweight_tag_fails(self) -> None:
        r, why = result(facts(tag=replace(TAG, annotated=False, signed=False)), "tag_signed")
        assert r is CheckResult.FAIL and "lightweight" in why

    def test_an_unsigned_annotated_tag_fails_both_tag_checks(self) -> None:
        f = facts(tag=replace(TAG, signed=False))
        assert result(f, "tag_signed")[0] is CheckResult.FAIL
        assert result(f, "tag_verified") == (CheckResult.FAIL,
                                             "rdma-for-6.17 has no signature to verify")

    def test_a_signature_that_does_not_verify_fails(self) -> None:
        f = facts(verify_ok=False, verify_output="gpg: Can't check signature: No public key")
        assert result(f, "tag_verified") == (
            CheckResult.FAIL, "`git verify-tag rdma-for-6.17` failed: gpg: Can't check "
            "signature: No public key")

    def test_a_tag_missing_at_the_url_fails(self) -> None:
        r, why = result(facts(pushed=None), "tag_pushed")
        assert r is CheckResult.FAIL and "git push git://example.org/rdma.git tag" in why

    def test_a_tag_pushed_before_it_was_remade_fails(self) -> None:
        r, why = result(facts(pushed="0" * 40), "tag_pushed")
        assert r is CheckResult.FAIL and "push it again" in why


class TestBase:
    def test_an_untagged_base_fails(self) -> None:
        r, why = result(facts(base="abc", base_tags=()), "base")
        assert r is CheckResult.FAIL and "no [pull] upstream_ref configured" in why

    def test_the_upstream_branch_is_a_good_base(self) -> None:
        f = facts(base="drm/drm-next", base_tags=(), upstream_ref="drm/drm-next",
                  upstream_commit="b" * 40)
        assert result(f, "base") == (CheckResult.PASS,
                                     "the base drm/drm-next is the upstream branch drm/drm-next")

    def test_a_base_elsewhere_on_upstream_fails(self) -> None:
        f = facts(base="HEAD~3", base_tags=(), upstream_ref="origin/master",
                  upstream_commit="c" * 40)
        assert result(f, "base")[0] is CheckResult.FAIL


class TestSeries:
    def test_an_untracked_commit_warns(self) -> None:
        c1, c2 = commit(1), commit(2)
        f = facts(postings={c1.sha: posting(c1, "s1")})
        r, why = result(f, "series")
        assert r is CheckResult.WARN and f"{c2.sha[:12]}" in why and "no tracked posting" in why

    def test_only_a_self_ack_warns(self) -> None:
        f = facts(series={SeriesId("s1"): series("s1", SELF_ACK),
                          SeriesId("s2"): series("s2", REVIEWED)})
        r, why = result(f, "series")
        assert r is CheckResult.WARN and "nobody but the author" in why

    def test_a_review_in_the_commit_itself_counts(self) -> None:
        c1 = commit(1, trailers=(("Reviewed-by", "R <r@example.org>"),))
        f = facts(commits=(c1,), postings={c1.sha: posting(c1, "s1")},
                  series={SeriesId("s1"): series("s1")})
        assert result(f, "series")[0] is CheckResult.PASS

    def test_a_naked_series_fails(self) -> None:
        f = facts(series={SeriesId("s1"): series("s1", REVIEWED, NAK),
                          SeriesId("s2"): series("s2", REVIEWED)})
        r, why = result(f, "series")
        assert r is CheckResult.FAIL and "NAKed by n@example.org" in why

    def test_a_superseded_revision_fails(self) -> None:
        f = facts(series={SeriesId("s1"): series("s1", REVIEWED, superseded_by="s1v3"),
                          SeriesId("s2"): series("s2", REVIEWED)})
        r, why = result(f, "series")
        assert r is CheckResult.FAIL and "superseded by <s1v3>" in why

    def test_failures_are_listed_before_warnings(self) -> None:
        c2 = commit(2)
        f = facts(postings={c2.sha: posting(c2, "s2")},
                  series={SeriesId("s2"): series("s2", NAK)})
        _, why = result(f, "series")
        assert why.index("NAKed") < why.index("no tracked posting")


class TestCommits:
    def test_a_commit_without_the_committers_signoff_fails(self) -> None:
        c1, c2 = commit(1), commit(2, sob=False)
        f = facts(commits=(c1, c2))
        r, why = result(f, "signed_off")
        assert r is CheckResult.FAIL
        assert why == (f'1 of 2 commits: {c2.sha[:12]} ("RDMA/x: change 2") lacks '
                       "Signed-off-by: Leon Romanovsky <leon@kernel.org>")

    @pytest.mark.parametrize("value,why", [
        ('e586b3b0baee ("net/mlx5: Ethernet Datapath files")', "names no commit"),
        ("e586b3b0baee", "malformed"),
        ('e586b3b ("too short")', "malformed"),
        ('E586B3B0BAEE ("upper case")', "malformed")])
    def test_bad_fixes_tags_fail(self, value: str, why: str) -> None:
        c1 = commit(1, trailers=(("Fixes", value),))
        f = facts(commits=(c1,), unknown_fixes=frozenset(fixes_hashes([c1])))
        r, reason = result(f, "fixes")
        assert r is CheckResult.FAIL and why in reason

    def test_good_fixes_tags_pass(self) -> None:
        c1 = commit(1, trailers=(("Fixes", 'e586b3b0baee ("net/mlx5: Ethernet Datapath")'),))
        assert fixes_hashes([c1]) == {"e586b3b0baee"}
        assert result(facts(commits=(c1,)), "fixes") == (
            CheckResult.PASS, "1 Fixes: tags, well formed, naming existing commits")

    def test_uapi_changes_warn(self) -> None:
        c1 = commit(1, files=("include/uapi/rdma/efa-abi.h",))
        r, why = result(facts(commits=(c1,)), "uapi")
        assert r is CheckResult.WARN and why.startswith("1 commit changes include/uapi/")


class TestOutsideFiles:
    def test_files_of_another_section_without_its_owners_ack_warn(self) -> None:
        c1 = commit(1, files=("drivers/net/ethernet/mellanox/mlx5/core/en_rx.c",))
        f = facts(commits=(c1,), postings={c1.sha: posting(c1, "s1")},
                  series={SeriesId("s1"): series("s1", REVIEWED)})
        r, why = result(f, "outside_files")
        assert r is CheckResult.WARN and "without an ack from saeedm@nvidia.com" in why

    def test_an_ack_from_the_owner_on_the_series_is_enough(self) -> None:
        c1 = commit(1, files=("drivers/net/ethernet/mellanox/mlx5/core/en_rx.c",))
        ack = Review(TrailerKind.ACKED_BY, "Saeed", "saeedm@nvidia.com", 1)
        f = facts(commits=(c1,), postings={c1.sha: posting(c1, "s1")},
                  series={SeriesId("s1"): series("s1", REVIEWED, ack)})
        assert result(f, "outside_files") == (
            CheckResult.PASS, "1 commit touches files outside INFINIBAND SUBSYSTEM, each acked "
            "by their owners")

    def test_a_file_only_the_rest_claims_warns(self) -> None:
        c1 = commit(1, files=("README",))
        r, why = result(facts(commits=(c1,)), "outside_files")
        assert r is CheckResult.WARN and "but THE REST" in why

    def test_without_maintainers_it_is_not_checked(self) -> None:
        assert result(facts(maintainers=None), "outside_files")[1].startswith("not checked")


class TestTiming:
    def test_commits_missing_from_linux_next_warn(self) -> None:
        c2 = commit(2)
        r, why = result(facts(not_in_next=(c2.sha,)), "linux_next")
        assert r is CheckResult.WARN and why.startswith("1 of 2 commits are not in linux-next")

    def test_a_missing_linux_next_ref_warns(self) -> None:
        assert result(facts(not_in_next=None), "linux_next")[0] is CheckResult.WARN

    def test_no_linux_next_ref_is_not_checked(self) -> None:
        r, why = result(facts(linux_next_ref=None, not_in_next=None), "linux_next")
        assert r is CheckResult.PASS and why.startswith("not checked")

    def test_most_commits_made_in_the_last_days_warn(self) -> None:
        f = facts(commits=(commit(1, days_ago=1), commit(2, days_ago=2), commit(3)))
        r, why = result(f, "late_rebase")
        assert r is CheckResult.WARN and why.startswith("2 of 3 commits were committed in the 5")

    def test_in_the_window_the_rush_is_measured_before_it_opened(self) -> None:
        opened = NOW - timedelta(days=9)
        cycle = cycle_from_tags([("v6.16", opened)], NOW)
        rushed = (commit(1, days_ago=10), commit(2, days_ago=11))
        assert result(facts(cycle=cycle, commits=rushed), "late_rebase")[0] is CheckResult.WARN
        early = (commit(1, days_ago=30), commit(2, days_ago=31))
        assert result(facts(cycle=cycle, commits=early), "late_rebase")[0] is CheckResult.PASS

    def test_week_two_of_the_merge_window_warns(self) -> None:
        cycle = cycle_from_tags([("v6.16", NOW - timedelta(days=9))], NOW)
        r, why = result(facts(cycle=cycle), "merge_window")
        assert r is CheckResult.WARN and "week 2" in why
        week1 = cycle_from_tags([("v6.16", NOW - timedelta(days=3))], NOW)
        assert result(facts(cycle=week1), "merge_window")[0] is CheckResult.PASS
