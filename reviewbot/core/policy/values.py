"""Value parsers for policy keys: TOML value -> typed value, or ValueError(reason).

Pure; `core.policy_schema` maps each key to one of these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reviewbot.core.policy.model import AssignStrategy, address

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


def strategy(value: Any) -> AssignStrategy:
    try:
        return AssignStrategy(value)
    except ValueError:
        choices = ", ".join(s.value for s in AssignStrategy)
        raise ValueError(f"unknown strategy {value!r} (one of {choices})") from None


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
