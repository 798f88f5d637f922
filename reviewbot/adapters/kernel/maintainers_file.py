"""Load MAINTAINERS (and .mailmap) from a file, a kernel tree, or a kernel git repository.

- a file: that file; a .mailmap only when given.
- a directory holding MAINTAINERS (a kernel tree): its MAINTAINERS and .mailmap, and
  the tree is asked which plain F: values are directories, as get_maintainer.pl does.
- a git repository (bare, or a work tree without MAINTAINERS checked out):
  `git show REF:MAINTAINERS`, `REF:.mailmap`, and `git ls-tree -d` for directories.

`MaintainersWatch.current()` reloads when the file's (mtime, size) or the ref's commit
changes; a reload that fails keeps the last good copy and says why.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from reviewbot.adapters.kernel.literal_finder import best_literal_finder
from reviewbot.core.maintainers.people import mailmap_aliases
from reviewbot.core.maintainers.recipients import Mailmap, file_emails, parse_mailmap
from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.maintainers.sections import Maintainers, MaintainersError, parse_maintainers

log = logging.getLogger(__name__)
_PLAIN = set("*?.[]{}()+^$|\\")


@dataclass(frozen=True, slots=True)
class LoadedMaintainers:
    index: RoutingIndex
    mailmap: Mailmap | None
    stamp: tuple[object, ...]  # what changes when the source changes
    origin: str  # for messages: "file /x/MAINTAINERS" or "git /linux@HEAD (abc123)"
    seconds: float  # load time
    source: MaintainersSource | None = None

    def file_emails(self, files: Iterable[str]) -> list[str]:
        """Addresses get_maintainer.pl reads from the touched .yaml files that exist in
        the tree (none when MAINTAINERS came from a lone file)."""
        out: list[str] = []
        if self.source is None or self.source.kind == "file":
            return out
        for f in files:
            if f.endswith(".yaml") and not f.endswith("MAINTAINERS"):
                text = self.source.read_tree_file(f, str(self.stamp[1]))
                if text is not None:
                    out += file_emails(text)
        return out


class MaintainersSource:
    """Where MAINTAINERS comes from. Build with from_path()."""

    def __init__(self, kind: str, path: Path, ref: str = "HEAD",
                 mailmap: Path | None = None) -> None:
        self.kind, self.path, self.ref, self.mailmap_path = kind, path, ref, mailmap

    @classmethod
    def from_path(cls, path: str | Path, ref: str = "HEAD",
                  mailmap: str | Path | None = None) -> MaintainersSource:
        p = Path(path).expanduser()
        mm = Path(mailmap).expanduser() if mailmap else None
        if p.is_file():
            return cls("file", p, mailmap=mm)
        if p.is_dir():
            if (p / "MAINTAINERS").is_file():
                return cls("tree", p, mailmap=mm)
            if (p / "HEAD").is_file() or (p / ".git").exists():
                return cls("git", p, ref, mailmap=mm)
            raise MaintainersError(f"{p}: a directory without MAINTAINERS, and not a git "
                                   "repository")
        raise MaintainersError(f"{p}: no such MAINTAINERS file or kernel tree")

    def stamp(self) -> tuple[object, ...]:
        if self.kind == "git":
            return ("git", self._git("rev-parse", "--verify", f"{self.ref}^{{commit}}").strip())
        files = [self.path if self.kind == "file" else self.path / "MAINTAINERS"]
        if self.kind == "tree":
            files.append(self.path / ".mailmap")
        if self.mailmap_path:
            files.append(self.mailmap_path)
        out: list[object] = [self.kind]
        for f in files:
            try:
                st = f.stat()
                out += [st.st_mtime_ns, st.st_size]
            except FileNotFoundError:
                out += [None, None]
        return tuple(out)

    def content_stamp(self) -> str:
        """A hash of what routing and aliases read (MAINTAINERS and the mailmaps): unlike
        stamp(), it ignores a touch or a checkout that leaves the content as it was."""
        h = hashlib.sha1(usedforsecurity=False)
        h.update(self.kind.encode())
        if self.kind == "git":
            commit = str(self.stamp()[1])
            h.update(self._git("ls-tree", commit, "MAINTAINERS", ".mailmap").encode())
        else:
            for f in (self.path if self.kind == "file" else self.path / "MAINTAINERS",
                      self.path / ".mailmap" if self.kind == "tree" else None):
                if f is not None and f.is_file():
                    h.update(_read(f).encode())
        if self.mailmap_path:
            h.update(_read(self.mailmap_path).encode())
        return h.hexdigest()

    def load(self) -> LoadedMaintainers:
        t0 = time.perf_counter()
        stamp = self.stamp()
        mailmap_text: str | None = None
        directories: set[str] | None = None
        if self.kind == "git":
            commit = str(stamp[1])
            text = self._git("show", f"{commit}:MAINTAINERS")
            try:
                mailmap_text = self._git("show", f"{commit}:.mailmap")
            except MaintainersError:
                mailmap_text = None
            directories = set(self._git("ls-tree", "-r", "-d", "--name-only", commit).split("\n"))
            origin = f"git {self.path}@{self.ref} ({commit[:12]})"
        else:
            mfile = self.path if self.kind == "file" else self.path / "MAINTAINERS"
            text = _read(mfile)
            origin = f"{self.kind} {mfile}"
            if self.kind == "tree" and (self.path / ".mailmap").is_file():
                mailmap_text = _read(self.path / ".mailmap")
        if self.mailmap_path:
            mailmap_text = _read(self.mailmap_path)
        maintainers = parse_maintainers(text)
        if self.kind == "tree":
            directories = _tree_directories(self.path, maintainers)
        index = RoutingIndex(maintainers, directories, best_literal_finder())
        mailmap = parse_mailmap(mailmap_text) if mailmap_text is not None else None
        return LoadedMaintainers(index, mailmap, stamp, origin, time.perf_counter() - t0, self)

    def read_tree_file(self, path: str, commit: str) -> str | None:
        """A file of the kernel tree (at `commit` for a git source), or None."""
        if ".." in Path(path).parts or path.startswith("/"):
            return None
        if self.kind == "tree":
            p = self.path / path
            return _read(p) if p.is_file() else None
        if self.kind == "git":
            try:
                return self._git("show", f"{commit}:{path}")
            except MaintainersError:
                return None
        return None

    def _git(self, *args: str) -> str:
        try:
            r = subprocess.run(["git", "--git-dir", str(self._git_dir()), *args],
                               capture_output=True, check=False)
        except OSError as err:
            raise MaintainersError(f"cannot run git: {err}") from err
        if r.returncode != 0:
            raise MaintainersError(f"{self.path}: git {' '.join(args)}: "
                                   f"{r.stderr.decode(errors='replace').strip()}")
        return r.stdout.decode("utf-8", errors="replace")

    def _git_dir(self) -> Path:
        return self.path / ".git" if (self.path / ".git").exists() else self.path


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", errors="replace")
    except OSError as err:
        raise MaintainersError(f"{path}: {err.strerror}") from err


def _tree_directories(root: Path, maintainers: Maintainers) -> set[str]:
    """The plain F:/X: values that are directories of the tree (get_maintainer's -d)."""
    out = set()
    for s in maintainers.sections:
        for e in s.entries:
            v = e.value
            plain = e.letter in "FX" and v and not v.endswith("/") and not _PLAIN & set(v)
            if plain and (root / v).is_dir():
                out.add(v)
    return out


class LazyMaintainers:
    """The MaintainersView port: a content stamp at once, the index only when routing.

    Queries only compare stamps, so they never pay for parsing MAINTAINERS.
    """

    def __init__(self, source: MaintainersSource) -> None:
        self.source = source
        self._stamp: str | None = None
        self._loaded: LoadedMaintainers | None = None

    @property
    def stamp(self) -> str:
        if self._stamp is None:
            self._stamp = self.source.content_stamp()
        return self._stamp

    def loaded(self) -> LoadedMaintainers:
        if self._loaded is None:
            self._loaded = self.source.load()
        return self._loaded

    def index(self) -> RoutingIndex:
        return self.loaded().index

    def aliases(self) -> dict[str, str]:
        """The mailmap's address aliases (old -> new), empty without a mailmap."""
        mailmap = self.loaded().mailmap
        return mailmap_aliases(mailmap.addresses) if mailmap is not None else {}


class MaintainersWatch:
    """The current MAINTAINERS of a source, reloaded when the source changes."""

    def __init__(self, source: MaintainersSource) -> None:
        self.source = source
        self._loaded: LoadedMaintainers | None = None
        self.last_error: str | None = None

    def current(self) -> LoadedMaintainers:
        """Reload if changed. The first load's errors raise; later ones keep the old copy."""
        if self._loaded is None:
            self._loaded = self.source.load()
            return self._loaded
        try:
            if self.source.stamp() != self._loaded.stamp:
                self._loaded = self.source.load()
                self.last_error = None
                log.info("reloaded MAINTAINERS from %s", self._loaded.origin)
        except MaintainersError as err:
            self.last_error = str(err)
            log.warning("keeping MAINTAINERS from %s: %s", self._loaded.origin, err)
        return self._loaded
