"""Assembly on the real 2025 linux-rdma corpus: order independence, speed, known series."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.core.mail.parse import parse_message
from reviewbot.core.model import Message, MessageKind
from reviewbot.core.series.assemble import Assembly, assemble
from tests.corpus_threads import load_index

pytestmark = pytest.mark.corpus

# Real threads with awkward arrival: replies archived before their patches,
# series spread over hours, v2..v5 each sent In-Reply-To the previous thread.
THREADS = (
    "20251029-support-other-eswitch-v1-1-98bb707b5d57@nvidia.com",  # 1/7 before its cover
    "20250327114724.3454268-1-huangjunxian6@hisilicon.com",  # a reply before its patch
    "20250408182203.GH395307@horms.kernel.org",  # v2..v5 chained by In-Reply-To
    "cover.1745831017.git.leon@kernel.org",  # v10 00/24, 41 messages
    "20251117210756.723-1-tatyana.e.nikolova@intel.com",  # 1/2, 2/2 among six singles
    "1747950086-1246773-1-git-send-email-tariqt@nvidia.com",  # V2 00/11, 50 messages
)


@pytest.fixture(scope="module")
def corpus_messages(corpus_git: Path) -> list[Message]:
    index = load_index(corpus_git)
    return [parse_message(raw) for raw in index.raw.values()]


@pytest.fixture(scope="module")
def corpus_assembly(corpus_messages: list[Message]) -> Assembly:
    return assemble(corpus_messages)


def _thread(corpus_git: Path, mid: str) -> list[Message]:
    return [parse_message(raw) for raw in load_index(corpus_git).thread(mid)]


@pytest.mark.parametrize("mid", THREADS)
def test_real_thread_any_order(corpus_git: Path, mid: str) -> None:
    """Every permutation of a real thread's messages assembles identically."""
    messages = _thread(corpus_git, mid)
    expected = assemble(messages)
    assert expected.series  # the thread does hold a series

    @settings(max_examples=30, deadline=None, derandomize=True)
    @given(st.permutations(messages))
    def check(order: list[Message]) -> None:
        assert assemble(order) == expected

    check()


def test_whole_corpus_any_order(corpus_messages: list[Message], corpus_assembly: Assembly) -> None:
    """All 8,459 messages reversed, or shuffled, give the same series as archive order."""
    assert assemble(list(reversed(corpus_messages))) == corpus_assembly
    shuffled = list(corpus_messages)
    random.Random(2025).shuffle(shuffled)
    assert assemble(shuffled) == corpus_assembly


def test_whole_corpus_assembles_well_under_a_second(corpus_messages: list[Message]) -> None:
    """A full reassembly of the corpus (done by every ingest benchmark) takes < 1 s."""
    best = min(_timed(corpus_messages) for _ in range(3))
    print(f"assemble({len(corpus_messages)} messages): {best:.3f} s")
    assert best < 1.0


def _timed(messages: list[Message]) -> float:
    start = time.perf_counter()
    assemble(messages)
    return time.perf_counter() - start


def test_pull_requests_never_become_series(
    corpus_messages: list[Message], corpus_assembly: Assembly
) -> None:
    """None of the corpus' [GIT PULL] mails is a series or a patch of one."""
    pulls = {m.message_id for m in corpus_messages if m.kind is MessageKind.PULL_REQUEST}
    assert len(pulls) > 10
    in_series = {p.message_id for s in corpus_assembly.series for p in s.patches}
    assert not pulls & {s.series_id for s in corpus_assembly.series}
    assert not pulls & in_series


def test_series_of_is_consistent(corpus_assembly: Assembly) -> None:
    """series_of maps exactly the members of each series, and ids are unique."""
    ids = [s.series_id for s in corpus_assembly.series]
    assert len(ids) == len(set(ids))
    members = {m: s.series_id for s in corpus_assembly.series for m in s.members}
    assert members == corpus_assembly.series_of


