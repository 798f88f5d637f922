"""The Mailer port over aiosmtplib: one connection per round, ONE transaction per mail.

The service marks a mail "sending" in `before_data`, once the connection is up,
logged in and the recipients accepted, and records the result right after the
server's answer to DATA: so the crash window (accepted by the server, not yet
recorded) is the DATA of a single SMTP transaction.

Errors become MailError: a 4xx answer or a broken connection is temporary, a
5xx answer is permanent. A connection that breaks (or times out) inside DATA
is `in_doubt`: the server may have taken the mail before the break.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import aiosmtplib

from reviewbot.core.notify.smtpurl import SmtpTarget, SmtpTls
from reviewbot.ports import MailError, SmtpAccepted

log = logging.getLogger(__name__)

_CONNECTION_ERRORS = (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
                      aiosmtplib.SMTPConnectError, OSError)


def _response_error(what: str, exc: aiosmtplib.SMTPResponseException) -> MailError:
    return MailError(f"{what}: {exc.code} {exc.message}", code=exc.code,
                     permanent=500 <= exc.code < 600)


class SmtpSession:
    """One logged-in connection (MailSession)."""

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client

    async def send(self, sender: str, recipients: Sequence[str], raw: bytes, *,
                   before_data: Callable[[], Awaitable[None]] | None = None) -> SmtpAccepted:
        c = self.client
        refused: list[tuple[str, int, str]] = []
        try:
            await c.mail(sender)
            for rcpt in recipients:
                try:
                    await c.rcpt(rcpt)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused.append((rcpt, exc.code, exc.message))
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise _response_error("MAIL FROM refused", exc) from exc
        except _CONNECTION_ERRORS as exc:
            raise MailError(f"connection lost before DATA: {exc}", session_lost=True) from exc
        if len(refused) == len(recipients):
            await self._reset()
            codes = [code for _, code, _ in refused]
            raise MailError("every recipient refused: " + "; ".join(
                f"{r}: {code} {msg}" for r, code, msg in refused),
                code=max(codes), permanent=all(500 <= code < 600 for code in codes))
        if before_data is not None:
            try:
                await before_data()
            except BaseException:
                await self._reset()
                raise
        try:
            response = await c.data(raw)
        except aiosmtplib.SMTPResponseException as exc:  # an answer: certainly not accepted
            await self._reset()
            raise _response_error("DATA refused", exc) from exc
        except _CONNECTION_ERRORS as exc:
            # Maybe before the server read the final ".", maybe after it queued
            # the mail: nobody can tell. The outbox policy decides.
            raise MailError(f"connection lost during DATA: {exc}", in_doubt=True,
                            session_lost=True) from exc
        return SmtpAccepted(f"{response.code} {response.message}",
                            tuple(f"{r}: {code} {msg}" for r, code, msg in refused))

    async def _reset(self) -> None:
        try:
            await self.client.rset()
        except (aiosmtplib.SMTPException, OSError):
            log.debug("RSET failed; the next mail will find out", exc_info=True)


class SmtpMailer:
    """Mailer for a `[mail] smtp` URL. `tls_context` replaces the system's trust store
    (tests with a self-signed server); the password is given, never read here."""

    def __init__(self, target: SmtpTarget, password: str | None = None, *,
                 timeout: float = 60.0, tls_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None) -> None:
        if target.user and password is None:
            raise ValueError(f"{target}: a user but no password ($REVIEWBOT_SMTP_PASSWORD "
                             "or [mail] password_file)")
        self.target = target
        self.password = password
        self.timeout = timeout
        self.tls_context = tls_context
        self.local_hostname = local_hostname

    @asynccontextmanager
    async def session(self) -> AsyncIterator[SmtpSession]:
        t = self.target
        client = aiosmtplib.SMTP(
            hostname=t.host, port=t.port, timeout=self.timeout,
            use_tls=t.tls is SmtpTls.IMPLICIT,
            start_tls=t.tls is SmtpTls.STARTTLS,
            tls_context=self.tls_context, local_hostname=self.local_hostname)
        try:
            await client.connect()
            if t.user:
                assert self.password is not None
                await client.login(t.user, self.password)
        except aiosmtplib.SMTPResponseException as exc:
            client.close()
            raise _response_error(f"{t}: session refused", exc) from exc
        except (*_CONNECTION_ERRORS, aiosmtplib.SMTPException, ssl.SSLError) as exc:
            client.close()
            raise MailError(f"{t}: cannot connect: {exc}", session_lost=True) from exc
        try:
            yield SmtpSession(client)
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()
