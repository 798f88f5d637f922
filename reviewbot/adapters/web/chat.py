"""Slack and Mattermost slash commands: who is asking, and is it really them?

Slack signs each request (v0: HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the
app's signing secret). slack_sdk's SignatureVerifier checks it with a constant-time
comparison and the 5-minute window; before it we tell a stale timestamp from a
forged signature (for the log), and after it refuse a signature seen before (a
replay within the window). Mattermost sends its command token in the form: compared
in constant time; its trigger_id, unique per invocation, catches replays (Mattermost
requests carry no timestamp, so there is no staleness to judge).

Refusals: forged, stale and replayed requests get 401 with a JSON error (Slack shows
nothing from them); a user who is not mapped to a mail identity, or who is over the
rate limit, gets an ephemeral answer saying so. Every refusal is logged.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from aiohttp import ClientSession, ClientTimeout, web
from slack_sdk.signature import Clock, SignatureVerifier

from reviewbot.core.web.model import ChatReply
from reviewbot.core.web.ratelimit import RateLimiter, SeenOnce

log = logging.getLogger(__name__)

SLACK_WINDOW = 300.0  # seconds: Slack's documented replay window
SECTION_LIMIT = 2900  # characters per Block Kit section text (Slack allows 3000)

# Run a chat command for (identity, text) in a worker thread; the answer.
Runner = Callable[[str, str], Awaitable[ChatReply]]


@dataclass
class ChatOptions:
    slack_secret: str | None = None
    slack_users: Mapping[str, str] = field(default_factory=dict)  # user id -> identity
    mattermost_token: str | None = None
    mattermost_users: Mapping[str, str] = field(default_factory=dict)  # id or name -> identity
    rate_per_minute: int = 20
    answer_within: float = 2.0


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(reply: ChatReply) -> dict[str, Any]:
    """Block Kit: a header line, the text lines, one section per list item."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{_mrkdwn(reply.title)}*"}}]
    if reply.lines:
        text = "\n".join(_mrkdwn(line) for line in reply.lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": text[:SECTION_LIMIT]}})
    for item in reply.items:
        label = _mrkdwn(item.text)
        line = f"<{item.link}|{label}>" if item.link else label
        if item.detail:
            line += f"\n{_mrkdwn(item.detail)}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn",
                                                    "text": line[:SECTION_LIMIT]}})
    if reply.more:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": f"... and {reply.more} more"}]})
    return {"response_type": "in_channel" if reply.public else "ephemeral",
            "text": reply.title, "blocks": blocks[:50]}


def mattermost_message(reply: ChatReply) -> dict[str, Any]:
    lines = [f"**{reply.title}**", *reply.lines]
    for item in reply.items:
        lines.append(f"- [{item.text}]({item.link})" if item.link else f"- {item.text}")
        if item.detail:
            lines.append(f"  {item.detail}")
    if reply.more:
        lines.append(f"... and {reply.more} more")
    return {"response_type": "in_channel" if reply.public else "ephemeral",
            "text": "\n".join(lines)}


def _refuse(platform: str, why: str, detail: str, remote: str | None) -> web.Response:
    log.warning("chat %s request refused (%s) from %s: %s", platform, why, remote, detail)
    return web.json_response({"error": why, "message": detail}, status=401)


