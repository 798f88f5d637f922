"""A series' history as events, and the pure builders that produce them.

`core.backlog.derive_state` replays these; the service builds them from an
assembled Series and its member Messages (plus applied-detection matches and
stored manual overrides) with `events_from_series`, so the state is always
reproducible from data.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from reviewbot.core.backlog.entitled import Appliers, applied_counts
from reviewbot.core.model import (
    Message,
    MessageId,
    MessageKind,
    Series,
    SeriesId,
    TrailerKind,
)


class EventKind(StrEnum):
    POSTED = "posted"  # this revision was posted (a later, higher revision restarts review)
    REPLY = "reply"  # a reply without review trailers: by author, reviewer, maintainer or bot
    TRAILER = "trailer"  # Reviewed-by / Acked-by / Tested-by / Nacked-by given
    NEW_REVISION = "new_revision"  # a newer revision exists: this one is superseded
    APPLIED = "applied"  # an "Applied, thanks" mail (a hint; commits confirm)
    COMMITTED = "committed"  # commits in the subsystem's tree apply these patches
    OVERRIDE = "override"  # a maintainer's manual state
    CLAIM = "claim"  # a reviewer takes the series
    RELEASE = "release"  # a reviewer gives it back (decline)
    ASSIGN = "assign"  # someone (or the assigner) names a reviewer


class OverrideAction(StrEnum):
    SNOOZE = "snooze"  # until a time; wakes by itself
    DEFER = "defer"  # until reopened or a new revision
    REJECT = "reject"
    ARCHIVE = "archive"
    REOPEN = "reopen"  # clears any of the above


# Trailers that carry review meaning; every other kind is ignored by the backlog.
REVIEW_TRAILERS = frozenset(
    {TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY, TrailerKind.TESTED_BY, TrailerKind.NACKED_BY}
)
# Bots whose reports mean "the author must fix something" (NIPA treats kbuild this way).
ERROR_BOTS = frozenset({"lkp@intel.com"})

# Carried to a later revision: review. (A NAK of v1 is not held against v2: b4 carries
# it into the commit, but whether v2 answers it is for people to say.)
_CARRIED_TRAILERS = frozenset({TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY,
                               TrailerKind.TESTED_BY})

_ORDER = {kind: n for n, kind in enumerate(EventKind)}


@dataclass(frozen=True, slots=True)
class SeriesEvent:
    at: datetime  # aware
    kind: EventKind
    actor: str = ""  # lower-cased address: sender, trailer's person, or who overrode/claimed
    patches: tuple[int, ...] = ()  # 1-based indexes concerned; () means the whole series
    trailer: TrailerKind | None = None  # TRAILER only
    bot: bool = False  # REPLY sent by a bot
    failure: bool = False  # REPLY from an error bot (build failure): the author's turn
    partial: bool = False  # APPLIED "(subset)" without saying which
    action: OverrideAction | None = None  # OVERRIDE only
    until: datetime | None = None  # OVERRIDE snooze end
    target: str = ""  # ASSIGN: the reviewer named
    revision: int = 1  # POSTED / NEW_REVISION: the version number
    total: int = 1  # POSTED: patches in the series
    rfc: bool = False  # POSTED as RFC
    # TRAILER in the posting itself (earlier revision, internal review) or carried from an
    # older revision's reply by patch-id; APPLIED: the patch was applied in an older revision
    carried: bool = False
    ack: bool = False  # REPLY that only thanks or approves (Message.ack_only): no objection
    ref: str = ""  # Message-ID, commit hash or newer series id, for the timeline
    note: str = ""  # branch, reason, qualifier
    from_version: int = 0  # TRAILER carried from an older revision's reply: its version

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or (self.until is not None and self.until.tzinfo is None):
            raise ValueError(f"{self.kind} event needs aware datetimes, got {self.at!r}")

    @property
    def sort_key(self) -> tuple[object, ...]:
        # A total order over every field, so input order never matters. (repr(self) did
        # the same and cost a third of a refresh's replays.)
        return (self.at, _ORDER[self.kind], self.ref, self.actor, self.patches,
                self.trailer.value if self.trailer else "", self.bot, self.failure,
                self.partial, self.action.value if self.action else "",
                self.until is not None, self.until or self.at, self.target, self.revision,
                self.total, self.rfc, self.carried, self.ack, self.note, self.from_version)


@dataclass(frozen=True, slots=True)
class CommitMatch:
    """Applied detection's result: `sha` on `branch` applies these patches of the series."""

    at: datetime  # when the commit was first seen on the branch (or its commit date)
    sha: str
    patches: tuple[int, ...]
    branch: str = ""


@dataclass(frozen=True, slots=True)
class PatchCommit:
    """A stored applied-detection match: commit `sha`, first seen on `branch`, applies
    the posting `message_id` (at: committed, or first seen if that was earlier)."""

    message_id: MessageId
    sha: str
    branch: str
    at: datetime


