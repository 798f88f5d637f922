"""Per-subsystem policy: frozen types, selection and evaluation helpers.

The TOML schema and its validation live in `core.policy_schema`; this module
holds what the rest of the core consumes. Pure: `now` is always a parameter.
Defaults follow conventions.md (§1 pinging, §3 nags) and are restated in
policies/default.toml, which may override them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr
from enum import StrEnum
from fnmatch import fnmatchcase
from functools import lru_cache
from zoneinfo import ZoneInfo

from reviewbot.core.model import Series

DEFAULT_NAME = "default"


class AssignStrategy(StrEnum):
    LEAST_LOADED = "least-loaded"
    ROUND_ROBIN = "round-robin"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class DateRange:
    """Whole days in the policy's time zone, both ends included."""

    start: date
    end: date
    reason: str = ""

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class Absence:
    who: str  # lower-cased address
    days: DateRange


@dataclass(frozen=True, slots=True)
class Sla:
    first_review: timedelta = timedelta(days=14)  # posted -> first reviewer response
    followup_review: timedelta = timedelta(days=7)  # author answered / new revision -> reviewers
    apply: timedelta = timedelta(days=14)  # ready to apply -> applied
    stale_after: timedelta = timedelta(days=30)  # no human activity at all
    expire_after: timedelta = timedelta(days=90)  # no activity: closed ("expired") until mail


@dataclass(frozen=True, slots=True)
class NagPolicy:
    enabled: bool = False  # nags are opt-in (conventions.md §3)
    first_after: timedelta = timedelta(days=7)  # no reminder until a week after the last activity
    cadence: timedelta = timedelta(days=7)  # between two nags to one reviewer about one series
    per_reviewer_series_week: int = 1
    per_reviewer_week: int = 5
    global_daily: int = 20


@dataclass(frozen=True, slots=True)
class Escalation:
    after_nags: int | None = 2  # None: never by count
    after: timedelta | None = timedelta(days=28)  # waiting this long; None: never by age
    to: tuple[str, ...] = ("maintainers",)  # "maintainers", "lists" or addresses


@dataclass(frozen=True, slots=True)
class Quiet:
    merge_window: bool = True  # pause from the final vX.Y tag until -rc1
    periods: tuple[DateRange, ...] = ()


@dataclass(frozen=True, slots=True)
class Reviewers:
    strategy: AssignStrategy = AssignStrategy.LEAST_LOADED
    pool: tuple[str, ...] = ()  # lower-cased addresses, added to the section's M:/R:
    per_series: int = 1  # how many reviewers an assignment picks
    include_maintainers: bool = True  # M: entries are candidates too, not only R:
    absences: tuple[Absence, ...] = ()


@dataclass(frozen=True, slots=True)
class Digest:
    recipients: tuple[str, ...] = ("maintainers",)
    days: tuple[str, ...] = ("mon",)  # mon..sun
    at: time = time(8, 0)  # local time in the policy's zone


@dataclass(frozen=True, slots=True)
class Ignore:
    bots: bool = True  # series posted by bots
    autosel: bool = True  # stable AUTOSEL backports
    stable_review: bool = True  # "[PATCH 6.12 000/123] 6.12.5-rc1 review"
    rfc: bool = False  # False: RFCs are tracked (flagged, no SLA); True: hidden
    senders: tuple[str, ...] = ()  # address globs, "*@example.com"


@dataclass(frozen=True, slots=True)
class Tree:
    url: str | None = None
    branches: tuple[str, ...] = ()
    # who else says "applied" for this tree besides the routed sections' M: (lower-cased)
    appliers: tuple[str, ...] = ()


class PullTransport(StrEnum):
    EMAIL = "email"
    GITLAB_MR = "gitlab-mr"


