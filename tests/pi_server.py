"""A real public-inbox-httpd serving the shared corpus, like lore does.

Built once per test session (the full Xapian index that `rt:` search needs
takes about a minute on 2 cores), exactly as the corpus README says:
`git clone --mirror` into inbox/git/0.git, `public-inbox-init -V2`,
`public-inbox-index`, then `public-inbox-httpd` on 127.0.0.1 and a free port,
with PI_CONFIG pointing at the temporary config so ~/.public-inbox is never
touched. Stopped with SIGQUIT (public-inbox's graceful shutdown).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

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
