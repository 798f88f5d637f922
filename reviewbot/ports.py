"""Ports: the shapes the service talks to. Adapters implement them.

Sources are synchronous iterators on purpose: git, b4 and liblore are
synchronous, so the daemon runs each poll in a worker thread (one per source)
instead of pretending they are async.
"""

from __future__ import annotations

from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from reviewbot.core.model import Message, MessageId, Series, SeriesId

if TYPE_CHECKING:  # types for annotations only: importing them costs query start-up
    from reviewbot.core.applied.match import TreeCommit
    from reviewbot.core.backlog.events import PatchCommit, SeriesEvent
    from reviewbot.core.backlog.standing import Standing
    from reviewbot.core.backlog.suggest import PastReview
    from reviewbot.core.maintainers.routing import RoutingIndex
    from reviewbot.core.maintainers.sections import Section
    from reviewbot.core.maintainers.subsystems import SeriesRouting, SubsystemRoute
    from reviewbot.core.notify.message import OutgoingMail
    from reviewbot.core.notify.outbox import OutboxState
    from reviewbot.core.pulls import model as pulls
    from reviewbot.core.pulls.model import (
        CommitInfo,
        MergeRequestInfo,
        Posting,
        PullDraft,
        PullMerged,
        StoredDraft,
        TagInfo,
    )
    from reviewbot.core.web.metrics import MetricsSnapshot
    from reviewbot.core.web.model import ChatReply, HealthReport


@dataclass(frozen=True, slots=True)
class RawMail:
    """One message exactly as the archive holds it."""

    raw: bytes
    # where the bytes can be fetched again: "epoch:<list>/<epoch>#<blob oid>", a URL,
    # "mbox:<path>#<n>"
    origin: str
    # archive arrival time when the source knows it (epoch committer date)
    received: datetime | None = None
    # the exact bytes can be read again from `origin` (a git blob), so the store may
    # keep the reference instead of the bytes (see RawReader)
    by_reference: bool = False


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
    # origin prefix ("epoch:<list>/<epoch>") -> where it lives on this machine now
    locations: Mapping[str, str] = field(default_factory=dict)


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
    encoded: bytes | None = None  # the message's stored form, when a worker made it


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
    raw: bytes | None  # None: kept by reference, read it with a RawReader
    received: datetime | None
    origin: str = ""


@dataclass(frozen=True, slots=True)
class ReparseOutcome:
    updated: int = 0  # stored messages whose parsed form changed
    recovered: int = 0  # quarantined mails that now parse
    quarantined: int = 0  # stored messages that no longer parse (moved, bytes kept)
    unreadable: int = 0  # kept by reference, but the bytes could not be read back


class Store(Protocol):
    """Messages in: batches with their cursors, quarantine, deletions (adapters/sql/store.py)."""

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
        locations: Mapping[str, str] | None = None,
    ) -> BatchOutcome:
        """Store everything and the cursor in ONE transaction; idempotent. New messages get
        their thread component, and every component the batch touched becomes dirty."""
        ...

    def stored_raw(self, chunk: int) -> Iterator[list[StoredRaw]]:
        """Every stored and quarantined mail, in chunks."""
        ...

    def apply_reparse(
        self, results: Sequence[tuple[StoredRaw, Message | str, str]]
    ) -> ReparseOutcome:
        """Per mail: the new Message, or the reason it failed; plus its sha256."""
        ...

    def relink_all(self) -> int:
        """Rebuild every thread component (after a reparse); everything becomes dirty."""
        ...


class RawReader(Protocol):
    """Reads raw mail kept by reference (an epoch blob) back, byte for byte."""

    def read(self, origins: Sequence[str]) -> dict[str, bytes]:
        """origin -> bytes, for the origins it can read (a missing mirror: left out)."""
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
    """Tips and matches per tree (adapters/sql/trees/applied.py)."""

    def tips(self, tree: str) -> dict[str, str]: ...

    def candidates(self, patch_ids: Collection[str], message_ids: Collection[str],
                   subject_keys: Collection[int]) -> list[tuple[Message, SeriesId | None]]:
        """Stored live postings a commit could apply: by patch-id, by Message-ID (and the
        other postings of those messages' series), by subject key; with their series."""
        ...

    def applied_shas(self, tree: str, branches: Sequence[str]) -> list[str]:
        """Matched commits of `tree` first seen on one of `branches`."""
        ...

    def record(
        self, tree: str, tips: Mapping[str, str], records: Sequence[AppliedRecord],
        dropped: Iterable[str], now: datetime,
    ) -> int:
        """New tips, new matches and dropped commits in ONE transaction; rows added. The
        components of the postings concerned become dirty (their standing changes)."""
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


