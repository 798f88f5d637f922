"""The scale-out path: several `reviewbot run` processes, one PostgreSQL database.

Three daemons, each polling its own source (three epochs that share some mail, as
lists share cross-posted threads), run at once against one database. They must
end exactly where one process ingesting all three ends: the same messages and the
same series, routing and standings.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql.store import SqlStore
from reviewbot.ports import RawMail
from tests.epochs import make_epoch
from tests.live import diff, stored

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.corpus]
N = 1500


def epochs(tmp_path: Path, mails: list[RawMail]) -> list[Path]:
    """Three epochs: a third of the mail each, and every 15th mail in all three."""
    return [make_epoch(tmp_path / f"list{k}" / "0.git",
                       [m for i, m in enumerate(mails) if i % 3 == k or i % 15 == 0])
            for k in range(3)]


def config(tmp_path: Path, name: str, sources: list[Path], maintainers: Path) -> Path:
    cfg = tmp_path / f"{name}.toml"
    text = f'maintainers = "{maintainers}"\n'
    for epoch in sources:  # list<k>/0.git is list<k>'s epoch
        text += f'\n[[sources]]\nlist = "{epoch.parent.name}"\nepochs = ["{epoch}"]\n'
    cfg.write_text(text)
    return cfg


def reviewbot(db: str, cfg: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "REVIEWBOT_POLICIES": str(Path(__file__).parents[1] / "policies")}
    return subprocess.Popen([sys.executable, "-m", "reviewbot", "--db", db, "--config",
                             str(cfg), "run", "--once"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def messages(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.text(
            "SELECT message_id, sha256, deleted, duplicates FROM message")))


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_three_daemons_on_one_postgresql_end_like_one(
        db_url: str, fresh_sqlite: SqlStore, corpus_mails: list[RawMail],
        kernel_maintainers: Path, tmp_path: Path) -> None:
    """Three `run --once` processes at once (one source each) and one process reading all
    three sources: the same messages, series, routing and states."""
    sources = epochs(tmp_path, corpus_mails[:N])
    workers = [reviewbot(db_url, config(tmp_path, f"worker{k}", [src], kernel_maintainers))
               for k, src in enumerate(sources)]
    for w in workers:
        _, err = w.communicate(timeout=600)
        assert w.returncode == 0, err.decode()[:3000]
    alone = fresh_sqlite.engine.url.render_as_string(hide_password=False)
    solo = reviewbot(alone, config(tmp_path, "solo", sources, kernel_maintainers))
    _, err = solo.communicate(timeout=600)
    assert solo.returncode == 0, err.decode()[:3000]

    shared = SqlStore(sa.create_engine(db_url))
    try:
        assert messages(shared.engine) == messages(fresh_sqlite.engine)
        got, want = stored(shared), stored(fresh_sqlite)
        assert got == want, diff(got, want)
        assert len(want) > 150
        with shared.engine.connect() as conn:
            dirty = conn.execute(sa.text("SELECT count(*) FROM component WHERE dirty"))
            assert dirty.scalar_one() == 0
    finally:
        shared.engine.dispose()
