"""LoreSource: polling a public-inbox server over HTTP.

Two kinds of server: the real public-inbox-httpd serving the corpus (the
`lore_server` fixture), and a small fake http.server on port 0
(tests/lore_fake.py), used only where we need to inject errors (429, 5xx,
stalls) and record request timing. Look-backs, windows, interrupted polls and
memory are specified in test_lore_polling.py, the loss they prevent in
test_lore_replay.py and test_lore_growth.py.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import reviewbot
from reviewbot.adapters.sources.epoch import EpochSource
from reviewbot.adapters.sources.lore import (
    LoreError,
    LoreSource,
    message_id_of,
    quote_msgid,
    received_at,
    split_mboxrd,
)
from reviewbot.adapters.sources.lore_schedule import DEFAULT_TIERS, EPOCH, LoreCursor
from reviewbot.ports import Batch, RawMail
from tests.lore_fake import SAMPLE_MBOX, FakeLore, sample_search, serve_fake

CORPUS_DISTINCT_MESSAGE_IDS = 8459


def _mails(batches: Iterator[Batch]) -> list[RawMail]:
    return [i for b in batches for i in b.items if isinstance(i, RawMail)]


@pytest.fixture
def fake() -> Iterator[FakeLore]:
    """A fake lore on 127.0.0.1 and a free port, serving /linux-rdma."""
    with serve_fake() as state:
        yield state


class TestPoliteness:
    """Polite defaults, checked against a fake server that records every request."""

    def test_user_agent_names_reviewbot(self, fake: FakeLore) -> None:
        """Every request says `reviewbot/<version>+<suffix>`."""
        _mails(LoreSource(fake.url, "linux-rdma", user_agent="4b1d").batches(None))
        assert fake.seen
        assert {s.user_agent for s in fake.seen} == {f"reviewbot/{reviewbot.__version__}+4b1d"}

    def test_search_is_an_rt_query_as_mbox(self, fake: FakeLore) -> None:
        """Polling POSTs `?x=m&q=rt:<epoch seconds>..` and stops once nothing is new."""
        mails = _mails(LoreSource(fake.url, "linux-rdma").batches(None))
        assert len(mails) == 4
        first, second = fake.seen
        assert (first.method, first.path) == ("POST", "/linux-rdma/")
        assert first.query["x"] == ["m"] and first.query["q"] == ["rt:00000.."]
        # The second window ends just after the oldest message received; it
        # brings nothing unseen, so the results are exhausted.
        oldest = min(int(t.timestamp()) for m in mails if (t := m.received))
        assert second.query["q"] == [f"rt:00000..{oldest + 15 * 60}"]

    def test_at_least_100ms_between_requests(self, fake: FakeLore) -> None:
        """Sequential requests start at least min_interval apart."""
        _mails(LoreSource(fake.url, "linux-rdma", min_interval=0.2).batches(None))
        gaps = [b.at - a.at for a, b in zip(fake.seen, fake.seen[1:], strict=False)]
        assert gaps and min(gaps) >= 0.19

    def test_429_honours_retry_after(self, fake: FakeLore) -> None:
        """A 429 with Retry-After: 2 waits 2 s, then the poll succeeds."""
        fake.script = [(429, {"Retry-After": "2"}, b"slow down\n")]
        mails = _mails(LoreSource(fake.url, "linux-rdma").batches(None))
        assert len(mails) == 4
        assert fake.seen[1].at - fake.seen[0].at >= 1.9

    def test_5xx_backs_off_exponentially(self, fake: FakeLore) -> None:
        """503, 502, 500 are retried with growing pauses, then the poll succeeds."""
        fake.script = [(503, {}, b""), (502, {}, b""), (500, {}, b"")]
        mails = _mails(LoreSource(fake.url, "linux-rdma").batches(None))
        assert len(mails) == 4
        gaps = [fake.seen[i + 1].at - fake.seen[i].at for i in range(3)]
        assert gaps[0] >= 0.09 and gaps[1] >= 0.9 and gaps[2] >= 1.9

    def test_gives_up_after_the_retries(self, fake: FakeLore) -> None:
        """A server that keeps failing ends the poll with a LoreError, no cursor moved."""
        fake.default = (503, {}, b"")
        with pytest.raises(LoreError, match="503"):
            _mails(LoreSource(fake.url, "linux-rdma", retries=2).batches(None))
        assert len(fake.seen) == 3

    def test_other_4xx_is_not_retried(self, fake: FakeLore) -> None:
        """A 403 fails at once: one request, a clear error."""
        fake.default = (403, {}, b"forbidden\n")
        with pytest.raises(LoreError, match="403"):
            _mails(LoreSource(fake.url, "linux-rdma").batches(None))
        assert len(fake.seen) == 1

    def test_no_results_is_an_empty_poll(self, fake: FakeLore) -> None:
        """public-inbox's 404 "No results found" means nothing new."""
        fake.default = (404, {}, b"No results found\n")
        assert list(LoreSource(fake.url, "linux-rdma").batches(None)) == []
        assert len(fake.seen) == 1

    def test_stalled_server_hits_the_read_timeout(self, fake: FakeLore) -> None:
        """A server that stops answering fails the poll after the read timeout."""
        fake.stall = 1.5
        src = LoreSource(fake.url, "linux-rdma", timeout=(5.0, 0.5))
        start = time.monotonic()
        with pytest.raises(LoreError):
            _mails(src.batches(None))
        assert time.monotonic() - start < 1.4

    def test_message_ids_are_url_quoted(self, fake: FakeLore) -> None:
        """A real Message-ID with slashes reaches the server as %2F."""
        fake.default = (200, {}, gzip.compress(SAMPLE_MBOX))
        thread = LoreSource(fake.url, "linux-rdma").fetch_thread("<aIBfIxVBR/3ig/O/@ziepe.ca>")
        assert len(thread) == 4
        assert fake.seen[0].path == "/linux-rdma/aIBfIxVBR%2F3ig%2FO%2F%40ziepe.ca/t.mbox.gz"
        assert quote_msgid("aIBfIxVBR/3ig/O/@ziepe.ca") == "aIBfIxVBR%2F3ig%2FO%2F@ziepe.ca"


