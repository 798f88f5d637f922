"""Source: an mbox file or a maildir directory (`reviewbot ingest --mbox`).

mbox: a message starts at a `From ` line at the start of the file or after
a blank line, and the blank line before the next `From ` belongs to the
format, not the message. `mboxrd` (public-inbox, b4, git) unescapes one `>`
from every body line matching `>+From `; `mboxo` only from `>From `, which
cannot tell an escaped `From ` from a quoted `>From ` (the format's flaw).

Cursor, mbox: JSON {"n": messages consumed, "offset": bytes consumed, "size",
"mtime_ns", "head": hash of the 4 KiB before the offset}. A file
that only grew resumes at the offset; any other change (rewritten,
truncated, replaced) restarts from the top with a warning: duplicates are
fine, the store drops them, and nothing is skipped.

Cursor, maildir: JSON {"n": messages consumed, "last": the last unique name
consumed}. Unique names (the part before `:2,`) start with the delivery time,
so new mail sorts after the cursor; flag changes and cur/new moves do not
change the unique name.

Received time (RawMail.received): the date on the mbox `From ` line, or the
delivery time a maildir unique name starts with. The parser dates mail whose
Date header is missing or unreadable by it when no Received: header has one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewbot.core.mail.headers import from_line_date
from reviewbot.ports import Batch, Deletion, RawMail

log = logging.getLogger(__name__)

_UNESCAPE = {
    "mboxrd": re.compile(rb"^>(>*From )", re.MULTILINE),
    "mboxo": re.compile(rb"^>(From )", re.MULTILINE),
}
_GUARD = 4096


class MboxError(ValueError):
    """The file is not an mbox or maildir this source can read."""


class MboxSource:
    """The messages of an mbox file or maildir, in file (or delivery) order."""

    def __init__(
        self, path: Path, list_name: str, *, flavour: str = "mboxrd", batch_size: int = 500
    ) -> None:
        if flavour not in _UNESCAPE:
            raise ValueError(f"flavour must be one of {sorted(_UNESCAPE)}, not {flavour!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        self.path = Path(path)
        self.list_name = list_name
        self.flavour = flavour
        self.batch_size = batch_size

    @property
    def key(self) -> str:
        return f"mbox:{self.list_name}:{self.path}"

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        state = _parse_cursor(cursor)
        if self.path.is_dir():
            yield from self._maildir(state)
        elif self.path.is_file():
            yield from self._mbox(state)
        else:
            raise MboxError(f"{self.path}: no such mbox file or maildir")

    # -- mbox ---------------------------------------------------------------

    def _mbox(self, state: dict[str, Any]) -> Iterator[Batch]:
        with self.path.open("rb") as f:
            st = self.path.stat()
            if st.st_size == 0:
                return
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                n, offset = self._resume_point(state, data, st.st_size, st.st_mtime_ns)
                if offset >= len(data):
                    return
                if not data[offset:].startswith(b"From "):
                    where = "file" if offset == 0 else f"file at byte {offset}"
                    raise MboxError(
                        f"{self.path}: not an mbox ({where} does not start with 'From ')"
                    )
                items: list[RawMail | Deletion] = []
                for raw, end, received in self._split(data, offset):
                    items.append(RawMail(raw, f"mbox:{self.path}#{n}", received))
                    n += 1
                    if len(items) == self.batch_size or end == len(data):
                        yield Batch(items, self._mbox_cursor(n, end, data, st.st_mtime_ns))
                        items = []

    def _split(
        self, data: mmap.mmap, offset: int
    ) -> Iterator[tuple[bytes, int, datetime | None]]:
        """(message, offset after it, its From_ line's date) for every message from
        `offset` on. The date stands in for a missing or unreadable Date header."""
        unescape = _UNESCAPE[self.flavour]
        # A separator is a `From ` line after a blank line; bytes.find is
        # far faster than a MULTILINE regex over a large file.
        starts = [offset]
        at = data.find(b"\nFrom ", offset)
        while at != -1:
            if data[at - 1 : at] == b"\n" or data[at - 2 : at] == b"\n\r":
                starts.append(at + 1)
            at = data.find(b"\nFrom ", at + 1)
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(data)
            eol = data.find(b"\n", start)
            received = from_line_date(data[start:eol])
            msg = data[eol + 1 : end]
            # The blank line before the next separator belongs to the mbox.
            if msg.endswith(b"\r\n\r\n"):
                msg = msg[:-2]
            elif msg.endswith(b"\n\n"):
                msg = msg[:-1]
            # Headers end at the first empty line, LF or CRLF.
            cut = min((i for i in (msg.find(b"\n\n"), msg.find(b"\n\r\n")) if i != -1),
                      default=len(msg))
            if msg.find(b">From ", cut) != -1:
                msg = msg[:cut] + unescape.sub(rb"\1", msg[cut:])
            yield msg, end, received

    def _resume_point(
        self, state: dict[str, Any], data: mmap.mmap, size: int, mtime_ns: int
    ) -> tuple[int, int]:
        if not state:
            return 0, 0
        try:
            n, offset = int(state["n"]), int(state["offset"])
            old_size, old_mtime = int(state["size"]), int(state["mtime_ns"])
            head = str(state["head"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"mbox cursor lacks n/offset/size/mtime_ns/head: {state}") from exc
        if size == old_size and mtime_ns == old_mtime:
            return n, offset
        if size >= offset and _head_hash(data, offset) == head and (
            offset == size or data[offset : offset + 5] == b"From "
        ):
            return n, offset  # appended to
        log.warning(
            "%s changed since the last import (size %d -> %d) and not by appending; "
            "re-reading it from the start, the store drops the duplicates",
            self.path,
            old_size,
            size,
        )
        return 0, 0

    @staticmethod
    def _mbox_cursor(n: int, end: int, data: mmap.mmap, mtime_ns: int) -> str:
        return json.dumps(
            {"n": n, "offset": end, "size": len(data), "mtime_ns": mtime_ns,
             "head": _head_hash(data, end)},
            sort_keys=True,
        )

    # -- maildir ------------------------------------------------------------

    def _maildir(self, state: dict[str, Any]) -> Iterator[Batch]:
        subdirs = [self.path / d for d in ("cur", "new") if (self.path / d).is_dir()]
        if not subdirs:
            raise MboxError(f"{self.path}: a directory but not a maildir (no cur/ or new/)")
        n = int(state.get("n", 0))
        last = state.get("last")
        entries = sorted(
            (p.name.split(":", 1)[0], p)
            for d in subdirs
            for p in d.iterdir()
            if p.is_file() and not p.name.startswith(".")
        )
        items: list[RawMail | Deletion] = []
        todo = [(u, p) for u, p in entries if last is None or u > last]
        for i, (unique, p) in enumerate(todo):
            items.append(RawMail(p.read_bytes(), f"mbox:{self.path}#{n}", _delivered(unique)))
            n += 1
            if len(items) == self.batch_size or i == len(todo) - 1:
                yield Batch(items, json.dumps({"n": n, "last": unique}, sort_keys=True))
                items = []


def _delivered(unique: str) -> datetime | None:
    """A maildir message's delivery time: its unique name starts with it (seconds)."""
    seconds = unique.split(".", 1)[0]
    if not seconds.isdigit() or int(seconds) == 0:
        return None
    try:
        return datetime.fromtimestamp(int(seconds), UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _head_hash(data: mmap.mmap, offset: int) -> str:
    return hashlib.sha256(data[max(0, offset - _GUARD) : offset]).hexdigest()


def _parse_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except json.JSONDecodeError as exc:
        raise ValueError(f"mbox cursor is not JSON: {cursor!r}") from exc
    if not isinstance(state, dict):
        raise ValueError(f"mbox cursor must be a JSON object: {cursor!r}")
    return state