def commit_matches(series: Series, commits: Iterable[PatchCommit]) -> list[CommitMatch]:
    """One CommitMatch per commit applying patches of `series`, oldest first.

    A commit found in two trees (or by two polls) is one match, at its earliest
    time, on the branch it was first seen on. A posting listed in two series (a
    partial reroll carries the older patch) counts for both.
    """
    index = {p.message_id: p.index for p in series.patches}
    merged: dict[str, tuple[datetime, set[int], str]] = {}
    for c in sorted(commits, key=lambda c: (c.at, c.sha, c.branch, c.message_id)):
        idx = index.get(c.message_id)
        if idx is None:
            continue
        at, patches, branch = merged.get(c.sha, (c.at, set(), c.branch))
        patches.add(idx)
        merged[c.sha] = (min(at, c.at), patches, branch)
    out = [CommitMatch(at, sha, tuple(sorted(p)), branch)
           for sha, (at, p, branch) in merged.items()]
    out.sort(key=lambda c: (c.at, c.sha))
    return out


def history_events(
    series: Series,
    members: Iterable[Message],
    *,
    newer: Series | None = None,
    commits: Iterable[PatchCommit] = (),
    actions: Iterable[SeriesEvent] = (),
    appliers: Appliers | None = None,
) -> list[SeriesEvent]:
    """A series' whole history: its mail, the newer revision, the commits applying its
    patches, and the manual actions people recorded, in one deterministic order.
    `appliers`: who may say "applied" (None: anyone, when nothing is routed)."""
    matched = commit_matches(series, commits)
    return merge_events(events_from_series(series, members, newer=newer, commits=matched,
                                           appliers=appliers), actions)


@dataclass(frozen=True, slots=True)
class OlderRevision:
    """An earlier revision of a series as carrying needs it: the series, its own history
    (history_events, nothing carried into it) and the Message-IDs of its members."""

    series: Series
    events: tuple[SeriesEvent, ...]
    members: frozenset[MessageId]


def older_revisions(series: Series) -> tuple[SeriesId, ...]:
    """The ids of the revisions before `series` in its chain (v1..vN-1), oldest first."""
    if series.series_id not in series.revisions:
        return ()
    return series.revisions[: series.revisions.index(series.series_id)]


def applied_times(series: Series, events: Iterable[SeriesEvent]) -> dict[int, datetime]:
    """Patch index -> when it was first applied, as the replay counts it: "applied" mails
    and commits after the posting; a "(subset)" that names no patch names none here;
    applications carried from an even older revision are not this revision's."""
    everything = tuple(range(1, series.total + 1))
    out: dict[int, datetime] = {}
    for e in events:
        if e.kind not in (EventKind.APPLIED, EventKind.COMMITTED) or e.carried \
                or e.at < series.date:
            continue
        if e.kind is EventKind.APPLIED and e.partial and not e.patches:
            continue
        for p in e.patches or everything:
            if p not in out or e.at < out[p]:
                out[p] = e.at
    return out


def carried_events(series: Series, members: Collection[MessageId],
                   older: Iterable[OlderRevision]) -> list[SeriesEvent]:
    """What older revisions hand on to `series`, as events:

    - a patch whose patch-id equals a patch applied in an older revision is applied here
      too (APPLIED, carried), when that revision applied it but not before this posting;
    - review trailers given in replies to an identical older patch (assembly carried
      them by patch-id: their `source` is no member of this series) count as review in
      the posting, "carried from vN" (TRAILER, carried, from_version).
    """
    older = list(older)
    applied: dict[str, tuple[datetime, OlderRevision]] = {}
    version_of: dict[MessageId, int] = {}
    for o in older:
        version_of.update({m: o.series.version for m in o.members})
        times = applied_times(o.series, o.events)
        for p in o.series.patches:
            at = times.get(p.index)
            if p.patch_id and at is not None:
                seen = applied.get(p.patch_id)
                if seen is None or at < seen[0]:
                    applied[p.patch_id] = (at, o)
    mine = set(members)
    out: list[SeriesEvent] = []
    grouped: dict[tuple[datetime, SeriesId, int], list[int]] = {}
    for p in series.patches:
        hit = applied.get(p.patch_id or "")
        if hit is not None:
            at, o = hit
            key = (max(at, series.date), o.series.series_id, o.series.version)
            grouped.setdefault(key, []).append(p.index)
        for t in p.trailers:
            if t.source is None or t.source in mine or t.kind not in _CARRIED_TRAILERS \
                    or not t.email:
                continue
            out.append(SeriesEvent(
                at=series.date, kind=EventKind.TRAILER, actor=t.email.lower(),
                patches=(p.index,), trailer=t.kind, ref=str(t.source),
                note=t.qualifier or "", carried=True, from_version=version_of.get(t.source, 0)))
    for (at, sid, version), patches in grouped.items():
        out.append(SeriesEvent(at=at, kind=EventKind.APPLIED, patches=tuple(patches),
                               carried=True, ref=str(sid), note=f"v{version}"))
    return merge_events(out)


