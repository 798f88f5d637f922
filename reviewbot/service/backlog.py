"""Routing and backlog over the store: route every series, derive statuses at `now`.

Routing is stored (rows per series and section, the taker marked) and redone only
when MAINTAINERS or the stored series change. Statuses are derived at query time,
because they depend on `now` (staleness, snoozes): each series with the policy of
the section expected to take it, that section's M:/R: as maintainers/reviewers,
the person aliases, stored manual actions and the tree's commit matches.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reviewbot.core.backlog.events import CommitMatch
from reviewbot.core.backlog.replay import series_status
from reviewbot.core.backlog.stats import SubsystemStats, subsystem_stats
from reviewbot.core.backlog.turn import SeriesStatus, State
from reviewbot.core.maintainers.people import name_aliases
from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.maintainers.subsystems import (
    SeriesRouting,
    SubsystemRoute,
    matches_subsystem,
    route_files,
)
from reviewbot.core.model import Series, SeriesId
from reviewbot.core.policy.model import Policy, PolicySet, address, ignore_reason
from reviewbot.ports import BacklogStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """Everything besides the store a status depends on. `index` None: no MAINTAINERS."""

    policies: PolicySet
    index: RoutingIndex | None = None
    maintainers_stamp: str = ""  # changes when MAINTAINERS changes
    mailmap: Mapping[str, str] = field(default_factory=dict)  # address -> canonical
    commits: Mapping[SeriesId, Sequence[CommitMatch]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tracked:
    series: Series
    status: SeriesStatus
    routing: SeriesRouting
    policy: Policy


def ensure_routed(store: BacklogStore, ctx: Context) -> bool:
    """Route every stored series unless the stored routing is current; True if it routed."""
    if ctx.index is None:
        return False
    files, digest = store.series_files()
    stamp = hashlib.sha1(repr((ctx.maintainers_stamp, digest, sorted(ctx.mailmap.items())))
                         .encode(), usedforsecurity=False).hexdigest()
    if store.routing_stamp() == stamp:
        return False
    routing = {sid: route_files(ctx.index, f) for sid, f in files.items()}
    listed = [e for s in ctx.index.sections for e in (*s.maintainers, *s.reviewers)]
    people = store.people() + [(e.split("<")[0], address(e)) for e in listed]
    aliases = name_aliases(people, preferred={address(e) for e in listed}, base=ctx.mailmap)
    store.save_routing(routing, aliases, stamp)
    log.info("routed %d series", len(routing))
    return True


def policy_for(ctx: Context, routing: SeriesRouting) -> Policy:
    taker = routing.taker
    if taker is None:
        return ctx.policies.default
    return ctx.policies.for_subsystem(taker.section, taker.lists)


def track(
    store: BacklogStore, ctx: Context, now: datetime, sids: Sequence[str] | None = None
) -> dict[SeriesId, Tracked]:
    """Statuses at `now` of the given series (default: all) posted by then.

    A series whose history cannot be replayed is logged and left out, never fatal.
    """
    loaded = store.series(sids)
    newer_ids = [s.superseded_by for s, _ in loaded.values()
                 if s.superseded_by and s.superseded_by not in loaded]
    newer = {**loaded, **store.series(newer_ids)} if newer_ids else loaded
    ids = [sid for sid, (s, _) in loaded.items() if s.date <= now]
    members = store.members(ids)
    routing = store.routing(ids)
    actions = store.actions(ids)
    aliases = store.aliases() or dict(ctx.mailmap)
    out: dict[SeriesId, Tracked] = {}
    for sid in ids:
        s = loaded[sid][0]
        r = routing.get(sid, SeriesRouting((), ()))
        taker: SubsystemRoute | None = r.taker
        policy = policy_for(ctx, r)
        nxt = newer.get(s.superseded_by) if s.superseded_by else None
        try:
            status = series_status(
                s, members.get(sid, ()), policy, now, newer=nxt[0] if nxt else None,
                commits=ctx.commits.get(sid, ()), manual=actions.get(sid, ()),
                maintainers=taker.maintainers if taker else (),
                reviewers=taker.reviewers if taker else (), aliases=aliases)
        except ValueError as exc:
            log.warning("series <%s>: cannot derive its state: %s", sid, exc)
            continue
        out[sid] = Tracked(s, status, r, policy)
    return out


@dataclass(frozen=True, slots=True)
class Queue:
    subsystem: str | None  # the section name as MAINTAINERS spells it
    entries: tuple[tuple[SeriesId, Tracked], ...]  # open series, oldest first
    ignored: int  # open series the policy ignores (bots, AUTOSEL, ...)
    stats: SubsystemStats | None


class UnknownSubsystem(LookupError):
    pass


def queue(store: BacklogStore, ctx: Context, now: datetime, subsystem: str | None = None,
          ) -> Queue:
    """Open series (of one subsystem: a section name or list address), with its figures."""
    name = None
    sids: list[SeriesId] | None = None
    if subsystem is not None:
        routing = store.routing()
        sids = [sid for sid, r in routing.items()
                if any(matches_subsystem(x, subsystem) for x in r.routes)]
        if not sids:
            raise UnknownSubsystem(subsystem)
        # A list address gathers every section that lists it: name the queue by the list.
        name = next((x.section for sid in sids for x in routing[sid].routes
                     if x.section.casefold() == subsystem.strip().casefold()),
                    subsystem.strip().lower())
    tracked = track(store, ctx, now, sids)
    kept = {sid: t for sid, t in tracked.items()
            if ignore_reason(t.policy, t.series) is None}
    open_ = sorted(((sid, t) for sid, t in kept.items() if t.status.is_open),
                   key=lambda p: (p[1].status.posted_at, p[0]))
    ignored = sum(1 for sid, t in tracked.items() if sid not in kept and t.status.is_open)
    stats = None
    if subsystem is not None:
        # Figures per latest revision: a superseded one is counted through its successor.
        stats = subsystem_stats({sid: t.status for sid, t in kept.items()
                                 if t.status.state is not State.SUPERSEDED}, now)
    return Queue(name, tuple(open_), ignored, stats)
