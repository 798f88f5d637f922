"""Builds adapters from settings: shared by the CLI commands and the daemon."""

from __future__ import annotations

from reviewbot.config import SourceSettings
from reviewbot.ports import Source


class SourceError(ValueError):
    """A configured source that cannot be opened; the message says which and why."""


def build_source(s: SourceSettings) -> Source:
    """The adapter for one configured source. No I/O beyond existence checks."""
    # Imported here so one adapter's missing dependency never breaks the others.
    if s.epochs:
        for path in s.epochs:
            if not path.exists():
                raise SourceError(f"--epoch {path}: no such directory")
        from reviewbot.adapters.epoch import EpochSource

        return EpochSource(s.list_name, list(s.epochs))
    if s.lore:
        from reviewbot.adapters.lore import LoreSource

        return LoreSource(s.lore, s.list_name)
    if s.mbox is None:
        raise SourceError(f"{s.list_name}: the source names no epochs, lore URL or mbox")
    if not s.mbox.exists():
        raise SourceError(f"--mbox {s.mbox}: no such file or directory")
    from reviewbot.adapters.mboxfile import MboxSource

    return MboxSource(s.mbox, s.list_name)
