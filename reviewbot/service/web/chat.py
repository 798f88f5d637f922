"""Chat slash commands, executed for a mapped mail identity (core.web.chat's command set).

The web adapter has already checked the request (signature or token, replay, rate
limit) and mapped the chat user to a mail identity. Reads use the query API;
claim, release, snooze and assign go through service.backlog.act, with the same
authorisation as email commands and the API.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from reviewbot.core.backlog.stats import Percentiles
from reviewbot.core.web.chat import HELP, ChatCommand, ChatSyntaxError, parse_chat
from reviewbot.core.web.model import ChatItem, ChatReply, WebError
from reviewbot.service.backlog import act, manual
from reviewbot.service.backlog.queries import Entry, NotYetPosted, UnknownSeries, series_view
from reviewbot.service.backlog.ready import canonical, next_for, ready_entries
from reviewbot.service.backlog.shapes import days
from reviewbot.service.web.api import Api

log = logging.getLogger(__name__)
LIST_ITEMS = 10  # rows per list answer; the rest are counted ("... and N more")


def _age(now: datetime, then: datetime) -> str:
    seconds = max((now - then).total_seconds(), 0)
    if seconds < 86400 * 2:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _pct(p: Percentiles) -> str:
    return f"p50 {days(p.p50)} d, p90 {days(p.p90)} d ({p.count})" if p.count else "none yet"


@dataclass
class ChatService:
    api: Api
    subsystem: str | None = None  # what backlog/ready/stats mean without one

    def handle(self, identity: str, text: str, now: datetime) -> ChatReply:
        parsed = parse_chat(text)
        if isinstance(parsed, ChatSyntaxError):
            return ChatReply(f"Sorry: {parsed.reason}", ("Try `help`.",), refused=True)
        try:
            reply = self._run(parsed, identity, now)
        except WebError as exc:
            reply = ChatReply(f"Sorry: {exc.message}", refused=True)
        except UnknownSeries as exc:
            reply = ChatReply(f"Sorry: no series holds <{exc.args[0]}>", refused=True)
        except NotYetPosted as exc:
            reply = ChatReply(f"Sorry: <{exc.args[0]}> is not posted yet", refused=True)
        except act.NotAllowed as exc:
            log.warning("chat: %s refused for %s: %s", parsed.verb, identity, exc)
            reply = ChatReply(f"Not allowed: {exc}", refused=True)
        except manual.ActionRefused as exc:
            reply = ChatReply(f"Sorry: {exc}", refused=True)
        return ChatReply(reply.title, reply.lines, reply.items, reply.more,
                         public=parsed.public and not reply.refused, refused=reply.refused)

    def _run(self, c: ChatCommand, identity: str, now: datetime) -> ChatReply:
        if c.verb == "help":
            return ChatReply("reviewbot commands",
                             tuple(line.strip() for line in HELP.splitlines()))
        if c.mutating:
            return self._act(c, identity, now)
        if c.verb == "series":
            assert c.series is not None
            v = series_view(self.api.reader, self.api.ctx(), c.series, now)
            st = v.status
            who = f" ({', '.join(st.waiting_on)})" if st.waiting_on else ""
            return ChatReply(
                f"{v.series.title} (v{v.series.version}, {len(v.series.patches)}/"
                f"{v.series.total})",
                (f"state: {st.state.value}, {st.turn.value}'s turn{who}", f"why: {st.reason}",
                 f"since: {st.since:%Y-%m-%d %H:%M} UTC"
                 + (f", due {st.due:%Y-%m-%d %H:%M} UTC" if st.due else ""),
                 *( [f"assigned: {', '.join(st.assignees)}"] if st.assignees else []),
                 f"by {v.series.author_name or v.series.author_email}",
                 self.api.link(v.series.series_id)))
        if c.verb == "suggest":
            assert c.series is not None
            _, title, pick, _ = manual.suggest(self.api.reader, self.api.ctx(), c.series, now)
            if not pick.reviewers:
                return ChatReply(f"Nobody to suggest for {title}: {pick.reason}")
            return ChatReply(f"Suggested for {title}: {', '.join(pick.reviewers)}",
                             (pick.reason,))
        if c.verb == "next":
            person = canonical(identity, self.api.reader.aliases())
            q, at = self.api.current(None, now)
            mine = next_for(q.entries, person, at)
            return self._list(f"Waiting on you ({person}): {len(mine)}", mine, now)
        name = c.subsystem or self.subsystem
        q, now = self.api.current(name, now)
        label = q.subsystem or "all lists"
        if c.verb == "ready":
            ready = ready_entries(q.entries)
            return self._list(f"{label}: {len(ready)} ready to apply", ready, now)
        if c.verb == "backlog":
            by: dict[str, int] = {}
            for e in q.entries:
                by[e.status.state.value] = by.get(e.status.state.value, 0) + 1
            states = ", ".join(f"{k} {v}" for k, v in sorted(by.items()))
            return self._list(f"{label}: {len(q.entries)} open"
                              + (f" ({states})" if states else ""), q.entries, now)
        if q.stats is None:  # stats without any subsystem: what the database holds
            s = self.api.reader.stats()
            return ChatReply("reviewbot database", tuple(
                f"{k}: {s[k]}" for k in ("messages", "series", "patches", "open")))
        f = q.stats
        return ChatReply(f"{label}: {f.open_total} open", (
            "by state: " + (", ".join(f"{k} {v}" for k, v in f.open_by_state.items())
                            or "none"),
            "by age: " + ", ".join(f"{k} {v}" for k, v in f.age_buckets.items()),
            f"time to first review: {_pct(f.time_to_first_review)}",
            f"time to applied: {_pct(f.time_to_applied)}"))

    def _list(self, title: str, entries: Sequence[Entry], now: datetime) -> ChatReply:
        items = tuple(
            ChatItem(f"{_age(now, e.summary.date)} {e.status.state.value}: {e.summary.title}",
                     self.api.link(e.summary.series_id),
                     f"{e.status.turn.value}'s turn: {e.status.reason}")
            for e in entries[:LIST_ITEMS])
        return ChatReply(title, (), items, max(len(entries) - LIST_ITEMS, 0))

    def _act(self, c: ChatCommand, identity: str, now: datetime) -> ChatReply:
        assert c.series is not None
        req = act.Request(c.verb, c.series, identity, duration=c.duration, person=c.person,
                          line=f"/{c.verb} {c.series} (chat)")
        done = act.perform(self.api.reader, self.api.actions, self.api.ctx(), req, now)
        self.api.refresh()
        self.api.forget()
        log.info("chat: %s by %s on <%s>", c.verb, identity, done.series_id)
        return ChatReply(f"Done: {done.summary()}", (self.api.link(done.series_id),))
