"""A maildir the daemon reads email commands from (`[mail] commands_maildir`).

Mail is taken from new/ (and from cur/ when not flagged seen), handed over
byte for byte, then renamed to cur/<name>:2,S so it is read once. A mail
whose handling failed stays unseen and is read again next round.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


class CommandMaildir:
    def __init__(self, path: Path) -> None:
        self.path = path

    def unread(self) -> Iterator[tuple[str, bytes]]:
        """(key, raw bytes) of every mail not yet seen, oldest first."""
        found: list[tuple[float, str, Path]] = []
        for sub in ("new", "cur"):
            folder = self.path / sub
            if not folder.is_dir():
                continue
            for f in folder.iterdir():
                _name, _, info = f.name.partition(":")
                if f.name.startswith(".") or (sub == "cur" and "S" in info.partition(",")[2]):
                    continue
                found.append((f.stat().st_mtime, f"{sub}/{f.name}", f))
        for _, key, f in sorted(found):
            try:
                yield key, f.read_bytes()
            except FileNotFoundError:
                continue  # another reader took it

    def mark_seen(self, key: str) -> None:
        sub, _, name = key.partition("/")
        base, _, info = name.partition(":")
        flags = info.partition(",")[2] if info.startswith("2,") else ""
        target = self.path / "cur" / f"{base}:2,{''.join(sorted(set(flags + 'S')))}"
        os.replace(self.path / sub / name, target)
