"""Who may say "applied" for a series. Pure.

The mail parser records every "applied" statement (Message.applied) with its
sender (Message.from_email); whether it counts depends on routing, which only
the backlog knows: the statement counts when its sender may apply to the tree
that takes the series. That is the taking section's M: entries, the tree's
committers (addresses the tree adapter saw commit), or anyone the subsystem's
policy names. patchwork-bot's notices report what a maintainer did on the
tree's own patchwork and always count.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.model import AppliedNotice
from reviewbot.core.policy.model import Policy, address


@dataclass(frozen=True, slots=True)
class Appliers:
    """The people who may apply to the tree that takes a series.

    Every entry may be a bare address or a MAINTAINERS-style `Name <addr>`.
    `aliases` maps a lower-cased address to the person's canonical one (mailmap or
    core.maintainers.people.name_aliases), so leonro@nvidia.com counts for
    leon@kernel.org.
    """

    maintainers: Collection[str] = ()  # the taking section's M:
    committers: Collection[str] = ()  # addresses seen committing to the tree
    named: Collection[str] = ()  # people the subsystem's policy names
    aliases: Mapping[str, str] = field(default_factory=dict)

    def canon(self, entry: str) -> str:
        addr = address(entry)
        return self.aliases.get(addr, addr).lower()

    def includes(self, sender: str) -> bool:
        """Whether `sender` may apply patches to the taker's tree."""
        who = self.canon(sender)
        return bool(who) and any(
            self.canon(e) == who for group in (self.maintainers, self.committers, self.named)
            for e in group)


def applied_counts(notice: AppliedNotice, sender: str, appliers: Appliers) -> bool:
    """Whether an "applied" notice from `sender` marks the series applied."""
    return notice.by_bot or appliers.includes(sender)


def appliers_for(routing: SeriesRouting, policy: Policy,
                 aliases: Mapping[str, str]) -> Appliers | None:
    """Who may say "applied" for a routed series: the M: of every section it routes to
    (any of their trees may take it) and the policy's tree appliers. None when nothing
    routes it: then every "applied" statement counts."""
    if not routing.routes:
        return None
    return Appliers(maintainers=tuple(m for r in routing.routes for m in r.maintainers),
                    named=policy.tree.appliers, aliases=aliases)