# -- the backlog's storage: refreshed series, and the queries over them ----------------

@dataclass(frozen=True, slots=True)
class DirtyComponent:
    """A thread component whose stored series may be out of date, at generation `gen`."""

    comp: int
    gen: int


@dataclass(frozen=True, slots=True)
class SeriesRecord:
    """Everything a refresh stores for one series."""

    series: Series  # with its members
    routing: SeriesRouting
    files_hash: str  # of its sorted file set
    route_stamp: str  # the MAINTAINERS stamp `routing` was computed with
    policy: str  # name of the policy it follows (its taker's)
    ignored: str | None  # why that policy leaves it out of queues
    standing: Standing | None  # None: its history could not be replayed (logged)
    actors: tuple[str, ...]  # every address its events name, before aliasing


@dataclass(frozen=True, slots=True)
class ComponentResult:
    comp: int
    gen: int  # the generation the result was computed from
    series: tuple[SeriesRecord, ...]


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """A series as listings show it (columns only, no doc)."""

    series_id: SeriesId
    title: str
    version: int
    patch_count: int
    total: int
    author_name: str
    author_email: str
    date: datetime


@dataclass(frozen=True, slots=True)
class SeriesFigure:
    """One stored series as the figures need it (columns only)."""

    series_id: SeriesId
    policy: str
    ignored: str | None
    state: str  # the standing's own state (never stale/rfc: those are derived)
    can_open: bool
    superseded: bool
    posted_at: datetime
    last_event_at: datetime
    first_review_at: datetime | None
    applied_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredSeries:
    """One stored series as listings show it: summary and routing."""

    summary: SeriesSummary
    routing: SeriesRouting
    figure: SeriesFigure


@dataclass(frozen=True, slots=True)
class SeriesHistory:
    """What replaying one series needs: mail, the newer revision, commits, manual actions."""

    series: Series
    members: tuple[Message, ...]
    newer: Series | None
    commits: tuple[PatchCommit, ...]
    actions: tuple[SeriesEvent, ...]
    routing: SeriesRouting
    policy: str


class SeriesStore(Protocol):
    """The refresh's storage: dirty components in, series with their standing out."""

    def context_stamp(self) -> str | None: ...

    def save_context(self, stamp: str, sections: Sequence[Section]) -> int:
        """Record a new context (MAINTAINERS, policies, mailmap): its sections, and every
        component dirty. Returns the components marked."""
        ...

    def people_version(self) -> str:
        """Changes whenever the stored people (senders, trailer givers) change."""
        ...

    def people(self) -> tuple[dict[tuple[str, str], int], list[str]]:
        """((name key, address) -> uses, every M:/R: entry of MAINTAINERS)."""
        ...

    def aliases(self) -> tuple[str | None, dict[str, str]]:
        """The alias map the last refresh used, and the people version it came from."""
        ...

    def save_aliases(self, version: str, aliases: Mapping[str, str],
                     changed: Collection[str], digest: str) -> int:
        """Store the map (and its digest); components whose series name a `changed`
        address become dirty."""
        ...

    def dirty_components(self, max_messages: int) -> list[DirtyComponent]:
        """Some dirty components, about `max_messages` messages in all (at least one)."""
        ...

    def component_messages(self, comps: Sequence[int]) -> dict[int, list[Message]]:
        """Each component's live (not deleted) messages."""
        ...

    def component_series_ids(self, comps: Sequence[int]) -> list[SeriesId]:
        """The series stored for these components now (before the refresh replaces them)."""
        ...

    def actions(self, series_ids: Sequence[str]) -> dict[SeriesId, list[SeriesEvent]]: ...

    def commits(self, message_ids: Sequence[str]) -> list[PatchCommit]:
        """Applied detection's matches for these postings."""
        ...

    def stored_routes(self, series_ids: Sequence[str]) -> dict[SeriesId, tuple[str, str]]:
        """series -> (files_hash, route_stamp) as stored."""
        ...

    def routing(self, series_ids: Sequence[str]) -> dict[SeriesId, SeriesRouting]: ...

    def save_components(self, results: Sequence[ComponentResult],
                        rekey: Mapping[SeriesId, SeriesId], aliases: str) -> set[int]:
        """Replace the series of each component whose generation is still `gen`, and clean
        it; others are left dirty (a batch changed them meanwhile). Nothing is written if
        the stored alias map is no longer the one the results used (`aliases`, its hash):
        another process changed who is who meanwhile. `rekey` moves manual actions from
        an old series id to the series now holding that message. Returns the components
        written."""
        ...


