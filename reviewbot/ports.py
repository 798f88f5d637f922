"""Ports: the shapes the service talks to. Adapters implement them.

Sources are synchronous iterators on purpose: git, b4 and liblore are
synchronous, so the daemon runs each poll in a worker thread (one per source)
instead of pretending they are async.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from reviewbot.core.applied.match import TreeCommit
from reviewbot.core.backlog.events import SeriesEvent
from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.model import Message, MessageId, Series, SeriesId
from reviewbot.core.pulls.model import (
    CommitInfo,
    MergeRequestInfo,
    Posting,
    PullDraft,
    PullMerged,
    SeriesSummary,
    StoredDraft,
    TagInfo,
)
from reviewbot.core.series.assemble import Assembly


@dataclass(frozen=True, slots=True)
class RawMail:
    """One message exactly as the archive holds it."""

    raw: bytes
    # where the bytes can be fetched again: "<epoch git dir>#<blob oid>", a URL, "mbox:<path>#<n>"
    origin: str
    # archive arrival time when the source knows it (epoch committer date)
    received: datetime | None = None


@dataclass(frozen=True, slots=True)
class Deletion:
    """public-inbox removed a message (v2: a commit deleting `m`)."""

    message_id: MessageId | None
    raw: bytes | None  # the removed message's bytes, when the source can still read them
    origin: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Items plus the cursor that is valid once they are all stored.

    The service stores a batch's items and its cursor in one transaction, so
    an interrupted ingest resumes exactly after the last committed batch.
    """

    items: list[RawMail | Deletion] = field(default_factory=list)
    cursor: str | None = None


class Source(Protocol):
    """A mailing-list archive (public-inbox epochs, lore over HTTP, an mbox)."""

    @property
    def key(self) -> str:
        """Stable name for this source's cursor row, e.g. "epoch:linux-rdma:0"."""
        ...

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        """Yield everything after `cursor` (None: from the beginning), oldest first."""
        ...


# -- storage: what the ingest service hands the Store, and gets back --------------

@dataclass(frozen=True, slots=True)
class Parsed:
    """A mail that parsed."""

    mail: RawMail
    message: Message
    sha256: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A mail the parser refused: it goes to quarantine with the reason."""

    mail: RawMail
    reason: str
    sha256: str
    message_id: MessageId | None  # best effort, for people looking at the quarantine


@dataclass(frozen=True, slots=True)
class Removal:
    """A public-inbox deletion, by Message-ID and/or by the exact bytes' hash."""

    message_id: MessageId | None
    sha256: str | None
    origin: str


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    new: int = 0
    duplicates: int = 0  # Message-ID already stored (identical or not)
    quarantined: int = 0  # newly quarantined (a quarantined mail seen again is not counted)
    deleted: int = 0  # messages newly marked deleted


@dataclass(frozen=True, slots=True)
class StoredRaw:
    """One stored raw mail, for reparse. `ref` is opaque to the service."""

    ref: int
    quarantined: bool
    raw: bytes
    received: datetime | None


@dataclass(frozen=True, slots=True)
class ReparseOutcome:
    updated: int = 0  # stored messages whose parsed form changed
    recovered: int = 0  # quarantined mails that now parse
    quarantined: int = 0  # stored messages that no longer parse (moved, bytes kept)


class Store(Protocol):
    """Messages, quarantine, cursors and assembled series (adapters/sql/store.py)."""

    def get_cursor(self, key: str) -> str | None: ...

    def store_batch(
        self,
        *,
        list_name: str,
        source_key: str,
        cursor: str | None,
        parsed: Sequence[Parsed],
        rejected: Sequence[Rejected],
        removals: Sequence[Removal],
    ) -> BatchOutcome:
        """Store everything and the cursor in ONE transaction; idempotent."""
        ...

    def assembly_stale(self) -> bool: ...

    def series_count(self) -> int: ...

    def live_messages(
        self, known: Mapping[MessageId, tuple[str, Message]] | None = None
    ) -> list[Message]:
        """Every stored, not deleted, parsed message. `known` (Message-ID -> (sha256,
        Message)) holds messages the caller parsed already; rows with that sha256 are
        returned from it instead of being decoded again."""
        ...

    def save_assembly(self, assembly: Assembly, states: Mapping[SeriesId, str]) -> None:
        """Replace the stored series by this assembly (only changed rows are written)."""
        ...

    def stored_raw(self, chunk: int) -> Iterator[list[StoredRaw]]:
        """Every stored and quarantined raw mail, in chunks."""
        ...

    def apply_reparse(
        self, results: Sequence[tuple[StoredRaw, Message | str, str]]
    ) -> ReparseOutcome:
        """Per mail: the new Message, or the reason it failed; plus its sha256."""
        ...


