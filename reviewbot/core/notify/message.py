"""Every outgoing mail is built here, the kernel's way (conventions.md §3). Pure.

A template writes a Draft (recipients, subject, body, the thread it answers);
build_message() turns it into RFC 5322 bytes: one text/plain utf-8 part, our
own Message-ID, Date, Auto-Submitted, X-Mailer and X-Reviewbot-Key, threading
headers, and no List-*/Precedence. Lines that b4 or reviewbot would read as
trailers are prefixed with "| " (as the kernel test robot does). The result is
run through etiquette.check_message() and refused if anything is wrong, so no
template can send a mail that breaks the rules.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, getaddresses
from typing import Any
from urllib.parse import quote

from reviewbot.core.notify.addresses import address_of, domain_of
from reviewbot.core.notify.etiquette import (
    KEY_HEADER,
    MARKER,
    RE_PREFIX,
    check_message,
    looks_like_trailer,
)
from reviewbot.core.notify.outbox import OutboxKey

PROSE_WIDTH = 72  # conventions.md §3: prose wrapped at 72 columns


class EtiquetteError(ValueError):
    """A draft that would break the outgoing-mail rules; `problems` lists each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True)
class ThreadRef:
    """The mail we answer: its Message-ID (no <>), Subject and References (oldest first)."""

    message_id: str
    subject: str
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Draft:
    """What a template produces. Addresses as `Name <a@x>` or `a@x`."""

    key: OutboxKey
    to: tuple[str, ...]
    subject: str  # for a reply: the original subject (build_message adds one "Re: ")
    body: str
    cc: tuple[str, ...] = ()
    reply_to: ThreadRef | None = None  # the thread to write in


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A built mail, ready for the outbox: what the SMTP envelope and the row need."""

    key: OutboxKey
    message_id: str  # without <>
    sender: str  # envelope MAIL FROM: the configured From's address
    recipients: tuple[str, ...]  # envelope RCPT TO: To and Cc addresses, each once
    subject: str
    raw: bytes  # CRLF line ends, 7-bit clean


class _Policy(EmailPolicy):
    """SMTP policy that never folds X-Reviewbot-Key: a long key would otherwise be
    RFC 2047-encoded, and the key should stay greppable in the raw mail."""

    def _fold(self, name: str, value: Any, refold_binary: bool = False) -> str:
        if name.lower() == KEY_HEADER.lower() and str(value).isascii():
            return f"{name}: {value}{self.linesep}"
        return str(super()._fold(name, value, refold_binary))  # type: ignore[misc]


_POLICY = _Policy(linesep="\r\n")




def message_id_for(key: OutboxKey, domain: str) -> str:
    """Our Message-ID for `key` (without <>): the same key always gets the same one,
    so a resent mail is recognisably the same mail."""
    kind = re.sub(r"[^a-z0-9-]", "-", key.kind.lower()) or "mail"
    digest = hashlib.sha256(str(key).encode()).hexdigest()[:24]
    return f"{MARKER}.{kind}.{digest}@{domain}"


def reply_subject(original: str) -> str:
    """`Re: <original>`, never `Re: Re:` (any stack of Re:/RE:/Re[2]: becomes one)."""
    return "Re: " + RE_PREFIX.sub("", original).strip()


def lore_link(base: str, message_id: str) -> str:
    """`<lore>/r/<message-id>`, the Message-ID URL-quoted (`/` -> %2F)."""
    mid = message_id.strip().removeprefix("<").removesuffix(">")
    return f"{base.rstrip('/')}/r/{quote(mid, safe='@+=')}"


def wrap(text: str, width: int = PROSE_WIDTH, indent: str = "") -> str:
    """One paragraph filled to `width`; URLs and long words are never broken."""
    return textwrap.fill(" ".join(text.split()), width=width, initial_indent=indent,
                         subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)


def defuse_trailers(body: str) -> str:
    """Prefix "| " to every line that looks like a trailer, so nobody picks it up."""
    return "\n".join("| " + line if looks_like_trailer(line) else line
                     for line in body.split("\n"))


def build_message(draft: Draft, *, sender: str, now: datetime, version: str) -> OutgoingMail:
    """The finished mail for `draft`, or EtiquetteError. `sender` is the configured
    From (`reviewbot <bot@example.org>`); `now` (aware) is its Date."""
    domain = domain_of(sender)
    if not domain:
        raise EtiquetteError([f"From {sender!r} has no address"])
    if now.tzinfo is None:
        raise EtiquetteError(["Date needs an aware datetime"])
    mid = message_id_for(draft.key, domain)
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(draft.to)
    if draft.cc:
        msg["Cc"] = ", ".join(draft.cc)
    thread = draft.reply_to
    msg["Subject"] = reply_subject(draft.subject) if thread else " ".join(draft.subject.split())
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{mid}>"
    if thread is not None:
        target = thread.message_id.strip("<>")
        refs = [r.strip("<>") for r in thread.references if r.strip("<>") != target]
        msg["In-Reply-To"] = f"<{target}>"
        msg["References"] = " ".join(f"<{r}>" for r in [*refs, target])
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Mailer"] = f"reviewbot/{version}"
    msg[KEY_HEADER] = str(draft.key)
    body = defuse_trailers(draft.body.rstrip("\n")) + "\n"
    msg.set_content(body, charset="utf-8", cte="7bit" if body.isascii() else "quoted-printable")
    raw = msg.as_bytes()
    problems = check_message(raw)
    if problems:
        raise EtiquetteError(problems)
    seen: dict[str, str] = {}
    for _, addr in getaddresses([*draft.to, *draft.cc]):
        if addr:
            seen.setdefault(addr.lower(), addr)
    return OutgoingMail(draft.key, mid, address_of(sender), tuple(seen.values()),
                        str(msg["Subject"]), raw)
