"""Pull requests: prepare (facts -> checks -> draft), send on request, track until merged.

Nothing is sent by `prepare`: it stores a draft. `send_email` hands a draft
whose checks did not fail to the PullMailer and records it as sent only once
the mailer took it; `open_merge_request` does the same for GitLab-hosted trees.
`track` marks sent drafts merged when pr-tracker-bot answered their mail or
their tip is in the upstream branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.model import MessageId, SeriesId
from reviewbot.core.policy.model import Policy, PullTransport
from reviewbot.core.pulls.cycle import Cycle
from reviewbot.core.pulls.match import CommitPosting, match_commit, wanted_keys
from reviewbot.core.pulls.model import (
    CommitInfo,
    DraftStatus,
    GitLabTarget,
    MergeRequestInfo,
    PullDraft,
    PullMerged,
    SeriesSummary,
    StoredDraft,
)
from reviewbot.core.pulls.readiness import PullFacts, fixes_hashes, readiness
from reviewbot.core.pulls.summary import is_fixes, mr_title, recipients, subject, summary
from reviewbot.ports import (
    MergeRequests,
    MergeRequestSpec,
    PullMail,
    PullMailer,
    PullStore,
    PullTree,
    SeriesLookup,
)


class PullError(ValueError):
    """The pull request cannot be prepared or sent; the message says why."""


@dataclass(frozen=True, slots=True)
class Mapped:
    """Commits with the tracked postings and series they come from."""

    postings: dict[str, CommitPosting]
    series: dict[SeriesId, SeriesSummary]


def map_commits(lookup: SeriesLookup, commits: Sequence[CommitInfo]) -> Mapped:
    """Each commit's tracked posting (patch-id, Link:, subject+author) and its series."""
    pids, mids, subjects = wanted_keys(commits)
    by_pid = lookup.by_patch_id(pids) if pids else {}
    by_mid = lookup.by_message_id(mids) if mids else {}
    by_subject = lookup.by_subject(subjects) if subjects else {}
    postings = {c.sha: cp for c in commits
                if (cp := match_commit(c, by_pid, by_mid, by_subject)) is not None}
    series = lookup.series_summary({cp.posting.series_id for cp in postings.values()})
    return Mapped(postings, series)


@dataclass(frozen=True, slots=True)
class Prepared:
    id: int
    draft: PullDraft
    commits: tuple[CommitInfo, ...]


def _gitlab(policy: Policy) -> GitLabTarget | None:
    p = policy.pull
    if p.transport is not PullTransport.GITLAB_MR:
        return None
    if not (p.gitlab_url and p.gitlab_project and p.source_branch and p.target_branch):
        raise PullError(f"policy {policy.name}: transport gitlab-mr needs gitlab_url, "
                        "gitlab_project, source_branch and target_branch in [pull]")
    return GitLabTarget(p.gitlab_url, p.gitlab_project, p.source_branch, p.target_branch,
                        p.source_project, p.labels)


def prepare(
    tree: PullTree,
    lookup: SeriesLookup,
    store: PullStore,
    *,
    policy: Policy,
    name: str,
    now: datetime,
    tag: str | None = None,
    base: str | None = None,
    cycle: Cycle | None = None,
    maintainers: RoutingIndex | None = None,
) -> Prepared:
    """Gather the facts, run the readiness checks, write the mail; store it as a draft."""
    pull = policy.pull
    tag = tag or tree.default_tag()
    if tag is None:
        raise PullError(f"{tree.path}: no tag to send (give --tag)")
    info = tree.tag(tag)
    if info is None:
        raise PullError(f"{tree.path}: no tag {tag!r}")
    url = pull.url or policy.tree.url
    if not url:
        raise PullError(f"policy {policy.name}: no public URL for request-pull: set [pull] url "
                        "(or [tree] url)")
    base = base or tree.default_base(info.commit, pull.upstream_ref)
    base_commit = tree.resolve(base) if base else None
    if base is None or base_commit is None:
        raise PullError(f"{tree.path}: no base for {tag}"
                        + (f": {base!r} names no commit" if base else " (give --base)"))
    commits = tree.commits(base_commit, info.commit)
    if not commits:
        raise PullError(f"{tag} adds no commits on top of {base}")
    mapped = map_commits(lookup, commits)
    ok, said = tree.verify_tag(tag)
    facts = PullFacts(
        tag=info, verify_ok=ok, verify_output=said, pushed=tree.remote_tag(url, tag), url=url,
        base=base, base_commit=base_commit, base_tags=tree.mainline_tags_at(base_commit),
        upstream_ref=pull.upstream_ref,
        upstream_commit=tree.resolve(pull.upstream_ref) if pull.upstream_ref else None,
        commits=commits, postings=mapped.postings, series=mapped.series,
        unknown_fixes=tree.missing_commits(fixes_hashes(commits)),
        linux_next_ref=pull.linux_next_ref,
        not_in_next=(tree.not_in([c.sha for c in commits], pull.linux_next_ref)
                     if pull.linux_next_ref else None),
        now=now, late_rebase=pull.late_rebase, cycle=cycle, maintainers=maintainers,
        sections=policy.sections)
    checks = readiness(facts)
    shown = pull.name or name
    fixes = is_fixes(pull, tag)
    target = (cycle.next_rc if fixes else cycle.changes_for) if cycle else None
    intro = (f"Please pull the {shown} {'fixes' if fixes else 'changes'}"
             + (f" for v{target}" if target else ""))
    to, cc = recipients(pull, policy.lists)
    draft = PullDraft(
        subsystem=name, tree=tree.path, tag=tag, base=base, base_commit=base_commit,
        tip=info.commit, url=url,
        sender=f"{info.tagger_name} <{info.tagger_email}>" if info.tagger_email else "",
        to=to, cc=cc, subject=subject(pull, name, tag, cycle, info.date),
        summary=summary(pull.greeting, intro, commits, mapped.postings, mapped.series),
        request_pull=tree.request_pull(base, url, tag), checks=checks, created=now,
        transport=pull.transport.value, gitlab=_gitlab(policy))
    return Prepared(store.save_draft(draft), draft, tuple(commits))


