"""Manual backlog actions: claim, release, assign, override. The rules live here, so the
CLI, chat and email commands all go through the same calls.

Each action is stored as an event with its actor and time (facts people recorded are
never rewritten), the series' component becomes dirty, and the caller refreshes so the
stored standing reflects it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reviewbot.core.backlog.assign import (
    Assignment,
    assignment_events,
    claim_event,
    open_load,
    pick_reviewers,
    release_event,
)
from reviewbot.core.backlog.events import EventKind, OverrideAction, SeriesEvent
from reviewbot.core.model import SeriesId
from reviewbot.core.policy.model import address
from reviewbot.ports import ActionStore, BacklogReader
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import UnknownSeries, statuses

STATES = {"deferred": OverrideAction.DEFER, "rejected": OverrideAction.REJECT,
          "archived": OverrideAction.ARCHIVE, "snoozed": OverrideAction.SNOOZE,
          "open": OverrideAction.REOPEN}


class ActionRefused(ValueError):
    """The action is not valid as asked (the message says why)."""


@dataclass(frozen=True, slots=True)
class ActionDone:
    series_id: str
    title: str
    what: str  # one line for people: "x@y claimed", "a@b assigned: least loaded ..."

    def summary(self) -> str:
        return f"{self.what} on <{self.series_id}> ({self.title})"


def who(text: str) -> str:
    """An email address from `Name <a@b>` or `a@b`; refused when it is not one."""
    addr = address(text)
    if "@" not in addr:
        raise ActionRefused(f"{text!r} is not an email address")
    return addr


def _record(reader: BacklogReader, actions: ActionStore, series: str,
            events: list[SeriesEvent], what: str) -> ActionDone:
    sid = reader.find_series(series)
    if sid is None:
        known = reader.has_message(series)
        raise UnknownSeries(series, "in no series" if known else "unknown")
    title = reader.series_rows([sid])[sid].summary.title
    for e in events:
        actions.add_action(sid, e)
    return ActionDone(sid, title, what)


def claim(reader: BacklogReader, actions: ActionStore, series: str, by: str,
          at: datetime) -> ActionDone:
    person = who(by)
    return _record(reader, actions, series, [claim_event(person, at)], f"{person} claimed")


def release(reader: BacklogReader, actions: ActionStore, series: str, by: str, at: datetime,
            reason: str = "") -> ActionDone:
    person = who(by)
    return _record(reader, actions, series, [release_event(person, at, reason)],
                   f"{person} released")


def override(reader: BacklogReader, actions: ActionStore, series: str, by: str,
             at: datetime, state: str, until: datetime | None = None,
             reason: str = "") -> ActionDone:
    """Set a state by hand: deferred, rejected, archived, snoozed (needs `until`), or open."""
    person = who(by)
    if state not in STATES:
        raise ActionRefused(f"unknown state {state!r} (one of {', '.join(sorted(STATES))})")
    action = STATES[state]
    if action is OverrideAction.DEFER and until is not None:
        action = OverrideAction.SNOOZE  # deferred to a date: wakes by itself
    if action is OverrideAction.SNOOZE and until is None:
        raise ActionRefused("snoozed needs --until DATE (when it wakes up)")
    if until is not None and until <= at:
        raise ActionRefused(f"until {until:%Y-%m-%d %H:%M} is not after {at:%Y-%m-%d %H:%M}")
    event = SeriesEvent(at=at, kind=EventKind.OVERRIDE, actor=person, action=action,
                        until=until if action is OverrideAction.SNOOZE else None, note=reason)
    return _record(reader, actions, series, [event], f"{person}: {action.value}")


def suggest(reader: BacklogReader, ctx: BacklogContext, series: str,
            at: datetime) -> tuple[SeriesId, str, Assignment, bool]:
    """Who `assign` would pick for the series, without recording anything: the taker's
    R:/M: and the policy's pool, least loaded first (load: open series each person is
    assigned to, at `at`), skipping absences. Also the series id, its title and whether
    it has a taking subsystem."""
    sid = reader.find_series(series)
    if sid is None:
        raise UnknownSeries(series, "in no series" if reader.has_message(series) else "unknown")
    row = reader.series_rows([sid])[sid]
    taker = row.routing.taker
    every = reader.series_figures(None, at, open_only=True)
    load = open_load(statuses(reader, ctx, every, at).values())
    pick = pick_reviewers(ctx.policy_named(row.figure.policy), at,
                          maintainers=taker.maintainers if taker else (),
                          reviewers=taker.reviewers if taker else (), load=load,
                          author=row.summary.author_email)
    return sid, row.summary.title, pick, taker is not None


def assign(reader: BacklogReader, actions: ActionStore, ctx: BacklogContext, series: str,
           at: datetime, *, by: str | None = None, to: str | None = None) -> ActionDone:
    """Assign `to`, or the reviewers suggest() picks."""
    actor = who(by) if by else "reviewbot"
    if to:
        person = who(to)
        event = SeriesEvent(at=at, kind=EventKind.ASSIGN, actor=actor, target=person,
                            note="assigned by hand")
        return _record(reader, actions, series, [event], f"{person} assigned")
    sid, title, pick, routed = suggest(reader, ctx, series, at)
    if not pick.reviewers:
        skipped = "; ".join(f"{w}: {why}" for w, why in pick.skipped)
        raise ActionRefused(f"nobody to assign: {pick.reason}"
                            + (f" ({skipped})" if skipped else "")
                            + ("" if routed else " (the series has no subsystem: is "
                               "MAINTAINERS configured?)"))
    for e in assignment_events(pick, at, by=actor):
        actions.add_action(sid, e)
    return ActionDone(sid, title, f"{', '.join(pick.reviewers)} assigned: {pick.reason}")
