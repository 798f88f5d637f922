"""The maintainer's daily digest: one mail that says what needs them. Pure.

After syzbot's monthly report (conventions.md §3): counts first, then fixed-width
tables (age, version, patches, reviewed patches, title) with the lore link below
each row, a footer saying it is automatic and how to change or stop it; at most
80 columns (URLs exempt). The service (service/mail/digest.py) fills a DigestView
from the one query API; this module only lays it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from reviewbot.core.notify.addresses import address_of
from reviewbot.core.notify.message import Draft, lore_link, wrap
from reviewbot.core.notify.outbox import OutboxKey

DIGEST = "digest"
TITLE_WIDTH = 48  # what is left of 80 columns after the fixed columns
STATE_ORDER = ("new", "under_review", "changes_requested", "reviewed", "partially_applied",
               "rfc", "stale", "expired")


@dataclass(frozen=True, slots=True)
class Row:
    """One series as a digest row."""

    series_id: str
    title: str
    version: int
    patches: int  # patches present
    total: int
    reviewed: int  # patches with a Reviewed-by/Acked-by from someone but the author
    posted_at: datetime
    note: str = ""  # one short line under the title: why it is listed, suggestions


@dataclass(frozen=True, slots=True)
class DigestView:
    subsystem: str
    day: date  # the local day it is for
    as_of: datetime
    zone: str
    counts: Mapping[str, int]  # open series by state (== `queue --json` stats)
    previous: Mapping[str, int] | None  # the last digest's counts
    previous_day: str | None
    ready: tuple[Row, ...]
    overdue: tuple[tuple[str, tuple[Row, ...]], ...]  # reviewer -> rows past their due
    new: tuple[Row, ...]
    new_since: datetime
    authors: tuple[Row, ...]  # waiting on their authors
    applied: tuple[Row, ...]  # applied since new_since
    expiring: tuple[Row, ...] | None  # None: expiry is not tracked (section left out)
    cycle: str | None  # the merge-window countdown; None: unknown
    lore: str
    schedule: str  # "mon, thu at 09:00 America/Halifax"
    policy_file: str  # where [digest] is set ("policies/infiniband.toml")
    operator: str  # the bot's From, to ask


def subject(subsystem: str, day: date) -> str:
    return f"[reviewbot] {subsystem} review backlog ({day:%Y-%m-%d})"


def digest_key(subsystem: str, recipient: str, day: date) -> OutboxKey:
    return OutboxKey(DIGEST, subsystem, recipient, f"{day:%Y-%m-%d}")


def age(now: datetime, then: datetime) -> str:
    days = int(max((now - then).total_seconds(), 0) // 86400)
    if days:
        return f"{days}d"
    return f"{int(max((now - then).total_seconds(), 0) // 3600)}h"


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


HEADER = f"  {'AGE':>4}  {'VER':<3}  {'PATCHES':>7}  {'REVIEWED':>8}  TITLE"


def row_lines(row: Row, now: datetime, lore: str) -> list[str]:
    """The row, its note, and its lore link on the line below."""
    lines = [f"  {age(now, row.posted_at):>4}  {'v' + str(row.version):<3}  "
             f"{f'{row.patches}/{row.total}':>7}  {f'{row.reviewed}/{row.total}':>8}  "
             f"{_clip(row.title, TITLE_WIDTH)}"]
    if row.note:
        lines.append(wrap(row.note, width=78, indent="        "))
    lines.append(f"        {lore_link(lore, row.series_id)}")
    return lines


MAX_ROWS = 15  # per table; the rest is one `reviewbot queue` away


def _rows(rows: Sequence[Row], now: datetime, lore: str, more: str) -> list[str]:
    out = [HEADER]
    for row in rows[:MAX_ROWS]:
        out.extend(row_lines(row, now, lore))
    if len(rows) > MAX_ROWS:
        out.append(f"  ... and {len(rows) - MAX_ROWS} more: {more}")
    return out


def _table(title: str, rows: Sequence[Row], now: datetime, lore: str, more: str) -> list[str]:
    if not rows:
        return [f"{title} (0)", "  none", ""]
    return [f"{title} ({len(rows)})", "", *_rows(rows, now, lore, more), ""]


def _change(now: int, before: int | None) -> str:
    if before is None:
        return ""
    d = now - before
    return f" ({'+' if d > 0 else ''}{d})" if d else " (=)"


def counts_lines(view: DigestView) -> list[str]:
    total = sum(view.counts.values())
    prev = view.previous
    since = f" since the digest of {view.previous_day}" if prev is not None else ""
    before = sum(prev.values()) if prev is not None else None
    lines = [f"Open series: {total}{_change(total, before)}{since}"]
    states = [s for s in STATE_ORDER if s in view.counts or (prev and s in prev)]
    states += sorted(s for s in {*view.counts, *(prev or {})} if s not in STATE_ORDER)
    for state in states:
        n = view.counts.get(state, 0)
        lines.append(f"  {state:<18} {n:>4}"
                     f"{_change(n, prev.get(state, 0) if prev is not None else None)}")
    if prev is None:
        lines.append("  (the first digest: no earlier counts to compare with)")
    return lines


def render(view: DigestView) -> str:
    now = view.as_of
    local = now.astimezone(ZoneInfo(view.zone))
    lines = [
        f"Review backlog of {view.subsystem}",
        f"as of {local:%Y-%m-%d %H:%M} {view.zone} ({now:%Y-%m-%d %H:%M} UTC)",
        "",
        *counts_lines(view),
        "",
    ]
    more = f"reviewbot queue --subsystem '{view.subsystem}'"
    lines += _table("Ready to apply", view.ready, now, view.lore, more)
    waiting = sum(len(rows) for _, rows in view.overdue)
    lines += [f"Waiting on reviewers past their time ({waiting})", ""]
    if not view.overdue:
        lines += ["  none", ""]
    for who, rows in view.overdue:
        lines += [f"  {who} ({len(rows)})", *_rows(rows, now, view.lore, more), ""]
    since = view.new_since.astimezone(ZoneInfo(view.zone))
    lines += _table(f"New since {since:%Y-%m-%d %H:%M}", view.new, now, view.lore, more)
    lines += _table("Waiting on their authors", view.authors, now, view.lore, more)
    lines += _table("Newly applied", view.applied, now, view.lore, more)
    if view.expiring is not None:
        lines += _table("Expiring soon", view.expiring, now, view.lore, more)
    lines += ["Merge window", "", wrap(view.cycle or "unknown: no mainline tags could be "
                                       "read (see `reviewbot cycle`)", indent="  "), ""]
    lines += [
        "-- ",
        wrap(f"This is an automatic mail from reviewbot, sent {view.schedule} to the "
             f"recipients in [digest] of {view.policy_file}. Its counts are those of "
             f"`reviewbot queue --subsystem '{view.subsystem}' --json` at the same "
             "instant."),
        wrap(f"To change who gets it or when, or to stop it, edit [digest] recipients "
             f"and days there, or write to {view.operator}. Reply with lines such as "
             "\"reviewbot: claim <message-id>\" or \"reviewbot: snooze <message-id> 7d\" "
             "to act on a series."),
    ]
    return "\n".join(lines)


def digest_drafts(view: DigestView, recipients: Sequence[str]) -> list[Draft]:
    """One mail per recipient (each its own idempotency key), the same body."""
    body = render(view)
    return [Draft(key=digest_key(view.subsystem, address_of(r).lower(), view.day), to=(r,),
                  subject=subject(view.subsystem, view.day), body=body)
            for r in recipients]
