"""Build a real git tree whose commits are corpus patches, as maintainers apply them.

Test helper for tests/test_applied_eval.py (see tests/data/applied/README.md).
A posted diff lacks the files it applies to, so for every patch we synthesise
them from the hunks: the pre-image is each hunk's context and "-" lines, the
post-image its context and "+" lines, with a few unique filler lines where the
real file had other text. Line numbers change but `git patch-id --stable`
ignores them, so a commit of pre -> post has the posting's patch-id. Each
patch gets a "base" commit (writes the pre-image) followed by the patch
commit; everything goes through one `git fast-import`.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
CONTEXT = 3  # git's default: hunks closer than 2*CONTEXT lines merge


@dataclass
class Hunk:
    old_start: int
    lines: list[str] = field(default_factory=list)  # with their ' ', '-', '+' marker
    no_eol_old: bool = False  # "\ No newline at end of file" after the last old line
    no_eol_new: bool = False


@dataclass
class FileDiff:
    old_path: str | None  # None: created
    new_path: str | None  # None: deleted
    old_mode: str = "100644"
    new_mode: str = "100644"
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False


def parse_diff(text: str) -> list[FileDiff]:
    """The files of a posted `git diff`; counts decide where hunks end (signatures follow)."""
    files: list[FileDiff] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line.startswith("diff --git a/") and " b/" in line:
            a, b = line[len("diff --git a/"):].rsplit(" b/", 1)
            f = FileDiff(a, b)
            files.append(f)
            while i < len(lines) and not lines[i].startswith(("@@ ", "diff --git ")):
                h = lines[i]
                i += 1
                if h.startswith("new file mode "):
                    f.old_path, f.new_mode = None, h.split()[-1]
                elif h.startswith("deleted file mode "):
                    f.new_path, f.old_mode = None, h.split()[-1]
                elif h.startswith("old mode "):
                    f.old_mode = h.split()[-1]
                elif h.startswith("new mode "):
                    f.new_mode = h.split()[-1]
                elif h.startswith(("GIT binary patch", "Binary files")):
                    f.binary = True
                elif not h.strip() or h.startswith("-- "):
                    break
            continue
        m = _HUNK.match(line)
        if m and files:
            old_n = int(m.group(2) or 1)
            new_n = int(m.group(4) or 1)
            hunk = Hunk(int(m.group(1)))
            while (old_n > 0 or new_n > 0) and i < len(lines):
                h = lines[i] or " "  # mailers strip the space of empty context lines
                i += 1
                if h[0] == "\\":
                    continue
                hunk.lines.append(h)
                old_n -= h[0] in " -"
                new_n -= h[0] in " +"
            if i < len(lines) and lines[i].startswith("\\"):
                last = hunk.lines[-1][0]
                hunk.no_eol_old, hunk.no_eol_new = last in " -", last in " +"
                i += 1
            files[-1].hunks.append(hunk)
    return files


def normalise_diff(text: str) -> str:
    """The diff as `git am` would apply it: a mailer-stripped empty context line is " ".

    `git patch-id` on the raw mail would stop at such a line; the commit `git
    am` makes has the full patch, and that is the patch-id a tree will show.
    """
    out: list[str] = []
    old_n = new_n = 0
    for line in text.split("\n"):
        m = _HUNK.match(line)
        if old_n > 0 or new_n > 0:
            line = line or " "
            if line[0] != "\\":
                old_n -= line[0] in " -"
                new_n -= line[0] in " +"
        elif m:
            old_n, new_n = int(m.group(2) or 1), int(m.group(4) or 1)
        out.append(line)
    return "\n".join(out)


def images(f: FileDiff, tag: str) -> tuple[bytes | None, bytes | None]:
    """Synthetic (pre, post) file contents for one file of a diff; None where absent."""
    pre: list[str] = []
    post: list[str] = []
    filler = 0
    prev_end = 1  # first old line not yet laid out

    def fill(n: int) -> None:
        nonlocal filler
        for _ in range(n):
            filler += 1
            pre.append(f"/* {tag} filler {filler} */")
            post.append(pre[-1])

    last: Hunk | None = None
    for h in sorted(f.hunks, key=lambda h: h.old_start):
        gap = h.old_start - prev_end
        # Keep hunks apart (gap > 2*CONTEXT) without copying the file's real size.
        fill(0 if gap <= 0 else min(gap, 2 * CONTEXT + 1))
        pre.extend(x[1:] for x in h.lines if x[0] in " -")
        post.extend(x[1:] for x in h.lines if x[0] in " +")
        n_old = sum(x[0] in " -" for x in h.lines)
        prev_end = max(h.old_start, 1) + n_old
        last = h
    if last is not None:
        trailing = len(last.lines) - len(_trailing(last.lines))
        if trailing >= CONTEXT and not (last.no_eol_old or last.no_eol_new):
            fill(CONTEXT)  # the file went on after the hunk
    if not f.hunks:  # pure rename / mode change: any content will do
        fill(CONTEXT)
    pre_b = _join(pre, last.no_eol_old if last else False)
    post_b = _join(post, last.no_eol_new if last else False)
    return (None if f.old_path is None else pre_b, None if f.new_path is None else post_b)


def _trailing(lines: list[str]) -> list[str]:
    # Lines before the trailing run of context lines.
    k = len(lines)
    while k > 0 and lines[k - 1][0] == " ":
        k -= 1
    return lines[:k]


def _join(lines: list[str], no_eol: bool) -> bytes:
    text = "\n".join(lines)
    return (text if no_eol or not lines else text + "\n").encode("utf-8", "surrogateescape")


FileStates = dict[str, tuple[str, bytes] | None]  # path -> (mode, content), None: absent


def tree_states(files: list[FileDiff], tag: str) -> tuple[FileStates, FileStates]:
    """The files to commit before the patch (pre-images) and the patch commit's changes."""
    base: FileStates = {}
    change: FileStates = {}
    for i, f in enumerate(files):
        pre, post = images(f, f"{tag}f{i}")
        if f.old_path is not None and pre is not None:
            base[f.old_path] = (f.old_mode, pre)
        if f.new_path is not None and f.new_path != f.old_path:
            base[f.new_path] = None  # a created or renamed-to file must not exist yet
        if f.old_path is not None and f.new_path != f.old_path:
            change[f.old_path] = None
        if f.new_path is not None and post is not None:
            change[f.new_path] = (f.new_mode, post)
    return base, change


