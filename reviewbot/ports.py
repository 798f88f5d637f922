"""Ports: the shapes the service talks to. Adapters implement them.

Sources are synchronous iterators on purpose: git, b4 and liblore are
synchronous, so the daemon runs each poll in a worker thread (one per source)
instead of pretending they are async.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from reviewbot.core.applied.match import TreeCommit
from reviewbot.core.backlog.events import SeriesEvent
from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.model import Message, MessageId, Series, SeriesId
from reviewbot.core.notify.message import OutgoingMail
from reviewbot.core.notify.outbox import OutboxState
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


# -- outgoing mail: the outbox and the SMTP edge (issue 9) -----------------------------

@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One stored mail and where it stands (adapters/sql/outbox.py)."""

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
