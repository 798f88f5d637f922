"""The SQL store (adapters/sql/store.py), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import reviewbot.adapters.sql.backlogtables
import reviewbot.adapters.sql.pulls
import reviewbot.adapters.sql.trees  # noqa: F401  (the models compared below)
from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.adapters.sql.tables import MessageRow
from reviewbot.core.model import (
    AppliedNotice,
    Message,
    MessageId,
    MessageKind,
    Series,
    SeriesId,
    SeriesPatch,
    Subject,
    Trailer,
    TrailerKind,
)
from reviewbot.core.series.assemble import Assembly
from reviewbot.ports import Parsed, RawMail, Rejected, Removal

T0 = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)


def msg(mid: str, *, date: datetime = T0, subject: str = "[PATCH] x: y",
        applied: AppliedNotice | None = None) -> Message:
    return Message(message_id=MessageId(mid), subject=Subject(raw=subject, title="x: y"),
                   from_name="A", from_email="a@example.org", date=date,
                   kind=MessageKind.PATCH, applied=applied)


def parsed(mid: str, body: bytes = b"body", **kw: object) -> Parsed:
    raw = b"Message-ID: <" + mid.encode() + b">\n\n" + body
    return Parsed(RawMail(raw, f"test#{mid}", T0), msg(mid, **kw),  # type: ignore[arg-type]
                  hashlib.sha256(raw).hexdigest())


def put(store: SqlStore, items: list[Parsed], *, cursor: str = "c", rejected: list[Rejected]
        | None = None, removals: list[Removal] | None = None):
    return store.store_batch(list_name="l", source_key="k", cursor=cursor, parsed=items,
                             rejected=rejected or [], removals=removals or [])


def series(root: str, *, superseded_by: str | None = None, n: int = 2,
           trailers: tuple[Trailer, ...] = ()) -> Series:
    patches = tuple(SeriesPatch(i, MessageId(f"{root}.{i}"), f"[PATCH {i}/{n}] part {i}",
                                (f"drivers/x{i}.c",), f"{i:040x}", trailers)
                    for i in range(1, n + 1))
    return Series(series_id=SeriesId(root), title=f"title {root}", version=2, total=n + 1,
                  author_name="A", author_email="a@example.org", date=T0,
                  cover_message_id=MessageId(root), patches=patches, missing=(n + 1,),
                  members=tuple(sorted([MessageId(root), *(p.message_id for p in patches)])),
                  revisions=(SeriesId("old"), SeriesId(root)),
                  superseded_by=SeriesId(superseded_by) if superseded_by else None,
                  revision_link="change-id" if superseded_by else None)


def assembly(*ss: Series) -> Assembly:
    return Assembly(series=ss, series_of={m: s.series_id for s in ss for m in s.members})


def count(store: SqlStore, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


REVIEW = Trailer(TrailerKind.REVIEWED_BY, "R", "r@example.org", "R <r@example.org>",
                 "for the DT part", MessageId("reply@x"))


class TestSchema:
    def test_migrations_create_exactly_the_models(self, store: SqlStore) -> None:
        """After `db upgrade`, the database matches the SQLModel tables: nothing to autogenerate."""
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == []


    def test_0002_keeps_rows_written_by_0001_readable(self, empty_engine: Engine) -> None:
        """Rows 0001 wrote (all zlib) read back unchanged after upgrading; downgrading
        compresses the rows stored as-is, so 0001 code could read them again."""
        old_raw, new_raw = b"Message-ID: <old@x>\n\nold", b"Message-ID: <new@x>\n\nnew"
        sqlmigrate.upgrade(empty_engine, "0001")
        row = {"list_name": "l", "origin": "o", "received": None, "date": T0, "subject": "s",
               "from_email": "f", "parsed": "{}", "codec": 1, "deleted": False,
               "duplicates": 0}
        with empty_engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO message (message_id, list_name, sha256, raw, origin, date, subject,"
                " from_email, parsed, codec, deleted, duplicates) VALUES (:mid, :list_name,"
                " :sha, :raw, :origin, :date, :subject, :from_email, :parsed, :codec, :deleted,"
                " :duplicates)"),
                {**row, "mid": "old@x", "sha": "1", "raw": zlib.compress(old_raw)})
        sqlmigrate.upgrade(empty_engine)
        store = SqlStore(empty_engine)
        put(store, [Parsed(RawMail(new_raw, "o", None), msg("new@x"), "2")])
        assert sorted(r.raw for rows in store.stored_raw(10) for r in rows) == [new_raw, old_raw]
        sqlmigrate.downgrade(empty_engine, "0001")
        with empty_engine.connect() as conn:
            raws = conn.exec_driver_sql("SELECT raw FROM message ORDER BY id").scalars().all()
        assert [zlib.decompress(r) for r in raws] == [old_raw, new_raw]


class TestMessages:
    def test_dates_come_back_aware_utc(self, store: SqlStore) -> None:
        """A +02:00 Date is stored as UTC and read back timezone-aware."""
        local = datetime(2025, 3, 4, 7, 6, 7, tzinfo=timezone(timedelta(hours=2)))
        put(store, [parsed("d@x", date=local)])
        [m] = store.live_messages()
        assert m.date == T0 and m.date.tzinfo is not None and m.date.utcoffset() == timedelta(0)
        with store.engine.connect() as conn:
            received = conn.execute(sa.select(MessageRow.received)).scalar_one()  # type: ignore[call-overload]
        assert received == T0 and received.tzinfo is not None

    def test_raw_kept_byte_for_byte(self, store: SqlStore) -> None:
        """By default the raw column holds the exact bytes, and sha256 names them."""
        p = parsed("raw@x", body=b"\xff\xfe odd bytes \r\n")
        put(store, [p])
        with store.engine.connect() as conn:
            raw, codec, sha = conn.exec_driver_sql(
                "SELECT raw, raw_codec, sha256 FROM message").one()
        assert (bytes(raw), codec) == (p.mail.raw, "identity")
        assert sha == hashlib.sha256(p.mail.raw).hexdigest()

    def test_zlib_codec_round_trips_and_mixes(self, store: SqlStore) -> None:
        """raw_codec="zlib" compresses new rows; reads honour each row's own codec."""
        zipped = SqlStore(store.engine, raw_codec="zlib")
        plain, packed = parsed("plain@x", b"a" * 5000), parsed("zip@x", b"b" * 5000)
        put(store, [plain])
        put(zipped, [packed])
        with store.engine.connect() as conn:
            raw = conn.exec_driver_sql(
                "SELECT raw FROM message WHERE raw_codec = 'zlib'").scalar_one()
        assert zlib.decompress(raw) == packed.mail.raw
        got = sorted(bytes(r.raw) for rows in store.stored_raw(10) for r in rows)
        assert got == sorted([plain.mail.raw, packed.mail.raw])

    def test_unknown_codec_is_refused(self, store: SqlStore) -> None:
        """A typo in the codec name fails at construction, naming the known codecs."""
        with pytest.raises(ValueError, match="identity, zlib"):
            SqlStore(store.engine, raw_codec="lz4")

    def test_same_message_id_twice_is_stored_once(self, store: SqlStore) -> None:
        """A second copy (other bytes) of a Message-ID is a recorded duplicate, not a message."""
        first, second = parsed("dup@x", b"copy 1"), parsed("dup@x", b"copy 2")
        out = put(store, [first, second])
        assert (out.new, out.duplicates) == (1, 1)
        assert count(store, "message") == 1
        assert count(store, "duplicate") == 1
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT duplicates FROM message").scalar_one() == 1

    def test_identical_redelivery_changes_nothing(self, store: SqlStore) -> None:
        """The same bytes again (a re-run) count as duplicate but add no row."""
        put(store, [parsed("a@x"), parsed("b@x", b"2"), parsed("b@x", b"3")])
        out = put(store, [parsed("a@x"), parsed("b@x", b"2"), parsed("b@x", b"3")])
        assert (out.new, out.duplicates) == (0, 3)
        assert (count(store, "message"), count(store, "duplicate")) == (2, 1)

    def test_cursor_is_written_with_the_batch(self, store: SqlStore) -> None:
        """The cursor row per source key follows each committed batch."""
        assert store.get_cursor("k") is None
        put(store, [parsed("a@x")], cursor="one")
        put(store, [], cursor="two")
        assert store.get_cursor("k") == "two"

    def test_quarantine_keeps_reason_and_bytes_once(self, store: SqlStore) -> None:
        """A rejected mail is kept verbatim with its reason; the same bytes again add nothing."""
        raw = b"Subject: no id\n\n\x00garbage"
        bad = Rejected(RawMail(raw, "test#bad", None), "no Message-ID header",
                       hashlib.sha256(raw).hexdigest(), None)
        assert put(store, [], rejected=[bad]).quarantined == 1
        assert put(store, [], rejected=[bad]).quarantined == 0
        with store.engine.connect() as conn:
            reason, stored = conn.exec_driver_sql("SELECT reason, raw FROM quarantine").one()
        assert reason == "no Message-ID header" and bytes(stored) == raw

    def test_deletion_marks_deleted_and_keeps_raw(self, store: SqlStore) -> None:
        """A Removal hides the message from reassembly but keeps its row and bytes."""
        put(store, [parsed("gone@x"), parsed("stays@x")])
        out = put(store, [], removals=[Removal(MessageId("gone@x"), None, "test")])
        assert out.deleted == 1
        assert [m.message_id for m in store.live_messages()] == ["stays@x"]
        assert count(store, "message") == 2
        assert put(store, [], removals=[Removal(MessageId("gone@x"), None, "t")]).deleted == 0

    def test_deletion_of_a_duplicate_copy_keeps_the_message(self, store: SqlStore) -> None:
        """Removing one extra copy (by its bytes) leaves the kept copy live."""
        first, second = parsed("two@x", b"1"), parsed("two@x", b"2")
        put(store, [first, second])
        out = put(store, [], removals=[Removal(MessageId("two@x"), second.sha256, "t")])
        assert out.deleted == 0 and len(store.live_messages()) == 1

    def test_new_messages_make_assembly_stale(self, store: SqlStore) -> None:
        """Storing something new flags reassembly; saving an assembly clears it."""
        assert not store.assembly_stale()
        put(store, [parsed("a@x")])
        assert store.assembly_stale()
        store.save_assembly(assembly(), {})
        assert not store.assembly_stale()
        put(store, [parsed("a@x")])
        assert not store.assembly_stale()