def merge_events(*streams: Iterable[SeriesEvent]) -> list[SeriesEvent]:
    """Mail-derived, commit-derived and stored manual events in one deterministic order."""
    return sorted((e for s in streams for e in s), key=lambda e: e.sort_key)


def events_from_series(
    series: Series,
    messages: Iterable[Message],
    *,
    newer: Series | None = None,
    commits: Iterable[CommitMatch] = (),
    error_bots: Collection[str] = ERROR_BOTS,
    appliers: Appliers | None = None,
) -> list[SeriesEvent]:
    """Everything the mail and the tree say about one revision, oldest first.

    `messages` are the series' members (patches, cover, replies at any depth);
    `newer` is the revision that superseded it, if any. An "applied" statement counts
    only from someone in `appliers` (core.backlog.entitled); from anyone else it is an
    ordinary reply. None: every statement counts.
    """
    by_id = {m.message_id: m for m in messages}
    patch_of: dict[MessageId, int] = {p.message_id: p.index for p in series.patches}
    if series.cover_message_id is not None:
        patch_of[series.cover_message_id] = 0
    author = series.author_email.lower()
    events = [SeriesEvent(
        at=series.date, kind=EventKind.POSTED, actor=author, revision=series.version,
        total=series.total, rfc=series.is_rfc, ref=str(series.series_id),
        patches=tuple(p.index for p in series.patches),
    )]
    for msg in sorted(by_id.values(), key=lambda m: (m.date, m.message_id)):
        if msg.message_id in patch_of:
            # Trailers carried in the posting itself (from earlier revisions) still count.
            where = _patches(patch_of[msg.message_id])
            events.extend(_trailer_events(msg, where, carried=True))
            continue
        if msg.kind in (MessageKind.PATCH, MessageKind.COVER) and not msg.subject.is_reply:
            continue  # another series' posting that happens to be in the thread
        if msg.date < series.date:
            # A skewed Date: must not drop a reply from the history; it came after the posting.
            msg = replace(msg, date=series.date)
        events.extend(_reply_events(msg, _target(msg, patch_of), error_bots, appliers))
    if newer is not None:
        events.append(SeriesEvent(
            at=newer.date, kind=EventKind.NEW_REVISION, actor=newer.author_email.lower(),
            revision=newer.version, ref=str(newer.series_id)))
    for c in commits:
        events.append(SeriesEvent(
            at=c.at, kind=EventKind.COMMITTED, patches=c.patches, ref=c.sha, note=c.branch))
    return merge_events(events)


def _patches(index: int | None) -> tuple[int, ...]:
    # The cover letter (0) or an unplaceable reply speaks for the whole series.
    return () if not index else (index,)


def _target(msg: Message, patch_of: dict[MessageId, int]) -> tuple[int, ...]:
    """Which patch a reply is about: the nearest ancestor that is a patch or the cover."""
    chain = [msg.in_reply_to] if msg.in_reply_to else []
    chain.extend(reversed(msg.references))
    for ancestor in chain:
        if ancestor in patch_of:
            return _patches(patch_of[ancestor])
    return ()


def _trailer_events(
    msg: Message, where: tuple[int, ...], *, carried: bool = False
) -> list[SeriesEvent]:
    return [
        SeriesEvent(at=msg.date, kind=EventKind.TRAILER, actor=t.email.lower(), patches=where,
                    trailer=t.kind, ref=str(msg.message_id), note=t.qualifier or "",
                    carried=carried)
        for t in msg.trailers
        if t.kind in REVIEW_TRAILERS and t.email
    ]


def _reply_events(
    msg: Message, where: tuple[int, ...], error_bots: Collection[str],
    appliers: Appliers | None = None,
) -> list[SeriesEvent]:
    sender = msg.from_email.lower()
    if msg.applied is not None and (appliers is None
                                    or applied_counts(msg.applied, sender, appliers)):
        notice = msg.applied
        return [SeriesEvent(
            at=msg.date, kind=EventKind.APPLIED, actor=sender, partial=notice.partial,
            bot=notice.by_bot, ref=" ".join(notice.commits) or str(msg.message_id),
            note=notice.branch or "")]
    if msg.is_bot:
        return [SeriesEvent(
            at=msg.date, kind=EventKind.REPLY, actor=sender, patches=where, bot=True,
            failure=sender in error_bots, ref=str(msg.message_id))]
    trailers = _trailer_events(msg, where)
    if trailers:
        return trailers
    return [SeriesEvent(at=msg.date, kind=EventKind.REPLY, actor=sender, patches=where,
                        ack=msg.ack_only, ref=str(msg.message_id))]
