"""Build small public-inbox v2 epochs (one commit per message, file `m`) for tests."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path


def make_epoch(git_dir: Path, raws: Sequence[bytes], *, start: int = 1_735_689_600) -> Path:
    """A bare repo laid out as public-inbox v2 writes it, built with git fast-import."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(git_dir)], check=True)
    parts: list[bytes] = []
    for n, raw in enumerate(raws):
        when = start + 60 * n
        parts.append(b"commit refs/heads/master\n")
        parts.append(f"committer list <list@example.org> {when} +0000\n".encode())
        parts.append(b"data 1\nm\n")
        parts.append(f"M 100644 inline m\ndata {len(raw)}\n".encode() + raw + b"\n")
    subprocess.run(["git", "--git-dir", str(git_dir), "fast-import", "--quiet"],
                   input=b"".join(parts), check=True)
    return git_dir
