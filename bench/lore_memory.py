"""Peak RSS of a first lore poll, against a real public-inbox-httpd serving the corpus.

Builds the server once (tests/pi_server.py: a clone of the shared corpus, a
full public-inbox index, public-inbox-httpd on 127.0.0.1), then runs each
measurement in a fresh subprocess so ru_maxrss is that poll's own peak:

  whole year   no `since`: one search whose single answer holds all 8,459 mails
  December     `since` 2025-12-01: a small answer, for comparison
  ... each either reading the batches only (`source`) or through the ingest
  service into a fresh SQLite store, without the series refresh (`ingest`).

Usage: .venv/bin/python bench/lore_memory.py [--corpus PATH] [--keep DIR]
Set PYTHONPATH to another checkout to measure its LoreSource (e.g. the code
before streaming): the child imports `reviewbot` from there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("REVIEWBOT_SHARED", ROOT.parent / "shared")) / "corpus" / \
    "linux-rdma-2025.git"


def child(url: str, since: str | None, mode: str, db: str) -> None:
    from reviewbot.adapters.sources.lore import LoreSource

    start = time.monotonic()
    source = LoreSource(url, "linux-rdma",
                        since=datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None)
    mails = raw_bytes = 0
    if mode == "ingest":
        from reviewbot.adapters.sql import migrate
        from reviewbot.adapters.sql.store import SqlStore, make_engine
        from reviewbot.service.backlog.ingest import ingest

        engine = make_engine(f"sqlite:///{db}")
        migrate.upgrade(engine)
        mails = ingest(source, SqlStore(engine), list_name="linux-rdma").messages
    else:
        for batch in source.batches(None):
            mails += len(batch.items)
            raw_bytes += sum(len(getattr(m, "raw", b"")) for m in batch.items)
    print(json.dumps({"mails": mails, "raw_mb": raw_bytes / 1e6,
                      "seconds": time.monotonic() - start,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--keep", type=Path, help="build/reuse the server in this directory")
    ap.add_argument("--child", nargs=4, metavar=("URL", "SINCE", "MODE", "DB"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        url, since, mode, db = args.child
        child(url, None if since == "-" else since, mode, db)
        return
    sys.path.insert(0, str(ROOT))
    from tests.pi_server import PublicInboxServer

    work = args.keep or Path(tempfile.mkdtemp(prefix="lore-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    server = PublicInboxServer(args.corpus, work)
    built = time.monotonic()
    server.start()
    print(f"public-inbox-httpd on {server.base_url} ({time.monotonic() - built:.0f} s to start)")
    print("| poll | mode | mails | answer MB | peak RSS | time |")
    print("|---|---|---|---|---|---|")
    try:
        for label, since in (("whole year, one answer", "-"), ("since 2025-12-01", "2025-12-01")):
            for mode in ("source", "ingest"):
                with tempfile.TemporaryDirectory() as tmp:
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", server.base_url, since, mode,
                         str(Path(tmp) / "bench.db")],
                        capture_output=True, text=True, check=True, env=dict(os.environ))
                r = json.loads(out.stdout.strip().splitlines()[-1])
                size = f"{r['raw_mb']:.0f}" if mode == "source" else "-"
                print(f"| {label} | {mode} | {r['mails']} | {size} | {r['rss_mb']:.0f} MB | "
                      f"{r['seconds']:.1f} s |", flush=True)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
