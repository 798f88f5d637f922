"""Applied detection's storage: branch tips per watched tree, and which commit applied what.

Rows are keyed by (tree, commit sha, Message-ID): a commit reported again
because it reached a second branch (or a `--rescan`) adds nothing, so nothing
is ever counted twice. Series and patch index are recorded as assembled when
the match was made; readers map a posting to its series through the current
assembly (message.series), because a later reassembly may regroup messages.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from reviewbot.adapters.sql import graph
from reviewbot.adapters.sql.graph import chunks
from reviewbot.adapters.sql.schema.codec import decode_message
from reviewbot.adapters.sql.schema.series import SeriesRow
from reviewbot.adapters.sql.schema.tables import AwareDateTime, MessageRow
from reviewbot.core.model import Message, MessageId, SeriesId
from reviewbot.ports import AppliedRecord

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]


def _aware(index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(AwareDateTime(), nullable=False, index=index))


class TreeTipRow(SQLModel, table=True):
    """Where the next poll of a (tree, branch) resumes. Written with its matches."""

    __tablename__ = "tree_tip"

    tree: str = Field(primary_key=True)  # the configured source: URL or absolute path
    branch: str = Field(primary_key=True)
    sha: str
    updated: datetime = _aware()


class TreeAppliedRow(SQLModel, table=True):
    """Commit `sha`, first seen on `branch` of `tree`, applies posting `message_id`."""

    __tablename__ = "tree_applied"
    __table_args__ = (sa.UniqueConstraint("tree", "sha", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tree: str
    branch: str
    sha: str = Field(index=True)
    message_id: str = Field(index=True)
    series_id: str = Field(index=True)  # as assembled when matched
    patch_idx: int | None = None  # 1-based; None: the posting was in no series' patch list
    method: str  # core.applied.MatchMethod value
    fuzzy: bool
    commit_date: datetime = _aware()
    first_seen: datetime = _aware()


TIP: sa.Table = TreeTipRow.__table__  # type: ignore[attr-defined]
APPLIED: sa.Table = TreeAppliedRow.__table__  # type: ignore[attr-defined]


class SqlTrees:
    """The TreeStore port (reviewbot/ports.py) over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def tips(self, tree: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(TIP.c.branch, TIP.c.sha).where(TIP.c.tree == tree))
            return {r.branch: r.sha for r in rows}

    def candidates(self, patch_ids: Collection[str], message_ids: Collection[str],
                   subject_keys: Collection[int]) -> list[tuple[Message, SeriesId | None]]:
        live = M.c.deleted == sa.false()
        rows: dict[int, tuple[bytes, str | None]] = {}
        with self.engine.connect() as conn:
            conditions: list[Any] = []
            for part in chunks(sorted(patch_ids)):
                conditions.append(M.c.patch_id.in_(part))
            for part in chunks(sorted(subject_keys)):
                conditions.append(M.c.subject_key.in_(part))
            for part in chunks(sorted(message_ids)):
                conditions.append(M.c.message_id.in_(part))
                # The other postings of the series those messages belong to or root.
                linked = sa.select(M.c.series).where(M.c.message_id.in_(part),
                                                     M.c.series.is_not(None))
                rooted = sa.select(S.c.id).where(S.c.series_id.in_(part))
                conditions.append(M.c.series.in_(linked.union(rooted).scalar_subquery()))
            for cond in conditions:
                for r in conn.execute(
                        sa.select(M.c.id, M.c.parsed, S.c.series_id)
                        .outerjoin(S, S.c.id == M.c.series).where(cond, live)):
                    rows[r.id] = (r.parsed, r.series_id)
        return [(decode_message(parsed), SeriesId(sid) if sid else None)
                for _, (parsed, sid) in sorted(rows.items())]

    def applied_shas(self, tree: str, branches: Sequence[str]) -> list[str]:
        """Matched commits of `tree` first seen on one of `branches`."""
        with self.engine.connect() as conn:
            return list(conn.execute(
                sa.select(APPLIED.c.sha).distinct()
                .where(APPLIED.c.tree == tree, APPLIED.c.branch.in_(list(branches)))
                .order_by(APPLIED.c.sha)).scalars())

    def record(
        self, tree: str, tips: Mapping[str, str], records: Sequence[AppliedRecord],
        dropped: Iterable[str], now: datetime,
    ) -> int:
        """Tips, new matches and dropped commits in ONE transaction; returns rows added."""
        with self.engine.begin() as conn:
            gone = sorted(set(dropped))
            touched: list[str] = [r.message_id for r in records]
            for part in chunks(gone):
                touched += conn.execute(sa.select(APPLIED.c.message_id).where(
                    APPLIED.c.tree == tree, APPLIED.c.sha.in_(part))).scalars().all()
                conn.execute(sa.delete(APPLIED).where(APPLIED.c.tree == tree,
                                                      APPLIED.c.sha.in_(part)))
            added = _insert_new(conn, tree, records)
            graph.touch(conn, graph.comps_of_messages(conn, touched))
            for branch, sha in tips.items():
                where = (TIP.c.tree == tree, TIP.c.branch == branch)
                if conn.execute(sa.update(TIP).where(*where)
                                .values(sha=sha, updated=now)).rowcount == 0:
                    conn.execute(sa.insert(TIP).values(tree=tree, branch=branch, sha=sha,
                                                       updated=now))
        return added


