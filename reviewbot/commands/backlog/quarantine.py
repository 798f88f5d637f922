"""`reviewbot quarantine [--json]` and `reviewbot quarantine show ID`.

Mail the parser refused is kept, with its reason, and retried by every
`reviewbot reparse` (after a parser fix). The listing groups it by reason with
counts; `show` prints one mail's raw bytes, exactly as received (mail from an
epoch is read back from the epoch by reference).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from reviewbot.adapters.sql import ops
from reviewbot.commands.db import CommandError, open_app, run_guarded

PER_REASON = 5  # mails listed under each reason without --all


def _mail_json(m: ops.Quarantined) -> dict[str, Any]:
    return {"id": m.id, "list": m.list_name, "message_id": m.message_id,
            "received": m.received.isoformat() if m.received else None, "origin": m.origin}


def _list(args: argparse.Namespace) -> int:
    app = open_app(args, catch_up=False)
    reasons = ops.quarantine_reasons(app.engine, None if args.all or args.json else PER_REASON)
    total = sum(r.count for r in reasons)
    if args.json:
        print(json.dumps({"total": total, "reasons": [
            {"reason": r.reason, "count": r.count, "mails": [_mail_json(m) for m in r.mails]}
            for r in reasons]}, indent=2, ensure_ascii=False))
        return 0
    print(f"{total} quarantined mail{'s' if total != 1 else ''}"
          + (" (`reviewbot reparse` retries them; `quarantine show ID` prints one)"
             if total else ""))
    for r in reasons:
        print(f"{r.count:>6}  {r.reason}")
        for m in r.mails:
            when = m.received.date().isoformat() if m.received else "no date"
            print(f"        #{m.id} {m.list_name} {when} <{m.message_id or '?'}>")
        if len(r.mails) < r.count:
            print(f"        ... and {r.count - len(r.mails)} more (--all lists them)")
    return 0


def _show(args: argparse.Namespace) -> int:
    app = open_app(args, catch_up=False)
    found = ops.find_quarantined(app.engine, args.id)
    if not found:
        raise CommandError(f"no quarantined mail {args.id!r}: give its number (#N from "
                           "`reviewbot quarantine`), Message-ID or sha256 prefix")
    if len(found) > 1:
        raise CommandError(f"{args.id!r} names {len(found)} quarantined mails ("
                           + ", ".join(f"#{m.id}" for m in found[:10]) + "): give the number")
    mail = found[0]
    raw = ops.quarantined_raw(app.engine, [mail.id]).get(mail.id)
    if raw is None:
        reader = app.raw_reader()
        try:
            raw = reader.read([mail.origin]).get(mail.origin)
        finally:
            reader.close()
    if raw is None:
        raise CommandError(f"#{mail.id} is kept by reference ({mail.origin}) and its epoch is "
                           "not where the last ingest found it: ingest the source again")
    print(f"# quarantined #{mail.id}: {mail.reason}", file=sys.stderr)
    sys.stdout.flush()
    sys.stdout.buffer.write(raw)
    sys.stdout.buffer.flush()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("quarantine", help="mail the parser refused: reasons and counts",
                       description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true",
                   help="machine-readable output (every mail of every reason)")
    p.add_argument("--all", action="store_true",
                   help=f"list every mail under each reason (default: the newest {PER_REASON})")
    p.set_defaults(func=run_guarded(_list))
    actions = p.add_subparsers(dest="quarantine_command", metavar="ACTION")
    show = actions.add_parser("show", help="print one quarantined mail's raw bytes")
    show.add_argument("id", metavar="ID",
                      help="its number (#N in the listing), Message-ID or sha256 prefix")
    show.set_defaults(func=run_guarded(_show))
