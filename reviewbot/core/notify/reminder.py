"""Reviewer reminders and escalations: short private mails, one series each. Pure.

conventions.md §3: To the person whose turn it is, Cc the maintainers; one lore
link; why this person was picked; how to stop it. An escalation goes to the
maintainers (or whom the policy names) when reminders went unanswered. Nobody is
ever asked to chase somebody else: a reminder only asks its own addressee to act.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import date, datetime

from reviewbot.core.backlog.nag import ESCALATION, Reminder
from reviewbot.core.notify.message import PROSE_WIDTH, Draft, lore_link, wrap
from reviewbot.core.notify.outbox import OutboxKey

SUBJECT_TITLE = 60


@dataclass(frozen=True, slots=True)
class ReminderView:
    reminder: Reminder
    subsystem: str
    title: str
    version: int
    patches: int
    total: int
    reviewed: int
    turn: str  # "reviewer" | "maintainer"
    since: datetime  # the turn began
    due: datetime | None
    status_reason: str  # the backlog's own sentence
    why_you: str  # "you are listed as R: of INFINIBAND SUBSYSTEM"
    waiting_on: tuple[str, ...]  # for an escalation: whom it waits on
    day: date  # the local day (the key's period)
    lore: str
    operator: str  # the bot's From


def reminder_key(reminder: Reminder, day: date) -> OutboxKey:
    """(nag|escalation, series, main addressee, local day): the planner's caps keep it
    to one a week; the key keeps a restart from sending the same one twice."""
    return OutboxKey(reminder.kind, reminder.series_id, reminder.to[0].lower(), f"{day:%Y-%m-%d}")


def _title(text: str, width: int = SUBJECT_TITLE) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _series_lines(v: ReminderView) -> list[str]:
    patches = "1 patch" if v.total == 1 else f"{v.total} patches"
    # A title is the author's text: a word longer than a line is cut, never let through.
    text = " ".join(v.title.split()) + f" (v{v.version}, {patches}, {v.reviewed} of " \
        f"{v.total} reviewed)"
    return [textwrap.fill(text, width=PROSE_WIDTH, initial_indent="  ",
                          subsequent_indent="  ", break_on_hyphens=False),
            f"  {lore_link(v.lore, v.reminder.series_id)}"]


def render_nag(v: ReminderView) -> str:
    due = f" (due {v.due:%Y-%m-%d})" if v.due else ""
    ask = "your review" if v.turn == "reviewer" else "you to apply it or say what it needs"
    lines = [
        "Hi,",
        "",
        wrap(f"This series has been waiting for {ask} since {v.since:%Y-%m-%d}{due}:"),
        "",
        *_series_lines(v),
        "",
        wrap(f"Why you: {v.why_you}. The {v.subsystem} backlog says: {v.status_reason}."),
        "",
        wrap("Not for you, or no time? Reply with \"reviewbot: release\". No more "
             "reminders about this series: \"reviewbot: stop\" followed by its link above; "
             "none at all: \"reviewbot: stop all\"."),
        "",
        "-- ",
        wrap(f"An automatic reminder from reviewbot for {v.subsystem}, sent only to people "
             "who asked for reminders in its policy, at most once a week per series. "
             f"Questions to {v.operator}."),
    ]
    return "\n".join(lines)


def render_escalation(v: ReminderView) -> str:
    who = ", ".join(v.waiting_on) or "nobody in particular"
    lines = [
        "Hi,",
        "",
        wrap(f"This {v.subsystem} series has been waiting on {who} since "
             f"{v.since:%Y-%m-%d} ({v.reminder.reason}):"),
        "",
        *_series_lines(v),
        "",
        wrap(f"The backlog says: {v.status_reason}. You may want to assign it to someone "
             "else (\"reviewbot: assign <link> <address>\"), snooze it "
             "(\"reviewbot: snooze <link> 14d\") or set its state."),
        "",
        "-- ",
        wrap(f"An automatic escalation from reviewbot for {v.subsystem}, sent once per "
             f"turn as its policy's [escalation] says. Questions to {v.operator}."),
    ]
    return "\n".join(lines)


def reminder_draft(v: ReminderView) -> Draft:
    r = v.reminder
    if r.kind == ESCALATION:
        subject = f"[reviewbot] {v.subsystem}: waiting since {v.since:%Y-%m-%d}: {_title(v.title)}"
        body = render_escalation(v)
    else:
        subject = f"[reviewbot] waiting on you: {_title(v.title)}"
        body = render_nag(v)
    return Draft(key=reminder_key(r, v.day), to=r.to, cc=r.cc, subject=subject, body=body)