def test_two_step_dma_api_v10(corpus_assembly: Assembly) -> None:
    """`[PATCH v10 00/24] Provide a new two step DMA mapping API` is complete, v6..v11 linked."""
    by_id = {s.series_id: s for s in corpus_assembly.series}
    s = by_id["cover.1745831017.git.leon@kernel.org"]
    assert (s.version, s.total, s.missing) == (10, 24, ())
    assert s.cover_message_id == "cover.1745831017.git.leon@kernel.org"
    assert s.title == "Provide a new two step DMA mapping API"
    chain = [by_id[r].version for r in s.revisions]
    assert chain == [6, 7, 8, 9, 10, 11]
    assert s.superseded_by == s.revisions[-1]


def test_chain_of_in_reply_to_reposts(corpus_assembly: Assembly) -> None:
    """The rds strscpy patch: v2..v5 each sent In-Reply-To the last, then v5 again, alone."""
    v5 = next(
        s
        for s in corpus_assembly.series
        if s.series_id == "20250520162342.6144-1-goralbaris@gmail.com"
    )
    by_id = {s.series_id: s for s in corpus_assembly.series}
    assert [by_id[r].version for r in v5.revisions] == [2, 3, 4, 5, 5]
    assert v5.revision_link == "reference"
    assert v5.superseded_by == "20250521161036.14489-1-goralbaris@gmail.com"
    assert by_id[v5.superseded_by].revision_link == "subject"
    # Michal's Reviewed-by on v3 is carried to the unchanged v4 and v5 (same patch-id).
    emails = {t.email for t in v5.patches[0].trailers if t.kind.is_review}
    assert "michal.swiatkowski@linux.intel.com" in emails


def test_unrelated_generic_titles_are_not_revisions(corpus_assembly: Assembly) -> None:
    """Leon's two "Batch of mlx5_ib fixes" (rdma-next 7 patches in March, rdma-rc 3 patches
    in June; no shared patch or file) are two series: the corpus' instance of issue 7's
    two "RDMA/hns: Misc fixes" (that pair is in a later archive, not in this corpus)."""
    by_id = {s.series_id: s for s in corpus_assembly.series}
    march = by_id["cover.1741875692.git.leon@kernel.org"]
    june = by_id["cover.1750064969.git.leon@kernel.org"]
    assert march.title == june.title == "Batch of mlx5_ib fixes"
    assert march.revisions == (march.series_id,) and march.superseded_by is None
    assert june.revisions == (june.series_id,) and june.revision_link is None


def test_stable_backports_of_one_fix_are_separate(corpus_assembly: Assembly) -> None:
    """Greg's 6.14/6.13/6.12/6.6/6.1/5.15 review postings of one fix, minutes apart."""
    same = [s for s in corpus_assembly.series
            if s.title == "RDMA/core: Dont expose hw_counters outside of init net namespace"]
    assert len(same) == 6
    assert all(s.revisions == (s.series_id,) for s in same)


def test_no_revision_is_superseded_by_a_lower_version_or_an_older_posting(
    corpus_assembly: Assembly,
) -> None:
    """Across the corpus: the superseding revision has a version >= and was posted later;
    the smc IPv6 series' "[RFC PATCH]" v1 posted after its v2 stands alone; mrgolin's
    "RDMA: Support CQs with user memory" v1 (a retitled restart that links the old
    "RDMA/efa: Add CQ with external memory support" by reference) is superseded by its
    own v2, not by the old title's v2 posted six weeks before it."""
    by_id = {s.series_id: s for s in corpus_assembly.series}
    for s in corpus_assembly.series:
        if s.superseded_by is not None:
            newer = by_id[s.superseded_by]
            assert newer.version >= s.version and newer.date >= s.date, s.series_id
    rfc = by_id["20251121060533.92157-1-alibuda@linux.alibaba.com"]
    assert rfc.revisions == (rfc.series_id,)
    assert by_id["20251016054541.692-1-alibuda@linux.alibaba.com"].superseded_by == (
        "20251022032309.66386-1-alibuda@linux.alibaba.com")
    restart = by_id["20250701231545.14282-1-mrgolin@amazon.com"]
    assert restart.superseded_by == "20250708202308.24783-1-mrgolin@amazon.com"
