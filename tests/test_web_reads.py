"""The HTTP surface's reads (SqlWebReads, SqlPollLog) and the metrics snapshot on both
backends, SQLite and PostgreSQL, over the corpus' first 300 mails."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewbot import config
from reviewbot.adapters.sql.polllog import SqlPollLog
from reviewbot.adapters.sql.series.webreads import SqlWebReads
from reviewbot.cli import main
from reviewbot.core.web.model import WebError
from reviewbot.service.backlog.queries import queue
from reviewbot.service.web.backend import WebService
from reviewbot.service.web.metrics import MetricsService
from reviewbot.wiring import App, build_app
from reviewbot.wiring_web import build_web
from tests.sqlfixtures import BACKENDS
from tests.webfix import POLICIES

pytestmark = [pytest.mark.corpus, pytest.mark.parametrize("db_url", BACKENDS, indirect=True)]
IB = "INFINIBAND SUBSYSTEM"
NOW = datetime(2025, 3, 1, tzinfo=UTC)


def ingested(db_url: str, epoch: Path, maintainers: Path, tmp_path: Path
             ) -> tuple[config.Settings, App]:
    """The small epoch ingested with the CLI; the settings and the App over it."""
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'database = "{db_url}"\nmaintainers = "{maintainers}"\n'
                   f'[policy]\ndir = "{POLICIES}"\n')
    assert main(["--config", str(cfg), "ingest", "--epoch", str(epoch),
                 "--list", "linux-rdma"]) == 0
    conf = config.load(str(cfg), {})
    return conf, build_app(conf, db_url, os.environ)


def test_reads_and_snapshot(db_url: str, small_epoch: Path, kernel_maintainers: Path,
                            tmp_path: Path) -> None:
    _, app = ingested(db_url, small_epoch, kernel_maintainers, tmp_path)
    reads, polls = SqlWebReads(app.engine), SqlPollLog(app.engine)
    reads.ping()
    members = reads.section_members([IB, "NO SUCH SECTION"])
    assert len(members[IB]) > 10 and members["NO SUCH SECTION"] == frozenset()
    some = sorted(members[IB])[:5]
    sections = reads.sections_of(some)
    assert all(IB in sections[s] for s in some)
    docs = reads.series_docs(some)
    assert set(docs) == set(some) and all(d.series_id == s for s, d in docs.items())
    subs = {s.section: s for s in reads.subsystems()}
    assert "leonro@nvidia.com" in " ".join(subs[IB].maintainers)
    assert reads.series_of_actor("leonro@nvidia.com")
    newest = reads.newest_mail()
    assert set(newest) == {"linux-rdma"} and newest["linux-rdma"].year == 2025
    assert reads.outbox_counts() == {}
    figures = app.reader.series_figures(None, NOW)
    superseded = [f.series_id for f in figures if f.superseded]
    later = reads.superseded_at(superseded)
    assert set(later) == set(superseded)
    assert all(later[s] >= f.posted_at for f in figures for s in [f.series_id] if s in later)

    polls.record("epoch:linux-rdma", "linux-rdma", NOW, None)
    polls.record("epoch:linux-rdma", "linux-rdma", NOW + timedelta(minutes=5), "boom")
    [r] = polls.records()
    assert (r.kind, r.polls, r.errors, r.last_success, r.last_error) == (
        "epoch", 2, 1, NOW, "boom")

    meter = MetricsService(app.reader, lambda: app.ctx, reads, polls, lambda: [IB.lower()],
                           sources=[("linux-rdma", "epoch")])
    snap = meter.snapshot(NOW)
    q = queue(app.reader, app.ctx, NOW, IB)
    assert q.stats is not None
    backlog = {s.labels: s.value for s in snap.family("reviewbot_backlog_series").samples}
    for state, n in q.stats.open_by_state.items():
        assert backlog[(IB, state)] == n
    assert sum(v for (_, st), v in backlog.items() if st != "applied") == q.stats.open_total
    [first] = snap.family("reviewbot_time_to_first_review_seconds").histograms
    assert first.count == q.stats.time_to_first_review.count
    polled = {s.labels: s.value for s in snap.family("reviewbot_source_polls").samples}
    assert polled == {("linux-rdma", "epoch"): 2.0}
    app.engine.dispose()


def test_the_http_surface_answers_with_the_context_a_reload_installed(
        db_url: str, small_epoch: Path, kernel_maintainers: Path, tmp_path: Path) -> None:
    """SIGHUP replaces app.ctx (reload's apply, a policy edit): the API and the metrics
    built before it read the new one, not the one they were built with. Here the new
    settings name no MAINTAINERS, so subsystem queues become a clear 404."""
    conf, app = ingested(db_url, small_epoch, kernel_maintainers, tmp_path)
    backend = build_web(app, conf, os.environ).backend
    assert isinstance(backend, WebService)
    before = backend.api.backlog(IB, NOW)
    assert before.subsystem == IB and before.stats is not None
    app.ctx = dataclasses.replace(app.ctx, maintainers=None)
    with pytest.raises(WebError) as refused:
        backend.api.backlog(IB, NOW)
    assert refused.value.status == 404 and "no MAINTAINERS" in str(refused.value)
    assert backend.meter.ctx() is app.ctx
