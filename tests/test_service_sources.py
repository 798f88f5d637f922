"""Every kind of source feeds the same parse -> store -> refresh path to the same series."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewbot.adapters.sources.epoch import EpochSource
from reviewbot.adapters.sources.lore import LoreSource
from reviewbot.adapters.sources.mboxfile import MboxSource
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.ports import RawMail
from reviewbot.service.backlog.ingest import ingest
from tests.epochs import make_epoch
from tests.live import refresher
from tests.sqlfixtures import snapshot


def series_of(store: SqlStore) -> object:
    return snapshot(store)["series"]


def write_mboxrd(path: Path, mails: list[RawMail]) -> Path:
    with path.open("wb") as out:
        for m in mails:
            out.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n")
            body = re.sub(rb"(?m)^(>*From )", rb">\1", m.raw)
            out.write(body if body.endswith(b"\n") else body + b"\n")
            out.write(b"\n")
    return path


def test_mbox_and_epoch_give_the_same_series(
    store: SqlStore, fresh_sqlite: SqlStore, corpus_mails: list[RawMail], tmp_path: Path
) -> None:
    """The first 400 corpus mails as an epoch and as an mboxrd file: identical series."""
    mails = corpus_mails[:400]
    with EpochSource("linux-rdma", [make_epoch(tmp_path / "0.git", mails)]) as epoch:
        from_epoch = ingest(epoch, store, list_name="linux-rdma", refresher=refresher(store))
    mbox = MboxSource(write_mboxrd(tmp_path / "l.mbox", mails), "linux-rdma")
    from_mbox = ingest(mbox, fresh_sqlite, list_name="linux-rdma",
                       refresher=refresher(fresh_sqlite))
    assert from_epoch.messages == from_mbox.messages == 400
    assert (from_epoch.series or 0) > 30
    assert series_of(store) == series_of(fresh_sqlite)


@pytest.mark.slow
@pytest.mark.corpus
def test_lore_over_http_and_the_epoch_give_the_same_series(
    store: SqlStore, fresh_sqlite: SqlStore, corpus_git: Path, lore_server: str
) -> None:
    """The whole corpus from public-inbox-httpd and from the git epoch: identical series."""
    with EpochSource("linux-rdma", [corpus_git]) as epoch:
        from_epoch = ingest(epoch, store, list_name="linux-rdma", refresher=refresher(store))
    from_lore = ingest(LoreSource(lore_server, "linux-rdma"), fresh_sqlite,
                       list_name="linux-rdma", refresher=refresher(fresh_sqlite))
    # public-inbox serves one copy of each of the 25 Message-IDs the archive holds twice.
    assert (from_epoch.messages, from_epoch.new) == (8487, 8459)
    assert (from_lore.messages, from_lore.new) == (8459, 8459)
    assert from_epoch.series == from_lore.series
    assert series_of(store) == series_of(fresh_sqlite)
