"""Ingest: Source batches -> parse -> store (one transaction per batch) -> reassemble.

Parsing happens here (service/parsing.py), not in the store, so a parser
exception is quarantined with its reason and the batch goes on. Reassembly runs over every stored
message, so the stored series never depend on batch boundaries.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

from reviewbot.core.backlog.state import series_state
from reviewbot.core.mail.parse import parse_message
from reviewbot.core.model import Message, MessageId, SeriesId
from reviewbot.core.series.assemble import Assembly, assemble
from reviewbot.ports import (
    BatchOutcome,
    ParseFn,
    ReparseOutcome,
    Source,
    Store,
    StoredRaw,
)
from reviewbot.service.parsing import parse_one, prepare

log = logging.getLogger(__name__)

AssembleFn = Callable[[Iterable[Message]], Assembly]


@dataclass(frozen=True, slots=True)
class IngestReport:
    messages: int = 0  # mails received from the source (deletions not counted)
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    deleted: int = 0
    batches: int = 0
    series: int | None = None  # after reassembly; None until it ran
    cursor: str | None = None

    def summary(self, seconds: float) -> str:
        into = f" into {self.series} series" if self.series is not None else ""
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
    assembler: AssembleFn = assemble,
    progress: ProgressFn | None = None,
    reassemble_after: bool = True,
) -> IngestReport:
    """Read `source` from its stored cursor to the end, then reassemble series.

    One writer thread stores batch N (with its cursor, in one transaction)
    while batch N+1 is read and parsed; writes stay strictly in order, at most
    one in flight. A source failing mid-way still gets every batch handed to
    the writer committed, so the stored cursor is where the next run resumes.
    """
    report = IngestReport(cursor=store.get_cursor(source.key))
    fresh: dict[MessageId, tuple[str, Message]] = {}  # parsed in this run, for reassembly

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
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewbot-store") as writer:
        try:
            for batch in source.batches(report.cursor):
                parsed, rejected, removals = prepare(batch, parse)
                for p in parsed:
                    fresh.setdefault(p.message.message_id, (p.sha256, p.message))
                if writing is not None:
                    account(*_wait(writing))
                    writing = None
                future = writer.submit(
                    store.store_batch, list_name=list_name, source_key=source.key,
                    cursor=batch.cursor, parsed=parsed, rejected=rejected, removals=removals)
                writing = (future, len(parsed) + len(rejected), batch.cursor)
        finally:
            if writing is not None:
                account(*_wait(writing))
    if reassemble_after:
        report = replace(report, series=reassemble(store, assembler=assembler, known=fresh))
    return report


def _wait(
    writing: tuple[Future[BatchOutcome], int, str | None],
) -> tuple[BatchOutcome, int, str | None]:
    return writing[0].result(), writing[1], writing[2]


def reassemble(
    store: Store,
    *,
    assembler: AssembleFn = assemble,
    force: bool = False,
    known: Mapping[MessageId, tuple[str, Message]] | None = None,
) -> int:
    """Rebuild every series from the stored messages; returns the series count.

    Skipped (the stored series are current) unless something changed since
    the last run or `force`. `known` lends messages parsed in this run, so the
    store decodes only the others.
    """
    if not force and not store.assembly_stale():
        return store.series_count()
    messages = store.live_messages(known)
    assembly = assembler(messages)
    by_id = {m.message_id: m for m in messages}
    members: dict[SeriesId, list[Message]] = {}
    for mid, sid in assembly.series_of.items():
        msg = by_id.get(mid)
        if msg is not None:
            members.setdefault(sid, []).append(msg)
    by_sid = {s.series_id: s for s in assembly.series}
    states = {s.series_id: series_state(s, members.get(s.series_id, ()),
                                        by_sid.get(s.superseded_by) if s.superseded_by else None)
              for s in assembly.series}
    store.save_assembly(assembly, states)
    return len(assembly.series)


def reparse(
    store: Store,
    *,
    parse: ParseFn = parse_message,
    assembler: AssembleFn = assemble,
    chunk: int = 500,
    progress: Callable[[int], None] | None = None,
) -> tuple[ReparseOutcome, int]:
    """Re-derive every message (quarantined ones too) from raw bytes, then reassemble."""
    total = ReparseOutcome()
    seen = 0
    for rows in store.stored_raw(chunk):
        results: list[tuple[StoredRaw, Message | str, str]] = []
        for row in rows:
            results.append((row, parse_one(parse, row.raw, row.received),
                            hashlib.sha256(row.raw).hexdigest()))
        out = store.apply_reparse(results)
        total = ReparseOutcome(
            total.updated + out.updated,
            total.recovered + out.recovered,
            total.quarantined + out.quarantined,
        )
        seen += len(rows)
        if progress is not None:
            progress(seen)
    return total, reassemble(store, assembler=assembler, force=True)
