"""Thread components in SQL: give new messages a component, merge what their keys join.

Runs inside the transaction that stores a batch, so a batch and the components
it touched commit together. Each message row carries its component; keys that
name no stored message (a referenced Message-ID not seen yet, a revision-family
key) live in `thread_key`. Merging relabels the smaller components into the
largest. Every component a batch touches gets a new generation and is marked
dirty, for the refresh to reassemble.

Several daemons (PostgreSQL), or several pollers of one daemon (threads, also on
SQLite), may store batches at once: `lock_graph` serialises the component
bookkeeping. Batches are short, so the wait is too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from reviewbot.adapters.sql.locks import pg_lock_key
from reviewbot.adapters.sql.schema.series import ComponentRow, SeriesRow, ThreadKeyRow
from reviewbot.adapters.sql.schema.tables import MessageRow

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
COMP: sa.Table = ComponentRow.__table__  # type: ignore[attr-defined]
KEY: sa.Table = ThreadKeyRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
CHUNK = 500


def chunks(seq: Sequence[Any], n: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def lock_graph(conn: Connection) -> None:
    """Serialise component bookkeeping across writers, until the transaction ends.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: a write as the first
    statement of the transaction, which takes the database's write lock at once
    (waiting for another writer, as BEGIN IMMEDIATE would); without it the reads
    that come first run outside the write transaction (pysqlite begins one only at
    the first write) and two writers could both decide a key is new.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"SELECT pg_advisory_xact_lock({pg_lock_key('k')})"),
                     {"k": "component graph"})
    elif conn.dialect.name == "sqlite":
        conn.execute(sa.text("UPDATE meta SET value = value WHERE key = 'graph_lock'"))


class _Groups:
    """Union-find over strings; the smaller name wins so results never depend on order."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo


def _comp_node(comp: int) -> str:
    return f"\1{comp}"  # cannot collide with a Message-ID or a family key (" ...")


def link(conn: Connection, items: Sequence[tuple[str, tuple[str, ...]]]) -> dict[str, int]:
    """Components for new messages `(message_id, linkage keys)`; returns message_id -> comp.

    The messages must not be stored yet. Touched components become dirty.
    """
    if not items:
        return {}
    lock_graph(conn)
    new_ids = {mid for mid, _ in items}
    keys = sorted({k for _, ks in items for k in ks} | new_ids)
    stored: dict[str, int] = {}  # key -> comp, from messages
    placeholders: dict[str, int] = {}  # key -> comp, from thread_key
    for part in chunks(keys):
        stored.update({r[0]: r[1] for r in conn.execute(
            sa.select(M.c.message_id, M.c.comp).where(M.c.message_id.in_(part),
                                                      M.c.comp.is_not(None)))})
        placeholders.update({r[0]: r[1] for r in conn.execute(
            sa.select(KEY.c.key, KEY.c.comp).where(KEY.c.key.in_(part)))})
    groups = _Groups()
    for mid, ks in items:
        groups.find(mid)
        for k in ks:
            groups.union(mid, k)
    for k, comp in (*stored.items(), *placeholders.items()):
        groups.union(k, _comp_node(comp))
    members: dict[str, list[str]] = {}  # group root -> new message ids
    for mid in sorted(new_ids):
        members.setdefault(groups.find(mid), []).append(mid)
    existing: dict[str, set[int]] = {root: set() for root in members}
    for comp in {*stored.values(), *placeholders.values()}:
        root = groups.find(_comp_node(comp))
        if root in existing:
            existing[root].add(comp)
    sizes = _sizes(conn, sorted({c for cs in existing.values() for c in cs}))
    out: dict[str, int] = {}
    grown: list[dict[str, int]] = []  # size and generation updates, written in one go
    fresh = [root for root in members if not existing[root]]
    for root, mids in members.items():
        if existing[root]:
            target, size = _merge(conn, sorted(existing[root]), sizes)
            grown.append({"cid": target, "n": size + len(mids)})
            out.update(dict.fromkeys(mids, target))
    if fresh:  # one INSERT for every new component, ids back in order
        ids = conn.execute(sa.insert(COMP).returning(COMP.c.id, sort_by_parameter_order=True),
                           [{"size": len(members[r]), "gen": 1, "dirty": True}
                            for r in fresh]).scalars().all()
        for root, cid in zip(fresh, ids, strict=True):
            out.update(dict.fromkeys(members[root], int(cid)))
    if grown:
        conn.execute(sa.update(COMP).where(COMP.c.id == sa.bindparam("cid"))
                     .values(size=sa.bindparam("n"), gen=COMP.c.gen + 1, dirty=True), grown)
    _record_keys(conn, items, out, stored, placeholders)
    return out


def extend(conn: Connection, message_id: str, comp: int, keys: Sequence[str]) -> int:
    """A stored message (in `comp`) now has `keys` too (another copy of it was kept):
    join what they name. Returns the message's component afterwards (dirty)."""
    lock_graph(conn)
    stored: dict[str, int] = {}
    placeholders: dict[str, int] = {}
    for part in chunks(sorted(set(keys))):
        stored.update({r[0]: r[1] for r in conn.execute(
            sa.select(M.c.message_id, M.c.comp).where(M.c.message_id.in_(part),
                                                      M.c.comp.is_not(None)))})
        placeholders.update({r[0]: r[1] for r in conn.execute(
            sa.select(KEY.c.key, KEY.c.comp).where(KEY.c.key.in_(part)))})
    comps = sorted({comp, *stored.values(), *placeholders.values()})
    target, size = _merge(conn, comps, _sizes(conn, comps))
    conn.execute(sa.update(COMP).where(COMP.c.id == target)
                 .values(size=size, gen=COMP.c.gen + 1, dirty=True))
    _record_keys(conn, [(message_id, tuple(keys))], {message_id: target}, stored,
                 placeholders)
    return target


