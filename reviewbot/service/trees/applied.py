"""Applied detection: poll a subsystem tree, match its new commits to tracked postings.

One poll: list the commits after the stored tips (the Tree fetches first), look
up only the stored postings those commits could apply (by patch-id, by the
Message-IDs their Link:/Message-ID: trailers name, by normalised subject), match
them (core.applied.match), then store the matches, the new tips and any commits
a force-push dropped in ONE transaction. The postings' components become dirty,
so the next refresh folds the commits into their series' standing. A poll that
finds nothing new reads no messages at all, so an idle tree costs one fetch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from reviewbot.core.applied.match import (
    match_commits,
    subject_hash,
    tracked_from_messages,
    trailer_message_ids,
)
from reviewbot.core.model import MessageId, SeriesId
from reviewbot.core.series.threads import slot
from reviewbot.ports import AppliedRecord, Tree, TreeStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TreeReport:
    tree: str
    commits: int  # new commits listed on the branches
    matched: int  # commits that apply a tracked posting
    added: int  # match rows stored (a commit seen before adds none)
    dropped: int  # matched commits a force-push removed from every branch
    tips: dict[str, str]
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        tips = ", ".join(f"{b} {s[:12]}" for b, s in sorted(self.tips.items())) or "no branches"
        return (f"{self.tree}: {self.commits} new commits, {self.matched} matched "
                f"({self.added} new), {self.dropped} dropped; tips {tips}")


def poll_tree(
    tree: Tree,
    trees: TreeStore,
    now: datetime,
    *,
    rescan: bool = False,
    window: timedelta = timedelta(days=365),
) -> TreeReport:
    """One poll of `tree`. `rescan` lists the branches afresh (as on a first look).

    A rescan re-matches commits polled before their postings were ingested;
    stored matches are never duplicated by it.
    """
    old = {} if rescan else trees.tips(tree.source)
    update = tree.poll(old)
    records: list[AppliedRecord] = []
    matched = 0
    if update.commits:
        candidates = trees.candidates(
            {c.patch_id for c in update.commits if c.patch_id},
            {mid for c in update.commits for mid in trailer_message_ids(c.trailers)},
            {subject_hash(c.subject) for c in update.commits})
        series_of = {m.message_id: sid for m, sid in candidates if sid is not None}
        slots = {m.message_id: slot(m) for m, _ in candidates}
        tracked = tracked_from_messages([m for m, _ in candidates], series_of)
        by_sha = {c.sha: c for c in update.commits}
        found = match_commits(tracked, update.commits, window=window)
        matched = len(found)
        for m in found:
            c = by_sha[m.commit]
            records.append(AppliedRecord(
                sha=m.commit, branch=c.branches[0] if c.branches else "",
                message_id=m.message_id, series_id=SeriesId(m.series_id),
                patch_idx=slots.get(MessageId(m.message_id)),
                method=m.method.value, fuzzy=m.fuzzy, commit_date=c.commit_date,
                first_seen=now))
    dropped = _dropped(tree, trees, old, update.tips)
    added = trees.record(tree.source, update.tips, records, dropped, now)
    report = TreeReport(tree.source, len(update.commits), matched, added, len(dropped),
                        dict(update.tips), tuple(update.warnings))
    log.info("%s", report.summary())
    return report


def _dropped(
    tree: Tree, trees: TreeStore, old: Mapping[str, str], new: Mapping[str, str]
) -> list[str]:
    """Matched commits no configured branch holds any more, once some branch was rewound.

    Only commits first seen on a rewound branch can be gone: the others are
    still on the branch they were seen on, which only moved forward.
    """
    rewound = [b for b, sha in old.items()
               if b in new and new[b] != sha and not tree.contains(b, sha)]
    if not rewound:
        return []
    return [sha for sha in trees.applied_shas(tree.source, rewound)
            if not any(tree.contains(b, sha) for b in tree.branches)]
