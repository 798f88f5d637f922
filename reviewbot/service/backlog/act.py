"""Backlog actions by a named person, authorised: the one path for the API's bearer
tokens, chat users and email commands.

Who may do what is core.notify.authz's rule (conventions.md §6): claiming and
releasing is a reviewer's (R:) or maintainer's (M:) business, snoozing, assigning
and setting a state a maintainer's, of any section the series is routed to (plus
those the taker's policy adds to the reviewers' pool). The action itself is the
same service.backlog.manual call the CLI makes; the caller refreshes afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from reviewbot.core.model import SeriesId
from reviewbot.core.notify.authz import Entitled, authorize
from reviewbot.core.notify.commands import EmailCommand
from reviewbot.core.policy.model import address
from reviewbot.ports import ActionStore, BacklogReader
from reviewbot.service.backlog import manual
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.manual import ActionDone
from reviewbot.service.backlog.queries import UnknownSeries

VERBS = ("claim", "release", "snooze", "assign", "state")


class NotAllowed(PermissionError):
    """The actor has no role that allows the action (the message says what is needed)."""


@dataclass(frozen=True, slots=True)
class Request:
    verb: str  # one of VERBS
    series: str  # any Message-ID of the series
    actor: str  # the authenticated mail identity
    duration: timedelta | None = None  # snooze
    person: str | None = None  # assign: None picks the least loaded reviewer
    state: str | None = None  # state: one of service.backlog.manual.STATES
    until: datetime | None = None  # state: snoozed/deferred until then
    reason: str = ""
    line: str = ""  # as the person wrote it, for the log


def entitled(reader: BacklogReader, ctx: BacklogContext, sid: SeriesId,
             aliases: Mapping[str, str]) -> Entitled:
    """M: and R: of every section the series is routed to (canonical addresses), the
    taker's policy's reviewers' pool counted as reviewers."""
    row = reader.series_rows([sid])[sid]

    def canon(entry: str) -> str:
        a = address(entry).lower()
        return aliases.get(a, a)

    maintainers = {canon(m) for r in row.routing.routes for m in r.maintainers}
    reviewers = {canon(m) for r in row.routing.routes for m in r.reviewers}
    reviewers |= {canon(p) for p in ctx.policy_named(row.figure.policy).reviewers.pool}
    return Entitled.of(maintainers, reviewers)


def perform(reader: BacklogReader, actions: ActionStore, ctx: BacklogContext, req: Request,
            now: datetime) -> ActionDone:
    """Check the actor's role, then record the action (UnknownSeries, NotAllowed,
    manual.ActionRefused for the caller to report)."""
    if req.verb not in VERBS:
        raise manual.ActionRefused(f"unknown action {req.verb!r} (one of {', '.join(VERBS)})")
    sid = reader.find_series(req.series)
    if sid is None:
        raise UnknownSeries(req.series, "in no series" if reader.has_message(req.series)
                            else "unknown")
    aliases = reader.aliases()
    command = EmailCommand(req.verb, sid, (), req.actor.lower(), "", req.line or req.verb)
    decision = authorize(command, entitled(reader, ctx, sid, aliases), aliases)
    if not decision.allowed:
        raise NotAllowed(decision.reason)
    if req.verb == "claim":
        return manual.claim(reader, actions, sid, req.actor, now)
    if req.verb == "release":
        return manual.release(reader, actions, sid, req.actor, now, req.reason)
    if req.verb == "snooze":
        if req.duration is None or req.duration <= timedelta(0):
            raise manual.ActionRefused("snooze needs a duration like 7d")
        return manual.override(reader, actions, sid, req.actor, now, "snoozed",
                               now + req.duration, req.reason)
    if req.verb == "assign":
        return manual.assign(reader, actions, ctx, sid, now, by=req.actor, to=req.person)
    if req.state is None:
        raise manual.ActionRefused(f"state needs one of {', '.join(sorted(manual.STATES))}")
    return manual.override(reader, actions, sid, req.actor, now, req.state, req.until,
                           req.reason)
