"""The cycle review report (after netdev's "development stats"). Pure.

Who reviews and who only posts, by person and by employer, over the threads of
one subsystem's series in a period. Definitions (README, "Cycle review report"):

- a message counts when it is in a thread of a series routed to the subsystem
  and dated in the period; bots' mail counts in the daily totals only;
- a *posting* is a patch or cover letter sent by the series' author; a *reply to
  another's thread* is any other mail in a thread whose author is someone else;
- people by role: posted only, replied to others' threads only, both;
- applied series (fully applied in the period): the share with a Reviewed-by/
  Acked-by from someone other than the author, and from another employer domain;
- top reviewers: other people's threads replied to (threads) and those replies
  (messages); top authors: threads posted, and messages in their own threads;
  rank changes against the previous period;
- per employer domain (the mail domain through the policy's domain map):
  reviews given, series posted, reviews received, and the score
  given - received, where each (thread, reviewer) pair counts 1, and 2 when
  that reviewer gave a review tag in the thread (netdev weighs reviews over
  replies the same way); a domain reviewing its own series gives and receives
  alike, so only review across employers moves the score.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from reviewbot.core.pulls.cycle import parse_tag


@dataclass(frozen=True, slots=True)
class ThreadMail:
    at: datetime
    sender: str  # canonical address
    name: str
    posting: bool  # a patch or cover of the series, by its author
    bot: bool
    tagged: bool = False  # carries a Reviewed-by/Acked-by from its sender


@dataclass(frozen=True, slots=True)
class Thread:
    series_id: str
    author: str  # canonical
    author_name: str
    posted_at: datetime
    applied_at: datetime | None
    reviewers: tuple[str, ...]  # canonical givers of review tags (carried ones too), not the author
    mails: tuple[ThreadMail, ...]


@dataclass(frozen=True, slots=True)
class Ranked:
    rank: int
    who: str  # address
    name: str
    count: int
    change: int | None  # places up (+) or down (-) since the previous period; None: new

    def change_text(self) -> str:
        if self.change is None:
            return "new"
        return f"{self.change:+d}" if self.change else "="


@dataclass(frozen=True, slots=True)
class DomainFigures:
    domain: str
    reviews_given: int  # weighted (thread, reviewer) pairs on others' threads
    series_posted: int
    reviews_received: int

    @property
    def score(self) -> int:
        return self.reviews_given - self.reviews_received


@dataclass(frozen=True, slots=True)
class CycleReport:
    subsystem: str
    label: str  # "v6.16" or "2025-06-01..2025-07-27"
    since: datetime
    until: datetime
    previous_label: str
    messages: int
    per_day: tuple[tuple[date, int], ...]
    people: Mapping[str, int]  # posted_only, replied_only, both
    applied: int
    applied_reviewed: int
    applied_cross_domain: int
    reviewers_threads: tuple[Ranked, ...]
    reviewers_messages: tuple[Ranked, ...]
    authors_threads: tuple[Ranked, ...]
    authors_messages: tuple[Ranked, ...]
    domains: tuple[DomainFigures, ...]

    def share(self, n: int) -> float:
        return round(100 * n / self.applied, 1) if self.applied else 0.0


@dataclass
class _Tally:
    review_threads: dict[str, set[str]]
    review_msgs: dict[str, int]
    author_threads: dict[str, set[str]]
    author_msgs: dict[str, int]
    names: dict[str, str]


def _tally(threads: Iterable[Thread], since: datetime, until: datetime) -> _Tally:
    t = _Tally({}, {}, {}, {}, {})
    for th in threads:
        for m in th.mails:
            if m.bot or not since <= m.at < until:
                continue
            if m.name:
                t.names.setdefault(m.sender, m.name)
            if m.posting or m.sender == th.author:
                t.author_msgs[m.sender] = t.author_msgs.get(m.sender, 0) + 1
                if m.posting:
                    t.author_threads.setdefault(m.sender, set()).add(th.series_id)
            else:
                t.review_msgs[m.sender] = t.review_msgs.get(m.sender, 0) + 1
                t.review_threads.setdefault(m.sender, set()).add(th.series_id)
    return t


def _ranking(counts: Mapping[str, int], names: Mapping[str, str],
             before: Mapping[str, int] | None, top: int) -> tuple[Ranked, ...]:
    def order(c: Mapping[str, int]) -> list[str]:
        return sorted(c, key=lambda w: (-c[w], names.get(w, w).lower(), w))

    earlier = {w: i + 1 for i, w in enumerate(order(before))} if before is not None else {}
    out = []
    for i, who in enumerate(order(counts)[:top]):
        change = earlier[who] - (i + 1) if who in earlier else None
        out.append(Ranked(i + 1, who, names.get(who, ""), counts[who], change))
    return tuple(out)


def _counts(groups: Mapping[str, set[str]]) -> dict[str, int]:
    return {w: len(s) for w, s in groups.items()}


def cycle_report(
    threads: Sequence[Thread], *, subsystem: str, since: datetime, until: datetime,
    previous_since: datetime, label: str = "", previous_label: str = "",
    employer: Callable[[str], str], top: int = 10,
) -> CycleReport:
    """Figures over [since, until), rank changes against [previous_since, since)."""
    per_day: dict[date, int] = {}
    posters: set[str] = set()
    repliers: set[str] = set()
    for th in threads:
        for m in th.mails:
            if not since <= m.at < until:
                continue
            day = m.at.date()
            per_day[day] = per_day.get(day, 0) + 1
            if m.bot:
                continue
            if m.posting:
                posters.add(m.sender)
            elif m.sender != th.author:
                repliers.add(m.sender)
    now = _tally(threads, since, until)
    before = _tally(threads, previous_since, since)
    applied = [th for th in threads if th.applied_at is not None and
               since <= th.applied_at < until]
    reviewed = [th for th in applied if th.reviewers]
    cross = [th for th in reviewed
             if any(employer(r) != employer(th.author) for r in th.reviewers)]
    domains = _domains(threads, since, until, employer)
    return CycleReport(
        subsystem=subsystem, label=label or f"{since:%Y-%m-%d}..{until:%Y-%m-%d}",
        since=since, until=until,
        previous_label=previous_label or f"{previous_since:%Y-%m-%d}..{since:%Y-%m-%d}",
        messages=sum(per_day.values()), per_day=tuple(sorted(per_day.items())),
        people={"posted_only": len(posters - repliers), "replied_only": len(repliers - posters),
                "both": len(posters & repliers)},
        applied=len(applied), applied_reviewed=len(reviewed), applied_cross_domain=len(cross),
        reviewers_threads=_ranking(_counts(now.review_threads), now.names,
                                   _counts(before.review_threads), top),
        reviewers_messages=_ranking(now.review_msgs, now.names, before.review_msgs, top),
        authors_threads=_ranking(_counts(now.author_threads), now.names,
                                 _counts(before.author_threads), top),
        authors_messages=_ranking(now.author_msgs, now.names, before.author_msgs, top),
        domains=domains)


def _domains(threads: Sequence[Thread], since: datetime, until: datetime,
             employer: Callable[[str], str]) -> tuple[DomainFigures, ...]:
    given: dict[str, int] = {}
    received: dict[str, int] = {}
    posted: dict[str, int] = {}
    for th in threads:
        mine = employer(th.author)
        if any(m.posting and since <= m.at < until for m in th.mails):
            posted[mine] = posted.get(mine, 0) + 1
        pairs: dict[str, int] = {}
        for m in th.mails:
            if m.bot or m.posting or m.sender == th.author or not since <= m.at < until:
                continue
            pairs[m.sender] = max(pairs.get(m.sender, 0), 2 if m.tagged else 1)
        for who, weight in pairs.items():
            d = employer(who)
            given[d] = given.get(d, 0) + weight
            received[mine] = received.get(mine, 0) + weight
    names = {*given, *received, *posted}
    out = [DomainFigures(d, given.get(d, 0), posted.get(d, 0), received.get(d, 0))
           for d in names]
    out.sort(key=lambda f: (-f.score, -f.reviews_given, f.domain))
    return tuple(out)


class UnknownCycle(ValueError):
    """No such release among the tags, or the tags carry no dates."""


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime
    previous_since: datetime
    label: str
    previous_label: str


def cycle_period(tags: Iterable[tuple[str, datetime | None]], version: str,
                 now: datetime) -> Period:
    """The development cycle of `version` ("v6.16" or "6.16"): from the release before
    it (its merge window opens) to its own release (or `now`, if not released yet);
    the previous cycle before that."""
    wanted = parse_tag(version if version.startswith("v") else f"v{version}")
    if wanted is None or wanted.rc is not None:
        raise UnknownCycle(f"{version!r} is not a release (vX.Y)")
    releases = sorted((t for t in (parse_tag(n, d) for n, d in tags)
                       if t is not None and t.rc is None), key=lambda t: t.order)
    if any(t.date is None for t in releases):
        raise UnknownCycle("the mainline tags carry no dates (git ls-remote): give a kernel "
                           "repository with --tree, or --since/--until")
    earlier = [t for t in releases if t.order < wanted.order]
    if len(earlier) < 2:
        raise UnknownCycle(f"need the two releases before {wanted.name} among the tags")
    own = next((t for t in releases if t.order == wanted.order), None)
    start, before = earlier[-1], earlier[-2]
    assert start.date is not None and before.date is not None
    until = own.date if own is not None and own.date is not None else now
    return Period(start.date, until, before.date, wanted.name, start.name)
