"""Read-only answers over the query API for people: what should I review next, what is
ready to apply. (The queue's own `--ready` filter may replace `ready_entries`.)"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from reviewbot.core.backlog.turn import State, Turn
from reviewbot.service.backlog.queries import Entry

NOT_READY = frozenset({State.CHANGES_REQUESTED, State.RFC})


def is_ready(e: Entry) -> bool:
    """Open, every patch reviewed or acked by someone other than the author, nothing asked
    of the author: the maintainer may apply it (also when it has gone stale waiting)."""
    st = e.status
    return (st.is_open and st.state not in NOT_READY and st.total > 0
            and set(range(1, st.total + 1)) <= set(st.reviewed_patches))


def ready_entries(entries: Sequence[Entry]) -> list[Entry]:
    """Series ready to apply (is_ready), oldest waiting first."""
    return sorted((e for e in entries if is_ready(e)),
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
