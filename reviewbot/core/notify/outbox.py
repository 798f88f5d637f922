"""The outbox's vocabulary: idempotency keys, states, and the retry schedule. Pure.

Every mail is recorded under an OutboxKey before it is sent, so planning the
same mail twice (a restart, a second daemon round) finds the row and sends
nothing new. The key travels in the `X-Reviewbot-Key` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class OutboxState(StrEnum):
    QUEUED = "queued"  # waiting for its next attempt
    SENDING = "sending"  # one SMTP transaction in flight (found on restart: in doubt)
    SENT = "sent"  # the server answered 250 to the end of DATA
    HELD = "held"  # refused for good (5xx), or in doubt under `in_doubt = "hold"`
    FAILED = "failed"  # temporary failures until max_attempts: given up


class InDoubt(StrEnum):
    """What to do with a mail found in "sending" after a crash: the server may have
    accepted it (the one window no mailer can close) or not."""

    RESEND = "resend"  # send again with the same Message-ID (a duplicate at worst)
    HOLD = "hold"  # hold it for a human (a lost mail at worst)


def _escape(part: str) -> str:
    # ":" separates the parts; escaping it (and "%") keeps distinct keys distinct.
    return part.replace("%", "%25").replace(":", "%3A").replace("\n", " ").strip()


@dataclass(frozen=True, slots=True)
class OutboxKey:
    """(kind, subsystem or series, recipient, period): one mail at most per key.

    kind: "digest", "nag", "escalation", "ack", ...; scope: the subsystem's
    name or the series' id; recipient: the main addressee's address; period:
    what makes it new ("2025-06-01" for a daily digest, the command's
    Message-ID for an acknowledgement).
    """

    kind: str
    scope: str
    recipient: str
    period: str

    def __str__(self) -> str:
        return ":".join(_escape(p) for p in (self.kind, self.scope, self.recipient.lower(),
                                              self.period))


DEFAULT_MAX_ATTEMPTS = 30  # ~1 day at the default delays: 1, 2, 4, ... 32 min, then hourly


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff for temporary failures (server down, 4xx)."""

    in_doubt: InDoubt = InDoubt.RESEND
    first_delay: timedelta = timedelta(minutes=1)
    max_delay: timedelta = timedelta(hours=1)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1-based)."""
        doublings = min(max(attempts - 1, 0), 30)  # 2**30 minutes is past any cap
        return min(self.first_delay * (1 << doublings), self.max_delay)

    def after_failure(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after a temporary failure, or None: give up (failed)."""
        if attempts >= self.max_attempts:
            return None
        return now + self.delay(attempts)
