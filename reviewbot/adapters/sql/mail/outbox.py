"""The durable outbox (OutboxStore) and the log of obeyed command mails (CommandLog).

Every state change is its own committed transaction, made with a compare-and-
set on the state (`UPDATE ... WHERE id = ? AND state = ?`), so two senders can
never both claim a mail, and a restart sees exactly what was committed. The
unique key makes enqueueing idempotent even when two processes race.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, Row
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from reviewbot.adapters.sql.schema.tables import AwareDateTime
from reviewbot.core.notify.message import OutgoingMail
from reviewbot.core.notify.outbox import OutboxState
from reviewbot.ports import OutboxEntry


def _aware(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(AwareDateTime(), nullable=nullable, index=index))


class OutboxRow(SQLModel, table=True):
    """One mail, recorded before it is sent."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # str(OutboxKey): the idempotency key, also X-Reviewbot-Key
    kind: str = Field(index=True)
    scope: str  # subsystem or series
    recipient: str = Field(index=True)
    period: str
    message_id: str = Field(unique=True)
    sender: str
    recipients: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # newline-separated
    subject: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))
    raw: bytes = Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))
    state: str = Field(index=True)  # core.notify.outbox.OutboxState
    attempts: int = Field(default=0)
    next_attempt: datetime | None = _aware(nullable=True)
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    reply: str | None = Field(default=None, sa_column=sa.Column(sa.Text(), nullable=True))
    created: datetime = _aware(index=True)
    updated: datetime = _aware()
    sent_at: datetime | None = _aware(nullable=True)


class MailCommandRow(SQLModel, table=True):
    """A command mail that was obeyed: its signature's fingerprint and Message-ID."""

    __tablename__ = "mail_command"

    fingerprint: str = Field(primary_key=True)  # sha256 of the verified DKIM b= (or Message-ID)
    message_id: str = Field(unique=True)
    actor: str
    received: datetime = _aware()


OUT: sa.Table = OutboxRow.__table__  # type: ignore[attr-defined]
CMD: sa.Table = MailCommandRow.__table__  # type: ignore[attr-defined]
_LISTED = [c for c in OUT.c if c.name != "raw"]


def _entry(r: Row[Any]) -> OutboxEntry:
    m = r._mapping
    return OutboxEntry(
        id=m["id"], key=m["key"], kind=m["kind"], scope=m["scope"], recipient=m["recipient"],
        period=m["period"], message_id=m["message_id"], sender=m["sender"],
        recipients=tuple(x for x in m["recipients"].split("\n") if x), subject=m["subject"],
        state=OutboxState(m["state"]), attempts=m["attempts"], next_attempt=m["next_attempt"],
        last_error=m["last_error"], created=m["created"], updated=m["updated"],
        sent_at=m["sent_at"], reply=m["reply"], raw=m.get("raw") or b"")


class SqlOutbox:
    """OutboxStore and CommandLog (reviewbot/ports.py) over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def enqueue(self, mail: OutgoingMail, now: datetime) -> tuple[OutboxEntry, bool]:
        key = str(mail.key)
        existing = self.find(key, with_raw=True)
        if existing is not None:
            return existing, False
        values = {"key": key, "kind": mail.key.kind, "scope": mail.key.scope,
                  "recipient": mail.key.recipient.lower(), "period": mail.key.period,
                  "message_id": mail.message_id, "sender": mail.sender,
                  "recipients": "\n".join(mail.recipients), "subject": mail.subject,
                  "raw": mail.raw, "state": OutboxState.QUEUED.value, "attempts": 0,
                  "next_attempt": now, "created": now, "updated": now}
        try:
            with self.engine.begin() as conn:
                conn.execute(sa.insert(OUT).values(**values))
        except IntegrityError:
            # Another process enqueued the same key between our look and our insert.
            raced = self.find(key, with_raw=True)
            if raced is None:
                raise
            return raced, False
        created = self.find(key, with_raw=True)
        assert created is not None
        return created, True

    def due(self, now: datetime | None, limit: int) -> list[OutboxEntry]:
        q = sa.select(OUT).where(OUT.c.state == OutboxState.QUEUED.value)
        if now is not None:
            q = q.where(sa.or_(OUT.c.next_attempt.is_(None), OUT.c.next_attempt <= now))
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(q.order_by(OUT.c.id).limit(limit))]

    def in_state(self, state: OutboxState) -> list[OutboxEntry]:
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(
                sa.select(OUT).where(OUT.c.state == state.value).order_by(OUT.c.id))]

    def transition(self, entry_id: int, expect: OutboxState, to: OutboxState, now: datetime, *,
                   attempts: int | None = None, next_attempt: datetime | None = None,
                   error: str | None = None, reply: str | None = None) -> bool:
        values: dict[str, Any] = {"state": to.value, "updated": now,
                                  "next_attempt": next_attempt if to is OutboxState.QUEUED
                                  else None}
        if attempts is not None:
            values["attempts"] = attempts
        if error is not None or to is OutboxState.SENT:
            values["last_error"] = error
        if to is OutboxState.SENT:
            values["sent_at"] = now
            values["reply"] = reply
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(OUT).where(OUT.c.id == entry_id,
                                                     OUT.c.state == expect.value)
                                .values(**values)).rowcount
        return bool(done == 1)

    def entries(self, states: Sequence[OutboxState] | None = None,
                with_raw: bool = False) -> list[OutboxEntry]:
        q = sa.select(OUT) if with_raw else sa.select(*_LISTED)
        if states:
            q = q.where(OUT.c.state.in_([s.value for s in states]))
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(q.order_by(OUT.c.id))]

    def find(self, ref: str, with_raw: bool = False) -> OutboxEntry | None:
        mid = ref.strip().removeprefix("<").removesuffix(">")
        q = sa.select(OUT) if with_raw else sa.select(*_LISTED)
        with self.engine.connect() as conn:
            row = conn.execute(q.where(sa.or_(OUT.c.key == ref, OUT.c.message_id == mid))
                               .order_by(OUT.c.id).limit(1)).first()
        return _entry(row) if row is not None else None

    def next_due(self) -> datetime | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.min(OUT.c.next_attempt, type_=AwareDateTime()))
                                .where(OUT.c.state == OutboxState.QUEUED.value)).scalar()

    def kinds_since(self, kinds: Sequence[str], since: datetime) -> list[OutboxEntry]:
        """Rows of these kinds recorded since `since` (any state but failed), oldest first:
        the reminder planner's send log."""
        q = (sa.select(*_LISTED).where(OUT.c.kind.in_(list(kinds)), OUT.c.created >= since,
                                       OUT.c.state != OutboxState.FAILED.value)
             .order_by(OUT.c.id))
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(q)]

    # -- CommandLog -------------------------------------------------------------------

    def remember(self, fingerprint: str, message_id: str, actor: str, now: datetime) -> bool:
        try:
            with self.engine.begin() as conn:
                seen = conn.execute(sa.select(CMD.c.fingerprint).where(sa.or_(
                    CMD.c.fingerprint == fingerprint, CMD.c.message_id == message_id))).first()
                if seen is not None:
                    return False
                conn.execute(sa.insert(CMD).values(fingerprint=fingerprint,
                                                   message_id=message_id, actor=actor,
                                                   received=now))
        except IntegrityError:
            return False  # a concurrent copy won the race
        return True
