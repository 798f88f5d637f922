"""The BacklogReader port: stored series and standings, read through indexes.

No query loads a whole table: listings read the columns of one subsystem's
series (through series_section), and documents only for the rows shown.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from reviewbot.adapters.sql.graph import COMP, chunks
from reviewbot.adapters.sql.schema.backlog import PersonAliasRow
from reviewbot.adapters.sql.schema.rows import ALIASES_KEY, CONTEXT_KEY, PEOPLE_KEY, get_meta
from reviewbot.adapters.sql.schema.series import (
    SeriesRow,
    SeriesSectionRow,
    SubsystemRow,
    from_micros,
    micros,
)
from reviewbot.adapters.sql.schema.seriescodec import decode_series, decode_standing
from reviewbot.adapters.sql.schema.tables import (
    CursorRow,
    DuplicateRow,
    MessageRow,
    QuarantineRow,
)
from reviewbot.adapters.sql.series import reads
from reviewbot.core.backlog.standing import Standing
from reviewbot.core.maintainers.people import aliases_version
from reviewbot.core.model import MessageId, Series, SeriesId
from reviewbot.ports import SeriesFigure, SeriesHistory, SeriesSummary, StoredSeries

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
D: sa.Table = DuplicateRow.__table__  # type: ignore[attr-defined]
Q: sa.Table = QuarantineRow.__table__  # type: ignore[attr-defined]
C: sa.Table = CursorRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
SEC: sa.Table = SeriesSectionRow.__table__  # type: ignore[attr-defined]
SUB: sa.Table = SubsystemRow.__table__  # type: ignore[attr-defined]
ALIAS: sa.Table = PersonAliasRow.__table__  # type: ignore[attr-defined]

_FIGURE_COLUMNS = (S.c.series_id, S.c.policy, S.c.ignored, S.c.state, S.c.can_open,
                   S.c.superseded_by, S.c.posted_us, S.c.last_event_us, S.c.first_review_us,
                   S.c.applied_us)


def _figure(r: Any) -> SeriesFigure:
    return SeriesFigure(SeriesId(r.series_id), r.policy, r.ignored, r.state, r.can_open,
                        r.superseded_by is not None, from_micros(r.posted_us),
                        from_micros(r.last_event_us),
                        from_micros(r.first_review_us) if r.first_review_us is not None else None,
                        from_micros(r.applied_us) if r.applied_us is not None else None)


def clean_id(text: str) -> str:
    return text.strip().removeprefix("<").removesuffix(">")


class SqlBacklogReader:
    """Construct with the engine of an opened (migrated) store; no I/O here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # MAINTAINERS sections (name -> lists) as of a context stamp: they change only
        # when the context does, and a query reading them all cost ~20 ms.
        self._sections: tuple[str | None, dict[str, list[str]]] | None = None

    def up_to_date(self, stamp: str) -> bool:
        """Nothing for a refresh to do: the standings were computed under `stamp`, the
        alias map is current and no thread component is dirty. A query process asks this
        first, so it never loads the refresh machinery (~130 ms of imports) for nothing."""
        with self.engine.connect() as conn:
            if get_meta(conn, CONTEXT_KEY) != stamp:
                return False
            people = get_meta(conn, PEOPLE_KEY) or "0"
            if get_meta(conn, ALIASES_KEY) != aliases_version(people, stamp):
                return False
            dirty = conn.execute(sa.select(COMP.c.id).where(COMP.c.dirty == sa.true())
                                 .limit(1)).first()
        return dirty is None

    def _section_lists(self, conn: Connection) -> dict[str, list[str]]:
        stamp = get_meta(conn, CONTEXT_KEY)
        if self._sections is None or self._sections[0] != stamp:
            self._sections = (stamp, {name: json.loads(lists) for name, lists in conn.execute(
                sa.select(SUB.c.name, SUB.c.lists).order_by(SUB.c.name))})
        return self._sections[1]

    def find_series(self, message_id: str) -> SeriesId | None:
        with self.engine.connect() as conn:
            sid = conn.execute(sa.select(S.c.series_id).join(M, M.c.series == S.c.id)
                               .where(M.c.message_id == clean_id(message_id))).scalar()
        return SeriesId(sid) if sid is not None else None

    def has_message(self, message_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(M.c.id).where(
                M.c.message_id == clean_id(message_id))).first() is not None

    def resolve_subsystem(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        key = name.strip().casefold()
        named: list[str] = []
        listing: list[str] = []
        with self.engine.connect() as conn:
            for section, lists in self._section_lists(conn).items():
                if section.casefold() == key:
                    named.append(section)
                elif key in lists:
                    listing.append(section)
        if named:
            return named[0], tuple(named)
        if listing:  # a list address gathers every section that lists it
            return key, tuple(listing)
        return None

    def series_figures(self, sections: Sequence[str] | None, posted_by: datetime, *,
                       open_only: bool = False) -> list[SeriesFigure]:
        by = micros(posted_by)
        q = (sa.select(*_FIGURE_COLUMNS).where(S.c.posted_us <= by)
             .order_by(S.c.posted_us, S.c.series_id))
        if open_only:
            q = q.where(sa.or_(S.c.can_open == sa.true(), S.c.last_event_us > by))
        if sections is not None:
            q = q.where(S.c.id.in_(sa.select(SEC.c.series).where(
                SEC.c.section.in_(sorted(set(sections))))))
        with self.engine.connect() as conn:
            return [_figure(r) for r in conn.execute(q)]

    def series_rows(self, series_ids: Sequence[str]) -> dict[SeriesId, StoredSeries]:
        rows: dict[SeriesId, Any] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(series_ids))):
                for r in conn.execute(sa.select(
                        *_FIGURE_COLUMNS, S.c.title, S.c.version, S.c.patch_count, S.c.total,
                        S.c.author_name, S.c.author_email, S.c.date, S.c.routes)
                        .where(S.c.series_id.in_(part))):
                    rows[SeriesId(r.series_id)] = r
            routing = reads.decode_routes({sid: r.routes for sid, r in rows.items()}, conn)
        return {sid: StoredSeries(
            SeriesSummary(sid, r.title, r.version, r.patch_count, r.total, r.author_name,
                          r.author_email, r.date),
            routing[sid], _figure(r)) for sid, r in rows.items()}

    def standings(self, series_ids: Sequence[str]) -> dict[SeriesId, Standing]:
        out: dict[SeriesId, Standing] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(series_ids))):
                for sid, text in conn.execute(sa.select(S.c.series_id, S.c.standing).where(
                        S.c.series_id.in_(part), S.c.standing.is_not(None))):
                    out[SeriesId(sid)] = decode_standing(text)
        return out

    def histories(self, series_ids: Sequence[str]) -> dict[SeriesId, SeriesHistory]:
        out: dict[SeriesId, SeriesHistory] = {}
        with self.engine.connect() as conn:
            docs = _docs(conn, series_ids)
            newer = _docs(conn, [d[1].superseded_by for d in docs.values()
                                 if d[1].superseded_by and d[1].superseded_by not in docs])
            newer.update(docs)
            members = reads.members(conn, [row for row, _, _ in docs.values()])
            postings = [p.message_id for _, s, _ in docs.values() for p in s.patches]
            commits = reads.commits(conn, postings)
            actions = reads.actions(conn, list(docs))
            routing = reads.routing(conn, list(docs))
            for sid, (row, s, policy) in docs.items():
                mine = tuple(members.get(row, ()))
                s = _with_members(s, mine)
                later = newer.get(s.superseded_by) if s.superseded_by else None
                wanted = {p.message_id for p in s.patches}
                out[sid] = SeriesHistory(
                    series=s, members=mine, newer=later[1] if later else None,
                    commits=tuple(c for c in commits if c.message_id in wanted),
                    actions=tuple(actions.get(sid, ())), routing=routing[sid], policy=policy)
        return out

    def aliases(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r[0]: r[1] for r in conn.execute(sa.select(ALIAS.c.address,
                                                               ALIAS.c.canonical))}

    def stats(self) -> dict[str, Any]:
        def count(conn: Connection, table: sa.Table, *where: Any) -> int:
            q = sa.select(sa.func.count()).select_from(table)
            return int(conn.execute(q.where(*where) if where else q).scalar_one())

        with self.engine.connect() as conn:
            states = {r[0]: r[1] for r in conn.execute(
                sa.select(S.c.state, sa.func.count()).group_by(S.c.state))}
            return {
                "messages": count(conn, M, M.c.deleted == sa.false()),
                "deleted": count(conn, M, M.c.deleted == sa.true()),
                "duplicates": count(conn, D),
                "quarantined": count(conn, Q),
                "series": count(conn, S),
                "patches": int(conn.execute(sa.select(sa.func.coalesce(
                    sa.func.sum(S.c.patch_count), 0))).scalar_one()),
                "open": count(conn, S, S.c.can_open == sa.true(), S.c.superseded_by.is_(None),
                              S.c.ignored.is_(None)),
                "states": {k: states[k] for k in sorted(states)},
                "cursors": {r[0]: r[1] for r in conn.execute(
                    sa.select(C.c.key, C.c.cursor).order_by(C.c.key))},
            }


def _docs(conn: Connection, series_ids: Sequence[str]) -> dict[SeriesId, tuple[int, Series, str]]:
    out: dict[SeriesId, tuple[int, Series, str]] = {}
    for part in chunks(sorted(set(series_ids))):
        for row, sid, doc, policy in conn.execute(
                sa.select(S.c.id, S.c.series_id, S.c.doc, S.c.policy)
                .where(S.c.series_id.in_(part))):
            out[SeriesId(sid)] = (row, decode_series(doc), policy)
    return out


def _with_members(s: Series, members: Sequence[Any]) -> Series:
    return replace(s, members=tuple(MessageId(m.message_id) for m in members))
