"""Chat slash commands: one command set for Slack and Mattermost. Pure.

    /reviewbot backlog [subsystem]        open series, oldest first
    /reviewbot series <message-id>        one series: state, whose turn, why
    /reviewbot next                       what should I review (oldest waiting on me)
    /reviewbot ready [subsystem]          reviewed series, ready to apply
    /reviewbot claim <message-id>         I review it
    /reviewbot release <message-id>       I give it back
    /reviewbot snooze <message-id> <7d>   quiet until then (h, d or w; at most 90 days)
    /reviewbot assign <message-id> <who>  name a reviewer (an address)
    /reviewbot suggest <message-id>       who could review it, least loaded first
    /reviewbot stats [subsystem]          the subsystem's figures
    /reviewbot help

A <message-id> is any Message-ID of the series, with or without <>, or a lore link.
Answers are only shown to the asker unless the command carries `--public`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from reviewbot.core.notify.commands import MAX_SNOOZE, parse_duration, series_ref

VERBS = ("backlog", "series", "next", "ready", "claim", "release", "snooze", "assign",
         "suggest", "stats", "help")
# Commands that change a series: only for identities with that role in its subsystem
# (core.notify.authz: claim/release a reviewer's, snooze/assign a maintainer's).
MUTATING = frozenset({"claim", "release", "snooze", "assign"})
PUBLIC_FLAG = "--public"
HELP = __doc__.split("\n\n")[1] if __doc__ else ""


@dataclass(frozen=True, slots=True)
class ChatCommand:
    verb: str
    series: str | None = None  # a Message-ID without <>
    subsystem: str | None = None
    duration: timedelta | None = None  # snooze
    person: str | None = None  # assign
    public: bool = False

    @property
    def mutating(self) -> bool:
        return self.verb in MUTATING


@dataclass(frozen=True, slots=True)
class ChatSyntaxError:
    reason: str


def parse_chat(text: str) -> ChatCommand | ChatSyntaxError:
    """The command a slash command's text asks for (empty text: help)."""
    words = text.split()
    public = PUBLIC_FLAG in words
    words = [w for w in words if w != PUBLIC_FLAG]
    if not words:
        return ChatCommand("help", public=public)
    verb, rest = words[0].lower(), words[1:]
    if verb not in VERBS:
        return ChatSyntaxError(f"unknown command {words[0]!r} (known: {', '.join(VERBS)})")
    if verb in ("backlog", "ready", "stats"):
        return ChatCommand(verb, subsystem=" ".join(rest) or None, public=public)
    if verb in ("next", "help"):
        if rest:
            return ChatSyntaxError(f"{verb} takes no arguments")
        return ChatCommand(verb, public=public)
    if not rest:
        return ChatSyntaxError(f"{verb} needs a Message-ID of the series")
    ref = series_ref(rest[0])
    if ref is None:
        return ChatSyntaxError(f"{rest[0]!r} is not a Message-ID or lore link")
    rest = rest[1:]
    if verb == "snooze":
        duration = parse_duration(rest[0]) if len(rest) == 1 else None
        if duration is None:
            return ChatSyntaxError("snooze needs a duration like 7d (h, d or w)")
        if not timedelta(0) < duration <= MAX_SNOOZE:
            return ChatSyntaxError(f"snooze for at most {MAX_SNOOZE.days} days")
        return ChatCommand(verb, ref, duration=duration, public=public)
    if verb == "assign":
        person = rest[0].strip("<>").lower() if len(rest) == 1 else ""
        if "@" not in person:
            return ChatSyntaxError("assign needs the reviewer's address: assign <id> <who>")
        return ChatCommand(verb, ref, person=person, public=public)
    if rest:
        return ChatSyntaxError(f"unexpected {' '.join(rest)!r} after {verb}")
    return ChatCommand(verb, ref, public=public)
