"""Email commands: `reviewbot: <verb> ...` lines in a mail, parsed. Pure.

    reviewbot: snooze <series> 7d          (h, d or w; at most 90 days)
    reviewbot: claim <series>
    reviewbot: release <series>
    reviewbot: assign <series> <person>
    reviewbot: state <series> changes-requested
    reviewbot: stop [<series>]             no more reminders to me (for that series, or all)

<series> is any Message-ID of the series (with or without <>) or a lore link to
one. Left out (`reviewbot: claim`), it means the series of the reminder or
digest row the mail answers: `series_ref` is None and the executor resolves it
from In-Reply-To (OutboxStore.by_message_id). `stop` without a series means all.

Only lines that start with `reviewbot:` count: quoted lines (`> reviewbot:`),
piped ones and everything after the signature separator (`-- `) never do.
Parsing says nothing about who may do what: authenticity is checked by the
receiving service (DKIM), entitlement by authz.authorize().
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from reviewbot.core.mail.body import body_parts
from reviewbot.core.mail.headers import (
    decode_header_block,
    decode_text,
    parse_header_block,
    split_headers,
)
from reviewbot.core.mail.parse import parse_message
from reviewbot.core.notify.message import ThreadRef

PREFIX = "reviewbot:"
VERBS = ("snooze", "claim", "release", "assign", "state", "stop")
ALIASES = {"no-reminders": "stop", "unsnooze": None}  # None: known word, not supported
# What `state` may set by mail; the executor maps them to backlog actions.
STATES = ("changes-requested", "deferred", "rejected", "archived", "open")
MAX_SNOOZE = timedelta(days=90)
MAX_COMMANDS = 20  # per mail; more is a mistake or abuse

_DURATION = re.compile(r"(\d{1,4})\s*(h|hours?|d|days?|w|weeks?)", re.IGNORECASE)
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class EmailCommand:
    """One command, ready for the service that executes it (after authorize())."""

    verb: str  # one of VERBS
    series_ref: str | None  # a Message-ID without <>; None: the answered mail's series (stop: all)
    args: tuple[str, ...]  # snooze: ("7d",); assign: (person address,); state: (state,)
    actor: str  # the authenticated sender's address, lower-cased
    message_id: str  # of the mail that carried it
    line: str  # as written, for the acknowledgement
    duration: timedelta | None = None  # snooze only


@dataclass(frozen=True, slots=True)
class CommandSyntaxError:
    """A `reviewbot:` line that is not a valid command; acknowledged with the reason."""

    line: str
    reason: str


@dataclass(frozen=True, slots=True)
class CommandMail:
    """What the receiving service needs from a mail that may carry commands."""

    message_id: str
    sender: str  # From address, lower-cased
    sender_name: str
    subject: str
    date: datetime
    in_reply_to: str | None
    references: tuple[str, ...]
    automatic: bool  # Auto-Submitted, or a known bot: never obeyed, never answered
    commands: tuple[EmailCommand, ...]
    errors: tuple[CommandSyntaxError, ...]
    header_list: tuple[tuple[str, str], ...]  # every header in order, unfolded

    def all_headers(self, name: str) -> list[str]:
        """Every value of header `name`, topmost first (Authentication-Results)."""
        low = name.lower()
        return [v for n, v in self.header_list if n.lower() == low]

    @property
    def thread(self) -> ThreadRef:
        return ThreadRef(self.message_id, self.subject, self.references)

    @property
    def has_lines(self) -> bool:
        return bool(self.commands or self.errors)


def command_lines(text: str) -> list[str]:
    """The unquoted `reviewbot:` lines of a body, before any signature."""
    out = []
    for line in text.split("\n"):
        if line.rstrip("\r") == "-- ":
            break
        stripped = line.strip()
        if stripped.lower().startswith(PREFIX):
            out.append(stripped)
    return out


def series_ref(token: str) -> str | None:
    """A Message-ID from `<id>`, `id` or a lore/msgid.link URL; None if it is neither."""
    token = token.strip()
    if "://" in token:
        segments = [unquote(s) for s in urlsplit(token).path.split("/") if s]
        found = [s for s in segments if "@" in s]
        return found[-1].strip("<>") if found else None
    token = token.removeprefix("<").removesuffix(">")
    if "@" in token and " " not in token and not token.startswith("@") \
            and not token.endswith("@"):
        return token
    return None


def parse_duration(text: str) -> timedelta | None:
    m = _DURATION.fullmatch(text.strip())
    if m is None:
        return None
    return int(m.group(1)) * _UNIT[m.group(2)[0].lower()]


def parse_command(line: str, actor: str, message_id: str) -> EmailCommand | CommandSyntaxError:
    """One `reviewbot: ...` line."""
    words = line[len(PREFIX):].split()
    if not words:
        return CommandSyntaxError(line, "no command after 'reviewbot:'")
    verb, rest = words[0].lower(), words[1:]
    if verb in ALIASES:
        alias = ALIASES[verb]
        if alias is None:
            return CommandSyntaxError(line, f"'{verb}' is not supported by mail")
        verb = alias
    if verb not in VERBS:
        return CommandSyntaxError(line, f"unknown command '{words[0]}' "
                                  f"(known: {', '.join(VERBS)})")

    def made(ref: str | None, args: tuple[str, ...] = (),
             duration: timedelta | None = None) -> EmailCommand:
        return EmailCommand(verb, ref, args, actor.lower(), message_id, line, duration)

    ref = series_ref(rest[0]) if rest else None
    if verb == "assign":
        if ref is not None and len(rest) > 1:
            rest = rest[1:]
        else:
            ref = None
        person = parseaddr(" ".join(rest))[1].lower()
        if "@" not in person:
            return CommandSyntaxError(line, "assign needs the reviewer's email address")
        return made(ref, (person,))
    if ref is not None:
        rest = rest[1:]
    elif rest and ("@" in rest[0] or "://" in rest[0]):
        return CommandSyntaxError(line, f"{rest[0]!r} is not a Message-ID or lore link")
    if verb == "snooze":
        if len(rest) != 1 or (duration := parse_duration(rest[0])) is None:
            return CommandSyntaxError(line, "snooze needs a duration like 7d (h, d or w)")
        if not timedelta(0) < duration <= MAX_SNOOZE:
            return CommandSyntaxError(line, f"snooze for at most {MAX_SNOOZE.days} days")
        return made(ref, (rest[0].lower(),), duration)
    if verb == "state":
        if len(rest) != 1 or rest[0].lower() not in STATES:
            return CommandSyntaxError(line, f"state needs one of {', '.join(STATES)}")
        return made(ref, (rest[0].lower(),))
    if verb == "stop" and rest == ["all"]:
        rest = []
    if rest:
        return CommandSyntaxError(line, f"unexpected {' '.join(rest)!r} after {verb}")
    return made(ref)


def parse_commands(text: str, actor: str, message_id: str
                   ) -> tuple[tuple[EmailCommand, ...], tuple[CommandSyntaxError, ...]]:
    commands: list[EmailCommand] = []
    errors: list[CommandSyntaxError] = []
    lines = command_lines(text)
    for line in lines[:MAX_COMMANDS]:
        result = parse_command(line, actor, message_id)
        (commands if isinstance(result, EmailCommand) else errors).append(result)  # type: ignore[arg-type]
    errors.extend(CommandSyntaxError(line, f"more than {MAX_COMMANDS} commands in one mail")
                  for line in lines[MAX_COMMANDS:])
    return tuple(commands), tuple(errors)


def read_command_mail(raw: bytes) -> CommandMail:
    """Parse a mail for commands. Raises core.mail.parse.MalformedMessage on junk."""
    message = parse_message(raw)
    warnings: list[str] = []
    head, body = split_headers(raw)
    header_text = decode_header_block(head, warnings)
    headers = parse_header_block(header_text)
    parts = body_parts(raw, body, headers.get("content-type", ""),
                       headers.get("content-transfer-encoding", ""), warnings)
    text = "\n".join(decode_text(p.data, p.charset, warnings) for p in parts)
    commands, errors = parse_commands(text, message.from_email, message.message_id)
    return CommandMail(
        message_id=message.message_id, sender=message.from_email,
        sender_name=message.from_name, subject=message.subject.raw, date=message.date,
        in_reply_to=message.in_reply_to, references=tuple(message.references),
        automatic=message.is_bot, commands=commands, errors=errors,
        header_list=tuple(_header_list(header_text)))


def _header_list(text: str) -> list[tuple[str, str]]:
    """(name, unfolded value) for every header, in order (repeats kept)."""
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        elif ":" in line:
            name, _, value = line.partition(":")
            out.append((name.strip(), value.strip()))
    return out


def lines_of(items: Sequence[EmailCommand | CommandSyntaxError]) -> list[str]:
    return [i.line for i in items]
