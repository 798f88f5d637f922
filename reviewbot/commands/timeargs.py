"""`--as-of` and friends: dates on the command line, and the clock (read here, in the shell)."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime, time, timedelta


def parse_when(text: str) -> datetime:
    """`2025-12-31` (the end of that day, UTC) or an ISO timestamp (UTC if no zone)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(),
                                    UTC) - timedelta(microseconds=1)
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or ISO timestamp") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def now_or(as_of: datetime | None) -> datetime:
    return as_of if as_of is not None else datetime.now(UTC)


def add_as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=parse_when, metavar="DATE",
                   help="derive states as of this date (YYYY-MM-DD: end of day UTC) or ISO "
                   "timestamp (default: now)")


NO_MAINTAINERS = ("no MAINTAINERS configured: series are not routed to subsystems. Set "
                  "`maintainers = \"/path/to/linux\"` (a MAINTAINERS file, kernel tree or git "
                  "repository) in the settings file, or $REVIEWBOT_MAINTAINERS")
