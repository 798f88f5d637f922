"""When a lore poll looks back, and the cursor that remembers it.

A poll asks for mail received (`rt:`) since shortly before the newest
received time stored. Mail the archive files late, with a Received time
older than that, is never returned again by such a poll: lore receives
backfills, and the 2025 corpus has mail filed days late while newer mail
was flowing. So now and then a poll reaches further back (a look-back
*tier*). The store skips Message-IDs it already holds, so what a look-back
fetches again costs bandwidth, not correctness.

The cursor (one string in the store) carries the newest received time, when
each tier last ran (wall clock), and, while a poll is unfinished, the start of
the received-time window it had reached: a poll interrupted by SIGTERM or a
dying server resumes there instead of losing what lies below. The cursor of
earlier versions, a bare ISO time, is still read (as "newest", every tier due).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Tier:
    """Every `every` (wall clock), re-read the mail received in the last `span`."""

    every: timedelta
    span: timedelta

    @property
    def name(self) -> str:
        """The cursor key, e.g. "7d" (spans are whole hours or days)."""
        seconds = int(self.span.total_seconds())
        if seconds % 86400 == 0:
            return f"{seconds // 86400}d"
        if seconds % 3600 == 0:
            return f"{seconds // 3600}h"
        return f"{seconds}s"


# Measured by replaying the 2025 corpus' real arrival order (epoch commit
# times) against this code polling every 5 minutes with the 15-minute overlap
# (tests/adapters/test_lore_replay.py; bench/lore_schedule.py prints the table):
# - without look-backs 22 of 8,459 Message-IDs are lost, all filed 70-121
#   hours after their Received time while newer mail kept arriving
#   (September's backfill after the August outage);
# - one tier catches them all only if it reaches back 4.5 days (run hourly or
#   6-hourly) or 4.75 days (daily): during a backfill the newest received time
#   runs ahead while older mail is still being filed. 3 days daily still loses
#   17; the last day hourly loses all 22.
# So: the last 7 days every day (1.5x the measured need); the last day every
# 6 hours (mail held back for hours, e.g. by moderation, shows up within 6
# hours rather than a day); the last 60 days every week (the corpus' archive
# fell 52 days behind in the outage: a backfill like that, filed while new mail
# flows, is caught within a week). Cost, in messages downloaded per distinct
# message: 43.1 with the overlap alone (each poll re-reads its last 15 minutes,
# twice with the end-of-results check), 61.2 with these tiers (+42%), 97.0 with
# "the last day hourly and the last 30 days daily" (+125%). Worst delay from
# filing to fetching: 6.3 hours.
DEFAULT_TIERS: tuple[Tier, ...] = (
    Tier(every=6 * HOUR, span=DAY),
    Tier(every=DAY, span=7 * DAY),
    Tier(every=7 * DAY, span=60 * DAY),
)


class CursorError(ValueError):
    """A stored lore cursor that cannot be read."""


def _iso(text: object, what: str, cursor: str) -> datetime:
    if not isinstance(text, str):
        raise CursorError(f"lore cursor field {what} is not an ISO time: {cursor!r}")
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CursorError(f"lore cursor is not an ISO time: {cursor!r}") from exc
    if when.tzinfo is None:
        raise CursorError(f"lore cursor lacks a timezone: {cursor!r}")
    return when.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class LoreCursor:
    """What a lore poll resumes from."""

    newest: datetime | None = None  # newest received time stored (never in the future)
    resume: datetime | None = None  # an unfinished poll's window start; None when complete
    ran: Mapping[str, datetime] = field(default_factory=dict)  # tier name -> last run

    @classmethod
    def parse(cls, text: str | None) -> LoreCursor:
        if not text:
            return cls()
        if not text.lstrip().startswith("{"):
            return cls(newest=_iso(text, "newest", text))  # before look-backs: a bare time
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CursorError(f"lore cursor is not JSON: {text!r}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("ran", {}), dict):
            raise CursorError(f"lore cursor is not an object: {text!r}")
        return cls(
            newest=_iso(data["newest"], "newest", text) if data.get("newest") else None,
            resume=_iso(data["resume"], "resume", text) if data.get("resume") else None,
            ran={k: _iso(v, k, text) for k, v in data.get("ran", {}).items()},
        )

    def format(self) -> str | None:
        """The stored form; None while there is nothing to resume from (a first poll)."""
        if self.newest is None and self.resume is None:
            return None
        data: dict[str, object] = {}
        if self.newest is not None:
            data["newest"] = self.newest.isoformat()
        if self.resume is not None:
            data["resume"] = self.resume.isoformat()
        data["ran"] = {k: v.isoformat() for k, v in sorted(self.ran.items())}
        return json.dumps(data, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class PollPlan:
    lower: datetime  # received-time lower bound of this poll (EPOCH: the beginning)
    cursor: LoreCursor  # the cursor while the poll runs (resume = lower, tiers marked run)
    tiers: tuple[str, ...]  # the look-backs this poll performs (for the log)


def _due(tier: Tier, ran: Mapping[str, datetime], now: datetime) -> bool:
    last = ran.get(tier.name)
    # A last run in the future means the clock was set back: run it now.
    return last is None or not last <= now < last + tier.every


def plan_poll(
    cursor: LoreCursor,
    *,
    now: datetime,
    since: datetime | None,
    fudge: timedelta,
    tiers: Sequence[Tier],
) -> PollPlan:
    """Where this poll starts and which look-backs it performs.

    The widest due tier decides the lower bound; every tier it covers counts
    as run. An unfinished earlier poll pulls the bound down to where it stopped.
    """
    if cursor.newest is None and cursor.resume is None:
        # A first poll reads everything from `since`: every tier is satisfied.
        lower = max(EPOCH, since - fudge) if since is not None else EPOCH
        ran = {t.name: now for t in tiers}
        return PollPlan(lower, LoreCursor(None, lower, ran), tuple(t.name for t in tiers))
    due = [t for t in tiers if _due(t, cursor.ran, now)]
    span = max([fudge, *(t.span for t in due)])
    covered = tuple(t.name for t in tiers if t.span <= span and t.span > fudge)
    ran = {k: v for k, v in cursor.ran.items() if k in {t.name for t in tiers}}
    ran.update({name: now for name in covered})
    bounds = [] if cursor.resume is None else [cursor.resume]
    if cursor.newest is not None:
        bounds.append(max(EPOCH, cursor.newest - span))
    lower = min(bounds)
    return PollPlan(lower, replace(cursor, resume=lower, ran=ran), covered)
