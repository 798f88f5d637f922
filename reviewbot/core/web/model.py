"""What the service answers the HTTP surface with, as data the adapter renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class WebError(Exception):
    """A request that cannot be answered: `status` is the HTTP status, `message` says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class ChatItem:
    """One row of a list answer: a line of text and, optionally, a link."""

    text: str
    link: str | None = None
    detail: str = ""  # a second, smaller line


@dataclass(frozen=True, slots=True)
class ChatReply:
    """An answer to a chat command. Lists render as Block Kit on Slack, Markdown on
    Mattermost; `public` answers go to the channel, the rest only to the asker."""

    title: str
    lines: tuple[str, ...] = ()
    items: tuple[ChatItem, ...] = ()
    more: int = 0  # items left out
    public: bool = False
    refused: bool = False  # a refusal (not allowed, unknown series, syntax)

    def text(self) -> str:
        """The whole answer as plain text (fallback and Mattermost)."""
        out = [self.title, *self.lines]
        for i in self.items:
            out.append(f"- {i.text}" + (f" <{i.link}>" if i.link else ""))
            if i.detail:
                out.append(f"  {i.detail}")
        if self.more:
            out.append(f"... and {self.more} more")
        return "\n".join(out)


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # "database", or a source's / tree's key
    ok: bool
    detail: str
    last_poll: datetime | None = None  # a source's last successful poll
    age_seconds: float | None = None
    limit_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class HealthReport:
    as_of: datetime
    checks: tuple[Check, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)
