"""Group messages into series and link revisions. Pure: no I/O, no clock.

(Skeleton: the assembly helper fills this in.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reviewbot.core.model import Message, MessageId, Series, SeriesId


@dataclass(frozen=True, slots=True)
class Assembly:
    series: tuple[Series, ...]
    series_of: dict[MessageId, SeriesId]  # every member message -> its series


def assemble(messages: Iterable[Message]) -> Assembly:
    return Assembly(series=(), series_of={})
