"""Helpers for tests of the live core: stored results vs one full pass, parsed mail cached.

`stored` reads back every series as the refreshes stored it; `reference` computes
them all from scratch (service.backlog.refresh.full_pass) over the same live messages,
recorded actions and commit matches. Equal dicts mean the incremental path is right.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from reviewbot.adapters.kernel.maintainers_file import LazyMaintainers, MaintainersSource
from reviewbot.adapters.kernel.policy_files import load_policies
from reviewbot.adapters.sql.schema.codec import decode_message
from reviewbot.adapters.sql.schema.tables import MessageRow
from reviewbot.adapters.sql.series import reads
from reviewbot.adapters.sql.series.store import SqlSeriesStore
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.core.mail.parse import MalformedMessage, parse_message
from reviewbot.core.model import Message, SeriesId
from reviewbot.core.policy.model import Policy, PolicySet
from reviewbot.ports import RawMail, SeriesRecord
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.refresh import RefreshReport, full_pass, refresh
from tests.conftest import REPO_ROOT

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
DEFAULT = BacklogContext(PolicySet(Policy()))


def real_context(maintainers: Path) -> BacklogContext:
    """The shipped policies and the real MAINTAINERS, as an installation would have."""
    return BacklogContext(load_policies(REPO_ROOT / "policies"),
                          LazyMaintainers(MaintainersSource.from_path(maintainers)))


def refresher(store: SqlStore, ctx: BacklogContext = DEFAULT,
              max_messages: int = 20_000) -> Callable[[], RefreshReport]:
    series = SqlSeriesStore(store.engine)
    return lambda: refresh(series, ctx, max_messages=max_messages)


def live_messages(store: SqlStore) -> list[Message]:
    with store.engine.connect() as conn:
        return [decode_message(p) for p in conn.execute(
            sa.select(M.c.parsed).where(M.c.deleted == sa.false()).order_by(M.c.id)).scalars()]


def stored(store: SqlStore) -> dict[SeriesId, SeriesRecord]:
    return {r.series.series_id: r for r in SqlSeriesStore(store.engine).records()}


def reference(store: SqlStore, ctx: BacklogContext = DEFAULT) -> dict[SeriesId, SeriesRecord]:
    """A full pass over the store's live messages, its recorded actions and commits."""
    messages = live_messages(store)
    with store.engine.connect() as conn:
        roots = [str(m.message_id) for m in messages]
        actions = reads.actions(conn, conn.execute(
            sa.text("SELECT DISTINCT series_id FROM series_action")).scalars().all())
        commits = reads.commits(conn, roots)
    records = full_pass(messages, ctx, actions, commits)
    return {r.series.series_id: r for r in records}


class CachedParser:
    """parse_message with a cache by bytes: Hypothesis re-feeds the same mail many times."""

    def __init__(self) -> None:
        self.cache: dict[bytes, Message | MalformedMessage] = {}

    def __call__(self, raw: bytes, *, fallback_date: datetime | None = None) -> Message:
        hit = self.cache.get(raw)
        if hit is None:
            try:
                hit = parse_message(raw, fallback_date=fallback_date)
            except MalformedMessage as exc:
                hit = exc
            self.cache[raw] = hit
        if isinstance(hit, MalformedMessage):
            raise hit
        return hit


def diff(a: dict[SeriesId, SeriesRecord], b: dict[SeriesId, SeriesRecord]) -> list[str]:
    """Readable differences, for assertion messages."""
    out = [f"only stored: {sid}" for sid in sorted(set(a) - set(b))]
    out += [f"only in the full pass: {sid}" for sid in sorted(set(b) - set(a))]
    for sid in sorted(set(a) & set(b)):
        if a[sid] != b[sid]:
            fields = [f for f in SeriesRecord.__slots__ if getattr(a[sid], f) != getattr(b[sid], f)]
            out.append(f"{sid}: {', '.join(fields)} differ")
    return out[:20]


def mails_by_id(mails: Sequence[RawMail], parse: CachedParser) -> dict[str, RawMail]:
    out: dict[str, RawMail] = {}
    for m in mails:
        try:
            out.setdefault(parse(m.raw, fallback_date=m.received).message_id, m)
        except MalformedMessage:
            continue
    return out
