"""The JSON API (`/api/v1/...`): the query API's answers in the CLI's JSON shapes.

`queue` says what `queue --subsystem NAME --json` says, `series` what
`series --json` says (service.backlog.shapes), with paging (`limit`, `offset`) and
filters on top. Writes go through service.backlog.act, the path chat and email commands
take. Client errors are WebError (400 bad parameter, 403 not allowed, 404 unknown).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any

from reviewbot.core.backlog.turn import State, Turn
from reviewbot.core.model import TrailerKind
from reviewbot.core.notify.commands import parse_duration
from reviewbot.core.policy.model import address
from reviewbot.core.web.model import WebError
from reviewbot.ports import ActionStore, BacklogReader, WebReads
from reviewbot.service.backlog import act, manual
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import (
    NotYetPosted,
    Queue,
    UnknownSeries,
    UnknownSubsystem,
    queue,
    series_view,
)
from reviewbot.service.backlog.ready import canonical, is_ready, next_for
from reviewbot.service.backlog.shapes import (
    entry_json,
    series_json,
    stats_json,
    status_json,
    with_attestation,
)

REVIEW_KINDS = (TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY, TrailerKind.TESTED_BY,
                TrailerKind.NACKED_BY)


def parse_as_of(text: str) -> datetime:
    """`YYYY-MM-DD` (the end of that day, UTC) or an ISO timestamp (UTC if no zone), as
    the CLI's --as-of reads it."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(),
                                    UTC) - timedelta(microseconds=1)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise WebError(400, f"as_of {text!r} is not a date (YYYY-MM-DD) or ISO "
                            "timestamp") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def when(params: Mapping[str, str], now: datetime) -> datetime:
    return parse_as_of(params["as_of"]) if params.get("as_of") else now


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int

    def of(self, rows: Sequence[Any]) -> dict[str, Any]:
        part = list(rows[self.offset:self.offset + self.limit])
        nxt = self.offset + self.limit if self.offset + self.limit < len(rows) else None
        return {"total": len(rows), "limit": self.limit, "offset": self.offset,
                "next_offset": nxt, "items": part}


def page(params: Mapping[str, str], default: int, most: int) -> Page:
    def number(key: str, fallback: int, low: int) -> int:
        text = params.get(key)
        if text is None or text == "":
            return fallback
        if not text.isdigit() or int(text) < low:
            raise WebError(400, f"{key} must be an integer of at least {low}, not {text!r}")
        return int(text)

    limit = number("limit", default, 1)
    if limit > most:
        raise WebError(400, f"limit {limit} is above the largest page, {most}")
    return Page(limit, number("offset", 0, 0))


def _choices(params: Mapping[str, str], key: str, allowed: Sequence[str]) -> set[str] | None:
    text = params.get(key)
    if not text:
        return None
    wanted = {v.strip() for v in text.split(",") if v.strip()}
    bad = sorted(wanted - set(allowed))
    if bad:
        raise WebError(400, f"{key}: unknown value(s) {', '.join(bad)} "
                            f"(one of {', '.join(allowed)})")
    return wanted


def _flag(params: Mapping[str, str], key: str) -> bool:
    value = params.get(key, "").lower()
    if value not in ("", "0", "1", "true", "false"):
        raise WebError(400, f"{key} must be true or false, not {value!r}")
    return value in ("1", "true")


