"""A real public-inbox-httpd serving the shared corpus, like lore does.

Built once per test session (the full Xapian index that `rt:` search needs
takes about a minute on 2 cores), exactly as the corpus README says:
`git clone --mirror` into inbox/git/0.git, `public-inbox-init -V2`,
`public-inbox-index`, then `public-inbox-httpd` on 127.0.0.1 and a free port,
with PI_CONFIG pointing at the temporary config so ~/.public-inbox is never
touched. Stopped with SIGQUIT (public-inbox's graceful shutdown).
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from reviewbot.adapters.sources.lore import message_id_of

LIST = "linux-rdma"
ADDRESS = "linux-rdma@vger.kernel.org"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, check=False)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{what} failed ({proc.returncode}): {' '.join(cmd)}\n{tail}")


@dataclass
class PublicInboxServer:
    """One inbox served by public-inbox-httpd; `start()` builds and serves it."""

    corpus: Path
    workdir: Path
    full_index: bool = True
    port: int = 0
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{LIST}"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PI_CONFIG"] = str(self.workdir / "config")
        env["HOME"] = str(self.workdir)  # public-inbox may write under ~ otherwise
        return env

    def build(self) -> None:
        for tool in ("public-inbox-init", "public-inbox-index", "public-inbox-httpd"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} not found: apt-get install public-inbox")
        inbox = self.workdir / "inbox"
        (inbox / "git").mkdir(parents=True)
        _run(
            ["git", "clone", "--quiet", "--mirror", str(self.corpus), str(inbox / "git" / "0.git")],
            self.env,
            "cloning the corpus",
        )
        self.port = _free_port()
        level = [] if self.full_index else ["-L", "basic"]
        _run(
            ["public-inbox-init", "-V2", *level, LIST, str(inbox), self.base_url, ADDRESS],
            self.env,
            "public-inbox-init",
        )
        _run(["public-inbox-index", str(inbox)], self.env, "public-inbox-index")

    def start(self) -> None:
        if not (self.workdir / "inbox").exists():
            self.build()
        for _attempt in range(3):
            with (self.workdir / "httpd.log").open("ab") as log:
                self._proc = subprocess.Popen(
                    ["public-inbox-httpd", "-W0", "-l", f"127.0.0.1:{self.port}"],
                    env=self.env,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            if self._wait_ready(timeout=30):
                return
            self.stop()
            self.port = _free_port()  # someone took the port meanwhile
        raise RuntimeError(f"public-inbox-httpd did not start; see {self.workdir / 'httpd.log'}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.base_url}/new.atom", timeout=2) as r:
                    if r.status == 200:
                        return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        """SIGKILL: the server dies mid-answer, as a crash or an OOM kill would do it."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


@dataclass(frozen=True, slots=True)
class Filing:
    """One corpus message filed into the growing inbox at `filed` (epoch seconds)."""

    commit: str  # the corpus commit whose `m` is the message
    filed: int


@dataclass
class GrowingInbox(PublicInboxServer):
    """An inbox that grows as lore's does: new commits on the epoch, then an index run.

    `filings` is the order and time in which the archive files the corpus'
    messages (reordered for backfills). They are written once, with git
    fast-import, as a new linear v2 history whose committer dates are the
    filing times, borrowing the corpus' blobs through objects/info/alternates
    (nothing is copied, the shared corpus is only read). `grow_to(n)` moves
    master to the n-th filing and runs public-inbox-index, which indexes the
    new commits incrementally, as public-inbox-watch does on lore.
    """

    filings: list[Filing] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)  # one per filing
    filed: int = 0

    @property
    def epoch(self) -> Path:
        return self.workdir / "inbox" / "git" / "0.git"

    def build(self) -> None:
        inbox = self.workdir / "inbox"
        (inbox / "git").mkdir(parents=True)
        _run(["git", "init", "--quiet", "--bare", str(self.epoch)], self.env, "git init")
        (self.epoch / "objects" / "info" / "alternates").write_text(
            f"{(self.corpus / 'objects').resolve()}\n")
        self.commits = self._import()
        self.port = _free_port()
        _run(["git", "--git-dir", str(self.epoch), "update-ref", "refs/heads/master",
              self.commits[0]], self.env, "git update-ref")
        self.filed = 1
        level = ["-L", "medium"]  # rt: is a Xapian value: medium has it, without positions
        _run(["public-inbox-init", "-V2", *level, LIST, str(inbox), self.base_url, ADDRESS],
             self.env, "public-inbox-init")
        self._index()

    def _import(self) -> list[str]:
        check = subprocess.run(
            ["git", "--git-dir", str(self.corpus), "cat-file", "--batch-check=%(objectname)"],
            input="".join(f"{f.commit}:m\n" for f in self.filings).encode(),
            capture_output=True, check=True)
        blobs = check.stdout.decode().split()
        if len(blobs) != len(self.filings):
            raise RuntimeError("corpus commits without a message blob")
        who = f"{LIST}.vger.kernel.org.0 <{ADDRESS}>"
        stream = "".join(
            f"commit refs/heads/grow\nmark :{i + 1}\ncommitter {who} {f.filed} +0000\n"
            f"data 0\nM 100644 {blob} m\n\n"
            for i, (f, blob) in enumerate(zip(self.filings, blobs, strict=True)))
        marks = self.workdir / "marks"
        subprocess.run(["git", "--git-dir", str(self.epoch), "fast-import", "--quiet",
                        f"--export-marks={marks}"], input=stream.encode(), check=True)
        # Only master may be seen: the future is kept as unreferenced commits.
        _run(["git", "--git-dir", str(self.epoch), "update-ref", "-d", "refs/heads/grow"],
             self.env, "git update-ref -d")
        by_mark = dict(line.split() for line in marks.read_text().splitlines())
        return [by_mark[f":{i + 1}"] for i in range(len(self.filings))]

    def _index(self) -> None:
        _run(["public-inbox-index", "--no-fsync", str(self.workdir / "inbox")], self.env,
             "public-inbox-index")

    def grow_to(self, count: int) -> int:
        """File the first `count` filings (at least those already filed) and wait until
        search sees them; returns how many were added."""
        if count <= self.filed:
            return 0
        _run(["git", "--git-dir", str(self.epoch), "update-ref", "refs/heads/master",
              self.commits[count - 1]], self.env, "git update-ref")
        self._index()
        added, self.filed = count - self.filed, count
        self._refresh(self.commits[count - 1])
        return added

    def _refresh(self, commit: str) -> None:
        """public-inbox-httpd 1.9 keeps its Xapian handle ~30 s and searches that snapshot
        meanwhile (measured: an index run became visible 30-35 s later). Lore's days pass
        here in seconds, so SIGHUP (reload) makes it reopen, and we wait until a search
        finds the newest filing, as it would long before lore's next poll."""
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGHUP)
        raw = subprocess.run(["git", "--git-dir", str(self.epoch), "cat-file", "blob",
                              f"{commit}:m"], capture_output=True, check=True).stdout
        mid = message_id_of(raw)
        if mid is None:
            time.sleep(1)
            return
        query = urllib.parse.quote_plus(f"m:{mid}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            request = urllib.request.Request(f"{self.base_url}/?x=m&q={query}", data=b"")
            try:
                with urllib.request.urlopen(request, timeout=5) as r:
                    if mid.encode() in gzip.decompress(r.read()):
                        return
            except OSError:
                pass  # 404 until visible
            time.sleep(0.1)
        raise RuntimeError(f"<{mid}> not searchable 10 s after indexing")
