"""Build small public-inbox v2 epochs (one commit per message, file `m`) for tests."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from reviewbot.ports import RawMail

_FIRST = datetime(2025, 1, 1, tzinfo=UTC)


def make_epoch(git_dir: Path, mails: Sequence[RawMail | bytes]) -> Path:
    """A bare repo laid out as public-inbox v2 writes it, built with git fast-import.

    A RawMail's `received` becomes the commit (arrival) time; bare bytes arrive
    a minute apart from 2025-01-01.
    """
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(git_dir)], check=True)
    stream = bytearray()
    for n, mail in enumerate(mails):
        raw, received = (mail.raw, mail.received) if isinstance(mail, RawMail) else (mail, None)
        when = int((received or _FIRST).timestamp()) + (0 if received else 60 * n)
        stream += b"commit refs/heads/master\n"
        stream += b"committer list <list@example.org> %d +0000\ndata 1\nm\n" % when
        stream += b"M 100644 inline m\ndata %d\n%s\n" % (len(raw), raw)
    subprocess.run(["git", "--git-dir", str(git_dir), "fast-import", "--quiet"],
                   input=bytes(stream), check=True)
    return git_dir
