"""Types the pull-request and upstream-debt code shares with its ports. Pure.

Tracked series come in through `SeriesLookup` (ports.py) as `Posting` and
`SeriesSummary`; git facts come in as `CommitInfo` and `TagInfo`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from reviewbot.core.model import MessageId, SeriesId, TrailerKind


def lore_link(message_id: str) -> str:
    """lore's list-independent link to a message (conventions.md §4: quote the id)."""
    return f"https://lore.kernel.org/r/{quote(message_id, safe='@!$&()*+,;=:~._-')}"


@dataclass(frozen=True, slots=True)
class Posting:
    """One posted patch of a tracked series."""

    message_id: MessageId
    series_id: SeriesId
    patch_idx: int | None  # 1-based; None: a member of no series' patch list
    subject: str
    author_name: str
    author_email: str
    date: datetime
    patch_id: str | None


@dataclass(frozen=True, slots=True)
class Review:
    """A Reviewed-by / Acked-by / Tested-by / Nacked-by given on a series."""

    kind: TrailerKind
    name: str
    email: str
    patch_idx: int  # 0: the cover letter (the whole series)
    qualifier: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedCommit:
    """A commit in a watched tree that applies one of a series' patches."""

    patch_idx: int | None
    tree: str
    branch: str
    sha: str


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """What pull requests and the debt report need to know about one tracked series."""

    series_id: SeriesId
    title: str
    version: int
    author_name: str
    author_email: str
    date: datetime  # posted
    state: str  # the stored backlog state (core.backlog.turn.State values)
    superseded_by: SeriesId | None
    reviews: tuple[Review, ...]
    patch_count: int
    total: int
    last_activity: datetime  # the newest mail of its thread(s)
    cover_paragraph: str = ""  # the cover letter's first paragraph, "" without a cover
    list_name: str = ""
    applied_in: tuple[AppliedCommit, ...] = ()  # its patches found in watched trees

    @property
    def link(self) -> str:
        return lore_link(self.series_id)

    @property
    def naks(self) -> tuple[Review, ...]:
        return tuple(r for r in self.reviews if r.kind is TrailerKind.NACKED_BY)

    def reviewers_other_than(self, *people: str) -> tuple[Review, ...]:
        """Reviewed-by / Acked-by given by someone who is none of `people` (addresses)."""
        skip = {p.lower() for p in people if p}
        return tuple(r for r in self.reviews if r.kind.is_review and r.email.lower() not in skip)


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """A commit as the pull-request and debt code needs it."""

    sha: str
    subject: str
    author_name: str
    author_email: str
    author_date: datetime
    committer_name: str
    committer_email: str
    committer_date: datetime
    trailers: tuple[tuple[str, str], ...] = ()  # (key as written, value), as git parses them
    files: tuple[str, ...] = ()
    patch_id: str | None = None

    def trailer_values(self, *keys: str) -> tuple[str, ...]:
        wanted = {k.lower() for k in keys}
        return tuple(v for k, v in self.trailers if k.lower() in wanted)


@dataclass(frozen=True, slots=True)
class TagInfo:
    name: str
    object_sha: str  # the tag object (what a push sends); the commit for a lightweight tag
    commit: str  # what it points at
    annotated: bool
    signed: bool
    tagger_name: str = ""
    tagger_email: str = ""
    date: datetime | None = None
    message: str = ""


class CheckResult(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    result: CheckResult
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "result": self.result.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class PullMerged:
    """Upstream took a pull request: pr-tracker-bot said so, or the tag is merged."""

    at: datetime
    evidence: str  # "pr-tracker-bot: <commit URL>" or "tip <sha> is in <ref>"
    merge_commit: str | None = None


@dataclass(frozen=True, slots=True)
class GitLabTarget:
    """Where a GitLab-hosted tree's merge request goes (policy [pull])."""

    url: str  # the instance, https://gitlab.freedesktop.org
    project: str  # "drm/msm", the project the MR is opened in
    source_branch: str
    target_branch: str
    source_project: str | None = None  # a fork holding source_branch; None: the same project
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PullDraft:
    """A prepared pull request (email, or a GitLab merge request), nothing sent yet."""

    subsystem: str
    tree: str  # the local repository it was prepared in
    tag: str
    base: str  # the base ref as given
    base_commit: str
    tip: str  # the commit the tag points at
    url: str  # the public repository named in request-pull
    sender: str  # "Name <addr>": the tagger
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    summary: str  # the prose before the request-pull output
    request_pull: str  # `git request-pull` output, byte for byte
    checks: tuple[Check, ...]
    created: datetime
    transport: str = "email"  # or "gitlab-mr"
    gitlab: GitLabTarget | None = None

    @property
    def body(self) -> str:
        return self.summary + self.request_pull

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.result is CheckResult.FAIL)


class DraftStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    MERGED = "merged"


@dataclass(frozen=True, slots=True)
class StoredDraft:
    id: int
    draft: PullDraft
    status: DraftStatus
    sent_at: datetime | None = None
    sent_ref: str | None = None  # the mail's Message-ID, or the merge request's URL
    merged_at: datetime | None = None
    merged_evidence: str | None = None


@dataclass(frozen=True, slots=True)
class Pipeline:
    id: int
    status: str
    ref: str = ""
    web_url: str = ""


@dataclass(frozen=True, slots=True)
class MergeRequestInfo:
    iid: int
    title: str
    web_url: str
    state: str
    source_branch: str
    target_branch: str
    pipelines: tuple[Pipeline, ...] = ()
    approved: bool | None = None
    approved_by: tuple[str, ...] = ()  # usernames
    approvals_left: int | None = None
    labels: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {"iid": self.iid, "title": self.title, "web_url": self.web_url,
                "state": self.state, "source_branch": self.source_branch,
                "target_branch": self.target_branch, "labels": list(self.labels),
                "pipelines": [{"id": p.id, "status": p.status, "ref": p.ref,
                               "web_url": p.web_url} for p in self.pipelines],
                "approved": self.approved, "approved_by": list(self.approved_by),
                "approvals_left": self.approvals_left}