@dataclass
class CommitSpec:
    """One commit to build: files to write (None deletes) and who/when/what."""

    files: dict[str, tuple[str, bytes] | None]  # path -> (mode, content)
    author: str  # "Name <email>"
    author_date: int  # unix seconds
    committer_date: int
    message: str
    mark: int = 0


def fast_import(repo: Path, branch: str, commits: list[CommitSpec]) -> dict[int, str]:
    """Write `commits` in order on `branch` with one `git fast-import`; mark -> sha."""
    out = bytearray()
    for n, c in enumerate(commits, 1):
        c.mark = n
        msg = c.message.encode()
        out += f"commit refs/heads/{branch}\nmark :{n}\n".encode()
        out += f"author {c.author} {c.author_date} +0000\n".encode()
        out += f"committer Maintainer <maint@example.org> {c.committer_date} +0000\n".encode()
        out += f"data {len(msg)}\n".encode() + msg + b"\n"
        for path, spec in c.files.items():
            if spec is None:
                out += f"D {path}\n".encode()
            else:
                mode, data = spec
                out += f"M {mode} inline {path}\ndata {len(data)}\n".encode() + data + b"\n"
        out += b"\n"
    subprocess.run(["git", "init", "-q", "-b", branch, str(repo)], check=True)
    marks = repo.parent / f"{repo.name}.marks"
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet", f"--export-marks={marks}"],
                   input=bytes(out), check=True)
    pairs = (line.split() for line in marks.read_text().splitlines())
    return {int(m[1:]): sha for m, sha in pairs}
