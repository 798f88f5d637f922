"""service.Store on SQLAlchemy Core over the SQLModel tables (SQLite, PostgreSQL).

Writes use executemany inserts and one transaction per call; the ingest path
never goes through ORM sessions (they cost more than the parsing).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from reviewbot.adapters.sql import reparse as sqlreparse
from reviewbot.adapters.sql import series as sqlseries
from reviewbot.adapters.sql.codec import (
    CODEC_VERSION,
    RAW_CODECS,
    decode_message,
    encode_message,
    pack_raw,
    unpack_raw,
)
from reviewbot.adapters.sql.series import pairs
from reviewbot.adapters.sql.tables import (
    CursorRow,
    DuplicateRow,
    MessageRow,
    MetaRow,
    QuarantineRow,
    SeriesPatchRow,
    SeriesRow,
)
from reviewbot.core.backlog.state import OPEN_STATES
from reviewbot.core.model import Message, MessageId, Series, SeriesId
from reviewbot.core.series.assemble import Assembly
from reviewbot.ports import (
    BatchOutcome,
    Parsed,
    Rejected,
    Removal,
    ReparseOutcome,
    StoredRaw,
)

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
D: sa.Table = DuplicateRow.__table__  # type: ignore[attr-defined]
Q: sa.Table = QuarantineRow.__table__  # type: ignore[attr-defined]
C: sa.Table = CursorRow.__table__  # type: ignore[attr-defined]
META: sa.Table = MetaRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
P: sa.Table = SeriesPatchRow.__table__  # type: ignore[attr-defined]

STALE_KEY = "assembly_stale"
IN_CHUNK = 500  # bound for IN (...) lists; SQLite's variable limit is far above


def chunks(seq: Sequence[Any], n: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _message_row(p: Parsed, list_name: str, codec: str) -> dict[str, Any]:
    m = p.message
    return {
        "message_id": m.message_id, "list_name": list_name, "sha256": p.sha256,
        "raw": pack_raw(p.mail.raw, codec), "raw_codec": codec, "origin": p.mail.origin,
        "received": p.mail.received, "date": m.date, "subject": m.subject.raw,
        "from_email": m.from_email, "parsed": encode_message(m), "codec": CODEC_VERSION,
        "deleted": False, "duplicates": 0,
    }


def _set_meta(conn: Connection, key: str, value: str) -> None:
    if conn.execute(sa.update(META).where(META.c.key == key).values(value=value)).rowcount == 0:
        conn.execute(sa.insert(META).values(key=key, value=value))


class SqlStore:
    """The Store port over one SQLAlchemy engine. Construct with an engine; no I/O here.

    `raw_codec` is how new raw mail is stored: "identity" (default: PostgreSQL
    TOAST-compresses large values itself, and on SQLite zlib was the largest
    single cost of an ingest) or "zlib" (half the bytes). Reads honour each
    row's own codec, so the choice can change at any time.
    """

    def __init__(self, engine: Engine, raw_codec: str = "identity") -> None:
        if raw_codec not in RAW_CODECS:
            raise ValueError(f"unknown raw codec {raw_codec!r} (known: {', '.join(RAW_CODECS)})")
        self.engine = engine
        self.raw_codec = raw_codec

    # -- ingest -----------------------------------------------------------------

    def get_cursor(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(C.c.cursor).where(C.c.key == key)).scalar()

    def store_batch(
        self,
        *,
        list_name: str,
        source_key: str,
        cursor: str | None,
        parsed: Sequence[Parsed],
        rejected: Sequence[Rejected],
        removals: Sequence[Removal],
    ) -> BatchOutcome:
        try:
            return self._store_batch(list_name, source_key, cursor, parsed, rejected, removals)
        except sa.exc.IntegrityError:
            # Another writer (a CLI ingest beside the daemon) stored some of these
            # first; the transaction rolled back whole, and a retry sees its rows.
            return self._store_batch(list_name, source_key, cursor, parsed, rejected, removals)

    def _store_batch(
        self,
        list_name: str,
        source_key: str,
        cursor: str | None,
        parsed: Sequence[Parsed],
        rejected: Sequence[Rejected],
        removals: Sequence[Removal],
    ) -> BatchOutcome:
        with self.engine.begin() as conn:
            new, dups = self._insert_messages(conn, list_name, parsed)
            quarantined = self._quarantine(conn, list_name, rejected)
            deleted = sum(self._remove(conn, r) for r in removals)
            if conn.execute(sa.update(C).where(C.c.key == source_key)
                            .values(cursor=cursor)).rowcount == 0:
                conn.execute(sa.insert(C).values(key=source_key, cursor=cursor))
            if new or deleted:
                _set_meta(conn, STALE_KEY, "1")
        return BatchOutcome(new, dups, quarantined, deleted)

    def _insert_messages(
        self, conn: Connection, list_name: str, parsed: Sequence[Parsed]
    ) -> tuple[int, int]:
        ids = list({p.message.message_id for p in parsed})
        stored: dict[str, str] = {}  # message_id -> sha256 of the kept copy
        for part in chunks(ids):
            stored.update(pairs(conn.execute(
                sa.select(M.c.message_id, M.c.sha256).where(M.c.message_id.in_(part))).all()))
        rows: list[dict[str, Any]] = []
        copies: dict[str, Parsed] = {}  # sha256 -> another copy of a stored Message-ID
        dups = 0
        for p in parsed:
            mid = p.message.message_id
            if mid in stored:
                dups += 1
                if stored[mid] != p.sha256:
                    copies.setdefault(p.sha256, p)
                continue
            stored[mid] = p.sha256
            rows.append(_message_row(p, list_name, self.raw_codec))
        if rows:
            conn.execute(sa.insert(M), rows)
        if copies:
            self._record_copies(conn, list_name, copies)
        return len(rows), dups

    def _record_copies(self, conn: Connection, list_name: str, copies: dict[str, Parsed]) -> None:
        known: set[str] = set()
        for part in chunks(list(copies)):
            known.update(conn.execute(sa.select(D.c.sha256).where(D.c.sha256.in_(part))).scalars())
        fresh = [p for sha, p in copies.items() if sha not in known]
        if not fresh:
            return
        conn.execute(sa.insert(D), [{
            "message_id": p.message.message_id, "list_name": list_name, "sha256": p.sha256,
            "raw": pack_raw(p.mail.raw, self.raw_codec), "raw_codec": self.raw_codec,
            "origin": p.mail.origin, "received": p.mail.received} for p in fresh])
        per_id: dict[str, int] = {}
        for p in fresh:
            per_id[p.message.message_id] = per_id.get(p.message.message_id, 0) + 1
        for mid, n in per_id.items():
            conn.execute(sa.update(M).where(M.c.message_id == mid)
                         .values(duplicates=M.c.duplicates + n))

    def _quarantine(self, conn: Connection, list_name: str, rejected: Sequence[Rejected]) -> int:
        if not rejected:
            return 0
        known: set[str] = set()
        shas = list({r.sha256 for r in rejected})
        for part in chunks(shas):
            known.update(conn.execute(sa.select(Q.c.sha256).where(Q.c.sha256.in_(part))).scalars())
        rows = []
        for r in rejected:
            if r.sha256 in known:
                continue
            known.add(r.sha256)
            rows.append({
                "sha256": r.sha256, "message_id": r.message_id, "list_name": list_name,
                "reason": r.reason, "raw": pack_raw(r.mail.raw, self.raw_codec),
                "raw_codec": self.raw_codec, "origin": r.mail.origin,
                "received": r.mail.received})
        if rows:
            conn.execute(sa.insert(Q), rows)
        return len(rows)

    def _remove(self, conn: Connection, r: Removal) -> int:
        live = M.c.deleted == sa.false()
        if r.sha256 is not None:
            n = conn.execute(sa.update(M).where(M.c.sha256 == r.sha256, live)
                             .values(deleted=True)).rowcount
            if n:
                return int(n)
            # Only one copy of a duplicated message was removed: the kept one stays.
            if conn.execute(sa.select(D.c.id).where(D.c.sha256 == r.sha256)).first():
                return 0
        if r.message_id is None:
            return 0
        return int(conn.execute(sa.update(M).where(M.c.message_id == r.message_id, live)
                                .values(deleted=True)).rowcount)

    # -- assembly ---------------------------------------------------------------

    def assembly_stale(self) -> bool:
        with self.engine.connect() as conn:
            value = conn.execute(sa.select(META.c.value).where(META.c.key == STALE_KEY)).scalar()
        # A database that never assembled is stale if it holds any message.
        if value is None:
            return self.count_messages() > 0
        return bool(value == "1")

    def series_count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(S)).scalar_one())

    def count_messages(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(M)).scalar_one())

    def live_messages(
        self, known: Mapping[MessageId, tuple[str, Message]] | None = None
    ) -> list[Message]:
        live = M.c.deleted == sa.false()
        with self.engine.connect() as conn:
            if not known:
                texts = conn.execute(sa.select(M.c.parsed).where(live)
                                     .order_by(M.c.id)).scalars().all()
                return [decode_message(t) for t in texts]
            found: dict[int, Message] = {}
            need: list[int] = []
            for row_id, mid, sha in conn.execute(
                    sa.select(M.c.id, M.c.message_id, M.c.sha256).where(live)):
                hit = known.get(mid)
                if hit is not None and hit[0] == sha:
                    found[row_id] = hit[1]
                else:
                    need.append(row_id)
            for part in chunks(need):
                for row_id, text in conn.execute(
                        sa.select(M.c.id, M.c.parsed).where(M.c.id.in_(part))):
                    found[row_id] = decode_message(text)
        return [found[k] for k in sorted(found)]

    def save_assembly(self, assembly: Assembly, states: Mapping[SeriesId, str]) -> None:
        with self.engine.begin() as conn:
            sqlseries.save(conn, assembly, states)
            _set_meta(conn, STALE_KEY, "0")

    # -- reparse ----------------------------------------------------------------

    def stored_raw(self, chunk: int) -> Iterator[list[StoredRaw]]:
        with self.engine.connect() as conn:
            tops = [conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0 for t in (M, Q)]
        for table, top, quarantined in ((M, tops[0], False), (Q, tops[1], True)):
            last = 0
            while last < top:
                with self.engine.connect() as conn:
                    rows = conn.execute(
                        sa.select(table.c.id, table.c.raw, table.c.raw_codec, table.c.received)
                        .where(table.c.id > last, table.c.id <= top)
                        .order_by(table.c.id).limit(chunk)).all()
                if not rows:
                    break
                last = rows[-1].id
                yield [StoredRaw(r.id, quarantined, unpack_raw(r.raw, r.raw_codec), r.received)
                       for r in rows]

    def apply_reparse(
        self, results: Sequence[tuple[StoredRaw, Message | str, str]]
    ) -> ReparseOutcome:
        with self.engine.begin() as conn:
            outcome = sqlreparse.apply(conn, results)
            _set_meta(conn, STALE_KEY, "1")
        return outcome

    # -- reading (CLI) ----------------------------------------------------------

    def series_for(self, message_id: str) -> tuple[Series, str] | None:
        """The series containing `message_id` (with or without <>) and its state."""
        mid = message_id.strip().removeprefix("<").removesuffix(">")
        with self.engine.connect() as conn:
            sid = sqlseries.series_id_of(conn, mid)
            return sqlseries.load(conn, sid) if sid is not None else None

    def has_message(self, message_id: str) -> bool:
        mid = message_id.strip().removeprefix("<").removesuffix(">")
        with self.engine.connect() as conn:
            return conn.execute(sa.select(M.c.id).where(M.c.message_id == mid)).first() is not None

    def queue(self) -> list[sqlseries.QueueEntry]:
        with self.engine.connect() as conn:
            return sqlseries.queue(conn, OPEN_STATES)

    def stats(self) -> dict[str, Any]:
        def count(conn: Connection, table: sa.Table, *where: Any) -> int:
            q = sa.select(sa.func.count()).select_from(table)
            return int(conn.execute(q.where(*where) if where else q).scalar_one())

        with self.engine.connect() as conn:
            states = pairs(conn.execute(
                sa.select(S.c.state, sa.func.count()).group_by(S.c.state)).all())
            return {
                "messages": count(conn, M, M.c.deleted == sa.false()),
                "deleted": count(conn, M, M.c.deleted == sa.true()),
                "duplicates": count(conn, D),
                "quarantined": count(conn, Q),
                "series": count(conn, S),
                "patches": count(conn, P),
                "open": sum(n for st, n in states.items() if st in OPEN_STATES),
                "states": {k: states[k] for k in sorted(states)},
                "cursors": pairs(conn.execute(sa.select(C.c.key, C.c.cursor)
                                             .order_by(C.c.key)).all()),
            }


def make_engine(url: str) -> Engine:
    """An engine with reviewbot's SQLite pragmas (WAL, NORMAL sync, FK, busy wait)."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=10000", "temp_store=MEMORY", "cache_size=-32000"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()
