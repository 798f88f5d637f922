"""Email commands with REAL DKIM signatures: signed by dkimpy with RSA keys made for the
test (openssl), verified through a DNS lookup function that serves the test keys.
Forged, unsigned, wrong-domain, stale and replayed commands are refused and logged."""

from __future__ import annotations

import base64
import logging
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import dkim
import pytest

from reviewbot.adapters.mail.dkim import DkimpyVerifier
from reviewbot.adapters.mail.maildir import CommandMaildir
from reviewbot.adapters.sql.mail.outbox import SqlOutbox
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.core.notify.ack import CommandOutcome, ack_draft
from reviewbot.core.notify.authz import Entitled, authorize
from reviewbot.core.notify.etiquette import check_message
from reviewbot.core.notify.message import build_message
from reviewbot.service.mail.mailcmd import CommandPolicy, Refusal, receive_command_mail
from reviewbot.service.mail.outbox import enqueue

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
SERIES = "20250104061519.2540178-1-kalesh-anakkur.purayil@broadcom.com"
POLICY = CommandPolicy(own_addresses=frozenset({"bot@example.org"}))


def _keypair(directory: Path, name: str) -> tuple[bytes, bytes]:
    """(PEM private key, DNS TXT record) for a fresh 2048-bit RSA key."""
    key = directory / f"{name}.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True,
                   capture_output=True)
    der = subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
                         check=True, capture_output=True).stdout
    return key.read_bytes(), b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


class Dns:
    """The injectable TXT lookup: answers for the test keys, records every question."""

    def __init__(self) -> None:
        self.records: dict[bytes, bytes] = {}
        self.asked: list[bytes] = []

    def __call__(self, name: bytes, timeout: int = 5) -> bytes | None:
        self.asked.append(name)
        return self.records.get(name)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[bytes, bytes]]:
    d = tmp_path_factory.mktemp("dkim")
    return {"kernel.org": _keypair(d, "kernel"), "evil.org": _keypair(d, "evil")}


@pytest.fixture
def dns(keys: dict[str, tuple[bytes, bytes]]) -> Dns:
    dns = Dns()
    dns.records[b"k2025._domainkey.kernel.org."] = keys["kernel.org"][1]
    dns.records[b"e1._domainkey.evil.org."] = keys["evil.org"][1]
    return dns


def command_mail(body: str = f"reviewbot: claim <{SERIES}>\n", *,
                 sender: str = "Leon Romanovsky <leon@kernel.org>", date: datetime = NOW,
                 mid: str = "cmd-1@kernel.org", extra: str = "") -> bytes:
    return (f"From: {sender}\nTo: reviewbot <bot@example.org>\n"
            f"Subject: Re: [reviewbot] reminder\nDate: {format_datetime(date)}\n"
            f"Message-ID: <{mid}>\nIn-Reply-To: <reviewbot.nag.1@example.org>\n{extra}\n"
            f"Hi,\n\n> reviewbot: stop\n{body}").encode()


Signer = Callable[..., bytes]


@pytest.fixture
def sign(keys: dict[str, tuple[bytes, bytes]]) -> Signer:
    def sign(raw: bytes, domain: str = "kernel.org", selector: str = "k2025",
             key_of: str | None = None) -> bytes:
        private = keys[key_of or domain][0]
        header = dkim.sign(raw, selector.encode(), domain.encode(), private,
                           include_headers=[b"from", b"to", b"subject", b"date",
                                            b"message-id", b"in-reply-to"])
        return bytes(header) + raw
    return sign


@pytest.fixture
def log(store: SqlStore) -> SqlOutbox:
    return SqlOutbox(store.engine)


def receive(raw: bytes, dns: Dns, log: SqlOutbox, policy: CommandPolicy = POLICY,
            now: datetime = NOW):  # type: ignore[no-untyped-def]
    return receive_command_mail(raw, now, DkimpyVerifier(dns), log, policy)


def test_a_signed_command_is_accepted(sign: Signer, dns: Dns, log: SqlOutbox) -> None:
    got = receive(sign(command_mail()), dns, log)
    assert got.accepted and got.answer and got.refusal is None
    assert got.mail is not None
    (cmd,) = got.mail.commands  # the quoted "> reviewbot: stop" is not a command
    assert (cmd.verb, cmd.series_ref, cmd.actor) == ("claim", SERIES, "leon@kernel.org")
    assert dns.asked == [b"k2025._domainkey.kernel.org."]


def test_the_same_signed_mail_twice_is_a_replay(sign: Signer, dns: Dns, log: SqlOutbox,
                                                caplog: pytest.LogCaptureFixture) -> None:
    raw = sign(command_mail())
    assert receive(raw, dns, log).accepted
    with caplog.at_level(logging.WARNING, "reviewbot.service.mail.mailcmd"):
        again = receive(raw, dns, log)
    assert not again.accepted and again.refusal is Refusal.REPLAYED and not again.answer
    assert "refused (replayed) from leon@kernel.org <cmd-1@kernel.org>" in caplog.text


@pytest.mark.parametrize("how", ["altered body", "altered From", "wrong key"])
def test_forged_commands_are_refused(sign: Signer, dns: Dns, log: SqlOutbox, how: str,
                                     caplog: pytest.LogCaptureFixture) -> None:
    raw = command_mail()
    if how == "wrong key":  # claims kernel.org, signed with the attacker's key
        forged = sign(raw, "kernel.org", key_of="evil.org")
    else:
        forged = sign(raw)
        old, new = ((b"claim", b"release") if how == "altered body"
                    else (b"leon@kernel.org", b"jgg@kernel.org"))
        forged = forged.replace(old, new)
    with caplog.at_level(logging.WARNING, "reviewbot.service.mail.mailcmd"):
        got = receive(forged, dns, log)
    assert got.refusal is Refusal.FORGED and not got.accepted
    assert "refused (forged)" in caplog.text
    assert receive(sign(raw), dns, log).accepted  # the genuine one still works afterwards