class ChatEndpoints:
    """The POST /chat/slack and /chat/mattermost handlers."""

    def __init__(self, options: ChatOptions, run: Runner,
                 clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.run = run
        self.clock = clock
        self.limiter = RateLimiter(options.rate_per_minute, burst=max(3, options.rate_per_minute
                                                                      // 4))
        self.seen = SeenOnce(SLACK_WINDOW * 2)
        self.followups: set[asyncio.Task[None]] = set()
        self._http: ClientSession | None = None
        self._verifier = (SignatureVerifier(options.slack_secret, clock=_Clock(clock))
                          if options.slack_secret else None)

    async def close(self, timeout: float = 10.0) -> None:
        """Let answers still on their way to a response_url finish (up to `timeout`)."""
        if self.followups:
            await asyncio.wait(self.followups, timeout=timeout)
        for task in self.followups:
            task.cancel()
        if self._http is not None:
            await self._http.close()

    async def slack(self, request: web.Request) -> web.Response:
        body = await request.read()
        remote = request.remote
        if self._verifier is None:
            return _refuse("slack", "not-configured", "no [chat.slack] signing secret", remote)
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not stamp.isdigit() or not signature:
            return _refuse("slack", "unsigned", "no signature or timestamp headers", remote)
        if abs(self.clock() - int(stamp)) > SLACK_WINDOW:
            return _refuse("slack", "stale", f"timestamp {stamp} is outside the 5-minute "
                           "window", remote)
        if not self._verifier.is_valid(body, stamp, signature):
            return _refuse("slack", "forged", "the signature does not verify", remote)
        if not self.seen.first_time("slack:" + signature, self.clock()):
            return _refuse("slack", "replayed", "this signed request was seen before", remote)
        form = _form(body)
        user = form.get("user_id", "")
        return await self._answer("slack", user, self.options.slack_users.get(user),
                                  form, slack_message)

    async def mattermost(self, request: web.Request) -> web.Response:
        body = await request.read()
        remote = request.remote
        expected = self.options.mattermost_token
        if not expected:
            return _refuse("mattermost", "not-configured", "no [chat.mattermost] token", remote)
        form = _form(body)
        token = form.get("token", "") or request.headers.get("Authorization", "").removeprefix(
            "Token ")
        if not hmac.compare_digest(token.encode(), expected.encode()):
            return _refuse("mattermost", "forged", "the command token does not match", remote)
        trigger = form.get("trigger_id")
        if trigger and not self.seen.first_time("mattermost:" + trigger, self.clock()):
            return _refuse("mattermost", "replayed", "this trigger_id was seen before", remote)
        user = form.get("user_id", "")
        users = self.options.mattermost_users
        identity = users.get(user) or users.get(form.get("user_name", ""))
        return await self._answer("mattermost", user, identity, form, mattermost_message)

    async def _answer(self, platform: str, user: str, identity: str | None,
                      form: Mapping[str, str],
                      render: Callable[[ChatReply], dict[str, Any]]) -> web.Response:
        if identity is None:
            log.warning("chat %s request refused (unmapped): user %r has no mail identity in "
                        "[chat.%s.users]", platform, user, platform)
            return web.json_response(render(ChatReply(
                "Sorry: your chat account is not linked to a mail identity",
                (f"Ask the reviewbot admin to add your user id ({user}) to "
                 f"[chat.{platform}.users].",), refused=True)))
        if not self.limiter.allow(f"{platform}:{user}", time.monotonic()):
            log.warning("chat %s request refused (rate limit): %s (%s)", platform, user,
                        identity)
            return web.json_response(render(ChatReply(
                "Slow down: too many commands; try again in a minute", refused=True)))
        text = form.get("text", "")
        task = asyncio.ensure_future(self.run(identity, text))
        done, _ = await asyncio.wait({task}, timeout=self.options.answer_within)
        if done:
            try:
                return web.json_response(render(task.result()))
            except Exception:  # answered, not a 500 the chat would show as an error
                log.exception("chat %s: %r failed", platform, text)
                return web.json_response(render(ChatReply(
                    "Sorry: that failed on reviewbot's side (logged)", refused=True)))
        url = form.get("response_url", "")
        follow = asyncio.ensure_future(self._follow_up(platform, url, task, render))
        self.followups.add(follow)
        follow.add_done_callback(self.followups.discard)
        return web.json_response(render(ChatReply(f"Working on `{text.strip()}`...")))

    async def _follow_up(self, platform: str, url: str, task: asyncio.Future[ChatReply],
                         render: Callable[[ChatReply], dict[str, Any]]) -> None:
        """Post a slow answer to the command's response_url (valid for 30 minutes)."""
        try:
            reply = await task
        except Exception:
            log.exception("chat %s: command failed", platform)
            reply = ChatReply("Sorry: that failed on reviewbot's side", refused=True)
        if not url.startswith(("https://", "http://")):
            log.warning("chat %s: no response_url for a slow answer", platform)
            return
        if self._http is None:
            self._http = ClientSession(timeout=ClientTimeout(total=10))
        try:
            async with self._http.post(url, json={**render(reply), "replace_original": True}
                                       ) as resp:
                if resp.status >= 300:
                    log.warning("chat %s: response_url answered %d", platform, resp.status)
        except (OSError, TimeoutError, ValueError) as exc:
            log.warning("chat %s: posting to response_url failed: %s", platform, exc)


class _Clock(Clock):
    """slack_sdk's clock interface over our clock (tests move time)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock()


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    return {k: v[0] for k, v in fields.items() if v}
