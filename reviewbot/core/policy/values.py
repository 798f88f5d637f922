"""Value parsers for policy keys: TOML value -> typed value, or ValueError(reason).

Pure; `core.policy_schema` maps each key to one of these.
"""

from __future__ import annotations

import re
import string as _string
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reviewbot.core.policy.model import AssignStrategy, PullTransport, address

Parser = Callable[[Any], Any]  # returns the parsed value or raises ValueError(reason)

_DURATION_PART = re.compile(r"(\d+)\s*([wdhm])")
_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1),
          "m": timedelta(minutes=1)}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_duration(value: Any) -> timedelta:
    """"14d", "48h", "2w", "1d12h", "90m" -> timedelta (positive)."""
    if not isinstance(value, str):
        raise ValueError(f"expected a duration string such as \"7d\" or \"48h\", got {value!r}")
    text = value.strip().lower()
    parts = _DURATION_PART.findall(text)
    if not text or _DURATION_PART.sub("", text).strip():
        raise ValueError(
            f"bad duration {value!r}: use a number and unit w, d, h or m (\"7d\", \"1d12h\")"
        )
    total = sum((int(n) * _UNITS[u] for n, u in parts), timedelta())
    if total <= timedelta():
        raise ValueError(f"duration {value!r} must be positive")
    return total


def duration_or_never(value: Any) -> timedelta | None:
    return None if value == "never" else parse_duration(value)


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return value


def positive(value: Any) -> int:
    if count(value) == 0:
        raise ValueError("expected a whole number >= 1, got 0")
    return int(value)


def string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value.strip()


def strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return tuple(string(v) for v in value)


def addresses(value: Any) -> tuple[str, ...]:
    out = []
    for entry in strings(value):
        addr = address(entry)
        if "@" not in addr:
            raise ValueError(f"{entry!r} is not an address (\"Name <a@b>\" or \"a@b\")")
        out.append(addr)
    return tuple(out)


def recipients(value: Any) -> tuple[str, ...]:
    out = []
    for entry in strings(value):
        if entry in ("maintainers", "reviewers", "lists"):
            out.append(entry)
        elif "@" in address(entry):
            out.append(address(entry))
        else:
            raise ValueError(
                f"{entry!r}: expected an address, \"maintainers\", \"reviewers\" or \"lists\""
            )
    return tuple(out)


def time_zone(value: Any) -> str:
    name = string(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as \"Europe/Berlin\")"
        ) from None
    return name


E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], what: str, value: Any) -> E:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(s.value for s in kind)
        raise ValueError(f"unknown {what} {value!r} (one of {choices})") from None


def strategy(value: Any) -> AssignStrategy:
    return _choice(AssignStrategy, "strategy", value)


def weekdays(value: Any) -> tuple[str, ...]:
    days = tuple(d.lower() for d in strings(value))
    for d in days:
        if d not in WEEKDAYS:
            raise ValueError(f"unknown weekday {d!r} (one of {', '.join(WEEKDAYS)})")
    return days


def local_time(value: Any) -> time:
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ValueError(f"expected a local time such as 08:00:00 (unquoted), got {value!r}")
    return value


def day(value: Any) -> date:
    # tomllib gives datetime for 2025-01-01T00:00 and date for 2025-01-01; only days make sense.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"expected a date such as 2025-12-24 (unquoted), got {value!r}")
    return value


# Placeholders of [pull] subject templates (core.pulls.summary fills them).
SUBJECT_FIELDS = ("name", "version", "developing", "next_rc", "tag", "branch", "date")


def subject_template(value: Any) -> str:
    text = string(value)
    try:
        fields = [f for _, f, _, _ in _string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ValueError(f"bad template {text!r}: {exc}") from None
    for f in fields:
        if f not in SUBJECT_FIELDS:
            raise ValueError(f"unknown placeholder {{{f}}} in {text!r} "
                             f"(known: {', '.join('{' + k + '}' for k in SUBJECT_FIELDS)})")
    return text


def mailboxes(value: Any) -> tuple[str, ...]:
    """Addresses kept as written ("Name <a@b>"), for mail headers."""
    out = strings(value)
    for entry in out:
        if "@" not in address(entry):
            raise ValueError(f"{entry!r} is not an address (\"Name <a@b>\" or \"a@b\")")
    return out


def mailboxes_or_lists(value: Any) -> tuple[str, ...]:
    entries = strings(value)
    mailboxes([e for e in entries if e != "lists"])
    return entries


def transport(value: Any) -> PullTransport:
    return _choice(PullTransport, "transport", value)


def http_url(value: Any) -> str:
    text = string(value)
    if not text.startswith(("https://", "http://")):
        raise ValueError(f"expected an http(s) URL, got {text!r}")
    return text.rstrip("/")


def domain_map(value: Any) -> tuple[tuple[str, str], ...]:
    """`{ "mellanox.com" = "nvidia.com" }` -> sorted lower-case pairs."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a table of domain = employer domain, got {value!r}")
    out = []
    for key, target in value.items():
        if not isinstance(target, str) or not target.strip() or "@" in target \
                or "@" in key or not key.strip():
            raise ValueError(f"{key!r} = {target!r}: map a mail domain to a domain")
        out.append((key.strip().lower(), target.strip().lower()))
    return tuple(sorted(out))