def _sendable(store: PullStore, draft_id: int) -> StoredDraft:
    stored = store.draft(draft_id)
    if stored is None:
        raise PullError(f"no pull request draft {draft_id}")
    if stored.status is not DraftStatus.DRAFT:
        raise PullError(f"draft {draft_id} was already sent ({stored.sent_ref})")
    failed = stored.draft.failed
    if failed:
        raise PullError(f"draft {draft_id} failed {len(failed)} readiness check(s) ("
                        + ", ".join(c.name for c in failed) + "): fix them and prepare again")
    if not stored.draft.sender:
        raise PullError(f"draft {draft_id}: the tag names no tagger to send it from")
    return stored


def mail_key(draft_id: int) -> str:
    """The idempotency key of a draft's mail: one draft, one message, whatever the retries."""
    return f"pull:{draft_id}"


def send_email(store: PullStore, mailer: PullMailer, draft_id: int, now: datetime) -> str:
    """Send one draft by mail; returns the Message-ID. Recorded as sent only if it went."""
    d = _sendable(store, draft_id).draft
    if d.transport != PullTransport.EMAIL.value:
        raise PullError(f"draft {draft_id} goes as a GitLab merge request, not by mail")
    mid = mailer.send(PullMail(mail_key(draft_id), d.sender, d.to, d.cc, d.subject,
                                   d.body))
    store.mark_sent(draft_id, now, mid)
    return mid


def mr_description(d: PullDraft) -> str:
    """The merge request's text: the same summary (no greeting) and the request-pull."""
    text = d.summary
    greeting = text.split("\n", 1)[0]
    if greeting and not greeting.startswith("Please pull"):
        text = text.split("\n\n", 1)[-1]
    return f"{text}```\n{d.request_pull}```\n"


def merge_request_spec(d: PullDraft) -> MergeRequestSpec:
    g = d.gitlab
    if g is None:
        raise PullError("this draft goes by mail, not as a merge request")
    return MergeRequestSpec(mr_title(d.subject), mr_description(d), g.source_branch,
                            g.target_branch, g.labels, g.source_project)


async def existing_merge_requests(forge: MergeRequests, d: PullDraft) -> list[MergeRequestInfo]:
    g = d.gitlab
    if g is None:
        return []
    return await forge.existing(g.project, g.source_branch, g.target_branch)


async def open_merge_request(store: PullStore, forge: MergeRequests, draft_id: int,
                             now: datetime) -> MergeRequestInfo:
    """Open the draft's merge request, unless one is open between its branches already."""
    d = _sendable(store, draft_id).draft
    if d.gitlab is None:
        raise PullError(f"draft {draft_id} goes by mail (policy [pull] transport)")
    open_now = await existing_merge_requests(forge, d)
    if open_now:
        raise PullError(f"merge request !{open_now[0].iid} is open already: "
                        f"{open_now[0].web_url}")
    mr = await forge.create(d.gitlab.project, merge_request_spec(d))
    store.mark_sent(draft_id, now, mr.web_url)
    return mr


def track(store: PullStore, lookup: SeriesLookup, now: datetime, tree: PullTree | None = None,
          upstream_ref: str | None = None) -> list[tuple[StoredDraft, PullMerged]]:
    """Mark sent drafts merged: pr-tracker-bot's reply, else the tip in `upstream_ref`."""
    sent = [s for s in store.drafts() if s.status is DraftStatus.SENT]
    replies: Mapping[MessageId, PullMerged] = lookup.pull_merged(
        [s.sent_ref for s in sent if s.sent_ref]) if sent else {}
    done: list[tuple[StoredDraft, PullMerged]] = []
    for s in sent:
        merged = replies.get(MessageId(s.sent_ref or ""))
        if merged is None and tree is not None and upstream_ref:
            d = s.draft
            # A request whose base is its tip asks for nothing (pr-tracker-bot's June 2026 slip).
            if d.tip != d.base_commit and tree.not_in([d.tip], upstream_ref) == []:
                merged = PullMerged(now, f"tip {d.tip[:12]} of {d.tag} is in {upstream_ref}")
        if merged is not None:
            store.mark_merged(s.id, merged)
            done.append((s, merged))
    return done
