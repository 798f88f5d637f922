"""What mail to people needs remembered (migration 0008): opt-outs, each digest's counts,
email commands done, and the review index (who reviewed which files, when).

- `mail_optout`: `reviewbot: stop` by mail (or by hand): no more reminders to an
  address, for one series or all (series_id ''). The nag planner reads it.
- `digest_log`: the counts each digest showed, so the next one says what changed.
- `mail_command_log`: every email command with its actor, time and outcome.
- `review_file` / `review_given`: written by the refresh in the same transaction as
  the series (seriesstore.save_components calls `index_series`): the files each
  series touches, and the Reviewed-by/Acked-by given on the list in replies to it
  (not tags carried in a posting: those were given on an earlier version). Reviewer
  suggestions and the cycle report look files up here instead of reading series docs.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from reviewbot.adapters.sql.graph import chunks
from reviewbot.adapters.sql.schema.codec import unpack_raw
from reviewbot.adapters.sql.schema.rows import get_meta, set_meta
from reviewbot.adapters.sql.schema.tables import AwareDateTime, MessageRow
from reviewbot.core.backlog.suggest import PastReview
from reviewbot.core.model import SeriesId, TrailerKind
from reviewbot.ports import CommandRecord, DigestCounts, RawMail, SeriesRecord


def _aware(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(AwareDateTime(), nullable=nullable,
                                                   index=index))


def _text() -> Any:
    return Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))


class OptOutRow(SQLModel, table=True):
    __tablename__ = "mail_optout"
    __table_args__ = (sa.UniqueConstraint("address", "series_id"),)

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(index=True)  # lower-cased
    series_id: str = ""  # '' : every series
    actor: str
    at: datetime = _aware()
    via: str = ""  # the command mail's Message-ID, or "cli"


class DigestLogRow(SQLModel, table=True):
    __tablename__ = "digest_log"

    subsystem: str = Field(primary_key=True)
    period: str = Field(primary_key=True)  # the local date, YYYY-MM-DD
    as_of: datetime = _aware()
    counts: str = _text()  # JSON {state: n}
    series: str = _text()  # JSON [series ids open then]


class CommandLogRow(SQLModel, table=True):
    __tablename__ = "mail_command_log"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True)  # of the command mail
    actor: str
    at: datetime = _aware()
    verb: str
    series_id: str = ""
    line: str = _text()
    done: bool
    outcome: str = _text()


class ReviewFileRow(SQLModel, table=True):
    __tablename__ = "review_file"

    path: str = Field(primary_key=True)
    series: int = Field(primary_key=True, index=True)  # series.id
    series_id: str = Field(index=True)


class ReviewGivenRow(SQLModel, table=True):
    __tablename__ = "review_given"

    id: int | None = Field(default=None, primary_key=True)
    series: int = Field(index=True)  # series.id
    series_id: str
    reviewer: str = Field(index=True)  # lower-cased, before aliasing
    kind: str  # Reviewed-by | Acked-by
    at: datetime = _aware(index=True)  # the date of the mail that gave it
    message_id: str


OPT: sa.Table = OptOutRow.__table__  # type: ignore[attr-defined]
DLOG: sa.Table = DigestLogRow.__table__  # type: ignore[attr-defined]
CLOG: sa.Table = CommandLogRow.__table__  # type: ignore[attr-defined]
RFILE: sa.Table = ReviewFileRow.__table__  # type: ignore[attr-defined]
RGIVEN: sa.Table = ReviewGivenRow.__table__  # type: ignore[attr-defined]
M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]

_REVIEW = (TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY)


# -- the review index, written by the refresh ------------------------------------------

def index_series(conn: Connection, records: Sequence[SeriesRecord],
                 roots: Mapping[str, int]) -> None:
    """Index the files and the review tags given in replies of freshly stored series.
    Call inside the refresh's transaction, after their rows were (re)inserted."""
    files: dict[tuple[str, int], str] = {}
    given: list[dict[str, Any]] = []
    sources: set[str] = set()
    for rec in records:
        s = rec.series
        row = roots[s.series_id]
        postings = {p.message_id for p in s.patches} | (
            {s.cover_message_id} if s.cover_message_id else set())
        author = s.author_email.lower()
        for p in s.patches:
            for f in p.files:
                files.setdefault((f, row), s.series_id)
        seen: set[tuple[str, str, str]] = set()
        for t in (*s.cover_trailers, *(t for p in s.patches for t in p.trailers)):
            if t.kind not in _REVIEW or not t.email or t.source is None \
                    or t.source in postings or t.email.lower() == author:
                continue
            key = (t.email.lower(), t.kind.value, t.source)
            if key in seen:
                continue
            seen.add(key)
            sources.add(t.source)
            given.append({"series": row, "series_id": s.series_id, "reviewer": key[0],
                          "kind": key[1], "message_id": t.source})
    if files:
        conn.execute(sa.insert(RFILE), [{"path": f, "series": r, "series_id": sid}
                                        for (f, r), sid in files.items()])
    if not given:
        return
    dates: dict[str, datetime] = {}
    for part in chunks(sorted(sources)):
        dates.update({r[0]: r[1] for r in conn.execute(
            sa.select(M.c.message_id, M.c.date).where(M.c.message_id.in_(part)))})
    rows = [{**g, "at": dates[g["message_id"]]} for g in given if g["message_id"] in dates]
    if rows:
        conn.execute(sa.insert(RGIVEN), rows)


def drop_series(conn: Connection, rows: Sequence[int]) -> None:
    """Forget the index of series rows the refresh is about to replace or delete."""
    for part in chunks(sorted(set(rows))):
        conn.execute(sa.delete(RFILE).where(RFILE.c.series.in_(part)))
        conn.execute(sa.delete(RGIVEN).where(RGIVEN.c.series.in_(part)))