def _sizes(conn: Connection, comps: list[int]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for part in chunks(comps):
        sizes.update({r[0]: r[1] for r in conn.execute(
            sa.select(COMP.c.id, COMP.c.size).where(COMP.c.id.in_(part)))})
    return sizes


def _merge(conn: Connection, comps: list[int], sizes: dict[int, int]) -> tuple[int, int]:
    """One component for `comps` (not empty): the largest absorbs the rest.

    Returns it and its size; the caller writes the size and the new generation.
    """
    target = max(comps, key=lambda c: (sizes.get(c, 0), -c))
    others = [c for c in comps if c != target]
    if others:
        for table in (M, KEY, S):
            conn.execute(sa.update(table).where(table.c.comp.in_(others)).values(comp=target))
        conn.execute(sa.delete(COMP).where(COMP.c.id.in_(others)))
    return target, sizes.get(target, 0) + sum(sizes.get(c, 0) for c in others)


def _record_keys(conn: Connection, items: Sequence[tuple[str, tuple[str, ...]]],
                 comp_of: dict[str, int], stored: dict[str, int],
                 placeholders: dict[str, int]) -> None:
    """New placeholder/family keys get rows; placeholders now naming a stored message go."""
    resolved = [mid for mid in comp_of if mid in placeholders]
    for part in chunks(resolved):
        conn.execute(sa.delete(KEY).where(KEY.c.key.in_(part)))
    rows: dict[str, int] = {}
    for mid, ks in items:
        for k in ks:
            if k not in stored and k not in placeholders and k not in comp_of:
                rows.setdefault(k, comp_of[mid])
    if rows:
        conn.execute(sa.insert(KEY), [{"key": k, "comp": c} for k, c in sorted(rows.items())])


def touch(conn: Connection, comps: Iterable[int | None]) -> None:
    """Mark components dirty (a deletion, a tree match, a manual action)."""
    ids = sorted({c for c in comps if c is not None})
    if not ids:
        return
    lock_graph(conn)
    for part in chunks(ids):
        conn.execute(sa.update(COMP).where(COMP.c.id.in_(part))
                     .values(gen=COMP.c.gen + 1, dirty=True))


def touch_all(conn: Connection) -> int:
    """Every component dirty (MAINTAINERS, policies or the mailmap changed)."""
    lock_graph(conn)
    return int(conn.execute(sa.update(COMP).values(gen=COMP.c.gen + 1, dirty=True)).rowcount)


def comps_of_messages(conn: Connection, message_ids: Sequence[str]) -> set[int]:
    out: set[int] = set()
    for part in chunks(list(message_ids)):
        out.update(c for c in conn.execute(sa.select(M.c.comp).where(
            M.c.message_id.in_(part), M.c.comp.is_not(None))).scalars())
    return out
