"""The durable outbox against a real SMTP server (aiosmtpd on 127.0.0.1, port 0),
with a simulated clock: idempotent enqueue, backoff while the server is down or
answers 4xx, hold on 5xx, TLS and login, the daemon's loop and the CLI."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewbot.adapters.mail.smtp import SmtpMailer
from reviewbot.adapters.sql.locks import FileLocks
from reviewbot.adapters.sql.mail.outbox import SqlOutbox
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.cli import main
from reviewbot.core.notify.message import Draft, OutgoingMail, build_message
from reviewbot.core.notify.outbox import InDoubt, OutboxKey, OutboxState, RetryPolicy
from reviewbot.core.notify.smtpurl import parse_smtp_url
from reviewbot.service.mail.outbox import LOCK_KEY, enqueue, flush, run_outbox, send_due
from tests.smtp_server import SmtpServer

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
SENDER = "reviewbot <bot@example.org>"
POLICY = RetryPolicy()


def mail(n: int = 1, to: tuple[str, ...] = ("leon@kernel.org",)) -> OutgoingMail:
    draft = Draft(OutboxKey("digest", "INFINIBAND SUBSYSTEM", to[0], f"2025-06-0{n}"), to=to,
                  subject=f"[reviewbot] INFINIBAND SUBSYSTEM review backlog (2025-06-0{n})",
                  body="3 series wait for review.\n")
    return build_message(draft, sender=SENDER, now=NOW, version="test")


def mailer(port: int, scheme: str = "smtp", **kw: object) -> SmtpMailer:
    return SmtpMailer(parse_smtp_url(f"{scheme}://127.0.0.1:{port}"), timeout=10,
                      local_hostname="localhost", **kw)  # type: ignore[arg-type]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def outbox(store: SqlStore) -> SqlOutbox:
    return SqlOutbox(store.engine)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with SmtpServer() as s:
        yield s


class TestStore:
    def test_the_same_key_twice_is_one_row(self, outbox: SqlOutbox) -> None:
        first, created = enqueue(outbox, mail(), NOW)
        again, created_again = enqueue(outbox, mail(), NOW + timedelta(hours=1))
        assert created and not created_again
        assert again.id == first.id and again.created == NOW
        assert len(outbox.entries()) == 1
        assert first.state is OutboxState.QUEUED and first.attempts == 0
        assert first.raw == mail().raw

    def test_transitions_are_compare_and_set(self, outbox: SqlOutbox) -> None:
        e, _ = enqueue(outbox, mail(), NOW)
        assert outbox.transition(e.id, OutboxState.QUEUED, OutboxState.SENDING, NOW, attempts=1)
        assert not outbox.transition(e.id, OutboxState.QUEUED, OutboxState.SENDING, NOW)
        assert outbox.in_state(OutboxState.SENDING)[0].attempts == 1

    def test_find_by_key_or_message_id(self, outbox: SqlOutbox) -> None:
        e, _ = enqueue(outbox, mail(), NOW)
        found = outbox.find(f"<{e.message_id}>")
        assert found is not None and found.key == e.key and found.raw == b""
        assert outbox.find(e.key) is not None and outbox.find("nope") is None

    def test_a_replayed_command_mail_is_refused(self, outbox: SqlOutbox) -> None:
        assert outbox.remember("fp1", "m1@x", "leon@kernel.org", NOW)
        assert not outbox.remember("fp1", "m2@x", "leon@kernel.org", NOW)
        assert not outbox.remember("fp2", "m1@x", "leon@kernel.org", NOW)
        assert outbox.remember("fp3", "m3@x", "leon@kernel.org", NOW)


class TestSending:
    async def test_due_mail_is_sent_once_with_its_key(self, outbox: SqlOutbox,
                                                     server: SmtpServer) -> None:
        e, _ = enqueue(outbox, mail(), NOW)
        report = await send_due(outbox, mailer(server.port), POLICY, NOW)
        assert report.sent == [e.key]
        again = await send_due(outbox, mailer(server.port), POLICY, NOW + timedelta(hours=1))
        assert again.sent == []
        (got,) = server.handler.received
        assert got.content.replace(b"\r\n", b"\n") == mail().raw.replace(b"\r\n", b"\n")
        assert got.header("X-Reviewbot-Key") == e.key
        assert got.mail_from == "bot@example.org" and got.rcpt_tos == ("leon@kernel.org",)
        row = outbox.entries()[0]
        assert row.state is OutboxState.SENT and row.sent_at == NOW and row.attempts == 1
        assert row.reply == "250 OK queued as Q1"

    async def test_server_down_backs_off_then_sends(self, outbox: SqlOutbox,
                                                   server: SmtpServer) -> None:
        e, _ = enqueue(outbox, mail(), NOW)
        down = await send_due(outbox, mailer(closed_port()), POLICY, NOW)
        assert down.session_error and "cannot connect" in down.session_error
        row = outbox.entries()[0]
        assert row.state is OutboxState.QUEUED and row.attempts == 1
        assert row.next_attempt == NOW + timedelta(minutes=1)
        assert row.last_error and "cannot connect" in row.last_error
        early = await send_due(outbox, mailer(server.port), POLICY, NOW + timedelta(seconds=30))
        assert early.sent == [] and server.handler.received == []
        late = await send_due(outbox, mailer(server.port), POLICY, NOW + timedelta(minutes=1))
        assert late.sent == [e.key] and len(server.handler.received) == 1
        assert outbox.entries()[0].attempts == 2

    async def test_4xx_is_retried_with_growing_delays(self, outbox: SqlOutbox,
                                                     server: SmtpServer) -> None:
        enqueue(outbox, mail(), NOW)
        server.handler.data_replies.extend(["451 4.3.0 try again later"] * 2)
        now = NOW
        for attempt, wait in ((1, 1), (2, 2)):
            report = await send_due(outbox, mailer(server.port), POLICY, now)
            assert report.retry and "451" in report.retry[0][1]
            row = outbox.entries()[0]
            assert (row.state, row.attempts) == (OutboxState.QUEUED, attempt)
            assert row.next_attempt == now + timedelta(minutes=wait)
            now = row.next_attempt
        report = await send_due(outbox, mailer(server.port), POLICY, now)
        assert len(report.sent) == 1 and len(server.handler.received) == 1

    async def test_5xx_holds_and_reports(self, outbox: SqlOutbox, server: SmtpServer) -> None:
        e, _ = enqueue(outbox, mail(), NOW)
        server.handler.data_replies.append("550 5.7.1 message refused")
        report = await send_due(outbox, mailer(server.port), POLICY, NOW)
        assert report.held and "550 5.7.1 message refused" in report.held[0][1]
        assert not report.ok
        later = await send_due(outbox, mailer(server.port), POLICY, NOW + timedelta(days=1),
                               force=True)
        assert later.sent == [] and server.handler.received == []
        row = outbox.entries()[0]
        assert row.state is OutboxState.HELD and row.last_error and "550" in row.last_error
        assert outbox.find(e.key) is not None

    async def test_too_many_temporary_failures_is_failed(self, outbox: SqlOutbox,
                                                        server: SmtpServer) -> None:
        enqueue(outbox, mail(), NOW)
        server.handler.data_replies.extend(["421 busy"] * 2)
        policy = RetryPolicy(max_attempts=2)
        await send_due(outbox, mailer(server.port), policy, NOW, force=True)
        report = await send_due(outbox, mailer(server.port), policy, NOW, force=True)
        assert report.failed
        row = outbox.entries()[0]
        assert row.state is OutboxState.FAILED and row.last_error
        assert row.last_error.startswith("gave up after 2 attempts")

    async def test_recipients_refused(self, outbox: SqlOutbox, server: SmtpServer) -> None:
        server.handler.rcpt_replies["gone@x.org"] = "550 5.1.1 no such user"
        enqueue(outbox, mail(1, ("leon@kernel.org", "gone@x.org")), NOW)
        enqueue(outbox, mail(2, ("gone@x.org",)), NOW)
        report = await send_due(outbox, mailer(server.port), POLICY, NOW)
        assert len(report.sent) == 1 and len(report.held) == 1
        (got,) = server.handler.received
        assert got.rcpt_tos == ("leon@kernel.org",)
        sent, held = outbox.entries()
        assert sent.last_error and "gone@x.org: 550" in sent.last_error
        assert held.state is OutboxState.HELD

    async def test_another_sender_holding_the_lock_means_nothing_is_done(
            self, outbox: SqlOutbox, server: SmtpServer, tmp_path: Path) -> None:
        enqueue(outbox, mail(), NOW)
        other = FileLocks(tmp_path)
        assert other.try_acquire(LOCK_KEY)
        report = await flush(outbox, mailer(server.port), FileLocks(tmp_path), POLICY, NOW)
        assert report.locked and server.handler.received == []
        other.release(LOCK_KEY)
        report = await flush(outbox, mailer(server.port), FileLocks(tmp_path), POLICY, NOW)
        assert len(report.sent) == 1

    async def test_a_row_left_sending_is_resent_or_held(self, outbox: SqlOutbox,
                                                       server: SmtpServer,
                                                       tmp_path: Path) -> None:
        """A dead sender's "sending" row: resent with the same Message-ID, or held."""
        def left_sending(n: int) -> str:
            e, _ = enqueue(outbox, mail(n), NOW)
            outbox.transition(e.id, OutboxState.QUEUED, OutboxState.SENDING, NOW, attempts=1)
            return e.key

        a = left_sending(1)
        report = await flush(outbox, mailer(server.port), FileLocks(tmp_path), POLICY, NOW)
        assert report.recovered == [(a, "resend")] and report.sent == [a]
        b = left_sending(2)
        hold = RetryPolicy(in_doubt=InDoubt.HOLD)
        report = await flush(outbox, mailer(server.port), FileLocks(tmp_path), hold, NOW)
        assert report.recovered == [(b, "hold")] and report.sent == [] and not report.ok
        assert server.handler.message_ids() == [outbox.find(a).message_id]  # type: ignore[union-attr]
        assert outbox.find(b).state is OutboxState.HELD  # type: ignore[union-attr]

    async def test_the_daemon_loop_sends_until_stopped(self, outbox: SqlOutbox,
                                                      server: SmtpServer,
                                                      tmp_path: Path) -> None:
        stop, wake = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(run_outbox(
            outbox, mailer(server.port), FileLocks(tmp_path), POLICY, clock=lambda: NOW,
            stop=stop, interval=60, wake=wake))
        await asyncio.sleep(0.2)
        enqueue(outbox, mail(), NOW)
        wake.set()
        for _ in range(100):
            if server.handler.received:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, 5)
        assert len(server.handler.received) == 1
        assert outbox.entries()[0].state is OutboxState.SENT


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it): a self-signed 127.0.0.1 certificate."""
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"),
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(d / "cert.pem", d / "key.pem")
    return server, ssl.create_default_context(cafile=str(d / "cert.pem"))


class TestTlsAndLogin:
    @pytest.mark.parametrize("store", ["sqlite"], indirect=True)
    async def test_starttls_and_login(self, outbox: SqlOutbox,
                                      tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
        enqueue(outbox, mail(), NOW)
        with SmtpServer(tls=tls[0], require_starttls=True, users={"bot": "pw"}) as s:
            url = parse_smtp_url(f"smtp+starttls://bot@127.0.0.1:{s.port}")
            wrong = SmtpMailer(url, "nope", tls_context=tls[1], local_hostname="localhost")
            report = await send_due(outbox, wrong, POLICY, NOW)
            assert report.session_error and "535" in report.session_error
            right = SmtpMailer(url, "pw", tls_context=tls[1], local_hostname="localhost")
            report = await send_due(outbox, right, POLICY, NOW, force=True)
            assert len(report.sent) == 1 and s.handler.logins == [("bot", "pw")]

    @pytest.mark.parametrize("store", ["sqlite"], indirect=True)
    async def test_implicit_tls(self, outbox: SqlOutbox,
                                tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
        enqueue(outbox, mail(), NOW)
        with SmtpServer(tls=tls[0], implicit_tls=True) as s:
            untrusted = await send_due(outbox, mailer(s.port, "smtps"), POLICY, NOW)
            assert untrusted.session_error and "CERTIFICATE" in untrusted.session_error.upper()
            report = await send_due(outbox, mailer(s.port, "smtps", tls_context=tls[1]),
                                    POLICY, NOW, force=True)
            assert len(report.sent) == 1 and len(s.handler.received) == 1

    def test_a_user_without_a_password_is_refused(self) -> None:
        with pytest.raises(ValueError, match="REVIEWBOT_SMTP_PASSWORD"):
            SmtpMailer(parse_smtp_url("smtps://bot@x"), None)


class TestCli:
    def config(self, tmp_path: Path, port: int) -> str:
        path = tmp_path / "config.toml"
        path.write_text(f'[mail]\nfrom = "{SENDER}"\nsmtp = "smtp://127.0.0.1:{port}"\n')
        return str(path)

    @pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
    def test_list_flush_retry(self, db_url: str, tmp_path: Path, server: SmtpServer,
                              capsys: pytest.CaptureFixture[str]) -> None:
        from reviewbot.adapters.sql.store import make_engine

        engine = make_engine(db_url)
        store = SqlOutbox(engine)
        enqueue(store, mail(1), NOW)
        held, _ = enqueue(store, mail(2), NOW)
        server.handler.data_replies.extend(["250 OK", "554 5.6.0 rejected"])
        cfg = self.config(tmp_path, server.port)
        assert main(["--db", db_url, "--config", cfg, "outbox", "flush"]) == 1
        out = capsys.readouterr().out
        assert "outbox: 1 sent, 0 to retry, 1 held, 0 failed" in out
        assert f"{held.key}: DATA refused: 554 5.6.0 rejected" in out
        assert main(["--db", db_url, "outbox", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["counts"] == {"queued": 0, "sending": 0, "sent": 1, "held": 1, "failed": 0}
        assert [m["state"] for m in data["mails"]] == ["sent", "held"]
        assert data["mails"][1]["key"] == held.key
        assert "554" in data["mails"][1]["last_error"]
        assert main(["--db", db_url, "outbox"]) == 0
        text = capsys.readouterr().out
        assert text.startswith("outbox: 0 queued, 0 sending, 1 sent, 1 held, 0 failed")
        assert "last error: DATA refused: 554" in text
        assert main(["--db", db_url, "outbox", "retry", held.message_id]) == 0
        assert main(["--db", db_url, "--config", cfg, "outbox", "flush"]) == 0
        assert len(server.handler.received) == 2
        assert main(["--db", db_url, "outbox", "retry", held.key]) == 1
        assert "only held or failed" in capsys.readouterr().err
        engine.dispose()

    @pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
    def test_flush_without_smtp_settings_is_one_clear_error(
            self, db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["--db", db_url, "outbox", "flush"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("reviewbot: error: no [mail] smtp") and "Traceback" not in err