class ActionStore(Protocol):
    """Manual actions people record (claim, release, assign, override)."""

    def add_action(self, series_id: str, event: SeriesEvent) -> None:
        """Store the event and mark the series' component dirty, in one transaction."""
        ...


class MaintainersView(Protocol):
    """MAINTAINERS as the backlog needs it: a content stamp, and the index when routing."""

    @property
    def stamp(self) -> str:
        """Changes exactly when the content (MAINTAINERS and its mailmap) changes."""
        ...

    def index(self) -> RoutingIndex:
        """The routing index (loaded on first use; may raise MaintainersError)."""
        ...

    def aliases(self) -> dict[str, str]:
        """The mailmap's address aliases, old -> new (loaded on first use)."""
        ...


class BacklogReader(Protocol):
    """The queries' storage: stored series and standings, read with indexes."""

    def find_series(self, message_id: str) -> SeriesId | None: ...

    def has_message(self, message_id: str) -> bool: ...

    def resolve_subsystem(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """A section name (any case) or list address -> (the name to show, its sections)."""
        ...

    def series_figures(self, sections: Sequence[str] | None, posted_by: datetime, *,
                       open_only: bool = False) -> list[SeriesFigure]:
        """Every series (of these sections) posted by then, oldest first. `open_only`:
        only those that can be open then (open standing, or events after `posted_by`)."""
        ...

    def series_rows(self, series_ids: Sequence[str]) -> dict[SeriesId, StoredSeries]: ...

    def standings(self, series_ids: Sequence[str]) -> dict[SeriesId, Standing]: ...

    def histories(self, series_ids: Sequence[str]) -> dict[SeriesId, SeriesHistory]: ...

    def aliases(self) -> dict[str, str]: ...

    def stats(self) -> dict[str, Any]:
        """What the database holds (`reviewbot stats --json`)."""
        ...


# -- outgoing mail: the outbox and the SMTP edge (issue 9) -----------------------------

@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One stored mail and where it stands (adapters/sql/mail/outbox.py)."""

    id: int
    key: str  # str(OutboxKey): kind:scope:recipient:period
    kind: str
    scope: str  # subsystem or series
    recipient: str
    period: str
    message_id: str  # without <>
    sender: str  # envelope MAIL FROM
    recipients: tuple[str, ...]  # envelope RCPT TO
    subject: str
    state: OutboxState
    attempts: int  # SMTP attempts made (connection failures count)
    next_attempt: datetime | None  # queued: not before this
    last_error: str | None
    created: datetime
    updated: datetime
    sent_at: datetime | None
    reply: str | None  # the server's answer to the end of DATA (its queue id)
    raw: bytes = b""  # empty when listed without the bodies


class OutboxStore(Protocol):
    """The durable outbox. Every state change is one committed transaction, and
    `transition` only moves a row that is still in the state the caller saw."""

    def enqueue(self, mail: OutgoingMail, now: datetime) -> tuple[OutboxEntry, bool]:
        """Record `mail` as queued; the same key again returns the existing row and False."""
        ...

    def due(self, now: datetime | None, limit: int) -> list[OutboxEntry]:
        """Queued rows whose next attempt has come (now None: every queued row), oldest first."""
        ...

    def in_state(self, state: OutboxState) -> list[OutboxEntry]: ...

    def transition(self, entry_id: int, expect: OutboxState, to: OutboxState, now: datetime, *,
                   attempts: int | None = None, next_attempt: datetime | None = None,
                   error: str | None = None, reply: str | None = None) -> bool:
        """Move one row from `expect` to `to` (False: it was no longer in `expect`)."""
        ...

    def entries(self, states: Sequence[OutboxState] | None = None,
                with_raw: bool = False) -> list[OutboxEntry]: ...

    def find(self, ref: str) -> OutboxEntry | None:
        """The row whose key or Message-ID (with or without <>) is `ref`."""
        ...

    def next_due(self) -> datetime | None:
        """The earliest next attempt among queued rows."""
        ...


@dataclass(frozen=True, slots=True)
class SmtpAccepted:
    reply: str  # the server's 250 text (often its queue id)
    refused: tuple[str, ...] = ()  # recipients refused while others were accepted


class MailError(Exception):
    """A send that failed. `permanent`: the server refused for good (5xx); `in_doubt`:
    the connection broke after the message was handed over, so the server may have
    accepted it; `session_lost`: the connection is unusable for further mail."""

    def __init__(self, detail: str, *, code: int | None = None, permanent: bool = False,
                 in_doubt: bool = False, session_lost: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.permanent = permanent
        self.in_doubt = in_doubt
        self.session_lost = session_lost


class MailSession(Protocol):
    async def send(self, sender: str, recipients: Sequence[str], raw: bytes, *,
                   before_data: Callable[[], Awaitable[None]] | None = None) -> SmtpAccepted:
        """ONE SMTP transaction (MAIL, RCPT..., DATA); MailError when not accepted.
        `before_data` is awaited once the recipients are accepted, right before DATA:
        the outbox claims the mail there, so only DATA itself is the crash window.
        If it raises, the transaction is reset and the exception propagates."""
        ...


class Mailer(Protocol):
    """Connects (TLS, login) and hands out a session; MailError when it cannot."""

    def session(self) -> AbstractAsyncContextManager[MailSession]: ...


# -- email commands: authenticity and replays ------------------------------------------

@dataclass(frozen=True, slots=True)
class DkimCheck:
    """What the DKIM signatures of one mail prove."""

    signatures: int  # DKIM-Signature headers present
    passed: tuple[tuple[str, str], ...] = ()  # (d= domain, fingerprint) per verified signature
    errors: tuple[str, ...] = ()  # why the others failed


class DkimVerifier(Protocol):
    def verify(self, raw: bytes) -> DkimCheck: ...


class CommandLog(Protocol):
    """Command mails already obeyed, so a replayed one is refused."""

    def remember(self, fingerprint: str, message_id: str, actor: str, now: datetime) -> bool:
        """Record an accepted command mail; False if this signature or Message-ID was seen."""
        ...


# -- release cycle, pull requests, upstream debt (issue 11) ------------------------------

class SeriesLookup(Protocol):
    """Tracked series as pull requests and the debt report see them (adapters/sql/series/lookup.py).

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

    def series_summary(self, series_ids: Collection[str]) -> dict[SeriesId, pulls.SeriesSummary]:
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
    """Pull-request drafts and recorded debt totals (adapters/sql/trees/pulls.py)."""

    def save_draft(self, draft: PullDraft) -> int: ...
    def draft(self, draft_id: int) -> StoredDraft | None: ...
    def drafts(self) -> list[StoredDraft]: ...
    def mark_sent(self, draft_id: int, at: datetime, ref: str) -> None: ...
    def mark_merged(self, draft_id: int, merged: PullMerged) -> None: ...
    def record_debt(self, tree: str, branch: str, at: datetime,
                    counts: Mapping[str, int]) -> None: ...
    def debt_history(self, tree: str, branch: str) -> list[tuple[datetime, dict[str, int]]]: ...


@dataclass(frozen=True, slots=True)
class PullMail:
    """One message to send. `key` makes sending idempotent (conventions.md §3)."""

    key: str
    sender: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    body: str


class PullMailer(Protocol):
    """Sends a pull request mail; the outbox (mail issue) will implement it for real."""

    def send(self, mail: PullMail) -> str:
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


# -- mail to people: opt-outs, digests, commands, the review index (issue 9) -------------

@dataclass(frozen=True, slots=True)
class DigestCounts:
    """What one digest showed: open series by state (and which), for the next digest."""

    subsystem: str
    period: str  # the local date, YYYY-MM-DD
    as_of: datetime
    counts: Mapping[str, int]
    series: tuple[str, ...] = ()  # the open series' ids


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """One email command as executed: who, when, what, and what came of it."""

    message_id: str  # of the command mail
    actor: str
    at: datetime
    verb: str
    series_id: str | None
    line: str
    done: bool
    outcome: str


class OptOuts(Protocol):
    """`reviewbot: stop`: no more reminders to an address (adapters/sql/mail/state.py)."""

    def stop(self, address: str, series_id: str | None, actor: str, at: datetime,
             via: str) -> bool:
        """Record a stop (series None: every series); False if already recorded."""
        ...

    def stopped(self, addresses: Collection[str] | None = None) -> set[tuple[str, str | None]]:
        """(address, series id or None for all) of every recorded stop."""
        ...


class DigestLog(Protocol):
    def record_digest(self, counts: DigestCounts) -> None: ...

    def previous_digest(self, subsystem: str, before: str) -> DigestCounts | None:
        """The last digest of `subsystem` for a period before `before` (a local date)."""
        ...


class CommandJournal(Protocol):
    def record_command(self, record: CommandRecord) -> None: ...

    def commands(self, since: datetime | None = None) -> list[CommandRecord]: ...


class ReviewIndex(Protocol):
    """Who gave review tags on which files (filled by the refresh)."""

    def reviews_on(self, files: Collection[str], since: datetime) -> list[PastReview]: ...

    def files_of(self, series_ids: Collection[str]) -> dict[SeriesId, tuple[str, ...]]: ...


class NewMail(Protocol):
    """Mail stored since a cursor, for email commands that arrive through the lists."""

    def after(self, cursor: int | None, limit: int) -> tuple[list[RawMail], int | None]:
        """Raw mail stored after `cursor` (None: from now on: nothing, and the cursor of
        the newest stored mail) and the cursor after it."""
        ...

    def cursor(self) -> int | None: ...

    def save_cursor(self, cursor: int) -> None: ...


class CommandMailbox(Protocol):
    """A maildir the daemon reads email commands from (adapters/mail/maildir.py)."""

    def unread(self) -> Iterator[tuple[str, bytes]]: ...

    def mark_seen(self, key: str) -> None: ...


class SentLog(Protocol):
    """The outbox seen as a send log (reminders' caps and cadence)."""

    def kinds_since(self, kinds: Sequence[str], since: datetime) -> list[OutboxEntry]: ...


# -- the HTTP surface (issue 10) ----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PollRecord:
    """What the daemon's polls of one source came to (stored, so every process sees it)."""

    key: str  # Source.key: "epoch:linux-rdma", "lore:netdev", "mbox:<list>:<path>"
    list_name: str
    polls: int
    errors: int
    last_success: datetime | None
    last_error_at: datetime | None = None
    last_error: str | None = None

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]


