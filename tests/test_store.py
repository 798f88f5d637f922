"""The SQL store (adapters/sql/store.py), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.schema.codec import unpack_raw
from reviewbot.adapters.sql.schema.tables import MessageRow
from reviewbot.adapters.sql.series.queries import SqlBacklogReader
from reviewbot.adapters.sql.series.store import SqlSeriesStore
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.core.model import (
    AppliedNotice,
    Message,
    MessageId,
    MessageKind,
    Subject,
)
from reviewbot.ports import BatchOutcome, ComponentResult, Parsed, RawMail, Rejected, Removal
from reviewbot.service.backlog.refresh import aliases_digest
from tests.live import live_messages, refresher

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


def count(store: SqlStore, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


class TestSchema:
    def test_migrations_create_exactly_the_models(self, store: SqlStore) -> None:
        """After `db upgrade`, the database matches the SQLModel tables: nothing to autogenerate."""
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == []

    def test_0005_keeps_raw_mail_and_asks_for_a_reparse(self, empty_engine: Engine) -> None:
        """Mail stored before the live core keeps its bytes; the parsed form is re-derived
        once (the database says so until a reparse ran)."""
        old_raw = b"Message-ID: <old@x>\n\nold"
        sqlmigrate.upgrade(empty_engine, "0004")
        with empty_engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO message (message_id, list_name, sha256, raw, raw_codec, origin,"
                " date, subject, from_email, parsed, codec, deleted, duplicates) VALUES"
                " ('old@x', 'l', '1', :raw, 'zlib', 'o', :date, 's', 'f', '{}', 1, :f, 0)"),
                {"raw": zlib.compress(old_raw), "date": T0, "f": False})
        sqlmigrate.upgrade(empty_engine)
        store = SqlStore(empty_engine)
        assert store.meta("reparse_needed") == "1"
        assert [r.raw for rows in store.stored_raw(10) for r in rows] == [old_raw]

    def test_0009_keeps_the_components_and_stops_reusing_their_ids(
            self, empty_engine: Engine) -> None:
        """Components stored before 0009 survive it, dirty or not, and after it the id of
        a deleted highest component is not handed out again."""
        sqlmigrate.upgrade(empty_engine, "0008")
        add = sa.text("INSERT INTO component (size, gen, dirty) VALUES (:n, :g, :d) RETURNING id")
        with empty_engine.begin() as conn:
            first = conn.execute(add, {"n": 2, "g": 3, "d": True}).scalar_one()
            last = conn.execute(add, {"n": 1, "g": 1, "d": False}).scalar_one()
        sqlmigrate.upgrade(empty_engine)
        with empty_engine.begin() as conn:
            rows = conn.execute(sa.text("SELECT id, size, gen, dirty FROM component"
                                        " ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [(first, 2, 3, True), (last, 1, 1, False)]
            conn.execute(sa.text("DELETE FROM component WHERE id = :i"), {"i": last})
            new = conn.execute(add, {"n": 1, "g": 1, "d": True}).scalar_one()
        assert new > last

    def test_a_fresh_database_needs_no_reparse(self, store: SqlStore) -> None:
        assert store.meta("reparse_needed") is None


class TestMessages:
    def test_dates_come_back_aware_utc(self, store: SqlStore) -> None:
        """A +02:00 Date is stored as UTC and read back timezone-aware."""
        local = datetime(2025, 3, 4, 7, 6, 7, tzinfo=timezone(timedelta(hours=2)))
        put(store, [parsed("d@x", date=local)])
        [m] = live_messages(store)
        assert m.date == T0 and m.date.tzinfo is not None and m.date.utcoffset() == timedelta(0)
        with store.engine.connect() as conn:
            received = conn.execute(sa.select(MessageRow.received)).scalar_one()  # type: ignore[call-overload]
        assert received == T0 and received.tzinfo is not None

    def test_raw_kept_byte_for_byte(self, store: SqlStore) -> None:
        """With raw_codec="identity" the raw column holds the exact bytes; sha256 names them."""
        p = parsed("raw@x", body=b"\xff\xfe odd bytes \r\n")
        put(SqlStore(store.engine, raw_codec="identity"), [p])
        with store.engine.connect() as conn:
            raw, codec, sha = conn.exec_driver_sql(
                "SELECT raw, raw_codec, sha256 FROM message").one()
        assert (bytes(raw), codec) == (p.mail.raw, "identity")
        assert sha == hashlib.sha256(p.mail.raw).hexdigest()

    def test_zlib_codec_round_trips_and_mixes(self, store: SqlStore) -> None:
        """raw_codec="zlib" (the default) compresses new rows; reads honour each row's own
        codec."""
        plain_store = SqlStore(store.engine, raw_codec="identity")
        plain, packed = parsed("plain@x", b"a" * 5000), parsed("zip@x", b"b" * 5000)
        put(plain_store, [plain])
        put(store, [packed])
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
            reason, stored, codec = conn.exec_driver_sql(
                "SELECT reason, raw, raw_codec FROM quarantine").one()
        assert reason == "no Message-ID header" and unpack_raw(stored, codec) == raw

    def test_deletion_marks_deleted_and_keeps_raw(self, store: SqlStore) -> None:
        """A Removal hides the message from reassembly but keeps its row and bytes."""
        put(store, [parsed("gone@x"), parsed("stays@x")])
        out = put(store, [], removals=[Removal(MessageId("gone@x"), None, "test")])
        assert out.deleted == 1
        assert [m.message_id for m in live_messages(store)] == ["stays@x"]
        assert count(store, "message") == 2
        assert put(store, [], removals=[Removal(MessageId("gone@x"), None, "t")]).deleted == 0

    def test_deletion_of_a_duplicate_copy_keeps_the_message(self, store: SqlStore) -> None:
        """Removing one extra copy (by its bytes) leaves the kept copy live."""
        kept, extra = sorted((parsed("two@x", b"1"), parsed("two@x", b"2")),
                             key=lambda p: p.sha256)
        put(store, [kept, extra])
        out = put(store, [], removals=[Removal(MessageId("two@x"), extra.sha256, "t")])
        assert out.deleted == 0 and len(live_messages(store)) == 1

    def test_mail_kept_by_reference_stores_no_bytes(self, store: SqlStore) -> None:
        """An epoch's mail keeps its blob reference, and where the epoch lives now."""
        p = parsed("ref@x")
        by_ref = Parsed(RawMail(p.mail.raw, "epoch:l/0#" + "ab" * 20, T0, by_reference=True),
                        p.message, p.sha256)
        store.store_batch(list_name="l", source_key="k", cursor="c", parsed=[by_ref],
                          rejected=[], removals=[], locations={"epoch:l/0": "/srv/l/0.git"})
        with store.engine.connect() as conn:
            raw, origin = conn.exec_driver_sql("SELECT raw, origin FROM message").one()
        assert (raw, origin) == (None, "epoch:l/0#" + "ab" * 20)
        assert store.raw_locations() == {"epoch:l/0": "/srv/l/0.git"}
        [row] = [r for rows in store.stored_raw(10) for r in rows]
        assert (row.raw, row.origin) == (None, "epoch:l/0#" + "ab" * 20)


