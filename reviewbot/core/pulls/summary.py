"""The pull request's words: subject, recipients, the summary by topic, the whole mail. Pure.

The body is the summary (greeting, then the tracked series grouped by topic
with their cover letters' first paragraphs, counts and lore links) followed by
`git request-pull` output exactly as git wrote it (conventions.md §2).
"""

from __future__ import annotations

import email.policy
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from fnmatch import fnmatchcase

from reviewbot.core.model import SeriesId
from reviewbot.core.policy.model import Pull
from reviewbot.core.pulls.cycle import Cycle
from reviewbot.core.pulls.match import CommitPosting
from reviewbot.core.pulls.model import CommitInfo, PullDraft, SeriesSummary

WIDTH = 72  # conventions.md §3: prose wrapped at 72 columns, URLs exempt
_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_GREETING = re.compile(r"^(hi|hello|hey|dear)\b[^\n]{0,40}[,!:]?$", re.IGNORECASE)
_PREFIX = re.compile(r"^([\w./+-]+(?: [\w./+-]+)?):\s")


def is_fixes(pull: Pull, tag: str) -> bool:
    return any(fnmatchcase(tag, pattern) for pattern in pull.fixes_tags)


def subject(pull: Pull, name: str, tag: str, cycle: Cycle | None,
            tag_date: datetime | None) -> str:
    """The policy's subject template, filled in (fixes tags use the fixes template)."""
    template = pull.fixes_subject_template if is_fixes(pull, tag) else pull.subject_template
    fields = {
        "name": pull.name or name, "tag": tag,
        "branch": pull.branch or _DATED.sub("", tag),
        "version": cycle.changes_for if cycle else "?",
        "developing": cycle.developing if cycle else "?",
        "next_rc": cycle.next_rc if cycle else "?",
        "date": f"{tag_date:%Y-%m-%d}" if tag_date else "",
    }
    return template.format(**fields)


def recipients(pull: Pull, lists: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(To, Cc): "lists" in cc stands for the subsystem's lists; no address twice."""
    seen: set[str] = set()

    def fresh(entries: Sequence[str]) -> tuple[str, ...]:
        out = []
        for e in entries:
            key = e.rsplit("<", 1)[-1].rstrip(">").strip().lower()
            if key not in seen:
                seen.add(key)
                out.append(e)
        return tuple(out)

    to = fresh(pull.to)
    cc = fresh([a for e in pull.cc for a in (lists if e == "lists" else (e,))])
    return to, cc


def first_paragraph(body: str) -> str:
    """The first paragraph of a cover letter: no greeting, no quoted or tag lines."""
    paragraphs: list[list[str]] = [[]]
    for line in body.replace("\r\n", "\n").split("\n"):
        if line.strip() in ("---", "-- ") or line.startswith(("base-commit:", "change-id:")):
            break
        if not line.strip():
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        paragraphs[-1].append(line.strip())
    for p in paragraphs:
        if not p or p[0].startswith((">", "From:", "Subject:")):
            continue
        if len(p) == 1 and (_GREETING.match(p[0]) or p[0].endswith(",")):
            continue  # "Hi all," or Leon's "From Patrisious,"
        if _GREETING.match(p[0]) and len(p[0]) < 20:
            p = p[1:]
        return " ".join(p)
    return ""


def topic(title: str, fallback: str = "") -> str:
    """"RDMA/mlx5: Fix x" -> "RDMA/mlx5"; a title without prefix takes the fallback's."""
    for text in (title, fallback):
        m = _PREFIX.match(text)
        if m:
            return m.group(1)
    return "General"


@dataclass(frozen=True, slots=True)
class _Item:
    series: SeriesSummary
    commits: list[CommitInfo]


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def summary(
    greeting: str,
    intro: str,
    commits: Sequence[CommitInfo],
    postings: Mapping[str, CommitPosting],
    series: Mapping[SeriesId, SeriesSummary],
) -> str:
    """Greeting, intro, then per topic each series (count, first paragraph, lore link)."""
    items: dict[SeriesId, _Item] = {}
    untracked: list[CommitInfo] = []
    for c in commits:
        cp = postings.get(c.sha)
        s = series.get(cp.posting.series_id) if cp else None
        if s is None:
            untracked.append(c)
            continue
        items.setdefault(s.series_id, _Item(s, [])).commits.append(c)
    topics: dict[str, list[_Item]] = {}
    for item in items.values():
        topics.setdefault(topic(item.series.title, item.commits[0].subject), []).append(item)
    n_series = len(items)
    lines = [greeting, ""] if greeting else []
    lines += _wrap(f"{intro}: {len(commits)} commit{'s' * (len(commits) != 1)} from "
                   f"{n_series} tracked series"
                   + (f" and {len(untracked)} not posted to a tracked list" if untracked
                      else "") + ".", "")
    for name in sorted(topics, key=str.casefold):
        lines += ["", f"{name}:"]
        for item in sorted(topics[name], key=lambda i: (i.series.date, i.series.series_id)):
            s = item.series
            n = len(item.commits)
            count = (f"{n} commit{'s' * (n != 1)}" if n == s.total
                     else f"{n} of {s.total} patches")
            lines += textwrap.wrap(f"- {s.title} (v{s.version}, {count})", WIDTH,
                                   subsequent_indent="  ", break_long_words=False,
                                   break_on_hyphens=False)
            if s.cover_paragraph:
                lines += _wrap(s.cover_paragraph, "  ")
            lines.append(f"  {s.link}")
    if untracked:
        lines += ["", "Not posted to a tracked list:"]
        lines += [f"- {c.subject}" for c in untracked]
    return "\n".join(lines) + "\n\n"


def render_email(sender: str, to: Sequence[str], cc: Sequence[str], subject_line: str,
                 body: str, *, x_mailer: str, message_id: str | None = None,
                 date: datetime | None = None) -> str:
    """The whole message: headers, then `body` untouched as 8bit UTF-8 text/plain."""
    # Long lines stay unwrapped in the body (998 is SMTP's limit), headers fold at 78.
    msg = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject_line
    if date is not None:
        msg["Date"] = format_datetime(date)
    if message_id is not None:
        msg["Message-ID"] = f"<{message_id}>"
    msg["X-Mailer"] = x_mailer
    msg.set_content(body, cte="8bit")
    return msg.as_bytes(policy=email.policy.default).decode("utf-8")


def draft_email(draft: PullDraft, *, x_mailer: str) -> str:
    return render_email(draft.sender, draft.to, draft.cc, draft.subject, draft.body,
                        x_mailer=x_mailer)


def mr_title(subject_line: str) -> str:
    """A merge request's title: the subject without its "[GIT PULL]"-style prefix."""
    return re.sub(r"^\s*\[[^\]]*\]\s*", "", subject_line)
