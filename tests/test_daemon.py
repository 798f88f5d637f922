"""The daemon: one-shot polls, per-source locks, clean shutdown, systemd readiness."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql.locks import FileLocks, PgAdvisoryLocks
from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.adapters.system.systemd import Notifier
from reviewbot.cli import main
from reviewbot.daemon import Daemon, Poller
from reviewbot.ports import Batch
from tests.corpus import read_corpus
from tests.epochs import make_epoch
from tests.live import live_messages
from tests.sqlfixtures import PG_URL

N = 40


@pytest.fixture(scope="module")
def small_epoch(corpus_git: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raws = [m.raw for m in read_corpus(corpus_git, limit=N)]
    return make_epoch(tmp_path_factory.mktemp("epoch") / "0.git", raws)


def count_messages(store: SqlStore) -> int:
    return len(live_messages(store))


def _config(tmp_path: Path, epoch: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[[sources]]\nlist = "linux-rdma"\nepochs = ["{epoch}"]\n')
    return cfg


class _Broken:
    key = "test:broken"

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        raise ConnectionError("archive unreachable")


def test_run_once_ingests_every_configured_source(tmp_path: Path, small_epoch: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`run --once` polls each [[sources]] entry once and exits 0."""
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert main(["--db", db, "--config", str(_config(tmp_path, small_epoch)), "run", "--once"]) == 0
    assert main(["--db", db, "stats", "--json"]) == 0
    assert '"messages": 40' in capsys.readouterr().out


def test_run_without_sources_is_a_clear_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """The daemon refuses to start with nothing to poll, and says what to configure."""
    cfg = tmp_path / "empty.toml"
    cfg.write_text("")
    assert main(["--db", f"sqlite:///{tmp_path / 'r.db'}", "--config", str(cfg), "run"]) == 1
    assert "no [[sources]] configured" in capsys.readouterr().err


def test_a_failing_source_is_reported_and_does_not_stop_the_others(
        tmp_path: Path, small_epoch: Path) -> None:
    """One source raising is logged as that poll's error; the other source still ingests."""
    from reviewbot.adapters.sources.epoch import EpochSource

    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'r.db'}"))
    from reviewbot.adapters.sql import migrate as sqlmigrate
    sqlmigrate.upgrade(store.engine)
    good = Poller("linux-rdma", EpochSource("linux-rdma", [small_epoch]), 60)
    bad = Poller("broken", _Broken(), 60)
    daemon = Daemon(store, [bad, good], FileLocks(tmp_path), Notifier({}))
    import asyncio
    assert asyncio.run(daemon.run(once=True)) == 1
    by_key = {r.key: r for r in daemon.results}
    assert by_key["test:broken"].error == "ConnectionError: archive unreachable"
    assert by_key["epoch:linux-rdma"].report is not None
    assert count_messages(store) == N


