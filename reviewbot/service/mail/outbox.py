"""Sending from the durable outbox: retries, holds, and the crash window.

A mail's life: queued -> sending -> sent, or back to queued with a later
next attempt (server down, 4xx), or held (5xx), or failed (too many
temporary failures). Only a sender holding the "outbox" lock moves mail, so a
row found in "sending" by a lock holder was left by a sender that died:

- killed before it connected, or before the row was claimed (before DATA):
  the row is still queued and is sent once;
- killed inside the one SMTP transaction, before the server's 250: the server
  dropped the half-received mail; the row is "sending";
- killed after the 250, before the commit: the server has the mail, the row
  is "sending" -- the window no mailer can close;
- killed after the commit: "sent", nothing more happens.

A "sending" row cannot tell the last three cases apart, so `in_doubt`
decides: resend it with the same Message-ID (default: a duplicate at worst,
which recipients' clients fold by Message-ID), or hold it for a human (a lost
mail at worst). The window is kept inside one transaction: a mail is claimed
("sending", committed) only once the connection is up, logged in and its
recipients accepted, right before DATA, and recorded right after its 250.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from reviewbot.core.notify.message import OutgoingMail
from reviewbot.core.notify.outbox import InDoubt, OutboxState, RetryPolicy
from reviewbot.ports import (
    Mailer,
    MailError,
    MailSession,
    OutboxEntry,
    OutboxStore,
    SourceLocks,
)

log = logging.getLogger(__name__)

LOCK_KEY = "outbox"  # one sender at a time, across processes (flock / PG advisory lock)
BATCH = 100  # mails per round at most


@dataclass
class FlushReport:
    sent: list[str] = field(default_factory=list)  # keys
    retry: list[tuple[str, str]] = field(default_factory=list)  # (key, error)
    held: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    recovered: list[tuple[str, str]] = field(default_factory=list)  # (key, "resend"/"hold")
    locked: bool = False  # another sender holds the lock: nothing done
    session_error: str | None = None  # could not connect or log in

    @property
    def ok(self) -> bool:
        return not (self.held or self.failed or self.session_error or self.locked)

    def summary(self) -> str:
        if self.locked:
            return "outbox: another reviewbot is sending (lock held); nothing done"
        parts = [f"{len(self.sent)} sent", f"{len(self.retry)} to retry",
                 f"{len(self.held)} held", f"{len(self.failed)} failed"]
        if self.recovered:
            parts.append(f"{len(self.recovered)} found mid-send after a crash")
        line = "outbox: " + ", ".join(parts)
        return line + (f" ({self.session_error})" if self.session_error else "")


def enqueue(store: OutboxStore, mail: OutgoingMail, now: datetime) -> tuple[OutboxEntry, bool]:
    """Record `mail` before anything sends it; the same key twice is one row."""
    entry, created = store.enqueue(mail, now)
    if not created:
        log.debug("outbox: %s already recorded (%s)", entry.key, entry.state)
    return entry, created


def enqueue_all(store: OutboxStore, mails: Iterable[OutgoingMail],
                now: datetime) -> tuple[tuple[OutboxEntry, ...], tuple[str, ...]]:
    """Record each mail; the entries, and the keys of those recorded for the first time."""
    queued: list[OutboxEntry] = []
    created: list[str] = []
    for mail in mails:
        entry, new = enqueue(store, mail, now)
        queued.append(entry)
        if new:
            created.append(entry.key)
    return tuple(queued), tuple(created)


def recover_in_flight(store: OutboxStore, policy: RetryPolicy, now: datetime,
                      report: FlushReport | None = None) -> list[OutboxEntry]:
    """Rows a dead sender left in "sending": requeue (same Message-ID) or hold them.
    Call only while holding the outbox lock (no live sender then has such a row)."""
    found = store.in_state(OutboxState.SENDING)
    for e in found:
        if policy.in_doubt is InDoubt.RESEND:
            store.transition(e.id, OutboxState.SENDING, OutboxState.QUEUED, now,
                             next_attempt=now, error="sender stopped mid-send; resending "
                             "with the same Message-ID")
        else:
            detail = ("sender stopped mid-send; the server may have it (held: "
                      "`reviewbot outbox retry` sends it again)")
            store.transition(e.id, OutboxState.SENDING, OutboxState.HELD, now, error=detail)
            if report is not None:
                report.held.append((e.key, detail))
        log.warning("outbox: %s was mid-send when a sender stopped: %s", e.key,
                    policy.in_doubt.value)
        if report is not None:
            report.recovered.append((e.key, policy.in_doubt.value))
    return found


class _Changed(Exception):
    """The row left "queued" under us (retried or held by hand): skip it."""


async def send_due(store: OutboxStore, mailer: Mailer, policy: RetryPolicy, now: datetime,
                   *, force: bool = False, limit: int = BATCH,
                   report: FlushReport | None = None) -> FlushReport:
    """Send the queued mail that is due (`force`: all queued mail). Call while
    holding the outbox lock. Store calls run in worker threads."""
    report = report or FlushReport()
    due = await asyncio.to_thread(store.due, None if force else now, limit)
    if not due:
        return report
    try:
        async with mailer.session() as session:
            for entry in due:
                if not await _send_one(store, session, entry, policy, now, report):
                    break  # the connection is gone: the rest stays queued for the next round
    except MailError as exc:  # could not connect or log in: every due mail waits
        report.session_error = exc.detail
        log.warning("outbox: %s", exc.detail)
        untried = [e for e in due if not _touched(e, report)]
        await asyncio.to_thread(_postpone_all, store, untried, exc.detail, policy, now, report)
    return report


def _touched(entry: OutboxEntry, report: FlushReport) -> bool:
    return entry.key in report.sent or any(entry.key == k for k, _ in
                                           report.retry + report.held + report.failed)


async def _send_one(store: OutboxStore, session: MailSession, entry: OutboxEntry,
                    policy: RetryPolicy, now: datetime, report: FlushReport) -> bool:
    """One mail in one SMTP transaction; False when the session is lost."""
    claimed = False

    async def claim() -> None:
        # Committed before DATA: from here until the commit below, a crash
        # leaves the row in "sending" (the in-doubt window is DATA alone).
        nonlocal claimed
        if not await asyncio.to_thread(store.transition, entry.id, OutboxState.QUEUED,
                                       OutboxState.SENDING, now, attempts=entry.attempts + 1):
            raise _Changed
        claimed = True

    try:
        accepted = await session.send(entry.sender, entry.recipients, entry.raw,
                                      before_data=claim)
    except _Changed:
        return True
    except MailError as exc:
        await asyncio.to_thread(_after_error, store, entry, claimed, exc, policy, now, report)
        return not exc.session_lost
    except Exception as exc:  # a bug below us: treat it like a broken DATA
        log.exception("outbox: unexpected error sending %s", entry.key)
        err = MailError(f"{type(exc).__name__}: {exc}", in_doubt=claimed, session_lost=True)
        await asyncio.to_thread(_after_error, store, entry, claimed, err, policy, now, report)
        return False
    note = ("refused: " + "; ".join(accepted.refused)) if accepted.refused else None
    await asyncio.to_thread(store.transition, entry.id, OutboxState.SENDING, OutboxState.SENT,
                            now, reply=accepted.reply, error=note)
    report.sent.append(entry.key)
    log.info("outbox: sent %s <%s> (%s)", entry.key, entry.message_id, accepted.reply)
    return True


def _after_error(store: OutboxStore, entry: OutboxEntry, claimed: bool, exc: MailError,
                 policy: RetryPolicy, now: datetime, report: FlushReport) -> None:
    expect = OutboxState.SENDING if claimed else OutboxState.QUEUED
    attempts = entry.attempts + 1
    held = None
    if exc.permanent:
        held = f"{exc.detail} (refused for good; held)"
    elif exc.in_doubt and policy.in_doubt is InDoubt.HOLD:
        held = f"{exc.detail} (the server may have it; held)"
    if held is not None:
        store.transition(entry.id, expect, OutboxState.HELD, now, attempts=attempts, error=held)
        report.held.append((entry.key, held))
        log.error("outbox: %s held: %s", entry.key, held)
        return
    _retry_or_fail(store, entry, expect, attempts, exc.detail, policy, now, report)


def _retry_or_fail(store: OutboxStore, entry: OutboxEntry, expect: OutboxState, attempts: int,
                   error: str, policy: RetryPolicy, now: datetime, report: FlushReport) -> None:
    when = policy.after_failure(attempts, now)
    if when is None:
        store.transition(entry.id, expect, OutboxState.FAILED, now, attempts=attempts,
                         error=f"gave up after {attempts} attempts: {error}")
        report.failed.append((entry.key, error))
        log.error("outbox: %s failed after %d attempts: %s", entry.key, attempts, error)
        return
    store.transition(entry.id, expect, OutboxState.QUEUED, now, attempts=attempts,
                     next_attempt=when, error=error)
    report.retry.append((entry.key, error))


def _postpone_all(store: OutboxStore, due: list[OutboxEntry], error: str, policy: RetryPolicy,
                  now: datetime, report: FlushReport) -> None:
    for entry in due:
        _retry_or_fail(store, entry, OutboxState.QUEUED, entry.attempts + 1, error, policy, now,
                       report)


async def flush(store: OutboxStore, mailer: Mailer, locks: SourceLocks, policy: RetryPolicy,
                now: datetime, *, force: bool = True, limit: int = BATCH) -> FlushReport:
    """One sending round under the lock: recover a dead sender's mail, then send what
    is due (`force`: every queued mail, backoff or not). Each mail is tried at most
    once per round."""
    report = FlushReport()
    if not await asyncio.to_thread(locks.try_acquire, LOCK_KEY):
        report.locked = True
        return report
    try:
        await asyncio.to_thread(recover_in_flight, store, policy, now, report)
        await send_due(store, mailer, policy, now, force=force, limit=limit, report=report)
    finally:
        await asyncio.to_thread(locks.release, LOCK_KEY)
    return report


async def run_outbox(store: OutboxStore, mailer: Mailer, locks: SourceLocks,
                     policy: RetryPolicy, *, clock: Callable[[], datetime],
                     stop: asyncio.Event, interval: float = 30.0,
                     wake: asyncio.Event | None = None) -> None:
    """The daemon's sender: a round every `interval` seconds (sooner when `wake` is
    set, e.g. right after a digest was queued) until `stop` is set. A failing
    round is logged and retried; it never ends the loop."""
    while not stop.is_set():
        try:
            report = await flush(store, mailer, locks, policy, clock(), force=False)
            if report.sent or report.held or report.failed or report.session_error:
                log.info("%s", report.summary())
        except Exception:
            log.exception("outbox: sending round failed; retrying in %.0f s", interval)
        waiters = [asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        _, pending = await asyncio.wait(waiters, timeout=interval,
                                        return_when=asyncio.FIRST_COMPLETED)
        for w in pending:
            w.cancel()
        if wake is not None:
            wake.clear()
