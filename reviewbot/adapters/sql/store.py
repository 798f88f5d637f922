"""The ingest side of storage on SQLAlchemy Core (SQLite, PostgreSQL): messages in.

One transaction per batch stores its messages (with their thread components,
graph.py), quarantined mail, deletions, the people the mail names, where the
source's raw bytes live, and the source's cursor. The ingest path never goes
through ORM sessions (they cost more than the parsing).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from reviewbot.adapters.sql import graph
from reviewbot.adapters.sql.graph import chunks
from reviewbot.adapters.sql.schema.codec import (
    CODEC_VERSION,
    RAW_CODECS,
    decode_message,
    encode_message,
    pack_raw,
    unpack_raw,
)
from reviewbot.adapters.sql.schema.rows import (
    META,
    add_person_uses,
    get_meta,
    set_meta,
    subject_key,
    upsert,
)
from reviewbot.adapters.sql.schema.tables import (
    CursorRow,
    DuplicateRow,
    MessageRow,
    QuarantineRow,
    RawLocationRow,
)
from reviewbot.core.maintainers.people import person_uses
from reviewbot.core.model import Message, MessageKind
from reviewbot.core.series.closure import linkage_keys
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
LOC: sa.Table = RawLocationRow.__table__  # type: ignore[attr-defined]


class SqlStore:
    """The Store port over one SQLAlchemy engine. Construct with an engine; no I/O here.

    `raw_codec` is how raw mail that is not kept by reference is stored: "zlib"
    (default: a third of the bytes) or "identity".
    """

    def __init__(self, engine: Engine, raw_codec: str = "zlib") -> None:
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
        locations: Mapping[str, str] | None = None,
    ) -> BatchOutcome:
        try:
            return self._store_batch(list_name, source_key, cursor, parsed, rejected, removals,
                                     locations or {})
        except sa.exc.IntegrityError:
            # Another writer (a CLI ingest beside the daemon) stored some of these
            # first; the transaction rolled back whole, and a retry sees its rows.
            return self._store_batch(list_name, source_key, cursor, parsed, rejected, removals,
                                     locations or {})

    def _store_batch(
        self,
        list_name: str,
        source_key: str,
        cursor: str | None,
        parsed: Sequence[Parsed],
        rejected: Sequence[Rejected],
        removals: Sequence[Removal],
        locations: Mapping[str, str],
    ) -> BatchOutcome:
        with self.engine.begin() as conn:
            # Before reading which Message-IDs exist: a concurrent batch of the same mail
            # (a cross-posted thread, two daemons) then waits instead of colliding.
            graph.lock_graph(conn)
            new, dups = self._insert_messages(conn, list_name, parsed)
            quarantined = self._quarantine(conn, list_name, rejected)
            deleted = self._remove(conn, removals)
            for key, path in sorted(locations.items()):
                upsert(conn, LOC, "key", key, path=path)
            upsert(conn, C, "key", source_key, cursor=cursor)
        return BatchOutcome(new, dups, quarantined, deleted)

    def _raw_columns(self, p: Parsed | Rejected) -> dict[str, Any]:
        if p.mail.by_reference:
            return {"raw": None, "raw_codec": "identity"}
        return {"raw": pack_raw(p.mail.raw, self.raw_codec), "raw_codec": self.raw_codec}

    def _insert_messages(
        self, conn: Connection, list_name: str, parsed: Sequence[Parsed]
    ) -> tuple[int, int]:
        """Store new Message-IDs; of several copies (other bytes) of one Message-ID, the
        one with the smallest sha256 is the message and the others are duplicates, so
        the result never depends on the order copies arrive in."""
        by_id: dict[str, list[Parsed]] = {}
        for p in parsed:
            by_id.setdefault(p.message.message_id, []).append(p)
        stored: dict[str, str] = {}  # message_id -> sha256 of the kept copy
        for part in chunks(sorted(by_id)):
            stored.update({r[0]: r[1] for r in conn.execute(
                sa.select(M.c.message_id, M.c.sha256).where(M.c.message_id.in_(part)))})
        fresh: list[Parsed] = []
        promoted: list[Parsed] = []
        copies: dict[str, Parsed] = {}  # sha256 -> another copy of a kept Message-ID
        dups = 0
        for mid, copies_of in by_id.items():
            best = min(copies_of, key=lambda p: p.sha256)
            if mid not in stored:
                fresh.append(best)
                dups += len(copies_of) - 1
                kept = best.sha256
            else:
                dups += len(copies_of)
                kept = stored[mid]
                if best.sha256 < kept:
                    promoted.append(best)
                    kept = best.sha256
            for p in copies_of:
                if p.sha256 != kept:
                    copies.setdefault(p.sha256, p)
        comps = graph.link(conn, [(p.message.message_id, linkage_keys(p.message))
                                  for p in fresh])
        if fresh:
            conn.execute(sa.insert(M), [self._message_row(p, list_name, comps)
                                        for p in fresh])
            add_person_uses(conn, person_uses([p.message for p in fresh]))
        for p in promoted:
            self._promote(conn, list_name, p)
        if copies:
            self._record_copies(conn, list_name, copies)
        return len(fresh), dups

    def _promote(self, conn: Connection, list_name: str, p: Parsed) -> None:
        """`p` replaces the stored copy of its Message-ID, which becomes a duplicate."""
        old = conn.execute(sa.select(M).where(M.c.message_id == p.message.message_id)).one()
        extra = 0
        if conn.execute(sa.select(D.c.id).where(D.c.sha256 == old.sha256)).first() is None:
            conn.execute(sa.insert(D).values(
                message_id=old.message_id, list_name=old.list_name, sha256=old.sha256,
                raw=old.raw, raw_codec=old.raw_codec, origin=old.origin,
                received=old.received))
            extra += 1
        extra -= conn.execute(sa.delete(D).where(D.c.sha256 == p.sha256)).rowcount
        comp = graph.extend(conn, p.message.message_id, old.comp,
                            linkage_keys(p.message))
        row = self._message_row(p, list_name, {p.message.message_id: comp})
        for kept in ("message_id", "deleted", "duplicates", "series"):
            row.pop(kept)
        conn.execute(sa.update(M).where(M.c.id == old.id)
                     .values(**row, duplicates=M.c.duplicates + extra))
        if not old.deleted:
            add_person_uses(conn, {k: -n for k, n in person_uses(
                [decode_message(old.parsed)]).items()})
            add_person_uses(conn, person_uses([p.message]))

    def _message_row(self, p: Parsed, list_name: str, comps: Mapping[str, int]
                     ) -> dict[str, Any]:
        m = p.message
        return {
            "message_id": m.message_id, "list_name": list_name, "sha256": p.sha256,
            "origin": p.mail.origin, "received": p.mail.received, "date": m.date,
            "parsed": p.encoded or encode_message(m), "codec": CODEC_VERSION, "deleted": False,
            "duplicates": 0, "comp": comps[m.message_id], "series": None,
            "patch_id": m.patch_id if m.kind is MessageKind.PATCH else None,
            "subject_key": subject_key(m), **self._raw_columns(p),
        }

    def _record_copies(self, conn: Connection, list_name: str, copies: dict[str, Parsed]) -> None:
        known: set[str] = set()
        for part in chunks(sorted(copies)):
            known.update(conn.execute(sa.select(D.c.sha256).where(D.c.sha256.in_(part))).scalars())
        fresh = [p for sha, p in copies.items() if sha not in known]
        if not fresh:
            return
        conn.execute(sa.insert(D), [{
            "message_id": p.message.message_id, "list_name": list_name, "sha256": p.sha256,
            "origin": p.mail.origin, "received": p.mail.received, **self._raw_columns(p)}
            for p in fresh])
        per_id = Counter(p.message.message_id for p in fresh)
        for mid, n in sorted(per_id.items()):
            conn.execute(sa.update(M).where(M.c.message_id == mid)
                         .values(duplicates=M.c.duplicates + n))

    def _quarantine(self, conn: Connection, list_name: str, rejected: Sequence[Rejected]) -> int:
        if not rejected:
            return 0
        known: set[str] = set()
        for part in chunks(sorted({r.sha256 for r in rejected})):
            known.update(conn.execute(sa.select(Q.c.sha256).where(Q.c.sha256.in_(part))).scalars())
        rows = []
        for r in rejected:
            if r.sha256 in known:
                continue
            known.add(r.sha256)
            rows.append({"sha256": r.sha256, "message_id": r.message_id, "list_name": list_name,
                         "reason": r.reason, "origin": r.mail.origin,
                         "received": r.mail.received, **self._raw_columns(r)})
        if rows:
            conn.execute(sa.insert(Q), rows)
        return len(rows)

    def _remove(self, conn: Connection, removals: Sequence[Removal]) -> int:
        deleted = 0
        for r in removals:
            row = self._removable(conn, r)
            if row is None:
                continue
            conn.execute(sa.update(M).where(M.c.id == row.id).values(deleted=True))
            graph.touch(conn, [row.comp])
            uses = person_uses([decode_message(row.parsed)])
            add_person_uses(conn, {k: -n for k, n in uses.items()})
            deleted += 1
        return deleted

    def _removable(self, conn: Connection, r: Removal) -> Any:
        live = M.c.deleted == sa.false()
        cols = (M.c.id, M.c.comp, M.c.parsed)
        if r.sha256 is not None:
            row = conn.execute(sa.select(*cols).where(M.c.sha256 == r.sha256, live)).first()
            if row is not None:
                return row
            # Only one copy of a duplicated message was removed: the kept one stays.
            if conn.execute(sa.select(D.c.id).where(D.c.sha256 == r.sha256)).first():
                return None
        if r.message_id is None:
            return None
        return conn.execute(sa.select(*cols).where(M.c.message_id == r.message_id,
                                                   live)).first()

    # -- reparse ----------------------------------------------------------------

    def stored_raw(self, chunk: int) -> Iterator[list[StoredRaw]]:
        """Every stored and quarantined mail, in chunks. A mail kept by reference has
        `raw` None and its `origin`; the caller reads the bytes (ports.RawReader)."""
        with self.engine.connect() as conn:
            tops = [conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0 for t in (M, Q)]
        for table, top, quarantined in ((M, tops[0], False), (Q, tops[1], True)):
            last = 0
            while last < top:
                with self.engine.connect() as conn:
                    rows = conn.execute(
                        sa.select(table.c.id, table.c.raw, table.c.raw_codec, table.c.received,
                                  table.c.origin)
                        .where(table.c.id > last, table.c.id <= top)
                        .order_by(table.c.id).limit(chunk)).all()
                if not rows:
                    break
                last = rows[-1].id
                yield [StoredRaw(r.id, quarantined,
                                 unpack_raw(r.raw, r.raw_codec) if r.raw is not None else None,
                                 r.received, r.origin) for r in rows]

    def apply_reparse(
        self, results: Sequence[tuple[StoredRaw, Message | str, str]]
    ) -> ReparseOutcome:
        with self.engine.begin() as conn:
            from reviewbot.adapters.sql import reparse as sqlreparse  # only `reparse` needs it

            return sqlreparse.apply(conn, results)

    def relink_all(self, chunk: int = 2000) -> int:
        """Rebuild every thread component from the stored messages (after a reparse)."""
        from reviewbot.adapters.sql import reparse as sqlreparse

        return sqlreparse.relink_all(self.engine, chunk)

    def meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            return get_meta(conn, key)

    def set_meta(self, key: str, value: str | None) -> None:
        with self.engine.begin() as conn:
            if value is None:
                conn.execute(sa.delete(META).where(META.c.key == key))
            else:
                set_meta(conn, key, value)

    def raw_locations(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r[0]: r[1] for r in conn.execute(sa.select(LOC.c.key, LOC.c.path))}


def make_engine(url: str) -> Engine:
    """An engine with reviewbot's SQLite pragmas (WAL, NORMAL sync, FK, busy wait)."""
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                   "busy_timeout=10000", "cache_size=-8000"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()
