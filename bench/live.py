"""Benchmark the live core at lore scale (issue 6).

Builds a ~100,000-mail public-inbox epoch by replaying the shared 2025 linux-rdma
corpus 12 times (every Message-ID rewritten per replay, dates shifted by a year
per replay, back to 2014), then measures, with the real MAINTAINERS and the
shipped policies:

  1. the first ingest from scratch, as a process: msg/s and peak RSS (against a
     baseline in this process: `git cat-file` + email's compat32 parser);
  2. 20 new mails appended to the epoch, ingested by a process: wall time;
  3. in a running daemon (in-process Daemon.poll_once with its refresh), one new
     mail at a time: mail committed to the archive -> visible in the queue;
  4. `queue --subsystem`, `series` and `stats`: p50/p99 over 50 calls in-process
     and as a process (against `reviewbot --version` as the process baseline);
  5. database size against the epoch's, in bytes per mail.

Usage: .venv/bin/python bench/live.py [--replays 12] [--calls 50] [--work DIR]
"""

from __future__ import annotations

import argparse
import email.utils
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REVIEWBOT_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "linux-rdma-2025.git"
MAINTAINERS = SHARED / "kernel" / "MAINTAINERS"
REVIEWBOT = Path(sys.executable).parent / "reviewbot"
SUBSYSTEM = "INFINIBAND SUBSYSTEM"
sys.path.insert(0, str(ROOT))

_TOKEN = re.compile(rb"[\w.+=$%~!#&'*/?^`{|}-]+@[\w.-]+")
_DATE = re.compile(rb"^(Date:[ \t]*)(.*(?:\r?\n[ \t].*)*)$", re.MULTILINE | re.IGNORECASE)


def corpus_mails() -> list[tuple[bytes, int]]:
    """(raw, commit time) of every corpus message, oldest first."""
    from tests.corpus import read_corpus

    return [(m.raw, int(m.received.timestamp()) if m.received else 0)
            for m in read_corpus(CORPUS)]


def message_ids(mails: Sequence[tuple[bytes, int]]) -> set[bytes]:
    """Every Message-ID of the corpus (as the project's parser reads it)."""
    from reviewbot.core.mail.parse import MalformedMessage, parse_message

    out: set[bytes] = set()
    for raw, _ in mails:
        try:
            out.add(parse_message(raw).message_id.encode())
        except MalformedMessage:
            continue
    return out


def replay(raw: bytes, when: int, k: int, ids: set[bytes],
           years: int) -> tuple[bytes, int]:
    """The mail as replay `k` has it: its ids (and every id it names) renamed, its dates
    moved by `years`. Replay 0 is the corpus itself."""
    if k == 0:
        return raw, when

    def rename(m: re.Match[bytes]) -> bytes:
        token = m.group(0)
        if token in ids:
            local, _, domain = token.rpartition(b"@")
            return b"%s.r%d@%s" % (local, k, domain)
        return token

    def shift(m: re.Match[bytes]) -> bytes:
        try:
            date = email.utils.parsedate_to_datetime(m.group(2).decode("latin-1").strip())
        except (TypeError, ValueError):
            return m.group(0)
        moved = date + timedelta(days=365 * years)
        return m.group(1) + email.utils.format_datetime(moved).encode()

    head, sep, body = raw.partition(b"\n\n")
    head = _DATE.sub(shift, _TOKEN.sub(rename, head), count=1)
    return head + sep + _TOKEN.sub(rename, body), when + 365 * 86400 * years


def fast_import(git_dir: Path, mails: Iterator[tuple[bytes, int]], *, new: bool) -> int:
    """Append mails to an epoch as public-inbox does (one commit per message, file `m`)."""
    if new:
        subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(git_dir)],
                       check=True)
    proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "fast-import", "--quiet"],
                            stdin=subprocess.PIPE)
    assert proc.stdin is not None
    n = 0
    for raw, when in mails:
        proc.stdin.write(b"commit refs/heads/master\n")
        proc.stdin.write(b"committer list <list@example.org> %d +0000\ndata 1\nm\n" % when)
        if n == 0 and not new:
            proc.stdin.write(b"from refs/heads/master^0\n")
        proc.stdin.write(b"M 100644 inline m\ndata %d\n%s\n" % (len(raw), raw))
        n += 1
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("git fast-import failed")
    return n


