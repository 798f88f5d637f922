"""Benchmark: ingest the whole shared corpus from its epoch into a fresh SQLite DB.

Each run is a fresh subprocess (so ru_maxrss is that run's peak RSS):
  baseline  read the same messages with one `git cat-file --batch` and parse
            each with email.parser.BytesParser(policy=compat32)
  ingest    EpochSource -> parse -> SqlStore (one transaction per batch, thread
            components linked) -> refresh (every series assembled, routed with
            the real MAINTAINERS and the shipped policies, its standing stored),
            into a fresh SQLite file in a tmp dir
Repeats each 3 times (--repeat) and prints medians and the ratio.
Usage: .venv/bin/python bench/ingest.py [--corpus PATH] [--repeat N] [--raw-codec zlib]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("REVIEWBOT_SHARED", ROOT.parent / "shared")) / "corpus" / \
    "linux-rdma-2025.git"
MAINTAINERS = Path(os.environ.get("REVIEWBOT_SHARED", ROOT.parent / "shared")) / "kernel" / \
    "MAINTAINERS"
TARGET_RATE = 3000.0
TARGET_RSS_MB = 250.0


def _context() -> object:
    """The backlog context an installation has: shipped policies, real MAINTAINERS."""
    from reviewbot.adapters.kernel.maintainers_file import LazyMaintainers, MaintainersSource
    from reviewbot.adapters.kernel.policy_files import load_policies
    from reviewbot.service.backlog.context import BacklogContext

    return BacklogContext(load_policies(ROOT / "policies"),
                          LazyMaintainers(MaintainersSource.from_path(MAINTAINERS)))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _cpu() -> float:
    """CPU seconds of this process and its finished children (git): robust to a busy box."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def baseline(corpus: Path) -> dict[str, float]:
    cpu0 = _cpu()
    started = time.perf_counter()
    commits = subprocess.run(["git", "--git-dir", str(corpus), "rev-list", "--reverse", "master"],
                             capture_output=True, text=True, check=True).stdout.split()
    proc = subprocess.Popen(["git", "--git-dir", str(corpus), "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    stdin = proc.stdin

    def feed() -> None:
        stdin.write("".join(f"{c}:m\n" for c in commits).encode())
        stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    parser = BytesParser(policy=compat32)
    n = 0
    for _ in commits:
        size = int(proc.stdout.readline().split()[2])
        parser.parsebytes(proc.stdout.read(size))
        proc.stdout.read(1)
        n += 1
    writer.join()
    proc.wait()
    return {"messages": n, "seconds": time.perf_counter() - started, "cpu": _cpu() - cpu0,
            "rss_mb": _rss_mb()}


def ingest(corpus: Path, raw_codec: str = "zlib") -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from reviewbot.adapters.sources.epoch import EpochSource
    from reviewbot.adapters.sql import migrate as sqlmigrate
    from reviewbot.adapters.sql.series.store import SqlSeriesStore
    from reviewbot.adapters.sql.store import SqlStore, make_engine
    from reviewbot.service.backlog.ingest import ingest as run_ingest
    from reviewbot.service.backlog.refresh import refresh
    from reviewbot.wiring import parse_pool

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        sqlmigrate.upgrade(engine)  # schema setup is not part of the timed ingest
        store = SqlStore(engine, raw_codec=raw_codec)
        series = SqlSeriesStore(engine)
        ctx = _context()
        refreshed: list[float] = []

        def refresher() -> object:
            t = time.perf_counter()
            report = refresh(series, ctx)  # type: ignore[arg-type]
            refreshed.append(time.perf_counter() - t)
            return report

        cpu0 = _cpu()
        started = time.perf_counter()
        source = EpochSource("linux-rdma", [corpus])
        pool = parse_pool()  # as `reviewbot ingest` does: every core but one parses
        try:
            report = run_ingest(source, store, list_name="linux-rdma",
                                refresher=refresher, pool=pool)  # type: ignore[arg-type]
        finally:
            source.close()
            if pool is not None:
                pool.close()
        seconds = time.perf_counter() - started
        cpu = _cpu() - cpu0
        size = sum(f.stat().st_size for f in Path(tmp).iterdir())
        engine.dispose()
    return {"messages": report.messages, "new": report.new, "duplicates": report.duplicates,
            "quarantined": report.quarantined, "series": report.series or 0,
            "seconds": seconds, "cpu": cpu, "refresh_seconds": sum(refreshed),
            "rss_mb": _rss_mb(), "db_mb": size / 2**20}


def stages(corpus: Path) -> dict[str, float]:
    """CPU seconds per stage, run one after the other in one thread: where the time goes."""
    sys.path.insert(0, str(ROOT))
    import hashlib

    from reviewbot.adapters.sources.epoch import EpochSource
    from reviewbot.adapters.sql import graph
    from reviewbot.adapters.sql import migrate as sqlmigrate
    from reviewbot.adapters.sql.schema.codec import encode_message, pack_raw
    from reviewbot.adapters.sql.series.store import SqlSeriesStore
    from reviewbot.adapters.sql.store import SqlStore, make_engine
    from reviewbot.core.mail.parse import parse_message
    from reviewbot.ports import Parsed, RawMail
    from reviewbot.service.backlog.refresh import refresh

    out: dict[str, float] = {}
    clock = time.process_time
    t = clock()
    with EpochSource("linux-rdma", [corpus]) as src:
        mails = [m for b in src.batches(None) for m in b.items if isinstance(m, RawMail)]
    out["read (python side of cat-file)"] = clock() - t
    t = clock()
    msgs = [parse_message(m.raw, fallback_date=m.received) for m in mails]
    out["parse_message"] = clock() - t
    t = clock()
    shas = [hashlib.sha256(m.raw).hexdigest() for m in mails]
    out["sha256"] = clock() - t
    t = clock()
    for m in mails:
        pack_raw(m.raw, "zlib")
    out["zlib of raw (not for epoch mail)"] = clock() - t
    t = clock()
    for msg in msgs:
        encode_message(msg)
    out["compressed JSON of Message"] = clock() - t
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        sqlmigrate.upgrade(engine)
        store = SqlStore(engine)
        parsed = [Parsed(m, msg, sha) for m, msg, sha in zip(mails, msgs, shas, strict=True)]
        t = clock()
        for i in range(0, len(parsed), 500):
            store.store_batch(list_name="l", source_key="k", cursor=str(i),
                              parsed=parsed[i:i + 500], rejected=[], removals=[])
        out["store_batch (SQLite, with components)"] = clock() - t
        series, ctx = SqlSeriesStore(engine), _context()
        t = clock()
        refresh(series, ctx)  # type: ignore[arg-type]
        out["refresh (assemble, route, standing, save)"] = clock() - t
        with engine.begin() as conn:
            graph.touch_all(conn)
        t = clock()
        refresh(series, ctx)  # type: ignore[arg-type]
        out["refresh again, all dirty (routing reused)"] = clock() - t
        engine.dispose()
    return out


def _child(kind: str, corpus: Path, raw_codec: str = "zlib") -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--one", kind, "--corpus", str(corpus),
                          "--raw-codec", raw_codec], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--raw-codec", choices=["identity", "zlib"], default="zlib",
                    help="how the store keeps raw mail (SqlStore raw_codec)")
    ap.add_argument("--one", choices=["baseline", "ingest", "stages"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        if args.one == "ingest":
            print(json.dumps(ingest(args.corpus, args.raw_codec)))
        else:
            print(json.dumps((baseline if args.one == "baseline" else stages)(args.corpus)))
        return 0
    if not (args.corpus / "HEAD").exists():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 1
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "ingest": []}
    for i in range(args.repeat):
        for kind in runs:
            r = _child(kind, args.corpus, args.raw_codec)
            runs[kind].append(r)
            rate = r["messages"] / r["seconds"]
            print(f"run {i + 1} {kind:<8} {r['messages']:.0f} msgs {r['seconds']:6.2f} s "
                  f"(cpu {r['cpu']:5.2f} s) {rate:7.0f} msg/s  peak RSS {r['rss_mb']:6.1f} MB",
                  flush=True)

    def med(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    base_rate = med("baseline", "messages") / med("baseline", "seconds")
    ing_rate = med("ingest", "messages") / med("ingest", "seconds")
    last = runs["ingest"][-1]
    print(f"\nmedians over {args.repeat} runs")
    print(f"  baseline (cat-file + BytesParser compat32): {base_rate:7.0f} msg/s, "
          f"{med('baseline', 'seconds'):.2f} s, peak RSS {med('baseline', 'rss_mb'):.1f} MB")
    print(f"  ingest (epoch -> parse -> SQLite -> refresh, raw_codec={args.raw_codec}): "
          f"{ing_rate:.0f} msg/s, "
          f"{med('ingest', 'seconds'):.2f} s, peak RSS {med('ingest', 'rss_mb'):.1f} MB")
    print(f"  ingest / baseline throughput ratio: {ing_rate / base_rate:.2f} (wall), "
          f"{med('baseline', 'cpu') / med('ingest', 'cpu'):.2f} (by CPU seconds)")
    print(f"  CPU seconds: baseline {med('baseline', 'cpu'):.2f}, ingest {med('ingest', 'cpu'):.2f}"
          f" -> {med('ingest', 'messages') / med('ingest', 'cpu'):.0f} msg per CPU-second; "
          f"load average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"  of which refresh: {med('ingest', 'refresh_seconds'):.2f} s")
    print(f"  result: {last['new']:.0f} new, {last['duplicates']:.0f} duplicates, "
          f"{last['quarantined']:.0f} quarantined, {last['series']:.0f} series, "
          f"database {last['db_mb']:.1f} MB")
    print("  CPU seconds by stage (sequential, one thread):")
    for name, seconds in _child("stages", args.corpus).items():
        print(f"    {name:<40} {seconds:5.2f}")
    ok = ing_rate >= TARGET_RATE and med("ingest", "rss_mb") < TARGET_RSS_MB
    print(f"  target >= {TARGET_RATE:.0f} msg/s and < {TARGET_RSS_MB:.0f} MB: "
          f"{'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
