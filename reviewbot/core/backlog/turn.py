"""What the backlog says about one series: state, whose turn, why, since when, due when.

Types only; `core.backlog.derive_state` computes them (domain.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from reviewbot.core.backlog.events import SeriesEvent


class State(StrEnum):
    NEW = "new"  # routed, no response yet
    UNDER_REVIEW = "under_review"  # some review, not every patch covered
    CHANGES_REQUESTED = "changes_requested"  # feedback, NAK or build failure: the author must act
    REVIEWED = "reviewed"  # every patch reviewed or acked: ready to apply
    PARTIALLY_APPLIED = "partially_applied"
    APPLIED = "applied"
    REJECTED = "rejected"  # NAKed by a maintainer, or rejected by hand
    SUPERSEDED = "superseded"
    DEFERRED = "deferred"
    SNOOZED = "snoozed"
    ARCHIVED = "archived"
    RFC = "rfc"  # not for merging: tracked, no SLA
    STALE = "stale"  # open, but no human activity for the policy's stale_after
    EXPIRED = "expired"  # no activity for the policy's expire_after: closed until new mail


OPEN_STATES = frozenset({
    State.NEW, State.UNDER_REVIEW, State.CHANGES_REQUESTED, State.REVIEWED,
    State.PARTIALLY_APPLIED, State.RFC, State.STALE,
})


class Turn(StrEnum):
    REVIEWER = "reviewer"
    MAINTAINER = "maintainer"
    AUTHOR = "author"
    NOBODY = "nobody"


class Role(StrEnum):
    """Who an event's actor is for this series, as the timeline shows it."""

    AUTHOR = "author"
    REVIEWER = "reviewer"  # any human other than the author and the section's maintainers
    MAINTAINER = "maintainer"
    BOT = "bot"
    SYSTEM = "system"  # the tree, or the clock


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    event: SeriesEvent | None  # None: the clock moved it (snooze ended, went stale)
    role: Role
    state: State  # after this entry
    turn: Turn
    reason: str


@dataclass(frozen=True, slots=True)
class SeriesStatus:
    state: State
    turn: Turn
    reason: str  # one human sentence
    since: datetime  # when the current turn began
    due: datetime | None  # when the one whose turn it is should have acted; None: no SLA
    waiting_on: tuple[str, ...]  # addresses whose turn it is
    assignees: tuple[str, ...]  # claimed or assigned reviewers
    posted_at: datetime
    last_activity: datetime  # last human event (bots and claims don't count)
    first_review_at: datetime | None  # first non-author human response
    applied_at: datetime | None  # when the last patch was applied
    applied_patches: tuple[int, ...]
    reviewed_patches: tuple[int, ...]  # patches with a Reviewed-by/Acked-by from a non-author
    total: int
    revision: int
    rfc: bool
    timeline: tuple[TimelineEntry, ...]
    naks: tuple[str, ...] = ()  # who NAKed this revision and did not review it since

    @property
    def is_open(self) -> bool:
        # A partially applied revision whose rest went on in a later one is nobody's turn:
        # closed, though its state still says what was applied.
        return self.state in OPEN_STATES and self.turn is not Turn.NOBODY

    def overdue(self, now: datetime) -> bool:
        return self.due is not None and now >= self.due


def describe_event(e: SeriesEvent | None) -> str:
    """One short phrase for a timeline row."""
    if e is None:
        return "time passed"
    where = f" on patch {','.join(map(str, e.patches))}" if e.patches else ""
    kind = e.kind.value
    if kind == "posted":
        patches = "1 patch" if e.total == 1 else f"{e.total} patches"
        return f"v{e.revision} posted by {e.actor} ({patches})"
    if kind == "reply":
        what = "failure report" if e.failure else "bot mail" if e.bot else "reply"
        return f"{what} from {e.actor}{where}"
    if kind == "trailer":
        label = e.trailer.value if e.trailer else "trailer"
        carried = ""
        if e.from_version:
            carried = f" (carried from v{e.from_version})"
        elif e.carried:
            carried = " (in the posting)"
        return f"{label} from {e.actor}{where or ' on the series'}{carried}"
    if kind == "new_revision":
        return f"v{e.revision} posted ({e.ref})"
    if kind == "applied" and e.carried:
        return f"applied in {e.note} <{e.ref}>{where}"
    if kind == "applied":
        return f"{'partly ' if e.partial else ''}applied mail from {e.actor}"
    if kind == "committed":
        return f"commit {e.ref[:12]}{where}" + (f" on {e.note}" if e.note else "")
    if kind == "override":
        until = f" until {e.until:%Y-%m-%d %H:%M}" if e.until else ""
        return f"{e.action.value if e.action else 'override'} by {e.actor}{until}"
    if kind == "assign":
        return f"{e.target} assigned by {e.actor}"
    return f"{kind} by {e.actor}"


def timeline_lines(status: SeriesStatus) -> list[str]:
    """The timeline as text: when, what happened, and the state and turn it led to."""
    return [
        f"{t.at:%Y-%m-%d %H:%M}  {describe_event(t.event)}  ->  {t.state} "
        f"({t.turn}'s turn): {t.reason}" if t.turn is not Turn.NOBODY else
        f"{t.at:%Y-%m-%d %H:%M}  {describe_event(t.event)}  ->  {t.state}: {t.reason}"
        for t in status.timeline
    ]