class TestSeries:
    def test_series_round_trip(self, store: SqlStore) -> None:
        """A saved series loads back equal, found by any member's Message-ID, with <> or not."""
        s = series("root@x", trailers=(REVIEW,))
        store.save_assembly(assembly(s), {s.series_id: "reviewed"})
        assert store.series_for("root@x.2") == (s, "reviewed")
        assert store.series_for("<root@x>") == (s, "reviewed")
        assert store.series_for("nobody@x") is None

    def test_resaving_the_same_assembly_writes_nothing(self, store: SqlStore) -> None:
        """Unchanged series are not rewritten (digest match); a changed one is."""
        a, b = series("a@x"), series("b@x")
        states = {a.series_id: "new", b.series_id: "new"}
        store.save_assembly(assembly(a, b), states)
        writes: list[str] = []

        def spy(conn: object, cursor: object, statement: str, *args: object) -> None:
            if statement.lstrip().upper().startswith(("INSERT INTO SERIES", "DELETE FROM SERIES")):
                writes.append(statement.split("(")[0].split(" WHERE")[0])

        sa.event.listen(store.engine, "before_cursor_execute", spy)
        try:
            store.save_assembly(assembly(a, b), states)
            assert writes == []
            store.save_assembly(assembly(a, b), {**states, b.series_id: "under review"})
            assert writes != []
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", spy)
        assert store.series_for("b@x") == (b, "under review")
        assert store.series_for("a@x") == (a, "new")

    def test_vanished_series_are_removed(self, store: SqlStore) -> None:
        """A series absent from the new assembly disappears with its patches and members."""
        a, b = series("a@x"), series("b@x")
        store.save_assembly(assembly(a, b), {a.series_id: "new", b.series_id: "new"})
        store.save_assembly(assembly(a), {a.series_id: "new"})
        assert store.series_for("b@x.1") is None
        assert count(store, "series") == 1 and count(store, "series_patch") == 2

    def test_queue_lists_open_series_only(self, store: SqlStore) -> None:
        """Superseded and applied series are not in the queue."""
        old, new, done = series("old@x", superseded_by="new@x"), series("new@x"), series("d@x")
        store.save_assembly(assembly(old, new, done), {
            old.series_id: "superseded", new.series_id: "new", done.series_id: "applied"})
        assert [e.series_id for e in store.queue()] == ["new@x"]
        [entry] = store.queue()
        assert (entry.version, entry.patch_count, entry.total) == (2, 2, 3)

    def test_stats_counts_everything(self, store: SqlStore) -> None:
        """stats() reports messages, series, patches, quarantined and more."""
        put(store, [parsed("a@x"), parsed("a@x", b"other")])
        s = series("s@x")
        store.save_assembly(assembly(s), {s.series_id: "new"})
        stats = store.stats()
        assert {k: stats[k] for k in ("messages", "duplicates", "quarantined", "series",
                                      "patches", "open")} == {
            "messages": 1, "duplicates": 1, "quarantined": 0, "series": 1, "patches": 2,
            "open": 1}
        assert stats["cursors"] == {"k": "c"}


