"""Ports: the shapes the service talks to. Adapters implement them.

Sources are synchronous iterators on purpose: git, b4 and liblore are
synchronous, so the daemon runs each poll in a worker thread (one per source)
instead of pretending they are async.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from reviewbot.core.model import MessageId


@dataclass(frozen=True, slots=True)
class RawMail:
    """One message exactly as the archive holds it."""

    raw: bytes
    origin: str  # where the bytes can be fetched again: "<epoch git dir>#<blob oid>", a URL, "mbox:<path>#<n>"
    received: datetime | None = None  # archive arrival time when the source knows it (epoch committer date)


@dataclass(frozen=True, slots=True)
class Deletion:
    """public-inbox removed a message (v2: a commit deleting `m`)."""

    message_id: MessageId | None
    raw: bytes | None  # the removed message's bytes, when the source can still read them
    origin: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Items plus the cursor that is valid once they are all stored.

    The service stores a batch's items and its cursor in one transaction, so
    an interrupted ingest resumes exactly after the last committed batch.
    """

    items: list[RawMail | Deletion] = field(default_factory=list)
    cursor: str | None = None


class Source(Protocol):
    """A mailing-list archive (public-inbox epochs, lore over HTTP, an mbox)."""

    @property
    def key(self) -> str:
        """Stable name for this source's cursor row, e.g. "epoch:linux-rdma:0"."""
        ...

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        """Yield everything after `cursor` (None: from the beginning), oldest first."""
        ...
