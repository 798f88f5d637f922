"""Reviewer assignment: who should look at a series next. Pure.

Candidates are the routed section's R: entries, then its M: entries (unless the
policy says reviewers only), then the policy's pool; never the author, never
someone absent on `now` (in the policy's time zone). Least-loaded picks the
fewest open assignments, ties broken by candidate order (R: before M: before
pool, each in MAINTAINERS order); round-robin continues after the last person
assigned. Claims, releases and assignments are recorded as SeriesEvents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from reviewbot.core.backlog.events import EventKind, SeriesEvent
from reviewbot.core.backlog.turn import SeriesStatus
from reviewbot.core.policy.model import AssignStrategy, Policy, address, is_absent


@dataclass(frozen=True, slots=True)
class Assignment:
    reviewers: tuple[str, ...]  # addresses picked, best first
    reason: str
    skipped: tuple[tuple[str, str], ...] = ()  # (address, why): absent, the author


def candidates(
    policy: Policy, *, maintainers: Sequence[str] = (), reviewers: Sequence[str] = ()
) -> tuple[str, ...]:
    """The section's R:, then M: (if the policy allows), then the pool; deduplicated."""
    ordered = [*reviewers]
    if policy.reviewers.include_maintainers:
        ordered.extend(maintainers)
    ordered.extend(policy.reviewers.pool)
    seen: dict[str, None] = {}
    for entry in ordered:
        addr = address(entry)
        if addr:
            seen.setdefault(addr, None)
    return tuple(seen)


def open_load(statuses: Iterable[SeriesStatus]) -> dict[str, int]:
    """Open series each person is assigned to (claimed or assigned)."""
    load: dict[str, int] = {}
    for status in statuses:
        if status.is_open:
            for who in status.assignees:
                load[who] = load.get(who, 0) + 1
    return load


def pick_reviewers(
    policy: Policy,
    now: datetime,
    *,
    maintainers: Sequence[str] = (),
    reviewers: Sequence[str] = (),
    load: Mapping[str, int] | None = None,
    author: str = "",
    last_assigned: str | None = None,
    count: int | None = None,
) -> Assignment:
    """Choose `count` (default: the policy's per_series) reviewers for one series."""
    strategy = policy.reviewers.strategy
    if strategy is AssignStrategy.NONE:
        return Assignment((), "the policy assigns nobody")
    wanted = policy.reviewers.per_series if count is None else count
    load = load or {}
    skipped: list[tuple[str, str]] = []
    available: list[str] = []
    for who in candidates(policy, maintainers=maintainers, reviewers=reviewers):
        if who == author.lower():
            skipped.append((who, "the author"))
        elif is_absent(policy, who, now):
            skipped.append((who, "absent"))
        else:
            available.append(who)
    if not available:
        return Assignment((), "no available candidate", tuple(skipped))
    if strategy is AssignStrategy.ROUND_ROBIN:
        everyone = candidates(policy, maintainers=maintainers, reviewers=reviewers)
        if last_assigned is not None and last_assigned.lower() in everyone:
            # Continue after the last person in the full rotation, skipping the unavailable.
            after = everyone.index(last_assigned.lower())
            rotation = [*everyone[after + 1:], *everyone[: after + 1]]
            available = [w for w in rotation if w in available]
        picked = available[:wanted]
        reason = "round-robin" + (f" after {last_assigned}" if last_assigned else "")
    else:
        ranked = sorted(available, key=lambda w: (load.get(w, 0), available.index(w)))
        picked = ranked[:wanted]
        reason = "least loaded: " + ", ".join(f"{w} ({load.get(w, 0)} open)" for w in picked)
    return Assignment(tuple(picked), reason, tuple(skipped))


def assignment_events(assignment: Assignment, at: datetime, *, by: str) -> list[SeriesEvent]:
    """The ASSIGN events that record `assignment` (made by `by`, a person or "reviewbot")."""
    return [SeriesEvent(at=at, kind=EventKind.ASSIGN, actor=by.lower(), target=who,
                        note=assignment.reason) for who in assignment.reviewers]


def claim_event(who: str, at: datetime) -> SeriesEvent:
    return SeriesEvent(at=at, kind=EventKind.CLAIM, actor=address(who))


def release_event(who: str, at: datetime, reason: str = "") -> SeriesEvent:
    return SeriesEvent(at=at, kind=EventKind.RELEASE, actor=address(who), note=reason)
