"""Mail with a bad Date through every file source into a real store (issue 7).

Real corpus mails (tests/data/mail) without their Date header are stored, not
quarantined: dated by the first Received: header, else by the mbox From_ line,
the maildir delivery time or the epoch commit time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from reviewbot.adapters.sources.epoch import EpochSource
from reviewbot.adapters.sources.mboxfile import MboxSource
from reviewbot.adapters.sql.schema.codec import decode_message
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.ports import RawMail
from reviewbot.service.backlog.ingest import ingest
from tests.conftest import DATA
from tests.core.mailedit import with_date, without
from tests.core.test_mail_dates import FIRST_HOP
from tests.epochs import make_epoch

REPLY = (DATA / "mail" / "plain_applied_for_next.eml").read_bytes()
PATCH = (DATA / "mail" / "in_body_from_patch.eml").read_bytes()
REPLY_ID, PATCH_ID = "20250813102722.GA310013@unreal", "20250509190354.5393-9-cel@kernel.org"
ARRIVED = datetime(2025, 8, 13, 10, 40, 5, tzinfo=UTC)


def dates(store: SqlStore) -> dict[str, tuple[datetime, tuple[str, ...]]]:
    """Date and date warnings of every stored message, read from the message table."""
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT parsed FROM message")).scalars().all()
    return {m.message_id: (m.date, tuple(w for w in m.warnings if "dated by" in w))
            for m in map(decode_message, stored)}


def test_mbox_from_line_dates_mail_without_date_or_received(
    store: SqlStore, tmp_path: Path
) -> None:
    """An mbox whose From_ lines carry delivery times (mutt, procmail, Thunderbird)."""
    mbox = tmp_path / "saved.mbox"
    mbox.write_bytes(
        b"From leon@kernel.org Wed Aug 13 10:40:05 2025\n" + without(REPLY, "Date", "Received")
        + b"\nFrom cel@kernel.org Fri May  9 19:10:00 2025\n" + without(PATCH, "Date") + b"\n")
    report = ingest(MboxSource(mbox, "linux-rdma"), store, list_name="linux-rdma")
    assert (report.messages, report.quarantined) == (2, 0)
    got = dates(store)
    assert got[REPLY_ID] == (ARRIVED, (
        "no Date header; dated by the archive (mbox From_ line or epoch commit time)",))
    # The patch keeps its Received: headers: they win over the From_ line.
    assert got[PATCH_ID][1] == ("no Date header; dated by the first Received: header",)
    assert got[PATCH_ID][0] != datetime(2025, 5, 9, 19, 10, tzinfo=UTC)


def test_maildir_delivery_time_dates_mail_without_date_or_received(
    store: SqlStore, tmp_path: Path
) -> None:
    """A maildir's unique name starts with the delivery time."""
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "md" / sub).mkdir(parents=True)
    name = f"{int(ARRIVED.timestamp())}.M1P2.host:2,S"
    (tmp_path / "md" / "cur" / name).write_bytes(without(REPLY, "Date", "Received"))
    report = ingest(MboxSource(tmp_path / "md", "linux-rdma"), store, list_name="linux-rdma")
    assert (report.messages, report.quarantined) == (1, 0)
    assert dates(store)[REPLY_ID][0] == ARRIVED


def test_epoch_commit_time_dates_mail_without_date_or_received(
    store: SqlStore, tmp_path: Path
) -> None:
    """A public-inbox epoch: the commit that added the mail is its arrival."""
    git_dir = make_epoch(tmp_path / "0.git", [
        RawMail(without(REPLY, "Date", "Received"), "x", ARRIVED),
        RawMail(with_date(PATCH, ""), "y", ARRIVED),
    ])
    with EpochSource("linux-rdma", [git_dir]) as source:
        report = ingest(source, store, list_name="linux-rdma")
    assert (report.messages, report.quarantined) == (2, 0)
    got = dates(store)
    assert got[REPLY_ID][0] == ARRIVED
    assert got[PATCH_ID][1] == ("empty Date header; dated by the first Received: header",)


def test_received_header_wins_in_an_mbox_with_placeholder_from_lines(
    store: SqlStore, tmp_path: Path
) -> None:
    """public-inbox's own mboxrd ("From mboxrd@z Thu Jan  1 00:00:00 1970"): Received: dates it."""
    mbox = tmp_path / "lore.mbox"
    mbox.write_bytes(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + without(REPLY, "Date") + b"\n")
    report = ingest(MboxSource(mbox, "linux-rdma"), store, list_name="linux-rdma")
    assert report.quarantined == 0
    assert dates(store)[REPLY_ID][0] == FIRST_HOP
