"""Which reminders and escalations to send now: a pure decision over statuses and the send log.

conventions.md §3: reminders are opt-in per reviewer, go only to the one whose
turn it is, never before `first_after` since the last activity, at most
`per_reviewer_series_week` per reviewer per series and `per_reviewer_week` per
reviewer in any 7 days, `global_daily` per local day, none in quiet periods.
The shell stores each decision's key before sending, so re-planning after a
restart sees it in `sent` and never sends twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from reviewbot.core.backlog.turn import SeriesStatus, State, Turn
from reviewbot.core.mail.classify import is_bot
from reviewbot.core.policy.model import Policy, human_duration, is_absent, quiet_reason

WEEK = timedelta(days=7)
NAG = "nag"
ESCALATION = "escalation"


@dataclass(frozen=True, slots=True)
class SentReminder:
    at: datetime
    series_id: str
    recipient: str
    kind: str = NAG  # NAG or ESCALATION


@dataclass(frozen=True, slots=True)
class Reminder:
    series_id: str
    kind: str  # NAG or ESCALATION
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Skip:
    series_id: str
    recipient: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReminderPlan:
    send: tuple[Reminder, ...] = ()
    skipped: tuple[Skip, ...] = ()
    quiet: str | None = None  # why nothing goes out at all


def plan_reminders(
    policy: Policy,
    statuses: Mapping[str, SeriesStatus],
    sent: Iterable[SentReminder],
    now: datetime,
    *,
    merge_window_open: bool,
    opted_in: Collection[str],
    opted_out: Collection[str] = (),
    maintainers: Collection[str] = (),
    lists: Collection[str] = (),
    stopped: Collection[tuple[str, str]] = (),
    authors: Mapping[str, str] | None = None,
) -> ReminderPlan:
    """Reminders and escalations due at `now` for one subsystem, oldest due first.

    `opted_out`: addresses that stopped every reminder; `stopped`: (address, series id)
    pairs stopped for one series; `authors`: series id -> its author, who is never
    reminded about their own series (nobody is asked to chase a maintainer).
    """
    rules = policy.nag
    if not rules.enabled:
        return ReminderPlan(quiet="reminders are disabled for this subsystem")
    if why := quiet_reason(policy, now, merge_window_open=merge_window_open):
        return ReminderPlan(quiet=why)
    log = list(sent)
    today = policy.local_day(now)
    sends: list[Reminder] = []
    skips: list[Skip] = []
    # Stale series (no human activity for the policy's stale_after) are the digest's
    # business: a reminder about a series everybody left alone for months helps nobody.
    overdue = sorted(
        ((sid, s) for sid, s in statuses.items()
         if s.is_open and s.state is not State.STALE
         and s.turn in (Turn.REVIEWER, Turn.MAINTAINER) and s.overdue(now)),
        key=lambda item: (item[1].due, item[0]),
    )
    for sid, status in overdue:
        for who in status.waiting_on:
            why_not = _blocked(policy, status, sid, who, log, now, today, opted_in, opted_out)
            if why_not is None and (who, sid) in stopped:
                why_not = "opted out of this series"
            if why_not is None and authors is not None and authors.get(sid) == who:
                why_not = "the series' own author"
            if why_not:
                skips.append(Skip(sid, who, why_not))
                continue
            cc = tuple(sorted(m for m in maintainers if m != who))
            sends.append(Reminder(sid, NAG, (who,), cc,
                                  f"{status.turn} turn since {status.since:%Y-%m-%d}; "
                                  f"due {status.due:%Y-%m-%d}"))
            log.append(SentReminder(now, sid, who, NAG))
        if _today(policy, log, today) >= rules.global_daily:
            continue  # the daily cap holds escalations back too
        escalation = _escalation(policy, sid, status, log, now, maintainers, lists,
                                 {*opted_out, *(a for a, s in stopped if s == sid)})
        if escalation:
            sends.append(escalation)
    return ReminderPlan(tuple(sends), tuple(skips))


def _blocked(
    policy: Policy, status: SeriesStatus, sid: str, who: str, log: list[SentReminder],
    now: datetime, today: date, opted_in: Collection[str], opted_out: Collection[str],
) -> str | None:
    rules = policy.nag
    if is_bot("", who, {}):
        return "a bot"
    if who in opted_out:
        return "opted out"
    if who not in opted_in:
        return "not opted in"
    if is_absent(policy, who, now):
        return "absent"
    if now - status.last_activity < rules.first_after:
        return f"activity within {human_duration(rules.first_after)}"
    nags = [e for e in log if e.kind == NAG]
    mine = [e for e in nags if e.recipient == who and now - e.at < WEEK]
    this = [e for e in mine if e.series_id == sid]
    if any(now - e.at < rules.cadence for e in nags if e.recipient == who and e.series_id == sid):
        return "reminded about this series recently"
    if len(this) >= rules.per_reviewer_series_week:
        return "per-series weekly cap reached"
    if len(mine) >= rules.per_reviewer_week:
        return "weekly cap reached"
    if _today(policy, log, today) >= rules.global_daily:
        return "daily cap reached"
    return None


def _today(policy: Policy, log: list[SentReminder], today: date) -> int:
    """Reminders and escalations of the subsystem on `today` (its local day)."""
    return sum(1 for e in log if policy.local_day(e.at) == today)


def _escalation(
    policy: Policy, sid: str, status: SeriesStatus, log: list[SentReminder], now: datetime,
    maintainers: Collection[str], lists: Collection[str], stopped: Collection[str] = (),
) -> Reminder | None:
    """Once per turn: after N reminders about the series, or after waiting too long."""
    rules = policy.escalation
    this_turn = [e for e in log if e.series_id == sid and e.at >= status.since]
    if any(e.kind == ESCALATION for e in this_turn):
        return None
    # Reminders sent before now: one planned in this very round had no chance of an answer.
    nags = sum(1 for e in this_turn if e.kind == NAG and e.at < now)
    waited = now - status.since
    if rules.after_nags is not None and nags >= rules.after_nags:
        why = f"{nags} reminders without a response"
    elif rules.after is not None and waited >= rules.after:
        why = f"waiting {waited.days} days"
    else:
        return None
    to: list[str] = []
    for target in rules.to:
        names = {"maintainers": maintainers, "lists": lists, "reviewers": status.waiting_on}
        for addr in sorted(names.get(target, (target,))):
            if addr not in to and not is_bot("", addr, {}):
                to.append(addr)
    # Telling the people it waits on that it waits on them is a reminder, not an escalation.
    to = [a for a in to if a not in status.waiting_on and a not in stopped]
    if not to:
        return None
    log.append(SentReminder(now, sid, to[0], ESCALATION))
    return Reminder(sid, ESCALATION, tuple(to), (), f"{status.turn} turn: {why}")
