"""The live core's acceptance test: incremental results equal one full pass.

Mail arrives in any order and any batch sizes, with re-deliveries and public-inbox
deletions; refreshes run at arbitrary points (or only at the end). The stored
series, revisions, trailers, routing and standings must then be exactly those of
`assemble(all)` plus one standing per series (service.backlog.refresh.full_pass).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.core.model import MessageId
from reviewbot.ports import Deletion, RawMail
from reviewbot.service.backlog.ingest import ingest
from tests.live import (
    CachedParser,
    diff,
    mails_by_id,
    real_context,
    reference,
    refresher,
    stored,
)
from tests.sqlfixtures import ListSource

PARSE = CachedParser()


@contextmanager
def fresh_store(template: Path, where: Path) -> Iterator[SqlStore]:
    path = where / f"db-{random.getrandbits(40):x}.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield SqlStore(engine)
    finally:
        engine.dispose()
        path.unlink()


def arrivals(rnd: random.Random, mails: list[RawMail], *, redeliver: float,
             delete: float) -> list[RawMail | Deletion]:
    """The mail shuffled, some of it delivered twice, some deleted after it arrived."""
    items: list[RawMail | Deletion] = list(mails)
    rnd.shuffle(items)
    for m in rnd.sample(mails, int(len(mails) * redeliver)):
        items.insert(rnd.randrange(len(items) + 1), m)
    ids = mails_by_id(mails, PARSE)
    for mid in rnd.sample(sorted(ids), int(len(ids) * delete)):
        after = max(i for i, x in enumerate(items) if x is ids[mid])
        items.insert(rnd.randrange(after + 1, len(items) + 1),
                     Deletion(MessageId(mid), None, "test#rm"))
    return items


def feed(store: SqlStore, rnd: random.Random, items: list[RawMail | Deletion],
         refresh_every: int, refresh: object) -> None:
    """Ingest `items` in random batch sizes, refreshing after every `refresh_every` runs."""
    pos, run = 0, 0
    while pos < len(items):
        size = rnd.randint(1, 150)
        part = items[pos:pos + size]
        pos += size
        run += 1
        do_refresh = refresh_every and run % refresh_every == 0
        ingest(ListSource(part, size, key=f"test:{run}"), store, list_name="l", parse=PARSE,
               refresher=refresh if do_refresh else None)  # type: ignore[arg-type]
    refresh()  # type: ignore[operator]


@pytest.mark.corpus
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), start=st.integers(0, 7000),
       refresh_every=st.sampled_from([0, 1, 3]), chunk=st.sampled_from([40, 20_000]))
def test_any_arrival_order_and_refresh_points_give_the_full_pass(
        sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
        corpus_mails: list[RawMail], kernel_maintainers: Path, seed: int, start: int,
        refresh_every: int, chunk: int) -> None:
    """400 consecutive real mails, shuffled, re-delivered and deleted at random, stored in
    random batches with refreshes anywhere (and refresh chunks down to 40 messages)."""
    rnd = random.Random(seed)
    mails = corpus_mails[start:start + 400]
    items = arrivals(rnd, mails, redeliver=0.05, delete=0.03)
    ctx = real_context(kernel_maintainers)
    with fresh_store(sqlite_template, tmp_path_factory.getbasetemp()) as store:
        feed(store, rnd, items, refresh_every, refresher(store, ctx, max_messages=chunk))
        got, want = stored(store), reference(store, ctx)
        assert got == want, diff(got, want)
        assert len(want) > 20


@pytest.mark.slow
@pytest.mark.corpus
@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_the_whole_corpus_shuffled_gives_the_full_pass(
        store: SqlStore, corpus_mails: list[RawMail], kernel_maintainers: Path) -> None:
    """All 8,487 mails in a random order and random batches, 2% re-delivered and 1%
    deleted, refreshed every fifth batch in 2,000-message chunks: the same series,
    revisions, trailers, routing and states as one full pass."""
    rnd = random.Random(2025)
    items = arrivals(rnd, list(corpus_mails), redeliver=0.02, delete=0.01)
    ctx = real_context(kernel_maintainers)
    feed(store, rnd, items, 5, refresher(store, ctx, max_messages=2000))
    got, want = stored(store), reference(store, ctx)
    assert got == want, diff(got, want)
    assert len(want) > 1000
