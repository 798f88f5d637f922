"""Ingest: Source batches -> parse -> store (one transaction per batch) -> refresh.

Parsing happens here (service/backlog/parsing.py), not in the store, so a parser
exception is quarantined with its reason and the batch goes on. Storing a batch
links its mail into thread components and marks them dirty; the refresh that
follows (a callable the composition root builds, see service/backlog/refresh.py)
reassembles only those. Nothing here holds more than two batches, so memory
does not grow with the archive.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from reviewbot.core.mail.parse import parse_message
from reviewbot.core.model import Message
from reviewbot.ports import (
    Batch,
    BatchOutcome,
    ParseFn,
    RawReader,
    ReparseOutcome,
    Source,
    Store,
    StoredRaw,
)
from reviewbot.service.backlog.parsing import ParsePool, Prepared, parse_one, prepare
from reviewbot.service.backlog.refresh import RefreshReport

Refresher = Callable[[], RefreshReport]


@dataclass(frozen=True, slots=True)
class IngestReport:
    messages: int = 0  # mails received from the source (deletions not counted)
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    deleted: int = 0
    batches: int = 0
    cursor: str | None = None
    refreshed: RefreshReport | None = None  # None: no refresh ran

    @property
    def series(self) -> int | None:
        """Series (re)built for the components this ingest touched."""
        return self.refreshed.series if self.refreshed is not None else None

    def summary(self, seconds: float) -> str:
        into = f" into {self.refreshed.series} series" if self.refreshed is not None else ""
        return (
            f"ingested {self.messages} messages ({self.new} new, {self.duplicates} duplicates, "
            f"{self.quarantined} quarantined, {self.deleted} deleted){into} in {seconds:.1f} s"
        )


ProgressFn = Callable[[IngestReport], None]


def ingest(
    source: Source,
    store: Store,
    *,
    list_name: str,
    parse: ParseFn = parse_message,
    progress: ProgressFn | None = None,
    refresher: Refresher | None = None,
    pool: ParsePool | None = None,
) -> IngestReport:
    """Read `source` from its stored cursor to the end, then refresh what changed.

    One writer thread stores batch N (with its cursor, in one transaction)
    while batch N+1 is read and parsed; writes stay strictly in order, at most
    one in flight. A source failing mid-way still gets every batch handed to
    the writer committed, so the stored cursor is where the next run resumes,
    and the refresh still runs over what was stored (then the error propagates).

    With a `pool`, batches after the first POOL_AFTER are parsed in its worker
    processes, a few ahead: an archive's first ingest uses every core, while a
    daemon's poll of a few new mails never pays for starting workers.
    """
    report = IngestReport(cursor=store.get_cursor(source.key))

    def account(outcome: BatchOutcome, seen: int, cursor: str | None) -> None:
        nonlocal report
        report = replace(
            report,
            messages=report.messages + seen,
            new=report.new + outcome.new,
            duplicates=report.duplicates + outcome.duplicates,
            quarantined=report.quarantined + outcome.quarantined,
            deleted=report.deleted + outcome.deleted,
            batches=report.batches + 1,
            cursor=cursor,
        )
        if progress is not None:
            progress(report)

    writing: tuple[Future[BatchOutcome], int, str | None] | None = None
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewbot-store") as writer:
            try:
                for batch, (parsed, rejected, removals) in _parsed(source, report.cursor,
                                                                   parse, pool):
                    if writing is not None:
                        account(*_wait(writing))
                        writing = None
                    future = writer.submit(
                        store.store_batch, list_name=list_name, source_key=source.key,
                        cursor=batch.cursor, parsed=parsed, rejected=rejected,
                        removals=removals, locations=batch.locations)
                    writing = (future, len(parsed) + len(rejected), batch.cursor)
            finally:
                if writing is not None:
                    account(*_wait(writing))
    finally:
        if refresher is not None:
            report = replace(report, refreshed=refresher())
    return report


POOL_AFTER = 2  # batches parsed here before a pool's workers take over
POOL_AHEAD = 3  # batches handed to the pool before the oldest is collected


def _parsed(source: Source, cursor: str | None, parse: ParseFn,
            pool: ParsePool | None) -> Iterator[tuple[Batch, Prepared]]:
    """The source's batches, parsed, in order."""
    ahead: deque[tuple[Batch, Callable[[], Prepared]]] = deque()
    for n, batch in enumerate(source.batches(cursor)):
        if pool is None or n < POOL_AFTER:
            yield batch, prepare(batch, parse)
            continue
        ahead.append((batch, pool.submit(batch)))
        if len(ahead) >= POOL_AHEAD:
            done, collect = ahead.popleft()
            yield done, collect()
    while ahead:
        done, collect = ahead.popleft()
        yield done, collect()


def _wait(
    writing: tuple[Future[BatchOutcome], int, str | None],
) -> tuple[BatchOutcome, int, str | None]:
    return writing[0].result(), writing[1], writing[2]


def reparse(
    store: Store,
    reader: RawReader,
    *,
    parse: ParseFn = parse_message,
    chunk: int = 500,
    progress: Callable[[int], None] | None = None,
    refresher: Refresher | None = None,
) -> tuple[ReparseOutcome, RefreshReport | None]:
    """Re-derive every message (quarantined ones too) from raw bytes, relink, refresh.

    Mail kept by reference is read back through `reader`; one whose bytes cannot
    be read (the mirror is gone) keeps its stored form and is counted as missing.
    """
    total = ReparseOutcome()
    seen = 0
    for rows in store.stored_raw(chunk):
        wanted = [r.origin for r in rows if r.raw is None]
        fetched = reader.read(wanted) if wanted else {}
        results: list[tuple[StoredRaw, Message | str, str]] = []
        missing = 0
        for row in rows:
            raw = row.raw if row.raw is not None else fetched.get(row.origin)
            if raw is None:
                missing += 1
                continue
            results.append((row, parse_one(parse, raw, row.received),
                            hashlib.sha256(raw).hexdigest()))
        out = store.apply_reparse(results)
        total = ReparseOutcome(
            total.updated + out.updated,
            total.recovered + out.recovered,
            total.quarantined + out.quarantined,
            total.unreadable + missing,
        )
        seen += len(rows)
        if progress is not None:
            progress(seen)
    store.relink_all()
    return total, refresher() if refresher is not None else None
