"""Reads for the HTTP surface (WebReads) and the stored poll log (PollLog).

Every read goes through an index or a small table: section membership through
series_section, documents only for the series asked, the outbox grouped by its
indexed columns. Poll outcomes live in `meta` rows ("poll:<source key>" -> JSON),
one per source, so no migration is needed and any process (`serve`, `health`)
sees what the daemon's polls came to.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql.graph import chunks
from reviewbot.adapters.sql.mail.outbox import OutboxRow
from reviewbot.adapters.sql.schema.series import from_micros
from reviewbot.adapters.sql.schema.seriescodec import decode_series
from reviewbot.adapters.sql.series.queries import SEC, SUB, M, S
from reviewbot.core.maintainers.subsystems import SubsystemRoute
from reviewbot.core.model import Series, SeriesId

OUT: sa.Table = OutboxRow.__table__  # type: ignore[attr-defined]


class SqlWebReads:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.select(sa.literal(1))).scalar_one()

    def section_members(self, sections: Collection[str]) -> dict[str, frozenset[SeriesId]]:
        out: dict[str, set[SeriesId]] = {s: set() for s in sections}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(sections))):
                for section, sid in conn.execute(
                        sa.select(SEC.c.section, S.c.series_id).join(S, S.c.id == SEC.c.series)
                        .where(SEC.c.section.in_(part))):
                    out[section].add(SeriesId(sid))
        return {k: frozenset(v) for k, v in out.items()}

    def sections_of(self, series_ids: Collection[str]) -> dict[SeriesId, tuple[str, ...]]:
        found: dict[SeriesId, list[tuple[bool, str]]] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(series_ids))):
                for sid, section, taker in conn.execute(
                        sa.select(S.c.series_id, SEC.c.section, SEC.c.is_taker)
                        .join(S, S.c.id == SEC.c.series).where(S.c.series_id.in_(part))):
                    found.setdefault(SeriesId(sid), []).append((not taker, section))
        return {sid: tuple(s for _, s in sorted(v)) for sid, v in found.items()}

    def subsystems(self) -> list[SubsystemRoute]:
        with self.engine.connect() as conn:
            return [SubsystemRoute(r.name, False, tuple(json.loads(r.lists)),
                                   tuple(json.loads(r.maintainers)),
                                   tuple(json.loads(r.reviewers)))
                    for r in conn.execute(sa.select(SUB).order_by(SUB.c.name))]

    def series_docs(self, series_ids: Collection[str]) -> dict[SeriesId, Series]:
        out: dict[SeriesId, Series] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(series_ids))):
                for sid, doc in conn.execute(sa.select(S.c.series_id, S.c.doc)
                                             .where(S.c.series_id.in_(part))):
                    out[SeriesId(sid)] = decode_series(doc)
        return out

    def series_of_actor(self, address: str) -> list[SeriesId]:
        with self.engine.connect() as conn:
            return [SeriesId(sid) for sid in conn.execute(
                sa.select(S.c.series_id).where(S.c.actors.contains(f" {address.lower()} "))
                .order_by(S.c.posted_us)).scalars()]

    def superseded_at(self, series_ids: Collection[str]) -> dict[SeriesId, datetime]:
        newer = S.alias("newer")
        out: dict[SeriesId, datetime] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(series_ids))):
                for sid, at in conn.execute(
                        sa.select(S.c.series_id, newer.c.posted_us)
                        .join(newer, newer.c.series_id == S.c.superseded_by)
                        .where(S.c.series_id.in_(part))):
                    out[SeriesId(sid)] = from_micros(at)
        return out

    def newest_mail(self) -> dict[str, datetime]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(M.c.list_name, sa.func.max(M.c.received),
                                          sa.func.max(M.c.date)).group_by(M.c.list_name))
            return {name: received or date for name, received, date in rows
                    if (received or date) is not None}

    def outbox_counts(self) -> dict[tuple[str, str], int]:
        with self.engine.connect() as conn:
            return {(kind, state): int(n) for kind, state, n in conn.execute(
                sa.select(OUT.c.kind, OUT.c.state, sa.func.count())
                .group_by(OUT.c.kind, OUT.c.state))}
