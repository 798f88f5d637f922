"""The daemon's mail loops: sending, digests, reminders, reports, email commands.

- the outbox sender (service.mail.outbox.run_outbox), woken whenever mail was queued;
- planning, every `interval` seconds: for each subsystem policy, today's digest
  once its local time has come (as of that scheduled instant, so a restart plans
  exactly the same mail), reminders at the same time of day, and after a merge
  window closes the cycle report where the policy asks for it. Every mail goes
  into the outbox under its idempotency key first: planning twice, or after a
  crash, finds the rows and queues nothing new;
- email commands: the commands maildir, and mail newly stored from the lists.

Synchronous work (queries, SQL, DKIM) runs in worker threads; one planner at a
time across processes (a lock), like one sender at a time. A failing round is
logged and retried next time: it never ends the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reviewbot.core.backlog.cyclereport import UnknownCycle, cycle_period
from reviewbot.core.notify.addresses import address_of
from reviewbot.core.notify.message import build_message
from reviewbot.core.notify.outbox import RetryPolicy
from reviewbot.core.notify.report import report_draft
from reviewbot.core.policy.model import Policy
from reviewbot.core.pulls.cycle import Cycle, NoMainlineTags, cycle_from_tags
from reviewbot.ports import (
    BacklogReader,
    CommandLog,
    CommandMailbox,
    DigestLog,
    DkimVerifier,
    Mailer,
    NewMail,
    OptOuts,
    OutboxStore,
    RawReader,
    ReviewIndex,
    SentLog,
    SourceLocks,
)
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import UnknownSubsystem
from reviewbot.service.mail.digest import (
    MailIdentity,
    plan_digest,
    queue_digest,
    recipients_for,
    scheduled_at,
)
from reviewbot.service.mail.mailcmd import CommandPolicy
from reviewbot.service.mail.mailexec import CommandEnv, handle_command_mail
from reviewbot.service.mail.nag import plan_nags, queue_nags
from reviewbot.service.mail.outbox import run_outbox
from reviewbot.service.mail.report import report

log = logging.getLogger(__name__)

PLAN_LOCK = "mail-plan"
COMMANDS_LOCK = "mail-commands"
NEW_MAIL_BATCH = 500
REPORT_AFTER_RC1 = timedelta(days=7)  # a fresh start long after -rc1 mails no old report


@dataclass
class PlanReport:
    digests: list[str] = field(default_factory=list)  # outbox keys newly queued
    reminders: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    locked: bool = False

    @property
    def queued(self) -> int:
        return len(self.digests) + len(self.reminders) + len(self.reports)


Tags = list[tuple[str, datetime | None]]


class CycleSource:
    """The release cycle for the planner, from mainline tags read at most every `every`
    seconds of the clock (a remote ls-remote is not run each round)."""

    def __init__(self, read_tags: Callable[[], Tags], every: float = 6 * 3600) -> None:
        self._read = read_tags
        self._every = every
        self._last: tuple[datetime, Tags | None, str | None] | None = None

    def tags(self, now: datetime) -> tuple[Tags | None, str | None]:
        last = self._last
        if last is not None and 0 <= (now - last[0]).total_seconds() < self._every:
            return last[1], last[2]
        try:
            found: tuple[Tags | None, str | None] = (self._read(), None)
        except Exception as exc:  # a missing repository, no network
            log.warning("mail: the release cycle is unknown: %s", exc)
            found = (None, str(exc))
        self._last = (now, *found)
        return found

    def at(self, now: datetime) -> tuple[Cycle | None, str | None]:
        tags, why = self.tags(now)
        if tags is None:
            return None, why
        try:
            return cycle_from_tags(tags, now), None
        except NoMainlineTags as exc:
            return None, str(exc)


@dataclass
class MailLoops:
    """Everything the mail loops need; built by the composition root (wiring)."""

    outbox: OutboxStore
    sent: SentLog
    locks: SourceLocks
    identity: MailIdentity
    ctx: Callable[[], BacklogContext]  # the daemon's current context (policies reload)
    reader: BacklogReader
    digests: DigestLog
    index: ReviewIndex
    optouts: OptOuts
    env: CommandEnv
    clock: Callable[[], datetime]
    cycle: CycleSource | None = None
    mailer: Mailer | None = None  # None: mail is planned and queued, not sent
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    policy_file: Callable[[Policy], str] = lambda p: f"policies/{p.name}.toml"
    maildir: CommandMailbox | None = None
    new_mail: NewMail | None = None
    raw_reader: RawReader | None = None
    verifier: DkimVerifier | None = None
    seen: CommandLog | None = None
    command_policy: CommandPolicy | None = None
    interval: float = 300.0
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # (kind, subsystem, scheduled instant) planned by this process: not planned again each
    # round (after a restart they are, once: the outbox keys make that a no-op)
    _done: set[tuple[str, str, datetime]] = field(default_factory=set)

    # -- planning -------------------------------------------------------------------

    def plan_once(self, now: datetime | None = None) -> PlanReport:
        """One planning round (blocking: run it in a thread)."""
        report = PlanReport()
        if not self.locks.try_acquire(PLAN_LOCK):
            report.locked = True
            return report
        try:
            now = now or self.clock()
            ctx = self.ctx()
            for policy in ctx.policies.subsystems:
                if not (policy.sections or policy.lists):
                    continue
                when = scheduled_at(policy, now) if policy.digest.days else None
                name = policy.sections[0] if policy.sections else policy.lists[0]
                try:
                    if when is not None and ("digest", name, when) not in self._done:
                        report.digests += self._digest(ctx, name, policy, when)
                        self._done.add(("digest", name, when))
                    if policy.report.mail:
                        report.reports += self._report(ctx, name, policy, now)
                    nag_at = _daily_at(policy, now)
                    if policy.nag.enabled and nag_at is not None \
                            and ("nag", name, nag_at) not in self._done:
                        report.reminders += self._nags(ctx, name, nag_at)
                        self._done.add(("nag", name, nag_at))
                except UnknownSubsystem:
                    log.debug("mail: no MAINTAINERS section or list %r: skipped", name)
                except Exception as exc:  # one subsystem never stops the others
                    log.exception("mail: planning for %s failed", name)
                    report.errors.append(f"{name}: {type(exc).__name__}: {exc}")
        finally:
            self.locks.release(PLAN_LOCK)
        if report.queued:
            log.info("mail: queued %d digests, %d reminders", len(report.digests),
                     len(report.reminders))
        return report

    def _digest(self, ctx: BacklogContext, name: str, policy: Policy,
                when: datetime) -> list[str]:
        cycle, why = self.cycle.at(when) if self.cycle else (None, "no mainline tags configured")
        plan = plan_digest(self.reader, ctx, name, when, digests=self.digests,
                           index=self.index, cycle=cycle, cycle_error=why,
                           identity=self.identity, policy_file=self.policy_file(policy))
        return list(queue_digest(plan, self.outbox, self.digests, when).new_keys)

    def _report(self, ctx: BacklogContext, name: str, policy: Policy,
                now: datetime) -> list[str]:
        """The cycle report of the release before the merge window that just closed:
        once -rc1 is tagged (within REPORT_AFTER_RC1), once per recipient and cycle."""
        cycle, _ = self.cycle.at(now) if self.cycle else (None, None)
        if cycle is None or cycle.merge_window_open or cycle.rc != 1 \
                or cycle.latest_tag_date is None or now - cycle.latest_tag_date > REPORT_AFTER_RC1:
            return []
        assert self.cycle is not None
        tags, _ = self.cycle.tags(now)
        done_key = ("report", name, cycle.latest_tag_date)
        if tags is None or done_key in self._done:
            return []
        try:
            period = cycle_period(tags, cycle.release, now)
        except UnknownCycle as exc:
            log.warning("mail: no cycle report for %s: %s", name, exc)
            self._done.add(done_key)
            return []
        rep, _ = report(self.reader, ctx, name, period)
        recipients = recipients_for(ctx, rep.subsystem, policy.report.to)
        new: list[str] = []
        for draft in report_draft(rep, recipients, address_of(self.identity.sender)):
            mail = build_message(draft, sender=self.identity.sender, now=now,
                                 version=self.identity.version)
            entry, created = self.outbox.enqueue(mail, now)
            if created:
                new.append(entry.key)
        self._done.add(done_key)
        return new

    def _nags(self, ctx: BacklogContext, name: str, when: datetime) -> list[str]:
        cycle, why = self.cycle.at(when) if self.cycle else (None, "no mainline tags configured")
        run = plan_nags(self.reader, ctx, name, when, log=self.sent,
                        optouts=self.optouts,
                        merge_window_open=cycle.merge_window_open if cycle else None,
                        merge_window_note=why or "", identity=self.identity)
        return list(queue_nags(run, self.outbox, when).new_keys)

    # -- email commands -----------------------------------------------------------------

    def commands_once(self, now: datetime | None = None) -> int:
        """Read the commands maildir and newly stored list mail; returns mails handled."""
        if self.verifier is None or self.seen is None or self.command_policy is None:
            return 0
        if not self.locks.try_acquire(COMMANDS_LOCK):
            return 0
        handled = 0
        try:
            now = now or self.clock()
            if self.maildir is not None:
                for key, raw in self.maildir.unread():
                    self._handle(raw, now)
                    self.maildir.mark_seen(key)
                    handled += 1
            if self.new_mail is not None:
                handled += self._new_mail(now)
        finally:
            self.locks.release(COMMANDS_LOCK)
        return handled

    def _new_mail(self, now: datetime) -> int:
        assert self.new_mail is not None
        cursor = self.new_mail.cursor()
        handled = 0
        while True:
            mails, after = self.new_mail.after(cursor, NEW_MAIL_BATCH)
            todo = [m for m in mails if m.by_reference or b"reviewbot:" in m.raw.lower()]
            refs = [m.origin for m in todo if m.by_reference]
            read = self.raw_reader.read(refs) if refs and self.raw_reader else {}
            for m in todo:
                raw = read.get(m.origin, b"") if m.by_reference else m.raw
                if b"reviewbot:" in raw.lower():
                    self._handle(raw, now)
                    handled += 1
            if after is not None and after != cursor:
                self.new_mail.save_cursor(after)
            if not mails or after == cursor:
                return handled
            cursor = after

    def _handle(self, raw: bytes, now: datetime) -> None:
        assert self.verifier and self.seen and self.command_policy
        try:
            done = handle_command_mail(raw, now, verifier=self.verifier, seen=self.seen,
                                       policy=self.command_policy, env=self.env,
                                       identity=self.identity)
        except Exception:  # one bad mail never stops the daemon
            log.exception("mail: an email command mail could not be handled")
            return
        if done.received.refusal is not None:
            log.info("mail: command mail refused: %s", done.received.refusal.value)

    # -- the loops ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Until `stop` is set: send, plan, read commands."""
        async with asyncio.TaskGroup() as tg:
            if self.mailer is not None:
                tg.create_task(run_outbox(self.outbox, self.mailer, self.locks,
                                          self.retry,
                                          clock=self.clock, stop=stop, wake=self.wake))
            tg.create_task(self._every(stop, self._round))

    def _round(self) -> bool:
        """One planning and command round; True if mail may have been queued."""
        report = self.plan_once()
        handled = self.commands_once()
        return bool(report.queued or handled)

    async def _every(self, stop: asyncio.Event, work: Callable[[], bool]) -> None:
        while not stop.is_set():
            try:
                if await asyncio.to_thread(work):
                    self.wake.set()  # send now, not at the sender's next round
            except Exception:
                log.exception("mail: planning round failed; retrying in %.0f s", self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)


def _daily_at(policy: Policy, now: datetime) -> datetime | None:
    """Reminders are planned once a day, at the digest's local time (on any weekday)."""
    local = now.astimezone(policy.zone)
    due = datetime.combine(local.date(), policy.digest.at, policy.zone)
    return due if due <= now else None
