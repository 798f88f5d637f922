"""Link revisions v1 -> v2 -> v3 of one series (domain.md §2). Pure.

Evidence, strongest first:

1. "change-id": the same b4 `change-id:`;
2. "reference": a posting of the newer series names a message of the older
   one, in a lore link in its body (Message.linked_ids) or by being sent
   In-Reply-To the older thread (also how partial rerolls are found); the
   two must share the sender or the title, because cover letters also link
   the series they depend on ("based on <lore link>");
3. "subject": the same normalised title from the same sender address
   (heuristic; never for AUTOSEL backports, which reuse titles per branch).

References only link an older to a strictly newer version, or to a RESEND
of the same version (a v1 citing another v1 depends on it). The subject
heuristic also links same-version reposts (an unchanged `[PATCH]` sent
again, a v3 posted twice by mistake): the later posting supersedes.
Linked series form a family ordered by (version, Date:, id); each is
superseded by the next one.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from reviewbot.core.model import MessageId, SeriesId

STRENGTH = {"change-id": 0, "reference": 1, "subject": 2}


@dataclass(frozen=True, slots=True)
class Candidate:
    """What revision linking needs to know about one assembled series."""

    series_id: SeriesId
    version: tuple[int, ...]  # (4, 1) for v4.1
    date: datetime
    sender: str
    title: str
    change_id: str | None
    is_resend: bool
    is_autosel: bool
    references: frozenset[MessageId]  # message ids outside the series its postings point to


@dataclass(frozen=True, slots=True)
class Revisions:
    revisions: tuple[SeriesId, ...]
    superseded_by: SeriesId | None
    link: str | None


def version_key(label: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in re.findall(r"\d+", label))
    return parts or (1,)


def normalise_title(title: str) -> str:
    return " ".join(title.lower().split()).rstrip(".")


def _order(c: Candidate) -> tuple[tuple[int, ...], datetime, str]:
    return (c.version, c.date, c.series_id)


def _newer(old: Candidate, new: Candidate) -> bool:
    if new.version != old.version:
        return new.version > old.version
    return new.is_resend and _order(old) < _order(new)


def _same_work(a: Candidate, b: Candidate) -> bool:
    """A link to someone else's series under another title is a dependency, not a revision."""
    return a.sender == b.sender or normalise_title(a.title) == normalise_title(b.title)


def link(
    candidates: Iterable[Candidate], series_of: Mapping[MessageId, SeriesId]
) -> dict[SeriesId, Revisions]:
    """Every candidate's revision chain, superseding revision and link evidence."""
    by_id = {c.series_id: c for c in candidates}
    # edges[(older, newer)] = strongest evidence kind
    edges: dict[tuple[SeriesId, SeriesId], str] = {}

    def add(a: Candidate, b: Candidate, kind: str) -> None:
        old, new = (a, b) if _order(a) <= _order(b) else (b, a)
        key = (old.series_id, new.series_id)
        if key not in edges or STRENGTH[kind] < STRENGTH[edges[key]]:
            edges[key] = kind

    by_change: dict[str, list[Candidate]] = defaultdict(list)
    by_subject: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
    for c in by_id.values():
        if c.change_id:
            by_change[c.change_id].append(c)
        if not c.is_autosel and c.title:
            by_subject[(normalise_title(c.title), c.sender)].append(c)
        for ref in sorted(c.references):
            target = series_of.get(ref)
            if target is None or target == c.series_id:
                continue
            old = by_id[target]
            if _newer(old, c) and _same_work(old, c):
                add(old, c, "reference")
    for same in by_change.values():
        same.sort(key=_order)
        for a, b in itertools.pairwise(same):
            add(a, b, "change-id")
    for same in by_subject.values():
        same.sort(key=_order)
        for a, b in itertools.pairwise(same):
            add(a, b, "subject")  # a same-version repost too: the newer posting wins

    families = _families(by_id, edges)
    out: dict[SeriesId, Revisions] = {}
    for family in families:
        chain = sorted((by_id[s] for s in family), key=_order)
        ids = tuple(c.series_id for c in chain)
        for i, c in enumerate(chain):
            out[c.series_id] = Revisions(
                revisions=ids,
                superseded_by=ids[i + 1] if i + 1 < len(ids) else None,
                link=_evidence(c.series_id, ids[:i], edges) if i else None,
            )
    return out


def _families(
    by_id: Mapping[SeriesId, Candidate], edges: Mapping[tuple[SeriesId, SeriesId], str]
) -> list[list[SeriesId]]:
    neighbours: dict[SeriesId, list[SeriesId]] = defaultdict(list)
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    seen: set[SeriesId] = set()
    families: list[list[SeriesId]] = []
    for start in sorted(by_id):
        if start in seen:
            continue
        seen.add(start)
        family, todo = [start], [start]
        while todo:
            for n in neighbours[todo.pop()]:
                if n not in seen:
                    seen.add(n)
                    family.append(n)
                    todo.append(n)
        families.append(family)
    return families


def _evidence(
    sid: SeriesId, older: tuple[SeriesId, ...], edges: Mapping[tuple[SeriesId, SeriesId], str]
) -> str:
    """The strongest evidence tying `sid` to an older revision (or to any, if only newer)."""
    kinds = [edges[(o, sid)] for o in older if (o, sid) in edges]
    if not kinds:
        kinds = [k for (a, b), k in edges.items() if sid in (a, b)]
    return min(kinds, key=STRENGTH.__getitem__) if kinds else "subject"