@dataclass
class Api:
    reader: BacklogReader
    actions: ActionStore
    ctx: Callable[[], BacklogContext]  # the current one: a reload (SIGHUP) replaces it
    reads: WebReads
    refresh: Callable[[], object]
    lore: str = "https://lore.kernel.org"
    # b4's verdict per stored posting (App.attest); None: series answers leave it out
    attest: Callable[[Collection[str]], Mapping[str, Mapping[str, str]]] | None = None
    page_size: int = 50
    max_page_size: int = 500
    # Answers at "now" are reused this long (seconds; their as_of says when they were
    # computed): twenty clients asking at once cost one computation, not twenty.
    reuse_for: float = 5.0
    stale_for: float = 30.0  # ... and while one is recomputed, one this old still serves
    clock: Callable[[], float] = monotonic
    _recent: dict[str | None, tuple[float, datetime, Queue]] = field(default_factory=dict)
    _locks: dict[str | None, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def link(self, message_id: str) -> str:
        return f"{self.lore}/r/{message_id}"

    def _page(self, params: Mapping[str, str]) -> Page:
        return page(params, self.page_size, self.max_page_size)

    def backlog(self, name: str | None, now: datetime) -> Queue:
        ctx = self.ctx()
        if name is not None and ctx.maintainers is None:
            raise WebError(404, "no MAINTAINERS configured: series are not routed to "
                                "subsystems")
        try:
            return queue(self.reader, ctx, now, name)
        except UnknownSubsystem:
            raise WebError(404, f"no MAINTAINERS section or list is called {name!r}") from None

    def current(self, name: str | None, now: datetime) -> tuple[Queue, datetime]:
        """The queue at about `now`: computed at most once per `reuse_for` seconds per name
        (one thread computes; the others take the previous answer meanwhile, or wait for
        the first), with the instant it is for."""
        key = name.strip().casefold() if name else None
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        hit = self._recent.get(key)
        if not lock.acquire(blocking=False):
            # Another thread is computing: an answer up to `stale_for` old serves meanwhile.
            if hit is not None and self.clock() - hit[0] < self.stale_for:
                return hit[2], hit[1]
            lock.acquire()
        try:
            hit = self._recent.get(key)
            if hit is not None and self.clock() - hit[0] < self.reuse_for:
                return hit[2], hit[1]
            q = self.backlog(name, now)
            self._recent[key] = (self.clock(), now, q)
            return q, now
        finally:
            lock.release()

    def forget(self) -> None:
        """Drop reused answers (after a write)."""
        with self._guard:
            self._recent.clear()

    def queue_at(self, name: str | None, now: datetime, params: Mapping[str, str]
                 ) -> tuple[Queue, datetime]:
        """The queue at `as_of` if the parameters name one, else current()."""
        if params.get("as_of"):
            at = when(params, now)
            return self.backlog(name, at), at
        return self.current(name, now)

    def subsystems(self, now: datetime, params: Mapping[str, str]) -> dict[str, Any]:
        """Every section with open series: counts by state, the oldest waiting."""
        q, at = self.queue_at(None, now, params)
        rows: dict[str, dict[str, Any]] = {}
        for e in q.entries:
            for r in e.routing.routes:
                row = rows.setdefault(r.section, {"name": r.section, "lists": list(r.lists),
                                                  "open_total": 0, "open_by_state": {},
                                                  "taking": 0, "oldest_waiting_since": None})
                row["open_total"] += 1
                row["taking"] += r.is_taker
                by = row["open_by_state"]
                by[e.status.state.value] = by.get(e.status.state.value, 0) + 1
                if e.status.turn in (Turn.REVIEWER, Turn.MAINTAINER):
                    since = e.status.since.isoformat()
                    old = row["oldest_waiting_since"]
                    row["oldest_waiting_since"] = since if old is None else min(old, since)
        listing = sorted(rows.values(), key=lambda r: (-r["open_total"], r["name"]))
        for row in listing:
            row["open_by_state"] = dict(sorted(row["open_by_state"].items()))
        return {"as_of": at.isoformat(), **self._page(params).of(listing)}

    def queue(self, name: str, now: datetime, params: Mapping[str, str]) -> dict[str, Any]:
        """`queue --subsystem NAME --json`, one page of its series, filtered."""
        states = _choices(params, "state", [s.value for s in State])
        turns = _choices(params, "turn", [t.value for t in Turn])
        ready = _flag(params, "ready")
        taker = _flag(params, "taker")
        q, at = self.queue_at(name, now, params)
        entries = [e for e in q.entries
                   if (states is None or e.status.state.value in states)
                   and (turns is None or e.status.turn.value in turns)
                   and (not ready or is_ready(e))
                   and (not taker or (e.routing.taker is not None and
                                      e.routing.taker.section == q.subsystem))]
        p = self._page(params).of([entry_json(e, at) for e in entries])
        return {"subsystem": q.subsystem, "as_of": at.isoformat(), "series": p.pop("items"),
                "ignored": q.ignored, "stats": stats_json(q.stats) if q.stats else None, **p}

    def series(self, message_id: str, now: datetime, params: Mapping[str, str]
               ) -> dict[str, Any]:
        """`series --json`: the series, its status and timeline at `as_of`."""
        at = when(params, now)
        mid = message_id.strip().removeprefix("<").removesuffix(">")
        try:
            v = series_view(self.reader, self.ctx(), mid, at)
        except UnknownSeries as exc:
            raise WebError(404, f"<{mid}> is stored but belongs to no series"
                           if exc.args[1] == "in no series" else f"unknown message <{mid}>"
                           ) from None
        except NotYetPosted as exc:
            raise WebError(404, f"<{exc.args[0]}> was posted after {at.isoformat()}") from None
        except ValueError as exc:
            raise WebError(500, f"<{mid}>: no state as of {at.isoformat()} ({exc})") from None
        out = {**series_json(v.series, v.status.state.value),
               **status_json(v.status, v.routing), "lore": self.link(v.series.series_id)}
        if self.attest is not None:
            with_attestation(out, self.attest([p.message_id for p in v.series.patches]))
        return out

    def stats(self, now: datetime) -> dict[str, Any]:
        """`stats --json`: what the database holds."""
        return {"as_of": now.isoformat(), **self.reader.stats()}

    def reviewer(self, email: str, now: datetime, params: Mapping[str, str]
                 ) -> dict[str, Any]:
        """One person: their sections, the open series waiting on them, reviews given."""
        if "@" not in email:
            raise WebError(400, f"{email!r} is not a mail address")
        aliases = self.reader.aliases()
        person = canonical(email, aliases)
        roles = []
        for sub in self.reads.subsystems():
            for role, entries in (("maintainer", sub.maintainers), ("reviewer", sub.reviewers)):
                if any(canonical(address(x), aliases) == person for x in entries):
                    roles.append({"section": sub.section, "role": role})
        q, at = self.queue_at(None, now, params)
        waiting = next_for(q.entries, person, at)
        given = self.reviews_given(person)
        rows = [entry_json(e, at) for e in waiting]
        p = self._page(params).of(rows)
        return {"email": person, "as_of": at.isoformat(), "subsystems": roles,
                "reviews_given": given, "waiting": p.pop("items"), **p}

    def reviews_given(self, person: str) -> dict[str, int]:
        """Review trailers `person` gave, by kind (each reply counted once per kind)."""
        docs = self.reads.series_docs(self.reads.series_of_actor(person))
        aliases = self.reader.aliases()
        seen: set[tuple[str, str]] = set()
        for s in docs.values():
            for t in [*s.cover_trailers, *(t for p in s.patches for t in p.trailers)]:
                if t.kind in REVIEW_KINDS and canonical(t.email, aliases) == person:
                    seen.add((str(t.source or s.series_id), t.kind.value))
        out = {k.value: 0 for k in REVIEW_KINDS}
        for _, kind in seen:
            out[kind] += 1
        return out

    def act(self, identity: str, verb: str, message_id: str, body: Mapping[str, Any],
            now: datetime) -> dict[str, Any]:
        """A write by the token's identity: claim, release, snooze, assign, state."""
        req = _request(identity, verb, message_id, body)
        try:
            done = act.perform(self.reader, self.actions, self.ctx(), req, now)
        except UnknownSeries:
            raise WebError(404, f"unknown series <{req.series}>") from None
        except act.NotAllowed as exc:
            raise WebError(403, str(exc)) from None
        except manual.ActionRefused as exc:
            raise WebError(400, str(exc)) from None
        self.refresh()  # the series' standing reflects the action at once
        self.forget()
        return {"done": done.summary(), "series_id": done.series_id, "by": identity,
                "action": verb, "at": now.isoformat()}


def _request(identity: str, verb: str, message_id: str, body: Mapping[str, Any]) -> act.Request:
    if verb not in act.VERBS:
        raise WebError(404, f"no action {verb!r} (one of {', '.join(act.VERBS)})")
    known = {"claim": set(), "release": {"reason"}, "snooze": {"duration", "reason"},
             "assign": {"to"}, "state": {"state", "until", "reason"}}[verb]
    unknown = sorted(set(body) - known)
    if unknown:
        raise WebError(400, f"{verb}: unknown field(s) {', '.join(unknown)}")
    for key, value in body.items():
        if not isinstance(value, str):
            raise WebError(400, f"{key} must be a string")
    mid = message_id.strip().removeprefix("<").removesuffix(">")
    duration = None
    if verb == "snooze":
        duration = parse_duration(str(body.get("duration", "")))
        if duration is None:
            raise WebError(400, "snooze needs {\"duration\": \"7d\"} (h, d or w)")
    until = parse_as_of(body["until"]) if body.get("until") else None
    if verb == "state" and body.get("state") not in manual.STATES:
        raise WebError(400, f"state must be one of {', '.join(sorted(manual.STATES))}")
    to = body.get("to")
    return act.Request(verb, mid, identity, duration=duration, person=to or None,
                       state=body.get("state"), until=until, reason=body.get("reason", ""),
                       line=f"{verb} {mid} (API)")
