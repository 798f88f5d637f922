"""The state cached with each stored series at reassembly: the backlog's, clock-free.

`series_state` replays the series' mail with the default policy as of its own last
event, so it never depends on the clock (nothing goes stale, no snooze ends) nor on
MAINTAINERS, policies or manual actions. Queries (`series`, `queue`) derive the real
status at their `--as-of` with all of those; the cache only narrows which series
can be open: a closed cached state (superseded, applied) stays closed with more
information, an open one may still close (a maintainer's NAK, an override).
"""

from __future__ import annotations

from collections.abc import Iterable

from reviewbot.core.backlog.events import events_from_series
from reviewbot.core.backlog.replay import series_status
from reviewbot.core.backlog.turn import OPEN_STATES as _OPEN
from reviewbot.core.backlog.turn import State
from reviewbot.core.model import Message, Series
from reviewbot.core.policy.model import Policy

OPEN_STATES = frozenset(s.value for s in _OPEN)
_DEFAULT = Policy()


def series_state(series: Series, members: Iterable[Message], newer: Series | None = None) -> str:
    """The backlog state at the series' last event (new, under_review, ..., superseded)."""
    members = list(members)
    events = events_from_series(series, members, newer=newer)
    last = max(e.at for e in events)
    status = series_status(series, members, _DEFAULT, last, newer=newer)
    if series.superseded_by is not None and newer is None:
        return State.SUPERSEDED.value  # the newer revision is not at hand: still superseded
    return status.state.value
