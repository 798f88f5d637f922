"""Parsing for ingest: a batch's items -> records for the store.

`prepare` parses in this process. `ParsePool` parses (and encodes for storage) in
worker processes, so this process keeps storing batches and refreshing series
while the next batches are parsed: a worker sends back the stored form (compressed
JSON, ~300 bytes), not pickled Messages. Issue 2 measured workers that pickled
Messages both ways losing (2.5 CPU-s of overhead for 0.9 of parsing); with the
live core's storing and refreshing in this process, parsing elsewhere pays
(bench/ingest.py). Small ingests never start the pool (see service/backlog/ingest.py).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from reviewbot.core.mail.parse import MalformedMessage
from reviewbot.core.model import Message, MessageId
from reviewbot.ports import Batch, Deletion, Parsed, ParseFn, Rejected, Removal

log = logging.getLogger(__name__)

_MSGID_RE = re.compile(rb"^message-id:[ \t]*<?([^>\r\n]+)>?", re.IGNORECASE | re.MULTILINE)


Prepared = tuple[list[Parsed], list[Rejected], list[Removal]]


def header_message_id(raw: bytes) -> MessageId | None:
    """The Message-ID header's value, for labelling quarantined mail only."""
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    m = _MSGID_RE.search(head)
    return MessageId(m.group(1).decode("utf-8", "replace").strip()) if m else None


def parse_one(parse: ParseFn, raw: bytes, received: datetime | None) -> Message | str:
    """The Message, or why it cannot be one; never raises for one bad mail."""
    try:
        return parse(raw, fallback_date=received)
    except MalformedMessage as exc:
        return exc.reason
    except Exception as exc:  # a parser bug must not stop ingestion
        log.warning("parser crashed (%s: %s); quarantining", type(exc).__name__, exc)
        return f"parser error: {type(exc).__name__}: {exc}"


def prepare(batch: Batch, parse: ParseFn) -> Prepared:
    """Parse every mail of `batch` (bad ones become Rejected); deletions become Removals."""
    parsed: list[Parsed] = []
    rejected: list[Rejected] = []
    removals: list[Removal] = []
    for item in batch.items:
        if isinstance(item, Deletion):
            removals.append(_removal(item, parse))
            continue
        sha = hashlib.sha256(item.raw).hexdigest()
        result = parse_one(parse, item.raw, item.received)
        if isinstance(result, str):
            rejected.append(Rejected(item, result, sha, header_message_id(item.raw)))
        else:
            parsed.append(Parsed(item, result, sha))
    return parsed, rejected, removals


Encode = Callable[[Message], bytes]
Decode = Callable[[bytes], Message]
# What a worker sends back per mail: (stored form, sha256) or (reason, sha256, Message-ID)
_Result = tuple[bytes, str] | tuple[str, str, MessageId | None]


def _parse_in_worker(parse: ParseFn, encode: Encode,
                     mails: list[tuple[bytes, datetime | None]]) -> list[_Result]:
    out: list[_Result] = []
    for raw, received in mails:
        sha = hashlib.sha256(raw).hexdigest()
        result = parse_one(parse, raw, received)
        if isinstance(result, str):
            out.append((result, sha, header_message_id(raw)))
        else:
            out.append((encode(result), sha))
    return out


class ParsePool:
    """Parses batches in worker processes. `parse`, `encode` and `decode` must be
    module-level functions (they are sent to the workers). Workers start on `start()`,
    from a fork server, so they never inherit this process's threads or connections."""

    def __init__(self, parse: ParseFn, encode: Encode, decode: Decode, workers: int) -> None:
        self.parse, self.encode, self.decode, self.workers = parse, encode, decode, workers
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("forkserver"))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def submit(self, batch: Batch) -> Callable[[], Prepared]:
        """Start parsing `batch`; the returned call waits for it and builds the records."""
        self.start()
        assert self._pool is not None
        mails = [i for i in batch.items if not isinstance(i, Deletion)]
        future = self._pool.submit(_parse_in_worker, self.parse, self.encode,
                                   [(m.raw, m.received) for m in mails])

        def collect() -> Prepared:
            parsed: list[Parsed] = []
            rejected: list[Rejected] = []
            for mail, result in zip(mails, future.result(), strict=True):
                if len(result) == 2:
                    encoded, sha = result
                    assert isinstance(encoded, bytes)
                    parsed.append(Parsed(mail, self.decode(encoded), sha, encoded))
                else:
                    reason, sha, mid = result
                    assert isinstance(reason, str)
                    rejected.append(Rejected(mail, reason, sha, mid))
            removals = [_removal(i, self.parse) for i in batch.items if isinstance(i, Deletion)]
            return parsed, rejected, removals

        return collect


def _removal(item: Deletion, parse: ParseFn) -> Removal:
    mid = item.message_id
    sha = None
    if item.raw is not None:
        sha = hashlib.sha256(item.raw).hexdigest()
        if mid is None:
            result = parse_one(parse, item.raw, None)
            mid = result.message_id if isinstance(result, Message) else \
                header_message_id(item.raw)
    return Removal(mid, sha, item.origin)
