"""Benchmark the HTTP surface on a ~100,000-mail database (issue 10).

The database is built as bench/live.py builds it: the shared 2025 linux-rdma corpus
replayed 12 times into one public-inbox epoch (Message-IDs renamed, dates a year
apart per replay), ingested by `reviewbot ingest` with the real MAINTAINERS and
the shipped policies. Then `reviewbot serve` runs as its own process (port 0, the
linux-rdma list configured as the source, so its 27 MAINTAINERS sections are the
metrics' subsystems), and this process plays 20 concurrent clients:

  1. /metrics: 20 scrapers, while snapshots are taken every 10 s (so scrapes overlap
     the snapshot work); p50 and p99, and how long a snapshot takes;
  2. GET /api/v1/subsystems/INFINIBAND SUBSYSTEM/queue (a page of 50): 20 clients;
  3. Slack `/reviewbot backlog` (signed as Slack signs): 20 users at once.

Usage: .venv/bin/python bench/metrics.py [--work DIR] [--replays 12] [--requests 400]
(--work keeps the archive and database for the next run.)
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote, urlencode

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.live import (  # noqa: E402
    MAINTAINERS,
    REVIEWBOT,
    SUBSYSTEM,
    child,
    corpus_mails,
    fast_import,
    message_ids,
    replay,
)

SECRET = "bench-signing-secret"
CLIENTS = 20


def build(work: Path, replays: int) -> Path:
    """The ~100k-mail epoch and its ingested database (kept in `work` between runs)."""
    epoch = work / "archive" / "git" / "0.git"
    db = work / "bench.db"
    done = work / "built"
    if done.exists() and db.exists():
        print(f"reusing {db} ({done.read_text().strip()})", flush=True)
        return epoch
    for old in (epoch, db):
        if old.is_dir():
            shutil.rmtree(old)
        elif old.exists():
            old.unlink()
    mails = corpus_mails()
    ids = message_ids(mails)
    t = time.perf_counter()
    total = fast_import(epoch, (replay(raw, when, k, ids) for k in range(replays)
                                for raw, when in mails), new=True)
    print(f"archive: {total} mails built in {time.perf_counter() - t:.0f} s", flush=True)
    env = _env(db)
    wall, rss, out = child([str(REVIEWBOT), "ingest", "--list", "linux-rdma", "--epoch",
                            str(epoch)], env)
    print(f"ingest: {wall:.0f} s, peak RSS {rss:.0f} MB: {out.strip()}", flush=True)
    done.write_text(f"{total} mails\n")
    return epoch


def _env(db: Path) -> dict[str, str]:
    return {**os.environ, "REVIEWBOT_MAINTAINERS": str(MAINTAINERS),
            "REVIEWBOT_POLICIES": str(ROOT / "policies"),
            "REVIEWBOT_DATABASE_URL": f"sqlite:///{db}"}


def _settings(work: Path, epoch: Path) -> Path:
    # The per-user chat limit is set far above what 20 clients can send: this measures
    # latency, and a "slow down" answer would cut the measurement short.
    cfg = work / "serve.toml"
    cfg.write_text(f'[[sources]]\nlist = "linux-rdma"\nepochs = ["{epoch}"]\n'
                   f'[metrics]\nrefresh = 10\n[chat]\nsubsystem = "{SUBSYSTEM}"\n'
                   f'rate_per_minute = 1000000\n[chat.slack.users]\n'
                   + "".join(f'U{n} = "leon@kernel.org"\n' for n in range(CLIENTS))
                   + "[chat.slack]\n")
    return cfg


def pct(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (f"p50 {statistics.median(ordered) * 1000:6.1f} ms, p99 {p99 * 1000:6.1f} ms "
            f"({len(ordered)} requests)")


async def load(n: int, one: Callable[[aiohttp.ClientSession, int], Awaitable[None]],
               seconds: float = 0.0) -> list[float]:
    """`n` requests (at least; going on for `seconds` if that is longer) from CLIENTS
    concurrent clients; each request's latency."""
    samples: list[float] = []
    queue = list(range(n))
    until = time.perf_counter() + seconds
    count = iter(range(n, 10**9))

    async def client(session: aiohttp.ClientSession) -> None:
        while queue or time.perf_counter() < until:
            k = queue.pop() if queue else next(count)
            t = time.perf_counter()
            await one(session, k)
            samples.append(time.perf_counter() - t)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
    return samples


