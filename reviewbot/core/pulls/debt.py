"""Upstream debt: where each downstream-only commit is stuck (the OFED report). Pure.

A commit on a vendor branch and not in upstream is, in this order:
`upstream` under another id (an equivalent patch upstream, or the same
subject and author); `in_maintainer_tree` (its posting was applied to a
subsystem tree, or the maintainer said so, but it is not upstream yet);
`rejected_or_expired` (NAKed, rejected, dropped from a later revision, or no
activity for the policy's stale_after); `waiting_on_author` (changes
requested, or only posted as an RFC); `waiting_on_reviewers` (posted, open);
`never_posted`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from reviewbot.core.pulls.match import CommitPosting
from reviewbot.core.pulls.model import CommitInfo, Posting, SeriesSummary, lore_link


class DebtClass(StrEnum):
    UPSTREAM = "upstream"
    IN_MAINTAINER_TREE = "in_maintainer_tree"
    WAITING_ON_REVIEWERS = "waiting_on_reviewers"
    WAITING_ON_AUTHOR = "waiting_on_author"
    REJECTED_OR_EXPIRED = "rejected_or_expired"
    NEVER_POSTED = "never_posted"


_CLOSED = frozenset({"rejected", "archived", "deferred"})
_AUTHOR = frozenset({"changes_requested", "rfc"})
_APPLIED = frozenset({"applied"})


@dataclass(frozen=True, slots=True)
class DebtItem:
    commit: CommitInfo
    cls: DebtClass
    reason: str
    posting: Posting | None = None  # the newest posting of the patch
    series: SeriesSummary | None = None  # that posting's series
    method: str | None = None  # how the commit was matched to a posting
    age_days: int = 0  # since the commit reached the branch

    @property
    def state(self) -> str | None:
        return self.series.state if self.series else None

    @property
    def link(self) -> str | None:
        return lore_link(self.posting.message_id) if self.posting else None

    def to_json(self) -> dict[str, object]:
        c = self.commit
        return {
            "commit": c.sha, "subject": c.subject,
            "author": f"{c.author_name} <{c.author_email}>", "class": self.cls.value,
            "series_id": self.series.series_id if self.series else None,
            "state": self.state, "reason": self.reason, "age_days": self.age_days,
            "link": self.link, "match": self.method,
            "message_id": self.posting.message_id if self.posting else None,
            "committed": c.committer_date.isoformat(),
        }


def classify(
    c: CommitInfo,
    now: datetime,
    *,
    upstream: str | None,
    matched: CommitPosting | None,
    newest: Posting | None,
    series: SeriesSummary | None,
    stale_after: timedelta,
) -> DebtItem:
    """One commit's class. `newest` is the newest posting of the same patch (v3 when
    `matched` is v2), `series` its series; `upstream` says how it was found upstream."""
    age = max((now - c.committer_date).days, 0)

    def item(cls: DebtClass, reason: str) -> DebtItem:
        return DebtItem(c, cls, reason, newest, series, matched.method if matched else None,
                        age)

    if upstream is not None:
        return DebtItem(c, DebtClass.UPSTREAM, upstream, age_days=age)
    if matched is None or newest is None or series is None:
        return DebtItem(c, DebtClass.NEVER_POSTED, "no posting of this patch is tracked",
                        age_days=age)
    applied = [a for a in series.applied_in
               if newest.patch_idx is None or a.patch_idx == newest.patch_idx]
    if applied:
        a = applied[0]
        return item(DebtClass.IN_MAINTAINER_TREE,
                    f"applied to {a.branch} of {a.tree} as {a.sha[:12]}")
    if series.state in _APPLIED:
        return item(DebtClass.IN_MAINTAINER_TREE, "the maintainer said it is applied")
    if series.naks:
        who = ", ".join(sorted({r.email for r in series.naks}))
        return item(DebtClass.REJECTED_OR_EXPIRED, f"NAKed by {who}")
    if series.state in _CLOSED:
        return item(DebtClass.REJECTED_OR_EXPIRED, f"{series.state}")
    if series.superseded_by is not None:
        return item(DebtClass.REJECTED_OR_EXPIRED,
                    f"dropped: not in the newer revision <{series.superseded_by}>")
    if series.state in _AUTHOR:
        why = "posted as RFC only" if series.state == "rfc" else "changes requested"
        return item(DebtClass.WAITING_ON_AUTHOR, why)
    idle = now - series.last_activity
    if idle > stale_after:
        return item(DebtClass.REJECTED_OR_EXPIRED,
                    f"expired: no activity for {idle.days} days ({series.state})")
    why = "reviewed, waiting for the maintainer" if series.state == "reviewed" else series.state
    return item(DebtClass.WAITING_ON_REVIEWERS, why)


def totals(items: Iterable[DebtItem]) -> dict[str, int]:
    """Commits per class, every class present (zeros included)."""
    out = {c.value: 0 for c in DebtClass}
    for i in items:
        out[i.cls.value] += 1
    return out


def breakdown(items: Sequence[DebtItem],
              key: Callable[[DebtItem], str]) -> dict[str, dict[str, int]]:
    """Totals per group (subsystem, author domain), groups sorted."""
    groups: dict[str, list[DebtItem]] = {}
    for i in items:
        groups.setdefault(key(i), []).append(i)
    return {k: totals(groups[k]) for k in sorted(groups)}


def author_domain(i: DebtItem) -> str:
    return i.commit.author_email.rpartition("@")[2].lower() or "(none)"


def debt_metric(tree: str, counts: Mapping[str, int]) -> dict[tuple[str, str], int]:
    """`reviewbot_upstream_debt_commits{tree,class}` samples: every class, zeros included.

    `tree` must be a configured name (a label value, never a person's address).
    """
    return {(tree, c.value): int(counts.get(c.value, 0)) for c in DebtClass}


def trend(history: Sequence[tuple[datetime, Mapping[str, int]]],
          current: Mapping[str, int]) -> dict[str, int]:
    """Per class, the change since the last recorded report (empty without one)."""
    if not history:
        return {}
    _, last = max(history, key=lambda h: h[0])
    return {c.value: int(current.get(c.value, 0)) - int(last.get(c.value, 0))
            for c in DebtClass}
