"""The SeriesStore port: what a refresh reads (dirty components) and writes (series).

Writes are optimistic: a refresh computes outside any lock, then stores a
component's series only if the component is still at the generation it read
(under the graph lock, so no batch can change it in between).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from reviewbot.adapters.sql import graph
from reviewbot.adapters.sql.graph import chunks
from reviewbot.adapters.sql.mail import state as mailstate
from reviewbot.adapters.sql.schema.backlog import PersonAliasRow, SeriesActionRow
from reviewbot.adapters.sql.schema.codec import decode_message
from reviewbot.adapters.sql.schema.rows import (
    ALIASES_KEY,
    CONTEXT_KEY,
    PEOPLE_KEY,
    get_meta,
    set_meta,
)
from reviewbot.adapters.sql.schema.series import (
    ComponentRow,
    PersonRow,
    SeriesRow,
    SeriesSectionRow,
    SubsystemRow,
    micros,
)
from reviewbot.adapters.sql.schema.seriescodec import (
    decode_series,
    decode_standing,
    encode_series,
    encode_standing,
)
from reviewbot.adapters.sql.schema.tables import MessageRow
from reviewbot.adapters.sql.series import reads
from reviewbot.core.backlog.events import PatchCommit, SeriesEvent
from reviewbot.core.maintainers.sections import Section
from reviewbot.core.maintainers.subsystems import SeriesRouting, list_address
from reviewbot.core.model import Message, SeriesId
from reviewbot.ports import ComponentResult, DirtyComponent, SeriesRecord

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
SEC: sa.Table = SeriesSectionRow.__table__  # type: ignore[attr-defined]
SUB: sa.Table = SubsystemRow.__table__  # type: ignore[attr-defined]
COMP: sa.Table = ComponentRow.__table__  # type: ignore[attr-defined]
PERSON: sa.Table = PersonRow.__table__  # type: ignore[attr-defined]
ALIAS: sa.Table = PersonAliasRow.__table__  # type: ignore[attr-defined]
A: sa.Table = SeriesActionRow.__table__  # type: ignore[attr-defined]

ALIASES_HASH_KEY = "aliases_hash"


class SqlSeriesStore:
    """Construct with the engine of an opened (migrated) store; no I/O here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._listed: tuple[str | None, list[str]] | None = None

    # -- context and people -------------------------------------------------------

    def context_stamp(self) -> str | None:
        with self.engine.connect() as conn:
            return get_meta(conn, CONTEXT_KEY)

    def save_context(self, stamp: str, sections: Sequence[Section]) -> int:
        rows: dict[str, dict[str, Any]] = {}
        for s in sections:
            rows.setdefault(s.name, {
                "name": s.name, "lists": reads.dump([list_address(v) for v in s.lists]),
                "maintainers": reads.dump(list(s.maintainers)),
                "reviewers": reads.dump(list(s.reviewers))})
        with self.engine.begin() as conn:
            graph.lock_graph(conn)  # several daemons may notice the new context at once
            if get_meta(conn, CONTEXT_KEY) == stamp:
                return 0  # another one recorded it first
            conn.execute(sa.delete(SUB))
            if rows:
                conn.execute(sa.insert(SUB), list(rows.values()))
            marked = graph.touch_all(conn)
            set_meta(conn, CONTEXT_KEY, stamp)
        return marked

    def people_version(self) -> str:
        with self.engine.connect() as conn:
            return get_meta(conn, PEOPLE_KEY) or "0"

    def people(self) -> tuple[dict[tuple[str, str], int], list[str]]:
        with self.engine.connect() as conn:
            uses = {(r.name_key, r.address): r.uses for r in conn.execute(sa.select(PERSON))}
            stamp = get_meta(conn, CONTEXT_KEY)
            if self._listed is None or self._listed[0] != stamp:
                listed: list[str] = []
                for m, r in conn.execute(sa.select(SUB.c.maintainers, SUB.c.reviewers)
                                         .order_by(SUB.c.name)):
                    listed += json.loads(m) + json.loads(r)
                self._listed = (stamp, listed)  # changes only with MAINTAINERS
        return uses, self._listed[1]

    def aliases(self) -> tuple[str | None, dict[str, str]]:
        with self.engine.connect() as conn:
            version = get_meta(conn, ALIASES_KEY)
            return version, {r[0]: r[1] for r in conn.execute(
                sa.select(ALIAS.c.address, ALIAS.c.canonical))}

    def save_aliases(self, version: str, aliases: Mapping[str, str],
                     changed: Collection[str], digest: str) -> int:
        with self.engine.begin() as conn:
            graph.lock_graph(conn)
            gone = sorted(changed)  # only what changed is rewritten
            for part in chunks(gone):
                conn.execute(sa.delete(ALIAS).where(ALIAS.c.address.in_(part)))
            rows = [{"address": a, "canonical": aliases[a]} for a in gone if a in aliases]
            if rows:
                conn.execute(sa.insert(ALIAS), rows)
            comps: set[int] = set()
            for addr in sorted(changed):
                comps.update(conn.execute(sa.select(S.c.comp).where(
                    S.c.actors.contains(f" {addr} "))).scalars())
            graph.touch(conn, comps)
            set_meta(conn, ALIASES_KEY, version)
            set_meta(conn, ALIASES_HASH_KEY, digest)
        return len(comps)

    # -- dirty components -----------------------------------------------------------

    def dirty_components(self, max_messages: int) -> list[DirtyComponent]:
        out: list[DirtyComponent] = []
        total = 0
        with self.engine.connect() as conn:
            result = conn.execute(sa.select(COMP.c.id, COMP.c.gen, COMP.c.size)
                                  .where(COMP.c.dirty == sa.true()).order_by(COMP.c.id)
                                  .execution_options(yield_per=500))
            for comp, gen, size in result:
                if out and total + size > max_messages:
                    break
                out.append(DirtyComponent(comp, gen))
                total += size
            result.close()
        return out

    def component_messages(self, comps: Sequence[int]) -> dict[int, list[Message]]:
        out: dict[int, list[Message]] = {c: [] for c in comps}
        with self.engine.connect() as conn:
            for part in chunks(sorted(comps)):
                for comp, parsed in conn.execute(
                        sa.select(M.c.comp, M.c.parsed)
                        .where(M.c.comp.in_(part), M.c.deleted == sa.false())
                        .order_by(M.c.id)):
                    out[comp].append(decode_message(parsed))
        return out

    def component_series_ids(self, comps: Sequence[int]) -> list[SeriesId]:
        with self.engine.connect() as conn:
            return [SeriesId(s) for part in chunks(sorted(comps)) for s in conn.execute(
                sa.select(S.c.series_id).where(S.c.comp.in_(part))).scalars()]

    def actions(self, series_ids: Sequence[str]) -> dict[SeriesId, list[SeriesEvent]]:
        with self.engine.connect() as conn:
            return reads.actions(conn, series_ids)

    def commits(self, message_ids: Sequence[str]) -> list[PatchCommit]:
        with self.engine.connect() as conn:
            return reads.commits(conn, message_ids)

    def stored_routes(self, series_ids: Sequence[str]) -> dict[SeriesId, tuple[str, str]]:
        out: dict[SeriesId, tuple[str, str]] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(series_ids))):
                for sid, fh, stamp in conn.execute(
                        sa.select(S.c.series_id, S.c.files_hash, S.c.route_stamp)
                        .where(S.c.series_id.in_(part))):
                    out[SeriesId(sid)] = (fh, stamp)
        return out

    def routing(self, series_ids: Sequence[str]) -> dict[SeriesId, SeriesRouting]:
        with self.engine.connect() as conn:
            return reads.routing(conn, series_ids)

    def records(self) -> list[SeriesRecord]:
        """Every stored series as the refresh stored it (for checks; loads them all)."""
        out: list[SeriesRecord] = []
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(S).order_by(S.c.series_id)).all()
            members = reads.members(conn, [r.id for r in rows])
            routing = reads.decode_routes({SeriesId(r.series_id): r.routes for r in rows}, conn)
        for r in rows:
            mine = tuple(m.message_id for m in members.get(r.id, ()))
            out.append(SeriesRecord(
                series=decode_series(r.doc, mine), routing=routing[SeriesId(r.series_id)],
                files_hash=r.files_hash, route_stamp=r.route_stamp, policy=r.policy,
                ignored=r.ignored,
                standing=decode_standing(r.standing) if r.standing is not None else None,
                actors=tuple(r.actors.split())))
        return out

    # -- writing a refresh ------------------------------------------------------------

    def save_components(self, results: Sequence[ComponentResult],
                        rekey: Mapping[SeriesId, SeriesId], aliases: str) -> set[int]:
        with self.engine.begin() as conn:
            graph.lock_graph(conn)
            if get_meta(conn, ALIASES_HASH_KEY) not in (None, aliases):
                return set()  # computed with a map another process has since replaced
            current: dict[int, tuple[int, bool]] = {}
            for part in chunks(sorted(r.comp for r in results)):
                current.update({r.id: (r.gen, r.dirty) for r in conn.execute(
                    sa.select(COMP.c.id, COMP.c.gen, COMP.c.dirty).where(COMP.c.id.in_(part)))})
            ok = [r for r in results if current.get(r.comp) == (r.gen, True)]
            if not ok:
                return set()
            comps = sorted(r.comp for r in ok)
            records = [rec for r in ok for rec in r.series]
            roots = _row_ids(conn, [rec.series.series_id for rec in records])
            _drop_series(conn, comps, list(roots.values()))
            comp_of = {rec.series.series_id: r.comp for r in ok for rec in r.series}
            if records:
                conn.execute(sa.insert(S), [_series_row(rec, roots[rec.series.series_id],
                                                        comp_of[rec.series.series_id])
                                            for rec in records])
                sections = [{"section": route.section, "series": roots[rec.series.series_id],
                             "is_taker": route.is_taker}
                            for rec in records for route in rec.routing.routes]
                if sections:
                    conn.execute(sa.insert(SEC), _unique_sections(sections))
                mailstate.index_series(conn, records, roots)  # reviewer suggestions, reports
            for part in chunks(comps):
                conn.execute(sa.update(M).where(M.c.comp.in_(part), M.c.series.is_not(None))
                             .values(series=None))
            placed = [{"mid": mid, "sid": roots[rec.series.series_id]}
                      for rec in records for mid in rec.series.members]
            if placed:
                conn.execute(sa.update(M).where(M.c.message_id == sa.bindparam("mid"))
                             .values(series=sa.bindparam("sid")), placed)
            for old, new in sorted(rekey.items()):
                if new in comp_of:
                    conn.execute(sa.update(A).where(A.c.series_id == old).values(series_id=new))
            conn.execute(sa.update(COMP).where(COMP.c.id == sa.bindparam("cid"),
                                               COMP.c.gen == sa.bindparam("g"))
                         .values(dirty=False), [{"cid": r.comp, "g": r.gen} for r in ok])
        return set(comps)


