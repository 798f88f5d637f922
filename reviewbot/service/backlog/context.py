"""The backlog context: everything besides the mail that a series' standing depends on.

One long-lived object that the daemon owns and the CLI builds the same way
(wiring.backlog_context): the policies, MAINTAINERS (loaded only when a series
must be routed), and the mailmap. Its stamp changes exactly when one of them
really changes; the store keeps the stamp its series were computed with, and a
refresh under another stamp recomputes every series (in bounded chunks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.policy.model import Policy, PolicySet
from reviewbot.ports import MaintainersView


@dataclass(frozen=True)
class BacklogContext:
    policies: PolicySet
    maintainers: MaintainersView | None = None  # None: nothing is routed
    # address -> canonical, from a settings mailmap when there is no MAINTAINERS (with
    # MAINTAINERS, its source reads the mailmap and its stamp covers it)
    mailmap: Mapping[str, str] = field(default_factory=dict)

    @property
    def route_stamp(self) -> str:
        """What routing depends on: MAINTAINERS' content."""
        return self.maintainers.stamp if self.maintainers is not None else "unrouted"

    @property
    def stamp(self) -> str:
        """What every standing depends on besides mail and recorded facts."""
        text = repr((self.route_stamp, self.policies, sorted(self.mailmap.items())))
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    def mailmap_aliases(self) -> Mapping[str, str]:
        """The mailmap's aliases: MAINTAINERS' (loads it), else the settings' own."""
        return self.maintainers.aliases() if self.maintainers is not None else self.mailmap

    def policy_for(self, routing: SeriesRouting) -> Policy:
        """The policy of the section expected to take the series (else the default)."""
        taker = routing.taker
        if taker is None:
            return self.policies.default
        return self.policies.for_subsystem(taker.section, taker.lists)

    def policy_named(self, name: str) -> Policy:
        return self.policies.by_name(name) or self.policies.default
