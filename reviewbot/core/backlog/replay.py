"""Derive a series' state and whose turn it is from its history, its policy and `now`.

A pure replay of SeriesEvents (domain.md §4, Gerrit's attention set):

- posted / new revision -> reviewers; the first review is due `sla.first_review` later.
- a non-author human reply without review trailers, a non-maintainer NAK, or an
  error bot's report -> the author; no SLA runs on the author.
- the author answers -> back to the reviewers who spoke. A review tag from
  everyone who asked for changes withdraws their objections the same way.
- every patch has a Reviewed-by/Acked-by from someone other than the author
  (cover-letter trailers count for every patch) -> the maintainer, "ready to apply".
- applied, superseded, rejected (a maintainer's NAK or by hand), snoozed,
  deferred, archived -> nobody. Snoozes wake by themselves.
- a later revision supersedes an open series; an applied one stays applied, a
  partially applied one stays partially applied (closed: the rest went on in the
  later revision). Patches an older revision had applied (same patch-id) are applied
  in the later one too, and its reviews carried by patch-id count (events.carried_events).
- other bot mail moves nothing; claims and assignments name who, not whose.
- no human activity for `sla.stale_after` -> stale (turn unchanged). RFCs are
  flagged, never stale, and carry no due time.
- no activity for `sla.expire_after` -> expired: closed, nobody's turn; any new human
  mail (or a reopen) brings back what it was. RFCs expire too.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from reviewbot.core.backlog.events import (
    CommitMatch,
    EventKind,
    OverrideAction,
    SeriesEvent,
    events_from_series,
    merge_events,
)
from reviewbot.core.backlog.turn import Role, SeriesStatus, State, TimelineEntry, Turn
from reviewbot.core.model import Message, Series, TrailerKind
from reviewbot.core.policy.model import Policy, address, human_duration

# States a reply or trailer can still move; the others wait for a revision, reopen or apply.
_LIVE = frozenset({
    State.NEW, State.UNDER_REVIEW, State.CHANGES_REQUESTED, State.REVIEWED,
    State.PARTIALLY_APPLIED,
})
_HELD = frozenset({State.SNOOZED, State.DEFERRED, State.ARCHIVED, State.REJECTED,
                   State.EXPIRED})
# Events that are someone's activity on the list: they reopen an expired series.
_ACTIVITY = frozenset({EventKind.REPLY, EventKind.TRAILER})


@dataclass
class Replay:
    policy: Policy
    maintainers: frozenset[str]
    reviewers: frozenset[str]
    author: str = ""
    total: int = 1
    revision: int = 0
    rfc: bool = False
    state: State = State.NEW
    turn: Turn = Turn.REVIEWER
    reason: str = ""
    since: datetime | None = None
    posted_at: datetime | None = None
    last_activity: datetime | None = None
    first_review_at: datetime | None = None
    applied_at: datetime | None = None
    stale: bool = False
    snooze_until: datetime | None = None
    resume: tuple[State, Turn, str] | None = None  # what an override hid
    acks: dict[int, set[str]] = field(default_factory=dict)  # 0: cover letter
    applied: set[int] = field(default_factory=set)
    spoke: set[str] = field(default_factory=set)
    objections: set[str] = field(default_factory=set)  # whose latest word asks for changes
    assignees: list[str] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    last_event_at: datetime | None = None
    superseded: bool = False  # a later revision was posted
    naks: set[str] = field(default_factory=set)  # NAKed this revision, no review since


    def role(self, e: SeriesEvent) -> Role:
        if e.kind is EventKind.COMMITTED or (e.kind is EventKind.APPLIED and e.carried):
            return Role.SYSTEM
        if e.bot:
            return Role.BOT
        if e.kind is EventKind.POSTED and not self.author:
            return Role.AUTHOR  # the first posting defines the author
        if e.actor and e.actor == self.author:
            return Role.AUTHOR
        if e.actor in self.maintainers:
            return Role.MAINTAINER
        return Role.REVIEWER

    def set(self, at: datetime, state: State, turn: Turn, reason: str) -> None:
        if (state, turn) != (self.state, self.turn) or self.since is None:
            self.since = at
        if state not in _LIVE or self.superseded:
            self.stale = False  # only an open series is stale
        if state not in _HELD:
            self.resume, self.snooze_until = None, None  # a fact (applied, v2) ended the hold
        self.state, self.turn, self.reason = state, turn, reason

    @property
    def live(self) -> bool:
        """Whether mail can still move it and time make it stale or expire it."""
        return self.state in _LIVE and not self.superseded

    def touch(self, at: datetime) -> None:
        self.last_activity = at
        self.stale = False

    def record(self, at: datetime, event: SeriesEvent | None, role: Role) -> None:
        self.timeline.append(TimelineEntry(at, event, role, self.visible, self.turn, self.why))

    @property
    def why(self) -> str:
        if not self.stale:
            return self.reason
        return f"no activity for {human_duration(self.policy.sla.stale_after)}; {self.reason}"

    @property
    def visible(self) -> State:
        if self.stale:
            return State.STALE
        if self.rfc and self.live:
            return State.RFC
        return self.state

    def reviewed(self) -> list[int]:
        cover = bool(self.acks.get(0))
        return [p for p in range(1, self.total + 1) if cover or self.acks.get(p)]

    def hold(self, at: datetime, state: State, reason: str) -> None:
        if self.state not in _HELD and self.resume is None:
            self.resume = (self.state, self.turn, self.reason)
        self.set(at, state, Turn.NOBODY, reason)

    def release_hold(self, at: datetime, why: str) -> None:
        state, turn, reason = self.resume or (State.UNDER_REVIEW, Turn.REVIEWER, "")
        self.set(at, state, turn, f"{why}; {reason}" if reason else why)
        self.touch(at)

    def check_ready(self, at: datetime) -> None:
        done = self.reviewed()
        if len(done) == self.total:
            self.set(at, State.REVIEWED, Turn.MAINTAINER,
                     "every patch has a review or ack: ready to apply")
        elif done:
            self.set(at, State.UNDER_REVIEW, Turn.REVIEWER,
                     f"{len(done)} of {self.total} patches reviewed; waiting for the rest")


    def advance(self, to: datetime) -> None:
        """Let time pass up to `to`: snoozes end, quiet series go stale, then expire."""
        at = self.snooze_until
        if at is not None and self.state is State.SNOOZED and at <= to:
            at = max(at, self.since or at)  # a snooze "until" the past ends at once
            self.release_hold(at, f"snooze ended {at:%Y-%m-%d}")
            self.record(at, None, Role.SYSTEM)
        if not self.live or self.last_activity is None:
            return
        assert self.since is not None
        quiet_since = max(self.last_activity, self.since)
        sla = self.policy.sla
        expire_at = quiet_since + sla.expire_after
        stale_at = quiet_since + sla.stale_after
        if not (self.stale or self.rfc) and stale_at <= to and stale_at < expire_at:
            self.stale = True
            self.record(stale_at, None, Role.SYSTEM)
        if expire_at <= to:
            self.hold(expire_at, State.EXPIRED,
                      f"no activity for {human_duration(sla.expire_after)}: closed until "
                      "new mail reopens it")
            self.record(expire_at, None, Role.SYSTEM)


    def apply(self, e: SeriesEvent) -> None:
        role = self.role(e)
        handler = {
            EventKind.POSTED: self.on_posted,
            EventKind.REPLY: self.on_reply,
            EventKind.TRAILER: self.on_trailer,
            EventKind.NEW_REVISION: self.on_new_revision,
            EventKind.APPLIED: self.on_applied,
            EventKind.COMMITTED: self.on_applied,
            EventKind.OVERRIDE: self.on_override,
            EventKind.CLAIM: self.on_people,
            EventKind.RELEASE: self.on_people,
            EventKind.ASSIGN: self.on_people,
        }[e.kind]
        if self.state is State.EXPIRED and e.kind in _ACTIVITY and role is not Role.BOT:
            self.release_hold(e.at, f"reopened by mail from {e.actor}")
        handler(e, role)
        self.record(e.at, e, role)

    def on_posted(self, e: SeriesEvent, role: Role) -> None:
        if self.posted_at is None:
            self.author, self.posted_at = e.actor, e.at
            self.revision, self.total, self.rfc = e.revision, max(e.total, 1), e.rfc
            label = f"v{e.revision} posted" if e.revision > 1 else "posted"
            self.set(e.at, State.NEW, Turn.REVIEWER, f"{label}; waiting for a first review")
        elif e.revision > self.revision:
            # A newer revision in the same history restarts review (carried tags come again).
            self.revision, self.total, self.rfc = e.revision, max(e.total, 1), e.rfc
            self.acks.clear()
            self.spoke.clear()
            self.objections.clear()
            self.applied.clear()
            self.naks.clear()
            self.set(e.at, State.UNDER_REVIEW, Turn.REVIEWER,
                     f"v{e.revision} posted; waiting for reviewers")
        self.touch(e.at)

    def on_reply(self, e: SeriesEvent, role: Role) -> None:
        if role is Role.BOT:
            if e.failure and self.live:
                self.objections.add(e.actor)
                self.set(e.at, State.CHANGES_REQUESTED, Turn.AUTHOR,
                         f"{e.actor} reported a failure; waiting for the author")
            return  # bot mail is not activity
        self.touch(e.at)
        if not self.live:
            return
        if role is Role.AUTHOR:
            if self.state is State.CHANGES_REQUESTED:
                self.objections.clear()
                self.set(e.at, State.UNDER_REVIEW, Turn.REVIEWER,
                         "the author answered; back to the reviewers who spoke")
                self.check_ready(e.at)
            return
        self.first_review_at = self.first_review_at or e.at
        self.spoke.add(e.actor)
        if e.ack:
            return  # a thanks or "Ack." after a review asks nothing of the author
        self.objections.add(e.actor)
        self.set(e.at, State.CHANGES_REQUESTED, Turn.AUTHOR,
                 f"{role} {e.actor} replied without a review tag; waiting for the author")

    def on_trailer(self, e: SeriesEvent, role: Role) -> None:
        if role is Role.AUTHOR or role is Role.BOT:
            return  # self-acks and robots' tags never count
        if e.trailer is TrailerKind.TESTED_BY:
            if not e.carried:
                self.touch(e.at)
            return  # tracked separately; never review
        if not e.carried:
            # A tag carried in the posting counts as review, but nobody responded on the list.
            self.touch(e.at)
            self.first_review_at = self.first_review_at or e.at
            self.spoke.add(e.actor)
        if e.trailer is TrailerKind.NACKED_BY:
            self.naks.add(e.actor)
            if role is Role.MAINTAINER:
                self.hold(e.at, State.REJECTED, f"NAKed by maintainer {e.actor}")
            elif self.live:
                self.objections.add(e.actor)
                self.set(e.at, State.CHANGES_REQUESTED, Turn.AUTHOR,
                         f"NAKed by {e.actor}; waiting for the author")
            return
        self.naks.discard(e.actor)  # a review tag from a NAKer withdraws the NAK
        for p in e.patches or (0,):
            self.acks.setdefault(p, set()).add(e.actor)
        if self.state is State.CHANGES_REQUESTED and e.actor in self.objections:
            # A review tag from whoever asked for changes withdraws their objection.
            self.objections.discard(e.actor)
            if not self.objections:
                self.set(e.at, State.UNDER_REVIEW, Turn.REVIEWER,
                         f"{e.actor} followed up with {e.trailer}; waiting for reviewers")
        if self.state in (State.NEW, State.UNDER_REVIEW, State.REVIEWED):
            self.check_ready(e.at)

    def on_new_revision(self, e: SeriesEvent, role: Role) -> None:
        self.superseded = True
        if self.state is State.APPLIED:
            self.set(e.at, State.APPLIED, Turn.NOBODY,
                     f"{self.reason}; v{e.revision} posted later ({e.ref})")
        elif self.applied or self.state is State.PARTIALLY_APPLIED:
            self.set(e.at, State.PARTIALLY_APPLIED, Turn.NOBODY,
                     f"{self.applied_part()}; the rest went on in v{e.revision} ({e.ref})")
        else:
            self.set(e.at, State.SUPERSEDED, Turn.NOBODY,
                     f"superseded by v{e.revision} ({e.ref})")
        self.touch(e.at)

    def applied_part(self) -> str:
        if not self.applied:
            return "partly applied"
        return f"{len(self.applied)} of {self.total} patches applied"

    def on_applied(self, e: SeriesEvent, role: Role) -> None:
        everything = range(1, self.total + 1)
        where = f" in {e.note}" if e.carried else f" to {e.note}" if e.note else ""
        # The rest of a superseded revision went on in the later one: nobody owes it here.
        owed = Turn.NOBODY if self.superseded else Turn.MAINTAINER
        later = "; the rest went on in a later revision" if self.superseded else ""
        if e.kind is EventKind.APPLIED and e.partial and not e.patches:
            # "(subset)" without saying which: the maintainer still owes the rest.
            self.set(e.at, State.PARTIALLY_APPLIED, owed,
                     f"partly applied{where} by {e.actor}"
                     + (later or "; the rest is pending"))
            self.touch(e.at)
            return
        self.applied.update(e.patches or everything)
        if not e.carried:
            self.touch(e.at)  # an older revision's application is not activity here
        missing = [p for p in everything if p not in self.applied]
        if not missing:
            if not e.carried:
                # Time to applied counts for the revision that was applied.
                self.applied_at = self.applied_at or e.at
            how = "committed" if e.kind is EventKind.COMMITTED else "applied"
            self.set(e.at, State.APPLIED, Turn.NOBODY, f"{how}{where} ({e.ref})")
        else:
            done = self.total - len(missing)
            self.set(e.at, State.PARTIALLY_APPLIED, owed,
                     f"{done} of {self.total} patches applied{where}; "
                     + (later.removeprefix("; ") if later else
                        f"pending: {', '.join(map(str, missing))}"))

    def on_override(self, e: SeriesEvent, role: Role) -> None:
        action = e.action
        note = f" ({e.note})" if e.note else ""
        if action is OverrideAction.SNOOZE:
            # Shown in the subsystem's zone: that is the clock its maintainers read.
            until = f" until {e.until.astimezone(self.policy.zone):%Y-%m-%d %H:%M %Z}" \
                if e.until else ""
            self.hold(e.at, State.SNOOZED, f"snoozed by {e.actor}{until}{note}")
            self.snooze_until = e.until
        elif action is OverrideAction.DEFER:
            self.hold(e.at, State.DEFERRED, f"deferred by {e.actor}{note}")
        elif action is OverrideAction.REJECT:
            self.hold(e.at, State.REJECTED, f"rejected by {e.actor}{note}")
        elif action is OverrideAction.ARCHIVE:
            self.hold(e.at, State.ARCHIVED, f"archived by {e.actor}{note}")
        elif action is OverrideAction.REOPEN and self.state in _HELD:
            self.release_hold(e.at, f"reopened by {e.actor}")

    def on_people(self, e: SeriesEvent, role: Role) -> None:
        who = e.target if e.kind is EventKind.ASSIGN else e.actor
        if e.kind is EventKind.RELEASE:
            if who in self.assignees:
                self.assignees.remove(who)
        elif who and who not in self.assignees:
            self.assignees.append(who)


    def waiting_on(self) -> tuple[str, ...]:
        if self.turn is Turn.AUTHOR:
            return (self.author,)
        if self.turn is Turn.MAINTAINER:
            return tuple(sorted(self.maintainers))
        if self.turn is Turn.REVIEWER:
            if self.assignees:
                return tuple(self.assignees)
            people = self.spoke or self.reviewers or self.maintainers
            return tuple(sorted(people))
        return ()

    def due(self) -> datetime | None:
        if self.rfc or self.since is None:
            return None
        sla = self.policy.sla
        if self.turn is Turn.REVIEWER:
            wait = sla.first_review if self.first_review_at is None else sla.followup_review
            return self.since + wait
        if self.turn is Turn.MAINTAINER:
            return self.since + sla.apply
        return None


_LAST_LOWERED: tuple[Mapping[str, str], dict[str, str]] | None = None


def _lowered(aliases: Mapping[str, str]) -> dict[str, str]:
    """The alias map with lower-cased addresses. A refresh replays every series with one
    map: remembering the last one saved a fifth of its replay time."""
    global _LAST_LOWERED
    last = _LAST_LOWERED
    if last is not None and last[0] is aliases:
        return last[1]
    lowered = {k.lower(): v.lower() for k, v in aliases.items()}
    _LAST_LOWERED = (aliases, lowered)
    return lowered


def replay(
    events: Iterable[SeriesEvent],
    policy: Policy,
    *,
    maintainers: Collection[str] = (),
    reviewers: Collection[str] = (),
    aliases: Mapping[str, str] | None = None,
    until: datetime | None = None,
) -> Replay:
    """Replay `events` (those at or before `until`, when given) in their total order.

    The result is the state right after the last event: time has not yet been
    let pass to any `now` (see `finish`). Raises ValueError if no POSTED event
    is replayed.
    """
    alias = _lowered(aliases or {})

    def canon(entry: str) -> str:
        addr = address(entry) if "<" in entry else entry.lower()
        return alias.get(addr, addr)

    r = Replay(policy, frozenset(map(canon, maintainers)), frozenset(map(canon, reviewers)))
    for e in sorted(events, key=lambda e: e.sort_key):
        if until is not None and e.at > until:
            continue
        if r.posted_at is None and e.kind is not EventKind.POSTED:
            continue  # nothing to attach to yet
        if alias:
            e = replace(e, actor=canon(e.actor), target=canon(e.target))
        r.advance(e.at)
        r.apply(e)
        r.last_event_at = e.at
    if r.posted_at is None or r.since is None or r.last_activity is None:
        raise ValueError("a series' history must start with a posted event")
    return r


def finish(r: Replay, now: datetime) -> SeriesStatus:
    """Let time pass up to `now` (snoozes end, quiet series go stale); the status then."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    r.advance(now)
    assert r.posted_at is not None and r.since is not None and r.last_activity is not None
    return SeriesStatus(
        state=r.visible,
        turn=r.turn,
        reason=r.why,
        since=r.since,
        due=r.due(),
        waiting_on=r.waiting_on(),
        assignees=tuple(r.assignees),
        posted_at=r.posted_at,
        last_activity=r.last_activity,
        first_review_at=r.first_review_at,
        applied_at=r.applied_at,
        applied_patches=tuple(sorted(r.applied)),
        reviewed_patches=tuple(r.reviewed()),
        total=r.total,
        revision=r.revision,
        rfc=r.rfc,
        timeline=tuple(r.timeline),
        naks=tuple(sorted(r.naks)),
    )


