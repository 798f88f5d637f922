"""Apply reparse results: refresh parsed columns, move mail in or out of quarantine.

Raw bytes are moved, never dropped: a stored message that no longer parses
goes to quarantine, a quarantined mail that now parses becomes a message (or
a recorded duplicate copy when its Message-ID is already stored).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from reviewbot.adapters.sql.codec import CODEC_VERSION, encode_message
from reviewbot.adapters.sql.tables import DuplicateRow, MessageRow, QuarantineRow
from reviewbot.core.model import Message
from reviewbot.ports import ReparseOutcome, StoredRaw

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
D: sa.Table = DuplicateRow.__table__  # type: ignore[attr-defined]
Q: sa.Table = QuarantineRow.__table__  # type: ignore[attr-defined]


def _derived(m: Message) -> dict[str, Any]:
    return {"message_id": m.message_id, "date": m.date, "subject": m.subject.raw,
            "from_email": m.from_email, "parsed": encode_message(m), "codec": CODEC_VERSION}


def apply(
    conn: Connection, results: Sequence[tuple[StoredRaw, Message | str, str]]
) -> ReparseOutcome:
    updated = recovered = quarantined = 0
    # One query per table for the whole chunk; per-row statements only for changes.
    stored = {r.id: r for r in conn.execute(sa.select(M).where(
        M.c.id.in_([row.ref for row, _, _ in results if not row.quarantined])))}
    held = {r.id: r for r in conn.execute(sa.select(Q).where(
        Q.c.id.in_([row.ref for row, _, _ in results if row.quarantined])))}
    for row, result, sha in results:
        if not row.quarantined:
            old = stored[row.ref]
            if isinstance(result, str):
                _to_quarantine(conn, old, result, sha)
                quarantined += 1
                continue
            values = _derived(result)
            if values["parsed"] == old.parsed and old.codec == CODEC_VERSION:
                continue
            clash = conn.execute(sa.select(M.c.id).where(
                M.c.message_id == result.message_id, M.c.id != row.ref)).first()
            if clash is not None:
                # The fixed parser says this is another copy of a stored message.
                _to_duplicate(conn, old, result, sha)
                conn.execute(sa.delete(M).where(M.c.id == row.ref))
            else:
                conn.execute(sa.update(M).where(M.c.id == row.ref).values(**values))
            updated += 1
            continue
        old = held[row.ref]
        if isinstance(result, str):
            if result != old.reason:
                conn.execute(sa.update(Q).where(Q.c.id == row.ref).values(reason=result))
            continue
        if conn.execute(sa.select(M.c.id).where(M.c.message_id == result.message_id)).first():
            _to_duplicate(conn, old, result, sha)
        else:
            conn.execute(sa.insert(M).values(
                list_name=old.list_name, sha256=sha, raw=old.raw, raw_codec=old.raw_codec,
                origin=old.origin,
                received=old.received, deleted=False, duplicates=0, **_derived(result)))
        conn.execute(sa.delete(Q).where(Q.c.id == row.ref))
        recovered += 1
    return ReparseOutcome(updated, recovered, quarantined)


def _to_quarantine(conn: Connection, old: Any, reason: str, sha: str) -> None:
    if conn.execute(sa.select(Q.c.id).where(Q.c.sha256 == sha)).first() is None:
        conn.execute(sa.insert(Q).values(
            sha256=sha, message_id=old.message_id, list_name=old.list_name, reason=reason,
            raw=old.raw, raw_codec=old.raw_codec, origin=old.origin, received=old.received))
    conn.execute(sa.delete(M).where(M.c.id == old.id))


def _to_duplicate(conn: Connection, old: Any, m: Message, sha: str) -> None:
    """Record `old` (a message or quarantine row) as another copy of `m`'s Message-ID."""
    if conn.execute(sa.select(D.c.id).where(D.c.sha256 == sha)).first() is None:
        conn.execute(sa.insert(D).values(
            message_id=m.message_id, list_name=old.list_name, sha256=sha, raw=old.raw,
            raw_codec=old.raw_codec, origin=old.origin, received=old.received))
        conn.execute(sa.update(M).where(M.c.message_id == m.message_id)
                     .values(duplicates=M.c.duplicates + 1))
