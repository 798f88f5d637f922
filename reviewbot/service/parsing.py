"""Parsing for ingest: a batch's items -> records for the store.

Parsing stays in-process. Worker processes were measured on the 2-core
machine and lost: ~2.5 CPU-s of spawn, import and pickling overhead for
~0.9 CPU-s of parsing the whole corpus (see the report of issue 2).
"""

from __future__ import annotations

import hashlib
import logging
import re
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
