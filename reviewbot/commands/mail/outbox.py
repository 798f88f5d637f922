"""`reviewbot outbox`: the mail reviewbot recorded, and sending it.

    reviewbot outbox [--json] [--state STATE]   every mail: state, key, attempts, last error
    reviewbot outbox flush                      send every queued mail now (exit 1 if any
                                                was held, failed, or the server was unreachable)
    reviewbot outbox retry KEY|MESSAGE-ID       queue a held or failed mail again

Sending needs `[mail] smtp` in the settings; the password comes from
$REVIEWBOT_SMTP_PASSWORD or `[mail] password_file`. The daemon sends
continuously (service.mail.outbox.run_outbox); `flush` is for cron and for now.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from datetime import UTC, datetime
from typing import Any

from reviewbot.adapters.mail.smtp import SmtpMailer
from reviewbot.adapters.sql import locks
from reviewbot.adapters.sql.mail.outbox import SqlOutbox
from reviewbot.commands.db import CommandError, open_store, run_guarded, settings
from reviewbot.config import ConfigError, MailSettings
from reviewbot.core.notify.outbox import OutboxState
from reviewbot.ports import OutboxEntry
from reviewbot.service.mail.outbox import flush

LISTED = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.SENT, OutboxState.HELD,
          OutboxState.FAILED)


def _when(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def entry_json(e: OutboxEntry) -> dict[str, Any]:
    """The stable JSON shape of one `outbox --json` row (keys are only ever added)."""
    return {"key": e.key, "kind": e.kind, "scope": e.scope, "recipient": e.recipient,
            "period": e.period, "state": e.state.value, "attempts": e.attempts,
            "next_attempt": _when(e.next_attempt), "last_error": e.last_error,
            "message_id": e.message_id, "subject": e.subject, "to": list(e.recipients),
            "created": _when(e.created), "sent_at": _when(e.sent_at), "reply": e.reply}


def _list(args: argparse.Namespace) -> int:
    store = SqlOutbox(open_store(args).engine)
    states = [OutboxState(s) for s in args.state] if args.state else None
    rows = store.entries(states)
    counts = {s.value: sum(1 for e in rows if e.state is s) for s in LISTED}
    if args.json:
        print(json.dumps({"counts": counts, "mails": [entry_json(e) for e in rows]},
                         indent=2, ensure_ascii=False))
        return 0
    print("outbox: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    for e in rows:
        when = e.sent_at if e.state is OutboxState.SENT else e.next_attempt or e.updated
        stamp = f"{when:%Y-%m-%d %H:%M}Z" if when else ""
        print(f"{e.state.value:<8} {stamp:<17} x{e.attempts:<3} {e.key}")
        print(f"{'':<8} {e.subject}")
        if e.last_error:
            print(f"{'':<8} last error: {e.last_error}")
    return 0


def _mail_settings(args: argparse.Namespace) -> MailSettings:
    conf = settings(args)
    if conf.mail is None or conf.mail.smtp is None:
        raise CommandError("no [mail] smtp in the settings: add `[mail]` with `from` and "
                           "`smtp = \"smtp+starttls://user@host\"` (see deploy/"
                           "config.example.toml)")
    return conf.mail


def mailer_for(mail: MailSettings) -> SmtpMailer:
    """The SMTP mailer for `[mail]` (the daemon builds its own the same way)."""
    assert mail.smtp is not None
    try:
        return SmtpMailer(mail.smtp, mail.password(os.environ))
    except (ConfigError, ValueError) as exc:
        raise CommandError(str(exc)) from exc


def _flush(args: argparse.Namespace) -> int:
    mail = _mail_settings(args)
    mailer = mailer_for(mail)
    engine = open_store(args).engine
    report = asyncio.run(flush(SqlOutbox(engine), mailer, locks.for_engine(engine),
                               mail.retry_policy(), datetime.now(UTC), force=True,
                               limit=args.limit))
    print(report.summary())
    for key, error in report.held + report.failed:
        print(f"  {key}: {error}")
    return 0 if report.ok else 1


def _retry(args: argparse.Namespace) -> int:
    store = SqlOutbox(open_store(args).engine)
    entry = store.find(args.ref)
    if entry is None:
        raise CommandError(f"no mail with key or Message-ID {args.ref!r} in the outbox")
    if entry.state not in (OutboxState.HELD, OutboxState.FAILED):
        raise CommandError(f"{entry.key} is {entry.state.value}; only held or failed mail "
                           "is queued again")
    now = datetime.now(UTC)
    if not store.transition(entry.id, entry.state, OutboxState.QUEUED, now, attempts=0,
                            next_attempt=now, error=f"queued again by hand ({entry.last_error})"):
        raise CommandError(f"{entry.key} changed meanwhile; look again")
    print(f"queued again: {entry.key} (same Message-ID <{entry.message_id}>)")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("outbox", help="mail recorded for sending: list, flush, retry",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--state", action="append", choices=[s.value for s in LISTED],
                   help="only mail in this state (repeatable)")
    p.set_defaults(func=run_guarded(_list))
    actions = p.add_subparsers(dest="outbox_command", metavar="ACTION")
    f = actions.add_parser("flush", help="send every queued mail now")
    f.add_argument("--limit", type=int, default=10_000, help=argparse.SUPPRESS)
    f.set_defaults(func=run_guarded(_flush))
    r = actions.add_parser("retry", help="queue a held or failed mail again")
    r.add_argument("ref", metavar="KEY|MESSAGE-ID",
                   help="the mail's idempotency key or Message-ID (see `reviewbot outbox`)")
    r.set_defaults(func=run_guarded(_retry))
