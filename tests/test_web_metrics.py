"""`GET /metrics` on a real server over the 2025 corpus, and a real Prometheus scraping it.

- The figures equal what `queue --subsystem NAME --json --as-of T` says, T being the
  instant the snapshot says it was taken.
- Label values come only from configuration or fixed sets: none holds an "@", and the
  number of series is bounded.
- Debian's prometheus, started here with a scrape config for the test server and the
  shipped rules (deploy/reviewbot-rules.yml), scrapes it; its HTTP API answers the
  same values, and the rules load.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from reviewbot.cli import main
from reviewbot.core.web.metrics import (
    Family,
    Kind,
    LabelError,
    MetricsSnapshot,
    Sample,
    check_labels,
)
from tests.conftest import REPO_ROOT
from tests.webfix import Running

pytestmark = [pytest.mark.corpus, pytest.mark.slow]
DEPLOY = REPO_ROOT / "deploy"


def scrape(url: str) -> tuple[str, dict[str, Any]]:
    r = requests.get(url + "/metrics", timeout=60)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    samples: dict[str, Any] = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            samples[s.name + json.dumps(s.labels, sort_keys=True)] = s.value
    return r.text, samples


def value(samples: dict[str, Any], name: str, **labels: str) -> float:
    return float(samples[name + json.dumps(labels, sort_keys=True)])


def test_figures_equal_the_queue_at_the_same_instant(web_ro: Running,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    text, samples = scrape(web_ro.url)
    at = datetime.fromtimestamp(value(samples, "reviewbot_metrics_snapshot_timestamp_seconds"),
                                UTC)
    subsystems = sorted({json.loads(k[len("reviewbot_backlog_series"):])["subsystem"]
                         for k in samples if k.startswith("reviewbot_backlog_series{")})
    assert subsystems == sorted(web_ro.conf.metrics.subsystems)
    for name in subsystems:
        capsys.readouterr()
        assert main(["--config", str(web_ro.conf.path), "queue", "--subsystem", name,
                     "--as-of", at.isoformat(), "--json"]) == 0
        q = json.loads(capsys.readouterr().out)
        st = q["stats"]
        for state in ("new", "under_review", "changes_requested", "reviewed",
                      "partially_applied", "rfc", "stale"):
            assert value(samples, "reviewbot_backlog_series", subsystem=name, state=state) \
                == st["open_by_state"].get(state, 0), (name, state)
        for age, n in st["age_buckets"].items():
            assert value(samples, "reviewbot_backlog_age_series", subsystem=name, age=age) == n
        assert value(samples, "reviewbot_backlog_ignored_series", subsystem=name) == q["ignored"]
        for turn in ("reviewer", "maintainer"):
            since = [datetime.fromisoformat(s["since"]) for s in q["series"]
                     if s["turn"] == turn]
            expect = (at - min(since)).total_seconds() if since else 0.0
            assert value(samples, "reviewbot_backlog_oldest_waiting_seconds", subsystem=name,
                         turn=turn) == pytest.approx(expect, abs=1e-6)
        assert value(samples, "reviewbot_time_to_first_review_seconds_count",
                     subsystem=name) == st["time_to_first_review"]["count"]
        assert value(samples, "reviewbot_time_to_applied_seconds_count",
                     subsystem=name) == st["time_to_applied"]["count"]
    ib = "INFINIBAND SUBSYSTEM"
    assert value(samples, "reviewbot_backlog_series", subsystem=ib, state="stale") > 0
    assert value(samples, "reviewbot_backlog_series", subsystem=ib, state="expired") > 50
    assert value(samples, "reviewbot_backlog_series", subsystem=ib, state="applied") > 100
    assert value(samples, "reviewbot_reviews_total", subsystem=ib, kind="reviewed_by") > 100
    assert value(samples, "reviewbot_time_to_first_review_seconds_bucket", subsystem=ib,
                 le="+Inf") == value(samples, "reviewbot_time_to_first_review_seconds_count",
                                     subsystem=ib)
    assert "reviewbot_build_info{" in text and "reviewbot_mails_sent_total{" in text


def test_no_label_value_names_a_person_and_series_are_bounded(web_ro: Running) -> None:
    text, _ = scrape(web_ro.url)
    families = list(text_string_to_metric_families(text))
    series = [s for f in families for s in f.samples]
    assert series
    for s in series:
        for label, v in s.labels.items():
            assert "@" not in v, (s.name, label, v)
            assert label in {"subsystem", "state", "age", "turn", "kind", "list", "le", "tree",
                             "class", "version", "python"}, (s.name, label)
    assert len(series) < 2000  # 4 subsystems configured


def test_the_label_rule_refuses_an_address() -> None:
    def snap(*values: str) -> MetricsSnapshot:
        return MetricsSnapshot(datetime(2025, 1, 1, tzinfo=UTC), (Family(
            "reviewbot_x", Kind.GAUGE, "x", ("subsystem",),
            tuple(Sample((v,), 1.0) for v in values)),))

    assert check_labels(snap("INFINIBAND SUBSYSTEM")) == 1
    with pytest.raises(LabelError, match="not allowed"):
        check_labels(snap("leon@kernel.org"))
    with pytest.raises(LabelError, match="more than"):
        check_labels(snap(*(f"s{i}" for i in range(30))), max_series=20)


def test_openmetrics_when_asked(web_ro: Running) -> None:
    r = requests.get(web_ro.url + "/metrics", timeout=60,
                     headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert r.headers["Content-Type"].startswith("application/openmetrics-text")
    assert r.text.rstrip().endswith("# EOF")
    assert "# TYPE reviewbot_reviews counter" in r.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def prometheus(web_ro: Running, tmp_path: Path) -> Iterator[str]:
    """Debian's prometheus scraping the test server every second, with the shipped rules."""
    binary = shutil.which("prometheus")
    assert binary, "Debian's prometheus package is needed (.ci/system-setup installs it)"
    port = _free_port()
    shutil.copy(DEPLOY / "reviewbot-rules.yml", tmp_path / "reviewbot-rules.yml")
    target = web_ro.url.removeprefix("http://")
    (tmp_path / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "rule_files:\n  - reviewbot-rules.yml\n"
        "scrape_configs:\n  - job_name: reviewbot\n    static_configs:\n"
        f"      - targets: ['{target}']\n")
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen([binary, f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if requests.get(base + "/-/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _query(base: str, expr: str) -> list[dict[str, Any]]:
    r = requests.get(base + "/api/v1/query", params={"query": expr}, timeout=10).json()
    assert r["status"] == "success", r
    return list(r["data"]["result"])


def test_a_real_prometheus_scrapes_it(web_ro: Running, prometheus: str) -> None:
    """Prometheus' own API returns the values reviewbot served, and the shipped recording
    and alerting rules load and evaluate without error."""
    _, samples = scrape(web_ro.url)
    expr = 'reviewbot_backlog_series{subsystem="INFINIBAND SUBSYSTEM",state="stale"}'
    deadline = time.monotonic() + 90
    result: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not result:
        result = _query(prometheus, expr)
        time.sleep(0.5)
    assert result, "Prometheus never stored the scrape"
    assert float(result[0]["value"][1]) == value(
        samples, "reviewbot_backlog_series", subsystem="INFINIBAND SUBSYSTEM", state="stale")
    up = _query(prometheus, 'up{job="reviewbot"}')
    assert up and up[0]["value"][1] == "1"
    rules: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        groups = requests.get(prometheus + "/api/v1/rules", timeout=10).json()["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules):
            break
        time.sleep(0.5)
    assert {r["name"] for r in rules} >= {"ReviewbotSeriesWaitingOnReviewers",
                                          "ReviewbotNoSuccessfulPoll",
                                          "reviewbot:backlog_open_series:sum"}
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError"))
                                                     for r in rules if r["health"] != "ok"]
    opened: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not (opened and alerts):
        opened = _query(prometheus, 'reviewbot:backlog_open_series:sum{subsystem='
                                    '"INFINIBAND SUBSYSTEM"}')
        # the corpus' oldest series waits far beyond 14 days on reviewers: pending alert
        alerts = [a for a in requests.get(prometheus + "/api/v1/alerts", timeout=10).json()[
            "data"]["alerts"] if a["labels"]["alertname"] == "ReviewbotSeriesWaitingOnReviewers"]
        time.sleep(0.5)
    assert opened and float(opened[0]["value"][1]) > 20
    assert alerts and alerts[0]["state"] in ("pending", "firing")


def test_the_grafana_dashboard_uses_only_served_metrics(web_ro: Running) -> None:
    """Every expression of deploy/grafana-dashboard.json names a metric /metrics serves
    or a recording rule of deploy/reviewbot-rules.yml."""
    text, _ = scrape(web_ro.url)
    served = {s.name for f in text_string_to_metric_families(text) for s in f.samples}
    served |= {"up"}
    rules = (DEPLOY / "reviewbot-rules.yml").read_text()
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            for name in re.findall(r"\b(reviewbot[:_][a-z_:0-9]+)", target["expr"]):
                if name.startswith("reviewbot:"):
                    assert f"record: {name}" in rules, name
                elif name not in OPTIONAL:
                    assert name in served, name


# Served only when configured: [metrics] mainline (or a git MAINTAINERS) and [[metrics.debt]].
OPTIONAL = ("reviewbot_merge_window_open", "reviewbot_upstream_debt_commits")


def _git(repo: Path, *args: str, when: str) -> None:
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": "L",
           "GIT_AUTHOR_EMAIL": "l@example.org", "GIT_COMMITTER_NAME": "L",
           "GIT_COMMITTER_EMAIL": "l@example.org", "PATH": "/usr/bin:/bin"}
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def test_merge_window_and_upstream_debt_when_configured(
        corpus_db: Path, kernel_maintainers: Path, tmp_path: Path) -> None:
    """[metrics] mainline (a kernel repository's tags) gives the merge-window gauges;
    [[metrics.debt]] serves the last `debt --record` totals under the configured name."""
    from reviewbot import config
    from reviewbot.adapters.sql.store import make_engine
    from reviewbot.adapters.sql.trees.pulls import SqlPulls
    from tests.webfix import settings_text, start_server

    linux = tmp_path / "linux"
    subprocess.run(["git", "init", "-q", "-b", "master", str(linux)], check=True)
    for tag, when in (("v6.12", "2024-11-17T14:00:00Z"), ("v6.13-rc1", "2024-12-01T14:00:00Z"),
                      ("v6.13", "2025-01-19T14:00:00Z")):
        _git(linux, "commit", "-q", "--allow-empty", "-m", tag, when=when)
        _git(linux, "tag", "-a", tag, "-m", tag, when=when)
    db = tmp_path / "web.db"
    shutil.copy(corpus_db, db)
    engine = make_engine(f"sqlite:///{db}")
    SqlPulls(engine).record_debt("/srv/ofed", "ofed", datetime(2025, 1, 20, tzinfo=UTC),
                                 {"upstream": 3, "waiting_on_reviewers": 2, "never_posted": 1})
    engine.dispose()
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    text = settings_text(f"sqlite:///{db}", kernel_maintainers, secrets)
    text += (f'mainline = "{linux}"\n[[metrics.debt]]\nname = "ofed"\ntree = "/srv/ofed"\n'
             'branch = "ofed"\n')
    (tmp_path / "config.toml").write_text(text)
    for running in start_server(config.load(str(tmp_path / "config.toml"), {}), db):
        _, samples = scrape(running.url)
        # v6.13 is the newest tag: its merge window is open (until v6.14-rc1)
        assert value(samples, "reviewbot_merge_window_open") == 1.0
        assert value(samples, "reviewbot_merge_window_next_timestamp_seconds") > 0
        assert value(samples, "reviewbot_upstream_debt_commits", tree="ofed",
                     **{"class": "waiting_on_reviewers"}) == 2
        assert value(samples, "reviewbot_upstream_debt_commits", tree="ofed",
                     **{"class": "in_maintainer_tree"}) == 0
