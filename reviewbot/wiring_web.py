"""The composition root of the HTTP surface: settings and the App's adapters -> the web
backend (service/web/backend.py) and the server's options (adapters/web).

`serve` builds it on its own; `run` builds the same when `[http] listen` is set and
hands the daemon `http_server(...)` to start before READY=1.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from reviewbot import __version__
from reviewbot.adapters.sql.polllog import SqlPollLog
from reviewbot.adapters.sql.series.webreads import SqlWebReads
from reviewbot.adapters.sql.trees.pulls import SqlPulls
from reviewbot.adapters.web.chat import ChatOptions
from reviewbot.adapters.web.server import WebOptions, WebServer
from reviewbot.config import Settings
from reviewbot.config_web import Listen, SecretError
from reviewbot.core.pulls.cycle import Cycle, NoMainlineTags, cycle_from_tags
from reviewbot.core.web.model import HealthReport
from reviewbot.ports import MainlineTags
from reviewbot.service.web.api import Api
from reviewbot.service.web.backend import WebService
from reviewbot.service.web.chat import ChatService
from reviewbot.service.web.dashboard import Dashboard
from reviewbot.service.web.metrics import DebtSource, MetricsService
from reviewbot.wiring import App
from reviewbot.wiring_health import health_report

log = logging.getLogger(__name__)
CYCLE_TTL = 3600.0  # seconds between reads of mainline's tags


class WebSetupError(ValueError):
    """The HTTP surface cannot start as configured (a secret file, ...)."""


def health_check(app: App, conf: Settings) -> Callable[[datetime], HealthReport]:
    """The check `reviewbot health` runs (reviewbot.wiring_health), on the App's engine."""
    from reviewbot.adapters.sql.access import where

    name = where(app.engine.url.render_as_string(hide_password=True))
    return lambda now: health_report(app.engine, conf, name, now)


def _mainline(conf: Settings, env: Mapping[str, str]) -> MainlineTags | None:
    """Where mainline's tags come from: [metrics] mainline, else the settings'
    maintainers when it is a git repository; None: no merge-window metric."""
    from reviewbot.adapters.git.mainline import LocalMainlineTags, RemoteMainlineTags

    where = conf.metrics.mainline
    if where and "://" in where:
        return RemoteMainlineTags(where)
    if where is None:
        m = conf.maintainers or env.get("REVIEWBOT_MAINTAINERS")
        where = str(m) if m and ((Path(m) / ".git").exists() or (Path(m) / "HEAD").is_file()) \
            else None
    return LocalMainlineTags(where) if where else None


class CycleCache:
    """Mainline's release cycle, read at most once an hour (tags change weekly)."""

    def __init__(self, source: MainlineTags | None) -> None:
        self.source = source
        self._tags: list[tuple[str, datetime | None]] | None = None
        self._read_at = -CYCLE_TTL
        self._lock = threading.Lock()

    def __call__(self, now: datetime) -> Cycle | None:
        if self.source is None:
            return None
        with self._lock:
            if self._tags is None or time.monotonic() - self._read_at > CYCLE_TTL:
                self._read_at = time.monotonic()
                try:
                    self._tags = self.source.tags()
                except Exception as exc:  # no cycle figures, not a failing server
                    log.warning("mainline tags from %s: %s", self.source.source, exc)
                    self._tags = self._tags or []
            tags = self._tags
        try:
            return cycle_from_tags(tags, now) if tags else None
        except NoMainlineTags:
            return None


