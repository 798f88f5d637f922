"""Who should review a series, best first, each with the reason. Pure; `now` is a parameter.

Candidates are the routed sections' R: and M: entries, the policy's reviewers
pool, and everyone who gave a Reviewed-by/Acked-by on the list, in the past
year, to a series touching the same files. The score (documented in the
README, "Reviewer suggestions"):

- listed: R: of the section expected to take it 3, R: of another routed section
  2, M: of the taker 2, M: of another routed section 1, pool 1;
- past reviews: for each earlier series they reviewed on these files,
  2 x 0.5 ** (age in days / 90) (a review three months old counts half), plus
  the share of this series' files that series touched;
- divided by (1 + load / 3), load being the open series of the subsystem that
  wait on them now (their turn, or assigned to them).

Never the author, never a bot, never someone absent today.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reviewbot.core.mail.classify import is_bot
from reviewbot.core.model import SeriesId
from reviewbot.core.policy.model import Policy, address, is_absent

YEAR = timedelta(days=365)
HALF_LIFE_DAYS = 90.0
LOAD_STEP = 3.0


@dataclass(frozen=True, slots=True)
class PastReview:
    """A Reviewed-by/Acked-by given on the list in a reply to a series touching `path`."""

    series_id: SeriesId
    reviewer: str  # lower-cased
    kind: str
    at: datetime
    path: str


@dataclass(frozen=True, slots=True)
class SectionPeople:
    section: str
    taker: bool
    maintainers: tuple[str, ...]  # "Name <a@b>" as MAINTAINERS lists them
    reviewers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    address: str
    name: str
    score: float
    reasons: tuple[str, ...]
    load: int

    def short(self) -> str:
        """"Name <a@b>" or the address."""
        return f"{self.name} <{self.address}>" if self.name else self.address


@dataclass
class _Candidate:
    name: str = ""
    listed: float = 0.0
    history: float = 0.0
    reasons: list[str] = field(default_factory=list)
    series: dict[str, tuple[datetime, set[str]]] = field(default_factory=dict)


def rank_reviewers(
    *, sections: Sequence[SectionPeople], files: Collection[str], past: Sequence[PastReview],
    load: Mapping[str, int], author: str, policy: Policy, now: datetime,
    aliases: Mapping[str, str] | None = None, series_id: str = "", limit: int = 10,
) -> list[Suggestion]:
    """Candidates for one series, best first (ties: by address)."""
    alias = {k.lower(): v.lower() for k, v in (aliases or {}).items()}

    def canon(addr: str) -> str:
        a = address(addr) if "<" in addr else addr.lower()
        return alias.get(a, a)

    people: dict[str, _Candidate] = {}

    def listed(entry: str, weight: float, why: str) -> None:
        addr = canon(entry)
        if "@" not in addr:
            return
        c = people.setdefault(addr, _Candidate())
        name = entry.split("<", 1)[0].strip().strip('"') if "<" in entry else ""
        c.name = c.name or name
        if weight > c.listed:
            c.listed = weight
        c.reasons.append(why)

    for s in sections:
        for entry in s.reviewers:
            listed(entry, 3.0 if s.taker else 2.0, f"R: of {s.section}")
        for entry in s.maintainers:
            listed(entry, 2.0 if s.taker else 1.0, f"M: of {s.section}")
    for entry in policy.reviewers.pool:
        listed(entry, 1.0, f"in the {policy.name} policy's reviewers pool")
    wanted = set(files)
    for p in past:
        if p.series_id == series_id or now - p.at > YEAR or p.at > now:
            continue
        c = people.setdefault(canon(p.reviewer), _Candidate())
        at, paths = c.series.get(p.series_id, (p.at, set()))
        paths.add(p.path)
        c.series[p.series_id] = (min(at, p.at), paths)
    out: list[Suggestion] = []
    me = canon(author) if author else ""
    for addr, c in people.items():
        if addr == me or is_bot(c.name, addr, {}) or is_absent(policy, addr, now):
            continue
        reasons = list(dict.fromkeys(c.reasons))
        if c.series:
            history = 0.0
            for at, paths in c.series.values():
                age_days = max((now - at).total_seconds(), 0) / 86400
                history += 2 * 0.5 ** (age_days / HALF_LIFE_DAYS)
                history += len(paths & wanted) / max(len(wanted), 1)
            last = max(at for at, _ in c.series.values())
            n = len(c.series)
            example = sorted({p for _, paths in c.series.values() for p in paths})[0]
            reasons.append(f"reviewed {n} series on these files in the past year "
                           f"(last {last:%Y-%m-%d}; e.g. {example})")
            c.history = history
        busy = load.get(addr, 0)
        if busy:
            reasons.append(f"{busy} open series wait on them now")
        score = (c.listed + c.history) / (1 + busy / LOAD_STEP)
        if score <= 0:
            continue
        out.append(Suggestion(addr, c.name, round(score, 3), tuple(reasons), busy))
    out.sort(key=lambda s: (-s.score, s.address))
    return out[:limit]


def waiting_load(waiting: Sequence[tuple[tuple[str, ...], tuple[str, ...]]]) -> dict[str, int]:
    """Open series waiting on each person: per series (waiting_on, assignees)."""
    load: dict[str, int] = {}
    for waiting_on, assignees in waiting:
        for who in {*waiting_on, *assignees}:
            load[who] = load.get(who, 0) + 1
    return load
