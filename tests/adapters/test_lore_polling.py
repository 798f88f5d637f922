"""LoreSource polling: look-backs for late mail, received-time windows, interrupted polls,
streamed answers in bounded memory.

Against the fake public-inbox (tests/lore_fake.py: the real wire format, with
errors and cut-off answers injected); the real public-inbox-httpd runs the
same paths in test_lore.py, test_lore_growth.py and bench/lore_memory.py.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import itertools
import threading
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reviewbot.adapters.sources.lore import LoreError, LoreSource, split_mboxrd
from reviewbot.adapters.sources.lore_mbox import Gunzip, MboxrdStream
from reviewbot.adapters.sources.lore_schedule import (
    DAY,
    DEFAULT_TIERS,
    HOUR,
    LoreCursor,
    Tier,
    plan_poll,
)
from reviewbot.ports import Batch, RawMail
from tests.lore_fake import (
    SAMPLE_MBOX,
    FakeLore,
    as_public_inbox_mbox,
    mboxrd_entry,
    rt_bounds,
    serve_fake,
)

T0 = datetime(2025, 9, 18, 12, 0, tzinfo=UTC)
FUDGE = timedelta(minutes=15)


@pytest.fixture
def fake() -> Iterator[FakeLore]:
    with serve_fake() as state:
        yield state


def mail(mid: str, received: datetime, body: bytes = b"hello\n") -> bytes:
    when = email.utils.format_datetime(received)
    return (f"Message-ID: <{mid}>\nReceived: by lists.example; {when}\n"
            f"Subject: {mid}\n\n").encode() + body


class Archive:
    """What the fake serves: mail filed so far, searched by rt, newest filed first."""

    def __init__(self) -> None:
        self.filed: list[tuple[datetime, bytes]] = []

    def file(self, mid: str, received: datetime, body: bytes = b"hello\n") -> None:
        self.filed.append((received, mail(mid, received, body)))

    def search(self, q: str) -> bytes:
        low, high = rt_bounds(q)
        hits = [raw for when, raw in self.filed if low <= when.timestamp() <= high]
        return as_public_inbox_mbox(reversed(hits))


def mids(batches: list[Batch]) -> list[str]:
    return [m.raw.split(b"<", 1)[1].split(b">", 1)[0].decode()
            for b in batches for m in b.items if isinstance(m, RawMail)]


class TestLookBackSchedule:
    """plan_poll: which look-back a poll performs, from the cursor and the wall clock."""

    def plan(self, cursor: LoreCursor, now: datetime) -> tuple[datetime, tuple[str, ...]]:
        p = plan_poll(cursor, now=now, since=None, fudge=FUDGE, tiers=DEFAULT_TIERS)
        return p.lower, p.tiers

    def test_each_tier_runs_when_its_period_has_passed(self) -> None:
        """With every tier run at T0: 5 minutes later only the overlap; 6 hours later the
        last day; a day later the last 7 days; a week later the last 60 days."""
        newest = T0 - timedelta(minutes=3)
        cursor = LoreCursor(newest, ran={t.name: T0 for t in DEFAULT_TIERS})
        assert self.plan(cursor, T0 + timedelta(minutes=5)) == (newest - FUDGE, ())
        assert self.plan(cursor, T0 + 6 * HOUR) == (newest - DAY, ("1d",))
        assert self.plan(cursor, T0 + DAY) == (newest - 7 * DAY, ("1d", "7d"))
        assert self.plan(cursor, T0 + 7 * DAY) == (newest - 60 * DAY, ("1d", "7d", "60d"))

    def test_a_wide_look_back_resets_the_narrower_ones(self) -> None:
        """The 7-day look-back also re-read the last day: the 6-hourly one waits again."""
        cursor = LoreCursor(T0, ran={"1d": T0, "7d": T0 - DAY, "60d": T0})
        p = plan_poll(cursor, now=T0 + HOUR, since=None, fudge=FUDGE, tiers=DEFAULT_TIERS)
        assert p.cursor.ran == {"1d": T0 + HOUR, "7d": T0 + HOUR, "60d": T0}
        done = replace(p.cursor, resume=None)  # the poll completed
        assert self.plan(done, T0 + 6 * HOUR) == (T0 - FUDGE, ())

    def test_an_unfinished_poll_is_resumed_first(self) -> None:
        """A stored resume point older than every look-back bounds the poll."""
        cursor = LoreCursor(T0, resume=T0 - 90 * DAY, ran={t.name: T0 for t in DEFAULT_TIERS})
        assert self.plan(cursor, T0 + HOUR)[0] == T0 - 90 * DAY

    def test_a_clock_set_back_runs_the_look_backs(self) -> None:
        """A last run in the future (the clock went back) counts as due, not as done."""
        cursor = LoreCursor(T0, ran={t.name: T0 + 30 * DAY for t in DEFAULT_TIERS})
        assert self.plan(cursor, T0) == (T0 - 60 * DAY, ("1d", "7d", "60d"))

    def test_the_first_poll_satisfies_every_tier(self) -> None:
        """A first poll reads from `since`: no look-back is due right after it."""
        p = plan_poll(LoreCursor(), now=T0, since=T0 - 30 * DAY, fudge=FUDGE,
                      tiers=DEFAULT_TIERS)
        assert p.lower == T0 - 30 * DAY - FUDGE
        assert p.cursor.ran == {t.name: T0 for t in DEFAULT_TIERS}

    def test_tiers_no_longer_configured_are_forgotten(self) -> None:
        cursor = LoreCursor(T0, ran={"1d": T0, "90d": T0})
        p = plan_poll(cursor, now=T0, since=None, fudge=FUDGE, tiers=(Tier(6 * HOUR, DAY),))
        assert p.cursor.ran == {"1d": T0}

    def test_cursor_round_trip(self) -> None:
        cursor = LoreCursor(T0, T0 - DAY, {"1d": T0, "7d": T0 - HOUR})
        assert LoreCursor.parse(cursor.format()) == cursor
        assert LoreCursor().format() is None


class TestLateMail:
    """Mail filed after newer mail was fetched is caught by the next look-back."""

    def test_mail_filed_two_days_late_arrives_with_the_daily_look_back(
        self, fake: FakeLore
    ) -> None:
        """Filed after the cursor passed its Received time by two days: the overlap polls
        and the 6-hourly 1-day look-back miss it, the daily 7-day look-back fetches it."""
        archive = Archive()
        fake.search = archive.search
        now = [T0]
        src = LoreSource(fake.url, "linux-rdma", since=T0 - DAY, clock=lambda: now[0])

        def poll(at: datetime, cursor: str | None) -> tuple[list[str], str | None]:
            now[0] = at
            batches = list(src.batches(cursor))
            return mids(batches), batches[-1].cursor if batches else cursor

        archive.file("on-time", T0 - HOUR)
        got, cursor = poll(T0, None)
        assert got == ["on-time"]
        archive.file("late", T0 - 2 * DAY)  # a backfill: received two days ago
        archive.file("next", T0 + 5 * timedelta(minutes=1))
        got, cursor = poll(T0 + timedelta(minutes=10), cursor)
        assert "late" not in got and "next" in got
        got, cursor = poll(T0 + 6 * HOUR, cursor)
        assert "late" not in got  # one day back does not reach it
        got, cursor = poll(T0 + DAY, cursor)
        assert "late" in got

    def test_the_old_scheme_never_fetches_it(self, fake: FakeLore) -> None:
        """The same archive without look-backs (the behaviour before): lost for good."""
        archive = Archive()
        fake.search = archive.search
        now = [T0]
        src = LoreSource(fake.url, "linux-rdma", since=T0 - DAY, tiers=(), clock=lambda: now[0])
        archive.file("on-time", T0 - HOUR)
        cursor = list(src.batches(None))[-1].cursor
        archive.file("late", T0 - 2 * DAY)
        got: list[str] = []
        for step in range(1, 11):
            now[0] = T0 + step * DAY
            batches = list(src.batches(cursor))
            got += mids(batches)
            cursor = batches[-1].cursor if batches else cursor
        assert "late" not in got


def _spread(n: int, start: datetime, every: timedelta, body_lines: int = 0) -> Archive:
    """`n` mails received `every` apart; bodies of hex lines that gzip cannot shrink much."""
    archive = Archive()
    for i in range(n):
        lines = (hashlib.sha256(b"%d.%d" % (i, j)).hexdigest() for j in range(body_lines))
        archive.file(f"m{i}", start + i * every, "".join(f"{x}\n" for x in lines).encode())
    return archive


class TestWindows:
    """A long range is read in consecutive received-time windows of bounded size."""

    def test_windows_follow_the_mail_rate_and_cover_the_range_once(self, fake: FakeLore) -> None:
        """600 mails over 30 days, about 200 per window wanted: windows grow from one day
        to fit, never overlap, leave no gap, and every mail comes exactly once."""
        start = T0 - 30 * DAY
        archive = _spread(600, start, timedelta(hours=1, minutes=12))
        fake.search = archive.search
        src = LoreSource(fake.url, "l", since=start, fudge=timedelta(0), window_target=200,
                         clock=lambda: T0)
        got = mids(list(src.batches(None)))
        assert sorted(got) == sorted(f"m{i}" for i in range(600))
        assert len(got) == 600
        ends: dict[int, int] = {}  # window start -> its end (the first query's upper bound)
        for request in fake.seen:
            lo, hi = rt_bounds(request.query["q"][0])
            ends.setdefault(lo, hi)
        windows = sorted(ends.items())
        assert windows[0] == (int(start.timestamp()), int(start.timestamp()) + 86399)
        assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(windows))
        per_window = [sum(1 for when, _ in archive.filed if lo <= when.timestamp() <= hi)
                      for lo, hi in windows]
        assert 4 <= len(windows) <= 8 and max(per_window) <= 400

    def test_a_stopped_poll_resumes_at_its_window(self, fake: FakeLore) -> None:
        """A poll stopped after two batches (SIGTERM finishes the current batch) keeps them;
        the next poll resumes at the stored window and the two together miss nothing."""
        start = T0 - 30 * DAY
        archive = _spread(600, start, timedelta(hours=1, minutes=12))
        fake.search = archive.search
        src = LoreSource(fake.url, "l", since=start, batch_size=50, window_target=200,
                         clock=lambda: T0)
        stored: list[Batch] = []
        for batch in src.batches(None):
            stored.append(batch)
            if len(stored) == 2:
                break  # the daemon's stop between batches closes the generator
        cursor = LoreCursor.parse(stored[-1].cursor)
        assert cursor.resume is not None and cursor.resume > start
        rest = list(src.batches(stored[-1].cursor))
        assert set(mids(stored)) | set(mids(rest)) == {f"m{i}" for i in range(600)}
        assert LoreCursor.parse(rest[-1].cursor).resume is None

    def test_an_answer_cut_off_keeps_what_came_and_resumes(self, fake: FakeLore) -> None:
        """The server dies 40% into an answer: the batches before the cut are handed out
        with a resumable cursor, the poll then fails, and the next poll gets the rest."""
        archive = _spread(500, T0 - 20 * HOUR, timedelta(minutes=2), body_lines=30)
        fake.search = archive.search
        size = len(gzip.compress(archive.search("rt:0..")))
        assert size > 500_000  # several 64 KiB reads before the cut
        fake.cut_after = int(size * 0.4)
        src = LoreSource(fake.url, "l", since=T0 - DAY, batch_size=50, clock=lambda: T0)
        stored: list[Batch] = []
        with pytest.raises(LoreError, match=r"broke off|ended before"):
            for batch in src.batches(None):
                stored.append(batch)
        assert 2 <= len(stored) < 10
        assert all(LoreCursor.parse(b.cursor).resume == T0 - DAY - FUDGE for b in stored)
        rest = list(src.batches(stored[-1].cursor))
        assert set(mids(stored)) | set(mids(rest)) == {f"m{i}" for i in range(500)}


class TestStreamedAnswers:
    """Answers are read as they arrive: pieces of any size give the same messages."""

    @pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 20])
    def test_pieces_of_any_size_split_like_the_whole(self, piece: int) -> None:
        data = gzip.compress(SAMPLE_MBOX) + gzip.compress(SAMPLE_MBOX)  # two gzip members
        gunzip, stream, out = Gunzip(), MboxrdStream(), []
        for i in range(0, len(data), piece):
            for part in gunzip.feed(data[i : i + piece]):
                out += stream.feed(part)
        for part in gunzip.finish():
            out += stream.feed(part)
        out += stream.close()
        assert out == split_mboxrd(SAMPLE_MBOX) * 2

    def test_a_gzip_stream_cut_short_is_an_error(self) -> None:
        """Cut at a message boundary the mbox would look whole: the gzip end says not."""
        data = gzip.compress(SAMPLE_MBOX)
        gunzip = Gunzip()
        list(gunzip.feed(data[: len(data) // 2]))
        with pytest.raises(LoreError, match="ended before"):
            list(gunzip.finish())

    def test_an_answer_already_decoded_passes_through(self, fake: FakeLore) -> None:
        """A proxy that removed the gzip layer: the plain mbox is read as such."""
        fake.default = (200, {}, SAMPLE_MBOX)
        assert len(mids(list(LoreSource(fake.url, "l").batches(None)))) == 4

    def test_a_stream_holds_its_politeness_slot_until_closed(self, fake: FakeLore) -> None:
        """With both slots held by open answers, a third request waits for one to close."""
        src = LoreSource(fake.url, "l")
        first, second = src._answer("rt:0.."), src._answer("rt:0..")
        next(first), next(second)  # both answers open, bodies not yet read to the end
        started = threading.Event()

        def third() -> None:
            list(src._answer("rt:0.."))
            started.set()

        thread = threading.Thread(target=third)
        thread.start()
        assert not started.wait(0.5)
        first.close()
        assert started.wait(5)
        second.close()
        thread.join()


def _huge_answer(q: str, count: int, size: int) -> Iterator[bytes]:
    """The hits of `q` among `count` mails of `size` bytes received a second apart,
    as public-inbox mboxrd, made on the fly (the fake server never holds the answer)."""
    body = (b"+" + b"x" * 70 + b"\n") * (size // 72)
    low, high = rt_bounds(q)
    first = int((T0 - DAY).timestamp())
    for i in range(max(0, low - first), min(count, high - first + 1)):
        yield mboxrd_entry(mail(f"big{i}", T0 - DAY + i * timedelta(seconds=1), body))


def _peak_while_reading(fake: FakeLore, count: int, size: int) -> tuple[int, int]:
    """(Python's peak allocation, bytes of mail) while one poll reads `count` mails."""
    fake.stream = lambda q: _huge_answer(q, count, size)
    src = LoreSource(fake.url, "l", since=T0 - DAY, clock=lambda: T0)
    seen = total = 0
    tracemalloc.start()
    try:
        for batch in src.batches(None):
            seen += len(batch.items)
            total += sum(len(m.raw) for m in batch.items if isinstance(m, RawMail))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    return peak, total


@pytest.mark.slow
def test_memory_does_not_grow_with_the_answer(fake: FakeLore) -> None:
    """One answer of 120 MB (a whole big list at once) needs no more memory than one of
    30 MB: the peak is set by the batch size (200 mails of 10 kB here), not the answer."""
    small, small_total = _peak_while_reading(fake, 3_000, 10_000)
    big, big_total = _peak_while_reading(fake, 12_000, 10_000)
    print(f"tracemalloc peak {small / 1e6:.1f} MB for {small_total / 1e6:.0f} MB, "
          f"{big / 1e6:.1f} MB for {big_total / 1e6:.0f} MB")
    assert big_total > 115_000_000
    assert big < 12_000_000 and big < small * 1.1 + 500_000
