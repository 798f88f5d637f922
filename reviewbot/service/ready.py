"""Read-only answers over the query API for people: what should I review next, what is
ready to apply. (The queue's own `--ready` filter may replace `ready_entries`.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from reviewbot.core.backlog.turn import State, Turn
from reviewbot.service.queries import Entry


def ready_entries(entries: Sequence[Entry]) -> list[Entry]:
    """Series every patch of which is reviewed or acked: the maintainer may apply them.
    Oldest waiting first."""
    return sorted((e for e in entries if e.status.state is State.REVIEWED),
                  key=lambda e: (e.status.since, e.summary.series_id))


def canonical(person: str, aliases: Mapping[str, str]) -> str:
    addr = person.strip().strip("<>").lower()
    return aliases.get(addr, addr)


def next_for(entries: Sequence[Entry], person: str, now: datetime) -> list[Entry]:
    """Open series waiting on `person` (canonical address): assigned or claimed ones
    first, then those overdue, then the longest waiting."""
    def mine(e: Entry) -> bool:
        st = e.status
        return person in st.assignees or (
            person in st.waiting_on and st.turn in (Turn.REVIEWER, Turn.MAINTAINER))

    def rank(e: Entry) -> tuple[int, int, datetime, str]:
        st = e.status
        return (0 if person in st.assignees else 1, 0 if st.overdue(now) else 1, st.since,
                e.summary.series_id)

    return sorted((e for e in entries if mine(e)), key=rank)
