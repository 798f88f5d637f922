"""The installed wheel's daemon and its neighbours, as real processes: two ingests at
once, an ingest during a daemon's poll, SIGHUP, SIGTERM during a hung poll, and the
container's health check.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.ports import RawMail
from tests.conftest import KERNEL_MAINTAINERS, REPO_ROOT
from tests.containerfile import command, healthcheck, image_env
from tests.installed import Installed, LogReader, no_traceback, wait_for
from tests.sqlfixtures import PG_URL, snapshot

pytestmark = pytest.mark.slow
KEY = "epoch:linux-rdma"


def _url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'rb.db'}"
        return
    schema = f"rbinst_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield sa.make_url(PG_URL).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from _url(request.param, tmp_path)


def _state(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        return snapshot(SqlStore(engine))
    finally:
        engine.dispose()


def _polled(url: str) -> bool:
    """The first batch is stored (and the poll recorded) while its writer holds the lock."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table("meta"):
                return False
            return conn.execute(sa.text("SELECT 1 FROM meta WHERE key = :k"),
                                {"k": f"poll:{KEY}"}).first() is not None
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def reference(installed: Installed, corpus_git: Path,
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The corpus ingested by one run alone: what any concurrent schedule must end at."""
    home = tmp_path_factory.mktemp("reference")
    url = f"sqlite:///{home / 'rb.db'}"
    result = installed.run("--db", url, "ingest", "--list", "linux-rdma", "--epoch",
                           str(corpus_git), home=home)
    assert result.returncode == 0, result.stderr
    return _state(url)


def test_two_ingests_at_once_wait_for_each_other_and_end_like_one(
        installed: Installed, home: Path, corpus_git: Path, db: str,
        reference: dict[str, object]) -> None:
    """While one ingest writes the source, a second waits (saying so) and then finds
    nothing new; with --no-wait it exits 75 at once. The database ends as one run's."""
    args = ["--db", db, "ingest", "--list", "linux-rdma", "--epoch", str(corpus_git)]
    first = installed.start(*args, home=home)
    try:
        wait_for(lambda: _polled(db) or first.poll() is not None, timeout=180)
        assert first.poll() is None, "the first ingest ended before the second started"
        refused = installed.run(*args, "--no-wait", home=home)
        second = installed.start(*args, home=home)
        out1, err1 = first.communicate(timeout=600)
        out2, err2 = second.communicate(timeout=600)
    finally:
        for proc in (first,):
            if proc.poll() is None:
                proc.kill()
    assert refused.returncode == 75
    assert refused.stderr.startswith(f"reviewbot: error: {KEY} is being written by another "
                                     "reviewbot") and refused.stderr.count("\n") == 1
    assert "try again later, or leave out --no-wait" in refused.stderr
    assert first.returncode == 0 and second.returncode == 0, err1 + err2
    assert out1.startswith("ingested 8487 messages (8459 new, 28 duplicates")
    assert out2.startswith("ingested 0 messages (0 new")
    assert "waiting for it to finish" in err2 and "Traceback" not in err1 + err2
    assert _state(db) == reference


def _config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_an_ingest_during_a_daemon_poll_ends_like_one_run(
        installed: Installed, home: Path, corpus_git: Path,
        reference: dict[str, object], stop_all: list[subprocess.Popen[str]]) -> None:
    """The daemon is mid-poll; a CLI ingest of the same source waits for it, then has
    nothing left to do. The daemon logs one line for its poll."""
    db = f"sqlite:///{home / 'rb.db'}"
    cfg = _config(home / "c.toml", f'[[sources]]\nlist = "linux-rdma"\n'
                                   f'epochs = ["{corpus_git}"]\n')
    daemon = installed.start("--db", db, "--config", str(cfg), "run", "--interval", "3600",
                             home=home)
    stop_all.append(daemon)
    log = LogReader(daemon)
    wait_for(lambda: _polled(db) or daemon.poll() is not None, timeout=180)
    cli = installed.run("--db", db, "--config", str(cfg), "ingest", home=home, timeout=600)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith("ingested 0 messages")
    assert "waiting for it to finish" in cli.stderr
    line = log.lines[log.wait_for(f"poll {KEY}: ")]
    assert "8459 new mails (8487 read, 28 duplicates, 0 quarantined, 0 deleted)" in line
    assert line.endswith(" s") and "series touched in" in line
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=60) == 0
    assert _state(db) == reference