def test_a_source_locked_by_another_daemon_is_skipped(tmp_path: Path, small_epoch: Path) -> None:
    """While another process holds a source's lock, this daemon ingests nothing from it."""
    from reviewbot.adapters.sources.epoch import EpochSource
    from reviewbot.adapters.sql import migrate as sqlmigrate

    store = SqlStore(make_engine(f"sqlite:///{tmp_path / 'r.db'}"))
    sqlmigrate.upgrade(store.engine)
    source = EpochSource("linux-rdma", [small_epoch])
    other = FileLocks(tmp_path)
    holder = subprocess.Popen(  # a separate process, as a second daemon would be
        [sys.executable, "-c", "import fcntl,sys,time; f=open(sys.argv[1],'ab'); "
         "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)",
         str(other.path_for(source.key))], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        daemon = Daemon(store, [Poller("linux-rdma", source, 60)], FileLocks(tmp_path),
                        Notifier({}))
        result = daemon.poll_once(daemon.pollers[0])
        assert result.skipped is not None and result.report is None
        assert count_messages(store) == 0
    finally:
        holder.kill()
        holder.wait()
    assert daemon.poll_once(daemon.pollers[0]).report is not None
    assert count_messages(store) == N


@pytest.mark.postgres
def test_postgres_advisory_lock_is_exclusive_across_connections(pg_engine: Engine) -> None:
    """Two daemons sharing one PostgreSQL database cannot both hold a source's lock; an
    installation in another schema of that database has locks of its own."""
    url = pg_engine.url  # a private schema (its search_path rides in the URL)
    engines = [make_engine(url), make_engine(url), make_engine(PG_URL)]
    a, b, elsewhere = (PgAdvisoryLocks(e) for e in engines)
    try:
        assert a.try_acquire("epoch:linux-rdma")
        assert not b.try_acquire("epoch:linux-rdma")
        assert elsewhere.try_acquire("epoch:linux-rdma")
        assert b.try_acquire("epoch:netdev")
        a.release("epoch:linux-rdma")
        assert b.try_acquire("epoch:linux-rdma")
    finally:
        for locks in (b, elsewhere):
            locks.release("epoch:linux-rdma")
        b.release("epoch:netdev")
        for e in engines:
            e.dispose()


def test_sigterm_stops_the_daemon_cleanly_with_systemd_notifications(
        tmp_path: Path, small_epoch: Path) -> None:
    """Under systemd: READY=1 after the first start, STOPPING=1 on SIGTERM, exit 0."""
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(30)
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path)}
    db = f"sqlite:///{tmp_path / 'r.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewbot", "--db", db, "--config",
         str(_config(tmp_path, small_epoch)), "run", "--interval", "3600"],
        env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert sock.recv(4096).decode().startswith("READY=1")
        proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096).decode() == "STOPPING=1"
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def _policy_config(tmp_path: Path, epoch: Path, policy_dir: Path) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[[sources]]\nlist = "linux-rdma"\nepochs = ["{epoch}"]\n\n'
                   f'[policy]\ndir = "{policy_dir}"\n')
    return cfg


def test_the_daemon_refuses_to_start_on_an_invalid_policy(
        tmp_path: Path, small_epoch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad policy file stops `run` before anything is polled, naming file, line and reason."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.toml").write_text("[sla]\nfirst_review = \"soon\"\n")
    db = f"sqlite:///{tmp_path / 'r.db'}"
    cfg = _policy_config(tmp_path, small_epoch, policies)
    assert main(["--db", db, "--config", str(cfg), "run", "--once"]) == 1
    err = capsys.readouterr().err
    assert "refusing to start" in err and "default.toml:2:" in err
    assert not (tmp_path / "r.db").exists()


def test_a_bad_policy_edit_while_running_keeps_the_last_good_set(
        tmp_path: Path, small_epoch: Path) -> None:
    """The daemon re-reads edited policies; a broken edit is refused and the old set stays."""
    from reviewbot.cli import build_parser
    from reviewbot.commands.run import build_daemon

    policies = tmp_path / "policies"
    policies.mkdir()
    default = policies / "default.toml"
    default.write_text('[sla]\nfirst_review = "14d"\n')
    cfg = _policy_config(tmp_path, small_epoch, policies)
    args = build_parser().parse_args(
        ["--db", f"sqlite:///{tmp_path / 'r.db'}", "--config", str(cfg), "run"])
    daemon = build_daemon(args)
    assert daemon.policies is not None
    good = daemon.policies.current

    default.write_text('[sla]\nfirst_review = "14 days please"\n')
    refused = daemon.reload_policies()
    assert refused is not None and refused.changed and not refused.applied
    assert "default.toml:2:" in refused.message
    assert daemon.policies.current is good

    default.write_text('[sla]\nfirst_review = "7d"\n')
    applied = daemon.reload_policies()
    assert applied is not None and applied.applied
    assert daemon.policies.current is not good