def slack_request(text: str, user: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"user_id": user, "text": text, "team_id": "T1",
                      "trigger_id": f"{user}.{time.time_ns()}",
                      "response_url": "http://127.0.0.1:9/unused"})
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return body.encode(), {"Content-Type": "application/x-www-form-urlencoded",
                           "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


async def measure(url: str, requests: int) -> None:
    async def scrape(s: aiohttp.ClientSession, _: int) -> None:
        async with s.get(url + "/metrics") as r:
            assert r.status == 200
            await r.read()

    async def snapshot_seconds() -> tuple[float, int]:
        async with aiohttp.ClientSession() as s, s.get(url + "/metrics") as r:
            text = await r.text()
        m = re.search(r"^reviewbot_metrics_snapshot_duration_seconds (\S+)$", text, re.M)
        return float(m.group(1)) if m else float("nan"), len(text.splitlines())

    await load(CLIENTS, scrape)  # the first snapshot exists before the clock starts
    started = time.perf_counter()
    samples = await load(requests, scrape, seconds=35)  # spans three snapshots
    took, lines = await snapshot_seconds()
    print(f"1. /metrics, {CLIENTS} concurrent scrapers over {time.perf_counter() - started:.0f}"
          f" s (snapshots every 10 s): {pct(samples)}\n"
          f"   one snapshot took {took:.2f} s off the event loop; {lines} lines served",
          flush=True)

    queue_url = f"{url}/api/v1/subsystems/{quote(SUBSYSTEM)}/queue?limit=50"

    async def api(s: aiohttp.ClientSession, _: int) -> None:
        async with s.get(queue_url) as r:
            assert r.status == 200, await r.text()
            await r.read()

    t = time.perf_counter()
    await load(1, api)
    print(f"   the first queue request (computed, then reused for 5 s): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms", flush=True)
    print(f"2. API queue --subsystem (50 per page), {CLIENTS} clients for 20 s: "
          f"{pct(await load(requests // 2, api, seconds=20))}", flush=True)

    deferred: list[int] = []

    async def slack(s: aiohttp.ClientSession, k: int) -> None:
        body, headers = slack_request("backlog", f"U{k % CLIENTS}")
        async with s.post(url + "/chat/slack", data=body, headers=headers) as r:
            assert r.status == 200, await r.text()
            answer = await r.json()
            if answer["text"].startswith("Working on"):
                deferred.append(k)  # answered in time; the list went to the response_url
            else:
                assert answer["text"].startswith(SUBSYSTEM), answer

    samples = await load(requests // 2, slack, seconds=20)
    print(f"3. Slack /reviewbot backlog, {CLIENTS} users at once for 20 s: {pct(samples)}; "
          f"{len(deferred)} answered \"working on it\" within 2 s and sent the list to the "
          "response_url", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, help="keep the archive and database here")
    ap.add_argument("--replays", type=int, default=12)
    ap.add_argument("--requests", type=int, default=400)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewbot-metrics-"))
    work.mkdir(parents=True, exist_ok=True)
    epoch = build(work, args.replays)
    env = {**_env(work / "bench.db"), "REVIEWBOT_SLACK_SIGNING_SECRET": SECRET}
    proc = subprocess.Popen([str(REVIEWBOT), "--config", str(_settings(work, epoch)), "serve",
                             "--listen", "127.0.0.1:0"], env=env, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"serving HTTP on (\S+)", line)
        if m is None:
            raise RuntimeError(f"serve did not start: {line!r}")
        print(f"serving {work / 'bench.db'} at {m.group(1)}; load average "
              f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
        asyncio.run(measure(m.group(1), args.requests))
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    if args.work is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