def _insert_new(conn: Connection, tree: str, records: Sequence[AppliedRecord]) -> int:
    shas = sorted({r.sha for r in records})
    have: set[tuple[str, str]] = set()
    for i in range(0, len(shas), 500):
        have.update((r.sha, r.message_id) for r in conn.execute(
            sa.select(APPLIED.c.sha, APPLIED.c.message_id)
            .where(APPLIED.c.tree == tree, APPLIED.c.sha.in_(shas[i:i + 500]))))
    rows: list[dict[str, Any]] = []
    for r in records:
        if (r.sha, r.message_id) in have:
            continue  # seen before (another branch, a rescan): never counted twice
        have.add((r.sha, r.message_id))
        rows.append({"tree": tree, "branch": r.branch, "sha": r.sha,
                     "message_id": r.message_id, "series_id": r.series_id,
                     "patch_idx": r.patch_idx, "method": r.method, "fuzzy": r.fuzzy,
                     "commit_date": r.commit_date, "first_seen": r.first_seen})
    if rows:
        conn.execute(sa.insert(APPLIED), rows)
    return len(rows)


@dataclass(frozen=True, slots=True)
class AppliedRow:
    """One stored match, placed in the current assembly."""

    tree: str
    branch: str
    sha: str
    message_id: MessageId
    series_id: SeriesId
    patch_idx: int | None
    method: str
    fuzzy: bool
    commit_date: datetime
    first_seen: datetime

    @property
    def at(self) -> datetime:
        # Committed at commit_date, but never later than we saw it (clock skew).
        return min(self.commit_date, self.first_seen)


def applied_rows(engine: Engine, message_ids: Iterable[str]) -> list[AppliedRow]:
    """Stored matches of these postings, oldest commit first, each with the series the
    posting belongs to now (a later reassembly may have regrouped it)."""
    out: list[AppliedRow] = []
    with engine.connect() as conn:
        for part in chunks(sorted(set(message_ids))):
            q = (sa.select(APPLIED, S.c.series_id.label("now_series"))
                 .outerjoin(M, M.c.message_id == APPLIED.c.message_id)
                 .outerjoin(S, S.c.id == M.c.series)
                 .where(APPLIED.c.message_id.in_(part)))
            for r in conn.execute(q):
                out.append(AppliedRow(r.tree, r.branch, r.sha, MessageId(r.message_id),
                                      SeriesId(r.now_series or r.series_id), r.patch_idx,
                                      r.method, r.fuzzy, r.commit_date, r.first_seen))
    out.sort(key=lambda r: (r.commit_date, r.sha, r.message_id))
    return out
