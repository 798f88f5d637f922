"""Which tracked posting a commit is, whatever their dates. Pure.

Applied detection (core.applied) assumes a posting comes before its commit. A
vendor usually commits first and posts later, and a pull request's commits
were posted long ago, so here any posting may match, the newest winning:
`git patch-id --stable` first, then a `Link:`/`Message-ID:` trailer naming the
posting, then the normalised subject with the same author (fuzzy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reviewbot.core.applied.match import normalise_subject, trailer_message_ids
from reviewbot.core.model import MessageId
from reviewbot.core.pulls.model import CommitInfo, Posting


@dataclass(frozen=True, slots=True)
class CommitPosting:
    commit: str
    posting: Posting
    method: str  # "patch-id", "trailer", "subject+author"

    @property
    def fuzzy(self) -> bool:
        return self.method == "subject+author"


def link_ids(c: CommitInfo) -> tuple[MessageId, ...]:
    """Message-IDs the commit's Link:/Message-ID: trailers name."""
    return trailer_message_ids(f"{k}: {v}" for k, v in c.trailers)


def _newest(candidates: Iterable[Posting]) -> Posting | None:
    return max(candidates, key=lambda p: (p.date, p.message_id), default=None)


def same_author(p: Posting, c: CommitInfo) -> bool:
    if p.author_email and p.author_email.lower() == c.author_email.lower():
        return True
    name = p.author_name.strip().casefold()
    return bool(name) and " " in name and name == c.author_name.strip().casefold()


def match_commit(
    c: CommitInfo,
    by_patch_id: Mapping[str, Sequence[Posting]],
    by_message_id: Mapping[MessageId, Posting],
    by_subject: Mapping[str, Sequence[Posting]],
) -> CommitPosting | None:
    """The posting `c` applies, from the lookups' answers (see `wanted_keys`)."""
    linked = [by_message_id[m] for m in link_ids(c) if m in by_message_id]
    same = by_patch_id.get(c.patch_id, ()) if c.patch_id else ()
    if same:
        # A Link: naming one of the identical postings says which one was taken.
        named = [p for p in linked if p in same]
        hit = _newest(named or same)
        if hit is not None:
            return CommitPosting(c.sha, hit, "patch-id")
    subject = normalise_subject(c.subject)
    for p in linked:
        # Trust a link only if it names this patch, or a series whose patch this is.
        if normalise_subject(p.subject) == subject or p.patch_idx is None:
            exact = [q for q in by_subject.get(subject, ()) if q.series_id == p.series_id]
            return CommitPosting(c.sha, _newest(exact) or p, "trailer")
    hit = _newest(p for p in by_subject.get(subject, ()) if same_author(p, c))
    return CommitPosting(c.sha, hit, "subject+author") if hit is not None else None


def wanted_keys(commits: Iterable[CommitInfo]) -> tuple[set[str], set[MessageId], set[str]]:
    """What to ask the lookup for: patch-ids, linked Message-IDs, normalised subjects."""
    pids: set[str] = set()
    mids: set[MessageId] = set()
    subjects: set[str] = set()
    for c in commits:
        if c.patch_id:
            pids.add(c.patch_id)
        mids.update(link_ids(c))
        subjects.add(normalise_subject(c.subject))
    return pids, mids, subjects
