"""Did upstream take a pull request? pr-tracker-bot's reply says so. Pure.

pr-tracker-bot answers the `[GIT PULL]` mail once Linus merged it, with
`X-PR-Merge-*` headers and "has been merged into torvalds/linux.git:" plus the
merge's URL in the body (tests/data/mail/pr_tracker_bot.eml).
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

from reviewbot.core.pulls.model import PullMerged

TRACKER = "pr-tracker-bot@kernel.org"
_MERGED = re.compile(r"has been merged into (\S+?):?\s*\n\s*(https?://\S+)")


def tracker_merge(raw: bytes) -> PullMerged | None:
    """The merge a pr-tracker-bot reply reports, or None if it reports none."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    text = str(body.get_content()) if body is not None else ""
    found = _MERGED.search(text)
    commit = str(msg.get("X-PR-Merge-Commit-Id", "")).strip() or None
    if found is None and commit is None:
        return None
    try:
        at = parsedate_to_datetime(str(msg.get("Date", "")))
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        return None
    tree = found.group(1) if found else str(msg.get("X-PR-Merge-Tree", "upstream")).strip()
    url = found.group(2) if found else commit
    return PullMerged(at, f"pr-tracker-bot: merged into {tree}: {url}", commit)
