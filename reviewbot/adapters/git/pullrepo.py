"""The maintainer's repository as pull requests and the debt report read it: git only.

Everything runs `git` in the repository (`-C`), so the maintainer's own git
configuration applies, as it does when they run `git request-pull` or
`git verify-tag` themselves. Network commands (ls-remote) have a timeout.
"""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from reviewbot.adapters.git.mainline import NETWORK_TIMEOUT, one_line
from reviewbot.adapters.git.tree import GitTreeError
from reviewbot.core.applied.match import normalise_subject
from reviewbot.core.pulls.cycle import is_mainline_tag
from reviewbot.core.pulls.model import CommitInfo, TagInfo

_RS, _US = "\x1e", "\x1f"
_LOG_FORMAT = _RS + _US.join(["%H", "%an", "%ae", "%aI", "%cn", "%ce", "%cI", "%s",
                              "%(trailers:only,unfold)"]) + _US
_SIGNATURES = ("-----BEGIN PGP SIGNATURE-----", "-----BEGIN SSH SIGNATURE-----",
               "-----BEGIN SIGNED MESSAGE-----")
# The diff patch-id hashes: pinned so user configuration cannot change it (as in tree.py).
_DIFF_PINS = ["-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false"]
_DIFF_OPTS = ["--no-color", "--no-ext-diff", "--no-textconv", "--no-relative",
              "--diff-algorithm=myers"]


def _signer_date(fields: list[str]) -> datetime | None:
    """"1737280000 +0100" (the end of a tagger line) -> aware datetime."""
    try:
        seconds, tz = int(fields[-2]), fields[-1]
        sign = -1 if tz.startswith("-") else 1
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])) * sign
        return datetime.fromtimestamp(seconds, UTC).astimezone(timezone(offset))
    except (IndexError, ValueError):
        return None


def parse_tag_object(name: str, object_sha: str, commit: str, text: str) -> TagInfo:
    """`git cat-file tag` output -> TagInfo (tagger, date, message, signed)."""
    head, _, message = text.partition("\n\n")
    tagger_name = tagger_email = ""
    when = None
    for line in head.splitlines():
        if line.startswith("tagger "):
            who, _, rest = line[len("tagger "):].partition("<")
            email, _, stamp = rest.partition(">")
            tagger_name, tagger_email = who.strip(), email.strip()
            when = _signer_date(stamp.split())
    signed = any(sig in message for sig in _SIGNATURES) or "\ngpgsig " in f"\n{head}"
    body = message
    for sig in _SIGNATURES:
        body = body.split(sig, 1)[0]
    return TagInfo(name, object_sha, commit, True, signed, tagger_name, tagger_email, when,
                   body.rstrip("\n"))


