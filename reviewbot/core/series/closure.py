"""Which messages must be assembled together: the keys that tie threads into components.

`assemble` is a function of the set of messages, and the store reassembles only
the components a batch touched. That is exact only if a component is closed
under every rule `assemble` applies across messages, so each message names,
besides itself, every key through which another message can change its series:

- its thread ancestors (In-Reply-To, References): grouping, replies, partial rerolls;
- for postings: the messages its body links to (revision references), and the
  revision families it could join: b4's change-id, the normalised title with the
  sender (the subject heuristic), and, for postings without threading headers,
  sender + version + total (Patchwork-style unthreaded merges, see below).

Unthreaded postings merge when each follows the previous one within
threads.UNTHREADED_WINDOW. Keying them by sender, version and total alone joined
a sixth of the 2025 corpus into one component (a few senders post many
unthreaded two-patch series), so the key also names a time bucket of at least
the window's length: the bucket of the posting's Date and the bucket one window
later. Two postings at most a window apart always share one of those keys.

Messages sharing a key fall into one component. Keys are a superset of the links
assembly really makes (e.g. two patches with one title from one sender share a
component even when the heuristic declines to link them): a larger component
costs time, never correctness. Keys that are not Message-IDs start with NUL so
they cannot collide with one, and are hashed to a bounded length.
"""

from __future__ import annotations

import hashlib

from reviewbot.core.model import Message
from reviewbot.core.series import threads
from reviewbot.core.series.revisions import normalise_title

FAMILY_PREFIX = " "
# An hour: any bucket at least as long as the unthreaded window keeps the rule exact.
_BUCKET_SECONDS = max(3600, int(threads.UNTHREADED_WINDOW.total_seconds()))


def _family(kind: str, *parts: str) -> str:
    digest = hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()[:24]
    return f"{FAMILY_PREFIX}{kind}:{digest}"


def linkage_keys(msg: Message) -> tuple[str, ...]:
    """Every key that ties `msg` to other messages (not its own Message-ID), sorted."""
    keys: set[str] = set(msg.references)
    if msg.in_reply_to:
        keys.add(msg.in_reply_to)
    if threads.is_posting(msg):
        keys.update(msg.linked_ids)
        if msg.change_id:
            keys.add(_family("change-id", msg.change_id))
        if msg.subject.title and not msg.subject.is_autosel:
            keys.add(_family("title", normalise_title(msg.subject.title), msg.from_email))
        if threads.declared_total(msg) > 1 and msg.in_reply_to is None and not msg.references:
            for at in (msg.date, msg.date + threads.UNTHREADED_WINDOW):
                bucket = int(at.timestamp()) // _BUCKET_SECONDS
                keys.add(_family("unthreaded", msg.from_email, msg.subject.version_label,
                                 str(threads.declared_total(msg)), str(bucket)))
    keys.discard(msg.message_id)
    return tuple(sorted(keys))
