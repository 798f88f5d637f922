"""pytest plugin for the HTTP surface's tests: the 2025 corpus ingested once (SQLite),
settings for it, and a real aiohttp server on port 0 over a private copy.

The server runs in a thread with its own event loop, so tests (and Chromium,
Prometheus, plain HTTP clients) talk to it over real sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from reviewbot import config
from reviewbot.adapters.web.server import WebServer
from reviewbot.cli import main
from reviewbot.wiring import build_app
from reviewbot.wiring_web import build_web

POLICIES = Path(__file__).resolve().parent.parent / "policies"
AS_OF = "2025-12-31"
# The servers' clock: the corpus' last day, so "now" answers (no as_of) see its open series.
NOW = datetime(2025, 12, 31, 12, tzinfo=UTC)
SUBSYSTEM = "INFINIBAND SUBSYSTEM"
# Leon Romanovsky: M: of INFINIBAND SUBSYSTEM (leonro@nvidia.com, leon@kernel.org aliased).
MAINTAINER = "leon@kernel.org"
TOKENS = {"maintainer-token": MAINTAINER, "outsider-token": "someone@example.org"}
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
MATTERMOST_TOKEN = "xbxm3qpk7tbrfmztwsdqd1ejzc"
SLACK_USERS = {"U0LEON": MAINTAINER, "U0OUT": "someone@example.org",
               **{f"U0LOAD{n}": MAINTAINER for n in range(20)}}  # 20 concurrent clients
MATTERMOST_USERS = {"leonro": MAINTAINER}


def settings_text(db_url: str, maintainers: Path, secrets: Path, listen: str = "127.0.0.1:0",
                  extra: str = "") -> str:
    tokens = "".join(f'[[http.tokens]]\nidentity = "{who}"\n'
                     f'sha256 = "{hashlib.sha256(tok.encode()).hexdigest()}"\n'
                     for tok, who in TOKENS.items())
    slack_users = "".join(f'{u} = "{w}"\n' for u, w in SLACK_USERS.items())
    mm_users = "".join(f'{u} = "{w}"\n' for u, w in MATTERMOST_USERS.items())
    (secrets / "slack").write_text(SLACK_SECRET + "\n")
    (secrets / "mattermost").write_text(MATTERMOST_TOKEN + "\n")
    return (f'database = "{db_url}"\nmaintainers = "{maintainers}"\n{extra}'
            f'[policy]\ndir = "{POLICIES}"\n'
            f'[http]\nlisten = "{listen}"\n{tokens}'
            f'[chat]\nsubsystem = "{SUBSYSTEM}"\nrate_per_minute = 600\n'
            f'[chat.slack]\nsigning_secret_file = "{secrets / "slack"}"\n'
            f'[chat.slack.users]\n{slack_users}'
            f'[chat.mattermost]\ntoken_file = "{secrets / "mattermost"}"\n'
            f'[chat.mattermost.users]\n{mm_users}'
            f'[metrics]\nsubsystems = ["{SUBSYSTEM}", "SOFT-ROCE DRIVER (rxe)", '
            f'"MELLANOX MLX5 IB driver", "NETWORKING DRIVERS"]\nrefresh = 3600\n')


def source_table(corpus_db: Path) -> str:
    """The corpus as the configured source (health and poll metrics expect it)."""
    return f'[[sources]]\nlist = "linux-rdma"\nepochs = ["{corpus_db.parent / "epoch"}"]\n'


@pytest.fixture(scope="session")
def corpus_db(corpus_git: Path, kernel_maintainers: Path,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database holding the whole 2025 corpus, routed and refreshed (read only:
    copy it before writing)."""
    work = tmp_path_factory.mktemp("web-corpus")
    db = work / "corpus.db"
    cfg = work / "config.toml"
    cfg.write_text(f'database = "sqlite:///{db}"\nmaintainers = "{kernel_maintainers}"\n'
                   f'[policy]\ndir = "{POLICIES}"\n')
    assert main(["--config", str(cfg), "ingest", "--epoch", str(corpus_git),
                 "--list", "linux-rdma"]) == 0
    return db


@dataclass
class Running:
    server: WebServer
    url: str
    conf: config.Settings
    loop: asyncio.AbstractEventLoop
    db: Path


def cli_queue(conf: config.Settings, subsystem: str, as_of: str = NOW.isoformat()
              ) -> dict[str, Any]:
    """What `queue --subsystem S --as-of AS_OF --json` says: the truth the surfaces show."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--config", str(conf.path), "queue", "--subsystem", subsystem,
                     "--as-of", as_of, "--json"]) == 0
    result: dict[str, Any] = json.loads(out.getvalue())
    return result


def start_server(conf: config.Settings, db: Path) -> Iterator[Running]:
    """A real server over `db` whose clock stands at NOW."""
    import os

    app = build_app(conf, f"sqlite:///{db}", os.environ)
    server = build_web(app, conf, os.environ, now=lambda: NOW)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=60)
        yield Running(server, server.url, conf, loop, db)
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        app.engine.dispose()


@pytest.fixture
def web_conf(corpus_db: Path, kernel_maintainers: Path, tmp_path: Path) -> config.Settings:
    """Settings over a private copy of the corpus database."""
    db = tmp_path / "web.db"
    shutil.copy(corpus_db, db)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    path = tmp_path / "config.toml"
    path.write_text(settings_text(f"sqlite:///{db}", kernel_maintainers, secrets,
                                  extra=source_table(corpus_db)))
    return config.load(str(path), {})


@pytest.fixture
def web(web_conf: config.Settings, tmp_path: Path) -> Iterator[Running]:
    """A running server (port 0) over a private copy of the corpus database."""
    yield from start_server(web_conf, tmp_path / "web.db")


@pytest.fixture(scope="module")
def web_ro(corpus_db: Path, kernel_maintainers: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One running server per module for tests that only read."""
    work = tmp_path_factory.mktemp("web-ro")
    db = work / "web.db"
    shutil.copy(corpus_db, db)
    secrets = work / "secrets"
    secrets.mkdir()
    path = work / "config.toml"
    path.write_text(settings_text(f"sqlite:///{db}", kernel_maintainers, secrets,
                                  extra=source_table(corpus_db)))
    yield from start_server(config.load(str(path), {}), db)