class TestPaging:
    """Results are paged by received-time windows until a window brings nothing new."""

    def test_a_server_capping_results_is_walked_to_the_end(self, fake: FakeLore) -> None:
        """With at most 2 hits per answer, windows move back until all 4 are found."""
        fake.search = sample_search(cap=2)
        mails = _mails(LoreSource(fake.url, "linux-rdma").batches(None))
        assert sorted(m.raw for m in mails) == sorted(split_mboxrd(SAMPLE_MBOX))
        assert len(fake.seen) == 4

    def test_a_complete_answer_takes_two_requests(self, fake: FakeLore) -> None:
        """When the first answer holds everything, one more window confirms the end."""
        fake.search = sample_search()
        assert len(_mails(LoreSource(fake.url, "linux-rdma").batches(None))) == 4
        assert len(fake.seen) == 2


# A fixed wall clock (it schedules the look-backs), a year after the sample's mail.
NOW = datetime(2026, 1, 1, tzinfo=UTC)


class TestCursor:
    """The cursor: the newest received time stored, where an unfinished poll resumes,
    and when each look-back last ran."""

    def test_batches_say_where_to_resume_until_the_poll_is_done(self, fake: FakeLore) -> None:
        """Each batch's cursor is valid once it is stored: before the last, it resumes this
        poll's window; the last holds the newest received time and no resume point."""
        src = LoreSource(fake.url, "linux-rdma", batch_size=2, clock=lambda: NOW)
        batches = list(src.batches(None))
        assert [len(b.items) for b in batches] == [2, 2]
        first, last = (LoreCursor.parse(b.cursor) for b in batches)
        assert first.resume == EPOCH  # a whole-archive poll is one window from the beginning
        times = [t for m in _mails(iter(batches)) if (t := m.received) is not None]
        assert len(times) == 4
        assert (last.newest, last.resume) == (max(times), None)
        assert last.ran == {t.name: NOW for t in DEFAULT_TIERS}

    def test_poll_starts_a_fudge_before_the_cursor(self, fake: FakeLore) -> None:
        """With no look-back due, from cursor T the query is rt:(T - fudge).."""
        newest = datetime(2025, 12, 31, 18, 14, 8, tzinfo=UTC)
        cursor = LoreCursor(newest, ran={t.name: NOW for t in DEFAULT_TIERS}).format()
        src = LoreSource(fake.url, "linux-rdma", fudge=timedelta(minutes=10),
                         clock=lambda: NOW + timedelta(minutes=5))
        _mails(src.batches(cursor))
        expected = int(datetime(2025, 12, 31, 18, 4, 8, tzinfo=UTC).timestamp())
        assert fake.seen[0].query["q"] == [f"rt:{expected}.."]

    def test_a_cursor_of_earlier_versions_still_resumes(self, fake: FakeLore) -> None:
        """A bare ISO time, as stored before look-backs existed, resumes from that time.
        No look-back has run yet, so this poll reaches back the widest span (60 days) and
        finds the sample's mail received 16 days before the cursor."""
        fake.search = sample_search()
        old = "2025-12-31T18:14:08+00:00"
        batches = list(LoreSource(fake.url, "linux-rdma", clock=lambda: NOW).batches(old))
        lower = int((datetime.fromisoformat(old) - timedelta(days=60)).timestamp())
        assert fake.seen[0].query["q"] == [f"rt:{lower}..{lower + 86399}"]
        assert [m.received for m in _mails(iter(batches))] == [
            datetime(2025, 12, 15, 14, 10, 9, tzinfo=UTC)]
        stored = LoreCursor.parse(batches[-1].cursor)
        assert stored == LoreCursor(datetime.fromisoformat(old), None,
                                    {t.name: NOW for t in DEFAULT_TIERS})

    def test_since_applies_without_a_cursor(self, fake: FakeLore) -> None:
        """`since` bounds the first poll; a recent one is a single open window."""
        since = datetime(2025, 6, 1, tzinfo=UTC)
        _mails(LoreSource(fake.url, "l", since=since, fudge=timedelta(0),
                          clock=lambda: since + timedelta(hours=2)).batches(None))
        assert fake.seen[0].query["q"] == [f"rt:{int(since.timestamp())}.."]

    def test_a_long_first_poll_starts_with_a_one_day_window(self, fake: FakeLore) -> None:
        """30 days of history are not asked for at once: the first window is one day."""
        fake.search = sample_search()
        since = datetime(2025, 6, 1, tzinfo=UTC)
        _mails(LoreSource(fake.url, "l", since=since, fudge=timedelta(0),
                          clock=lambda: since + timedelta(days=30)).batches(None))
        low = int(since.timestamp())
        assert fake.seen[0].query["q"] == [f"rt:{low}..{low + 86399}"]

    @pytest.mark.parametrize("cursor", ["yesterday", "2025-01-01T00:00:00", "{oops",
                                        '{"newest": 5}', "[]"])
    def test_bad_cursor(self, fake: FakeLore, cursor: str) -> None:
        """A cursor that is neither an aware ISO time nor a lore cursor object is refused
        before any request."""
        with pytest.raises(ValueError, match="cursor"):
            list(LoreSource(fake.url, "l").batches(cursor))
        assert fake.seen == []


