"""Receiving email commands: is this mail a command we may obey at all?

`receive_command_mail` reads a mail (from an ingestion source or the commands
maildir) and returns its commands only when:

1. it has unquoted `reviewbot:` lines (most mail has none: nothing else is done);
2. it is not automatic (Auto-Submitted, a bot, or ourselves: no mail loops);
3. its Date is recent (an archive backfill never replays last year's commands);
4. it is authentic: a DKIM signature that verifies for the From domain, or,
   when the settings trust a local relay, that relay's Authentication-Results
   saying dkim=pass for that domain;
5. it was not obeyed before (replay: the same signature or Message-ID again).

Each refusal is logged with the reason. Authorization (M:/R:) and execution
are the caller's: core.notify.authz.authorize, then the backlog service; then
core.notify.ack.ack_draft for the reply. Blocking (DNS): run it in a thread.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from reviewbot.core.mail.parse import MalformedMessage
from reviewbot.core.notify.authn import aligned, from_domain, relay_dkim_domains
from reviewbot.core.notify.commands import CommandMail, read_command_mail
from reviewbot.ports import CommandLog, DkimVerifier

log = logging.getLogger(__name__)


class Refusal(StrEnum):
    UNREADABLE = "unreadable"
    AUTOMATIC = "automatic"
    STALE = "stale"
    UNSIGNED = "unsigned"
    FORGED = "forged"  # signed, but no signature verifies
    WRONG_DOMAIN = "wrong-domain"  # verifies, but for another domain than From's
    UNVERIFIED_RELAY = "unverified-relay"  # the trusted relay did not say dkim=pass
    REPLAYED = "replayed"


@dataclass(frozen=True, slots=True)
class CommandPolicy:
    own_addresses: frozenset[str]  # the bot's From (and aliases): never obeyed
    trusted_relay: str | None = None  # authserv-id; None: verify DKIM here
    max_age: timedelta = timedelta(days=7)
    max_ahead: timedelta = timedelta(hours=2)  # a Date this far in the future is refused


@dataclass(frozen=True, slots=True)
class Received:
    """accepted: obey `mail.commands` (after authorize); refused: `refusal` says why;
    neither (no command lines): nothing to do."""

    mail: CommandMail | None
    accepted: bool = False
    refusal: Refusal | None = None
    detail: str = ""

    @property
    def answer(self) -> bool:
        """Acknowledge? Only authenticated mail: a reply to a forged From is backscatter."""
        return self.accepted


def receive_command_mail(raw: bytes, now: datetime, verifier: DkimVerifier,
                         seen: CommandLog, policy: CommandPolicy) -> Received:
    try:
        mail = read_command_mail(raw)
    except MalformedMessage as exc:
        if b"reviewbot:" in raw.lower():
            return _refuse(None, Refusal.UNREADABLE, exc.reason)
        return Received(None)
    if not mail.has_lines:
        return Received(mail)
    if mail.automatic or mail.sender in policy.own_addresses:
        return _refuse(mail, Refusal.AUTOMATIC, "automatic mail is never obeyed", logging.INFO)
    if mail.date < now - policy.max_age or mail.date > now + policy.max_ahead:
        return _refuse(mail, Refusal.STALE, f"dated {mail.date:%Y-%m-%d %H:%M}Z, outside "
                       f"{policy.max_age.days} days before now", logging.INFO)
    domain = from_domain(mail)
    if policy.trusted_relay is not None:
        domains = relay_dkim_domains(mail.all_headers("Authentication-Results"),
                                     policy.trusted_relay)
        if domains is None or not any(aligned(domain, d) for d in domains):
            return _refuse(mail, Refusal.UNVERIFIED_RELAY,
                           f"no dkim=pass for {domain} from {policy.trusted_relay}")
        fingerprint = "msgid:" + mail.message_id
    else:
        check = verifier.verify(raw)
        if check.signatures == 0:
            return _refuse(mail, Refusal.UNSIGNED, "no DKIM signature")
        good = [fp for d, fp in check.passed if aligned(domain, d)]
        if not good:
            if check.passed:
                return _refuse(mail, Refusal.WRONG_DOMAIN, "signed by "
                               + ", ".join(d for d, _ in check.passed) + f", not {domain}")
            return _refuse(mail, Refusal.FORGED, "; ".join(check.errors) or "does not verify")
        fingerprint = "dkim:" + good[0]
    key = hashlib.sha256(fingerprint.encode()).hexdigest()
    if not seen.remember(key, mail.message_id, mail.sender, now):
        return _refuse(mail, Refusal.REPLAYED, "this command mail was obeyed before")
    log.info("email commands from %s in <%s>: %d (+%d malformed)", mail.sender,
             mail.message_id, len(mail.commands), len(mail.errors))
    return Received(mail, accepted=True)


def _refuse(mail: CommandMail | None, why: Refusal, detail: str,
            level: int = logging.WARNING) -> Received:
    who = f"{mail.sender} <{mail.message_id}>" if mail else "unreadable mail"
    log.log(level, "email command refused (%s) from %s: %s", why.value, who, detail)
    return Received(mail, refusal=why, detail=detail)