def test_sqlite_runs_in_wal_mode(store: SqlStore) -> None:
    """SQLite uses WAL (readers never block the ingest); PostgreSQL has no such pragma."""
    if store.engine.dialect.name != "sqlite":
        assert store.engine.dialect.name == "postgresql"
        return
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert sa.inspect(conn).has_table("message")


def test_a_concurrent_writer_is_not_an_error(store: SqlStore,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """If another process stores the same Message-ID mid-batch, the batch retries cleanly."""
    from reviewbot.adapters.sql import store as sqlstore

    other = SqlStore(sa.create_engine(store.engine.url))
    real_chunks = sqlstore.chunks
    raced: list[bool] = []

    def racing_chunks(seq: Sequence[Any], n: int = 500) -> Iterator[Sequence[Any]]:
        yield from real_chunks(seq, n)
        if not raced:  # right after our existence check, before our INSERT
            raced.append(True)
            other.store_batch(list_name="l", source_key="other", cursor="x",
                              parsed=[parsed("race@x")], rejected=[], removals=[])

    monkeypatch.setattr(sqlstore, "chunks", racing_chunks)
    out = put(store, [parsed("race@x"), parsed("mine@x")])
    other.engine.dispose()
    assert raced and (out.new, out.duplicates) == (1, 1)
    assert {m.message_id for m in store.live_messages()} == {"race@x", "mine@x"}
    assert store.get_cursor("k") == "c"
