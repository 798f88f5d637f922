"""Read every message of the shared corpus with one `git cat-file --batch`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.corpus import commit_of, read_corpus


def git(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["git", *args], input=data, check=True, capture_output=True).stdout


def corpus_messages(corpus_git: Path) -> list[tuple[str, bytes]]:
    """(commit, raw message) for every commit on master, oldest first."""
    return [(commit_of(m), m.raw) for m in read_corpus(corpus_git)]


def corpus_subjects(corpus_git: Path) -> list[str]:
    """The Subject git stored for each commit (public-inbox's commit message)."""
    out = git(f"--git-dir={corpus_git}", "log", "--reverse", "--format=%s")
    return out.decode("utf-8", "replace").split("\n")[:-1]