def test_unsigned_commands_are_refused(dns: Dns, log: SqlOutbox,
                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "reviewbot.service.mail.mailcmd"):
        got = receive(command_mail(), dns, log)
    assert got.refusal is Refusal.UNSIGNED and "no DKIM signature" in caplog.text


def test_a_valid_signature_of_another_domain_is_refused(sign: Signer, dns: Dns,
                                                        log: SqlOutbox,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    raw = sign(command_mail(), "evil.org", selector="e1")
    with caplog.at_level(logging.WARNING, "reviewbot.service.mail.mailcmd"):
        got = receive(raw, dns, log)
    assert got.refusal is Refusal.WRONG_DOMAIN
    assert "signed by evil.org, not kernel.org" in caplog.text


def test_a_subdomain_sender_aligns_with_its_parent_signer(sign: Signer, dns: Dns,
                                                          log: SqlOutbox) -> None:
    raw = sign(command_mail(sender="Leon <leon@mail.kernel.org>"))
    assert receive(raw, dns, log).accepted


def test_stale_and_automatic_mail_is_never_obeyed(sign: Signer, dns: Dns,
                                                  log: SqlOutbox) -> None:
    old = sign(command_mail(date=NOW - timedelta(days=30), mid="old@kernel.org"))
    assert receive(old, dns, log).refusal is Refusal.STALE
    auto = sign(command_mail(extra="Auto-Submitted: auto-replied\n", mid="auto@kernel.org"))
    assert receive(auto, dns, log).refusal is Refusal.AUTOMATIC
    ours = command_mail(sender="reviewbot <bot@example.org>", mid="own@example.org")
    assert receive(ours, dns, log).refusal is Refusal.AUTOMATIC
    assert dns.asked == []  # refused before any DNS lookup


def test_mail_without_commands_costs_no_dns(dns: Dns, log: SqlOutbox) -> None:
    got = receive(command_mail(body="Looks good to me.\n"), dns, log)
    assert not got.accepted and got.refusal is None and dns.asked == []


def test_a_trusted_relay_replaces_dkim_checks(dns: Dns, log: SqlOutbox) -> None:
    policy = CommandPolicy(own_addresses=frozenset(), trusted_relay="mx.example.org")
    ours = "Authentication-Results: mx.example.org; dkim=pass header.d=kernel.org\n"
    got = receive(command_mail(extra=ours), dns, log, policy)
    assert got.accepted and dns.asked == []
    missing = receive(command_mail(mid="cmd-2@kernel.org"), dns, log, policy)
    assert missing.refusal is Refusal.UNVERIFIED_RELAY
    # a forged "pass" below our relay's own header does not count
    forged = ("Authentication-Results: mx.example.org; dkim=fail header.d=kernel.org\n"
              "Authentication-Results: mx.example.org; dkim=pass header.d=kernel.org\n")
    got = receive(command_mail(extra=forged, mid="cmd-3@kernel.org"), dns, log, policy)
    assert got.refusal is Refusal.UNVERIFIED_RELAY


def test_commands_from_a_maildir_verify_byte_for_byte(sign: Signer, dns: Dns, log: SqlOutbox,
                                                      tmp_path: Path) -> None:
    box = CommandMaildir(tmp_path / "commands")
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "commands" / sub).mkdir(parents=True)
    raw = sign(command_mail())
    (tmp_path / "commands" / "new" / "1717322400.M1P1.host").write_bytes(raw)
    (tmp_path / "commands" / "cur" / "1717322300.M2P1.host:2,S").write_bytes(b"seen")
    ((key, got),) = list(box.unread())
    assert got == raw and receive(got, dns, log).accepted
    box.mark_seen(key)
    assert list(box.unread()) == []
    assert (tmp_path / "commands" / "cur" / "1717322400.M1P1.host:2,S").read_bytes() == raw


def test_accept_authorize_acknowledge(sign: Signer, dns: Dns, log: SqlOutbox) -> None:
    """The whole path the daemon will take, minus the execution (the lead's service)."""
    raw = sign(command_mail(f"reviewbot: snooze {SERIES} 7d\nreviewbot: state bogus\n"))
    got = receive(raw, dns, log)
    assert got.accepted and got.mail is not None
    entitled = Entitled.of(["leon@kernel.org", "jgg@ziepe.ca"], ["kalesh@broadcom.com"])
    (cmd,) = got.mail.commands
    decision = authorize(cmd, entitled)
    assert decision.allowed
    outcomes = [CommandOutcome(cmd.line, True, "snoozed until 2025-06-09 (INFINIBAND "
                               "SUBSYSTEM)"),
                *(CommandOutcome(e.line, False, e.reason) for e in got.mail.errors)]
    ack = build_message(ack_draft(got.mail, outcomes), sender="reviewbot <bot@example.org>",
                        now=NOW, version="test")
    assert check_message(ack.raw) == []
    assert ack.recipients == ("leon@kernel.org",)
    first, created = enqueue(log, ack, NOW)
    again, created_again = enqueue(log, ack, NOW)
    assert created and not created_again and first.id == again.id
