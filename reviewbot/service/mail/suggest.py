"""Reviewer suggestions for a series (`reviewbot suggest`, digests, reminders).

The series, its routing and the subsystem's open series come from the query
API; past reviewers by file from the review index the refresh fills (no scan of
series documents). The ranking itself is core.backlog.suggest.rank_reviewers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reviewbot.core.backlog.suggest import (
    YEAR,
    SectionPeople,
    Suggestion,
    rank_reviewers,
    waiting_load,
)
from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.policy.model import Policy
from reviewbot.ports import BacklogReader, ReviewIndex
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import Entry, queue, series_view


@dataclass(frozen=True, slots=True)
class SuggestResult:
    series_id: str
    title: str
    files: tuple[str, ...]
    subsystem: str | None  # the taker's section
    suggestions: tuple[Suggestion, ...]


def sections_of(routing: SeriesRouting) -> list[SectionPeople]:
    return [SectionPeople(r.section, r.is_taker, r.maintainers, r.reviewers)
            for r in routing.routes]


def load_of(entries: Sequence[Entry]) -> dict[str, int]:
    return waiting_load([(e.status.waiting_on, e.status.assignees) for e in entries])


def rank(*, routing: SeriesRouting, files: Sequence[str], author: str, series_id: str,
         policy: Policy, index: ReviewIndex, load: Mapping[str, int],
         aliases: Mapping[str, str], now: datetime, limit: int = 10) -> list[Suggestion]:
    past = index.reviews_on(files, now - YEAR) if files else []
    return rank_reviewers(sections=sections_of(routing), files=files, past=past, load=load,
                          author=author, policy=policy, now=now, aliases=aliases,
                          series_id=series_id, limit=limit)


def suggest(reader: BacklogReader, ctx: BacklogContext, index: ReviewIndex, message_id: str,
            now: datetime, limit: int = 10) -> SuggestResult:
    """Rank reviewers for the series holding `message_id` (UnknownSeries, NotYetPosted)."""
    view = series_view(reader, ctx, message_id, now)
    s = view.series
    files = tuple(sorted({f for p in s.patches for f in p.files}))
    taker = view.routing.taker
    load: dict[str, int] = {}
    if taker is not None:
        load = load_of(queue(reader, ctx, now, taker.section).entries)
    found = rank(routing=view.routing, files=files, author=s.author_email,
                 series_id=s.series_id, policy=view.policy, index=index, load=load,
                 aliases=reader.aliases(), now=now, limit=limit)
    return SuggestResult(s.series_id, s.title, files, taker.section if taker else None,
                         tuple(found))
