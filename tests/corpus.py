"""The one reader of the shared corpus for tests: every message, one `git cat-file --batch`.

Cached per process: the corpus is read-only, and many test modules want it.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from reviewbot.ports import RawMail


@lru_cache(maxsize=4)
def _read(git_dir: Path) -> tuple[RawMail, ...]:
    git = ["git", "--git-dir", str(git_dir)]
    log = subprocess.run([*git, "log", "--reverse", "--format=%H %ct", "master"],
                         capture_output=True, text=True, check=True).stdout.split()
    commits, times = log[0::2], log[1::2]
    out = subprocess.run([*git, "cat-file", "--batch"], capture_output=True, check=True,
                         input="".join(f"{c}:m\n" for c in commits).encode()).stdout
    mails: list[RawMail] = []
    pos = 0
    for commit, ts in zip(commits, times, strict=True):
        eol = out.index(b"\n", pos)
        size = int(out[pos:eol].split()[2])
        mails.append(RawMail(out[eol + 1:eol + 1 + size], f"{git_dir}#{commit}",
                             datetime.fromtimestamp(int(ts), UTC)))
        pos = eol + 1 + size + 1
    return tuple(mails)


def read_corpus(git_dir: Path, limit: int | None = None) -> list[RawMail]:
    """The epoch's messages in arrival (commit) order; `origin` ends in `#<commit>`."""
    return list(_read(Path(git_dir))[:limit])


def commit_of(mail: RawMail) -> str:
    return mail.origin.rsplit("#", 1)[1]
