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
of the same version (a v1 citing another v1 depends on it).

A title is weak evidence (issue 7: two unrelated "RDMA/hns: Misc fixes"
series five months apart were joined), so a subject link also needs
corroboration, and never goes back in version or in time:

- a higher version posted later, or overlapping patch subjects or files, or
  a posting within `window` (a policy value) of the older one;
- a generic title ("Misc fixes", "Bug fixes", "Cleanups", "Fixes for ...")
  never links on title alone, whatever the versions: it needs a shared patch
  subject, or shared files within `window`;
- the same version links only as a repost of the same work: a RESEND with
  overlapping content or within `window`, or an unmarked repost carrying at
  least half of the older posting's patch subjects, touching the same files
  or within `window` (RFC -> PATCH, a resend without the tag); never across
  stable trees ("[PATCH 6.6 ...]" and "[PATCH 6.12 ...]");
- a posting made after a higher version of the same title (numbering
  restarted: "[RFC PATCH] ..." after v2) is not linked by subject at all, so a
  family's order by version is also its order in time.

Linked series form a family ordered by (version, Date:, id); each is
superseded by the next one it is linked to (else the next one posted after it).
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from reviewbot.core.model import MessageId, SeriesId

STRENGTH = {"change-id": 0, "reference": 1, "subject": 2}
# How long after a posting a same-titled one from the same sender corroborates
# a subject link by time alone (the policy may set another).
DEFAULT_WINDOW = timedelta(days=30)


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
    files: frozenset[str] = frozenset()  # paths its patches touch
    subjects: frozenset[str] = frozenset()  # normalised titles of its patches (not the cover)
    tags: tuple[str, ...] = ()  # subject bracket tokens: "rdma-next", "6.6", "rfc"


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
    candidates: Iterable[Candidate],
    series_of: Mapping[MessageId, SeriesId],
    *,
    window: timedelta = DEFAULT_WINDOW,
) -> dict[SeriesId, Revisions]:
    """Every candidate's revision chain, superseding revision and link evidence.

    `window`: how close in time two postings with one title and sender must
    be for time alone to corroborate a subject link.
    """
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
        for i, new in enumerate(same):
            if any(o.version > new.version and o.date <= new.date for o in same):
                continue  # posted after a higher version: numbering restarted, no revision
            # The nearest older posting this one may follow (not only the previous one:
            # an unrelated posting between them must not break a real chain).
            prev = next((o for o in reversed(same[:i]) if subject_link(o, new, window)), None)
            if prev is not None:
                add(prev, new, "subject")

    families = _families(by_id, edges)
    out: dict[SeriesId, Revisions] = {}
    for family in families:
        chain = sorted((by_id[s] for s in family), key=_order)
        ids = tuple(c.series_id for c in chain)
        for i, c in enumerate(chain):
            out[c.series_id] = Revisions(
                revisions=ids,
                superseded_by=_successor(c, chain[i + 1:], edges),
                link=_evidence(c.series_id, ids[:i], edges) if i else None,
            )
    return out


def _successor(
    c: Candidate, later: list[Candidate], edges: Mapping[tuple[SeriesId, SeriesId], str]
) -> SeriesId | None:
    """The revision that supersedes `c`: the first later one linked to it directly, else
    the first later one posted after it. A family can hold two numberings (a series
    retitled and restarted at v1 links to the old one by reference); following the
    links keeps the retitled v1 from being "superseded" by the old v2 posted months
    before it."""
    direct = next((n for n in later if (c.series_id, n.series_id) in edges), None)
    if direct is not None:
        return direct.series_id
    after = next((n for n in later if n.date >= c.date), None)
    return after.series_id if after is not None else None


_PREFIX = re.compile(r"^(?:[\w/.,+-]+:\s+)+")
_GENERIC = re.compile(
    r"^(?:[\w/.+-]+\s+){0,3}?"
    r"(?:bug\s*fix(?:es)?|bugfixes|fix(?:es|ups)|clean-?ups?|updates|improvements|enhancements"
    r"|changes|patches|tweaks)"
    r"(?:\s+(?:and|&|\+)\s+(?:\w+\s+)?(?:bug\s*fix(?:es)?|bugfixes|fix(?:es|ups)|clean-?ups?"
    r"|updates|improvements|enhancements))?"
    r"(?:\s+(?:for|in|to|on|of|from)\b.*)?(?:\s+\d{4}-\d{2}-\d{2})?$",
    re.IGNORECASE,
)
_STABLE_TAG = re.compile(r"^\d+\.\d+(?:\.y)?$")


def is_generic(title: str) -> bool:
    """A title that names no particular change: "Misc fixes", "RDMA/hns: Bugfixes and
    cleanup", "mlx5 misc fixes 2025-12-25", "Fixes for the erdma driver"."""
    return _GENERIC.match(normalise_title(_PREFIX.sub("", title.strip()))) is not None


def subject_link(old: Candidate, new: Candidate, window: timedelta = DEFAULT_WINDOW) -> bool:
    """Whether `new` (same title and sender, later in order) is a revision of `old`."""
    if new.date < old.date or new.version < old.version:
        return False
    if _stable_trees(old) != _stable_trees(new):
        return False  # one fix backported to two stable trees
    shared_subjects = len(old.subjects & new.subjects)
    shared_files = bool(old.files & new.files)
    in_window = new.date - old.date <= window
    # "Misc fixes" says nothing: the patches must be the same ones, or at least
    # touch the same files within the window.
    if is_generic(old.title) and not shared_subjects and not (shared_files and in_window):
        return False
    if new.version > old.version:
        return True
    if new.is_resend:
        return bool(shared_subjects or shared_files or in_window)
    # An unmarked same-version repost: the same patches again (at least half of
    # the older posting's subjects), touching the same files or soon after.
    same_patches = shared_subjects > 0 and 2 * shared_subjects >= len(old.subjects)
    return same_patches and (shared_files or in_window)


def _stable_trees(c: Candidate) -> frozenset[str]:
    return frozenset(t for t in c.tags if _STABLE_TAG.match(t))


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
