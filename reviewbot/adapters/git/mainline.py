"""Mainline tags for the release cycle: a local kernel repository, or `git ls-remote`.

A local repository gives each tag's date (`creatordate`: the tagger date of
Linus' annotated tags). `git ls-remote --tags` gives names only; the cycle
core then estimates the newest tag's date (core.pulls.cycle).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reviewbot.adapters.git.tree import GitTreeError

TORVALDS = "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git"
NETWORK_TIMEOUT = 120.0  # seconds for one ls-remote


def one_line(stderr: str) -> str:
    """git's complaint in one line: its fatal:/error: lines, else the first line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return " ".join(errors or lines[:1])


def _run(args: list[str], timeout: float | None = None) -> str:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, check=False,
                              timeout=timeout, encoding="utf-8", errors="replace")
    except subprocess.TimeoutExpired as exc:
        raise GitTreeError(args[1:], f"timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise GitTreeError(args[1:], one_line(proc.stderr))
    return proc.stdout


@dataclass(frozen=True)
class LocalMainlineTags:
    """`refs/tags/v*` of a local repository, with their dates."""

    path: str
    git: str = "git"

    @property
    def source(self) -> str:
        return self.path

    def tags(self) -> list[tuple[str, datetime | None]]:
        if not Path(self.path).exists():
            raise GitTreeError(["for-each-ref"], f"{self.path}: no such directory")
        out = _run([self.git, "-C", self.path, "for-each-ref",
                    "--format=%(refname:short)%09%(creatordate:iso-strict)", "refs/tags/v*"])
        found: list[tuple[str, datetime | None]] = []
        for line in out.splitlines():
            name, _, when = line.partition("\t")
            found.append((name, datetime.fromisoformat(when) if when else None))
        return found


@dataclass(frozen=True)
class RemoteMainlineTags:
    """`git ls-remote --tags` of a URL (torvalds/linux by default): names, no dates."""

    url: str = TORVALDS
    git: str = "git"
    timeout: float = NETWORK_TIMEOUT

    @property
    def source(self) -> str:
        return self.url

    def tags(self) -> list[tuple[str, datetime | None]]:
        out = _run([self.git, "ls-remote", "--tags", "--refs", self.url, "refs/tags/v*"],
                   self.timeout)
        return [(line.split("\t", 1)[1].removeprefix("refs/tags/"), None)
                for line in out.splitlines() if "\t" in line]
