"""What operators ask the database: sources and quarantined mail (polls: polllog.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql.schema.codec import unpack_raw
from reviewbot.adapters.sql.schema.tables import CursorRow, QuarantineRow

Q: sa.Table = QuarantineRow.__table__  # type: ignore[attr-defined]
C: sa.Table = CursorRow.__table__  # type: ignore[attr-defined]


def source_keys(engine: Engine) -> list[str]:
    """Every source that was ever ingested (it has a cursor), sorted."""
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(C.c.key)).scalars())


@dataclass(frozen=True, slots=True)
class Quarantined:
    id: int
    reason: str
    list_name: str
    message_id: str | None
    received: datetime | None
    origin: str


@dataclass(frozen=True, slots=True)
class QuarantineReason:
    reason: str
    count: int
    mails: tuple[Quarantined, ...]  # newest first, at most `per_reason`


def _mail(r: Any) -> Quarantined:
    return Quarantined(r.id, r.reason, r.list_name, r.message_id, r.received, r.origin)


def quarantine_reasons(engine: Engine, per_reason: int | None = None) -> list[QuarantineReason]:
    """Every distinct reason with its count (most frequent first) and its mails."""
    cols = (Q.c.id, Q.c.reason, Q.c.list_name, Q.c.message_id, Q.c.received, Q.c.origin)
    with engine.connect() as conn:
        counts = conn.execute(sa.select(Q.c.reason, sa.func.count()).group_by(Q.c.reason)
                              ).all()
        out = []
        for reason, count in sorted(counts, key=lambda c: (-c[1], c[0])):
            query = sa.select(*cols).where(Q.c.reason == reason).order_by(Q.c.id.desc())
            if per_reason is not None:
                query = query.limit(per_reason)
            out.append(QuarantineReason(reason, count,
                                        tuple(_mail(r) for r in conn.execute(query))))
    return out


def find_quarantined(engine: Engine, ident: str) -> list[Quarantined]:
    """Quarantined mail by its number, its Message-ID or a prefix of its sha256."""
    text = ident.strip().removeprefix("#")
    conds = [Q.c.message_id == text.strip("<>")]
    if text.isdigit():
        conds.append(Q.c.id == int(text))
    if len(text) >= 8 and all(c in "0123456789abcdef" for c in text.lower()):
        conds.append(Q.c.sha256.startswith(text.lower()))
    cols = (Q.c.id, Q.c.reason, Q.c.list_name, Q.c.message_id, Q.c.received, Q.c.origin)
    with engine.connect() as conn:
        return [_mail(r) for r in conn.execute(sa.select(*cols).where(sa.or_(*conds))
                                               .order_by(Q.c.id))]


def quarantined_raw(engine: Engine, ids: Iterable[int]) -> dict[int, bytes | None]:
    """The stored bytes of quarantined mail; None for mail kept by reference (read it
    with the RawReader from its origin)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Q.c.id, Q.c.raw, Q.c.raw_codec)
                            .where(Q.c.id.in_(list(ids)))).all()
    return {r.id: unpack_raw(r.raw, r.raw_codec) if r.raw is not None else None for r in rows}
