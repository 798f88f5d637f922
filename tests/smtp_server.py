"""A real aiosmtpd SMTP server on 127.0.0.1 (port 0) in a thread, and a TCP proxy
that can freeze an SMTP conversation at a chosen point (for the kill tests).

aiosmtpd's Controller cannot use port 0 (it probes the port it was given), so
the server is started with loop.create_server directly, as aiosmtpd's own
tests do for their fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import ssl
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes

    @property
    def message_id(self) -> str:
        return str(email.message_from_bytes(self.content)["Message-ID"]).strip("<>")

    def header(self, name: str) -> str | None:
        value = email.message_from_bytes(self.content)[name]
        return None if value is None else str(value)


class Recorder:
    """aiosmtpd handler: keeps every accepted mail; scripted answers to RCPT and DATA."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.data_replies: deque[str] = deque()  # next answers to DATA ("451 ...", "550 ...")
        self.rcpt_replies: dict[str, str] = {}  # address -> answer instead of 250
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.data_replies.popleft() if self.data_replies else None
        if reply is not None and not reply.startswith("250"):
            return reply
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), tuple(envelope.rcpt_tos),
                                      content))
        return reply or f"250 OK queued as Q{len(self.received)}"

    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.received]


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class SmtpServer:
    """`with SmtpServer() as s:` ... s.port, s.handler.received."""

    def __init__(self, handler: Recorder | None = None, *, tls: ssl.SSLContext | None = None,
                 implicit_tls: bool = False, require_starttls: bool = False,
                 users: dict[str, str] | None = None) -> None:
        self.handler = handler or Recorder()
        self.tls, self.implicit_tls = tls, implicit_tls
        self.require_starttls = require_starttls
        self.users = users
        self.port = 0
        self._thread: _LoopThread | None = None
        self._server: asyncio.base_events.Server | None = None

    def _authenticator(self, server: SMTP, session: Session, envelope: Envelope,
                       mechanism: str, data: Any) -> AuthResult:
        assert self.users is not None
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if self.users.get(user) == password:
                self.handler.logins.append((user, password))
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _factory(self) -> SMTP:
        return SMTP(self.handler, hostname="localhost",
                    tls_context=None if self.implicit_tls else self.tls,
                    require_starttls=self.require_starttls,
                    authenticator=self._authenticator if self.users is not None else None,
                    auth_require_tls=not self.implicit_tls and self.tls is not None)

    def start(self) -> SmtpServer:
        self._thread = _LoopThread()

        async def serve() -> asyncio.base_events.Server:
            return await self._thread.loop.create_server(  # type: ignore[union-attr]
                self._factory, "127.0.0.1", 0, ssl=self.tls if self.implicit_tls else None)

        self._server = self._thread.run(serve())
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._server is not None:
            self._server.close()
        self._thread.close()
        self._thread = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the freezing proxy ----------------------------------------------------------------

POINTS = ("before-connect", "mid-data", "after-250", "after-commit")


class FreezingProxy:
    """Forwards 127.0.0.1:<port> to the SMTP server, and freezes the conversation at
    `point` of the `target`-th transaction (1-based; each DATA starts one):

    - before-connect: the client's TCP connection is accepted but never answered
      (no greeting, no SMTP session: the client is still connecting);
    - mid-data: half of the message body reaches the server, the rest is held;
    - after-250: the server's 250 to the end of DATA is held back from the client
      (the server has the mail; the client has not heard so);
    - after-commit: the 250 is delivered; the client's next command (sent only
      after it recorded the mail as sent) is held.

    `frozen` is set when the point is reached. When the client dies, the proxy
    closes the server side without forwarding anything it held.
    """

    def __init__(self, upstream_port: int, point: str | None = None, target: int = 1) -> None:
        assert point is None or point in POINTS
        self.upstream_port, self.point, self.target = upstream_port, point, target
        self.frozen = threading.Event()
        self.port = 0
        self._thread: _LoopThread | None = None
        self._server: asyncio.base_events.Server | None = None

    def start(self) -> FreezingProxy:
        self._thread = _LoopThread()

        async def serve() -> asyncio.base_events.Server:
            return await asyncio.start_server(self._client, "127.0.0.1", 0)

        self._server = self._thread.run(serve())
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        if self._thread is not None:
            if self._server is not None:
                self._server.close()
            self._thread.close()
            self._thread = None

    async def _client(self, c_reader: asyncio.StreamReader,
                      c_writer: asyncio.StreamWriter) -> None:
        if self.point == "before-connect":
            self.frozen.set()
            await c_reader.read()  # until the client goes away
            c_writer.close()
            return
        s_reader, s_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        state = {"txn": 0, "phase": "cmd", "tail": b""}

        def freeze_here(txn: int) -> bool:
            return txn == self.target and not self.frozen.is_set()

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       inspect: Callable[[bytes], bytes | None]) -> None:
            try:
                while chunk := await reader.read(65536):
                    if self.frozen.is_set():
                        continue  # hold everything once frozen
                    out = inspect(chunk)
                    if out:
                        writer.write(out)
                        await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                # A frozen pump can outlive its event loop (the test killed the sender
                # and the loop ended): then there is no transport left to close.
                with contextlib.suppress(RuntimeError):
                    writer.close()

        def from_client(chunk: bytes) -> bytes | None:
            phase = state["phase"]
            if phase == "body":
                if self.point == "mid-data" and freeze_here(state["txn"]):
                    self.frozen.set()
                    return chunk[: max(1, len(chunk) // 2)]
                state["tail"] = (state["tail"] + chunk)[-5:]  # type: ignore[operator]
                if state["tail"] == b"\r\n.\r\n":
                    state["phase"] = "final"
                return chunk
            if phase == "answered" and self.point == "after-commit" \
                    and freeze_here(state["txn"]):
                self.frozen.set()
                return None
            if chunk.upper().startswith(b"DATA"):
                state["txn"] += 1  # type: ignore[operator]
                state["phase"] = "354"
            return chunk

        def from_server(chunk: bytes) -> bytes | None:
            if state["phase"] == "354" and chunk.startswith(b"354"):
                state["phase"], state["tail"] = "body", b""
            elif state["phase"] == "final":
                state["phase"] = "answered"
                if self.point == "after-250" and chunk.startswith(b"250") \
                        and freeze_here(state["txn"]):
                    self.frozen.set()
                    return None
            return chunk

        await asyncio.gather(pump(c_reader, s_writer, from_client),
                             pump(s_reader, c_writer, from_server))
