"""SeriesLookup and PullStore over SQL (adapters/sql/series/lookup.py, pulls.py), on SQLite and
PostgreSQL, with the first 300 real corpus messages ingested through the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from reviewbot.adapters.sources.epoch import EpochReader
from reviewbot.adapters.sql.series.lookup import SqlSeriesLookup
from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.adapters.sql.trees.pulls import SqlPulls
from reviewbot.cli import main
from reviewbot.core.applied.match import normalise_subject
from reviewbot.core.model import MessageId, SeriesId, TrailerKind
from reviewbot.core.pulls.model import (
    Check,
    CheckResult,
    DraftStatus,
    GitLabTarget,
    PullDraft,
    PullMerged,
)
from tests.sqlfixtures import BACKENDS

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)

COVER = "cover.1735817449.git.leon@kernel.org"  # 3 patches, reviewed
PATCH1 = "4d3971222035da8b0b17a8c315467a6927106944.1735817449.git.leon@kernel.org"
PULL = "20250103142412.GA170790@nvidia.com"  # [GIT PULL] Please pull RDMA subsystem changes


@pytest.fixture
def engine(db_url: str, small_epoch: Path) -> Iterator[Engine]:
    assert main(["--db", db_url, "ingest", "--list", "linux-rdma", "--epoch",
                 str(small_epoch)]) == 0
    e = make_engine(db_url)
    yield e
    e.dispose()


def lookup(engine: Engine) -> SqlSeriesLookup:
    """As the commands build it: epoch mail (kept by reference) read back from the epoch."""
    return SqlSeriesLookup(engine, EpochReader(SqlStore(engine).raw_locations()))


class TestLookup:
    def test_a_patch_is_found_by_patch_id_message_id_and_subject(self, engine: Engine) -> None:
        look = lookup(engine)
        by_mid = look.by_message_id([PATCH1, COVER, "unknown@x"])
        p = by_mid[MessageId(PATCH1)]
        # the in-body From: names the author; Leon only sent it
        assert (p.series_id, p.patch_idx, p.author_email) == (COVER, 1, "phaddad@nvidia.com")
        assert p.patch_id == "07e14a97bf53981cb30e86eef8ece4027ed2389d"
        assert p.subject == "[PATCH mlx5-next 1/3] net/mlx5: Query ADV_RDMA capabilities"
        cover = by_mid[MessageId(COVER)]
        assert (cover.series_id, cover.patch_idx) == (COVER, None)
        assert "unknown@x" not in by_mid
        assert look.by_patch_id([p.patch_id or ""])[p.patch_id or ""] == [p]
        key = normalise_subject(p.subject)
        assert key == "net/mlx5: query adv_rdma capabilities"
        assert p in look.by_subject([key])[key]

    def test_a_series_summary_has_reviews_state_link_and_cover_paragraph(
            self, engine: Engine) -> None:
        s = lookup(engine).series_summary([COVER])[SeriesId(COVER)]
        assert (s.title, s.version, s.total, s.author_email) == (
            "Add RDMA TRANSPORT steering domain", 1, 3, "leon@kernel.org")
        assert s.cover_paragraph.startswith("The following series adds two new steering "
                                            "domains: RDMA_TRANSPORT_RX")
        assert s.link == f"https://lore.kernel.org/r/{COVER}"
        assert s.superseded_by is None and s.naks == ()
        givers = {r.email for r in s.reviewers_other_than(s.author_email)}
        assert givers and "leon@kernel.org" not in givers
        assert {r.kind for r in s.reviews} <= {TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY,
                                               TrailerKind.TESTED_BY, TrailerKind.NACKED_BY}
        assert s.last_activity >= s.date and s.list_name == "linux-rdma"

    def test_pr_tracker_bots_reply_marks_a_pull_request_merged(self, engine: Engine) -> None:
        merged = lookup(engine).pull_merged([PULL, COVER])
        assert list(merged) == [PULL]
        assert merged[MessageId(PULL)].evidence.startswith(
            "pr-tracker-bot: merged into torvalds/linux.git: https://git.kernel.org/torvalds/c/")


NOW = datetime(2025, 7, 24, 12, tzinfo=UTC)
DRAFT = PullDraft(
    subsystem="rdma", tree="/src/rdma", tag="rdma-for-6.17", base="v6.16-rc1",
    base_commit="b" * 40, tip="e" * 40, url="git://example.org/rdma.git",
    sender="Leon Romanovsky <leon@kernel.org>", to=("Linus <torvalds@linux-foundation.org>",),
    cc=("linux-rdma@vger.kernel.org",), subject="[GIT PULL] RDMA changes for v6.17",
    summary="Hi Linus,\n\n\u00fcber\n\n", request_pull="The following changes since...\n",
    checks=(Check("tag_signed", CheckResult.PASS, "ok"),
            Check("linux_next", CheckResult.WARN, "2 of 6 commits")),
    created=NOW, transport="gitlab-mr",
    gitlab=GitLabTarget("https://gitlab.example.org", "drm/msm", "msm-next", "drm-next",
                        "me/msm", ("msm", "pull")))


class TestPullStore:
    def test_a_draft_round_trips_and_moves_draft_sent_merged(self, engine: Engine) -> None:
        store = SqlPulls(engine)
        first = store.save_draft(DRAFT)
        second = store.save_draft(DRAFT)
        assert second == first + 1
        got = store.draft(first)
        assert got is not None and got.draft == DRAFT and got.status is DraftStatus.DRAFT
        store.mark_sent(first, NOW, "https://gitlab.example.org/drm/msm/-/merge_requests/1")
        with pytest.raises(ValueError, match="not an unsent draft"):
            store.mark_sent(first, NOW, "again")
        store.mark_merged(first, PullMerged(NOW + timedelta(days=3), "tip is in master"))
        done = store.draft(first)
        assert done is not None and done.status is DraftStatus.MERGED
        assert (done.sent_at, done.merged_at, done.merged_evidence) == (
            NOW, NOW + timedelta(days=3), "tip is in master")
        assert [d.id for d in store.drafts()] == [first, second]
        assert store.draft(999) is None

    def test_debt_totals_are_kept_in_order(self, engine: Engine) -> None:
        store = SqlPulls(engine)
        store.record_debt("/src/vendor", "ofed", NOW, {"never_posted": 2})
        store.record_debt("/src/vendor", "ofed", NOW - timedelta(days=7), {"never_posted": 3})
        store.record_debt("/src/vendor", "other", NOW, {"never_posted": 9})
        assert store.debt_history("/src/vendor", "ofed") == [
            (NOW - timedelta(days=7), {"never_posted": 3}), (NOW, {"never_posted": 2})]
