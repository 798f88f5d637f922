"""Logging to stderr: plain lines on a terminal, syslog-prefixed lines under journald.

Under systemd, stderr is a journal stream ($JOURNAL_STREAM names its device and
inode); there each line starts with `<N>` (sd-daemon(3) priority prefixes) and
carries no timestamp, the journal adds its own. Elsewhere the daemon's lines carry
a timestamp and the level; one-shot commands print only the level and message.
Third-party libraries' retry chatter (urllib3, liblore) is shown only with -v:
reviewbot reports the failure itself, once, with the source it belongs to.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TextIO

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
             logging.CRITICAL: 2}
_CHATTY = ("urllib3", "liblore", "requests", "alembic", "b4", "asyncio")


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """reviewbot's own stderr handler (replaced, not stacked, by a later setup())."""


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        prio = _PRIORITY.get(record.levelno, 6)
        # Every line of a multi-line message keeps its priority.
        return "\n".join(f"<{prio}>{line}" for line in text.splitlines() or [""])


def on_journal(env: Mapping[str, str], stream: TextIO) -> bool:
    """Whether `stream` is the journal stream systemd connected ($JOURNAL_STREAM=dev:ino)."""
    dev, _, ino = env.get("JOURNAL_STREAM", "").partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def setup(verbose: int, *, daemon: bool, env: Mapping[str, str], stream: TextIO) -> None:
    """-v raises the level one step (INFO, then DEBUG); a daemon starts at INFO."""
    base = logging.INFO if daemon else logging.WARNING
    level = max(logging.DEBUG, base - 10 * verbose)
    handler = _Handler(stream)
    if on_journal(env, stream):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    elif daemon:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                               "%Y-%m-%d %H:%M:%S"))
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):  # ours from an earlier call in this process only
        if isinstance(old, _Handler):
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.ERROR)
