"""Lore polling loses nothing: a real public-inbox-httpd whose archive grows as lore's does.

The 2025 corpus is filed into a fresh public-inbox v2 inbox in its real
arrival order, in growth steps of four days of archive time, each followed
by public-inbox-index and by one poll of each of two LoreSources through the
real ingest service into SQLite stores: one without look-backs (the polling
before this change), one with the default look-backs. On top of the corpus'
own late filings (September's backfill after the August outage), about 2.5%
of the mail is filed late, as a backfill is: its Received time (what `rt:`
searches) stays where it was, but the archive files it 1 to 5 days later
(a few 30 days later), after newer mail has been polled. Mail filed more
than 60 days late is beyond the widest look-back (epoch mirroring is the
complete path), so the corpus' own late mail is not delayed further.

Each poll's wall clock is the replayed archive time, so the look-backs run on
their real schedule. Takes a few minutes (indexing ~8,500 mails step by step).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewbot.adapters.sources.lore import LoreError, LoreSource, message_id_of, received_at
from reviewbot.adapters.sources.lore_schedule import LoreCursor
from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.ports import Batch, RawMail, Source
from reviewbot.service.backlog.ingest import IngestReport, ingest
from tests.pi_server import Filing, GrowingInbox

STEP = timedelta(days=4)
DAY = 86400


@dataclass(frozen=True, slots=True)
class Corpus:
    filings: list[Filing]
    message_ids: dict[str, str]  # commit -> Message-ID
    late: set[str]  # Message-IDs filed late on purpose


def _late_by(mid: str, lag: int) -> int:
    """Seconds this message is filed late on purpose: 1-5 days for 2%, 30 days for 0.5%,
    else 0; never for mail the archive already filed more than a day late (`lag`), so
    nothing is filed later than the 60-day look-back reaches (only epochs get that)."""
    if lag > DAY:
        return 0
    h = hashlib.sha256(mid.encode()).digest()
    if h[0] % 50 == 0:
        return (1 + h[1] % 5) * DAY
    if h[0] % 200 == 1:
        return 30 * DAY
    return 0


def _corpus(git_dir: Path) -> Corpus:
    log = subprocess.run(["git", "--git-dir", str(git_dir), "log", "--reverse", "--format=%H %ct"],
                         capture_output=True, check=True, text=True).stdout.split("\n")
    check = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                           input="".join(f"{line.split()[0]}:m\n" for line in log if line).encode(),
                           capture_output=True, check=True).stdout
    filings, mids, late, at = [], {}, set(), 0
    for line in filter(None, log):
        commit, when = line.split()
        header_end = check.index(b"\n", at)
        size = int(check[at:header_end].split()[2])
        raw = check[header_end + 1 : header_end + 1 + size]
        at = header_end + 1 + size + 1
        mid, received = message_id_of(raw), received_at(raw)
        assert mid is not None and received is not None
        mids[commit] = mid
        delay = _late_by(mid, int(when) - int(received.timestamp()))
        if delay:
            late.add(mid)
        filings.append(Filing(commit, int(when) + delay))
    filings.sort(key=lambda f: f.filed)  # stable: same-second filings keep corpus order
    return Corpus(filings, mids, late)


class Recording:
    """A Source wrapper that notes every Message-ID handed to the store."""

    def __init__(self, source: LoreSource) -> None:
        self.source = source
        self.seen: set[str] = set()

    @property
    def key(self) -> str:
        return self.source.key

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        for batch in self.source.batches(cursor):
            self.seen.update(m for i in batch.items
                             if isinstance(i, RawMail) and (m := message_id_of(i.raw)))
            yield batch


def _store(template: Path, path: Path) -> SqlStore:
    shutil.copy(template, path)
    return SqlStore(make_engine(f"sqlite:///{path}"))


def _poll(source: Source, store: SqlStore) -> int:
    return ingest(source, store, list_name="linux-rdma").new


@dataclass
class Grown:
    corpus: Corpus
    server: GrowingInbox
    fetched: dict[str, set[str]] = field(default_factory=dict)  # scheme -> Message-IDs
    stored: dict[str, int] = field(default_factory=dict)  # scheme -> new messages stored
    steps: int = 0
    seconds: float = 0.0


@pytest.fixture(scope="module")
def grown(corpus_git: Path, sqlite_template: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Grown]:
    """The whole corpus filed step by step, each step polled by both schemes."""
    started = time.monotonic()
    corpus = _corpus(corpus_git)
    workdir = tmp_path_factory.mktemp("growing-inbox")
    server = GrowingInbox(corpus_git, workdir, filings=corpus.filings)
    server.start()
    try:
        now = [datetime.fromtimestamp(corpus.filings[0].filed, UTC)]
        sources = {
            "before": LoreSource(server.base_url, "linux-rdma", tiers=(),
                                 first_window=timedelta(days=7), clock=lambda: now[0]),
            "look-backs": LoreSource(server.base_url, "linux-rdma",
                                     first_window=timedelta(days=7), clock=lambda: now[0]),
        }
        recorders = {name: Recording(src) for name, src in sources.items()}
        stores = {name: _store(sqlite_template, workdir / f"{i}.db")
                  for i, name in enumerate(sources)}
        result = Grown(corpus, server, stored=dict.fromkeys(sources, 0))
        # After the last filing, a week and a half more of polls: the weekly look-back
        # must get its chance at the last backfills too.
        end = datetime.fromtimestamp(corpus.filings[-1].filed, UTC) + timedelta(days=10)
        filed = [f.filed for f in corpus.filings]
        while now[0] <= end:
            server.grow_to(sum(1 for t in filed if t <= now[0].timestamp()))
            for name, recorder in recorders.items():
                result.stored[name] += _poll(recorder, stores[name])
            result.steps += 1
            now[0] += STEP
        result.fetched = {name: r.seen for name, r in recorders.items()}
        result.seconds = time.monotonic() - started
        print(f"\ngrew the inbox in {result.steps} steps in {result.seconds:.0f} s")
        yield result
    finally:
        server.stop()


DISTINCT = 8459


@pytest.mark.corpus
@pytest.mark.slow
class TestGrowingArchive:
    """Polling a growing public-inbox-httpd, with and without look-backs."""

    def test_the_corpus_is_filed_with_its_backfills(self, grown: Grown) -> None:
        """Every commit filed; about 2.5% of the Message-IDs filed late on purpose."""
        assert grown.server.filed == len(grown.corpus.filings) == 8487
        assert len(set(grown.corpus.message_ids.values())) == DISTINCT
        assert 150 <= len(grown.corpus.late) <= 300

    def test_without_look_backs_late_mail_is_lost(self, grown: Grown) -> None:
        """The polling before this change never fetches much of the late-filed mail."""
        lost = set(grown.corpus.message_ids.values()) - grown.fetched["before"]
        print(f"\nwithout look-backs: lost {len(lost)} of {DISTINCT} Message-IDs")
        assert len(lost) > 100
        assert grown.stored["before"] == DISTINCT - len(lost)

    def test_with_look_backs_nothing_is_lost(self, grown: Grown) -> None:
        """With the default look-backs every Message-ID is fetched and stored once."""
        lost = set(grown.corpus.message_ids.values()) - grown.fetched["look-backs"]
        print(f"\nwith look-backs: lost {len(lost)} of {DISTINCT} Message-IDs")
        assert lost == set()
        assert grown.stored["look-backs"] == DISTINCT

    def test_a_server_killed_mid_poll_loses_nothing(
        self, grown: Grown, sqlite_template: Path, tmp_path: Path
    ) -> None:
        """public-inbox-httpd is SIGKILLed while a first poll of the year streams: the
        batches already handed over stay stored with a cursor that resumes at their
        window; after a restart the next poll continues there and the store holds every
        Message-ID."""
        store = _store(sqlite_template, tmp_path / "killed.db")
        since = datetime(2025, 1, 1, tzinfo=UTC)
        source = LoreSource(grown.server.base_url, "linux-rdma", since=since)
        handed: list[int] = []

        class KillAfterThree:
            key = source.key

            def batches(self, cursor: str | None) -> Iterator[Batch]:
                for batch in source.batches(cursor):
                    yield batch
                    handed.append(len(batch.items))
                    if len(handed) == 3:
                        grown.server.kill()

        reports: list[IngestReport] = []  # after each committed batch
        with pytest.raises(LoreError):
            ingest(KillAfterThree(), store, list_name="linux-rdma", progress=reports.append)
        first = reports[-1].new
        cursor = LoreCursor.parse(store.get_cursor(source.key))
        assert first == sum(handed) > 0
        assert cursor.resume is not None and cursor.resume > since
        grown.server.start()
        second = _poll(source, store)
        assert first + second == DISTINCT
        assert LoreCursor.parse(store.get_cursor(source.key)).resume is None
