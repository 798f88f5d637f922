"""Upstream debt: classify every commit of a downstream branch that upstream lacks.

Commits come from the tree (`upstream..branch`, no merges); those upstream has
under another id are found by the tree (`git cherry`, then subject + author);
the rest are matched to tracked postings whatever their dates, and the newest
posting of the same patch (a later revision) decides the class
(core.pulls.debt).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from reviewbot.core.applied.match import normalise_subject
from reviewbot.core.pulls.debt import DebtItem, author_domain, breakdown, classify, totals
from reviewbot.core.pulls.match import CommitPosting, same_author
from reviewbot.core.pulls.model import CommitInfo, Posting
from reviewbot.ports import PullTree, SeriesLookup
from reviewbot.service.trees.pulls import PullError, map_commits


@dataclass(frozen=True, slots=True)
class DebtReport:
    tree: str
    branch: str
    upstream: str
    as_of: datetime
    since: datetime | None
    items: tuple[DebtItem, ...]
    by_subsystem: dict[str, dict[str, int]] | None  # None: no MAINTAINERS to route with

    @property
    def totals(self) -> dict[str, int]:
        return totals(self.items)

    @property
    def by_author_domain(self) -> dict[str, dict[str, int]]:
        return breakdown(self.items, author_domain)


def _newest_posting(cp: CommitPosting, c: CommitInfo,
                    by_subject: dict[str, list[Posting]]) -> Posting:
    """The latest posting of this patch: a later revision under the same subject."""
    p = cp.posting
    if p.patch_idx is None:
        return p
    same = [q for q in by_subject.get(normalise_subject(p.subject), ())
            if q.author_email == p.author_email or same_author(q, c)]
    return max([p, *same], key=lambda q: (q.date, q.message_id))


def debt_report(
    tree: PullTree,
    lookup: SeriesLookup,
    *,
    branch: str,
    upstream: str,
    now: datetime,
    stale_after: timedelta,
    since: datetime | None = None,
    subsystem_of: Callable[[CommitInfo], str] | None = None,
) -> DebtReport:
    for ref in (branch, upstream):
        if tree.resolve(ref) is None:
            raise PullError(f"{tree.path}: {ref!r} names no commit")
    commits: Sequence[CommitInfo] = tree.commits(upstream, branch)
    if since is not None:
        commits = [c for c in commits if c.committer_date >= since]
    equivalent = tree.upstream_equivalents(upstream, branch)
    rest = [c for c in commits if c.sha not in equivalent]
    mapped = map_commits(lookup, rest)
    by_subject = lookup.by_subject({normalise_subject(cp.posting.subject)
                                    for cp in mapped.postings.values()})
    newest = {sha: _newest_posting(cp, next(c for c in rest if c.sha == sha), by_subject)
              for sha, cp in mapped.postings.items()}
    series = dict(mapped.series)
    series.update(lookup.series_summary({p.series_id for p in newest.values()}
                                        - set(series)))
    items = []
    for c in commits:
        p = newest.get(c.sha)
        items.append(classify(c, now, upstream=equivalent.get(c.sha),
                              matched=mapped.postings.get(c.sha), newest=p,
                              series=series.get(p.series_id) if p else None,
                              stale_after=stale_after))
    by_sub = (breakdown(items, lambda i: subsystem_of(i.commit))
              if subsystem_of is not None else None)
    return DebtReport(tree.path, branch, upstream, now, since, tuple(items), by_sub)