def note(mid: str) -> Parsed:
    """A mail that is no posting (postings with one title and sender share a family)."""
    p = parsed(mid, mid.encode())
    return Parsed(p.mail, replace(p.message, kind=MessageKind.OTHER), p.sha256)


def reply(mid: str, parent: str) -> Parsed:
    p = parsed(mid)
    m = replace(p.message, in_reply_to=MessageId(parent), references=(MessageId(parent),),
                kind=MessageKind.REPLY, subject=Subject(raw="Re: x", title="x", is_reply=True))
    return Parsed(p.mail, m, p.sha256)


def comps(store: SqlStore) -> dict[str, tuple[int, bool]]:
    """message -> (its component, whether that component is dirty)."""
    with store.engine.connect() as conn:
        return {r[0]: (r[1], bool(r[2])) for r in conn.exec_driver_sql(
            "SELECT m.message_id, m.comp, c.dirty FROM message m JOIN component c"
            " ON c.id = m.comp")}


class TestThreadComponents:
    def test_a_reply_joins_its_parent_whichever_comes_first(self, store: SqlStore) -> None:
        """A reply stored before its parent waits in a placeholder; the parent joins it."""
        put(store, [reply("r@x", "p@x")])
        put(store, [note("other@x")])
        put(store, [note("p@x")])
        got = comps(store)
        assert got["r@x"][0] == got["p@x"][0] != got["other@x"][0]
        with store.engine.connect() as conn:  # the placeholder went once p@x arrived
            assert conn.exec_driver_sql("SELECT count(*) FROM thread_key WHERE key = 'p@x'"
                                        ).scalar_one() == 0

    def test_a_message_joining_two_threads_merges_them(self, store: SqlStore) -> None:
        """One reply citing two threads merges their components into one, dirty."""
        put(store, [note("a@x"), note("b@x")])
        assert comps(store)["a@x"][0] != comps(store)["b@x"][0]
        both = reply("ab@x", "a@x")
        both = Parsed(both.mail, replace(both.message, references=(MessageId("b@x"),
                                                                   MessageId("a@x"))),
                      both.sha256)
        put(store, [both])
        got = comps(store)
        assert got["a@x"] == got["b@x"] == got["ab@x"] and got["a@x"][1] is True
        assert count(store, "component") == 1

    def test_a_deletion_makes_its_component_dirty(self, store: SqlStore) -> None:
        put(store, [parsed("d@x")])
        with store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE component SET dirty = false")
        put(store, [], removals=[Removal(MessageId("d@x"), None, "t")])
        assert comps(store)["d@x"][1] is True


