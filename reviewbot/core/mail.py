"""Raw RFC 5322 bytes -> core.model.Message. Pure: no I/O, no clock.

(Skeleton: the parsing helper fills this in.)
"""

from __future__ import annotations

from reviewbot.core.model import Message


class MalformedMessage(ValueError):
    """The bytes cannot become a Message; `reason` says why (kept in quarantine)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_message(raw: bytes) -> Message:
    raise MalformedMessage("parser not written yet")
