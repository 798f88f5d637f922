"""Match commits found in a subsystem tree to tracked patches (domain.md §5).

Pure: no I/O, no clock. The tree adapter turns commits into `TreeCommit`
records; the service turns tracked postings into `TrackedPatch` records and
acts on the `AppliedMatch` decisions returned here.

Order of evidence, strongest first:
1. `git patch-id --stable` equality (survives rewording, added trailers and
   whitespace fixes, because patch-id ignores the message and whitespace);
2. a `Link:` / `Message-ID:` trailer naming the posting's Message-ID
   (survives code edits and rebased context, which change the patch-id);
3. normalised subject + author (+ overlapping files) within a time window,
   marked fuzzy because nothing in the commit proves the link.
Among several postings that fit (v1, v2, a RESEND) the newest posting wins:
a maintainer applies the latest revision (dlespiau/patchwork#188).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import unquote

from reviewbot.core.model import Message, MessageId, MessageKind, SeriesId


class MatchMethod(StrEnum):
    PATCH_ID = "patch-id"
    TRAILER = "trailer"  # Link: / Message-ID: naming the posting
    SUBJECT_AUTHOR = "subject+author"  # fuzzy fallback


@dataclass(frozen=True, slots=True)
class TrackedPatch:
    """One posted patch that may show up in a tree."""

    message_id: MessageId
    series_id: SeriesId
    patch_id: str | None
    subject: str  # raw or already-normalised; normalised again here (idempotent)
    author_email: str
    date: datetime  # the posting's Date:, aware
    files: tuple[str, ...] = ()
    author_name: str = ""


@dataclass(frozen=True, slots=True)
class TreeCommit:
    """A commit as the tree adapter reports it (no diff text, just what matching needs)."""

    sha: str
    subject: str
    author_name: str
    author_email: str
    author_date: datetime  # aware; `git am` keeps the posting's Date: here
    commit_date: datetime  # aware; when the maintainer applied it
    trailers: tuple[str, ...] = ()  # "Link: https://..." lines, verbatim
    patch_id: str | None = None  # `git patch-id --stable`; None for empty/merge commits
    files: tuple[str, ...] = ()
    branches: tuple[str, ...] = ()  # configured branches the commit was seen on


@dataclass(frozen=True, slots=True)
class AppliedMatch:
    commit: str  # sha
    message_id: MessageId
    series_id: SeriesId
    method: MatchMethod
    fuzzy: bool  # only SUBJECT_AUTHOR is fuzzy: confirm before thanking anyone


class SeriesAppliedState(StrEnum):
    NONE = "none"
    PARTIAL = "partial"
    APPLIED = "applied"


@dataclass(frozen=True, slots=True)
class SeriesApplied:
    state: SeriesAppliedState
    applied: tuple[MessageId, ...]  # in the order the series lists them
    missing: tuple[MessageId, ...]
    commits: tuple[str, ...]  # every commit that applied one of its patches
    fuzzy: bool  # at least one of the applied patches was only matched fuzzily


def tracked_from_messages(
    messages: Iterable[Message], series_of: Mapping[MessageId, SeriesId]
) -> list[TrackedPatch]:
    """The postings worth watching for: patches with a diff, not stable AUTOSEL backports.

    AUTOSEL copies repost mainline commits for stable trees; they never land
    in a subsystem tree and would only compete with the original posting.
    """
    out: list[TrackedPatch] = []
    for m in messages:
        # "Re: [PATCH]" with a diff is a reviewer's suggestion, not a posting.
        if m.kind is not MessageKind.PATCH or m.subject.is_autosel or m.subject.is_reply:
            continue
        if m.patch_id is None and not m.files:
            continue
        out.append(
            TrackedPatch(
                message_id=m.message_id,
                series_id=series_of.get(m.message_id, SeriesId(m.message_id)),
                patch_id=m.patch_id,
                subject=m.subject.title or m.subject.raw,
                author_email=(m.author_email or m.from_email).lower(),
                author_name=m.author_name or m.from_name,
                date=m.date,
                files=m.files,
            )
        )
    return out


# --- normalisation -------------------------------------------------------

_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|fwd?)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_BRACKETS = re.compile(r"^\s*\[[^\]]*\]\s*")
_SPACE = re.compile(r"\s+")


def normalise_subject(subject: str) -> str:
    """"Re: [PATCH v2 3/7] RDMA/x:  Fix  y" -> "rdma/x: fix y"; idempotent."""
    s = subject
    while True:
        stripped = _BRACKETS.sub("", _REPLY_PREFIX.sub("", s), count=1)
        if stripped == s:
            break
        s = stripped
    return _SPACE.sub(" ", s).strip().casefold()


def subject_hash(subject: str) -> int:
    """A 63-bit hash of the normalised subject: how the store indexes postings by subject."""
    digest = hashlib.blake2b(normalise_subject(subject).encode(), digest_size=8).digest()
    return int.from_bytes(digest) >> 1


# Where a Message-ID can hide in a trailer value: lore /r/, /all/, /<list>/ or
# bare /<id>, patch.msgid.link, or a bare <id> (QEMU's "Message-ID: <...>").
_LINK_ID = re.compile(
    r"https?://(?:lore\.kernel\.org(?:/[\w.+-]+)?|patch\.msgid\.link|"
    r"lkml\.kernel\.org/r|msgid\.link)/([^\s/<>\"']+(?:@|%40)[^\s/<>\"'#?]+)",
    re.I,
)
_ANGLE_ID = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
_TRAILER = re.compile(r"^\s*(link|message-id|message-id-link)\s*:\s*(.+)$", re.I)


def trailer_message_ids(trailers: Iterable[str]) -> tuple[MessageId, ...]:
    """Message-IDs named by `Link:` / `Message-ID:` trailer lines, in order, de-duplicated."""
    found: list[MessageId] = []
    for line in trailers:
        m = _TRAILER.match(line)
        if not m:
            continue
        value = m.group(2)
        ids = [unquote(x) for x in _LINK_ID.findall(value)]
        if not ids and m.group(1).lower().startswith("message-id"):
            ids = _ANGLE_ID.findall(value) or [value.strip().strip("<>")]
        for raw in ids:
            mid = MessageId(raw.strip().strip("<>"))
            if "@" in mid and mid not in found:
                found.append(mid)
    return tuple(found)


# --- matching ------------------------------------------------------------


SKEW = timedelta(days=1)  # Date: headers and committer clocks disagree by this much


def _newest(candidates: Iterable[TrackedPatch], c: TreeCommit) -> TrackedPatch | None:
    """The newest posting that existed when the commit was made.

    A posting sent after the commit (a stable AUTOSEL backport, a RESEND, a
    v2 of the rest of the series) cannot be what the maintainer applied.
    The Message-ID breaks ties so the result is stable.
    """
    best: TrackedPatch | None = None
    for p in candidates:
        if p.date > c.commit_date + SKEW:
            continue
        if best is None or (p.date, p.message_id) > (best.date, best.message_id):
            best = p
    return best


@dataclass(frozen=True, slots=True)
class _Index:
    by_patch_id: dict[str, list[TrackedPatch]]
    by_message_id: dict[MessageId, TrackedPatch]
    by_series: dict[SeriesId, list[TrackedPatch]]
    by_subject: dict[str, list[TrackedPatch]]


def _index(patches: Iterable[TrackedPatch]) -> _Index:
    idx = _Index({}, {}, {}, {})
    for p in patches:
        if p.patch_id:
            idx.by_patch_id.setdefault(p.patch_id, []).append(p)
        idx.by_message_id[p.message_id] = p
        idx.by_series.setdefault(p.series_id, []).append(p)
        idx.by_subject.setdefault(normalise_subject(p.subject), []).append(p)
    return idx


def _same_author(p: TrackedPatch, c: TreeCommit) -> bool:
    if p.author_email and p.author_email.lower() == c.author_email.lower():
        return True
    # Same person, other address (leon@kernel.org posts, leonro@nvidia.com commits).
    name = p.author_name.strip().casefold()
    return bool(name) and " " in name and name == c.author_name.strip().casefold()


def _files_overlap(p: TrackedPatch, c: TreeCommit) -> bool:
    return not p.files or not c.files or bool(set(p.files) & set(c.files))


def _corroborated(p: TrackedPatch, c: TreeCommit, subject: str) -> bool:
    # A Link: may cite an earlier, related posting ("Link: <v1 discussion>"):
    # trust it only if the posting and the commit have subject or files in common.
    if normalise_subject(p.subject) == subject:
        return True
    return bool(p.files) and bool(c.files) and bool(set(p.files) & set(c.files))


def _by_trailer(idx: _Index, c: TreeCommit) -> TrackedPatch | None:
    hits: list[TrackedPatch] = []
    subject = normalise_subject(c.subject)
    for mid in trailer_message_ids(c.trailers):
        linked = idx.by_message_id.get(mid)
        series = linked.series_id if linked is not None else SeriesId(mid)
        # A link to the series root (cover letter, or patch 1 when there is no
        # cover) is used by some maintainers for every patch: pick the member
        # this commit is, by subject or patch-id, before trusting the link alone.
        members = [
            p for p in idx.by_series.get(series, ())
            if normalise_subject(p.subject) == subject
            or (c.patch_id is not None and p.patch_id == c.patch_id)
        ]
        if linked is not None and linked in members:
            hits.append(linked)  # the posting named outranks its look-alikes
        elif members:
            hits.extend(members)
        elif linked is not None and _corroborated(linked, c, subject):
            hits.append(linked)
    return _newest(hits, c)


def _by_patch_id(idx: _Index, c: TreeCommit) -> TrackedPatch | None:
    hit = _newest(idx.by_patch_id.get(c.patch_id, []), c) if c.patch_id else None
    if hit is None:
        return None
    # A Link: naming another posting of this very patch (v1 and v2 with the
    # same diff, or a posting whose diff the mailer mangled) says which one
    # the maintainer took; the newest-wins rule is only for when none does.
    linked = _by_trailer(idx, c)
    if linked is not None and (
        linked.patch_id == hit.patch_id
        or normalise_subject(linked.subject) == normalise_subject(hit.subject)
    ):
        return linked
    return hit


def _by_subject(idx: _Index, c: TreeCommit, window: timedelta) -> TrackedPatch | None:
    return _newest(
        (
            p for p in idx.by_subject.get(normalise_subject(c.subject), ())
            if _same_author(p, c) and _files_overlap(p, c) and c.commit_date <= p.date + window
        ),
        c,
    )


def match_commits(
    patches: Iterable[TrackedPatch],
    commits: Sequence[TreeCommit],
    *,
    window: timedelta = timedelta(days=365),
) -> list[AppliedMatch]:
    """Which commits applied which tracked patches, at most one patch per commit.

    `window` bounds the fuzzy fallback only: how long after its posting a
    patch may be applied and still be recognised by subject and author.
    """
    idx = _index(patches)
    out: list[AppliedMatch] = []
    for c in commits:
        method = MatchMethod.PATCH_ID
        hit = _by_patch_id(idx, c)
        if hit is None:
            method, hit = MatchMethod.TRAILER, _by_trailer(idx, c)
        if hit is None:
            method, hit = MatchMethod.SUBJECT_AUTHOR, _by_subject(idx, c, window)
        if hit is not None:
            out.append(
                AppliedMatch(
                    commit=c.sha,
                    message_id=hit.message_id,
                    series_id=hit.series_id,
                    method=method,
                    fuzzy=method is MatchMethod.SUBJECT_AUTHOR,
                )
            )
    return out


def series_applied(
    matches: Iterable[AppliedMatch], patch_ids: Sequence[MessageId]
) -> SeriesApplied:
    """Applied when every patch of the series has a commit, partial when some do."""
    wanted = set(patch_ids)
    commits: list[str] = []
    hit: set[MessageId] = set()
    fuzzy_only: dict[MessageId, bool] = {}
    for m in matches:
        if m.message_id not in wanted:
            continue
        hit.add(m.message_id)
        if m.commit not in commits:
            commits.append(m.commit)
        # A patch counts as fuzzy only if no exact match confirmed it.
        fuzzy_only[m.message_id] = fuzzy_only.get(m.message_id, True) and m.fuzzy
    applied = tuple(p for p in patch_ids if p in hit)
    missing = tuple(p for p in patch_ids if p not in hit)
    if patch_ids and not missing:
        state = SeriesAppliedState.APPLIED
    elif applied:
        state = SeriesAppliedState.PARTIAL
    else:
        state = SeriesAppliedState.NONE
    return SeriesApplied(
        state=state,
        applied=applied,
        missing=missing,
        commits=tuple(commits),
        fuzzy=any(fuzzy_only.values()),
    )
