"""The ActionStore port: manual actions, stored with their actor and time."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql import graph
from reviewbot.adapters.sql.schema.backlog import SeriesActionRow
from reviewbot.adapters.sql.schema.series import SeriesRow
from reviewbot.core.backlog.events import SeriesEvent

A: sa.Table = SeriesActionRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]


class SqlActions:
    """Construct with the engine of an opened (migrated) store; no I/O here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_action(self, series_id: str, event: SeriesEvent) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(A).values(
                series_id=series_id, kind=event.kind.value, actor=event.actor, at=event.at,
                action=event.action.value if event.action else None, until=event.until,
                target=event.target, note=event.note))
            graph.touch(conn, conn.execute(sa.select(S.c.comp).where(
                S.c.series_id == series_id)).scalars())