def _mbox(mails: list[RawMail]) -> bytes:
    out = bytearray()
    for m in mails:
        body = m.raw.replace(b"\nFrom ", b"\n>From ")
        out += b"From reviewbot@example.org Thu Jan  2 00:00:00 2025\n" + body.rstrip(b"\n")
        out += b"\n\n"
    return bytes(out)


class NotifySocket:
    """A stand-in for systemd's notify socket: collects what the daemon sends."""

    def __init__(self, path: Path) -> None:
        self.path, self.messages = path, []  # type: Path, list[str]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_sighup_reloads_settings_policies_and_maintainers_keeping_the_last_good_set(
        installed: Installed, home: Path, small_epoch: Path, corpus_mails: list[RawMail],
        stop_all: list[subprocess.Popen[str]]) -> None:
    """A good edit (a new source, a changed policy) is applied on SIGHUP; broken settings,
    policies or MAINTAINERS are each refused with the reason, and the daemon runs on."""
    policies = home / "policies"
    policies.mkdir()
    default = policies / "default.toml"
    default.write_text('[sla]\nstale_after = "30d"\n')
    (home / "second.mbox").write_bytes(_mbox(corpus_mails[300:320]))
    base = (f'maintainers = "{KERNEL_MAINTAINERS}"\n[policy]\ndir = "{policies}"\n'
            f'[[sources]]\nlist = "linux-rdma"\nepochs = ["{small_epoch}"]\n')
    cfg = _config(home / "c.toml", base)
    notify = NotifySocket(home / "notify.sock")
    env = installed.env(home, NOTIFY_SOCKET=str(notify.path))
    daemon = installed.start("--db", f"sqlite:///{home / 'rb.db'}", "--config", str(cfg),
                             "run", "--interval", "3600", home=home, env=env)
    stop_all.append(daemon)
    log = LogReader(daemon)
    try:
        at = log.wait_for(f"poll {KEY}: 300 new mails")
        cfg.write_text(base + '[[sources]]\nlist = "second"\nmbox = "second.mbox"\n')
        default.write_text('[sla]\nstale_after = "60d"\n')
        daemon.send_signal(signal.SIGHUP)
        at = log.wait_for("reloaded: 2 sources, 0 trees", after=at)
        log.wait_for(f"poll mbox:second:{home / 'second.mbox'}: 20 new mails", after=at)
        log.wait_for("MAINTAINERS, policies or mailmap changed", after=at)
        wait_for(lambda: "RELOADING=1" in "".join(notify.messages), timeout=10)
        reloading = next(n for n, m in enumerate(notify.messages) if "RELOADING=1" in m)
        wait_for(lambda: any("READY=1" in m for m in notify.messages[reloading:]), timeout=10)

        for broken, reason in (
                (lambda: cfg.write_text(base + 'poll_interval = "soon"\n'),
                 f"{cfg}:7: [[sources]] #1: unknown key(s) poll_interval"),
                (lambda: default.write_text('[sla]\nstale_after = "whenever"\n'),
                 f"{default}:2:"),
                (lambda: cfg.write_text(base.replace(str(KERNEL_MAINTAINERS),
                                                     str(home / "nope"))),
                 "MAINTAINERS")):
            broken()
            daemon.send_signal(signal.SIGHUP)
            at = log.wait_for("reload failed, still running the previous settings",
                              after=at + 1)
            assert reason in "\n".join(log.lines[at:at + 3]), log.lines[at:]
            assert daemon.poll() is None
            default.write_text('[sla]\nstale_after = "60d"\n')
            cfg.write_text(base + '[[sources]]\nlist = "second"\nmbox = "second.mbox"\n')
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=60) == 0
    finally:
        notify.close()
    assert "Traceback" not in "\n".join(log.rest())


