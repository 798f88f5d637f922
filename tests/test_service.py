"""The ingest service: batches -> parse -> store -> refresh, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest

from reviewbot.adapters.sources.epoch import EpochReader
from reviewbot.adapters.sql.series.queries import SqlBacklogReader
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.core.mail.parse import MalformedMessage, parse_message
from reviewbot.core.model import Message, MessageId, Series
from reviewbot.ports import Deletion, RawMail
from reviewbot.service.backlog.ingest import IngestReport, ingest, reparse
from tests.live import live_messages, refresher, stored
from tests.sqlfixtures import ListSource, header_parse, snapshot

NO_EPOCHS = EpochReader({})  # these tests store raw bytes: nothing is read by reference

# The cover letter and patches of "[PATCH mlx5-next 0/3] Add RDMA TRANSPORT steering
# domain" (2 January 2025), read off the raw corpus with `git log`.
COVER = "cover.1735817449.git.leon@kernel.org"
PATCH_1 = "4d3971222035da8b0b17a8c315467a6927106944.1735817449.git.leon@kernel.org"


def ids(mails: list[RawMail]) -> set[str]:
    return {header_parse(m.raw).message_id for m in mails}


def series_of(store: SqlStore, message_id: str) -> Series | None:
    reader = SqlBacklogReader(store.engine)
    sid = reader.find_series(message_id)
    return reader.histories([sid])[sid].series if sid is not None else None


def stat(store: SqlStore, key: str) -> int:
    return int(SqlBacklogReader(store.engine).stats()[key])


class TestIdempotence:
    def test_duplicates_are_stored_once(self, store: SqlStore, corpus_mails: list[RawMail]
                                        ) -> None:
        """Re-delivered Message-IDs count as duplicates and are kept once."""
        mails = corpus_mails[:300]
        report = ingest(ListSource([*mails, *mails[:5]], 50), store, list_name="l",
                        parse=header_parse)
        assert (report.messages, report.new, report.duplicates) == (305, len(ids(mails)), 5)
        assert stat(store, "messages") == len(ids(mails))

    def test_rerun_changes_nothing(self, store: SqlStore, corpus_mails: list[RawMail]) -> None:
        """The same source resumes at its end; another source with the same mail adds nothing."""
        mails = corpus_mails[:400]
        refresh = refresher(store)
        ingest(ListSource(mails, 64), store, list_name="l", refresher=refresh)
        before = snapshot(store)
        again = ingest(ListSource(mails, 64), store, list_name="l", refresher=refresh)
        assert (again.messages, again.new) == (0, 0)
        other = ingest(ListSource(mails, 100, key="test:other"), store, list_name="l",
                       refresher=refresh)
        assert (other.messages, other.new, other.duplicates) == (400, 0, 400)
        assert snapshot(store) == before

    def test_interrupted_ingest_resumes_without_loss_or_doubles(
        self, store: SqlStore, fresh_sqlite: SqlStore, corpus_mails: list[RawMail]
    ) -> None:
        """A source failing after 3 batches leaves a cursor; resuming equals one clean run."""
        mails = corpus_mails[:500]
        with pytest.raises(ConnectionError):
            ingest(ListSource(mails, 60, fail_after=3), store, list_name="l",
                   refresher=refresher(store))
        assert store.get_cursor("test:list") == "180"
        assert stat(store, "messages") == len(ids(mails[:180]))
        assert stat(store, "series") > 0  # the failed run still refreshed what it stored
        resumed = ingest(ListSource(mails, 60), store, list_name="l",
                         refresher=refresher(store))
        assert resumed.messages == 500 - 180
        ingest(ListSource(mails, 500), fresh_sqlite, list_name="l",
               refresher=refresher(fresh_sqlite))
        assert snapshot(store) == snapshot(fresh_sqlite)

    def test_batch_boundaries_do_not_change_the_series(
        self, store: SqlStore, fresh_sqlite: SqlStore, corpus_mails: list[RawMail]
    ) -> None:
        """Seven-message batches and one big batch give identical stored series."""
        mails = corpus_mails[:700]
        small = ingest(ListSource(mails, 7), store, list_name="l", refresher=refresher(store))
        big = ingest(ListSource(mails, 700), fresh_sqlite, list_name="l",
                     refresher=refresher(fresh_sqlite))
        assert small.series == big.series and (small.series or 0) > 50
        assert snapshot(store) == snapshot(fresh_sqlite)


def test_a_second_refresh_finds_nothing_to_do(store: SqlStore,
                                              corpus_mails: list[RawMail]) -> None:
    """Refreshing touches only dirty components: right after one, none is left."""
    report = ingest(ListSource(corpus_mails[:600], 100), store, list_name="l",
                    refresher=refresher(store))
    assert report.refreshed is not None and report.refreshed.series > 0
    before = snapshot(store)
    again = refresher(store)()
    assert (again.components, again.series) == (0, 0)
    assert snapshot(store) == before


class TestQuarantine:
    def test_bad_mail_is_quarantined_and_ingest_goes_on(
        self, store: SqlStore, corpus_mails: list[RawMail]
    ) -> None:
        """MalformedMessage and parser crashes both quarantine with the reason; the rest lands."""
        mails = corpus_mails[:50]
        crash_id = header_parse(mails[10].raw).message_id

        def flaky(raw: bytes, *, fallback_date: object = None) -> Message:
            if raw is mails[5].raw:
                raise MalformedMessage("no Message-ID header")
            m = header_parse(raw)
            if m.message_id == crash_id:
                raise IndexError("list index out of range")
            return m

        report = ingest(ListSource(mails, 20), store, list_name="l", parse=flaky)
        assert report.quarantined == 2 and report.new == len(ids(mails)) - 2
        with store.engine.connect() as conn:
            rows = dict(conn.exec_driver_sql("SELECT message_id, reason FROM quarantine").all())
        assert rows[crash_id] == "parser error: IndexError: list index out of range"
        assert rows[header_parse(mails[5].raw).message_id] == "no Message-ID header"

    def test_reparse_recovers_quarantine_and_refreshes_messages(
        self, store: SqlStore, corpus_mails: list[RawMail]
    ) -> None:
        """After a parser fix, reparse moves quarantined mail in and re-derives the rest."""
        mails = corpus_mails[:80]
        broken = {header_parse(m.raw).message_id for m in mails[::10]}

        def old_parser(raw: bytes, *, fallback_date: object = None) -> Message:
            m = header_parse(raw)
            if m.message_id in broken:
                raise MalformedMessage("old parser bug")
            return m

        ingest(ListSource(mails, 30), store, list_name="l", parse=old_parser)
        assert stat(store, "quarantined") == len(broken)
        outcome, _ = reparse(store, NO_EPOCHS, parse=header_parse, refresher=refresher(store))
        assert outcome.recovered == len(broken) and outcome.quarantined == 0
        assert stat(store, "quarantined") == 0
        assert stat(store, "messages") == len(ids(mails))
        assert {m.message_id for m in live_messages(store)} == ids(mails)

    def test_reparse_quarantines_what_no_longer_parses_keeping_bytes(
        self, store: SqlStore, corpus_mails: list[RawMail]
    ) -> None:
        """A stored message the new parser rejects moves to quarantine, bytes intact."""
        mails = corpus_mails[:20]
        ingest(ListSource(mails, 20), store, list_name="l", parse=header_parse)
        victim = header_parse(mails[3].raw).message_id

        def stricter(raw: bytes, *, fallback_date: object = None) -> Message:
            m = header_parse(raw)
            if m.message_id == victim:
                raise MalformedMessage("now rejected")
            return m

        outcome, _ = reparse(store, NO_EPOCHS, parse=stricter)
        assert outcome.quarantined == 1
        with store.engine.connect() as conn:
            sha = conn.exec_driver_sql("SELECT sha256 FROM quarantine").scalar_one()
        assert sha == hashlib.sha256(mails[3].raw).hexdigest()


class TestDeletion:
    def test_deleted_patch_leaves_its_series(self, store: SqlStore,
                                             corpus_mails: list[RawMail]) -> None:
        """A public-inbox deletion removes the message from reassembly, not from storage."""
        mails = corpus_mails[:300]
        ingest(ListSource(mails, 100), store, list_name="l", refresher=refresher(store))
        found = series_of(store, PATCH_1)
        assert found is not None and [p.index for p in found.patches] == [1, 2, 3]
        deletion = Deletion(MessageId(PATCH_1), None, "test#rm")
        report = ingest(ListSource([*mails, deletion], 100), store, list_name="l",
                        refresher=refresher(store))
        assert report.deleted == 1
        series = series_of(store, COVER)
        assert series is not None and [p.index for p in series.patches] == [2, 3]
        assert series.missing == (1,) and PATCH_1 not in series.members
        assert stat(store, "deleted") == 1

    def test_deletion_known_only_by_its_bytes(self, store: SqlStore,
                                              corpus_mails: list[RawMail]) -> None:
        """A Deletion without a Message-ID is matched by the removed message's bytes."""
        mails = corpus_mails[:40]
        ingest(ListSource(mails, 40), store, list_name="l", parse=header_parse)
        gone = header_parse(mails[7].raw).message_id
        report = ingest(ListSource([Deletion(None, mails[7].raw, "test#d")], 1, key="rm"),
                        store, list_name="l", parse=header_parse)
        assert report.deleted == 1
        assert gone not in {m.message_id for m in live_messages(store)}


