"""Apply reparse results: refresh parsed columns, move mail in or out of quarantine.

Raw bytes (or their reference) are moved, never dropped: a stored message that
no longer parses goes to quarantine, a quarantined mail that now parses becomes
a message (or a recorded duplicate copy when its Message-ID is already stored).
A reparse can change any message's threading keys, so afterwards every thread
component is rebuilt from scratch (`relink_all`) and reassembled.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from reviewbot.adapters.sql import graph
from reviewbot.adapters.sql.schema.codec import CODEC_VERSION, decode_message, encode_message
from reviewbot.adapters.sql.schema.rows import add_person_uses, subject_key
from reviewbot.adapters.sql.schema.series import (
    ComponentRow,
    PersonRow,
    SeriesRow,
    SeriesSectionRow,
    ThreadKeyRow,
)
from reviewbot.adapters.sql.schema.tables import DuplicateRow, MessageRow, QuarantineRow
from reviewbot.core.maintainers.people import person_uses
from reviewbot.core.model import Message, MessageKind
from reviewbot.core.series.closure import linkage_keys
from reviewbot.ports import ReparseOutcome, StoredRaw

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
D: sa.Table = DuplicateRow.__table__  # type: ignore[attr-defined]
Q: sa.Table = QuarantineRow.__table__  # type: ignore[attr-defined]
SECTION: sa.Table = SeriesSectionRow.__table__  # type: ignore[attr-defined]
SERIES: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
KEY: sa.Table = ThreadKeyRow.__table__  # type: ignore[attr-defined]
COMP: sa.Table = ComponentRow.__table__  # type: ignore[attr-defined]
PERSON: sa.Table = PersonRow.__table__  # type: ignore[attr-defined]


def _derived(m: Message) -> dict[str, Any]:
    return {"message_id": m.message_id, "date": m.date, "parsed": encode_message(m),
            "codec": CODEC_VERSION, "subject_key": subject_key(m),
            "patch_id": m.patch_id if m.kind is MessageKind.PATCH else None}


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


def relink_all(engine: Engine, chunk: int) -> int:
    """Forget every component, series and person count; link all messages again.

    Every component comes out dirty, so the next refresh reassembles everything.
    Returns the number of messages linked.
    """
    with engine.begin() as conn:
        graph.lock_graph(conn)
        for table in (SECTION, SERIES, KEY, COMP, PERSON):
            conn.execute(sa.delete(table))
        conn.execute(sa.update(M).values(comp=None, series=None))
    last, linked = 0, 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(sa.select(M.c.id, M.c.parsed, M.c.deleted)
                                .where(M.c.id > last).order_by(M.c.id).limit(chunk)).all()
            if not rows:
                return linked
            last = rows[-1].id
            messages = [(r.id, r.deleted, decode_message(r.parsed)) for r in rows]
            comps = graph.link(conn, [(m.message_id, linkage_keys(m)) for _, _, m in messages])
            conn.execute(sa.update(M).where(M.c.id == sa.bindparam("rid"))
                         .values(comp=sa.bindparam("c")),
                         [{"rid": rid, "c": comps[m.message_id]} for rid, _, m in messages])
            add_person_uses(conn, person_uses([m for _, gone, m in messages if not gone]))
            linked += len(rows)
