"""The acknowledgement of email commands: a short private reply in the thread. Pure.

The executor (the backlog service) turns each command into a CommandOutcome;
syntax errors become outcomes directly (syntax_outcomes). The reply quotes each
command line with "> " (so a reply to the reply never re-runs it) and says
what happened under it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formataddr

from reviewbot.core.notify.commands import VERBS, CommandMail
from reviewbot.core.notify.message import Draft, wrap
from reviewbot.core.notify.outbox import OutboxKey

ACK = "ack"


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    line: str  # the command line as written
    done: bool
    text: str  # what happened ("snoozed until 2025-06-08 (INFINIBAND SUBSYSTEM)"), or why not


def syntax_outcomes(mail: CommandMail) -> list[CommandOutcome]:
    return [CommandOutcome(e.line, False, e.reason) for e in mail.errors]


def ack_key(mail: CommandMail) -> OutboxKey:
    """One acknowledgement per command mail and sender."""
    return OutboxKey(ACK, "mail", mail.sender, mail.message_id)


def quote(line: str) -> str:
    """`line` quoted with "> ", wrapped to 78 columns (a very long token is cut)."""
    return textwrap.fill(line, width=78, initial_indent="> ", subsequent_indent="> ",
                         break_on_hyphens=False)


def ack_draft(mail: CommandMail, outcomes: Sequence[CommandOutcome]) -> Draft:
    """The reply to `mail` (To its sender only) saying what each command did."""
    done = sum(o.done for o in outcomes)
    lines = [wrap(f"reviewbot read {len(outcomes)} command{'s' if len(outcomes) != 1 else ''}"
                  f" in your mail; {done} done, {len(outcomes) - done} not.")]
    for o in outcomes:
        lines.append("")
        lines.append(quote(o.line))
        lines.append(wrap(("Done: " if o.done else "Not done: ") + o.text))
    lines += [
        "",
        "-- ",
        wrap("This is an automatic reply from reviewbot. Commands are lines "
             "starting with \"reviewbot:\" outside quotes: "
             + ", ".join(VERBS) + "."),
    ]
    return Draft(key=ack_key(mail), to=(_to(mail),), subject=mail.subject,
                 body="\n".join(lines), reply_to=mail.thread)


def _to(mail: CommandMail) -> str:
    return formataddr((mail.sender_name, mail.sender)) if mail.sender_name else mail.sender