def derive_state(
    events: Iterable[SeriesEvent],
    policy: Policy,
    now: datetime,
    *,
    maintainers: Collection[str] = (),
    reviewers: Collection[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> SeriesStatus:
    """Replay `events` up to `now`.

    `maintainers`/`reviewers` are the routed section's M:/R: entries ("Name <a@b>"
    or bare addresses). `aliases` maps an address to the person's canonical one
    (.mailmap): leon@kernel.org and leonro@nvidia.com are one maintainer.
    Raises ValueError if there is no POSTED event at or before `now`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return finish(replay(events, policy, maintainers=maintainers, reviewers=reviewers,
                         aliases=aliases, until=now), now)


def series_status(
    series: Series,
    messages: Iterable[Message],
    policy: Policy,
    now: datetime,
    *,
    newer: Series | None = None,
    commits: Iterable[CommitMatch] = (),
    manual: Iterable[SeriesEvent] = (),
    maintainers: Collection[str] = (),
    reviewers: Collection[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> SeriesStatus:
    """The one call the service makes: mail + tree matches + stored manual events -> status.

    `manual` holds the overrides, claims, releases and assignments the store kept.
    """
    events = merge_events(
        events_from_series(series, messages, newer=newer, commits=commits), manual)
    return derive_state(events, policy, now, maintainers=maintainers, reviewers=reviewers,
                        aliases=aliases)
