"""The metrics snapshot: every figure `/metrics` serves, computed in one bounded pass.

One pass over the stored series (columns and the standings of series that can be
open; no history is replayed at a real `now`) gives every configured subsystem's
figures with the same functions `queue --subsystem` uses (queries.statuses,
core.backlog.stats.subsystem_stats), so the two agree at the same instant. Review
counts need the series documents: they are decoded once per series and kept while
the series' last event does not change. The web adapter takes a snapshot off the
event loop every `[metrics] refresh` seconds; scrapes read the last one.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reviewbot.core.backlog.stats import subsystem_stats
from reviewbot.core.backlog.turn import OPEN_STATES, SeriesStatus, State, Turn
from reviewbot.core.model import Series, SeriesId
from reviewbot.core.pulls.cycle import Cycle
from reviewbot.core.pulls.debt import debt_metric
from reviewbot.core.web.metrics import Family, Histogram, Kind, MetricsSnapshot, Sample, histogram
from reviewbot.ports import BacklogReader, PollLog, PullStore, SeriesFigure, WebReads
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import durations, statuses
from reviewbot.service.web.api import REVIEW_KINDS

# Every state a series can be counted in: the open ones, plus applied (and any closed
# state the backlog core adds later that the issue asks for, such as expired).
BACKLOG_STATES = (*sorted(s.value for s in OPEN_STATES), State.APPLIED.value,
                  *(["expired"] if "expired" in {s.value for s in State} else []))
WAITING_TURNS = (Turn.REVIEWER.value, Turn.MAINTAINER.value)
MAIL_KINDS = ("digest", "nag", "escalation", "ack", "thanks", "pull", "other")
SOURCE_KINDS = ("epoch", "lore", "mbox")


def _kind(review: str) -> str:
    return review.lower().replace("-", "_")


@dataclass(frozen=True, slots=True)
class DebtSource:
    name: str  # the label: a configured name, never a path with an address in it
    tree: str
    branch: str


@dataclass
class MetricsService:
    reader: BacklogReader
    ctx: Callable[[], BacklogContext]  # the current one: a reload (SIGHUP) replaces it
    reads: WebReads
    polls: PollLog
    subsystems: Callable[[], Sequence[str]]  # configured section names (label values)
    sources: Sequence[tuple[str, str]] = ()  # configured (list, kind): zeros before polls
    cycle: Callable[[datetime], Cycle | None] = lambda now: None
    pulls: PullStore | None = None
    debt: Sequence[DebtSource] = ()
    version: str = "unknown"
    _reviews: dict[SeriesId, tuple[datetime, frozenset[tuple[str, str, str]]]] = field(
        default_factory=dict)

    def resolved(self) -> list[str]:
        """The configured subsystems as MAINTAINERS spells them (unknown ones left out)."""
        out: list[str] = []
        for name in self.subsystems():
            found = self.reader.resolve_subsystem(name)
            if found is not None and found[0] not in out and "@" not in found[0]:
                out.append(found[0])
        return out

    def snapshot(self, now: datetime, clock: Callable[[], float] = lambda: 0.0
                 ) -> MetricsSnapshot:
        started = clock()
        ctx = self.ctx()
        names = self.resolved() if ctx.maintainers is not None else []
        figures = self.reader.series_figures(None, now)
        status = statuses(self.reader, ctx, figures, now)
        members = self.reads.section_members(names)
        backlog: list[Sample] = []
        ages: list[Sample] = []
        oldest: list[Sample] = []
        first: list[Histogram] = []
        applied: list[Histogram] = []
        review_counts: list[Sample] = []
        ignored_total: list[Sample] = []
        reviews = self._review_keys([f for f in figures if any(
            f.series_id in members[n] for n in names)])
        for name in names:
            figs = [f for f in figures if f.series_id in members[name]]
            ignored = {f.series_id for f in figs if f.ignored is not None}
            open_: dict[str, SeriesStatus] = {f.series_id: status[f.series_id] for f in figs
                     if f.series_id in status and status[f.series_id].is_open
                     and f.series_id not in ignored}
            spans = durations(figs, status, ignored)
            st = subsystem_stats(open_, spans, now)
            # a closed state at `now`: the derived one where there is one (a state the
            # clock can reach, such as an expiry), else the stored one
            now_state = [status[f.series_id].state.value if f.series_id in status else f.state
                         for f in figs if f.series_id not in ignored]
            closed = {s: now_state.count(s) for s in BACKLOG_STATES
                      if s not in {o.value for o in OPEN_STATES}}
            for state in BACKLOG_STATES:
                backlog.append(Sample((name, state), float(
                    st.open_by_state.get(state, 0) if state not in closed else closed[state])))
            ages += [Sample((name, b), float(n)) for b, n in st.age_buckets.items()]
            for turn in WAITING_TURNS:
                since = min((s.since for s in open_.values() if s.turn.value == turn),
                            default=None)
                oldest.append(Sample((name, turn), (now - since).total_seconds()
                                     if since is not None else 0.0))
            first.append(histogram((name,), [d.first_review_at - d.posted_at
                                             for d in spans if d.first_review_at]))
            applied.append(histogram((name,), [d.applied_at - d.posted_at
                                               for d in spans if d.applied_at]))
            given: dict[str, int] = {_kind(k.value): 0 for k in REVIEW_KINDS}
            keys: set[tuple[str, str, str]] = set()
            for f in figs:
                if f.series_id not in ignored:
                    keys |= reviews.get(f.series_id, frozenset())
            for _, kind, _ in keys:
                given[_kind(kind)] += 1
            review_counts += [Sample((name, k), float(n)) for k, n in given.items()]
            # as `queue` counts them: the open series the policy leaves out
            ignored_total.append(Sample((name,), float(sum(
                1 for sid in ignored if sid in status and status[sid].is_open))))
        families = [
            Family("reviewbot_backlog_series", Kind.GAUGE, "Series of a subsystem by state: "
                   "open ones by their state at the snapshot, plus applied.",
                   ("subsystem", "state"), tuple(backlog)),
            Family("reviewbot_backlog_age_series", Kind.GAUGE, "Open series by age since "
                   "posting.", ("subsystem", "age"), tuple(ages)),
            Family("reviewbot_backlog_oldest_waiting_seconds", Kind.GAUGE, "How long the "
                   "longest-waiting open series has waited on its reviewers or maintainers "
                   "(0: none waiting).", ("subsystem", "turn"), tuple(oldest)),
            Family("reviewbot_backlog_ignored_series", Kind.GAUGE, "Open series the "
                   "subsystem's policy leaves out of the queue (bots, AUTOSEL, ...).",
                   ("subsystem",), tuple(ignored_total)),
            Family("reviewbot_time_to_first_review_seconds", Kind.HISTOGRAM, "Posting to "
                   "the first review by someone other than the author, per latest revision.",
                   ("subsystem",), histograms=tuple(first)),
            Family("reviewbot_time_to_applied_seconds", Kind.HISTOGRAM, "Posting to "
                   "applied, per latest revision.", ("subsystem",), histograms=tuple(applied)),
            Family("reviewbot_reviews", Kind.COUNTER, "Review trailers given on the "
                   "subsystem's series (each reply once per kind).", ("subsystem", "kind"),
                   tuple(review_counts)),
            *self._mail(), *self._polls(now), *self._cycle(now), *self._debt(),
            Family("reviewbot_build", Kind.INFO, "reviewbot's version.",
                   info=(("version", self.version), ("python", platform.python_version()))),
            Family("reviewbot_metrics_snapshot_timestamp_seconds", Kind.GAUGE, "When the "
                   "figures served were computed (Unix time).", (),
                   (Sample((), now.timestamp()),)),
            Family("reviewbot_metrics_snapshot_duration_seconds", Kind.GAUGE, "How long "
                   "computing them took.", (), (Sample((), max(clock() - started, 0.0)),)),
        ]
        return MetricsSnapshot(now, tuple(families))

    def _review_keys(self, figures: Iterable[SeriesFigure]
                     ) -> dict[SeriesId, frozenset[tuple[str, str, str]]]:
        """(reply, kind, reviewer) of every review trailer of each series, cached per series
        while its last event stays the same."""
        wanted = {f.series_id: f.last_event_at for f in figures}
        stale = [sid for sid, at in wanted.items()
                 if sid not in self._reviews or self._reviews[sid][0] != at]
        for sid, doc in self.reads.series_docs(stale).items():
            self._reviews[sid] = (wanted[sid], _review_keys(doc))
        for sid in set(self._reviews) - set(wanted):
            del self._reviews[sid]
        return {sid: v[1] for sid, v in self._reviews.items()}

    def _mail(self) -> list[Family]:
        counts = self.reads.outbox_counts()
        by: dict[str, dict[str, int]] = {k: {"sent": 0, "failed": 0, "queued": 0}
                                         for k in MAIL_KINDS}
        for (kind, state), n in counts.items():
            row = by[kind if kind in by else "other"]
            bucket = {"sent": "sent", "failed": "failed", "held": "failed"}.get(state, "queued")
            row[bucket] += n
        return [
            Family("reviewbot_mails_sent", Kind.COUNTER, "Mails the SMTP server accepted.",
                   ("kind",), tuple(Sample((k,), float(v["sent"])) for k, v in by.items())),
            Family("reviewbot_mails_failed", Kind.COUNTER, "Mails given up on or held "
                   "(refused for good, or in doubt).", ("kind",),
                   tuple(Sample((k,), float(v["failed"])) for k, v in by.items())),
            Family("reviewbot_mails_queued", Kind.GAUGE, "Mails waiting to be sent.",
                   ("kind",), tuple(Sample((k,), float(v["queued"])) for k, v in by.items())),
        ]

    def _polls(self, now: datetime) -> list[Family]:
        rows: dict[tuple[str, str], list[float]] = {}
        for lst, kind in self.sources:
            rows.setdefault((lst, kind), [0.0, 0.0, 0.0])
        for r in self.polls.records():
            if r.kind not in SOURCE_KINDS or "@" in r.list_name or not r.list_name:
                continue
            row = rows.setdefault((r.list_name, r.kind), [0.0, 0.0, 0.0])
            row[0] += r.polls
            row[1] += r.errors
            if r.last_success is not None:
                row[2] = max(row[2], r.last_success.timestamp())
        lag = [Sample((lst,), max((now - at).total_seconds(), 0.0))
               for lst, at in sorted(self.reads.newest_mail().items())
               if lst and "@" not in lst]
        return [
            Family("reviewbot_source_polls", Kind.COUNTER, "Polls of a source (lore, "
                   "public-inbox epoch, mbox).", ("list", "kind"),
                   tuple(Sample(k, v[0]) for k, v in sorted(rows.items()))),
            Family("reviewbot_source_poll_errors", Kind.COUNTER, "Polls that failed.",
                   ("list", "kind"), tuple(Sample(k, v[1]) for k, v in sorted(rows.items()))),
            Family("reviewbot_source_last_success_timestamp_seconds", Kind.GAUGE, "When the "
                   "source was last polled without error (Unix time; 0: never).",
                   ("list", "kind"), tuple(Sample(k, v[2]) for k, v in sorted(rows.items()))),
            Family("reviewbot_ingest_lag_seconds", Kind.GAUGE, "Age of the newest stored "
                   "mail of the list (its archive time): how far behind the list reviewbot "
                   "appears to be.", ("list",), tuple(lag)),
        ]

    def _cycle(self, now: datetime) -> list[Family]:
        c = self.cycle(now)
        if c is None:
            return []
        out = [Family("reviewbot_merge_window_open", Kind.GAUGE, "1 while mainline's merge "
                      "window is open.", (), (Sample((), 1.0 if c.merge_window_open else 0.0),))]
        if c.next_merge_window is not None:
            at = datetime(c.next_merge_window.year, c.next_merge_window.month,
                          c.next_merge_window.day, tzinfo=now.tzinfo)
            out.append(Family("reviewbot_merge_window_next_timestamp_seconds", Kind.GAUGE,
                              "Earliest expected opening of the next merge window.", (),
                              (Sample((), at.timestamp()),)))
        return out

    def _debt(self) -> list[Family]:
        if self.pulls is None or not self.debt:
            return []
        samples: list[Sample] = []
        for d in self.debt:
            history = self.pulls.debt_history(d.tree, d.branch)
            counts: Mapping[str, int] = max(history, key=lambda h: h[0])[1] if history else {}
            samples += [Sample(k, float(v)) for k, v in debt_metric(d.name, counts).items()]
        return [Family("reviewbot_upstream_debt_commits", Kind.GAUGE, "Commits of a "
                       "downstream branch missing upstream, by class (the last "
                       "`reviewbot debt --record`).", ("tree", "class"), tuple(samples))]


def _review_keys(s: Series) -> frozenset[tuple[str, str, str]]:
    out = set()
    for t in [*s.cover_trailers, *(t for p in s.patches for t in p.trailers)]:
        if t.kind in REVIEW_KINDS and t.email and t.email != s.author_email.lower():
            out.add((str(t.source or s.series_id), t.kind.value, t.email))
    return frozenset(out)

