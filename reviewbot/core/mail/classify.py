"""What kind of mail this is beyond its diff: bot mail, "applied" notices,
`git request-pull` bodies. Pure; every function reads already-decoded text.

Patterns follow what the 2025 linux-rdma corpus really contains (see
tests/core/test_classify.py for the samples).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reviewbot.core.mail.applied import applied_branch, find_applied, names_a_part
from reviewbot.core.model import AppliedNotice, PullRequest, Subject

_BOT_LOCALPARTS = frozenset(
    {"noreply", "no-reply", "do-not-reply", "donotreply", "mailer-daemon", "bugzilla-daemon"}
)
_BOT_ADDRESSES = frozenset({"lkp@intel.com", "pr-tracker-bot@kernel.org"})


def is_bot(from_name: str, from_email: str, headers: Mapping[str, str]) -> bool:
    """Mail that must never count as human review or be answered.

    `headers` are lower-cased names (headers.parse_header_block).
    """
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return True
    if "x-pr-tracked-message-id" in headers or "x-launchpad-notification-type" in headers:
        return True
    local, _, domain = from_email.partition("@")
    if from_email in _BOT_ADDRESSES or local in _BOT_LOCALPARTS:
        return True
    if domain == "syzkaller.appspotmail.com":  # syzbot+<hash>@...
        return True
    if local.startswith("patchwork-bot") and domain == "kernel.org":
        return True
    return "test robot" in from_name.lower()


def is_patchwork_bot(from_email: str) -> bool:
    local, _, domain = from_email.partition("@")
    return local.startswith("patchwork-bot") and domain == "kernel.org"


_PWBOT = re.compile(r"^This (series|patch) was applied to ([^\n]+?)\s*$", re.MULTILINE)
_PWBOT_ITEM = re.compile(r"^  - \[[^\n]*\n(?:    ([^\n]*))?", re.MULTILINE)
_COMMIT_LINK = re.compile(r"https?://git\.kernel\.org/\S*?/c/([0-9a-f]{7,40})")
_COMMIT_LINE = re.compile(
    r"^\s+commit:?\s+([0-9a-f]{7,40})\b|\bapplied as commit ([0-9a-f]{7,40})\b",
    re.MULTILINE | re.IGNORECASE,
)
_SUBSET = re.compile(r"^(?:\S+:\s*)*\(subset\)", re.IGNORECASE)


def applied_notice(
    text: str, subject: Subject, from_email: str, paras: list[str] | None = None
) -> AppliedNotice | None:
    """The "applied" notice in a reply, or None.

    A person's notice is a statement anywhere in an unquoted paragraph
    (core.mail.applied); quoted text, questions, plans, requests and test
    reports are not. Whether the sender may apply to the tree is the
    backlog's decision (core.backlog.entitled), made with routing.
    `paras`: `core.mail.applied.paragraphs(text)` when the caller has it already.
    """
    if not subject.is_reply:
        return None
    if is_patchwork_bot(from_email):
        m = _PWBOT.search(text)
        if m is None:
            return None
        items = _PWBOT_ITEM.findall(text)
        linked = [i for i in items if _COMMIT_LINK.search(i)]
        return AppliedNotice(
            branch=m.group(2),
            partial=bool(items) and len(linked) < len(items),
            commits=_commits(text),
            by_bot=True,
        )
    statement = find_applied(text, paras)
    if statement is None:
        return None
    return AppliedNotice(
        branch=applied_branch(statement),
        partial=_SUBSET.match(subject.raw) is not None or names_a_part(statement),
        commits=_commits(text),
    )


def _commits(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for sha in _COMMIT_LINK.findall(text):
        if sha not in out:
            out.append(sha)
    for a, b in _COMMIT_LINE.findall(text):
        sha = a or b
        if sha not in out:
            out.append(sha)
    return tuple(out)


_PULL_SINCE = re.compile(
    r"^The following (?:are )?changes since commit ([0-9a-f]{7,40})", re.MULTILINE | re.IGNORECASE
)
_PULL_AT = re.compile(
    r"^(?:and )?are available in the git repository at:?[ \t]*\n"
    r"(?:[ \t]*\n)*[ \t]*(\S+)[ \t]*(\S*)",
    re.MULTILINE | re.IGNORECASE,
)
_PULL_URL_LINE = re.compile(r"\n[ \t]+((?:git|https?|ssh)://[^\s]+)[ \t]+([^\s]+)[ \t]*\n")
_PULL_TIP = re.compile(
    r"^for you to fetch changes up to ([0-9a-f]{7,40})", re.MULTILINE | re.IGNORECASE
)


def pull_request(text: str, subject_is_pull: bool = False) -> PullRequest | None:
    """URL and ref of unquoted `git request-pull` output, or None.

    With `subject_is_pull` a hand-written request also counts: "please pull
    from:" and an indented `git://host/repo.git tag` line (slab's style).
    """
    at = _PULL_AT.search(text) if "vailable in the" in text else None
    if at is None and subject_is_pull and "://" in text:
        at = _PULL_URL_LINE.search(text)
    if at is None:
        return None
    since = _PULL_SINCE.search(text)
    tip = _PULL_TIP.search(text)
    return PullRequest(
        url=at.group(1),
        ref=at.group(2) or "HEAD",
        base_commit=since.group(1) if since is not None else None,
        tip_commit=tip.group(1) if tip is not None else None,
    )
