"""The backlog on the real 2025 linux-rdma corpus, with outcomes checked by hand in the archive."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reviewbot.adapters.kernel.policy_files import load_policies
from reviewbot.core.backlog.events import EventKind, events_from_series
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.backlog.turn import Role, SeriesStatus, State, Turn
from reviewbot.core.mail.parse import parse_message
from reviewbot.core.model import Message, Series
from reviewbot.core.policy.model import Policy, ignore_reason
from reviewbot.core.series.assemble import Assembly, assemble
from tests.corpus_threads import load_index

pytestmark = pytest.mark.corpus

POLICIES = Path(__file__).resolve().parents[2] / "policies"
END = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
MAINTAINERS = ["Jason Gunthorpe <jgg@nvidia.com>", "Leon Romanovsky <leonro@nvidia.com>"]
# The addresses the two maintainers actually send from (what .mailmap would say).
ALIASES = {"leon@kernel.org": "leonro@nvidia.com", "jgg@ziepe.ca": "jgg@nvidia.com"}


@pytest.fixture(scope="module")
def corpus(corpus_git: Path) -> tuple[Assembly, dict[str, Message]]:
    messages = [parse_message(raw) for raw in load_index(corpus_git).raw.values()]
    return assemble(messages), {m.message_id: m for m in messages}


@pytest.fixture(scope="module")
def rdma() -> Policy:
    return load_policies(POLICIES).for_subsystem("INFINIBAND SUBSYSTEM")


def status_of(corpus: tuple[Assembly, dict[str, Message]], series: Series, policy: Policy,
              now: datetime) -> SeriesStatus:
    assembly, by_id = corpus
    newer = next((s for s in assembly.series if s.series_id == series.superseded_by), None)
    members = [by_id[m] for m in series.members if m in by_id]
    events = events_from_series(series, members, newer=newer)
    return derive_state(events, policy, now, maintainers=MAINTAINERS, aliases=ALIASES)


def find(corpus: tuple[Assembly, dict[str, Message]], series_id: str) -> Series:
    return next(s for s in corpus[0].series if s.series_id == series_id)


def test_every_tracked_series_has_a_state(
    corpus: tuple[Assembly, dict[str, Message]], rdma: Policy
) -> None:
    """Every series the RDMA policy tracks derives a state whose timeline starts at its posting."""
    seen: Counter[State] = Counter()
    for series in corpus[0].series:
        if ignore_reason(rdma, series):
            continue
        status = status_of(corpus, series, rdma, END)
        first = status.timeline[0].event
        assert first is not None and first.kind is EventKind.POSTED
        assert status.posted_at == series.date
        seen[status.state] += 1
    # A year of a busy list shows every everyday state.
    assert {State.NEW, State.UNDER_REVIEW, State.CHANGES_REQUESTED, State.REVIEWED,
            State.APPLIED, State.SUPERSEDED, State.STALE, State.RFC} <= set(seen)


def test_irdma_crc32c_v3_was_applied_by_leon(
    corpus: tuple[Assembly, dict[str, Message]], rdma: Policy
) -> None:
    """[PATCH v3] RDMA/irdma crc32c: posted 2025-02-07 04:08 UTC, "Applied, thanks!" 02-13 12:42."""
    series = find(corpus, "20250207040816.69163-1-ebiggers@kernel.org")
    before = status_of(corpus, series, rdma, datetime(2025, 2, 10, tzinfo=UTC))
    assert (before.state, before.turn) == (State.NEW, Turn.REVIEWER)
    after = status_of(corpus, series, rdma, END)
    assert (after.state, after.turn) == (State.APPLIED, Turn.NOBODY)
    assert after.applied_at == datetime(2025, 2, 13, 12, 42, 45, tzinfo=UTC)
    assert after.timeline[-1].role is Role.MAINTAINER


def test_mana_ports_v1_feedback_then_superseded(
    corpus: tuple[Assembly, dict[str, Message]], rdma: Policy
) -> None:
    """mana_ib multiple ports v1: Leon asked for a NULL check on 07-20, v2 came on 07-22."""
    series = find(corpus, "1752834048-31696-1-git-send-email-kotaranov@linux.microsoft.com")
    asked = status_of(corpus, series, rdma, datetime(2025, 7, 21, tzinfo=UTC))
    assert (asked.state, asked.turn) == (State.CHANGES_REQUESTED, Turn.AUTHOR)
    assert asked.since == datetime(2025, 7, 20, 8, 24, 27, tzinfo=UTC)
    assert asked.reason.startswith("maintainer leonro@nvidia.com replied")
    done = status_of(corpus, series, rdma, END)
    assert (done.state, done.turn, done.since) == (
        State.SUPERSEDED, Turn.NOBODY, datetime(2025, 7, 22, 8, 55, 15, tzinfo=UTC))
