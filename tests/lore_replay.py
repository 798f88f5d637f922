"""Replaying the corpus' real arrival order against LoreSource, without a server.

The epoch's commits are the archive's arrival order and times. A
`ReplayArchive` files them one by one and answers `rt:A..B` searches the way
public-inbox does (every match, newest filed first); `ReplayLore` is the real
LoreSource with only the HTTP answer replaced, so the poll planning, windows,
look-backs and cursors under test are the shipped code. Each message is
reduced to its Message-ID and its Received time (the one `rt:` indexes),
which is all a search by received time can see.

Used by tests/adapters/test_lore_replay.py and bench/lore_schedule.py.
"""

from __future__ import annotations

import bisect
import email.utils
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from reviewbot.adapters.sources.lore import LoreSource, Tier, message_id_of, received_at
from tests.corpus import read_corpus


@dataclass(frozen=True, slots=True)
class Arrival:
    filed: int  # epoch seconds the archive filed it (the epoch commit time)
    received: int  # epoch seconds of its first Received header (public-inbox's rt)
    message_id: str


def corpus_arrivals(git_dir: Path) -> list[Arrival]:
    """Each distinct Message-ID once, in arrival order, as public-inbox indexes it (first copy)."""
    out: list[Arrival] = []
    seen: set[str] = set()
    for mail in read_corpus(git_dir):
        mid, rt = message_id_of(mail.raw), received_at(mail.raw)
        if mid is None or rt is None or mail.received is None:
            raise ValueError(f"corpus mail without Message-ID or dates: {mail.origin}")
        if mid not in seen:
            seen.add(mid)
            out.append(Arrival(int(mail.received.timestamp()), int(rt.timestamp()), mid))
    return out


def _synthetic(arrival: Arrival) -> bytes:
    when = email.utils.format_datetime(datetime.fromtimestamp(arrival.received, UTC))
    return f"Message-ID: <{arrival.message_id}>\nReceived: by replay; {when}\n\nx\n".encode()


@dataclass
class ReplayArchive:
    """The mail filed so far, searchable by received time like public-inbox."""

    _received: list[int] = field(default_factory=list)  # sorted
    _docs: list[tuple[int, bytes]] = field(default_factory=list)  # (docid, raw), same order
    requests: int = 0
    served: int = 0  # messages sent in all answers

    def file(self, arrival: Arrival) -> None:
        at = bisect.bisect_right(self._received, arrival.received)
        self._received.insert(at, arrival.received)
        self._docs.insert(at, (len(self._docs), _synthetic(arrival)))

    def search(self, query: str) -> list[bytes]:
        """`rt:A..` or `rt:A..B` (inclusive), newest filed first (ORDER BY docid DESC)."""
        low, _, high = query.removeprefix("rt:").partition("..")
        lo = bisect.bisect_left(self._received, int(low))
        hi = bisect.bisect_right(self._received, int(high)) if high else len(self._received)
        self.requests += 1
        self.served += hi - lo
        return [raw for _docid, raw in sorted(self._docs[lo:hi], reverse=True)]


class ReplayLore(LoreSource):
    """The shipped LoreSource; only the HTTP answer comes from a ReplayArchive."""

    def __init__(self, archive: ReplayArchive, **kwargs: object) -> None:
        super().__init__("http://replay.invalid/linux-rdma", "linux-rdma", **kwargs)  # type: ignore[arg-type]
        self.archive = archive

    def _answer(self, query: str) -> Iterator[bytes]:
        yield from self.archive.search(query)


@dataclass(frozen=True, slots=True)
class ReplayResult:
    lost: list[Arrival]  # never fetched by any poll
    polls: int
    requests: int
    served: int  # messages downloaded in all, duplicates included
    worst_delay: int  # seconds from filing to first fetch, worst mail


def replay(
    arrivals: Sequence[Arrival],
    *,
    interval: timedelta = timedelta(minutes=5),
    tiers: Sequence[Tier],
    fudge: timedelta = timedelta(minutes=15),
    tail: timedelta = timedelta(0),
    first_window: timedelta = timedelta(days=1),
) -> ReplayResult:
    """Poll every `interval` of archive time from the first arrival to `tail` after the last.

    The poll's clock is the replayed time, and its cursor is kept exactly as
    the ingest service keeps it: each batch's cursor replaces the last.
    """
    archive = ReplayArchive()
    now = datetime.fromtimestamp(arrivals[0].filed, UTC)
    source = ReplayLore(archive, tiers=tuple(tiers), fudge=fudge, first_window=first_window,
                        clock=lambda: now)
    filed_at = {a.message_id: a.filed for a in arrivals}
    fetched: dict[str, int] = {}
    cursor: str | None = None
    pending = iter(sorted(arrivals, key=lambda a: a.filed))
    upcoming = next(pending, None)
    end = datetime.fromtimestamp(max(a.filed for a in arrivals), UTC) + max(interval, tail)
    polls = 0
    while now <= end:
        while upcoming is not None and upcoming.filed <= now.timestamp():
            archive.file(upcoming)
            upcoming = next(pending, None)
        for batch in source.batches(cursor):
            for mail in batch.items:
                mid = message_id_of(mail.raw) if mail.raw else None
                if mid is not None and mid not in fetched:
                    fetched[mid] = int(now.timestamp())
            cursor = batch.cursor
        polls += 1
        now += interval
    lost = [a for a in arrivals if a.message_id not in fetched]
    delay = max((t - filed_at[mid] for mid, t in fetched.items()), default=0)
    return ReplayResult(lost, polls, archive.requests, archive.served, delay)
