"""Source: public-inbox v2 git epochs (a lore mirror, a grokmirror clone).

public-inbox v2 stores one message per commit: the tree holds a single file
`m`, the raw message, and the committer date is the archive's arrival time.
A removal (`public-inbox-learn rm`, `-edit`) is a commit whose tree holds `d`,
the removed message's bytes, and no `m`; its parent's `m` is only the
previously added message, so the removed one is read from `d`. A hand-built
archive that drops `m` without writing `d` falls back to the parent's `m`.

Commits are listed with one `git log --raw` per epoch and read through ONE
long-lived `git cat-file --batch` process per epoch, never a process per
message.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from reviewbot.core.model import MessageId
from reviewbot.ports import Batch, Deletion, RawMail

log = logging.getLogger(__name__)

_NULL_OID = re.compile(rb"^0+$")
_EPOCH_NAME = re.compile(r"^(\d+)(?:\.git)?$")  # "0.git", or "0" as lore clones name it
# Only the first Message-ID header, unfolded; enough to name a deletion.
_MSGID = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)*<?([^>\s]+)>?", re.I | re.M)


class EpochError(RuntimeError):
    """A git epoch cannot be read (missing, not a repository, git failed)."""


@dataclass(frozen=True, slots=True)
class _Epoch:
    name: str  # cursor key: "N" for N.git (or N), else the position in git_dirs
    git_dir: Path


@dataclass(frozen=True, slots=True)
class _Change:
    commit: str
    received: datetime
    kind: str  # "add" | "delete"
    blob: str


class _CatFile:
    """One `git cat-file --batch` process, fed a bounded number of oids at a time."""

    # Oids written before reading back: 41 bytes each stays far below the
    # 64 KiB pipe buffer, so neither side can block the other.
    CHUNK = 1000

    def __init__(self, git_dir: Path) -> None:
        self.git_dir = git_dir
        self._proc: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                ["git", "--git-dir", str(self.git_dir), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        return self._proc

    def read(self, oids: Sequence[str]) -> Iterator[tuple[str, bytes | None]]:
        """Yield (oid, bytes or None if missing) in the order asked."""
        proc = self._start()
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None
        for start in range(0, len(oids), self.CHUNK):
            chunk = oids[start : start + self.CHUNK]
            try:
                stdin.write(b"".join(o.encode() + b"\n" for o in chunk))
                stdin.flush()
                for oid in chunk:
                    yield oid, self._read_one(stdout, oid)
            except BaseException:
                # Unread answers would desynchronise the next caller.
                self.close()
                raise

    def _read_one(self, stdout: IO[bytes], oid: str) -> bytes | None:
        header = stdout.readline()
        if not header:
            raise EpochError(f"git cat-file died reading {oid} in {self.git_dir}")
        parts = header.split()
        if len(parts) == 2 and parts[1] == b"missing":
            return None
        if len(parts) != 3:
            raise EpochError(f"unexpected git cat-file answer {header!r} in {self.git_dir}")
        data = stdout.read(int(parts[2]))
        stdout.read(1)  # the newline after each object
        return data

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def _git(git_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], capture_output=True, check=False
    )
    if check and proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise EpochError(f"git {' '.join(args)} failed in {git_dir}: {err}")
    return proc


def message_id_of(raw: bytes) -> MessageId | None:
    """The first Message-ID header of a raw message, without angle brackets."""
    head = raw.split(b"\n\n", 1)[0]
    m = _MSGID.search(head)
    return MessageId(m.group(1).decode("utf-8", errors="replace")) if m else None


class EpochSource:
    """New commits of a list's public-inbox v2 epochs, oldest first.

    `git_dirs` are bare epoch repositories (0.git, 1.git, ... in order) or
    public-inbox v2 inbox directories whose `git/N.git` epochs are found when
    reading starts. The cursor is JSON: epoch name -> last processed commit.
    """

    def __init__(self, list_name: str, git_dirs: Sequence[Path], batch_size: int = 500) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        if not git_dirs:
            raise ValueError("EpochSource needs at least one epoch or inbox directory")
        self.list_name = list_name
        self.git_dirs = [Path(p) for p in git_dirs]
        self.batch_size = batch_size
        self._catfiles: dict[Path, _CatFile] = {}

    @property
    def key(self) -> str:
        return f"epoch:{self.list_name}"

    def close(self) -> None:
        """Stop the long-lived `git cat-file` processes."""
        for cat in self._catfiles.values():
            cat.close()
        self._catfiles.clear()

    def __enter__(self) -> EpochSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def epochs(self) -> list[_Epoch]:
        """The epochs to read, in order (inbox directories expanded)."""
        found: list[_Epoch] = []
        for pos, path in enumerate(self.git_dirs):
            if (path / "git").is_dir() and not (path / "HEAD").exists():
                numbered = sorted(
                    (int(m.group(1)), p)
                    for p in (path / "git").iterdir()
                    if (m := _EPOCH_NAME.match(p.name)) and p.is_dir()
                )
                if not numbered:
                    raise EpochError(f"no git/N.git epochs in public-inbox directory {path}")
                found.extend(_Epoch(str(n), p) for n, p in numbered)
            elif (path / "HEAD").exists() or (path / ".git").exists():
                m = _EPOCH_NAME.match(path.name)
                # A non-bare clone (`git clone https://lore.kernel.org/<list>/0`) is read
                # through its .git directory.
                git_dir = path if (path / "HEAD").exists() else path / ".git"
                found.append(_Epoch(m.group(1) if m else str(pos), git_dir))
            else:
                raise EpochError(f"{path} is neither a git epoch nor a public-inbox v2 inbox")
        names = [e.name for e in found]
        if len(set(names)) != len(names):
            raise EpochError(f"epoch names collide in {self.git_dirs}: {names}")
        return found

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        state = _parse_cursor(cursor)
        epochs = self.epochs()
        for epoch in epochs:
            yield from self._epoch_batches(epoch, state)

    def _epoch_batches(self, epoch: _Epoch, state: dict[str, str]) -> Iterator[Batch]:
        tip = _tip(epoch.git_dir)
        if tip is None:
            return  # an empty new epoch: nothing yet
        last = state.get(epoch.name)
        if last is not None and not _is_ancestor(epoch.git_dir, last, tip):
            log.warning(
                "epoch %s of %s: cursor commit %s is not in the history any more "
                "(archive rewritten?); re-reading the whole epoch, the store drops duplicates",
                epoch.git_dir,
                self.list_name,
                last,
            )
            last = None
        if last == tip:
            return
        if last is None:
            _check_epoch(epoch.git_dir, tip)
        cat = self._catfiles.get(epoch.git_dir)
        if cat is None:
            cat = self._catfiles[epoch.git_dir] = _CatFile(epoch.git_dir)
        location = self.location_key(epoch)
        locations = {location: str(epoch.git_dir.resolve())}
        changes = _changes(epoch.git_dir, last, tip)
        while chunk := list(itertools.islice(changes, self.batch_size)):
            items: list[RawMail | Deletion] = []
            for change, (oid, data) in zip(chunk, cat.read([c.blob for c in chunk]), strict=True):
                origin = f"{location}#{oid}"
                if change.kind == "add":
                    if data is None:
                        raise EpochError(
                            f"blob {oid} of commit {change.commit} missing in {epoch.git_dir}"
                        )
                    items.append(RawMail(data, origin, change.received, by_reference=True))
                else:
                    mid = message_id_of(data) if data is not None else None
                    items.append(Deletion(mid, data, origin))
            state[epoch.name] = chunk[-1].commit
            yield Batch(items, json.dumps(state, sort_keys=True), locations)

    def location_key(self, epoch: _Epoch) -> str:
        """How stored mail names this epoch: survives a re-clone of the mirror elsewhere."""
        return f"epoch:{self.list_name}/{epoch.name}"


def _parse_cursor(cursor: str | None) -> dict[str, str]:
    if cursor is None or cursor == "":
        return {}
    try:
        state = json.loads(cursor)
    except json.JSONDecodeError as exc:
        raise ValueError(f"epoch cursor is not JSON: {cursor!r}") from exc
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in state.items()
    ):
        raise ValueError(
            f'epoch cursor must map epoch names to commits, like {{"0": "<oid>"}}: {cursor!r}'
        )
    return dict(state)


def _tip(git_dir: Path) -> str | None:
    """The archive's branch tip: `master` as public-inbox writes it, else HEAD."""
    if not (git_dir / "HEAD").exists() and not (git_dir / ".git").exists():
        raise EpochError(f"{git_dir} is not a git repository")
    for ref in ("refs/heads/master", "HEAD"):
        proc = _git(git_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if proc.returncode == 0:
            return proc.stdout.decode().strip()
    return None


def _check_epoch(git_dir: Path, tip: str) -> None:
    """An ordinary repository would "succeed" with nothing read: every public-inbox v2
    commit's tree holds the message as `m` (or a removed one as `d`)."""
    names = _git(git_dir, "ls-tree", "--name-only", tip).stdout.decode(errors="replace").split()
    # An empty tree is a removal that left nothing behind (a hand-edited archive).
    if names and not {"m", "d"} & set(names):
        holds = ", ".join(names[:3]) + (" ..." if len(names) > 3 else "")
        raise EpochError(f"{git_dir} is a git repository but not a public-inbox epoch (its "
                         f"newest commit holds {holds}, not the message file `m`): give an "
                         "epoch (git/N.git of a public-inbox v2 inbox) or the inbox directory")


def _is_ancestor(git_dir: Path, commit: str, tip: str) -> bool:
    proc = _git(git_dir, "merge-base", "--is-ancestor", commit, tip, check=False)
    return proc.returncode == 0


def _changes(git_dir: Path, last: str | None, tip: str) -> Iterator[_Change]:
    """Every commit after `last` up to `tip`, oldest first, as adds and deletes.

    Streamed from one `git log` process, a record at a time, so memory stays flat
    however long the epoch is.
    """
    rng = f"{last}..{tip}" if last else tip
    proc = subprocess.Popen(
        ["git", "--git-dir", str(git_dir), "-c", "core.quotePath=false",
         "log", "--reverse", "--raw", "--no-renames", "--no-abbrev", "--root",
         "--format=%x00%H %ct", rng, "--"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        pending = b""
        while chunk := proc.stdout.read(1 << 16):
            records = (pending + chunk).split(b"\x00")
            pending = records.pop()
            for record in records:
                change = _record(record)
                if change is not None:
                    yield change
        change = _record(pending)
        if change is not None:
            yield change
        err = proc.stderr.read()
        if proc.wait() != 0:
            raise EpochError(f"git log failed in {git_dir}: "
                             f"{err.decode(errors='replace').strip()}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def _record(record: bytes) -> _Change | None:
    """One `%x00%H %ct` + --raw record of git log (None: nothing to report)."""
    if not record.strip():
        return None
    lines = record.split(b"\n")
    commit, _, ts = lines[0].decode().partition(" ")
    received = datetime.fromtimestamp(int(ts), UTC)
    paths: dict[bytes, tuple[bytes, bytes, bytes]] = {}
    for line in lines[1:]:
        if line.startswith(b":"):
            meta, _, path = line.partition(b"\t")
            _mode_a, _mode_b, old, new, status = meta[1:].split()
            paths[path] = (old, new, status)
    return _classify(commit, received, paths)


def _classify(
    commit: str, received: datetime, paths: dict[bytes, tuple[bytes, bytes, bytes]]
) -> _Change | None:
    if b"d" in paths and paths[b"d"][2] in (b"A", b"M"):
        return _Change(commit, received, "delete", paths[b"d"][1].decode())
    if b"m" in paths:
        old, new, status = paths[b"m"]
        if status in (b"A", b"M"):
            return _Change(commit, received, "add", new.decode())
        if status == b"D" and not _NULL_OID.match(old):
            # Hand-built removal without `d`: the parent's `m` is what went.
            return _Change(commit, received, "delete", old.decode())
    return None  # e.g. only `d` cleaned up by the next add: nothing to report


class EpochReader:
    """The RawReader port for mail kept by reference: "epoch:<list>/<n>#<blob oid>".

    `locations` maps each "epoch:<list>/<n>" to where that epoch lives now (the
    store's raw_location table, refreshed by every ingest). Blob ids are content
    hashes, so any clone of the epoch serves them.
    """

    def __init__(self, locations: Mapping[str, str]) -> None:
        self.locations = dict(locations)
        self._catfiles: dict[str, _CatFile] = {}

    def read(self, origins: Sequence[str]) -> dict[str, bytes]:
        wanted: dict[str, list[str]] = {}
        for origin in origins:
            location, sep, oid = origin.rpartition("#")
            if sep and location in self.locations:
                wanted.setdefault(location, []).append(oid)
        out: dict[str, bytes] = {}
        for location, oids in wanted.items():
            path = Path(self.locations[location])
            if not path.is_dir():
                log.warning("%s: its epoch %s is gone; re-run an ingest of the source to "
                            "record where it lives now", location, path)
                continue
            cat = self._catfiles.get(location)
            if cat is None:
                cat = self._catfiles[location] = _CatFile(path)
            for oid, data in cat.read(oids):
                if data is not None:
                    out[f"{location}#{oid}"] = data
        return out

    def close(self) -> None:
        for cat in self._catfiles.values():
            cat.close()
        self._catfiles.clear()