class TestRefreshWrites:
    def test_a_stale_generation_is_not_written(self, store: SqlStore) -> None:
        """A refresh computed before a batch changed the component leaves it dirty."""
        put(store, [parsed("s@x")])
        series_store = SqlSeriesStore(store.engine)
        [dirty] = series_store.dirty_components(100)
        put(store, [reply("late@x", "s@x")])  # the component moves on meanwhile
        assert series_store.save_components([ComponentResult(dirty.comp, dirty.gen, ())],
                                            {}, aliases_digest({})) == set()
        assert series_store.dirty_components(100)[0].gen > dirty.gen

    def test_a_refresh_of_a_merged_away_component_never_lands_on_a_new_one(
            self, store: SqlStore) -> None:
        """Component ids are never reused. A refresh computed for a component that a batch
        then merged into another must not be stored over a new component that got its id
        (SQLite reuses the highest rowid unless the table says AUTOINCREMENT). That lost
        a series when three pollers shared one SQLite database."""
        put(store, [note("big@x"), reply("big-r@x", "big@x")])
        put(store, [note("small@x")])  # the newest component: the highest id
        series_store = SqlSeriesStore(store.engine)
        stale = next(d for d in series_store.dirty_components(100)
                     if d.comp == comps(store)["small@x"][0])
        joins = reply("join@x", "big@x")
        joins = Parsed(joins.mail, replace(joins.message, references=(
            MessageId("small@x"), MessageId("big@x"))), joins.sha256)
        put(store, [joins])  # merges small@x's component into big@x's and deletes it
        put(store, [note("new@x")])  # a new component
        assert comps(store)["new@x"][0] != stale.comp
        assert series_store.save_components([ComponentResult(stale.comp, stale.gen, ())],
                                            {}, aliases_digest({})) == set()
        assert comps(store)["new@x"][1] is True  # still waits for its refresh

    def test_results_from_a_replaced_alias_map_are_not_written(self, store: SqlStore) -> None:
        """Another process stored a new map of who is who: results computed with the old
        one are dropped (the component stays dirty) rather than stored stale."""
        put(store, [parsed("s@x")])
        series_store = SqlSeriesStore(store.engine)
        [dirty] = series_store.dirty_components(100)
        new = {"old@x": "new@x"}
        series_store.save_aliases("v2", new, set(new), aliases_digest(new))
        stale = ComponentResult(dirty.comp, dirty.gen, ())
        assert series_store.save_components([stale], {}, aliases_digest({})) == set()
        assert series_store.save_components([stale], {}, aliases_digest(new)) == {dirty.comp}

    def test_refreshed_series_are_found_by_any_member(self, store: SqlStore) -> None:
        put(store, [parsed("root@x"), reply("rr@x", "root@x")])
        refresher(store)()
        reader = SqlBacklogReader(store.engine)
        assert reader.find_series("<rr@x>") == reader.find_series("root@x") == "root@x"
        assert reader.find_series("nobody@x") is None
        assert SqlSeriesStore(store.engine).dirty_components(100) == []

    def test_stats_counts_everything(self, store: SqlStore) -> None:
        """stats() reports messages, series, patches, quarantined and more."""
        put(store, [parsed("a@x"), parsed("a@x", b"other")])
        refresher(store)()
        stats = SqlBacklogReader(store.engine).stats()
        assert {k: stats[k] for k in ("messages", "duplicates", "quarantined", "series",
                                      "patches", "open")} == {
            "messages": 1, "duplicates": 1, "quarantined": 0, "series": 1, "patches": 1,
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


def test_a_concurrent_writer_waits_for_the_batch(store: SqlStore,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer storing the same Message-ID mid-batch waits for the batch's lock
    (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), then finds it stored."""
    from reviewbot.adapters.sql import store as sqlstore

    other = SqlStore(sa.create_engine(store.engine.url))
    real_chunks = sqlstore.chunks
    raced: list[threading.Thread] = []
    theirs: list[BatchOutcome] = []

    def racing_chunks(seq: Sequence[Any], n: int = 500) -> Iterator[Sequence[Any]]:
        yield from real_chunks(seq, n)
        if not raced:  # right after our existence check, before our INSERT
            raced.append(threading.Thread(target=lambda: theirs.append(other.store_batch(
                list_name="l", source_key="other", cursor="x", parsed=[parsed("race@x")],
                rejected=[], removals=[]))))
            raced[0].start()

    monkeypatch.setattr(sqlstore, "chunks", racing_chunks)
    out = put(store, [parsed("race@x"), parsed("mine@x")])
    raced[0].join(timeout=30)
    other.engine.dispose()
    assert (out.new, out.duplicates) == (2, 0)
    assert [(o.new, o.duplicates) for o in theirs] == [(0, 1)]
    assert {m.message_id for m in live_messages(store)} == {"race@x", "mine@x"}
    assert store.get_cursor("k") == "c" and store.get_cursor("other") == "x"


def test_of_two_copies_the_same_one_is_kept_whichever_came_first(store: SqlStore,
                                                                  fresh_sqlite: SqlStore) -> None:
    """Two copies (other bytes) of one Message-ID: the message is the copy with the smaller
    sha256 and the other a duplicate, in any arrival order, so daemons that see copies in
    different orders store the same thing."""
    first, second = parsed("two@x", b"copy one"), parsed("two@x", b"copy two")
    small, large = sorted((first, second), key=lambda p: p.sha256)
    put(store, [large])
    put(store, [small])
    put(fresh_sqlite, [small, large])
    for s in (store, fresh_sqlite):
        with s.engine.connect() as conn:
            kept, dups = conn.exec_driver_sql("SELECT sha256, duplicates FROM message").one()
            extra = conn.exec_driver_sql("SELECT sha256 FROM duplicate").scalars().all()
        assert (kept, dups, extra) == (small.sha256, 1, [large.sha256])
