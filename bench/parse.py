"""Benchmark: reviewbot.core.mail.parse.parse_message against the email package.

Reads every message of the shared corpus once (one `git cat-file --batch`),
then times three rounds of
  baseline  email.parser.BytesParser(policy=compat32).parsebytes(raw)
  reviewbot parse_message(raw)
alternating between the two every 250 messages (so that load from other
processes hits both alike), and prints messages/s for each (median of the
rounds, by wall clock and by CPU time) and their ratio.

    .venv/bin/python bench/parse.py [--rounds 3] [--corpus PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import gc
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from reviewbot.core.mail.parse import MalformedMessage, parse_message
from reviewbot.core.mail.subject import parse_subject

SHARED = Path(os.environ.get("REVIEWBOT_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DEFAULT_CORPUS = SHARED / "corpus" / "linux-rdma-2025.git"


def read_corpus(git_dir: Path) -> list[bytes]:
    """Every message blob on master, oldest first, via one cat-file process."""
    revs = subprocess.run(
        ["git", f"--git-dir={git_dir}", "rev-list", "--reverse", "master"],
        check=True,
        capture_output=True,
    ).stdout.split()
    batch = subprocess.run(
        ["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
        input=b"".join(r + b":m\n" for r in revs),
        check=True,
        capture_output=True,
    ).stdout
    out: list[bytes] = []
    pos = 0
    while pos < len(batch):
        eol = batch.index(b"\n", pos)
        size = int(batch[pos:eol].split()[2])
        out.append(batch[eol + 1 : eol + 1 + size])
        pos = eol + 1 + size + 1
    return out


def time_both(msgs: list[bytes], chunk: int = 250) -> tuple[list[float], list[float]]:
    """(wall, cpu) seconds for [baseline, reviewbot] over all messages.

    The two alternate every `chunk` messages, so load from other processes on
    a shared machine hits both sides alike instead of skewing whole rounds.
    """
    parser = email.parser.BytesParser(policy=email.policy.compat32)
    parse_subject.cache_clear()  # every round starts cold, like one real ingest
    base = [0.0, 0.0]
    ours = [0.0, 0.0]
    for i in range(0, len(msgs), chunk):
        part = msgs[i : i + chunk]
        t, c = time.perf_counter(), time.process_time()
        for raw in part:
            parser.parsebytes(raw)
        base[0] += time.perf_counter() - t
        base[1] += time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        for raw in part:
            with contextlib.suppress(MalformedMessage):
                parse_message(raw)
        ours[0] += time.perf_counter() - t
        ours[1] += time.process_time() - c
    return base, ours


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = ap.parse_args(argv)
    msgs = read_corpus(args.corpus)
    base: list[list[float]] = []
    ours: list[list[float]] = []
    for _ in range(args.rounds):
        gc.collect()
        b, o = time_both(msgs)
        base.append(b)
        ours.append(o)
    n = len(msgs)
    print(f"messages: {n}")
    # Wall clock is what users see; CPU time is steadier on a shared machine.
    for label, i in (("wall", 0), ("cpu", 1)):
        b = statistics.median(n / r[i] for r in base)
        o = statistics.median(n / r[i] for r in ours)
        print(f"[{label}] email compat32 parse:    {b:>8,.0f} msg/s")
        print(f"[{label}] reviewbot parse_message: {o:>8,.0f} msg/s")
        print(f"[{label}] ratio reviewbot/email:   {o / b:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
