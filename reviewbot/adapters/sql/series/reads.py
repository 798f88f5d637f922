"""Reads both the refresh and the queries make: actions, commits, routing, members.

Every function takes an open connection and bounded lists of ids (IN lists in
chunks), so nothing here ever loads a whole table.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from reviewbot.adapters.sql.graph import chunks
from reviewbot.adapters.sql.schema.backlog import SeriesActionRow
from reviewbot.adapters.sql.schema.codec import decode_message
from reviewbot.adapters.sql.schema.series import SeriesRow, SubsystemRow
from reviewbot.adapters.sql.schema.tables import MessageRow
from reviewbot.adapters.sql.trees.applied import APPLIED
from reviewbot.core.backlog.events import EventKind, OverrideAction, PatchCommit, SeriesEvent
from reviewbot.core.maintainers.subsystems import SeriesRouting, SubsystemRoute
from reviewbot.core.model import Message, MessageId, SeriesId

A: sa.Table = SeriesActionRow.__table__  # type: ignore[attr-defined]
M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
SUB: sa.Table = SubsystemRow.__table__  # type: ignore[attr-defined]


def dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def actions(conn: Connection, series_ids: Sequence[str]) -> dict[SeriesId, list[SeriesEvent]]:
    out: dict[SeriesId, list[SeriesEvent]] = {}
    for part in chunks(sorted(set(series_ids))):
        for r in conn.execute(sa.select(A).where(A.c.series_id.in_(part)).order_by(A.c.id)):
            out.setdefault(SeriesId(r.series_id), []).append(SeriesEvent(
                at=r.at, kind=EventKind(r.kind), actor=r.actor,
                action=OverrideAction(r.action) if r.action else None,
                until=r.until, target=r.target, note=r.note, ref=f"action {r.id}"))
    return out


def commits(conn: Connection, message_ids: Sequence[str]) -> list[PatchCommit]:
    out: list[PatchCommit] = []
    for part in chunks(sorted(set(message_ids))):
        for r in conn.execute(
                sa.select(APPLIED.c.message_id, APPLIED.c.sha, APPLIED.c.branch,
                          APPLIED.c.commit_date, APPLIED.c.first_seen)
                .where(APPLIED.c.message_id.in_(part))
                .order_by(APPLIED.c.commit_date, APPLIED.c.sha, APPLIED.c.id)):
            # Committed at commit_date, but never later than we saw it (clock skew).
            out.append(PatchCommit(MessageId(r.message_id), r.sha, r.branch,
                                   min(r.commit_date, r.first_seen)))
    return out


def encode_routes(routing: SeriesRouting) -> str:
    return dump({"r": [[r.section, r.is_taker] for r in routing.routes],
                 "u": list(routing.unowned)})


def sections(conn: Connection, names: Sequence[str]) -> dict[str, SubsystemRoute]:
    """name -> a SubsystemRoute template (is_taker False) from the subsystem table."""
    out: dict[str, SubsystemRoute] = {}
    for part in chunks(sorted(set(names))):
        for r in conn.execute(sa.select(SUB).where(SUB.c.name.in_(part))):
            out[r.name] = SubsystemRoute(r.name, False, tuple(json.loads(r.lists)),
                                         tuple(json.loads(r.maintainers)),
                                         tuple(json.loads(r.reviewers)))
    return out


def decode_routes(texts: dict[SeriesId, str], conn: Connection) -> dict[SeriesId, SeriesRouting]:
    parsed = {sid: json.loads(text) for sid, text in texts.items()}
    known = sections(conn, [name for d in parsed.values() for name, _ in d["r"]])
    out: dict[SeriesId, SeriesRouting] = {}
    for sid, d in parsed.items():
        routes = []
        for name, taker in d["r"]:
            base = known.get(name, SubsystemRoute(name, False, (), (), ()))
            routes.append(SubsystemRoute(name, bool(taker), base.lists, base.maintainers,
                                         base.reviewers))
        out[sid] = SeriesRouting(tuple(routes), tuple(d["u"]))
    return out


def routing(conn: Connection, series_ids: Sequence[str]) -> dict[SeriesId, SeriesRouting]:
    texts: dict[SeriesId, str] = {}
    for part in chunks(sorted(set(series_ids))):
        texts.update({SeriesId(r[0]): r[1] for r in conn.execute(
            sa.select(S.c.series_id, S.c.routes).where(S.c.series_id.in_(part)))})
    return decode_routes(texts, conn)


def members(conn: Connection, series_rows: Sequence[int]) -> dict[int, list[Message]]:
    """series row id -> its live member messages, in (date, Message-ID) order."""
    out: dict[int, list[Message]] = {}
    for part in chunks(sorted(set(series_rows))):
        for series, parsed in conn.execute(
                sa.select(M.c.series, M.c.parsed)
                .where(M.c.series.in_(part), M.c.deleted == sa.false())):
            out.setdefault(series, []).append(decode_message(parsed))
    for msgs in out.values():
        msgs.sort(key=lambda m: (m.date, m.message_id))
    return out