class TestParsing:
    """public-inbox's mboxrd back to raw bytes."""

    def test_split_undoes_public_inbox_escaping(self) -> None:
        """The sample mbox splits into 4 messages; `>>From` in a body becomes `>From`."""
        msgs = split_mboxrd(SAMPLE_MBOX)
        assert len(msgs) == 4
        assert b"\n>From this point of view" in msgs[3]
        assert b"\nFrom a39bea23c9472e87060680e2384960434ec86808 " in msgs[2]

    def test_crlf_messages(self) -> None:
        """A CRLF message keeps its CRLFs and is unescaped below its CRLF blank line."""
        raw = b"Subject: a\r\nMessage-ID: <a@x>\r\n\r\nbody\r\n>From here\r\n"
        mbox = b"From mboxrd@z Thu Jan  1 00:00:00 1970\r\n" + raw.replace(b">F", b">>F") + b"\n"
        assert split_mboxrd(mbox + mbox) == [raw, raw]

    def test_not_an_mbox(self) -> None:
        """An HTML error page is not taken for mail."""
        with pytest.raises(LoreError, match="not an mbox"):
            split_mboxrd(b"<html>oops</html>\n")

    def test_received_time_is_the_first_received_header(self) -> None:
        """rt is read as public-inbox does: the first Received: with a date."""
        raw = split_mboxrd(SAMPLE_MBOX)[0]
        # "Wed,  1 Jan 2025 08:34:21 +0100 (CET)" on the topmost Received: line
        assert received_at(raw) == datetime(2025, 1, 1, 7, 34, 21, tzinfo=UTC)


# --- against the real public-inbox-httpd -----------------------------------------


