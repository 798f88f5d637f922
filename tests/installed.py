"""pytest plugin: reviewbot installed from its wheel into a fresh venv, run as processes.

`make test` builds the wheel, installs it into a fresh venv and names that venv's
`reviewbot` in $REVIEWBOT_INSTALLED; without it the session builds its own (slow:
the dependencies come from pip's cache or PyPI). Every process runs from an
unrelated working directory with a clean environment (its own HOME, no
REVIEWBOT_* variables), so nothing of the checkout can leak in.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

# Running as root ignores file modes: without CAP_DAC_OVERRIDE a 0444 file is read-only
# for root too (it owns the file), as it is for any user.
AS_USER = (["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
           if os.geteuid() == 0 else [])


@dataclass(frozen=True)
class Installed:
    exe: Path  # <venv>/bin/reviewbot

    @property
    def python(self) -> Path:
        return self.exe.with_name("python")

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """A clean environment: only PATH, a locale, HOME and a git config of its own."""
        gitconfig = home / ".gitconfig"
        if not gitconfig.exists():
            home.mkdir(parents=True, exist_ok=True)
            # The shared corpus may belong to another user (see .ci/system-setup).
            gitconfig.write_text("[safe]\n\tdirectory = *\n")
        return {"PATH": f"{self.exe.parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
                "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
                "GIT_CONFIG_GLOBAL": str(gitconfig), **extra}

    def run(self, *args: str, home: Path, cwd: Path | None = None,
            env: Mapping[str, str] | None = None, timeout: float = 300,
            prefix: tuple[str, ...] | list[str] = ()) -> subprocess.CompletedProcess[str]:
        """`reviewbot ARGS` to its end; cwd defaults to HOME (unrelated to the checkout)."""
        return subprocess.run([*prefix, str(self.exe), *args], cwd=cwd or home,
                              env=dict(env) if env is not None else self.env(home),
                              capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str, home: Path, env: Mapping[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen([str(self.exe), *args], cwd=cwd or home,
                                env=dict(env) if env is not None else self.env(home),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def build_and_install(tmp: Path) -> Path:
    """The wheel, built from the checkout, installed into a fresh venv: its `reviewbot`."""
    dist, venv = tmp / "dist", tmp / "venv"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist),
                    str(REPO_ROOT)], check=True, cwd=tmp)
    wheel = next(dist.glob("reviewbot-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, cwd=tmp)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                    str(wheel)], check=True, cwd=tmp)
    return venv / "bin" / "reviewbot"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    given = os.environ.get("REVIEWBOT_INSTALLED")
    if given:
        return Installed(Path(given))
    return Installed(build_and_install(tmp_path_factory.mktemp("wheel")))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home directory, far from the checkout."""
    path = tmp_path / "home"
    path.mkdir()
    return path


def wait_for(predicate: object, timeout: float = 60, every: float = 0.1) -> None:
    """Poll `predicate()` until it is true, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")
        time.sleep(every)


class LogReader:
    """Collects a process's stderr lines in a thread, for tests that wait for a log line."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        self.proc, self.lines = proc, []  # type: list[str]
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 120, after: int = 0) -> int:
        """Index of the first line (from `after`) containing `text`."""
        deadline = time.monotonic() + timeout
        while True:
            for n in range(after, len(self.lines)):
                if text in self.lines[n]:
                    return n
            if self.proc.poll() is not None and not self._thread.is_alive():
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise AssertionError(f"no log line with {text!r}; got:\n" + "\n".join(self.lines))

    def rest(self) -> list[str]:
        self._thread.join(timeout=5)
        return list(self.lines)


@pytest.fixture
def stop_all() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test started: killed at the end if they still run."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
