"""The cycle review report of one subsystem: gather its threads, compute, render.

The series come from the query port (the subsystem's series through
series_section, posted since the previous period began, minus a look-back for
threads that started earlier): their stored histories give every message of
their threads. Nothing scans the whole archive: what is read is bounded by the
subsystem and the two periods.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from reviewbot.core.backlog.cyclereport import CycleReport, Period, Thread, ThreadMail, cycle_report
from reviewbot.core.model import MessageKind, Series, TrailerKind
from reviewbot.core.policy.model import Policy
from reviewbot.ports import BacklogReader, SeriesHistory
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import UnknownSubsystem

LOOKBACK = timedelta(days=120)  # threads started this long before a period still count
CHUNK = 200  # series histories read at once
_REVIEW = (TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY)


def _canon(aliases: Mapping[str, str], addr: str) -> str:
    a = addr.lower()
    return aliases.get(a, a)


def thread_of(h: SeriesHistory, aliases: Mapping[str, str],
              applied_at: datetime | None) -> Thread:
    s: Series = h.series
    author = _canon(aliases, s.author_email)
    postings = {p.message_id for p in s.patches} | (
        {s.cover_message_id} if s.cover_message_id else set())
    reviewers = sorted({_canon(aliases, t.email) for t in
                        (*s.cover_trailers, *(t for p in s.patches for t in p.trailers))
                        if t.kind in _REVIEW and t.email} - {author})
    mails = []
    for m in h.members:
        sender = _canon(aliases, m.from_email)
        tagged = any(t.kind in _REVIEW and _canon(aliases, t.email) == sender
                     for t in m.trailers)
        posting = m.message_id in postings and m.kind in (MessageKind.PATCH, MessageKind.COVER)
        mails.append(ThreadMail(m.date, sender, m.from_name, posting, m.is_bot, tagged))
    return Thread(s.series_id, author, s.author_name, s.date, applied_at, tuple(reviewers),
                  tuple(mails))


def gather_threads(reader: BacklogReader, subsystem: str, earliest: datetime,
                   until: datetime) -> tuple[str, list[Thread]]:
    """The subsystem's (not ignored) series threads with mail in [earliest, until)."""
    found = reader.resolve_subsystem(subsystem)
    if found is None:
        raise UnknownSubsystem(subsystem)
    name, sections = found
    figures = [f for f in reader.series_figures(sections, until) if f.ignored is None and (
        f.posted_at >= earliest - LOOKBACK or (f.applied_at and f.applied_at >= earliest))]
    applied = {f.series_id: f.applied_at for f in figures}
    aliases = {k.lower(): v.lower() for k, v in reader.aliases().items()}
    threads: list[Thread] = []
    ids = [f.series_id for f in figures]
    for i in range(0, len(ids), CHUNK):
        for sid, h in sorted(reader.histories(ids[i:i + CHUNK]).items()):
            threads.append(thread_of(h, aliases, applied.get(sid)))
    return name, threads


def report(reader: BacklogReader, ctx: BacklogContext, subsystem: str, period: Period,
           *, top: int | None = None) -> tuple[CycleReport, Policy]:
    name, threads = gather_threads(reader, subsystem, period.previous_since, period.until)
    policy = ctx.policies.for_subsystem(name)
    rep = cycle_report(threads, subsystem=name, since=period.since, until=period.until,
                       previous_since=period.previous_since, label=period.label,
                       previous_label=period.previous_label, employer=policy.report.employer,
                       top=top or policy.report.top)
    return rep, policy


def dates_period(since: datetime, until: datetime) -> Period:
    """--since/--until: the previous period is as long, right before it."""
    return Period(since, until, since - (until - since), "", "")