class PollLog(Protocol):
    """Each poll's outcome per source: for `/healthz`, `reviewbot health` and metrics."""

    def record(self, key: str, list_name: str, at: datetime, error: str | None) -> None:
        """A poll ended (error None: successfully)."""
        ...

    def progress(self, key: str, list_name: str, at: datetime) -> None:
        """A poll stored a batch: the source is alive (a long first ingest stays healthy),
        though the poll has not ended."""
        ...

    def records(self) -> list[PollRecord]: ...


class WebReads(Protocol):
    """Reads the HTTP surface needs besides BacklogReader's (adapters/sql/series/webreads.py)."""

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        ...

    def section_members(self, sections: Collection[str]) -> dict[str, frozenset[SeriesId]]:
        """Series ids touching each of these MAINTAINERS sections."""
        ...

    def sections_of(self, series_ids: Collection[str]) -> dict[SeriesId, tuple[str, ...]]:
        """The sections each series touches (the taker first)."""
        ...

    def subsystems(self) -> list[SubsystemRoute]:
        """Every MAINTAINERS section as last loaded (is_taker is False), by name."""
        ...

    def series_docs(self, series_ids: Collection[str]) -> dict[SeriesId, Series]: ...

    def series_of_actor(self, address: str) -> list[SeriesId]:
        """Series whose events name this (canonical, lower-case) address."""
        ...

    def superseded_at(self, series_ids: Collection[str]) -> dict[SeriesId, datetime]:
        """For superseded series: when their successor was posted."""
        ...

    def newest_mail(self) -> dict[str, datetime]:
        """Per list: the archive time (received, else Date) of its newest stored mail."""
        ...

    def outbox_counts(self) -> dict[tuple[str, str], int]:
        """Outbox mails per (kind, state)."""
        ...


