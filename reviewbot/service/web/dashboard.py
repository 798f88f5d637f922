"""What the dashboard pages show, as data (the web adapter draws it).

Backlog over time comes from stored columns, never from replays: each series'
posting, first review and closing time (applied_at; the successor's posting for a
superseded revision; the last event for one rejected or archived), swept once over
weekly sample times (core.backlog.history). The rest is the query API's answer at
`now` (queue, stats) and the series documents of the subsystem for the review report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reviewbot.core.backlog.history import (
    COARSE_STATES,
    Span,
    age_distribution,
    backlog_over_time,
    first_review_by_month,
    months_back,
    sample_times,
)
from reviewbot.core.backlog.turn import State
from reviewbot.core.pulls.cycle import Cycle
from reviewbot.ports import SeriesFigure
from reviewbot.service.backlog.queries import Entry
from reviewbot.service.backlog.ready import ready_entries
from reviewbot.service.backlog.shapes import days, entry_json, stats_json
from reviewbot.service.web.api import REVIEW_KINDS, Api

CLOSED_AT_LAST_EVENT = frozenset({State.REJECTED.value, State.ARCHIVED.value})
DEFAULT_CYCLE = timedelta(days=70)  # about one release cycle, when mainline's tags are unknown


def cycle_start(c: Cycle | None, now: datetime) -> tuple[datetime, str]:
    """When the current release cycle began (the last release), and how that is known.
    rcN comes N+1 weeks after the release (the window is two weeks, then weekly rcs)."""
    if c is not None and c.latest_tag_date is not None:
        if c.merge_window_open:
            return c.latest_tag_date, f"since {c.release}"
        if c.rc is not None:
            return c.latest_tag_date - timedelta(weeks=c.rc + 1), f"since {c.release} (about)"
    return now - DEFAULT_CYCLE, f"the last {DEFAULT_CYCLE.days} days"


@dataclass
class Dashboard:
    api: Api
    subsystems: Callable[[], Sequence[str]]  # the configured ones (metrics' set)
    cycle: Callable[[datetime], Cycle | None] = lambda now: None

    def index_page(self, now: datetime, as_of: str | None = None) -> dict[str, Any]:
        """`as_of` (as given) is kept in the page's links."""
        every = self.api.subsystems(now, {"limit": str(self.api.max_page_size)})
        configured = list(self.subsystems())
        rows = [r for r in every["items"] if r["name"] in configured] if configured \
            else every["items"][:20]
        shown = {r["name"] for r in rows}
        rows += [{"name": n, "lists": [], "open_total": 0, "open_by_state": {}, "taking": 0,
                  "oldest_waiting_since": None} for n in configured if n not in shown]
        return {"as_of": now.isoformat(), "as_of_param": as_of, "subsystems": rows,
                "configured": bool(configured), "sections_with_open": every["total"]}

    def subsystem_page(self, name: str, now: datetime, as_of: str | None = None
                       ) -> dict[str, Any]:
        q, now = self.api.queue_at(name, now, {"as_of": as_of} if as_of else {})
        found = self.api.reader.resolve_subsystem(name)
        assert found is not None and q.stats is not None
        figures = [f for f in self.api.reader.series_figures(found[1], now)
                   if f.ignored is None]
        spans = self._spans(figures)
        latest = [s for f, s in zip(figures, spans, strict=True)
                  if f.state != State.SUPERSEDED.value]
        months = months_back(now, 12)
        start, how = cycle_start(self.cycle(now), now)
        ready = ready_entries(q.entries)
        titles: dict[str, Entry] = {e.summary.series_id: e for e in q.entries}
        return {
            "name": q.subsystem, "as_of": now.isoformat(), "as_of_param": as_of,
            "stats": stats_json(q.stats),
            "backlog_states": list(COARSE_STATES),
            "backlog": [{"at": p.at.isoformat(), "counts": list(p.counts)}
                        for p in backlog_over_time(spans, sample_times(now))],
            "ages": age_distribution((e.summary.date for e in q.entries), now),
            "first_review": [{"month": m.month, "posted": m.posted, "reviewed": m.reviewed,
                              "p50_days": days(m.p50), "p90_days": days(m.p90)}
                             for m in first_review_by_month(latest, months)],
            "reviewer_load": dict(q.stats.reviewer_load),
            "cycle": {"since": start.isoformat(), "label": how,
                      **self._reviews(figures, start)},
            "ready": [{**entry_json(e, now), "lore": self.api.link(e.summary.series_id)}
                      for e in ready],
            "oldest": [{"series_id": w.series_id, "since": w.since.isoformat(),
                        "state": w.state.value, "turn": w.turn.value, "reason": w.reason,
                        "title": titles[w.series_id].summary.title
                        if w.series_id in titles else "",
                        "lore": self.api.link(w.series_id)}
                       for w in q.stats.oldest_waiting],
        }

    def _spans(self, figures: Sequence[SeriesFigure]) -> list[Span]:
        successor = self.api.reads.superseded_at(
            [f.series_id for f in figures if f.superseded])
        out = []
        for f in figures:
            closed: datetime | None = None
            if f.state == State.APPLIED.value:
                closed = f.applied_at or f.last_event_at
            elif f.superseded:
                closed = successor.get(f.series_id, f.last_event_at)
            elif f.state in CLOSED_AT_LAST_EVENT:
                closed = f.last_event_at
            out.append(Span(f.posted_at, f.first_review_at, closed))
        return out

    def _reviews(self, figures: Sequence[SeriesFigure], since: datetime) -> dict[str, Any]:
        """Reviews given and received in the cycle, by person and by employer domain:
        review trailers on the subsystem's series active since `since` (each reply once
        per kind), given by someone other than the author."""
        active = [f.series_id for f in figures if f.last_event_at >= since]
        docs = self.api.reads.series_docs(active)
        given: dict[str, int] = {}
        received: dict[str, int] = {}
        seen: set[tuple[str, str, str]] = set()
        for s in docs.values():
            author = s.author_email.lower()
            for t in [*s.cover_trailers, *(t for p in s.patches for t in p.trailers)]:
                key = (str(t.source or s.series_id), t.kind.value, t.email)
                if t.kind not in REVIEW_KINDS or not t.email or t.email == author or key in seen:
                    continue
                seen.add(key)
                given[t.email] = given.get(t.email, 0) + 1
                received[author] = received.get(author, 0) + 1

        def top(counts: dict[str, int], n: int = 15) -> list[list[Any]]:
            return [[k, v] for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]

        def by_domain(counts: dict[str, int]) -> dict[str, int]:
            out: dict[str, int] = {}
            for who, n in counts.items():
                domain = who.rpartition("@")[2] or "(none)"
                out[domain] = out.get(domain, 0) + n
            return out

        return {"reviews": len(seen), "series": len(docs),
                "given": top(given), "received": top(received),
                "given_by_domain": top(by_domain(given)),
                "received_by_domain": top(by_domain(received))}
