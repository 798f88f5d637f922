"""The WebBackend the HTTP adapter serves: the API, chat, metrics, dashboard and health
services behind one object (built by wiring.build_web)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reviewbot.core.web.metrics import MetricsSnapshot
from reviewbot.core.web.model import ChatReply, HealthReport
from reviewbot.service.web.api import Api, when
from reviewbot.service.web.chat import ChatService
from reviewbot.service.web.dashboard import Dashboard
from reviewbot.service.web.metrics import MetricsService


@dataclass
class WebService:
    api: Api
    chatter: ChatService
    meter: MetricsService
    dashboard: Dashboard
    checker: Callable[[datetime], HealthReport]

    def subsystems(self, now: datetime, params: Mapping[str, str]) -> dict[str, Any]:
        return self.api.subsystems(now, params)

    def queue(self, name: str, now: datetime, params: Mapping[str, str]) -> dict[str, Any]:
        return self.api.queue(name, now, params)

    def series(self, message_id: str, now: datetime,
               params: Mapping[str, str]) -> dict[str, Any]:
        return self.api.series(message_id, now, params)

    def stats(self, now: datetime) -> dict[str, Any]:
        return self.api.stats(now)

    def reviewer(self, email: str, now: datetime, params: Mapping[str, str]) -> dict[str, Any]:
        return self.api.reviewer(email, now, params)

    def act(self, identity: str, verb: str, message_id: str, body: Mapping[str, Any],
            now: datetime) -> dict[str, Any]:
        return self.api.act(identity, verb, message_id, body, now)

    def chat(self, identity: str, text: str, now: datetime) -> ChatReply:
        return self.chatter.handle(identity, text, now)

    def metrics(self, now: datetime) -> MetricsSnapshot:
        return self.meter.snapshot(now, time.perf_counter)

    def health(self, now: datetime) -> HealthReport:
        return self.checker(now)

    def index_page(self, now: datetime, params: Mapping[str, str]) -> dict[str, Any]:
        return self.dashboard.index_page(when(params, now), params.get("as_of"))

    def subsystem_page(self, name: str, now: datetime,
                       params: Mapping[str, str]) -> dict[str, Any]:
        return self.dashboard.subsystem_page(name, when(params, now), params.get("as_of"))