class WebBackend(Protocol):
    """Everything the HTTP surface asks (service/web/backend.py). Every method does blocking
    database work: the adapter calls them in worker threads, never on the event loop.
    Errors the client caused are core.web.model.WebError (status and message)."""

    def subsystems(self, now: datetime, params: Mapping[str, str]) -> dict[str, Any]: ...

    def queue(self, name: str, now: datetime, params: Mapping[str, str]) -> dict[str, Any]: ...

    def series(self, message_id: str, now: datetime,
               params: Mapping[str, str]) -> dict[str, Any]: ...

    def stats(self, now: datetime) -> dict[str, Any]: ...

    def reviewer(self, email: str, now: datetime,
                 params: Mapping[str, str]) -> dict[str, Any]: ...

    def act(self, identity: str, verb: str, message_id: str, body: Mapping[str, Any],
            now: datetime) -> dict[str, Any]: ...

    def chat(self, identity: str, text: str, now: datetime) -> ChatReply: ...

    def metrics(self, now: datetime) -> MetricsSnapshot: ...

    def health(self, now: datetime) -> HealthReport: ...

    def index_page(self, now: datetime, params: Mapping[str, str]) -> dict[str, Any]: ...

    def subsystem_page(self, name: str, now: datetime,
                       params: Mapping[str, str]) -> dict[str, Any]: ...
