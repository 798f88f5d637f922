"""How much mail lore polling loses, replaying the corpus' real arrival order (no server).

The 2025 corpus is filed in its epoch's commit order at its commit times,
and the shipped LoreSource polls every 5 minutes of replayed time against
received-time searches (tests/lore_replay.py). 22 Message-IDs, all filed
70 to 121 hours after their Received time while newer mail kept arriving
(September's backfill after the August outage), are never returned by the
15-minute overlap alone; the default look-backs fetch them all. The
shortest single look-back that loses nothing reaches back 4.5 days (4.75
when it runs daily): bench/lore_schedule.py prints the full table, and
DEFAULT_TIERS cites it. About 30 s per replay.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reviewbot.adapters.sources.lore import DEFAULT_TIERS, Tier
from tests.lore_replay import Arrival, corpus_arrivals, replay

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def arrivals(corpus_git: Path) -> list[Arrival]:
    return corpus_arrivals(corpus_git)


@pytest.mark.corpus
@pytest.mark.slow
class TestReplayedArrivals:
    def test_the_overlap_alone_loses_22(self, arrivals: list[Arrival]) -> None:
        """Without look-backs (the polling before): 22 of 8,459 lost, each filed days after
        its Received time."""
        result = replay(arrivals, tiers=())
        assert len(arrivals) == 8459
        assert len(result.lost) == 22
        assert all(2 * DAY < timedelta(seconds=a.filed - a.received) < 6 * DAY
                   for a in result.lost)

    def test_the_default_look_backs_lose_nothing(self, arrivals: list[Arrival]) -> None:
        """With DEFAULT_TIERS every Message-ID is fetched, the worst one within 7 hours of
        its filing, for less than 1.5 times the downloads."""
        before = replay(arrivals, tiers=())
        result = replay(arrivals, tiers=DEFAULT_TIERS)
        assert result.lost == []
        assert result.worst_delay < 7 * 3600
        assert result.served < 1.5 * before.served

    def test_a_three_day_look_back_is_not_enough(self, arrivals: list[Arrival]) -> None:
        """Reaching back 3 days every day still loses 17: during a backfill the newest
        received time runs ahead while older mail is still being filed."""
        assert len(replay(arrivals, tiers=(Tier(DAY, 3 * DAY),)).lost) == 17
