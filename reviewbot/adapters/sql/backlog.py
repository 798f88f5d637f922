"""The backlog's storage: routing rows, manual actions, aliases, and bulk reads for queries.

Over the same engine as SqlStore. Routing is rewritten whole when its stamp (the
MAINTAINERS version plus the stored series) changes; actions are only appended.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql import series as sqlseries
from reviewbot.adapters.sql.backlogtables import (
    PersonAliasRow,
    SeriesActionRow,
    SeriesRouteRow,
    SeriesUnownedRow,
)
from reviewbot.adapters.sql.codec import decode_message
from reviewbot.adapters.sql.tables import (
    MessageRow,
    MetaRow,
    SeriesMemberRow,
    SeriesPatchRow,
    SeriesRow,
    SeriesTrailerRow,
)
from reviewbot.core.backlog.events import EventKind, OverrideAction, SeriesEvent
from reviewbot.core.maintainers.subsystems import SeriesRouting, SubsystemRoute
from reviewbot.core.model import Message, Series, SeriesId

R: sa.Table = SeriesRouteRow.__table__  # type: ignore[attr-defined]
U: sa.Table = SeriesUnownedRow.__table__  # type: ignore[attr-defined]
A: sa.Table = SeriesActionRow.__table__  # type: ignore[attr-defined]
AL: sa.Table = PersonAliasRow.__table__  # type: ignore[attr-defined]
M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
META: sa.Table = MetaRow.__table__  # type: ignore[attr-defined]
MEM: sa.Table = SeriesMemberRow.__table__  # type: ignore[attr-defined]
P: sa.Table = SeriesPatchRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
T: sa.Table = SeriesTrailerRow.__table__  # type: ignore[attr-defined]
STAMP_KEY = "routing_stamp"
CHUNK = 500


def _chunks(seq: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), CHUNK):
        yield seq[i:i + CHUNK]


def _dump(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


class SqlBacklog:
    """Construct with the engine of an opened (migrated) SqlStore."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- routing ----------------------------------------------------------------

    def series_files(self) -> tuple[dict[SeriesId, tuple[str, ...]], str]:
        """Every stored series' files (all patches together), and a digest of the series."""
        files: dict[SeriesId, set[str]] = {}
        digest = hashlib.sha1(usedforsecurity=False)
        with self.engine.connect() as conn:
            for sid, dig in conn.execute(sa.select(S.c.series_id, S.c.digest)
                                         .order_by(S.c.series_id)):
                files[SeriesId(sid)] = set()
                digest.update(f"{sid}\0{dig}\n".encode())
            for sid, text in conn.execute(sa.select(P.c.series_id, P.c.files)):
                files.setdefault(SeriesId(sid), set()).update(json.loads(text))
        return {k: tuple(sorted(v)) for k, v in files.items()}, digest.hexdigest()

    def people(self) -> list[tuple[str, str]]:
        """(name, address) pairs the store shows: series authors, trailer givers, senders."""
        with self.engine.connect() as conn:
            pairs = [(r[0], r[1]) for r in conn.execute(
                sa.select(S.c.author_name, S.c.author_email).distinct())]
            pairs += [(r[0], r[1]) for r in conn.execute(
                sa.select(T.c.name, T.c.email).distinct())]
            for text in conn.execute(sa.select(M.c.parsed).where(M.c.deleted == sa.false())
                                     ).scalars():
                head = json.loads(text)  # only two fields: no need to decode whole Messages
                pairs.append((head.get("from_name") or "", head.get("from_email") or ""))
        return pairs

    def routing_stamp(self) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(META.c.value).where(META.c.key == STAMP_KEY)).scalar()
        return str(value) if value is not None else None

    def save_routing(self, routing: Mapping[SeriesId, SeriesRouting],
                     aliases: Mapping[str, str], stamp: str) -> None:
        routes = [{"series_id": sid, "section": r.section, "is_taker": r.is_taker,
                   "lists": _dump(list(r.lists)), "maintainers": _dump(list(r.maintainers)),
                   "reviewers": _dump(list(r.reviewers))}
                  for sid, sr in routing.items() for r in sr.routes]
        unowned = [{"series_id": sid, "path": f} for sid, sr in routing.items()
                   for f in sr.unowned]
        with self.engine.begin() as conn:
            for table in (R, U, AL):
                conn.execute(sa.delete(table))
            for table, rows in ((R, routes), (U, unowned), (AL, [
                    {"address": a, "canonical": c} for a, c in sorted(aliases.items())])):
                if rows:
                    conn.execute(sa.insert(table), rows)
            if conn.execute(sa.update(META).where(META.c.key == STAMP_KEY)
                            .values(value=stamp)).rowcount == 0:
                conn.execute(sa.insert(META).values(key=STAMP_KEY, value=stamp))

    def routing(self, sids: Sequence[str] | None = None) -> dict[SeriesId, SeriesRouting]:
        routes: dict[SeriesId, list[SubsystemRoute]] = {}
        unowned: dict[SeriesId, list[str]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(list(sids)) if sids is not None else [None]:
                q = sa.select(R).order_by(R.c.id)
                qu = sa.select(U.c.series_id, U.c.path).order_by(U.c.id)
                if part is not None:
                    q, qu = q.where(R.c.series_id.in_(part)), qu.where(U.c.series_id.in_(part))
                for r in conn.execute(q):
                    routes.setdefault(SeriesId(r.series_id), []).append(SubsystemRoute(
                        r.section, r.is_taker, tuple(json.loads(r.lists)),
                        tuple(json.loads(r.maintainers)), tuple(json.loads(r.reviewers))))
                for sid, path in conn.execute(qu):
                    unowned.setdefault(SeriesId(sid), []).append(path)
        return {sid: SeriesRouting(tuple(routes.get(sid, ())), tuple(unowned.get(sid, ())))
                for sid in {*routes, *unowned}}

    def aliases(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return sqlseries.pairs(conn.execute(sa.select(AL.c.address, AL.c.canonical)))

    # -- manual actions -----------------------------------------------------------

    def add_action(self, series_id: str, event: SeriesEvent) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(A).values(
                series_id=series_id, kind=event.kind.value, actor=event.actor, at=event.at,
                action=event.action.value if event.action else None, until=event.until,
                target=event.target, note=event.note))

    def actions(self, sids: Sequence[str] | None = None) -> dict[SeriesId, list[SeriesEvent]]:
        out: dict[SeriesId, list[SeriesEvent]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(list(sids)) if sids is not None else [None]:
                q = sa.select(A).order_by(A.c.id)
                if part is not None:
                    q = q.where(A.c.series_id.in_(part))
                for r in conn.execute(q):
                    out.setdefault(SeriesId(r.series_id), []).append(SeriesEvent(
                        at=r.at, kind=EventKind(r.kind), actor=r.actor,
                        action=OverrideAction(r.action) if r.action else None,
                        until=r.until, target=r.target, note=r.note, ref=f"action {r.id}"))
        return out

    # -- bulk reads for queries -----------------------------------------------------

    def series(self, sids: Sequence[str] | None = None) -> dict[SeriesId, tuple[Series, str]]:
        """Stored series with their cached state; all of them when `sids` is None."""
        with self.engine.connect() as conn:
            if sids is None:
                sids = list(conn.execute(sa.select(S.c.series_id)).scalars())
            return sqlseries.load_many(conn, list(sids))

    def members(self, sids: Sequence[str]) -> dict[SeriesId, list[Message]]:
        """Each series' live member messages (patches, cover, replies)."""
        out: dict[SeriesId, list[Message]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(list(sids)):
                for sid, text in conn.execute(
                        sa.select(MEM.c.series_id, M.c.parsed)
                        .join(M, M.c.message_id == MEM.c.message_id)
                        .where(MEM.c.series_id.in_(part), M.c.deleted == sa.false())):
                    out.setdefault(SeriesId(sid), []).append(decode_message(text))
        return out

    def open_candidates(self, open_states: Iterable[str]) -> list[SeriesId]:
        """Series whose cached (clock-free) state is open: the only ones a query can find open."""
        with self.engine.connect() as conn:
            return [SeriesId(s) for s in conn.execute(
                sa.select(S.c.series_id).where(S.c.state.in_(sorted(open_states)),
                                               S.c.superseded_by.is_(None))
                .order_by(S.c.date, S.c.series_id)).scalars()]
