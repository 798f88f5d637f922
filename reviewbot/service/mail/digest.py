"""The daily digest of one subsystem: gather it from the query API, build, queue.

Everything the digest shows comes from service.backlog.queries.queue() at one instant
(so its counts are `reviewbot queue --subsystem NAME --as-of ... --json`'s),
plus the stored figures of series applied since the last digest and reviewer
suggestions from the review index. The counts it showed are kept (DigestLog),
so the next digest says how they changed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from reviewbot.core.backlog.turn import State, Turn
from reviewbot.core.notify.addresses import address_of
from reviewbot.core.notify.digest import DigestView, Row, digest_drafts
from reviewbot.core.notify.message import OutgoingMail, build_message
from reviewbot.core.policy.model import Policy, address
from reviewbot.core.pulls.cycle import Cycle
from reviewbot.ports import (
    BacklogReader,
    DigestCounts,
    DigestLog,
    OutboxEntry,
    OutboxStore,
    ReviewIndex,
)
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import Entry, Queue, queue
from reviewbot.service.mail.outbox import enqueue_all
from reviewbot.service.mail.suggest import load_of, rank

log = logging.getLogger(__name__)

SUGGEST_AT_MOST = 30  # unreviewed rows that get suggestions (the rest: too many to read)
EXPIRING_WITHIN = timedelta(days=7)
NEW_WINDOW = timedelta(days=1)  # "new since yesterday" when there is no recent digest
RECENT_DIGEST = timedelta(days=8)


@dataclass(frozen=True, slots=True)
class MailIdentity:
    """What every mail needs from `[mail]`: the bot's From, the lore base, our version."""

    sender: str
    lore: str
    version: str


@dataclass(frozen=True, slots=True)
class DigestPlan:
    view: DigestView
    queue: Queue
    policy: Policy
    recipients: tuple[str, ...]
    mails: tuple[OutgoingMail, ...]
    queued: tuple[OutboxEntry, ...] = field(default=())  # rows recorded (existing included)
    new_keys: tuple[str, ...] = ()  # keys of the rows this call created


def cycle_line(c: Cycle | None, error: str | None = None) -> str | None:
    """The merge-window countdown the digest shows."""
    if c is None:
        return f"unknown: {error}" if error else None
    if c.merge_window_open:
        week = f" (week {c.window_week})" if c.window_week else ""
        closes = f"; -rc1 expected {c.merge_window_closes}" if c.merge_window_closes else ""
        return f"The merge window for {c.developing} is open{week}{closes}."
    days = c.days_to_next_merge_window()
    when = f" in about {days} days" if days is not None and days >= 0 else ""
    return (f"{c.latest_tag} ({c.phase} of {c.developing}): the next merge window opens"
            f"{when}, on {c.next_merge_window} ({c.next_merge_window_latest} if an rc8 "
            "comes).")


def recipients_for(ctx: BacklogContext, subsystem: str, wanted: Sequence[str],
                   override: Sequence[str] = ()) -> tuple[str, ...]:
    """`--to`, else `wanted` (a policy's [digest] or [report] recipients): addresses, or
    the section's M:/R:/L: entries with the mailmap applied (the address the person is
    known by)."""
    if override:
        return tuple(dict.fromkeys(override))
    section = None
    if ctx.maintainers is not None:
        section = next((s for s in ctx.maintainers.index().sections
                        if s.name.casefold() == subsystem.casefold()), None)
    aliases = {k.lower(): v.lower() for k, v in ctx.mailmap_aliases().items()}
    out: dict[str, str] = {}
    for r in wanted:
        entries: Sequence[str] = (r,)
        if r in ("maintainers", "reviewers", "lists"):
            entries = () if section is None else (
                section.maintainers if r == "maintainers" else
                section.reviewers if r == "reviewers" else section.lists)
        for entry in entries:
            addr = address(entry)
            canon = aliases.get(addr, addr)
            name = entry.split("<", 1)[0].strip().strip('"') if "<" in entry else ""
            out.setdefault(canon, f"{name} <{canon}>" if name else canon)
    return tuple(out.values())


def _row(e: Entry, note: str = "") -> Row:
    s, st = e.summary, e.status
    return Row(s.series_id, s.title, s.version, s.patch_count, s.total,
               len(st.reviewed_patches), st.posted_at, note)


