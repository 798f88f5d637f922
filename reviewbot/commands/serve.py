"""`reviewbot serve [--listen HOST:PORT]`: the HTTP surface alone, no polling.

Serves `/metrics`, `/healthz`, the JSON API (`/api/v1/...`), chat slash commands
(`/chat/slack`, `/chat/mattermost`, when `[chat]` is configured) and the dashboard
(`/`), over the database the settings name. Listens on `--listen`, else `[http]
listen`, else 127.0.0.1:8080; port 0 takes any free port (the line printed on start
says which). Tells systemd READY=1 only once the listener is bound; SIGTERM or
SIGINT stop it gracefully (requests in flight finish).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal

from reviewbot.adapters.system.systemd import Notifier
from reviewbot.adapters.web.server import WebServer
from reviewbot.commands.db import CommandError, open_app, run_guarded, settings
from reviewbot.config_web import Listen, parse_listen
from reviewbot.wiring_web import WebSetupError, build_web

log = logging.getLogger(__name__)


def _listen(text: str) -> Listen:
    try:
        return parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


async def serve(server: WebServer, notifier: Notifier) -> int:
    """Bind, say READY, serve until SIGTERM/SIGINT, stop gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
    except OSError as exc:
        raise CommandError(f"cannot listen on {server.options.host}:{server.options.port}: "
                           f"{exc.strerror or exc}") from exc
    print(f"reviewbot: serving HTTP on {server.url}", flush=True)
    notifier.notify(f"READY=1\nSTATUS=serving HTTP on {server.url}")
    try:
        await stop.wait()
    finally:
        notifier.notify("STOPPING=1")
        await server.stop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return 0


def _run(args: argparse.Namespace) -> int:
    conf = settings(args)
    app = open_app(args)
    try:
        server = build_web(app, conf, os.environ, args.listen)
    except WebSetupError as exc:
        raise CommandError(str(exc)) from exc
    return asyncio.run(serve(server, Notifier(os.environ)))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="serve the HTTP surface (metrics, API, chat, dashboard) "
                       "without polling", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", type=_listen, metavar="HOST:PORT",
                   help="address to listen on (default: [http] listen, else 127.0.0.1:8080)")
    p.set_defaults(func=run_guarded(_run))
