"""Which subsystems a series belongs to, and which one is expected to take it. Pure.

A series is routed with the files of all its patches together (as get_maintainer.pl
routes a series); every section except THE REST becomes a queue the series appears
in, and `expected_taker` marks the one that should apply it.

K: content patterns are left out on purpose, not for speed: on the 2025 linux-rdma
corpus they cost 0.25 s more for all 3,062 patches, but put 138 of 1,087 series into
keyword-interest sections (BPF [MISC] 95, XDP 25, PTP 20, CLANG/LLVM 10): people who
want to be Cc'd, not queues that review or apply. K: never votes for the taker anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reviewbot.core.maintainers.routing import RoutingIndex, expected_taker, route_scans


@dataclass(frozen=True, slots=True)
class SubsystemRoute:
    section: str
    is_taker: bool
    lists: tuple[str, ...]  # list addresses, lower-case, without the "(moderated ...)" notes
    maintainers: tuple[str, ...]  # M: entries as written ("Name <addr>")
    reviewers: tuple[str, ...]  # R: entries


@dataclass(frozen=True, slots=True)
class SeriesRouting:
    routes: tuple[SubsystemRoute, ...]  # the taker first, then MAINTAINERS' order
    unowned: tuple[str, ...]  # files only THE REST claims

    @property
    def taker(self) -> SubsystemRoute | None:
        return next((r for r in self.routes if r.is_taker), None)


def list_address(value: str) -> str:
    """`linux-rdma@vger.kernel.org (moderated for non-subscribers)` -> the address."""
    return value.split()[0].lower() if value.split() else ""


def route_files(index: RoutingIndex, files: Iterable[str]) -> SeriesRouting:
    """Route one series by its files (no K: content: keywords never choose the taker)."""
    result = route_scans(index, tuple(files), ())
    taker = expected_taker(index, result)
    name = taker.section.name if taker.section else None
    routes = [SubsystemRoute(m.section.name, m.section.name == name,
                             tuple(list_address(v) for v in m.section.lists),
                             m.section.maintainers, m.section.reviewers)
              for m in result.subsystems]
    routes.sort(key=lambda r: not r.is_taker)  # stable: the rest keep MAINTAINERS' order
    return SeriesRouting(tuple(routes), result.unowned)


def matches_subsystem(route: SubsystemRoute, name: str) -> bool:
    """NAME is a section name (any case) or one of its list addresses."""
    key = name.strip().casefold()
    return route.section.casefold() == key or key in route.lists
