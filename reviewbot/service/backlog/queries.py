"""The one query API every surface reads (CLI, digest, chat, metrics, web).

Answers come from stored state: each series' Standing, advanced to `now` by
core.backlog.standing.status_at. Only a series whose last event is after `now`
(an `--as-of` in the past) is replayed from its history, and only the series the
answer shows. The same path runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from reviewbot.core.backlog.entitled import appliers_for
from reviewbot.core.backlog.events import (
    OlderRevision,
    SeriesEvent,
    carried_events,
    history_events,
    merge_events,
    older_revisions,
)
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.backlog.standing import status_at
from reviewbot.core.backlog.stats import Durations, SubsystemStats, subsystem_stats
from reviewbot.core.backlog.turn import SeriesStatus, State, Turn
from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.model import Series, SeriesId
from reviewbot.core.policy.model import Policy
from reviewbot.ports import BacklogReader, SeriesFigure, SeriesHistory, SeriesSummary
from reviewbot.service.backlog.context import BacklogContext

log = logging.getLogger(__name__)


class UnknownSubsystem(LookupError):
    """No MAINTAINERS section or list address by that name."""


class UnknownSeries(LookupError):
    """No stored message by that id, or one in no series (`args[1]` says which)."""


class NotYetPosted(LookupError):
    """The series was posted after the `now` asked about (`args`: series id, posted at)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One series of a queue: what it is, where it is routed, and its status at `now`."""

    summary: SeriesSummary
    status: SeriesStatus
    routing: SeriesRouting
    policy: Policy


class Order(StrEnum):
    URGENCY = "urgency"  # overdue first (most overdue first), then due soon, then newest activity
    OLDEST = "oldest"  # by posting, oldest first


DUE_SOON = timedelta(days=7)  # "due soon" in the urgency order


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which open series a queue lists and in what order (every surface asks the same)."""

    states: frozenset[str] = frozenset()  # State values as shown ("stale", "rfc" included)
    turns: frozenset[str] = frozenset()  # Turn values
    waiting_on: str | None = None  # an address; any of its person's addresses matches
    ready: bool = False  # the apply list: reviewed, no NAK, not applied; oldest first
    order: Order = Order.URGENCY
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Queue:
    subsystem: str | None  # the section name as MAINTAINERS spells it, or the list address
    entries: tuple[Entry, ...]  # the open series the filter keeps, in its order, up to its limit
    ignored: int  # open series the policy ignores (bots, AUTOSEL, ...)
    stats: SubsystemStats | None  # with a subsystem only; over every open series
    matched: int = 0  # open series the filter kept, before its limit


@dataclass(frozen=True, slots=True)
class SeriesView:
    """One series in full: the series (with members), its status and timeline at `now`."""

    series: Series
    status: SeriesStatus
    routing: SeriesRouting
    policy: Policy


def _own_events(h: SeriesHistory, ctx: BacklogContext,
                aliases: Mapping[str, str]) -> list[SeriesEvent]:
    policy = ctx.policy_named(h.policy)
    return history_events(h.series, h.members, newer=h.newer, commits=h.commits,
                          actions=h.actions, appliers=appliers_for(h.routing, policy, aliases))


def _with_older(reader: BacklogReader, histories: Mapping[SeriesId, SeriesHistory]
                ) -> dict[SeriesId, SeriesHistory]:
    """The histories plus those of every older revision they carry from."""
    wanted = {o for h in histories.values() for o in older_revisions(h.series)}
    missing = sorted(wanted - set(histories))
    return {**histories, **(reader.histories(missing) if missing else {})}


def _replay(h: SeriesHistory, known: Mapping[SeriesId, SeriesHistory], ctx: BacklogContext,
            aliases: Mapping[str, str], now: datetime) -> SeriesStatus:
    """What refresh.build stores, replayed up to `now`: the series' own history and what
    its older revisions (in `known`) hand on to it."""
    taker = h.routing.taker
    policy = ctx.policy_named(h.policy)
    events = _own_events(h, ctx, aliases)
    older = [OlderRevision(o.series, tuple(_own_events(o, ctx, aliases)),
                           frozenset(m.message_id for m in o.members))
             for o in (known.get(sid) for sid in older_revisions(h.series)) if o is not None]
    if older:
        mine = {m.message_id for m in h.members}
        events = merge_events(events, carried_events(h.series, mine, older))
    return derive_state(events, policy, now,
                        maintainers=taker.maintainers if taker else (),
                        reviewers=taker.reviewers if taker else (), aliases=aliases)


def statuses(reader: BacklogReader, ctx: BacklogContext, figures: Sequence[SeriesFigure],
             now: datetime) -> dict[SeriesId, SeriesStatus]:
    """Statuses at `now` of the figures' series that can be open then, or must be replayed.

    Stored standings answer for a `now` at or after a series' last event; earlier
    (an as-of in the past) the series is replayed up to `now`.
    """
    stored = [f.series_id for f in figures if f.last_event_at <= now and f.can_open]
    past = [f.series_id for f in figures if f.last_event_at > now]
    policy = {f.series_id: f.policy for f in figures}
    out = {sid: status_at(st, ctx.policy_named(policy[sid]), now)
           for sid, st in reader.standings(stored).items()}
    if past:
        aliases = reader.aliases()
        histories = reader.histories(past)
        known = _with_older(reader, histories)
        for sid, h in histories.items():
            try:
                out[sid] = _replay(h, known, ctx, aliases, now)
            except ValueError as exc:
                log.warning("series <%s>: cannot derive its state: %s", sid, exc)
    return out


