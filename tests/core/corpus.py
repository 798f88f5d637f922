"""Read every message of the shared corpus with one `git cat-file --batch`."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], input=data, check=True, capture_output=True).stdout


def corpus_messages(corpus_git: Path) -> list[tuple[str, bytes]]:
    """(commit, raw message) for every commit on master, oldest first."""
    revs = git(f"--git-dir={corpus_git}", "rev-list", "--reverse", "master").split()
    batch = git(f"--git-dir={corpus_git}", "cat-file", "--batch",
                data=b"".join(r + b":m\n" for r in revs))
    out: list[tuple[str, bytes]] = []
    pos = 0
    for rev in revs:
        eol = batch.index(b"\n", pos)
        size = int(batch[pos:eol].split()[2])
        out.append((rev.decode(), batch[eol + 1 : eol + 1 + size]))
        pos = eol + 1 + size + 1
    return out


def corpus_subjects(corpus_git: Path) -> list[str]:
    """The Subject git stored for each commit (public-inbox's commit message)."""
    out = git(f"--git-dir={corpus_git}", "log", "--reverse", "--format=%s")
    return out.decode("utf-8", "replace").split("\n")[:-1]
