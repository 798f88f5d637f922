"""kill -9 of the sender at chosen points, then a restart: what did a REAL SMTP server get?

Three mails are queued. `reviewbot outbox flush` runs in its own process and
talks to a real aiosmtpd server (127.0.0.1, port 0) through a proxy that
freezes the conversation at a chosen point of the SECOND mail's transaction
(the first is then sent and recorded, the third still queued), or before the
first connection. The test checks what the database says at that instant,
SIGKILLs the sender, runs `outbox flush` again in a new process, and counts
the mails the server received, by Message-ID.

The only duplicate allowed is the window no mailer can close: the server
answered 250 but the sender died before committing "sent". With
`in_doubt = "resend"` that mail arrives twice with the SAME Message-ID; with
`in_doubt = "hold"` it arrives once and its row is held.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from reviewbot.adapters.sql.mail.outbox import SqlOutbox
from reviewbot.adapters.sql.store import make_engine
from reviewbot.core.notify.message import Draft, build_message
from reviewbot.core.notify.outbox import OutboxKey, OutboxState
from tests.conftest import REPO_ROOT
from tests.smtp_server import FreezingProxy, SmtpServer

pytestmark = pytest.mark.slow

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
SENDER = "reviewbot <bot@example.org>"

# point -> (row 2's state when frozen, mails the server has then,
#           copies of mails 1, 2, 3 after the restart with resend, ... with hold)
EXPECTED = {
    "before-connect": ("queued", 0, (1, 1, 1), (1, 1, 1)),
    "mid-data": ("sending", 1, (1, 1, 1), (1, 0, 1)),
    "after-250": ("sending", 2, (1, 2, 1), (1, 1, 1)),
    "after-commit": ("sent", 2, (1, 1, 1), (1, 1, 1)),
}


def _queue_three(url: str) -> list[str]:
    engine = make_engine(url)
    store = SqlOutbox(engine)
    mids = []
    for n, who in enumerate(("alice@example.org", "bob@example.org", "carol@example.org"), 1):
        body = "\n".join(f"line {i} of mail {n}: the review backlog, row by row."
                         for i in range(60))
        mail = build_message(
            Draft(OutboxKey("digest", "INFINIBAND SUBSYSTEM", who, "2025-06-02"), to=(who,),
                  subject=f"[reviewbot] INFINIBAND SUBSYSTEM review backlog (2025-06-02) #{n}",
                  body=body),
            sender=SENDER, now=NOW, version="test")
        mids.append(store.enqueue(mail, NOW)[0].message_id)
    engine.dispose()
    return mids


def _states(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT state FROM outbox ORDER BY id")).scalars().all()
    engine.dispose()
    return list(rows)


def _flush_process(tmp: Path, url: str, port: int, in_doubt: str) -> subprocess.Popen[bytes]:
    cfg = tmp / f"reviewbot-{port}.toml"
    cfg.write_text(f'[mail]\nfrom = "{SENDER}"\nsmtp = "smtp://127.0.0.1:{port}"\n'
                   f'in_doubt = "{in_doubt}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "reviewbot", "--db", url, "--config", str(cfg), "outbox",
         "flush"], cwd=tmp, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _run_kill(tmp: Path, url: str, point: str, in_doubt: str) -> tuple[list[str], int,
                                                                        list[str], Counter[str],
                                                                        list[str]]:
    mids = _queue_three(url)
    with SmtpServer() as server:
        proxy = FreezingProxy(server.port, point, target=2).start()
        try:
            sender = _flush_process(tmp, url, proxy.port, in_doubt)
            try:
                assert proxy.frozen.wait(60), sender.communicate(timeout=5)[0].decode()
                at_kill = _states(url)
                received_at_kill = len(server.handler.received)
            finally:
                sender.send_signal(signal.SIGKILL)
                sender.wait(timeout=30)
            assert sender.returncode == -signal.SIGKILL
        finally:
            proxy.stop()
        time.sleep(0.2)  # let the server notice the dropped connection
        again = _flush_process(tmp, url, server.port, in_doubt)
        out = again.communicate(timeout=60)[0].decode()
        got = Counter(server.handler.message_ids())
        keys = [r.header("X-Reviewbot-Key") or "" for r in server.handler.received]
    return at_kill, received_at_kill, mids, got, [out, *keys]


@pytest.mark.parametrize("in_doubt", ["resend", "hold"])
@pytest.mark.parametrize("point", list(EXPECTED))
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_kill_and_restart(db_url: str, tmp_path: Path, point: str, in_doubt: str) -> None:
    """Nothing is lost and nothing is sent twice, except the 250-before-commit window."""
    state_at_kill, server_at_kill, resend, hold = EXPECTED[point]
    at_kill, received_at_kill, mids, got, (out, *keys) = _run_kill(tmp_path, db_url, point,
                                                                    in_doubt)
    assert at_kill[1] == state_at_kill, at_kill
    assert received_at_kill == server_at_kill
    expected = resend if in_doubt == "resend" else hold
    assert tuple(got[m] for m in mids) == expected, (got, out)
    assert sum(got.values()) == sum(expected)  # nothing else arrived
    assert all(k.startswith("digest:INFINIBAND SUBSYSTEM:") for k in keys)
    final = _states(db_url)
    held_expected = point in ("mid-data", "after-250") and in_doubt == "hold"
    assert final == ["sent", "held" if held_expected else "sent", "sent"], out
    print(f"\n{point:>14} in_doubt={in_doubt:<6} server at kill: {received_at_kill}  "
          f"after restart: {[got[m] for m in mids]}  rows: {final}")


@pytest.mark.parametrize("point", list(EXPECTED))
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_kill_and_restart_on_postgresql(db_url: str, tmp_path: Path, point: str) -> None:
    """The same on PostgreSQL (the lock is an advisory lock there), resend policy."""
    state_at_kill, server_at_kill, resend, _ = EXPECTED[point]
    at_kill, received_at_kill, mids, got, (out, *_) = _run_kill(tmp_path, db_url, point,
                                                                "resend")
    assert at_kill[1] == state_at_kill
    assert received_at_kill == server_at_kill
    assert tuple(got[m] for m in mids) == resend, (got, out)
    assert _states(db_url) == [OutboxState.SENT.value] * 3
