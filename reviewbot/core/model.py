"""Plain, frozen domain types shared by the pure core and the adapters.

Nothing here knows about SQL, HTTP or wire formats; adapters convert at the
boundary. Message-IDs are stored without angle brackets, exactly as lore
spells them in URLs (before URL-quoting).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

MessageId = NewType("MessageId", str)
"""A Message-ID without the surrounding angle brackets."""

SeriesId = NewType("SeriesId", str)
"""A series is named by the Message-ID of its root: the cover letter, or the
lowest-numbered patch present when there is no cover letter."""


class TrailerKind(StrEnum):
    """Trailers as the kernel's submitting-patches.rst names them."""

    REVIEWED_BY = "Reviewed-by"
    ACKED_BY = "Acked-by"
    TESTED_BY = "Tested-by"
    NACKED_BY = "Nacked-by"  # also spelled "NAK:" / "Nak-by:"
    REPORTED_BY = "Reported-by"
    SUGGESTED_BY = "Suggested-by"
    SIGNED_OFF_BY = "Signed-off-by"
    CO_DEVELOPED_BY = "Co-developed-by"
    ORIGINALLY_BY = "Originally-by"
    FIXES = "Fixes"
    LINK = "Link"
    CLOSES = "Closes"
    CC = "Cc"
    MESSAGE_ID = "Message-ID"

    @property
    def is_review(self) -> bool:
        """Only Reviewed-by and Acked-by count as review (domain.md §3)."""
        return self in (TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY)

    @property
    def is_person(self) -> bool:
        """Trailers whose value names a person (`Name <addr>`)."""
        return self not in (
            TrailerKind.FIXES,
            TrailerKind.LINK,
            TrailerKind.CLOSES,
            TrailerKind.MESSAGE_ID,
        )


@dataclass(frozen=True, slots=True)
class Trailer:
    kind: TrailerKind
    name: str  # the person's name; "" for utility trailers (Fixes, Link, ...)
    email: str  # lower-cased address; "" for utility trailers
    value: str  # the text after "Kind:", without the "# qualifier"
    qualifier: str | None = None  # "for the DT part" in "Acked-by: A <a@x> # for the DT part"
    source: MessageId | None = None  # the message the trailer was given in


class MessageKind(StrEnum):
    PATCH = "patch"  # carries a diff and a PATCH-like subject
    COVER = "cover"  # 0/N of a series, no diff
    REPLY = "reply"  # anything answering another message (review, comment, ack)
    PULL_REQUEST = "pull"  # [GIT PULL] / [PULL] with request-pull output
    OTHER = "other"  # bug reports, syzbot, announcements, ...


@dataclass(frozen=True, slots=True)
class Subject:
    """A parsed subject line: `[PATCH net-next v3 2/7] subsys: summary`."""

    raw: str  # unfolded, decoded
    title: str  # the summary without prefixes and Re:/Fwd:
    # bracket tokens other than counter/version, lower-case: ("patch", "net-next")
    tags: tuple[str, ...] = ()
    version: int = 1
    version_label: str = "1"  # "4.1" for `v4.1`; version keeps the integer part
    counter: int | None = None  # 2 in 2/7
    total: int | None = None  # 7 in 2/7
    is_reply: bool = False  # Re:, Aw:, Sv: ...
    is_forward: bool = False
    is_patch: bool = False  # a PATCH (or patch-like) tag was present
    is_rfc: bool = False
    is_resend: bool = False
    is_pull: bool = False  # [GIT PULL], [PULL], [PULL n/N]
    is_autosel: bool = False  # stable AUTOSEL backports


@dataclass(frozen=True, slots=True)
class PullRequest:
    """What a `git request-pull` body names."""

    url: str
    ref: str
    base_commit: str | None = None
    tip_commit: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedNotice:
    """A maintainer's (or patchwork-bot's) "applied" reply."""

    branch: str | None  # "for-next", "net-next.git (main)" ...
    partial: bool  # b4 ty "(subset)" or an explicit list covering part of a series
    commits: tuple[str, ...] = ()  # abbreviated or full hashes named in the mail
    by_bot: bool = False  # patchwork-bot's notice


@dataclass(frozen=True, slots=True)
class Message:
    """One parsed mail. Everything assembly and the backlog need, no body text."""

    message_id: MessageId
    subject: Subject
    from_name: str
    from_email: str  # lower-cased
    date: datetime  # aware, UTC; from Date:, with fallbacks (received time) when broken
    kind: MessageKind
    in_reply_to: MessageId | None = None
    references: tuple[MessageId, ...] = ()  # oldest first, as in the header
    author_name: str = ""  # in-body "From:" of a patch, else the sender
    author_email: str = ""
    files: tuple[str, ...] = ()  # paths the diff touches (both sides of renames)
    patch_id: str | None = None  # `git patch-id --stable` of the diff
    trailers: tuple[Trailer, ...] = ()  # unquoted trailers in the body
    change_id: str | None = None  # b4's "change-id:" in a cover letter
    base_commit: str | None = None
    # Message-IDs of lore links in the body (earlier versions)
    linked_ids: tuple[MessageId, ...] = ()
    is_bot: bool = False  # Auto-Submitted, lkp, syzbot, patchwork-bot, ...
    applied: AppliedNotice | None = None
    pull: PullRequest | None = None
    warnings: tuple[str, ...] = ()  # non-fatal oddities met while parsing (bad charset, odd Date)
    # a reply whose unquoted text only thanks or approves ("Thanks!", "Got it, thanks"):
    # it asks nothing of the author (core.mail.ack)
    ack_only: bool = False


@dataclass(frozen=True, slots=True)
class SeriesPatch:
    index: int  # 1-based position in the series (1 for a single patch)
    message_id: MessageId
    subject: str
    files: tuple[str, ...]
    patch_id: str | None
    trailers: tuple[Trailer, ...]  # own + from replies + inherited from the cover letter


@dataclass(frozen=True, slots=True)
class Series:
    series_id: SeriesId
    title: str
    version: int
    total: int  # N of n/N (1 for a single patch)
    author_name: str
    author_email: str
    date: datetime  # earliest Date: among its members
    cover_message_id: MessageId | None
    patches: tuple[SeriesPatch, ...]  # ordered by index
    missing: tuple[int, ...]  # indexes 1..total not present
    cover_trailers: tuple[Trailer, ...] = ()
    change_id: str | None = None
    is_rfc: bool = False
    is_resend: bool = False
    is_autosel: bool = False
    tags: tuple[str, ...] = ()
    # every message of the series' thread(s): patches, cover, replies
    members: tuple[MessageId, ...] = ()
    # root ids of v1..vN, oldest first, self included
    revisions: tuple[SeriesId, ...] = field(default=())
    superseded_by: SeriesId | None = None
    revision_link: str | None = None  # how the link to the previous revision was found:
    # "change-id", "reference", "subject" (heuristic)

    @property
    def complete(self) -> bool:
        return not self.missing