@dataclass(frozen=True, slots=True)
class Pull:
    """Pull requests (conventions.md §2, §9): subject, recipients, checks, GitLab."""

    name: str | None = None  # the subsystem's name in subjects; None: the policy's name
    url: str | None = None  # the public repository request-pull names; None: [tree] url
    subject_template: str = "[GIT PULL] {name} changes for v{version}"
    fixes_subject_template: str = "[GIT PULL] {name} fixes for v{next_rc}"
    fixes_tags: tuple[str, ...] = ("*fixes*", "for-rc*")  # tag globs that make a fixes PR
    branch: str | None = None  # {branch}; None: the tag without a trailing -YYYY-MM-DD
    to: tuple[str, ...] = ("Linus Torvalds <torvalds@linux-foundation.org>",)
    cc: tuple[str, ...] = ("lists", "linux-kernel@vger.kernel.org")  # "lists": [subsystem]
    greeting: str = "Hi Linus,"
    upstream_ref: str | None = None  # an upstream branch that is a good base too
    linux_next_ref: str | None = None  # e.g. "linux-next/master"; None: not checked
    late_rebase: timedelta = timedelta(days=5)
    transport: PullTransport = PullTransport.EMAIL
    gitlab_url: str | None = None
    gitlab_project: str | None = None  # where the merge request is opened
    source_project: str | None = None  # a fork holding source_branch; None: gitlab_project
    source_branch: str | None = None
    target_branch: str | None = None
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Policy:
    name: str = DEFAULT_NAME  # file stem
    sections: tuple[str, ...] = ()  # MAINTAINERS section names this policy is for
    lists: tuple[str, ...] = ()  # list addresses, lower-case
    time_zone: str = "UTC"
    sla: Sla = field(default_factory=Sla)
    nag: NagPolicy = field(default_factory=NagPolicy)
    escalation: Escalation = field(default_factory=Escalation)
    quiet: Quiet = field(default_factory=Quiet)
    reviewers: Reviewers = field(default_factory=Reviewers)
    digest: Digest = field(default_factory=Digest)
    ignore: Ignore = field(default_factory=Ignore)
    tree: Tree = field(default_factory=Tree)
    pull: Pull = field(default_factory=Pull)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_day(self, now: datetime) -> date:
        """The calendar day `now` falls on in the policy's zone."""
        return now.astimezone(self.zone).date()


@dataclass(frozen=True, slots=True)
class PolicySet:
    default: Policy
    subsystems: tuple[Policy, ...] = ()

    def for_subsystem(self, section: str | None = None, lists: tuple[str, ...] = ()) -> Policy:
        """The policy naming `section` (case-insensitive), else one naming a list, else default."""
        if section is not None:
            key = section.casefold()
            for policy in self.subsystems:
                if any(s.casefold() == key for s in policy.sections):
                    return policy
        wanted = {a.lower() for a in lists}
        for policy in self.subsystems:
            if wanted & set(policy.lists):
                return policy
        return self.default

    def by_name(self, name: str) -> Policy | None:
        if name == self.default.name:
            return self.default
        return next((p for p in self.subsystems if p.name == name), None)


def human_duration(span: timedelta) -> str:
    """timedelta(days=30) -> "30 days", 36 h -> "36 hours", 90 min -> "90 minutes"."""
    minutes = int(span.total_seconds() // 60)
    size, unit = next((size, unit) for size, unit in ((1440, "day"), (60, "hour"), (1, "minute"))
                      if minutes % size == 0)
    n = minutes // size
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


@lru_cache(maxsize=65536)
def address(entry: str) -> str:
    """`Name <a@x>` or `a@x` -> `a@x`, lower-cased."""
    # Cached: the same few thousand MAINTAINERS entries are parsed for every series, and
    # email.utils.parseaddr cost 1.5 s of a 10 s corpus ingest before (cProfile).
    return parseaddr(entry)[1].lower()


def is_absent(policy: Policy, who: str, now: datetime) -> bool:
    day = policy.local_day(now)
    who = address(who)
    return any(a.who == who and a.days.contains(day) for a in policy.reviewers.absences)


def quiet_reason(policy: Policy, now: datetime, *, merge_window_open: bool) -> str | None:
    """Why no nag may go out at `now`, or None. The cycle tracker knows if the window is open."""
    if merge_window_open and policy.quiet.merge_window:
        return "merge window"
    day = policy.local_day(now)
    for period in policy.quiet.periods:
        if period.contains(day):
            label = f" ({period.reason})" if period.reason else ""
            return f"quiet period {period.start}..{period.end}{label}"
    return None


# Greg's stable review threads carry a bare kernel version tag: [PATCH 6.12 000/123].
_STABLE_VERSION_TAG = re.compile(r"^\d+\.\d+(\.\d+)?$")
_STABLE_REVIEW_TITLE = re.compile(r"\b\d+\.\d+(\.\d+)?-rc\d+ review\b", re.IGNORECASE)


def ignore_reason(policy: Policy, series: Series, *, posted_by_bot: bool = False) -> str | None:
    """Why this subsystem's queue leaves the series out, or None to track it."""
    rules = policy.ignore
    if rules.bots and posted_by_bot:
        return "posted by a bot"
    if rules.autosel and series.is_autosel:
        return "AUTOSEL backport"
    if rules.stable_review and (
        any(_STABLE_VERSION_TAG.match(t) for t in series.tags)
        or "stable" in series.tags
        or _STABLE_REVIEW_TITLE.search(series.title)
    ):
        return "stable review backport"
    if rules.rfc and series.is_rfc:
        return "RFC"
    sender = series.author_email.lower()
    for pattern in rules.senders:
        if fnmatchcase(sender, pattern):
            return f"sender matches {pattern}"
    return None