# -- subsystem trees (applied detection) -------------------------------------------

class TreeUpdate(Protocol):
    """What one poll of a tree found (adapters/git/tree.py's TreeUpdate)."""

    @property
    def commits(self) -> Sequence[TreeCommit]: ...  # new since the tips, each commit once

    @property
    def tips(self) -> Mapping[str, str]: ...  # branch -> tip to remember

    @property
    def warnings(self) -> Sequence[str]: ...


class Tree(Protocol):
    """A watched git tree: `source` (URL or path) names it in storage and locks."""

    @property
    def source(self) -> str: ...

    @property
    def branches(self) -> tuple[str, ...]: ...

    def poll(self, tips: Mapping[str, str | None]) -> TreeUpdate:
        """Fetch, then list the commits after `tips` (missing: first look)."""
        ...

    def contains(self, branch: str, sha: str) -> bool:
        """Whether `sha` is on `branch` now (after a force-push it may not be)."""
        ...


@dataclass(frozen=True, slots=True)
class AppliedRecord:
    """A match to store: commit `sha` (first seen on `branch`) applies `message_id`."""

    sha: str
    branch: str
    message_id: MessageId
    series_id: SeriesId
    patch_idx: int | None  # 1-based index in its series; None when in no series' list
    method: str
    fuzzy: bool
    commit_date: datetime
    first_seen: datetime


class TreeStore(Protocol):
    """Tips and matches per tree (adapters/sql/trees.py)."""

    def tips(self, tree: str) -> dict[str, str]: ...

    def placement(self) -> dict[MessageId, tuple[SeriesId, int | None]]:
        """Every series member -> (its series, its patch index or None), as assembled."""
        ...

    def applied_shas(self, tree: str, branches: Sequence[str]) -> list[str]:
        """Matched commits of `tree` first seen on one of `branches`."""
        ...

    def record(
        self, tree: str, tips: Mapping[str, str], records: Sequence[AppliedRecord],
        dropped: Iterable[str], now: datetime,
    ) -> int:
        """New tips, new matches and dropped commits in ONE transaction; rows added."""
        ...


# -- small shapes the shell passes around ---------------------------------------------

class ParseFn(Protocol):
    """Raw mail -> Message (core.mail.parse.parse_message, or a test double)."""

    def __call__(self, raw: bytes, *, fallback_date: datetime | None = None) -> Message: ...


class SourceLocks(Protocol):
    """Per-source locks, so two writers never ingest the same source at once."""

    def try_acquire(self, key: str) -> bool:
        """Take the lock for `key` without waiting; False if another process holds it."""
        ...

    def release(self, key: str) -> None: ...


# -- the backlog's storage ------------------------------------------------------------

class BacklogStore(Protocol):
    """What this service needs from storage (adapters/sql/backlog.py)."""

    def series_files(self) -> tuple[dict[SeriesId, tuple[str, ...]], str]: ...
    def people(self) -> list[tuple[str, str]]: ...
    def routing_stamp(self) -> str | None: ...
    def save_routing(self, routing: Mapping[SeriesId, SeriesRouting],
                     aliases: Mapping[str, str], stamp: str) -> None: ...
    def routing(self, sids: Sequence[str] | None = None) -> dict[SeriesId, SeriesRouting]: ...
    def aliases(self) -> dict[str, str]: ...
    def actions(self, sids: Sequence[str] | None = None
                ) -> dict[SeriesId, list[SeriesEvent]]: ...
    def series(self, sids: Sequence[str] | None = None
               ) -> dict[SeriesId, tuple[Series, str]]: ...
    def members(self, sids: Sequence[str]) -> dict[SeriesId, list[Message]]: ...


# -- release cycle, pull requests, upstream debt (issue 11) ------------------------------