def build_view(reader: BacklogReader, ctx: BacklogContext, subsystem: str, now: datetime, *,
               digests: DigestLog, index: ReviewIndex | None, cycle: Cycle | None,
               cycle_error: str | None, identity: MailIdentity,
               policy_file: str) -> tuple[DigestView, Queue, Policy]:
    q = queue(reader, ctx, now, subsystem)
    assert q.stats is not None and q.subsystem is not None
    name = q.subsystem
    policy = ctx.policies.for_subsystem(name)
    day = policy.local_day(now)
    previous = digests.previous_digest(name, f"{day:%Y-%m-%d}")
    new_since = now - NEW_WINDOW
    if previous is not None and now - RECENT_DIGEST <= previous.as_of < now:
        new_since = previous.as_of
    notes = _suggestions(reader, q, policy, index, now) if index is not None else {}

    def row(e: Entry, note: str = "") -> Row:
        extra = notes.get(e.summary.series_id, "")
        return _row(e, "; ".join(n for n in (note, extra) if n))

    # Live series first, then those gone stale (no activity for the policy's stale_after):
    # a table cut at its first rows should show what moves.
    entries = tuple(sorted(q.entries, key=lambda e: (e.status.state is State.STALE,
                                                      e.status.posted_at,
                                                      e.summary.series_id)))
    ready = [row(e, e.status.reason) for e in entries if e.status.turn is Turn.MAINTAINER]
    overdue: dict[str, list[Row]] = {}
    for e in sorted(entries, key=lambda e: (e.status.state is State.STALE,
                                            e.status.due or now, e.summary.series_id)):
        st = e.status
        if st.turn is Turn.REVIEWER and st.overdue(now):
            for who in st.waiting_on or ("(nobody named)",):
                assert st.due is not None
                overdue.setdefault(who, []).append(
                    row(e, f"due {st.due:%Y-%m-%d}, {(now - st.due).days} days ago"))
    new = [row(e) for e in entries if e.status.posted_at > new_since]
    authors = [row(e, e.status.reason) for e in entries if e.status.turn is Turn.AUTHOR]
    expiring = [row(e, f"expires {when:%Y-%m-%d}") for e in entries
                if (when := e.status.expires_at) is not None
                and now <= when <= now + EXPIRING_WITHIN]
    view = DigestView(
        subsystem=name, day=day, as_of=now, zone=policy.time_zone,
        counts=dict(q.stats.open_by_state),
        previous=dict(previous.counts) if previous is not None else None,
        previous_day=previous.period if previous is not None else None,
        ready=tuple(ready), overdue=tuple((w, tuple(rows)) for w, rows in sorted(overdue.items())),
        new=tuple(new), new_since=new_since, authors=tuple(authors),
        applied=tuple(_applied(reader, name, new_since, now)),
        expiring=tuple(expiring),
        cycle=cycle_line(cycle, cycle_error), lore=identity.lore,
        schedule=f"on {', '.join(policy.digest.days)} at {policy.digest.at:%H:%M} "
                 f"{policy.time_zone}",
        policy_file=policy_file, operator=address_of(identity.sender))
    return view, q, policy


def _applied(reader: BacklogReader, subsystem: str, since: datetime, now: datetime) -> list[Row]:
    """Series of the subsystem applied in (since, now], from their stored figures."""
    found = reader.resolve_subsystem(subsystem)
    if found is None:
        return []
    figures = [f for f in reader.series_figures(found[1], now)
               if f.ignored is None and f.applied_at is not None and since < f.applied_at <= now]
    rows = reader.series_rows([f.series_id for f in figures])
    stood = reader.standings([f.series_id for f in figures])
    out = []
    for f in sorted(figures, key=lambda f: (f.applied_at or now, f.series_id)):
        r = rows.get(f.series_id)
        if r is None:
            continue
        s = r.summary
        st = stood.get(f.series_id)
        assert f.applied_at is not None
        out.append(Row(s.series_id, s.title, s.version, s.patch_count, s.total,
                       len(st.reviewed) if st else 0, f.posted_at,
                       f"applied {f.applied_at:%Y-%m-%d}"))
    return out


def _suggestions(reader: BacklogReader, q: Queue, policy: Policy, index: ReviewIndex,
                 now: datetime) -> dict[str, str]:
    """"suggested: a, b" for open series nobody has reviewed yet (oldest first)."""
    todo = [e for e in q.entries if e.status.state is State.NEW
            and not e.status.reviewed_patches and e.status.first_review_at is None]
    todo = todo[:SUGGEST_AT_MOST]
    if not todo:
        return {}
    files = index.files_of([e.summary.series_id for e in todo])
    load = load_of(q.entries)
    aliases = reader.aliases()
    out: dict[str, str] = {}
    for e in todo:
        found = rank(routing=e.routing, files=files.get(e.summary.series_id, ()),
                     author=e.summary.author_email, series_id=e.summary.series_id,
                     policy=e.policy, index=index, load=load, aliases=aliases, now=now,
                     limit=3)
        if found:
            out[e.summary.series_id] = "suggested: " + ", ".join(
                s.name or s.address for s in found)
    return out


def plan_digest(reader: BacklogReader, ctx: BacklogContext, subsystem: str, now: datetime, *,
                digests: DigestLog, index: ReviewIndex | None, cycle: Cycle | None,
                cycle_error: str | None, identity: MailIdentity, policy_file: str,
                to: Sequence[str] = ()) -> DigestPlan:
    """Gather and build the digest mails (nothing is recorded)."""
    view, q, policy = build_view(reader, ctx, subsystem, now, digests=digests, index=index,
                                 cycle=cycle, cycle_error=cycle_error, identity=identity,
                                 policy_file=policy_file)
    recipients = recipients_for(ctx, view.subsystem, policy.digest.recipients, to)
    mails = tuple(build_message(d, sender=identity.sender, now=now, version=identity.version)
                  for d in digest_drafts(view, recipients))
    return DigestPlan(view, q, policy, recipients, mails)


def queue_digest(plan: DigestPlan, outbox: OutboxStore, digests: DigestLog,
                 now: datetime) -> DigestPlan:
    """Record the digest's mails in the outbox (idempotent per recipient and day) and
    the counts it showed."""
    queued, created = enqueue_all(outbox, plan.mails, now)
    v = plan.view
    digests.record_digest(DigestCounts(v.subsystem, f"{v.day:%Y-%m-%d}", v.as_of, v.counts,
                                       tuple(e.summary.series_id for e in plan.queue.entries)))
    return DigestPlan(plan.view, plan.queue, plan.policy, plan.recipients, plan.mails,
                      queued, created)


def scheduled_at(policy: Policy, now: datetime) -> datetime | None:
    """When today's digest is due (in the policy's zone), if today is one of its days
    and that time has come; else None."""
    local = now.astimezone(policy.zone)
    if local.strftime("%a").lower() not in policy.digest.days:
        return None
    due = datetime.combine(local.date(), policy.digest.at, policy.zone)
    return due if due <= now else None


def local_day(policy: Policy, now: datetime) -> date:
    return policy.local_day(now)
