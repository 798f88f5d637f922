"""Diffs in mail bodies: files touched and `git patch-id --stable`.

The oracle is always the real git: its patch-id on real corpus mails, and
on patches made with `git format-patch` in a scratch repository.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from reviewbot.core.mail.diff import find_diff
from reviewbot.core.mail.headers import split_headers
from reviewbot.core.mail.parse import parse_message
from tests.conftest import DATA
from tests.core.corpus import corpus_messages


def git(*args: str, cwd: Path | None = None, data: bytes | None = None) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=cwd, input=data, check=True, capture_output=True
    ).stdout


def git_patch_id(data: bytes) -> str | None:
    """First id `git patch-id --stable` prints for `data` (None if it prints none)."""
    out = git("patch-id", "--stable", data=data).split()
    return out[0].decode() if out else None


_FIRST_DIFF = re.compile(rb"^diff [^\n]*", re.MULTILINE)


def git_starts_at_our_diff(data: bytes) -> bool:
    """git hashes from the first line starting "diff "; we from the first
    "diff --git". They differ only when a combined diff ("diff --cc") or a
    prose line ("diff v1: ...") comes first: such mails are left out."""
    m = _FIRST_DIFF.search(data)
    return m is not None and m.group(0).startswith(b"diff --git ")


_PLAIN = re.compile(rb"(?im)^content-transfer-encoding:\s*(quoted-printable|base64)"
                    rb"|^content-type:\s*multipart")


@pytest.mark.corpus
def test_patch_id_matches_git_on_real_patches(corpus_git: Path) -> None:
    """On every 8th plain corpus mail with a git diff (over 300), the id equals
    what git patch-id prints for the raw mail."""
    msgs = [(o, m) for o, m in corpus_messages(corpus_git)
            if b"\ndiff --git " in m and not _PLAIN.search(split_headers(m)[0])]
    sample = [(o, m) for o, m in msgs[::8] if git_starts_at_our_diff(m)]
    assert len(sample) >= 300
    assert len(msgs[::8]) - len(sample) <= 5
    mismatches = []
    for oid, raw in sample:
        ours = parse_message(raw).patch_id
        theirs = git_patch_id(raw)  # git reads the whole raw mail, headers and all
        if ours != theirs:
            mismatches.append((oid, ours, theirs))
    assert mismatches == []


@pytest.mark.corpus
def test_patch_id_matches_git_on_encoded_patches(corpus_git: Path, tmp_path: Path) -> None:
    """Quoted-printable, base64 and multipart patches: git mailinfo decodes them
    for git patch-id, and the ids agree."""
    msgs = [(o, m) for o, m in corpus_messages(corpus_git)
            if _PLAIN.search(split_headers(m)[0]) and parse_message(m).patch_id]
    assert len(msgs) >= 50
    mismatches = []
    compared = 0
    for oid, raw in msgs:
        msg, patch = tmp_path / "msg", tmp_path / "patch"
        git("mailinfo", str(msg), str(patch), data=raw)
        if not git_starts_at_our_diff(patch.read_bytes()):
            continue
        compared += 1
        theirs = git_patch_id(patch.read_bytes())
        ours = parse_message(raw).patch_id
        if ours != theirs:
            mismatches.append((oid, ours, theirs))
    assert compared >= 50
    assert mismatches == []


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "repo"
    r.mkdir()
    git("init", "-q", cwd=r)
    git("config", "user.email", "t@example.org", cwd=r)
    git("config", "user.name", "T", cwd=r)
    (r / "old.c").write_text("".join(f"line {i}\n" for i in range(40)))
    (r / "keep.c").write_text("a\nb\nc\n")
    (r / "gone.c").write_text("bye\n")
    (r / "blob.bin").write_bytes(bytes(range(256)))
    (r / "tail.c").write_text("x\ny")
    git("add", ".", cwd=r)
    git("commit", "-q", "-m", "base", cwd=r)
    return r


def format_patch(repo: Path) -> bytes:
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "change\n\nSigned-off-by: T <t@example.org>", cwd=repo)
    return git("format-patch", "-M", "--stdout", "-1", cwd=repo)


def test_every_diff_shape_matches_git(repo: Path) -> None:
    """Rename with edit, new, deleted, binary, mode change and "\\ No newline"
    in one patch: files and patch-id as git sees them."""
    old = (repo / "old.c").read_text()
    (repo / "old.c").unlink()
    (repo / "new.c").write_text(old.replace("line 20\n", "line twenty\n"))
    (repo / "keep.c").write_text("a\nB\nc\n")
    (repo / "gone.c").unlink()
    (repo / "added.c").write_text("hello\n")
    (repo / "blob.bin").write_bytes(bytes(range(255, -1, -1)))
    (repo / "tail.c").write_text("x\nz")
    (repo / "keep.c").chmod(0o755)
    mail = format_patch(repo)
    _, body = split_headers(mail)
    info = find_diff(body)
    assert info is not None
    assert info.patch_id == git_patch_id(mail)
    assert set(info.files) == {"old.c", "new.c", "keep.c", "gone.c", "added.c", "blob.bin",
                               "tail.c"}
    assert "/dev/null" not in info.files and "dev/null" not in info.files


def test_signature_after_last_hunk_is_not_hashed(repo: Path) -> None:
    """The "-- " signature after the diff ends it, as in git."""
    (repo / "keep.c").write_text("a\nb\nc\nd\n")
    mail = format_patch(repo)
    assert b"\n-- \n" in mail  # format-patch's signature: "-- " then the git version
    info = find_diff(split_headers(mail)[1])
    assert info is not None and info.patch_id == git_patch_id(mail)


def test_quilt_patch_gets_the_id_of_the_commit_it_becomes(repo: Path) -> None:
    """A quilt-style diff (no "diff --git", timestamps on ---/+++) gets the
    patch-id git computes for the same change made as a commit."""
    (repo / "keep.c").write_text("a\nB\nc\n")
    (repo / "old.c").write_text((repo / "old.c").read_text().replace("line 3\n", "line three\n"))
    mail = format_patch(repo)
    quilt = []
    for line in git("show", "--format=", "HEAD", cwd=repo).split(b"\n"):
        if line.startswith((b"diff --git", b"index ")):
            continue
        if line.startswith((b"--- ", b"+++ ")):
            line += b"\t2025-03-01 10:00:00.000000000 -0800"
        quilt.append(line)
    body = b"fix build\n\nSigned-off-by: A <a@x>\n---\n\n" + b"\n".join(quilt)
    info = find_diff(body)
    assert info is not None
    assert info.files == ("keep.c", "old.c")
    assert info.patch_id == git_patch_id(mail)


def test_no_diff() -> None:
    """Prose, and a diff only in quoted lines, is no diff."""
    assert find_diff(b"Hello\n\n> diff --git a/x b/x\n> --- a/x\n> +++ b/x\n") is None


def test_real_rename_lists_both_paths() -> None:
    """A corpus patch renaming iidc.h lists the old and the new path."""
    m = parse_message((DATA / "mail" / "rename_patch.eml").read_bytes())
    assert "include/linux/net/intel/iidc.h" in m.files
    assert "include/linux/net/intel/iidc_rdma.h" in m.files
    assert m.files[0] == "MAINTAINERS"


def test_real_quilt_patch_files() -> None:
    """akpm-style quilt diff in the corpus: files found, an id computed."""
    m = parse_message((DATA / "mail" / "quilt_patch.eml").read_bytes())
    assert m.files == ("net/smc/af_smc.c",)
    assert m.patch_id is not None and len(m.patch_id) == 40
