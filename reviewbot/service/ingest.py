"""Ingest: Source batches -> parse -> store (one transaction per batch) -> reassemble.

Parsing happens here, not in the store, so a parser exception is quarantined
with its reason and the batch goes on. Reassembly runs over every stored
message, so the stored series never depend on batch boundaries.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from reviewbot.core.mail import MalformedMessage, parse_message
from reviewbot.core.model import Message, MessageId, SeriesId
from reviewbot.core.series import Assembly, assemble
from reviewbot.core.state import series_state
from reviewbot.ports import (
    Batch,
    BatchOutcome,
    Deletion,
    Parsed,
    Rejected,
    Removal,
    ReparseOutcome,
    Source,
    Store,
    StoredRaw,
)

log = logging.getLogger(__name__)


class ParseFn(Protocol):
    def __call__(self, raw: bytes, *, fallback_date: datetime | None = None) -> Message: ...


AssembleFn = Callable[[Iterable[Message]], Assembly]

_MSGID_RE = re.compile(rb"^message-id:[ \t]*<?([^>\r\n]+)>?", re.IGNORECASE | re.MULTILINE)


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


def header_message_id(raw: bytes) -> MessageId | None:
    """The Message-ID header's value, for labelling quarantined mail only."""
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    m = _MSGID_RE.search(head)
    return MessageId(m.group(1).decode("utf-8", "replace").strip()) if m else None


def _parse_one(
    parse: ParseFn, raw: bytes, received: datetime | None
) -> Message | str:
    try:
        return parse(raw, fallback_date=received)
    except MalformedMessage as exc:
        return exc.reason
    except Exception as exc:  # a parser bug must not stop ingestion
        log.warning("parser crashed (%s: %s); quarantining", type(exc).__name__, exc)
        return f"parser error: {type(exc).__name__}: {exc}"


def ingest(
    source: Source,
    store: Store,
    *,
    list_name: str,
    parse: ParseFn = parse_message,
    assembler: AssembleFn = assemble,
    progress: ProgressFn | None = None,
    reassemble_after: bool = True,
    overlap: bool = True,
) -> IngestReport:
    """Read `source` from its stored cursor to the end, then reassemble series.

    Batch N is written by one writer thread while batch N+1 is parsed: writes
    stay strictly in order (one writer, at most one batch in flight), and the
    store's compression and SQLite work release the GIL, so they overlap the
    parsing. A source that fails mid-way still gets its last complete batch
    committed, so the cursor is exactly where the next run must resume.
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

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewbot-store") as writer:
        pending: tuple[Future[BatchOutcome], int, str | None] | None = None
        try:
            for batch in source.batches(report.cursor):
                parsed, rejected, removals = _prepare(batch, parse)
                for p in parsed:
                    fresh.setdefault(p.message.message_id, (p.sha256, p.message))
                if pending is not None:
                    account(pending[0].result(), pending[1], pending[2])
                    pending = None
                future = (writer.submit if overlap else _now)(
                    store.store_batch, list_name=list_name, source_key=source.key,
                    cursor=batch.cursor, parsed=parsed, rejected=rejected, removals=removals)
                pending = (future, len(parsed) + len(rejected), batch.cursor)
        finally:
            if pending is not None:
                account(pending[0].result(), pending[1], pending[2])
    if reassemble_after:
        report = replace(report, series=reassemble(store, assembler=assembler, known=fresh))
    return report


def _now(fn: Callable[..., BatchOutcome], /, **kwargs: object) -> Future[BatchOutcome]:
    """Run in this thread; a done Future (the sequential mode, for comparison)."""
    done: Future[BatchOutcome] = Future()
    done.set_result(fn(**kwargs))
    return done


def _prepare(
    batch: Batch, parse: ParseFn
) -> tuple[list[Parsed], list[Rejected], list[Removal]]:
    parsed: list[Parsed] = []
    rejected: list[Rejected] = []
    removals: list[Removal] = []
    for item in batch.items:
        if isinstance(item, Deletion):
            removals.append(_removal(item, parse))
            continue
        sha = hashlib.sha256(item.raw).hexdigest()
        result = _parse_one(parse, item.raw, item.received)
        if isinstance(result, str):
            rejected.append(Rejected(item, result, sha, header_message_id(item.raw)))
        else:
            parsed.append(Parsed(item, result, sha))
    return parsed, rejected, removals


def _removal(item: Deletion, parse: ParseFn) -> Removal:
    mid = item.message_id
    sha = None
    if item.raw is not None:
        sha = hashlib.sha256(item.raw).hexdigest()
        if mid is None:
            result = _parse_one(parse, item.raw, None)
            mid = result.message_id if isinstance(result, Message) else header_message_id(item.raw)
    return Removal(mid, sha, item.origin)


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
    states = {s.series_id: series_state(s, members.get(s.series_id, ())) for s in assembly.series}
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
            results.append((row, _parse_one(parse, row.raw, row.received),
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