def metrics_subsystems(app: App, conf: Settings, reads: SqlWebReads) -> Callable[[], list[str]]:
    """[metrics] subsystems; else the policies' sections and the sections listing a
    configured source's list; at most [metrics] max_subsystems (a warning says so)."""
    warned: list[bool] = []

    def names() -> list[str]:
        if conf.metrics.subsystems:
            found = list(conf.metrics.subsystems)
        else:
            found = [s for p in app.ctx.policies.subsystems for s in p.sections]
            lists = {s.list_name.lower() for s in conf.sources}
            found += [r.section for r in reads.subsystems()
                      if any(a.split("@")[0] in lists for a in r.lists)]
        found = list(dict.fromkeys(n for n in found if "@" not in n))
        most = conf.metrics.max_subsystems
        if len(found) > most and not warned:
            warned.append(True)
            log.warning("metrics: %d subsystems, keeping the first %d ([metrics] "
                        "max_subsystems)", len(found), most)
        return found[:most]

    return names


def build_web(app: App, conf: Settings, env: Mapping[str, str],
              listen: Listen | None = None,
              now: Callable[[], datetime] | None = None) -> WebServer:
    """The server (not started) over the App's database, as the settings say; `now` is
    the clock (tests pin it to the corpus' time)."""
    reads, polls = SqlWebReads(app.engine), SqlPollLog(app.engine)
    cycle = CycleCache(_mainline(conf, env))
    lore = conf.http.lore if conf.mail is None or conf.http.lore != "https://lore.kernel.org" \
        else conf.mail.lore
    # The web services read app.ctx when asked: a reload (SIGHUP) replaces it.
    api = Api(app.reader, app.actions, lambda: app.ctx, reads, app.refresh, lore=lore,
              attest=app.attest, page_size=conf.http.page_size,
              max_page_size=conf.http.max_page_size)
    names = metrics_subsystems(app, conf, reads)
    meter = MetricsService(
        app.reader, lambda: app.ctx, reads, polls, names,
        sources=[(s.list_name, s.kind) for s in conf.sources], cycle=cycle,
        pulls=SqlPulls(app.engine),
        debt=[DebtSource(d.name, d.tree, d.branch) for d in conf.metrics.debt],
        version=__version__)
    backend = WebService(api, ChatService(api, conf.chat.subsystem if conf.chat else None),
                         meter, Dashboard(api, names, cycle), health_check(app, conf))
    try:
        tokens = {t.digest(): t.identity for t in conf.http.tokens}
        chat = _chat_options(conf, env)
    except SecretError as exc:
        raise WebSetupError(str(exc)) from exc
    where = listen or conf.http.listen or Listen("127.0.0.1", 8080)
    options = WebOptions(where.host, where.port, tokens, chat, conf.metrics.refresh, __version__)
    return WebServer(backend, options) if now is None else WebServer(backend, options, now=now)


def _chat_options(conf: Settings, env: Mapping[str, str]) -> ChatOptions | None:
    c = conf.chat
    if c is None:
        return None
    slack = c.slack.secret(env, "REVIEWBOT_SLACK_SIGNING_SECRET", "slack-signing-secret") \
        if c.slack else None
    mattermost = c.mattermost.secret(env, "REVIEWBOT_MATTERMOST_TOKEN", "mattermost-token") \
        if c.mattermost else None
    if c.slack and not slack:
        raise SecretError("[chat.slack] needs signing_secret_file or "
                          "$REVIEWBOT_SLACK_SIGNING_SECRET")
    if c.mattermost and not mattermost:
        raise SecretError("[chat.mattermost] needs token_file or $REVIEWBOT_MATTERMOST_TOKEN")
    return ChatOptions(slack, dict(c.slack.users) if c.slack else {}, mattermost,
                       dict(c.mattermost.users) if c.mattermost else {}, c.rate_per_minute,
                       c.answer_within)


def for_daemon(app: App, conf: Settings, env: Mapping[str, str],
               error: type[Exception]) -> dict[str, Any]:
    """The Daemon's `http` (when `[http] listen` is set) and `poll_log` keyword arguments;
    `error` (the CLI's CommandError) carries a setup problem out."""
    try:
        http = build_web(app, conf, env) if conf.http.listen else None
    except WebSetupError as exc:
        raise error(str(exc)) from exc
    return {"http": http, "poll_log": SqlPollLog(app.engine)}
