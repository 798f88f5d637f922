"""Who may give which email command. Pure: the caller passes who is entitled.

conventions.md §6: commands count only from the series' sections' M:/R: (or
those the policy adds). `stop` is about mail to oneself, so anyone may ask it;
claiming and releasing is a reviewer's business; snoozing, assigning and
setting a state are a maintainer's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from reviewbot.core.notify.commands import EmailCommand

MAINTAINER_VERBS = frozenset({"snooze", "assign", "state"})
REVIEWER_VERBS = frozenset({"claim", "release"})
ANYONE_VERBS = frozenset({"stop"})


@dataclass(frozen=True, slots=True)
class Entitled:
    """For one series: addresses (lower-case, mailmap applied) of its routed sections'
    M: and R:, each joined by those its policy adds (e.g. the reviewers' pool)."""

    maintainers: frozenset[str] = frozenset()
    reviewers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, maintainers: Iterable[str], reviewers: Iterable[str] = ()) -> Entitled:
        return cls(frozenset(a.lower() for a in maintainers),
                   frozenset(a.lower() for a in reviewers))


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str


def authorize(command: EmailCommand, entitled: Entitled | None,
              aliases: Mapping[str, str] | None = None) -> Decision:
    """May `command.actor` do this? `entitled` is None when the series is unknown.
    `aliases` maps other addresses of a person to the one MAINTAINERS lists."""
    actor = command.actor.lower()
    if aliases:
        actor = aliases.get(actor, actor)
    if command.verb in ANYONE_VERBS:
        return Decision(True, "anyone may stop mail to themselves")
    if entitled is None:
        return Decision(False, "no such series (or none named) to act on")
    if actor in entitled.maintainers:
        return Decision(True, "a maintainer (M:) of the series' subsystem")
    if command.verb in REVIEWER_VERBS and actor in entitled.reviewers:
        return Decision(True, "a reviewer (R:) of the series' subsystem")
    need = "a maintainer (M:)" if command.verb in MAINTAINER_VERBS else "a maintainer or reviewer"
    return Decision(False, f"{command.verb} needs {need} of the series' subsystem; "
                           f"{command.actor} is not one")