def is_ready(st: SeriesStatus) -> bool:
    """Ready to apply: open, the maintainer's turn, every patch not yet applied reviewed,
    nothing NAKed, not an RFC. (A stale series can be ready: stale keeps the turn.)"""
    everything = set(range(1, st.total + 1))
    return (st.is_open and not st.rfc and st.turn is Turn.MAINTAINER and not st.naks
            and len(st.applied_patches) < st.total
            and everything <= {*st.reviewed_patches, *st.applied_patches})


def urgency(e: Entry, now: datetime) -> tuple[object, ...]:
    """Overdue first (the longest overdue first), then due within DUE_SOON (soonest
    first), then the rest by newest activity."""
    due, sid = e.status.due, e.summary.series_id
    if due is not None and due <= now:
        return (0, due.timestamp(), sid)
    if due is not None and due <= now + DUE_SOON:
        return (1, due.timestamp(), sid)
    return (2, -e.status.last_activity.timestamp(), sid)


def select(entries: Sequence[Entry], now: datetime, f: QueueFilter,
           aliases: Mapping[str, str]) -> list[Entry]:
    """Filter and order a queue's entries (without the limit)."""
    who = None
    if f.waiting_on is not None:
        addr = f.waiting_on.strip().lower()
        who = aliases.get(addr, addr)
    kept = [e for e in entries
            if (not f.states or e.status.state.value in f.states)
            and (not f.turns or e.status.turn.value in f.turns)
            and (who is None or who in e.status.waiting_on)
            and (not f.ready or is_ready(e.status))]
    if f.ready or f.order is Order.OLDEST:
        kept.sort(key=lambda e: (e.summary.date, e.summary.series_id))
    else:
        kept.sort(key=lambda e: urgency(e, now))
    return kept


def queue(reader: BacklogReader, ctx: BacklogContext, now: datetime,
          subsystem: str | None = None, filters: QueueFilter | None = None) -> Queue:
    """Open series (of one subsystem: a section name or list address), with its figures,
    filtered and ordered by `filters` (default: every open series, most urgent first)."""
    filters = filters or QueueFilter()
    name: str | None = None
    sections: tuple[str, ...] | None = None
    if subsystem is not None:
        found = reader.resolve_subsystem(subsystem)
        if found is None:
            raise UnknownSubsystem(subsystem)
        name, sections = found
    # Without a subsystem there are no figures to compute: only what can be open is read.
    figures = reader.series_figures(sections, now, open_only=subsystem is None)
    status = statuses(reader, ctx, figures, now)
    open_ids = [f.series_id for f in figures
                if f.series_id in status and status[f.series_id].is_open]
    ignored = {f.series_id for f in figures if f.ignored is not None}
    rows = reader.series_rows([sid for sid in open_ids if sid not in ignored])
    entries = tuple(Entry(rows[sid].summary, status[sid], rows[sid].routing,
                          ctx.policy_named(rows[sid].figure.policy))
                    for sid in open_ids if sid in rows)
    stats = None
    if subsystem is not None:
        stats = subsystem_stats({e.summary.series_id: e.status for e in entries},
                                durations(figures, status, ignored), now,
                                expired=_expired(figures, status, ignored))
    aliases = reader.aliases() if filters.waiting_on is not None else {}
    kept = select(entries, now, filters, aliases)
    shown = kept[:filters.limit] if filters.limit is not None else kept
    return Queue(name, tuple(shown), sum(1 for sid in open_ids if sid in ignored), stats,
                 matched=len(kept))


def _expired(figures: Sequence[SeriesFigure], status: Mapping[SeriesId, SeriesStatus],
             ignored: set[SeriesId]) -> int:
    """Series expired at `now`: those time expired since their last event, and those
    stored expired (with no event after `now`, so not replayed)."""
    n = 0
    for f in figures:
        if f.series_id in ignored:
            continue
        st = status.get(f.series_id)
        n += (st.state is State.EXPIRED) if st is not None else f.state == State.EXPIRED.value
    return n


def durations(figures: Sequence[SeriesFigure], status: Mapping[SeriesId, SeriesStatus],
               ignored: set[SeriesId]) -> list[Durations]:
    """Per latest revision: a superseded one is counted through its successor."""
    out: list[Durations] = []
    for f in figures:
        if f.series_id in ignored:
            continue
        st = status.get(f.series_id)
        if st is not None:
            if st.state is not State.SUPERSEDED:
                out.append(Durations(st.posted_at, st.first_review_at, st.applied_at))
        elif f.state != State.SUPERSEDED.value and f.state != "unknown":
            out.append(Durations(f.posted_at, f.first_review_at, f.applied_at))
    return out


def series_view(reader: BacklogReader, ctx: BacklogContext, message_id: str,
                now: datetime) -> SeriesView:
    """The series holding `message_id`, replayed to `now` with its timeline."""
    sid = reader.find_series(message_id)
    if sid is None:
        stored = reader.has_message(message_id)
        raise UnknownSeries(message_id, "in no series" if stored else "unknown")
    known = _with_older(reader, reader.histories([sid]))
    h = known[sid]
    if h.series.date > now:
        raise NotYetPosted(sid, h.series.date)
    status = _replay(h, known, ctx, reader.aliases(), now)
    return SeriesView(h.series, status, h.routing, ctx.policy_named(h.policy))