def _row_ids(conn: Connection, message_ids: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in chunks(sorted(set(message_ids))):
        out.update({r[0]: r[1] for r in conn.execute(
            sa.select(M.c.message_id, M.c.id).where(M.c.message_id.in_(part)))})
    return out


def _drop_series(conn: Connection, comps: Sequence[int], rows: Sequence[int]) -> None:
    """Remove the components' stored series, and any row the new series ids hold."""
    old: set[int] = set(rows)
    for part in chunks(list(comps)):
        old.update(conn.execute(sa.select(S.c.id).where(S.c.comp.in_(part))).scalars())
    mailstate.drop_series(conn, sorted(old))
    for part in chunks(sorted(old)):
        conn.execute(sa.delete(SEC).where(SEC.c.series.in_(part)))
        conn.execute(sa.delete(S).where(S.c.id.in_(part)))


def _unique_sections(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for r in rows:
        seen.setdefault((r["section"], r["series"]), r)
    return list(seen.values())


def _series_row(rec: SeriesRecord, row_id: int, comp: int) -> dict[str, Any]:
    s, st = rec.series, rec.standing
    return {
        "id": row_id, "series_id": s.series_id, "comp": comp, "title": s.title,
        "version": s.version, "total": s.total, "patch_count": len(s.patches),
        "author_name": s.author_name, "author_email": s.author_email, "date": s.date,
        "is_rfc": s.is_rfc, "superseded_by": s.superseded_by, "doc": encode_series(s),
        "files_hash": rec.files_hash, "route_stamp": rec.route_stamp,
        "routes": reads.encode_routes(rec.routing), "policy": rec.policy,
        "ignored": rec.ignored,
        "state": st.state.value if st else "unknown", "turn": st.turn.value if st else "nobody",
        "can_open": st.can_be_open if st else False,
        "posted_us": micros(st.posted_at if st else s.date),
        "last_event_us": micros(st.last_event_at if st else s.date),
        "first_review_us": micros(st.first_review_at) if st and st.first_review_at else None,
        "applied_us": micros(st.applied_at) if st and st.applied_at else None,
        "standing": encode_standing(st) if st else None,
        "actors": " " + " ".join(rec.actors) + " ",
    }
