"""Inline diffs in a mail body: where they start, files touched, patch-id.

Works on bytes because `git patch-id` hashes bytes: the id must equal what
`git patch-id --stable` prints for the same patch, so that a posting can be
matched to the commit it became. Pure, no I/O.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# A git diff header, or a quilt/`diff -u` pair with its first hunk header.
_QUILT = re.compile(rb"\n--- ([^\n]*)\n\+\+\+ ([^\n]*)\n@@ -")
_HUNK_RUN = re.compile(rb"(?:[ +\-][^\n]*(?:\n|\Z))*")
_STD_HEADER = re.compile(
    rb"diff --git [^\n]*\n"
    rb"((?:(?:old|new|deleted|similarity|dissimilarity|rename|copy) [^\n]*\n)*)"
    rb"(index [^\n]*\n)--- ([^\n]*)\n\+\+\+ ([^\n]*)\n"
)
_HUNK_WITH_BODY = re.compile(
    rb"@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@[^\n]*\n((?:[ +\-][^\n]*\n)*)"
)
_QUILT_SIDE = re.compile(rb"^(?:---|\+\+\+) ([^\n]*)", re.MULTILINE)
_HUNK_HEADER = re.compile(rb"@@ -\d*(?:,(\d*))? \+\d*(?:,(\d*))?")
_SPACE = b" \t\n\r"  # git's isspace(): no \v or \f


@dataclass(frozen=True, slots=True)
class DiffInfo:
    start: int  # byte offset of the diff in the body
    files: tuple[str, ...]
    patch_id: str | None


def find_diff(body: bytes) -> DiffInfo | None:
    """The first inline diff in `body` (LF line ends), or None.

    A git diff ("diff --git") or a quilt/`diff -u` one ("--- x", "+++ y",
    "@@ -"), whichever starts first. Literal finds first: a ^ pattern over
    every body costs several times more.
    """
    start = -1
    if body.startswith(b"diff --git "):
        start = 0
    elif (i := body.find(b"\ndiff --git ")) != -1:
        start = i + 1
    end = start if start != -1 else len(body)
    if b"\n+++ " in body[:end] or body.startswith(b"+++ "):
        # "\n" + body so that a diff at offset 0 matches too; offsets shift by 1.
        q = _QUILT.search(b"\n" + body, 0, end + 1)
        if q is not None:
            qs = q.start()
            return DiffInfo(qs, _quilt_files(body, qs), _quilt_patch_id(body, qs))
    if start == -1:
        return None
    files, pid = scan_git_diff(body[start:])
    return DiffInfo(start, files, pid)


def _unquote_path(p: bytes) -> str:
    """git quotes odd paths C-style: "a/f\\303\\251"."""
    if p[:1] == b'"' and p[-1:] == b'"':
        p = p[1:-1].decode("unicode_escape").encode("latin-1")
    return p.decode("utf-8", errors="replace")


def _strip_side(p: bytes) -> str | None:
    p = p.split(b"\t", 1)[0].rstrip()
    if p == b"/dev/null":
        return None
    s = _unquote_path(p)
    if "/" in s:
        s = s.split("/", 1)[1]  # a/, b/, or quilt's "linux.orig/" (-p1)
    return s or None


def _quilt_files(body: bytes, start: int) -> tuple[str, ...]:
    files: list[str] = []
    for m in _QUILT_SIDE.finditer(body[start:]):
        path = _strip_side(m.group(1))
        if path and path not in files:
            files.append(path)
    return tuple(files)


def _add_hash(total: list[int], data: bytes) -> None:
    """git's flush_one_hunk: add the SHA-1 of one file's section into a
    running 20-byte little-endian sum with carry (so file order does not
    matter, which is what makes the id "stable"). A Python int does the
    byte-wise carry loop in one step; the top carry is dropped at the end."""
    total[0] += int.from_bytes(hashlib.sha1(data).digest(), "little")


def patch_id(diff: bytes) -> str | None:
    """`git patch-id --stable` of a diff that starts at a "diff " line."""
    return scan_git_diff(diff)[1]


def scan_git_diff(diff: bytes) -> tuple[tuple[str, ...], str | None]:
    """Files touched and `git patch-id --stable` of a diff starting at "diff ".

    Mirrors builtin/patch-id.c: header and hunk lines are hashed with
    whitespace removed, "index" and "@@" lines are not, each file section is
    hashed on its own and the digests are summed. Hunks whose line counts
    add up are taken whole (C-speed counting) instead of line by line.
    """
    total = [0]
    files: list[str] = []
    chunk: list[bytes] = []
    before = after = -1
    is_binary = False
    patchlen = 0
    pre_oid = post_oid = b""
    prev_minus = False
    git_line: bytes | None = None  # parsed only if the section has no ---/+++
    n = len(diff)
    pos = 0
    while pos < n:
        if (before == -1 or (before == 0 and after == 0)) and not is_binary and (
            h := _STD_HEADER.match(diff, pos)
        ):
            # Fast path for the usual "diff --git/[mode lines]/index/---/+++"
            # header: same bytes hashed and same state as the line-by-line
            # path below, in one regex match.
            if before == 0:
                _flush(total, chunk)
                chunk = []
                if git_line is not None:
                    _header_files(files, git_line)
            git_line = None
            ext = h.group(1)
            chunk.append(diff[pos : h.start(2)] + diff[h.end(2) : h.end()])
            if b"rename " in ext or b"copy " in ext:
                for x in ext.split(b"\n"):
                    _header_files(files, x)
            _add_file(files, h.group(3), strip=True)
            _add_file(files, h.group(4), strip=True)
            patchlen += 1
            before = after = 0
            pos = _whole_hunks(diff, h.end(), chunk)
            continue
        eol = diff.find(b"\n", pos)
        if eol == -1:
            eol = n
        line = diff[pos:eol]
        pos = eol + 1
        if before == -1:
            if line.startswith((b"GIT binary patch", b"Binary files")):
                is_binary = True
                before = 0
                chunk.append(pre_oid + post_oid)
                _flush(total, chunk)
                chunk = []
                continue
            if line.startswith(b"index "):
                dots = line.find(b"..")
                if dots != -1:
                    sp = line.find(b" ", dots)
                    pre_oid = line[6:dots]
                    post_oid = line[dots + 2 : sp if sp != -1 else len(line)]
                continue
            if line.startswith(b"--- "):
                before = after = 1
                git_line = None
                _add_file(files, line[4:], strip=True)
            elif not line[:1].isalpha():
                break
            elif line.startswith(b"diff --git "):
                git_line = line
            else:
                _header_files(files, line)
        elif prev_minus and line.startswith(b"+++ "):
            _add_file(files, line[4:], strip=True)
        prev_minus = before == 1 and after == 1 and line.startswith(b"--- ")
        if line.startswith(b"\\ ") and len(line) >= 12:
            continue  # "\ No newline at end of file"
        if is_binary:
            if line.startswith(b"diff "):
                is_binary = False
                before = -1
                if git_line is not None:
                    _header_files(files, git_line)
                git_line = line
            continue
        if before == 0 and after == 0:
            if line.startswith(b"@@ -"):
                before, after = _scan_hunk_header(line, before, after)
                m = _HUNK_RUN.match(diff, pos)
                run = m.group(0) if m is not None else b""
                if run and b"\n\\" not in run and not run.startswith(b"\\"):
                    first = run[:1]
                    ctx = run.count(b"\n ") + (first == b" ")
                    minus = run.count(b"\n-") + (first == b"-")
                    plus = run.count(b"\n+") + (first == b"+")
                    if run.endswith(b"\n-- \n") and ctx + minus == before + 1:
                        # The mail signature "-- " right after the last hunk.
                        run = run[:-4]
                        minus -= 1
                    if ctx + minus == before and ctx + plus == after:
                        chunk.append(run)
                        patchlen += 1
                        pos += len(run)
                        before = after = 0
                continue
            if not line.startswith(b"diff "):
                break
            _flush(total, chunk)
            chunk = []
            before = after = -1
            if git_line is not None:
                _header_files(files, git_line)
            git_line = line
        c = line[:1]
        if c == b" ":
            before -= 1
            after -= 1
        elif c == b"-":
            before -= 1
        elif c == b"+":
            after -= 1
        chunk.append(line)
        patchlen += 1
    if git_line is not None:
        _header_files(files, git_line)
    if not patchlen:
        return tuple(files), None
    _flush(total, chunk)
    return tuple(files), (total[0] % (1 << 160)).to_bytes(20, "little").hex()


def _whole_hunks(diff: bytes, pos: int, chunk: list[bytes]) -> int:
    """Take the well-formed hunks starting at `pos` whole; return where the
    line-by-line path must go on (the next header, a bad hunk, or the end).

    A hunk is taken only if its old/new line counts match its header, so the
    result is what git's line-by-line counting would hash.
    """
    for m in _HUNK_WITH_BODY.finditer(diff, pos):
        if m.start() != pos:
            break  # something between hunks: let the slow path judge it
        before = int(m.group(1)) if m.group(1) is not None else 1
        after = int(m.group(2)) if m.group(2) is not None else 1
        run = m.group(3)
        first = run[:1]
        ctx = run.count(b"\n ") + (first == b" ")
        minus = run.count(b"\n-") + (first == b"-")
        plus = run.count(b"\n+") + (first == b"+")
        if run.endswith(b"\n-- \n") and ctx + minus == before + 1:
            run = run[:-4]  # the mail signature right after the last hunk
            minus -= 1
        if ctx + minus != before or ctx + plus != after:
            break
        chunk.append(run)
        pos = m.start(3) + len(run)
    return pos


def _add_file(files: list[str], path: bytes, strip: bool) -> None:
    p = _strip_side(path) if strip else _unquote_path(path.rstrip())
    if p and p not in files:
        files.append(p)


def _header_files(files: list[str], line: bytes) -> None:
    """Paths from extended header lines; ---/+++ lines are handled apart."""
    if line.startswith(b"diff --git "):
        # Needed for diffs without ---/+++ (mode change, binary, pure rename).
        half = line[11:].split(b" b/", 1)
        if len(half) == 2:
            _add_file(files, half[0], strip=True)
            _add_file(files, half[1], strip=False)
    elif line.startswith((b"rename from ", b"rename to ", b"copy from ", b"copy to ")):
        _add_file(files, line.split(b" ", 2)[2], strip=False)


def _flush(total: list[int], chunk: list[bytes]) -> None:
    _add_hash(total, b"".join(chunk).translate(None, _SPACE))


def _scan_hunk_header(line: bytes, before: int, after: int) -> tuple[int, int]:
    """Old and new line counts of "@@ -a[,b] +c[,d] @@" (1 when omitted).

    Like git, a header that does not parse leaves the counts as they were.
    """
    parts = line.split(b" ", 3)
    if len(parts) >= 3 and parts[2][:1] == b"+":
        try:
            old, new = parts[1][1:].split(b","), parts[2][1:].split(b",")
            return (int(old[1]) if len(old) > 1 else 1), (int(new[1]) if len(new) > 1 else 1)
        except (ValueError, IndexError):
            pass
    m = _HUNK_HEADER.match(line)
    if m is None:
        return before, after
    b = int(m.group(1) or 0) if m.group(1) is not None else 1
    a = int(m.group(2) or 0) if m.group(2) is not None else 1
    return b, a


def _quilt_patch_id(body: bytes, start: int) -> str | None:
    """Patch-id of a quilt-style diff as git would compute it for the commit it
    becomes: rewrite each `--- x`/`+++ y` pair to git's header first."""
    out: list[bytes] = []
    lines = body[start:].split(b"\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(b"--- ") and i + 1 < len(lines) and lines[i + 1].startswith(b"+++ "):
            old = _strip_side(line[4:])
            new = _strip_side(lines[i + 1][4:])
            a = (old or new or "").encode()
            b = (new or old or "").encode()
            out.append(b"diff --git a/" + a + b" b/" + b)
            if old is None:
                out.append(b"new file mode 100644")
            elif new is None:
                out.append(b"deleted file mode 100644")
            out.append(b"--- " + (b"a/" + a if old else b"/dev/null"))
            out.append(b"+++ " + (b"b/" + b if new else b"/dev/null"))
            i += 2
            continue
        if line.startswith((b"Index: ", b"====", b"diff ")):
            i += 1
            continue
        out.append(line)
        i += 1
    return patch_id(b"\n".join(out))
