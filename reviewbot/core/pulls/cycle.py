"""The release cycle from mainline tags (conventions.md §1). Pure: tags and `now` in.

A bare `vX.Y` opens the merge window; `vX.(Y+1)-rc1` closes it two weeks later;
`-rcN` comes weekly; the release normally follows rc7 (rc8 under churn), so a
cycle lasts 9-10 weeks. The next window is estimated as the last tag plus one
week per remaining rc up to rc7, plus the week to the release: at rc6 that is
2 weeks (3 if an rc8 comes).

Tag dates come from the tags when known (a local kernel repository). `git
ls-remote` gives names only: then the newest tag is taken to be from the last
Sunday on or before `now`, the day Linus tags; older tags get no date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_TAG = re.compile(r"^v(\d+)\.(\d+)(?:-rc(\d+))?$")
WEEK = timedelta(days=7)
LAST_USUAL_RC = 7  # the release usually follows rc7
WINDOW = timedelta(days=14)  # vX.Y .. vX.(Y+1)-rc1


@dataclass(frozen=True, slots=True, order=True)
class Version:
    major: int
    minor: int

    def next(self) -> Version:
        # Linus bumps the major number when the minor "gets too big"; nobody can
        # tell from the tags when. The window after v6.19 may well bring v7.0-rc1.
        return Version(self.major, self.minor + 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True, slots=True)
class MainlineTag:
    name: str
    version: Version
    rc: int | None  # None: a release
    date: datetime | None  # aware; None when unknown (ls-remote)

    @property
    def order(self) -> tuple[int, int, int]:
        # A release sorts after its own rcs: v6.12-rc7 < v6.12 < v6.13-rc1.
        return (self.version.major, self.version.minor, self.rc if self.rc is not None else 1_000)


def parse_tag(name: str, when: datetime | None = None) -> MainlineTag | None:
    """`v6.12` or `v6.13-rc3` (a `^{}` peel suffix is ignored); anything else is None."""
    m = _TAG.match(name.removeprefix("refs/tags/").removesuffix("^{}"))
    if m is None:
        return None
    rc = int(m.group(3)) if m.group(3) else None
    return MainlineTag(m.group(0), Version(int(m.group(1)), int(m.group(2))), rc, when)


def is_mainline_tag(name: str) -> bool:
    return parse_tag(name) is not None


@dataclass(frozen=True, slots=True)
class Cycle:
    release: str  # the last release tag, "v6.12"
    merge_window_open: bool
    rc: int | None  # the current rc number; None while the window is open
    latest_tag: str  # "v6.13-rc6" or the release itself
    latest_tag_date: datetime | None  # None: unknown (ls-remote) and not estimated
    estimated_dates: bool  # tag dates were estimated (the Sunday rule), not read
    developing: str  # the version being stabilised: "6.13"
    next_merge_window: date | None  # earliest expected opening of the next window
    next_merge_window_latest: date | None  # if an rc8 comes
    merge_window_closes: date | None  # while open: the expected -rc1 day
    as_of: datetime

    @property
    def phase(self) -> str:
        return "merge window" if self.merge_window_open else f"rc{self.rc}"

    @property
    def changes_for(self) -> str:
        """The release new features go to: the window's, else the one after the rcs'."""
        dev = _version(self.developing)
        return str(dev if self.merge_window_open else dev.next())

    @property
    def next_rc(self) -> str:
        """What a fixes pull request targets: "6.13-rc1" in the window, else rc N+1."""
        return f"{self.developing}-rc{1 if self.rc is None else self.rc + 1}"

    @property
    def window_week(self) -> int | None:
        """1 or 2 while the window is open (Linus wants pull requests in week 1)."""
        if not self.merge_window_open or self.latest_tag_date is None:
            return None
        return 1 if self.as_of - self.latest_tag_date < WEEK else 2

    def days_to_next_merge_window(self) -> int | None:
        if self.next_merge_window is None:
            return None
        return (self.next_merge_window - self.as_of.date()).days

    def to_json(self) -> dict[str, object]:
        return {
            "release": self.release, "merge_window_open": self.merge_window_open,
            "rc": self.rc, "phase": self.phase, "latest_tag": self.latest_tag,
            "latest_tag_date": _iso(self.latest_tag_date),
            "estimated_dates": self.estimated_dates, "developing": self.developing,
            "changes_for": self.changes_for,
            "next_merge_window": _iso(self.next_merge_window),
            "next_merge_window_latest": _iso(self.next_merge_window_latest),
            "days_to_next_merge_window": self.days_to_next_merge_window(),
            "merge_window_closes": _iso(self.merge_window_closes),
            "window_week": self.window_week, "as_of": self.as_of.isoformat(),
        }


class NoMainlineTags(ValueError):
    """No vX.Y tag at or before the date asked about."""


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _version(text: str) -> Version:
    major, minor = text.split(".")
    return Version(int(major), int(minor))


def last_sunday(now: datetime) -> datetime:
    """The start of the last Sunday on or before `now` (in now's zone)."""
    day = now - timedelta(days=(now.weekday() + 1) % 7)
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def cycle_from_tags(tags: Iterable[tuple[str, datetime | None]], now: datetime) -> Cycle:
    """The cycle as of `now` from (tag name, tag date or None) pairs, in any order.

    Tags dated after `now` are left out, so `--as-of` replays the past; undated
    tags (ls-remote) are all taken as existing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    parsed = [t for t in (parse_tag(n, d) for n, d in tags) if t is not None]
    known = [t for t in parsed if t.date is None or t.date <= now]
    releases = [t for t in known if t.rc is None]
    if not releases:
        raise NoMainlineTags("no mainline release tag (vX.Y)"
                             + (f" on or before {now:%Y-%m-%d}" if parsed else ""))
    release = max(releases, key=lambda t: t.order)
    latest = max(known, key=lambda t: t.order)
    estimated = latest.date is None
    when = latest.date if latest.date is not None else last_sunday(now)
    if latest.rc is None:  # vX.Y is the newest: the window is open
        first_rc = when + WINDOW
        earliest = first_rc + (LAST_USUAL_RC - 1) * WEEK + WEEK
        return Cycle(release.name, True, None, latest.name, when, estimated,
                     str(release.version.next()), earliest.date(), (earliest + WEEK).date(),
                     first_rc.date(), now)
    remaining = max(LAST_USUAL_RC - latest.rc, 0)
    earliest = when + remaining * WEEK + WEEK
    latest_date = earliest + (WEEK if latest.rc < LAST_USUAL_RC + 1 else timedelta())
    return Cycle(release.name, False, latest.rc, latest.name, when, estimated,
                 str(latest.version), earliest.date(), latest_date.date(), None, now)
