"""Reviewer reminders and escalations for one subsystem: plan, build, queue.

The statuses come from the query API (the subsystem's open series at `now`),
the send log from the outbox (every reminder is recorded there before it is
sent, under a key with the local day), opt-outs from `reviewbot: stop`, who
opted in from the policy's `[nag] opt_in`, and the merge window from the cycle
tracker. core.backlog.nag decides; core.notify.reminder writes the mails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reviewbot.core.backlog.nag import (
    ESCALATION,
    NAG,
    WEEK,
    ReminderPlan,
    SentReminder,
    plan_reminders,
)
from reviewbot.core.maintainers.subsystems import list_address
from reviewbot.core.notify.addresses import address_of
from reviewbot.core.notify.message import OutgoingMail, build_message
from reviewbot.core.notify.reminder import ReminderView, reminder_draft
from reviewbot.core.policy.model import Policy, address
from reviewbot.ports import BacklogReader, OptOuts, OutboxEntry, OutboxStore, SentLog
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import Entry, queue
from reviewbot.service.mail.digest import MailIdentity
from reviewbot.service.mail.outbox import enqueue_all


@dataclass(frozen=True, slots=True)
class NagRun:
    subsystem: str
    policy: Policy
    plan: ReminderPlan
    mails: tuple[OutgoingMail, ...]
    merge_window: str  # "open", "closed" or "unknown (why)"
    queued: tuple[OutboxEntry, ...] = field(default=())
    new_keys: tuple[str, ...] = ()  # keys of the rows this call created


@dataclass(frozen=True, slots=True)
class People:
    maintainers: tuple[str, ...]  # canonical addresses
    reviewers: tuple[str, ...]
    lists: tuple[str, ...]


def section_people(ctx: BacklogContext, subsystem: str, aliases: Mapping[str, str]) -> People:
    """The subsystem's M:, R: (canonical addresses) and lists, from MAINTAINERS."""
    if ctx.maintainers is None:
        return People((), (), ())
    low = {k.lower(): v.lower() for k, v in aliases.items()}
    m: dict[str, None] = {}
    r: dict[str, None] = {}
    lists: dict[str, None] = {}
    for s in ctx.maintainers.index().sections:
        if s.name.casefold() != subsystem.casefold() and subsystem.lower() not in {
                list_address(v) for v in s.lists}:
            continue
        for e in s.maintainers:
            m.setdefault(low.get(address(e), address(e)), None)
        for e in s.reviewers:
            r.setdefault(low.get(address(e), address(e)), None)
        for e in s.lists:
            lists.setdefault(list_address(e), None)
    return People(tuple(m), tuple(r), tuple(lists))


def opted_in(policy: Policy, people: People, aliases: Mapping[str, str]) -> set[str]:
    low = {k.lower(): v.lower() for k, v in aliases.items()}
    out: set[str] = set()
    for entry in policy.nag.opt_in:
        if entry == "maintainers":
            out.update(people.maintainers)
        elif entry == "reviewers":
            out.update(people.reviewers)
        elif entry != "lists":
            out.add(low.get(entry, entry))
    return out


def sent_log(log: SentLog, now: datetime, keep: timedelta) -> list[SentReminder]:
    return [SentReminder(e.created, e.scope, e.recipient, e.kind)
            for e in log.kinds_since((NAG, ESCALATION), now - keep)]


def why_picked(who: str, e: Entry, people: People) -> str:
    if who in e.status.assignees:
        return "you claimed this series or were assigned to it"
    taker = e.routing.taker
    section = taker.section if taker else "its subsystem"
    if who in people.reviewers:
        return f"you are listed as R: (reviewer) of {section} in MAINTAINERS"
    if who in people.maintainers:
        return f"you maintain (M:) {section}"
    return "you took part in its review, and the author has answered you since"


def plan_nags(reader: BacklogReader, ctx: BacklogContext, subsystem: str, now: datetime, *,
              log: SentLog, optouts: OptOuts, merge_window_open: bool | None,
              merge_window_note: str = "", identity: MailIdentity) -> NagRun:
    """What reminders are due now for `subsystem` (nothing is recorded)."""
    q = queue(reader, ctx, now, subsystem)
    assert q.subsystem is not None
    policy = ctx.policies.for_subsystem(q.subsystem)
    aliases = reader.aliases()
    people = section_people(ctx, q.subsystem, aliases)
    entries: dict[str, Entry] = {e.summary.series_id: e for e in q.entries}
    keep = max(WEEK, policy.nag.cadence, policy.escalation.after or WEEK) + WEEK
    stops = optouts.stopped()
    plan = plan_reminders(
        policy, {sid: e.status for sid, e in entries.items()}, sent_log(log, now, keep), now,
        merge_window_open=bool(merge_window_open), opted_in=opted_in(policy, people, aliases),
        opted_out={a for a, sid in stops if sid is None},
        stopped={(a, sid) for a, sid in stops if sid is not None},
        maintainers=people.maintainers, lists=people.lists,
        authors={sid: aliases.get(e.summary.author_email.lower(),
                                  e.summary.author_email.lower())
                 for sid, e in entries.items()})
    day = policy.local_day(now)
    mails = []
    for r in plan.send:
        e = entries[r.series_id]
        st = e.status
        view = ReminderView(
            reminder=r, subsystem=q.subsystem, title=e.summary.title,
            version=e.summary.version, patches=e.summary.patch_count, total=e.summary.total,
            reviewed=len(st.reviewed_patches), turn=st.turn.value, since=st.since, due=st.due,
            status_reason=st.reason, why_you=why_picked(r.to[0], e, people),
            waiting_on=st.waiting_on, day=day, lore=identity.lore,
            operator=address_of(identity.sender))
        mails.append(build_message(reminder_draft(view), sender=identity.sender, now=now,
                                   version=identity.version))
    window = ("unknown" + (f" ({merge_window_note})" if merge_window_note else "")
              if merge_window_open is None else "open" if merge_window_open else "closed")
    return NagRun(q.subsystem, policy, plan, tuple(mails), window)


def queue_nags(run: NagRun, outbox: OutboxStore, now: datetime) -> NagRun:
    queued, created = enqueue_all(outbox, run.mails, now)
    return NagRun(run.subsystem, run.policy, run.plan, run.mails, run.merge_window,
                  queued, created)


def nag_subsystems(ctx: BacklogContext) -> list[tuple[str, Policy]]:
    """Subsystems whose policy turns reminders on: (its first section or list, policy)."""
    return [(p.sections[0] if p.sections else p.lists[0], p)
            for p in ctx.policies.subsystems if p.nag.enabled and (p.sections or p.lists)]
