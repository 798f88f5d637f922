"""Applied detection's storage: branch tips per watched tree, and which commit applied what.

Rows are keyed by (tree, commit sha, Message-ID): a commit reported again
because it reached a second branch (or a `--rescan`) adds nothing, so nothing
is ever counted twice. Series and patch index are recorded as assembled when
the match was made; readers (`commit_matches`, `applied_for`) map through the
current assembly first, because a later reassembly may regroup messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Field, SQLModel

from reviewbot.adapters.sql.tables import AwareDateTime, SeriesMemberRow, SeriesPatchRow
from reviewbot.core.backlog.events import CommitMatch
from reviewbot.core.model import MessageId, SeriesId
from reviewbot.ports import AppliedRecord

P: sa.Table = SeriesPatchRow.__table__  # type: ignore[attr-defined]
MEM: sa.Table = SeriesMemberRow.__table__  # type: ignore[attr-defined]


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

    def placement(self) -> dict[MessageId, tuple[SeriesId, int | None]]:
        """Every series member -> (its series, its patch index or None)."""
        with self.engine.connect() as conn:
            return _placement(conn)

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
            for i in range(0, len(gone), 500):
                conn.execute(sa.delete(APPLIED).where(APPLIED.c.tree == tree,
                                                      APPLIED.c.sha.in_(gone[i:i + 500])))
            added = _insert_new(conn, tree, records)
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


def _placement(conn: Connection) -> dict[MessageId, tuple[SeriesId, int | None]]:
    out: dict[MessageId, tuple[SeriesId, int | None]] = {
        MessageId(m): (SeriesId(s), None)
        for m, s in conn.execute(sa.select(MEM.c.message_id, MEM.c.series_id))}
    for m, s, idx in conn.execute(sa.select(P.c.message_id, P.c.series_id, P.c.idx)):
        out[MessageId(m)] = (SeriesId(s), idx)
    return out


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


def _rows(conn: Connection, where: Any = None) -> list[AppliedRow]:
    placed = _placement(conn)
    q = sa.select(APPLIED).order_by(APPLIED.c.commit_date, APPLIED.c.sha, APPLIED.c.id)
    out: list[AppliedRow] = []
    for r in conn.execute(q if where is None else q.where(where)):
        sid, idx = placed.get(MessageId(r.message_id), (SeriesId(r.series_id), r.patch_idx))
        out.append(AppliedRow(r.tree, r.branch, r.sha, MessageId(r.message_id), sid, idx,
                              r.method, r.fuzzy, r.commit_date, r.first_seen))
    return out


def applied_rows(engine: Engine, message_ids: Iterable[str] | None = None) -> list[AppliedRow]:
    """Stored matches (all, or those of these postings), oldest commit first."""
    with engine.connect() as conn:
        if message_ids is None:
            return _rows(conn)
        ids = sorted(set(message_ids))
        return [r for i in range(0, len(ids), 500)
                for r in _rows(conn, APPLIED.c.message_id.in_(ids[i:i + 500]))]


def commit_matches(engine: Engine) -> dict[SeriesId, list[CommitMatch]]:
    """Per series, one CommitMatch per commit: the patch indexes it applies, oldest first.

    A commit found in two watched trees (or reported by two polls) is one
    match; the branch is where it was first seen.
    """
    merged: dict[tuple[SeriesId, str], tuple[datetime, set[int], str]] = {}
    for r in applied_rows(engine):
        if r.patch_idx is None:
            continue  # no longer a listed patch of any series
        key = (r.series_id, r.sha)
        at, patches, branch = merged.get(key, (r.at, set(), r.branch))
        patches.add(r.patch_idx)
        merged[key] = (min(at, r.at), patches, branch)
    out: dict[SeriesId, list[CommitMatch]] = {}
    for (sid, sha), (at, patches, branch) in merged.items():
        out.setdefault(sid, []).append(CommitMatch(at, sha, tuple(sorted(patches)), branch))
    for matches in out.values():
        matches.sort(key=lambda c: (c.at, c.sha))
    return out