@dataclass(frozen=True)
class GitPullTree:
    """The PullTree port over a local repository (a work tree or a bare one)."""

    path: str
    git: str = "git"
    timeout: float = NETWORK_TIMEOUT

    def __post_init__(self) -> None:
        if not Path(self.path).is_dir():
            raise GitTreeError(["-C", self.path], f"{self.path}: no such directory")
        if self._proc(["rev-parse", "--git-dir"]).returncode != 0:
            raise GitTreeError(["rev-parse"], f"{self.path} is not a git repository")

    # -- plumbing ---------------------------------------------------------------

    def _proc(self, args: list[str], stdin: str | None = None,
              timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([self.git, "-C", self.path, *args], input=stdin,
                                  capture_output=True, text=True, encoding="utf-8",
                                  errors="replace", check=False, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise GitTreeError(args, f"timed out after {timeout} s") from exc

    def _git(self, args: list[str], stdin: str | None = None,
             timeout: float | None = None) -> str:
        proc = self._proc(args, stdin, timeout)
        if proc.returncode != 0:
            raise GitTreeError(args, one_line(proc.stderr))
        return proc.stdout

    # -- refs and tags ----------------------------------------------------------

    def resolve(self, ref: str) -> str | None:
        proc = self._proc(["rev-parse", "-q", "--verify", f"{ref}^{{commit}}"])
        return proc.stdout.strip() if proc.returncode == 0 else None

    def tag(self, name: str) -> TagInfo | None:
        ref = f"refs/tags/{name}"
        obj = self._proc(["rev-parse", "-q", "--verify", ref])
        commit = self.resolve(ref)
        if obj.returncode != 0 or commit is None:
            return None
        sha = obj.stdout.strip()
        if self._git(["cat-file", "-t", sha]).strip() != "tag":
            return TagInfo(name, sha, commit, annotated=False, signed=False)
        return parse_tag_object(name, sha, commit, self._git(["cat-file", "tag", sha]))

    def default_tag(self) -> str | None:
        out = self._git(["for-each-ref", "--sort=-creatordate", "--format=%(refname:short)",
                         "refs/tags"])
        return next((t for t in out.split() if not is_mainline_tag(t)), None)

    def default_base(self, tip: str, upstream_ref: str | None) -> str | None:
        if upstream_ref and self.resolve(upstream_ref):
            proc = self._proc(["merge-base", tip, upstream_ref])
            if proc.returncode == 0:
                base = proc.stdout.strip()
                return next(iter(self.mainline_tags_at(base)), base)  # "v6.16-rc1" reads better
        out = self._git(["tag", "--merged", tip, "--sort=-creatordate", "v*"])
        return next((t for t in out.split() if is_mainline_tag(t)), None)

    def mainline_tags_at(self, commit: str) -> tuple[str, ...]:
        out = self._git(["tag", "--points-at", commit])
        return tuple(t for t in out.split() if is_mainline_tag(t))

    def verify_tag(self, name: str) -> tuple[bool, str]:
        proc = self._proc(["verify-tag", f"refs/tags/{name}"])
        return proc.returncode == 0, (proc.stderr + proc.stdout).strip()

    def remote_tag(self, url: str, name: str) -> str | None:
        out = self._git(["ls-remote", url, f"refs/tags/{name}"], timeout=self.timeout)
        for line in out.splitlines():
            sha, _, ref = line.partition("\t")
            if ref == f"refs/tags/{name}":
                return sha
        return None

    def request_pull(self, base: str, url: str, tag: str) -> str:
        """Exactly what `git request-pull` prints. It exits 1 (after printing everything)
        when the tag is not at `url`: the readiness check says so, the text is still right."""
        try:
            proc = subprocess.run([self.git, "request-pull", base, url, tag], cwd=self.path,
                                  capture_output=True, check=False, timeout=self.timeout)
        except subprocess.TimeoutExpired as exc:
            raise GitTreeError(["request-pull"], f"timed out after {self.timeout} s") from exc
        if proc.returncode != 0 and b"----------------" not in proc.stdout:
            raise GitTreeError(["request-pull", base, url, tag], one_line(proc.stderr.decode(
                errors="replace")))
        return proc.stdout.decode("utf-8")

    # -- commits ----------------------------------------------------------------

    def commits(self, base: str, tip: str) -> list[CommitInfo]:
        out = self._git(["log", "--reverse", "--no-merges", "--name-only", "--no-renames",
                         f"--format={_LOG_FORMAT}", f"{base}..{tip}"])
        patch_ids = self._patch_ids(base, tip)
        found: list[CommitInfo] = []
        for record in out.split(_RS)[1:]:
            fields = record.split(_US)
            sha, an, ae, ad, cn, ce, cd, subject, trailers = fields[:9]
            files = tuple(f for f in fields[9].split("\n") if f.strip()) if len(fields) > 9 else ()
            found.append(CommitInfo(
                sha=sha, subject=subject, author_name=an, author_email=ae.lower(),
                author_date=datetime.fromisoformat(ad), committer_name=cn,
                committer_email=ce.lower(), committer_date=datetime.fromisoformat(cd),
                trailers=_trailers(trailers), files=files, patch_id=patch_ids.get(sha)))
        return found

    def _patch_ids(self, base: str, tip: str) -> dict[str, str]:
        log = [self.git, "-C", self.path, *_DIFF_PINS, "log", "-p", "--no-merges",
               *_DIFF_OPTS, f"{base}..{tip}"]
        with subprocess.Popen(log, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as lp:
            assert lp.stdout is not None
            pid = subprocess.run([self.git, "patch-id", "--stable"], stdin=lp.stdout,
                                 capture_output=True, check=False)
            lp.stdout.close()
            if lp.wait() != 0 or pid.returncode != 0:
                raise GitTreeError(["log -p | patch-id"], pid.stderr.decode(errors="replace"))
        pairs = (line.split() for line in pid.stdout.decode().splitlines())
        return {sha: p for p, sha in pairs}

    def missing_commits(self, prefixes: Collection[str]) -> frozenset[str]:
        wanted = sorted(prefixes)
        if not wanted:
            return frozenset()
        out = self._git(["cat-file", "--batch-check"],
                        stdin="".join(f"{p}^{{commit}}\n" for p in wanted))
        # "<sha> commit <size>" when found; "<input> missing" / "ambiguous" otherwise.
        return frozenset(p for p, line in zip(wanted, out.splitlines(), strict=True)
                         if " commit " not in line)

    def not_in(self, shas: Sequence[str], ref: str) -> list[str] | None:
        head = self.resolve(ref)
        if head is None:
            return None
        unknown = self.missing_commits(shas)  # not even fetched here: not in `ref` either
        known = [s for s in shas if s not in unknown]
        outside = set(unknown)
        if known:
            out = self._git(["rev-list", "--stdin"], stdin="".join(f"{s}\n" for s in known)
                            + f"^{head}\n")
            outside.update(out.split())
        return [s for s in shas if s in outside]

    def upstream_equivalents(self, upstream: str, head: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in self._git(["cherry", upstream, head]).splitlines():
            mark, _, sha = line.partition(" ")
            if mark == "-":
                found[sha] = "an equivalent patch is upstream (git cherry: same patch-id)"
        base = self._git(["merge-base", upstream, head]).strip()
        theirs: dict[tuple[str, str], str] = {}
        for line in self._git(["log", "--no-merges", f"--format=%H{_US}%ae{_US}%an{_US}%s",
                               f"{base}..{upstream}"]).splitlines():
            sha, ae, an, subject = line.split(_US, 3)
            theirs.setdefault((normalise_subject(subject), ae.lower()), sha)
            theirs.setdefault((normalise_subject(subject), an.casefold()), sha)
        for line in self._git(["log", "--no-merges", f"--format=%H{_US}%ae{_US}%an{_US}%s",
                               f"{upstream}..{head}"]).splitlines():
            sha, ae, an, subject = line.split(_US, 3)
            if sha in found:
                continue
            key = normalise_subject(subject)
            hit = theirs.get((key, ae.lower())) or theirs.get((key, an.casefold()))
            if hit is not None:
                found[sha] = f"upstream as {hit[:12]} (same subject and author)"
        return found


def _trailers(text: str) -> tuple[tuple[str, str], ...]:
    out = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and " " not in key.strip():
            out.append((key.strip(), value.strip()))
    return tuple(out)
