"""Small parts of operability, in-process: journald log lines, waiting for a lock,
one-line descriptions of escaped errors, read-only detection."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from reviewbot.adapters.sql import access
from reviewbot.adapters.sql.locks import FileLocks, holder, wait_acquire
from reviewbot.adapters.system import logs
from reviewbot.commands.errors import describe


def test_journal_lines_carry_syslog_priorities_and_no_timestamps(tmp_path: Path) -> None:
    """Under journald ($JOURNAL_STREAM names stderr), every line of a record starts with
    its sd-daemon priority: <6> info, <4> warning, <3> error."""
    path = tmp_path / "stream"
    with path.open("w") as stream:
        st = os.fstat(stream.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert logs.on_journal(env, stream)
        logs.setup(0, daemon=True, env=env, stream=stream)
        log = logging.getLogger("reviewbot.test")
        log.info("poll epoch:x: 3 new mails")
        log.error("poll failed:\nsecond line")
    assert path.read_text() == ("<6>reviewbot.test: poll epoch:x: 3 new mails\n"
                                "<3>reviewbot.test: poll failed:\n<3>second line\n")
    logs.setup(0, daemon=False, env={}, stream=sys.stderr)


def test_not_the_journal_when_the_stream_differs() -> None:
    assert not logs.on_journal({"JOURNAL_STREAM": "1:2"}, io.StringIO())
    assert not logs.on_journal({}, sys.stderr)


def test_wait_acquire_waits_for_another_process(tmp_path: Path) -> None:
    """A lock held by another process is waited for and taken once it is released; the
    holder's pid is readable meanwhile; with a timeout the wait gives up."""
    locks = FileLocks(tmp_path)
    path = locks.path_for("epoch:x")
    holder_proc = subprocess.Popen(
        [sys.executable, "-c", "import fcntl,os,sys,time; f=open(sys.argv[1],'ab'); "
         "fcntl.flock(f, fcntl.LOCK_EX); f.write(f'{os.getpid()} epoch:x\\n'.encode()); "
         "f.flush(); print('held', flush=True); sys.stdin.readline()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder_proc.stdout is not None and holder_proc.stdout.readline() == "held\n"
        assert holder(locks, "epoch:x") == f"pid {holder_proc.pid}"
        assert not wait_acquire(locks, "epoch:x", timeout=0.3, interval=0.05)
        slept: list[float] = []

        def release_then_sleep(seconds: float) -> None:
            slept.append(seconds)
            if holder_proc.stdin is not None and not holder_proc.stdin.closed:
                holder_proc.stdin.close()
                holder_proc.wait()

        assert wait_acquire(locks, "epoch:x", sleep=release_then_sleep)
        assert slept  # it did wait
    finally:
        locks.release("epoch:x")
        if holder_proc.poll() is None:
            holder_proc.kill()


@pytest.mark.parametrize(("exc", "message", "code"), [
    (OperationalError("INSERT", {}, Exception("attempt to write a readonly database")),
     "is read-only: this command writes to it", 1),
    (OperationalError("INSERT", {}, Exception("database is locked")), "is locked", 75),
    (FileNotFoundError(2, "No such file or directory", "/x/y"),
     "/x/y: No such file or directory", 1),
    (subprocess.TimeoutExpired(["git", "fetch", "url"], 120), "`git fetch url` did not answer", 1),
    (ValueError("first line\nsecond"), "first line", 1),
    (ZeroDivisionError("division by zero"), "unexpected ZeroDivisionError: division by zero "
     "(this is a bug in reviewbot", 1),
])
def test_escaped_errors_are_one_line(exc: Exception, message: str, code: int) -> None:
    text, got = describe(exc)
    assert message in text and "\n" not in text and got == code


def test_read_only_sqlite_detection(tmp_path: Path) -> None:
    """A writable file in a writable directory is not read-only; otherwise the reason is
    named (file modes as this process sees them)."""
    db = tmp_path / "rb.db"
    db.write_bytes(b"")
    assert access.sqlite_read_only(db) is None
    assert access.normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
    assert access.normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    assert access.where("postgresql://u:secret@h/d") == "postgresql://u:***@h/d"