def test_sigterm_is_honoured_within_seconds_while_a_poll_hangs(
        installed: Installed, home: Path, stop_all: list[subprocess.Popen[str]]) -> None:
    """A lore server that accepts and never answers: SIGTERM still ends the daemon within
    [daemon] stop_timeout, exit 0, saying what it left unfinished."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    port = server.getsockname()[1]
    cfg = _config(home / "c.toml", f'[daemon]\nstop_timeout = 2\n[[sources]]\nlist = "x"\n'
                                   f'lore = "http://127.0.0.1:{port}/x"\n')
    daemon = installed.start("--db", f"sqlite:///{home / 'rb.db'}", "--config", str(cfg),
                             "run", home=home)
    stop_all.append(daemon)
    log = LogReader(daemon)
    try:
        server.settimeout(120)
        conn, _ = server.accept()  # the poll is waiting for an answer now
        time.sleep(0.5)
        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        assert time.monotonic() - started < 10
        conn.close()
    finally:
        server.close()
    log.wait_for("stopping without 1 poll(s) still running after 2 s")


def _image_env(installed: Installed, root: Path) -> dict[str, str]:
    """The Containerfile's ENV with its /var/lib moved under `root` (no engine here)."""
    env = {k: v.replace("/var/lib", str(root / "var" / "lib")) for k, v in image_env().items()}
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    return {**installed.env(Path(env["HOME"])), **env}


def test_the_containers_health_check(installed: Installed, tmp_path: Path, small_epoch: Path,
                                     stop_all: list[subprocess.Popen[str]]) -> None:
    """The image's HEALTHCHECK command, in the image's environment, against the image's
    CMD: unhealthy before the daemon made its database; healthy while idle without any
    settings; healthy once a configured source polled; unhealthy with a source that
    never polls successfully."""
    env = _image_env(installed, tmp_path)
    home = Path(env["HOME"])
    _, check = healthcheck()

    def health(*extra: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*check, *extra], env=env, cwd=tmp_path, capture_output=True,
                                text=True, timeout=120)
        no_traceback(result)
        return result

    before = health()
    assert before.returncode == 1 and "no database yet" in before.stdout
    cmd = command()
    assert cmd[:2] == ["/usr/bin/tini", "--"]  # tini only forwards signals: run without it
    daemon = subprocess.Popen(cmd[2:], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    stop_all.append(daemon)
    log = LogReader(daemon)
    at = log.wait_for("idle until a reload")
    assert (tmp_path / "var" / "lib" / "reviewbot" / "reviewbot.db").is_file()
    idle = health()
    assert idle.returncode == 0, idle.stdout
    assert idle.stdout.startswith("ok   database: ")

    config = home / ".config" / "reviewbot" / "config.toml"
    (home / "bad.mbox").write_bytes(b"not an mbox\n")
    _config(config, f'[[sources]]\nlist = "linux-rdma"\nepochs = ["{small_epoch}"]\n')
    daemon.send_signal(signal.SIGHUP)
    at = log.wait_for(f"poll {KEY}: 300 new mails", after=at)
    polled = health("--json")
    assert polled.returncode == 0, polled.stdout
    assert f'"name": "{KEY}"' in polled.stdout and '"healthy": true' in polled.stdout

    config.write_text(config.read_text() + '[[sources]]\nlist = "bad"\nmbox = "~/bad.mbox"\n')
    daemon.send_signal(signal.SIGHUP)
    log.wait_for(f"poll mbox:bad:{home / 'bad.mbox'} failed: MboxError", after=at)
    failing = health()
    assert failing.returncode == 1
    assert f"FAIL mbox:bad:{home / 'bad.mbox'}: never polled successfully" in failing.stdout
    assert f"ok   {KEY}: last successful poll" in failing.stdout
    assert health("--max-age", "0.001").returncode == 1
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=60) == 0
    assert REPO_ROOT not in Path(env["HOME"]).parents
