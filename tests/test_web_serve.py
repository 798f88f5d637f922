"""`reviewbot serve` and `reviewbot run` with `[http] listen`, as real processes.

- READY=1 reaches systemd's socket only once the listener is bound: the port the
  process printed answers at that moment.
- SIGTERM stops it gracefully: STOPPING=1, a request in flight still gets its answer,
  exit 0.
- `/healthz` runs the checks of `reviewbot health` (service.backlog.health): the database, and
  a successful poll of every configured source within the limit.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from reviewbot import config
from reviewbot.adapters.sql.polllog import SqlPollLog
from reviewbot.adapters.sql.store import make_engine
from reviewbot.wiring_health import health_report
from tests.corpus import read_corpus
from tests.epochs import make_epoch
from tests.webfix import Running

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _notify_socket(tmp_path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(60)
    return sock


def _url_from(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    m = re.search(r"serving HTTP on (http://\S+)", line)
    assert m, line
    return m.group(1)


def test_serve_is_ready_only_when_bound_and_stops_gracefully(web_conf: object,
                                                             tmp_path: Path) -> None:
    conf = web_conf
    sock = _notify_socket(tmp_path)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewbot", "--config", str(conf.path), "serve",  # type: ignore[attr-defined]
         "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        ready = sock.recv(4096).decode()
        assert ready.startswith("READY=1")
        url = _url_from(proc)
        assert url in ready  # STATUS names the bound address
        r = requests.get(url + "/healthz", timeout=10)  # answers the moment READY came
        database = r.json()["checks"][0]
        assert r.status_code in (200, 503) and (database["name"], database["ok"]) == (
            "database", True)
        assert re.search(r"web\.db: schema \d{4}$", database["detail"]), database
        # a slow request in flight when SIGTERM arrives still gets its answer
        answers: list[int] = []
        slow = threading.Thread(target=lambda: answers.append(requests.get(
            url + "/subsystems/INFINIBAND%20SUBSYSTEM?as_of=2025-12-31",
            timeout=60).status_code))
        slow.start()
        time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096).decode() == "STOPPING=1"
        assert proc.wait(timeout=60) == 0
        slow.join(timeout=60)
        assert answers == [200]
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/healthz", timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def test_serve_says_why_it_cannot_listen(web_ro: Running, capfd: pytest.CaptureFixture[str]
                                         ) -> None:
    host, port = web_ro.server.address  # type: ignore[misc]
    from reviewbot.cli import main

    assert main(["--config", str(web_ro.conf.path), "serve", "--listen",
                 f"{host}:{port}"]) == 1
    err = capfd.readouterr().err
    assert "cannot listen on" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as usage:
        main(["serve", "--listen", "nonsense"])
    assert usage.value.code == 2
    assert "listen must be HOST:PORT" in capfd.readouterr().err


def test_run_serves_http_and_healthz_follows_the_polls(corpus_git: Path, tmp_path: Path
                                                       ) -> None:
    """`run` with [http] listen: HTTP is up when READY=1 comes; /healthz turns healthy
    once the configured source has been polled successfully."""
    epoch = make_epoch(tmp_path / "0.git", [m.raw for m in read_corpus(corpus_git, limit=60)])
    cfg = tmp_path / "config.toml"
    port = _free_port()
    cfg.write_text(f'database = "sqlite:///{tmp_path / "r.db"}"\n'
                   f'[[sources]]\nlist = "linux-rdma"\nepochs = ["{epoch}"]\n'
                   f'[http]\nlisten = "127.0.0.1:{port}"\n')
    sock = _notify_socket(tmp_path)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock")}
    proc = subprocess.Popen([sys.executable, "-m", "reviewbot", "--config", str(cfg), "run",
                             "--interval", "3600"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert sock.recv(4096).decode().startswith("READY=1")
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        health = requests.get(base + "/healthz", timeout=10)
        while health.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
            health = requests.get(base + "/healthz", timeout=10)
        body = health.json()
        assert health.status_code == 200, body
        assert [c["name"] for c in body["checks"]] == ["database", "epoch:linux-rdma"]
        metrics = requests.get(base + "/metrics", timeout=30).text
        assert 'reviewbot_source_polls_total{kind="epoch",list="linux-rdma"}' in metrics
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_health_check(tmp_path: Path, sqlite_template: Path) -> None:
    """What `reviewbot health` and /healthz share: the database answers with the current
    schema, and each source polled within [daemon] health_missed_polls (3) of its
    interval. A source never polled, or silent too long, or an unreachable database is
    unhealthy; a stored batch of a long poll counts as alive."""
    import shutil

    db = tmp_path / "h.db"
    shutil.copy(sqlite_template, db)
    engine = make_engine(f"sqlite:///{db}")
    polls = SqlPollLog(engine)
    now = datetime(2025, 6, 1, 12, tzinfo=UTC)
    epoch = make_epoch(tmp_path / "0.git", [b"From: a@example.org\n\nhello\n"])
    conf = config.parse({"poll_interval": 600, "sources": [
        {"list": "linux-rdma", "epochs": [str(epoch)]},
        {"list": "netdev", "lore": "https://lore.kernel.org/netdev/"}]}, tmp_path / "c.toml")
    report = health_report(engine, conf, "h.db", now)
    assert not report.ok
    assert [(c.name, c.detail) for c in report.checks[1:]] == [
        ("epoch:linux-rdma", "never polled successfully"),
        ("lore:netdev", "never polled successfully")]
    polls.record("epoch:linux-rdma", "linux-rdma", now - timedelta(minutes=5), None)
    polls.record("lore:netdev", "netdev", now - timedelta(minutes=25), None)
    polls.record("lore:netdev", "netdev", now - timedelta(minutes=1), "HTTP 503")
    report = health_report(engine, conf, "h.db", now)
    assert [c.ok for c in report.checks] == [True, True, True]
    later = health_report(engine, conf, "h.db", now + timedelta(minutes=10))
    assert [c.ok for c in later.checks] == [True, True, False]  # netdev: 35 min > 3 x 10
    assert later.checks[2].detail == "last successful poll 35 min ago (limit 30 min)"
    polls.progress("lore:netdev", "netdev", now + timedelta(minutes=9))  # a stored batch
    assert health_report(engine, conf, "h.db", now + timedelta(minutes=10)).ok
    record = {r.key: r for r in polls.records()}["lore:netdev"]
    assert (record.polls, record.errors, record.last_error) == (2, 1, "HTTP 503")
    engine.dispose()
    gone = make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    down = health_report(gone, conf, "x.db", now)
    assert not down.ok and down.checks[0].name == "database" and len(down.checks) == 1