class SeriesLookup(Protocol):
    """Tracked series as pull requests and the debt report see them (adapters/sql/lookup.py).

    Every method takes a batch and answers with what it found; keys it does not
    know are left out.
    """

    def by_patch_id(self, patch_ids: Collection[str]) -> dict[str, list[Posting]]:
        """Postings with these `git patch-id --stable` values."""
        ...

    def by_message_id(self, message_ids: Collection[str]) -> dict[MessageId, Posting]:
        """The posting of each Message-ID: a patch, or (patch_idx None) a series' cover."""
        ...

    def by_subject(self, subjects: Collection[str]) -> dict[str, list[Posting]]:
        """Postings whose subject normalises (core.applied.normalise_subject) to one of these."""
        ...

    def series_summary(self, series_ids: Collection[str]) -> dict[SeriesId, SeriesSummary]:
        ...

    def pull_merged(self, message_ids: Collection[str]) -> dict[MessageId, PullMerged]:
        """pr-tracker-bot's "merged" replies to these [GIT PULL] mails."""
        ...


class MainlineTags(Protocol):
    """Mainline tags from a kernel repository or `git ls-remote` (adapters/git/mainline.py)."""

    @property
    def source(self) -> str: ...

    def tags(self) -> list[tuple[str, datetime | None]]:
        """(name, tag date or None when the source does not say), any order."""
        ...


class PullTree(Protocol):
    """The maintainer's git repository (adapters/git/pullrepo.py)."""

    @property
    def path(self) -> str: ...

    def resolve(self, ref: str) -> str | None:
        """The commit `ref` names, or None."""
        ...

    def tag(self, name: str) -> TagInfo | None: ...

    def default_tag(self) -> str | None:
        """The newest tag that is not a mainline tag, by tag date."""
        ...

    def default_base(self, tip: str, upstream_ref: str | None) -> str | None:
        """Where the pull request starts: the merge-base with upstream_ref, else the newest
        mainline tag below `tip`."""
        ...

    def verify_tag(self, name: str) -> tuple[bool, str]:
        """`git verify-tag`: success, and what it said."""
        ...

    def remote_tag(self, url: str, name: str) -> str | None:
        """What refs/tags/<name> is at `url` (`git ls-remote`), or None."""
        ...

    def request_pull(self, base: str, url: str, tag: str) -> str:
        """`git request-pull <base> <url> <tag>` output, byte for byte."""
        ...

    def commits(self, base: str, tip: str) -> list[CommitInfo]:
        """base..tip without merges, oldest first, with patch-ids and files."""
        ...

    def mainline_tags_at(self, commit: str) -> tuple[str, ...]: ...

    def missing_commits(self, prefixes: Collection[str]) -> frozenset[str]:
        """The abbreviated hashes that name no commit in the repository."""
        ...

    def not_in(self, shas: Sequence[str], ref: str) -> list[str] | None:
        """Which of `shas` `ref` does not contain; None if `ref` does not exist."""
        ...

    def upstream_equivalents(self, upstream: str, head: str) -> dict[str, str]:
        """head's commits (not in upstream) that upstream has under another id:
        sha -> how it was found (`git cherry`, then subject + author)."""
        ...


class PullStore(Protocol):
    """Pull-request drafts and recorded debt totals (adapters/sql/pulls.py)."""

    def save_draft(self, draft: PullDraft) -> int: ...
    def draft(self, draft_id: int) -> StoredDraft | None: ...
    def drafts(self) -> list[StoredDraft]: ...
    def mark_sent(self, draft_id: int, at: datetime, ref: str) -> None: ...
    def mark_merged(self, draft_id: int, merged: PullMerged) -> None: ...
    def record_debt(self, tree: str, branch: str, at: datetime,
                    counts: Mapping[str, int]) -> None: ...
    def debt_history(self, tree: str, branch: str) -> list[tuple[datetime, dict[str, int]]]: ...


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One message to send. `key` makes sending idempotent (conventions.md §3)."""

    key: str
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body: str


class PullMailer(Protocol):
    """Sends a pull request mail; the outbox (mail issue) will implement it for real."""

    def send(self, mail: OutgoingMail) -> str:
        """Send (or queue) `mail`; return its Message-ID. Raises if nothing was sent."""
        ...


@dataclass(frozen=True, slots=True)
class MergeRequestSpec:
    title: str
    description: str
    source_branch: str
    target_branch: str
    labels: tuple[str, ...] = ()
    source_project: str | None = None  # a fork; None: the target project itself


class MergeRequests(Protocol):
    """A GitLab project's merge requests (adapters/forge/gitlab.py); async, off the loop."""

    async def existing(self, project: str, source_branch: str,
                       target_branch: str) -> list[MergeRequestInfo]:
        """Open merge requests between these branches, with pipelines and approvals."""
        ...

    async def create(self, project: str, spec: MergeRequestSpec) -> MergeRequestInfo: ...