@pytest.mark.slow
@pytest.mark.corpus
def test_whole_corpus_through_the_real_parser(store: SqlStore,
                                              corpus_mails: list[RawMail]) -> None:
    """All 8,487 mails: 8,459 Message-IDs stored once, 28 extra copies recorded, none lost."""
    report = ingest(ListSource(corpus_mails, 500), store, list_name="linux-rdma",
                    parse=parse_message, refresher=refresher(store))
    assert isinstance(report, IngestReport)
    assert (report.messages, report.new, report.duplicates) == (8487, 8459, 28)
    assert report.quarantined == 0
    stats = SqlBacklogReader(store.engine).stats()
    assert (stats["messages"], stats["duplicates"]) == (8459, 28)
    assert stats["series"] == report.series == len(stored(store)) and stats["series"] > 500


@pytest.mark.corpus
def test_parsing_in_worker_processes_stores_the_same(
        store: SqlStore, fresh_sqlite: SqlStore, corpus_mails: list[RawMail]) -> None:
    """Batches parsed by a ParsePool's workers (after the first two) store exactly what
    parsing in-process stores: messages, quarantine, series."""
    from reviewbot.adapters.sql.schema.codec import decode_message, encode_message
    from reviewbot.service.backlog.parsing import ParsePool

    mails = corpus_mails[:1500]
    pool = ParsePool(parse_message, encode_message, decode_message, 1)
    try:
        report = ingest(ListSource(mails, 100), store, list_name="l", pool=pool,
                        refresher=refresher(store))
    finally:
        pool.close()
    alone = ingest(ListSource(mails, 100), fresh_sqlite, list_name="l",
                   refresher=refresher(fresh_sqlite))
    assert (report.new, report.series) == (alone.new, alone.series)
    assert snapshot(store) == snapshot(fresh_sqlite)