class SqlMailState:
    """OptOuts, DigestLog, CommandJournal and ReviewIndex (reviewbot/ports.py)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- opt-outs -------------------------------------------------------------------

    def stop(self, address: str, series_id: str | None, actor: str, at: datetime,
             via: str) -> bool:
        """Record a stop; False if the same stop was already recorded."""
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(OPT).values(
                    address=address.lower(), series_id=series_id or "", actor=actor.lower(),
                    at=at, via=via))
        except IntegrityError:
            return False
        return True

    def stopped(self, addresses: Collection[str] | None = None) -> set[tuple[str, str | None]]:
        """(address, series id or None for all) of every stop (of these addresses)."""
        q = sa.select(OPT.c.address, OPT.c.series_id)
        out: set[tuple[str, str | None]] = set()
        with self.engine.connect() as conn:
            if addresses is None:
                rows = list(conn.execute(q))
            else:
                rows = [r for part in chunks(sorted({a.lower() for a in addresses}))
                        for r in conn.execute(q.where(OPT.c.address.in_(part)))]
        for address, sid in rows:
            out.add((address, sid or None))
        return out

    # -- digests ------------------------------------------------------------------------

    def record_digest(self, counts: DigestCounts) -> None:
        values = {"as_of": counts.as_of, "counts": json.dumps(dict(counts.counts)),
                  "series": json.dumps(list(counts.series))}
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(DLOG).where(
                DLOG.c.subsystem == counts.subsystem, DLOG.c.period == counts.period)
                .values(**values)).rowcount
            if not done:
                conn.execute(sa.insert(DLOG).values(subsystem=counts.subsystem,
                                                    period=counts.period, **values))

    def previous_digest(self, subsystem: str, before: str) -> DigestCounts | None:
        """The last digest of `subsystem` for a period before `before` (a local date)."""
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(DLOG).where(DLOG.c.subsystem == subsystem,
                                                   DLOG.c.period < before)
                             .order_by(DLOG.c.period.desc()).limit(1)).first()
        if r is None:
            return None
        return DigestCounts(r.subsystem, r.period, r.as_of, json.loads(r.counts),
                            tuple(json.loads(r.series)))

    # -- email commands ---------------------------------------------------------------

    def record_command(self, record: CommandRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(CLOG).values(
                message_id=record.message_id, actor=record.actor, at=record.at,
                verb=record.verb, series_id=record.series_id or "", line=record.line,
                done=record.done, outcome=record.outcome))

    def commands(self, since: datetime | None = None) -> list[CommandRecord]:
        q = sa.select(CLOG).order_by(CLOG.c.id)
        if since is not None:
            q = q.where(CLOG.c.at >= since)
        with self.engine.connect() as conn:
            return [CommandRecord(r.message_id, r.actor, r.at, r.verb, r.series_id or None,
                                  r.line, r.done, r.outcome) for r in conn.execute(q)]

    # -- the review index -----------------------------------------------------------

    def reviews_on(self, files: Collection[str], since: datetime) -> list[PastReview]:
        """Review tags given since `since` on series touching any of `files`."""
        out: list[PastReview] = []
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(files))):
                q = (sa.select(RGIVEN.c.series_id, RGIVEN.c.reviewer, RGIVEN.c.kind,
                               RGIVEN.c.at, RFILE.c.path)
                     .join(RFILE, RFILE.c.series == RGIVEN.c.series)
                     .where(RFILE.c.path.in_(part), RGIVEN.c.at >= since))
                out.extend(PastReview(SeriesId(r.series_id), r.reviewer, r.kind, r.at, r.path)
                           for r in conn.execute(q))
        return sorted(set(out), key=lambda p: (p.at, p.series_id, p.reviewer, p.path))

    def files_of(self, series_ids: Collection[str]) -> dict[SeriesId, tuple[str, ...]]:
        """The files each series' patches touch (as the last refresh stored them)."""
        out: dict[SeriesId, list[str]] = {}
        with self.engine.connect() as conn:
            for part in chunks(sorted(set(series_ids))):
                for sid, path in conn.execute(sa.select(RFILE.c.series_id, RFILE.c.path)
                                              .where(RFILE.c.series_id.in_(part))):
                    out.setdefault(SeriesId(sid), []).append(path)
        return {sid: tuple(sorted(paths)) for sid, paths in out.items()}


COMMANDS_CURSOR = "mail_commands_cursor"


class SqlNewMail:
    """NewMail (reviewbot/ports.py): stored mail after a cursor (message row ids), for email
    commands that arrive through the ingested lists. Mail kept by reference comes back
    with empty bytes and `by_reference`: read it with the RawReader."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def after(self, cursor: int | None, limit: int) -> tuple[list[RawMail], int | None]:
        with self.engine.connect() as conn:
            if cursor is None:
                top = conn.execute(sa.select(sa.func.max(M.c.id))).scalar()
                return [], int(top) if top is not None else 0
            rows = conn.execute(sa.select(M.c.id, M.c.raw, M.c.raw_codec, M.c.origin,
                                          M.c.received)
                                .where(M.c.id > cursor, M.c.deleted == sa.false())
                                .order_by(M.c.id).limit(limit)).all()
        out = [RawMail(unpack_raw(r.raw, r.raw_codec) if r.raw is not None else b"", r.origin,
                       r.received, by_reference=r.raw is None) for r in rows]
        return out, (rows[-1].id if rows else cursor)

    def cursor(self) -> int | None:
        with self.engine.connect() as conn:
            value = get_meta(conn, COMMANDS_CURSOR)
        return int(value) if value is not None else None

    def save_cursor(self, cursor: int) -> None:
        with self.engine.begin() as conn:
            set_meta(conn, COMMANDS_CURSOR, str(cursor))
