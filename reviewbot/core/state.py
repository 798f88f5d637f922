"""A series' state, as a small pure function.

Interim rules until the backlog state machine (domain.md §4) replaces them;
callers only rely on `series_state(series, members) -> str`.
"""

from __future__ import annotations

from collections.abc import Iterable

from reviewbot.core.model import Message, Series, Trailer

SUPERSEDED = "superseded"
APPLIED = "applied"
RFC = "rfc"
NEW = "new"
UNDER_REVIEW = "under review"
REVIEWED = "reviewed"

OPEN_STATES = frozenset({RFC, NEW, UNDER_REVIEW, REVIEWED})


def _counts_as_review(trailer: Trailer, author_email: str) -> bool:
    # A self-ack is not a review (domain.md §3).
    return trailer.kind.is_review and trailer.email != author_email


def series_state(series: Series, members: Iterable[Message]) -> str:
    """superseded > applied > rfc > reviewed / under review / new."""
    if series.superseded_by is not None:
        return SUPERSEDED
    if any(m.applied is not None for m in members):
        return APPLIED
    if series.is_rfc:
        return RFC
    author = series.author_email.lower()
    reviewed = [
        any(_counts_as_review(t, author) for t in p.trailers) for p in series.patches
    ]
    if reviewed and all(reviewed):
        return REVIEWED
    if any(reviewed) or any(_counts_as_review(t, author) for t in series.cover_trailers):
        return UNDER_REVIEW
    return NEW