# Runs reviewbot's CLI and reports its own peak RSS apart from its children's: `git
# cat-file` maps the epoch's pack, so its RSS grows with the archive (file-backed,
# reclaimable pages), while reviewbot's own must not.
_OWN_RSS = ("import resource, sys\nfrom reviewbot.cli import main\nrc = main(sys.argv[1:])\n"
            "print(f'own-peak-kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', "
            "file=sys.stderr)\nraise SystemExit(rc)\n")


def own_rss(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run reviewbot with `argv`: (wall s, its own peak RSS MB, the process tree's peak
    RSS MB, stdout)."""
    wall, _, out, err = _run([sys.executable, "-c", _OWN_RSS, *argv], env)
    own = re.search(rb"own-peak-kb=(\d+)", err)
    assert own is not None
    tree = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, int(own[1]) / 1024, tree / 1024, out


def child(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a process; (wall seconds, its own peak RSS in MB, stdout)."""
    wall, rss, out, _ = _run(argv, env)
    return wall, rss, out


def _run(argv: Sequence[str], env: dict[str, str]) -> tuple[float, float, str, bytes]:
    """Run a process to its end; (wall seconds, peak RSS in MB as wait4 reports it,
    stdout, stderr). Raises with its stderr if it failed."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(argv), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()  # not communicate(): it would reap the process before wait4
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss / 1024, out.decode(errors="replace"), err


def baseline(git_dir: Path) -> float:
    """msg/s of reading every blob with one `git cat-file --batch` and parsing it with
    email's compat32 parser: the floor any ingest is compared with."""
    started = time.perf_counter()
    listing = subprocess.run(["git", "--git-dir", str(git_dir), "rev-list", "--reverse",
                              "master"], capture_output=True, text=True, check=True).stdout
    commits = listing.split()
    proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    parser = BytesParser(policy=compat32)
    for start in range(0, len(commits), 1000):
        chunk = commits[start:start + 1000]
        proc.stdin.write("".join(f"{c}:m\n" for c in chunk).encode())
        proc.stdin.flush()
        for _ in chunk:
            size = int(proc.stdout.readline().split()[2])
            parser.parsebytes(proc.stdout.read(size))
            proc.stdout.read(1)
    proc.stdin.close()
    proc.wait()
    return len(commits) / (time.perf_counter() - started)


def percentiles(samples: Sequence[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:7.1f} ms, p99 {p99 * 1000:7.1f} ms"


def timed(fn: Callable[[], object], calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replays", type=int, default=12)
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--work", type=Path, help="keep the archive and database here")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewbot-live-"))
    work.mkdir(parents=True, exist_ok=True)
    epoch = work / "archive" / "git" / "0.git"
    db = work / "bench.db"
    # Processes use compiled bytecode, as an installed copy does (pip compiles it): with
    # PYTHONDONTWRITEBYTECODE set (this machine's default), every process would compile
    # reviewbot's ~80 modules again, about 0.14 s of each start-up.
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
           "REVIEWBOT_MAINTAINERS": str(MAINTAINERS),
           "REVIEWBOT_POLICIES": str(ROOT / "policies"), "REVIEWBOT_DATABASE_URL":
           f"sqlite:///{db}"}
    mails = corpus_mails()
    ids = message_ids(mails)
    print(f"corpus: {len(mails)} mails; building {args.replays} replays in {work}", flush=True)
    if epoch.exists():
        shutil.rmtree(epoch)
    if db.exists():
        db.unlink()
    t = time.perf_counter()
    # Oldest first, all in the past: replay k is k years before the corpus (2025), so the
    # archive spans 2014-2025 in filing order, as a long-lived list does.
    total = fast_import(epoch, (replay(raw, when, k, ids, -k)
                                for k in reversed(range(args.replays))
                                for raw, when in mails), new=True)
    print(f"archive: {total} mails, {du(epoch) / 2**20:.0f} MB epoch, built in "
          f"{time.perf_counter() - t:.0f} s", flush=True)

    # 1. the first ingest, from scratch, as a process
    base_rate = baseline(epoch)
    wall, rss, tree, out = own_rss(["ingest", "--list", "linux-rdma", "--epoch", str(epoch)],
                                   env)
    print(f"\n1. first ingest: {total / wall:6.0f} msg/s ({wall:.0f} s), peak RSS {rss:.0f} MB "
          f"(largest process of this bench so far, git included: {tree:.0f} MB); "
          f"baseline cat-file + compat32 {base_rate:.0f} msg/s (ratio "
          f"{total / wall / base_rate:.2f})\n   {out.strip()}", flush=True)
    db_bytes = du(work) - du(work / "archive")
    print(f"5. database {db_bytes / 2**20:.0f} MB = {db_bytes / total:.0f} bytes per mail; "
          f"epoch {du(epoch) / 2**20:.0f} MB = {du(epoch) / total:.0f} bytes per mail "
          f"(ratio {db_bytes / du(epoch):.2f})", flush=True)

    # 2. 20 new mails, ingested by a process
    fresh = [replay(raw, when, args.replays, ids, 1) for raw, when in mails[:60]]
    fast_import(epoch, iter(fresh[:20]), new=False)
    wall, rss, out = child([str(REVIEWBOT), "ingest", "--list", "linux-rdma", "--epoch",
                            str(epoch)], env)
    print(f"\n2. 20 new mails, ingest as a process: {wall:.2f} s, peak RSS {rss:.0f} MB\n"
          f"   {out.strip()}", flush=True)

    # 3. in a running daemon: one mail committed -> visible in the queue
    from reviewbot.adapters.sources.epoch import EpochSource
    from reviewbot.adapters.sql import locks
    from reviewbot.adapters.system.systemd import Notifier
    from reviewbot.config import Settings
    from reviewbot.daemon import Daemon, Poller
    from reviewbot.service.backlog.queries import queue, series_view
    from reviewbot.wiring import build_app

    app = build_app(Settings(), f"sqlite:///{db}", env)
    source = EpochSource("linux-rdma", [epoch])
    poller = Poller("linux-rdma", source, 300)
    daemon = Daemon(store=app.store, pollers=[poller], locks=locks.for_engine(app.engine),
                    notifier=Notifier({}), refresher=app.refresh)
    daemon.poll_once(poller)  # the daemon has caught up before the clock starts
    latencies = []
    for raw, when in fresh[20:40]:
        fast_import(epoch, iter([(raw, when)]), new=False)
        t = time.perf_counter()
        result = daemon.poll_once(poller)
        queue(app.reader, app.ctx, datetime.now(UTC), SUBSYSTEM)
        latencies.append(time.perf_counter() - t)
        assert result.error is None and result.report and result.report.new == 1, result
    source.close()
    print(f"\n3. daemon, one mail committed -> visible in the queue (poll, store, refresh, "
          f"query), 20 mails: {percentiles(latencies)}", flush=True)

    # 4. queries, in-process and as a process
    now = datetime.now(UTC)
    sid = app.reader.find_series("cover.1735817449.git.leon.r5@kernel.org") or \
        "cover.1735817449.git.leon@kernel.org"
    print(f"\n4. queries over {args.calls} calls ({SUBSYSTEM}, series <{sid}>):")
    q = queue(app.reader, app.ctx, now, SUBSYSTEM)
    print(f"   the subsystem: {len(q.entries)} open series shown, figures over "
          f"{q.stats.time_to_first_review.count if q.stats else 0} reviewed series")
    for name, fn in (("queue --subsystem", lambda: queue(app.reader, app.ctx, now, SUBSYSTEM)),
                     ("series", lambda: series_view(app.reader, app.ctx, sid, now)),
                     ("stats", app.reader.stats)):
        print(f"   in-process {name:<18} {percentiles(timed(fn, args.calls))}", flush=True)
    app.engine.dispose()
    version = [child([str(REVIEWBOT), "--version"], env)[0] for _ in range(args.calls)]
    print(f"   process    {'--version (base)':<18} {percentiles(version)}", flush=True)
    for name, argv in (("queue --subsystem", ["queue", "--subsystem", SUBSYSTEM, "--json"]),
                       ("series", ["series", sid, "--json"]),
                       ("stats", ["stats", "--json"])):
        child([str(REVIEWBOT), *argv], env)  # warm-up: writes the bytecode once
        samples = [child([str(REVIEWBOT), *argv], env)[0] for _ in range(args.calls)]
        print(f"   process    {name:<18} {percentiles(samples)} (ratio to --version "
              f"{statistics.median(samples) / statistics.median(version):.1f})", flush=True)
    print(f"\nload average now {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs; "
          f"bench process peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if args.work is None:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
