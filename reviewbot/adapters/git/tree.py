"""Watch a subsystem's git tree and report the commits that are new on its branches.

Imperative shell around `git`: a local repository is read in place; a URL
(https://, git://, file://, ssh) is cloned bare into a cache folder once and
fetched on every `sync()`. The caller remembers one tip per branch (the
service stores them) and passes them back; `new_commits()` lists what came
after them and returns the new tips. Each listing runs ONE `git log -p` whose
output also feeds ONE `git patch-id --stable`, whatever the number of commits.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from reviewbot.core.applied.match import TreeCommit

log = logging.getLogger(__name__)

_SEP = "\x1f"  # field separator inside our --format header
# "commit <sha>" first, so `git patch-id` sees each commit's start.
_FORMAT = "commit %H%n" + _SEP.join(["%an", "%ae", "%aI", "%cI", "%s"]) + "%n%w(0,4,4)%B"
_TRAILER = re.compile(r"^(Link|Message-I[Dd]|Message-ID-Link)\s*:\s*\S", re.I)
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://|^[^/\s]+@[^/\s]+:", re.I)
# Network calls never hang a poll: ls-remote has a deadline; a fetch (a first clone of
# a kernel tree takes long) may run for an hour but is dropped when it stalls for a
# minute below 1 KB/s over HTTP.
NETWORK_TIMEOUT = 120.0
FETCH_TIMEOUT = 3600.0
_STALL_LIMIT = {"GIT_HTTP_LOW_SPEED_LIMIT": "1000", "GIT_HTTP_LOW_SPEED_TIME": "60"}


class GitTreeError(RuntimeError):
    """git failed; `stderr` says why."""

    def __init__(self, args: Sequence[str], stderr: str) -> None:
        super().__init__(f"git {' '.join(args)}: {stderr.strip()}")
        self.stderr = stderr


@dataclass(frozen=True, slots=True)
class TreeUpdate:
    # Each branch's new commits oldest first, each commit once even if on several
    # branches. A commit new to one branch but seen on another before comes again.
    commits: tuple[TreeCommit, ...]
    tips: dict[str, str]  # branch -> tip to remember for the next call
    warnings: tuple[str, ...] = ()  # rewinds, missing branches


@dataclass
class GitTree:
    """One watched tree. `source` is a local path or a URL; `cache_dir` holds clones of URLs."""

    source: str
    branches: tuple[str, ...]
    cache_dir: Path | None = None
    git: str = "git"
    first_max_count: int = 1000  # a branch seen for the first time: list at most this many
    _git_dir: Path | None = field(default=None, init=False, repr=False)

    @property
    def is_remote(self) -> bool:
        return bool(_URL.match(self.source))

    @property
    def git_dir(self) -> Path:
        if self._git_dir is None:
            raise RuntimeError("call sync() first")
        return self._git_dir

    # --- fetching -----------------------------------------------------------

    def sync(self) -> None:
        """Clone (first time) or fetch the configured branches; a local path is used as is."""
        if not self.is_remote:
            path = Path(self.source)
            dot_git = path / ".git"
            self._git_dir = dot_git if dot_git.exists() else path
            # Otherwise every branch would just look missing, poll after poll.
            if self._proc(["rev-parse", "--git-dir"]).returncode != 0:
                raise GitTreeError(["rev-parse", "--git-dir"],
                                   f"{self.source} is not a git repository")
            return
        if self.cache_dir is None:
            raise ValueError(f"{self.source}: a URL needs a cache_dir")
        name = re.sub(r"[^\w.-]+", "_", self.source.rstrip("/").rsplit("/", 1)[-1])[:40]
        digest = hashlib.sha256(self.source.encode()).hexdigest()[:12]
        target = self.cache_dir / f"{name}-{digest}.git"
        if not (target / "HEAD").exists():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self._run(["init", "--bare", "-q", str(target)], cwd=self.cache_dir)
        self._git_dir = target
        # Fetch only branches that exist upstream: one missing ref fails the whole fetch.
        listed = self._git(["ls-remote", "--heads", self.source],
                           timeout=NETWORK_TIMEOUT)
        present = {line.split("\t", 1)[1] for line in listed.splitlines() if "\t" in line}
        # "+" accepts forced updates: a rewound branch is the maintainer's right.
        specs = [
            f"+refs/heads/{b}:refs/heads/{b}" for b in self.branches
            if f"refs/heads/{b}" in present
        ]
        if specs:
            self._git(["fetch", "-q", "--no-tags", self.source, *specs],
                      timeout=FETCH_TIMEOUT)

    # --- listing ------------------------------------------------------------

    def poll(self, tips: Mapping[str, str | None]) -> TreeUpdate:
        """One round for the daemon's interval loop (run in a worker thread): sync, list."""
        self.sync()
        return self.new_commits(tips)

    def new_commits(self, tips: Mapping[str, str | None]) -> TreeUpdate:
        """Commits on the branches after the remembered `tips` (missing/None: first look)."""
        warnings: list[str] = []
        new_tips: dict[str, str] = {}
        order: list[str] = []
        on: dict[str, list[str]] = {}
        for branch in self.branches:
            head = self._resolve(branch)
            if head is None:
                warnings.append(f"branch {branch} not found in {self.source}")
                old = tips.get(branch)
                if old:
                    new_tips[branch] = old
                continue
            new_tips[branch] = head
            for sha in self._range(branch, tips.get(branch), head, warnings):
                if sha not in on:
                    on[sha] = []
                    order.append(sha)
                on[sha].append(branch)
        for w in warnings:
            log.warning("%s: %s", self.source, w)
        commits = self._describe(order)
        return TreeUpdate(
            commits=tuple(
                _with_branches(c, on[c.sha]) for c in commits
            ),
            tips=new_tips,
            warnings=tuple(warnings),
        )

    def contains(self, branch: str, sha: str) -> bool:
        """Whether `sha` is on `branch` as last synced (a force-push may have dropped it)."""
        head = self._resolve(branch)
        return head is not None and self._is_ancestor(sha, head)

    def _range(self, branch: str, old: str | None, head: str, warnings: list[str]) -> list[str]:
        if old == head:
            return []
        base = old
        if old is not None and not self._is_ancestor(old, head):
            # Force-pushed: resume from where the old and new histories meet.
            base = self._merge_base(old, head)
            warnings.append(
                f"branch {branch} was rewound ({old[:12]} is not in it); "
                + (f"listing from merge-base {base[:12]}" if base else "no merge-base, listing "
                   f"the last {self.first_max_count} commits")
            )
        if base is None:
            # First look (or no common history): bounded, newest first, then reversed.
            limit = f"--max-count={self.first_max_count}"
            return list(reversed(self._git(["rev-list", "--no-merges", limit, head]).split()))
        return self._git(["rev-list", "--reverse", "--no-merges", "--topo-order",
                          head, f"^{base}"]).split()

    def _describe(self, shas: Sequence[str]) -> list[TreeCommit]:
        """One `git log -p` streamed through Python into one `git patch-id --stable`."""
        if not shas:
            return []
        # Pin what user config could change in the diff text patch-id hashes.
        log_cmd = [
            self.git, f"--git-dir={self.git_dir}", "-c", "diff.noprefix=false",
            "-c", "diff.mnemonicPrefix=false", "log", "-p", "--no-walk=unsorted", "--stdin",
            "--no-color", "--no-ext-diff", "--no-textconv", "--no-show-signature",
            "--no-relative", "--diff-algorithm=myers", f"--format={_FORMAT}",
        ]
        parser = _LogParser()
        # Files, not pipes, for what we read last: a full pipe would stall git.
        with tempfile.TemporaryFile() as pid_out, tempfile.TemporaryFile() as errs:
            pid = subprocess.Popen([self.git, "patch-id", "--stable"], stdin=subprocess.PIPE,
                                   stdout=pid_out, stderr=errs)
            log = subprocess.Popen(log_cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=errs)
            assert log.stdin and log.stdout and pid.stdin
            log.stdin.write(("\n".join(shas) + "\n").encode())
            log.stdin.close()
            for raw in log.stdout:
                pid.stdin.write(raw)
                parser.feed(raw.decode("utf-8", "surrogateescape").rstrip("\n"))
            pid.stdin.close()
            if log.wait() != 0 or pid.wait() != 0:
                errs.seek(0)
                raise GitTreeError(["log -p | patch-id"], errs.read().decode(errors="replace"))
            pid_out.seek(0)
            pairs = (line.split() for line in pid_out.read().decode().splitlines())
        patch_ids = {sha: p for p, sha in pairs}
        return [_record(c, patch_ids.get(c.sha)) for c in parser.done()]

    # --- git plumbing -------------------------------------------------------

    def _resolve(self, branch: str) -> str | None:
        # A local clone may only have the branch as a remote-tracking ref.
        for ref in (f"refs/heads/{branch}", f"refs/remotes/{branch}", branch):
            sha = self._rev(ref)
            if sha is not None:
                return sha
        return None

    def _rev(self, ref: str) -> str | None:
        proc = self._proc(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"])
        return proc.stdout.strip() if proc.returncode == 0 else None

    def _is_ancestor(self, old: str, head: str) -> bool:
        return self._proc(["merge-base", "--is-ancestor", old, head]).returncode == 0

    def _merge_base(self, old: str, head: str) -> str | None:
        proc = self._proc(["merge-base", old, head])
        if proc.returncode != 0:
            return None
        return proc.stdout.strip() or None

    def _git(self, args: list[str], stdin: str | None = None,
             timeout: float | None = None) -> str:
        proc = self._proc(args, stdin, timeout)
        if proc.returncode != 0:
            raise GitTreeError(args, proc.stderr)
        return proc.stdout

    def _proc(self, args: list[str], stdin: str | None = None,
              timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [self.git, f"--git-dir={self.git_dir}", *args]
        try:
            return subprocess.run(
                cmd, input=stdin, capture_output=True, text=True, encoding="utf-8",
                errors="surrogateescape", check=False, timeout=timeout,
                env={**os.environ, **_STALL_LIMIT},
            )
        except subprocess.TimeoutExpired as exc:
            raise GitTreeError(args, f"no answer within {timeout:.0f} s") from exc

    def _run(self, args: list[str], cwd: Path) -> None:
        proc = subprocess.run([self.git, *args], cwd=cwd, capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            raise GitTreeError(args, proc.stderr)


def _with_branches(c: TreeCommit, branches: list[str]) -> TreeCommit:
    return TreeCommit(
        sha=c.sha, subject=c.subject, author_name=c.author_name, author_email=c.author_email,
        author_date=c.author_date, commit_date=c.commit_date, trailers=c.trailers,
        patch_id=c.patch_id, files=c.files, branches=tuple(branches),
    )


@dataclass
class _Partial:
    sha: str
    meta: list[str] = field(default_factory=list)  # an, ae, aI, cI, subject
    trailers: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


class _LogParser:
    """Reads our --format of `git log -p` line by line, keeping no diff text."""

    def __init__(self) -> None:
        self._commits: list[_Partial] = []
        self._in_hunks = False  # inside a file's hunks: only "diff --git" ends them

    def feed(self, line: str) -> None:
        if line.startswith("commit ") and len(line) >= 47 and " " not in line[7:]:
            self._commits.append(_Partial(line[7:]))
            self._in_hunks = False
            return
        if not self._commits:
            return
        c = self._commits[-1]
        if not c.meta:
            c.meta = line.split(_SEP, 4)
        elif line.startswith("diff --git a/") and " b/" in line:
            self._in_hunks = False
            # Mode-only changes and empty new files have no ---/+++ lines.
            _add(c.files, line[len("diff --git a/"):].rsplit(" b/", 1)[1])
        elif self._in_hunks:
            return
        elif line.startswith("@@ "):
            self._in_hunks = True
        elif line.startswith("    ") and not c.files:
            if _TRAILER.match(line[4:]):
                c.trailers.append(line[4:].strip())
        elif line.startswith(("--- a/", "+++ b/")):
            _add(c.files, line[6:])
        elif line.startswith(("rename from ", "rename to ", "copy from ", "copy to ")):
            _add(c.files, line.split(" ", 2)[2])

    def done(self) -> list[_Partial]:
        return self._commits


def _record(c: _Partial, patch_id: str | None) -> TreeCommit:
    an, ae, ad, cd, subject = c.meta
    return TreeCommit(
        sha=c.sha, subject=subject, author_name=an, author_email=ae.lower(),
        author_date=datetime.fromisoformat(ad), commit_date=datetime.fromisoformat(cd),
        trailers=tuple(c.trailers), patch_id=patch_id, files=tuple(c.files),
    )


def _add(files: list[str], path: str) -> None:
    path = path.rstrip("\t")
    if path not in files:
        files.append(path)