@pytest.fixture(scope="module")
def epoch_raws(corpus_git: Path) -> dict[str, set[bytes]]:
    """Message-ID -> every copy of it in the corpus epoch."""
    out: dict[str, set[bytes]] = {}
    with EpochSource("linux-rdma", [corpus_git]) as src:
        for mail in _mails(src.batches(None)):
            mid = message_id_of(mail.raw)
            assert mid is not None
            out.setdefault(mid, set()).add(mail.raw)
    return out


@pytest.fixture(scope="module")
def full_poll(lore_server: str) -> list[Batch]:
    """One poll of the whole archive from the beginning."""
    return list(LoreSource(lore_server, "linux-rdma").batches(None))


@pytest.mark.corpus
@pytest.mark.slow
class TestRealServer:
    """public-inbox-httpd 1.9 serving the 2025 corpus with a full Xapian index."""

    def test_poll_from_the_beginning_gets_every_message(
        self, full_poll: list[Batch], epoch_raws: dict[str, set[bytes]]
    ) -> None:
        """All 8,459 distinct Message-IDs, each once: paging exhausted, nothing missed."""
        mids = [message_id_of(m.raw) for m in _mails(iter(full_poll))]
        assert len(mids) == len(set(mids)) == CORPUS_DISTINCT_MESSAGE_IDS
        assert set(mids) == set(epoch_raws)

    def test_http_bytes_equal_epoch_bytes(
        self, full_poll: list[Batch], epoch_raws: dict[str, set[bytes]]
    ) -> None:
        """Each message over HTTP is byte for byte one of the epoch's copies of it."""
        different = [
            mid for m in _mails(iter(full_poll))
            if (mid := message_id_of(m.raw)) and m.raw not in epoch_raws[mid]
        ]
        assert different == []

    def test_every_cursor_resumes_and_the_last_is_complete(self, full_poll: list[Batch]) -> None:
        """Batches of 200; each cursor but the last resumes the unfinished poll, and the
        last holds the newest received time of all."""
        cursors = [LoreCursor.parse(b.cursor) for b in full_poll]
        assert all(c.resume == EPOCH for c in cursors[:-1])
        times = [t for m in _mails(iter(full_poll)) if (t := m.received) is not None]
        assert (cursors[-1].resume, cursors[-1].newest) == (None, max(times))
        assert len(full_poll[0].items) == 200

    def test_second_poll_brings_only_the_fudge_window(
        self, lore_server: str, full_poll: list[Batch]
    ) -> None:
        """Polling again from the cursor returns nothing unseen, only the last minutes."""
        cursor = full_poll[-1].cursor
        assert cursor is not None
        src = LoreSource(lore_server, "linux-rdma", fudge=timedelta(minutes=15))
        again = _mails(src.batches(cursor))
        seen = {message_id_of(m.raw) for m in _mails(iter(full_poll))}
        assert {message_id_of(m.raw) for m in again} <= seen
        assert len(again) < 50
        newest = LoreCursor.parse(cursor).newest
        assert newest is not None
        floor = newest - timedelta(minutes=15)
        assert all(m.received is not None and m.received >= floor for m in again)

    def test_since_selects_by_received_time(
        self, lore_server: str, epoch_raws: dict[str, set[bytes]]
    ) -> None:
        """`since` returns every message received after it, as public-inbox counts rt."""
        since = datetime(2025, 12, 20, tzinfo=UTC)
        got = {
            message_id_of(m.raw)
            for m in _mails(LoreSource(lore_server, "l", since=since, fudge=timedelta(0))
                            .batches(None))
        }
        expected = {
            mid for mid, raws in epoch_raws.items()
            if any((t := received_at(r)) is not None and t >= since for r in raws)
        }
        assert expected and expected <= got

    def test_fetch_thread_by_quoted_message_id(
        self, lore_server: str, epoch_raws: dict[str, set[bytes]]
    ) -> None:
        """t.mbox.gz through liblore: a Message-ID with slashes finds its thread."""
        mid = "aIBfIxVBR/3ig/O/@ziepe.ca"
        thread = LoreSource(lore_server, "linux-rdma").fetch_thread(mid)
        mids = [message_id_of(m.raw) for m in thread]
        assert mid in mids and len(thread) > 1
        assert all(m.raw in epoch_raws[message_id_of(m.raw) or ""] for m in thread)
        origin = thread[mids.index(mid)].origin
        assert origin == f"{lore_server}/aIBfIxVBR%2F3ig%2FO%2F@ziepe.ca/raw"
