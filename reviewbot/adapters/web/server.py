"""The aiohttp application and its lifecycle: bind, serve, stop gracefully.

Every backend call is blocking database work and runs in a worker thread
(asyncio.to_thread), so the event loop only parses requests and writes answers.
`/metrics` serves the last snapshot, taken off the loop every `metrics_refresh`
seconds and rendered once per format, so scrapes cost a dictionary lookup.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aiohttp import web

from reviewbot.adapters.web import openapi, pages
from reviewbot.adapters.web.chat import ChatEndpoints, ChatOptions
from reviewbot.adapters.web.metrics import render
from reviewbot.core.web.metrics import MetricsSnapshot, check_labels
from reviewbot.core.web.model import ChatReply, WebError
from reviewbot.ports import WebBackend

log = logging.getLogger(__name__)
ACTIONS = ("claim", "release", "snooze", "assign", "state")


@dataclass
class WebOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    tokens: Mapping[str, str] = field(default_factory=dict)  # sha256 hex of token -> identity
    chat: ChatOptions | None = None
    metrics_refresh: float = 30.0
    version: str = "unknown"
    shutdown_timeout: float = 10.0


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": HTTPStatus(status).phrase, "message": message},
                             status=status)


@web.middleware
async def _api_errors(request: web.Request,
                      handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                      ) -> web.StreamResponse:
    """API paths answer every error as JSON with a message; pages as HTML."""
    api = request.path.startswith(("/api/", "/chat/", "/healthz"))
    try:
        return await handler(request)
    except WebError as exc:
        if api:
            return _error(exc.status, exc.message)
        return web.Response(text=pages.error(exc.status, exc.message), status=exc.status,
                            content_type="text/html")
    except web.HTTPException as exc:
        if not api or exc.status < 400:
            raise
        return _error(exc.status, exc.reason)
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        if api:
            return _error(500, "internal error (logged)")
        return web.Response(text=pages.error(500, "internal error (logged)"), status=500,
                            content_type="text/html")


class WebServer:
    """`async with WebServer(backend, options) as server:` serves until the block ends."""

    def __init__(self, backend: WebBackend, options: WebOptions,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.backend = backend
        self.options = options
        self.now = now
        self.chat = ChatEndpoints(options.chat, self._run_chat) if options.chat else None
        self._runner: web.AppRunner | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._snapshot: MetricsSnapshot | None = None
        self._rendered: dict[str, tuple[bytes, str]] = {}
        self._first = asyncio.Event()
        self._spec = openapi.document(options.version)
        self.address: tuple[str, int] | None = None

    @property
    def url(self) -> str:
        assert self.address is not None, "not started"
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_api_errors], client_max_size=1 << 20)
        r = app.router
        r.add_get("/", self._index)
        r.add_get("/subsystems", self._find_subsystem)
        r.add_get("/subsystems/{name:.+}", self._subsystem)
        r.add_get("/healthz", self._health)
        r.add_get("/metrics", self._metrics)
        r.add_get("/api/v1/openapi.json", self._openapi)
        r.add_get("/api/v1/subsystems", self._subsystems)
        r.add_get("/api/v1/subsystems/{name:.+}/queue", self._queue)
        r.add_get("/api/v1/series/{message_id:.+}", self._series)
        r.add_post("/api/v1/series/{message_id:.+}/{verb:[a-z]+}", self._act)
        r.add_get("/api/v1/stats", self._stats)
        r.add_get("/api/v1/reviewers/{email}", self._reviewer)
        if self.chat is not None:
            r.add_post("/chat/slack", self.chat.slack)
            r.add_post("/chat/mattermost", self.chat.mattermost)
        return app

    async def start(self) -> tuple[str, int]:
        """Bind the listener (port 0: any free port) and start the metrics snapshots.
        Returns the bound address; only then is the server ready."""
        self._runner = web.AppRunner(self.app(), access_log=None,
                                     shutdown_timeout=self.options.shutdown_timeout)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            self._runner = None
            raise
        server = site._server  # the asyncio Server: the one place the bound port is known
        sockets = getattr(server, "sockets", None) or []
        host, port = sockets[0].getsockname()[:2] if sockets else (self.options.host,
                                                                  self.options.port)
        self.address = (host, port)
        self._refresher = asyncio.create_task(self._refresh_metrics())
        log.info("HTTP: listening on %s", self.url)
        return self.address

    async def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to shutdown_timeout), stop the
        snapshots, and deliver chat answers still on their way."""
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._runner is not None:
            await self._runner.cleanup()
        if self.chat is not None:
            await self.chat.close()
        log.info("HTTP: stopped")

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- metrics ----------------------------------------------------------------------

    async def refresh_metrics(self) -> MetricsSnapshot:
        """Take a snapshot now (off the loop) and serve it from then on."""
        # at a whole second: the instant is exact in the snapshot's timestamp metric
        snap = await asyncio.to_thread(self.backend.metrics, self.now().replace(microsecond=0))
        check_labels(snap)
        self._snapshot, self._rendered = snap, {}
        self._first.set()
        return snap

    async def _refresh_metrics(self) -> None:
        while True:
            try:
                await self.refresh_metrics()
            except Exception:  # a failing snapshot keeps the last one; logged, retried
                log.exception("metrics snapshot failed")
            await asyncio.sleep(self.options.metrics_refresh)

    async def _metrics(self, request: web.Request) -> web.Response:
        if self._snapshot is None:
            await asyncio.wait_for(self._first.wait(), timeout=60)
        snap = self._snapshot
        assert snap is not None
        accept = request.headers.get("Accept", "")
        key = "openmetrics" if "application/openmetrics-text" in accept else "text"
        if key not in self._rendered:
            self._rendered[key] = await asyncio.to_thread(render, snap, accept)
        body, content_type = self._rendered[key]
        return web.Response(body=body, headers={"Content-Type": content_type})

    # -- API ---------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    @staticmethod
    def _params(request: web.Request) -> dict[str, str]:
        return {k: v for k, v in request.query.items()}

    async def _openapi(self, request: web.Request) -> web.Response:
        return web.json_response(self._spec)

    async def _subsystems(self, request: web.Request) -> web.Response:
        return web.json_response(await self._call(self.backend.subsystems, self.now(),
                                                  self._params(request)))

    async def _queue(self, request: web.Request) -> web.Response:
        return web.json_response(await self._call(
            self.backend.queue, request.match_info["name"], self.now(), self._params(request)))

    async def _series(self, request: web.Request) -> web.Response:
        return web.json_response(await self._call(
            self.backend.series, request.match_info["message_id"], self.now(),
            self._params(request)))

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(await self._call(self.backend.stats, self.now()))

    async def _reviewer(self, request: web.Request) -> web.Response:
        return web.json_response(await self._call(
            self.backend.reviewer, request.match_info["email"], self.now(),
            self._params(request)))

    def identity(self, request: web.Request) -> str:
        """The identity of the request's bearer token; 401 without a valid one."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise web.HTTPUnauthorized(reason="a bearer token is needed for writes",
                                       headers={"WWW-Authenticate": "Bearer"})
        digest = hashlib.sha256(token.strip().encode()).hexdigest()
        found = None
        for known, who in self.options.tokens.items():
            if hmac.compare_digest(digest, known):  # every entry compared: no early exit
                found = who
        if found is None:
            log.warning("API write refused: unknown bearer token from %s", request.remote)
            raise web.HTTPUnauthorized(reason="unknown bearer token",
                                       headers={"WWW-Authenticate": "Bearer"})
        return found

    async def _act(self, request: web.Request) -> web.Response:
        verb = request.match_info["verb"]
        if verb not in ACTIONS:
            raise WebError(404, f"no action {verb!r} (one of {', '.join(ACTIONS)})")
        who = self.identity(request)
        raw = await request.read()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise WebError(400, "the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise WebError(400, "the body must be a JSON object")
        result = await self._call(self.backend.act, who, verb, request.match_info["message_id"],
                                  body, self.now())
        log.info("API %s by %s: %s", verb, who, result.get("done"))
        return web.json_response(result)

    async def _health(self, request: web.Request) -> web.Response:
        report = await self._call(self.backend.health, self.now())
        return web.json_response(
            {"ok": report.ok, "as_of": report.as_of.isoformat(),
             "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in report.checks]},
            status=200 if report.ok else 503)

    # -- chat --------------------------------------------------------------------------

    async def _run_chat(self, identity: str, text: str) -> ChatReply:
        reply: ChatReply = await self._call(self.backend.chat, identity, text, self.now())
        return reply

    # -- dashboard ---------------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        data = await self._call(self.backend.index_page, self.now(), self._params(request))
        return web.Response(text=pages.index(data), content_type="text/html")

    async def _find_subsystem(self, request: web.Request) -> web.Response:
        name = request.query.get("name", "").strip()
        if not name:
            raise web.HTTPFound("/")
        as_of = request.query.get("as_of")
        raise web.HTTPFound(pages.subsystem_url(name, as_of))

    async def _subsystem(self, request: web.Request) -> web.Response:
        data = await self._call(self.backend.subsystem_page, request.match_info["name"],
                                self.now(), self._params(request))
        return web.Response(text=pages.subsystem(data), content_type="text/html")
