"""Benchmark: MAINTAINERS load time and routing throughput, vs. get_maintainer.pl.

Reads every corpus message with a diff once (one `git cat-file --batch`), then prints
- load: parse MAINTAINERS + build the routing index, median of 5 (and from the file,
  read included);
- routing (files + K: keywords, get_maintainer order) in patches/s, median of 3 rounds:
  "cold" builds a fresh index each round (empty path and token memos); "steady" routes
  the later half of the corpus with an index that has routed the earlier half (known
  vocabulary, new patches: the daemon's case); "repeat" routes the same patches again;
- get_maintainer.pl's time per patch, measured here on --gm-patches patches when
  --kernel-tree is given (an extracted linux-source tree), and the speed ratios.
Wall-clock and CPU (process) time are both shown: other load on the machine moves the
wall-clock figures.

    .venv/bin/python bench/route.py [--kernel-tree /tmp/lsrc/linux-source-6.12] [--pure]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reviewbot.adapters.kernel.literal_finder import best_literal_finder
from reviewbot.adapters.kernel.maintainers_file import MaintainersSource
from reviewbot.core.maintainers.recipients import get_maintainer_lines
from reviewbot.core.maintainers.routing import RoutingIndex, route_patches
from reviewbot.core.maintainers.sections import parse_maintainers

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared/corpus/linux-rdma-2025.git"
DEFAULT_MAINTAINERS = ROOT.parent / "shared/kernel/MAINTAINERS"
QUOTED_GM_SECONDS = 0.35  # the figure for get_maintainer.pl per patch


def read_patches(git_dir: Path) -> list[bytes]:
    revs = subprocess.run(["git", f"--git-dir={git_dir}", "rev-list", "--reverse", "master"],
                          check=True, capture_output=True).stdout.split()
    out = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
                         input=b"".join(r + b":m\n" for r in revs), check=True,
                         capture_output=True).stdout
    raws, pos = [], 0
    for _ in revs:
        nl = out.index(b"\n", pos)
        size = int(out[pos:nl].split()[2])
        raw = out[nl + 1:nl + 1 + size]
        pos = nl + 2 + size
        if b"\ndiff --git a/" in raw:
            raws.append(raw)
    return raws


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--maintainers", type=Path, default=DEFAULT_MAINTAINERS)
    ap.add_argument("--kernel-tree", type=Path, help="extracted kernel source with "
                    "scripts/get_maintainer.pl, to time it here")
    ap.add_argument("--gm-patches", type=int, default=10)
    ap.add_argument("--pure", action="store_true", help="K: literals by the core's "
                    "pure-Python token search, not Aho-Corasick (ahocorasick-rs)")
    args = ap.parse_args()

    finder = None if args.pure else best_literal_finder()
    print(f"K: literal search: {'Aho-Corasick (ahocorasick-rs)' if finder else 'pure Python'}")
    raws = read_patches(args.corpus)
    texts = [r.decode("utf-8", errors="replace") for r in raws]
    text = args.maintainers.read_text()
    print(f"corpus: {len(texts)} messages with a diff, mean {sum(map(len, texts)) // len(texts)}"
          f" chars; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    loads = [timed(lambda: RoutingIndex(parse_maintainers(text), literal_finder=finder))
             for _ in range(5)]
    from_file = [timed(lambda: MaintainersSource.from_path(args.maintainers).load())
                 for _ in range(5)]
    print(f"load (parse + index), median of 5: "
          f"{statistics.median(w for w, _ in loads) * 1000:.0f} ms wall, "
          f"{statistics.median(c for _, c in loads) * 1000:.0f} ms CPU; "
          f"from the file: {statistics.median(w for w, _ in from_file) * 1000:.0f} ms wall")

    def fresh() -> RoutingIndex:
        return RoutingIndex(parse_maintainers(text), literal_finder=finder)

    def rounds(fresh_each: bool, with_lines: bool) -> tuple[float, float]:
        walls, cpus = [], []
        index = fresh()
        for _ in range(3):
            if fresh_each:
                index = fresh()

            def run(index: RoutingIndex = index) -> None:
                for t in texts:
                    r = route_patches(index, [t])
                    if with_lines:
                        get_maintainer_lines(r)
            w, c = timed(run)
            walls.append(len(texts) / w)
            cpus.append(len(texts) / c)
        return statistics.median(walls), statistics.median(cpus)

    figures = {}
    for label, fresh_each, lines in (("cold", True, False), ("repeat", False, False),
                                     ("repeat + address list", False, True)):
        w, c = rounds(fresh_each, lines)
        figures[label] = w
        print(f"routing {label:<22} median of 3: {w:7.0f} patches/s wall, {c:7.0f} CPU")
    # Steady state: patches never routed before, by an index that has routed the
    # earlier half of the year (the daemon's situation): vocabulary known, text new.
    half = len(texts) // 2
    steady_w, steady_c = [], []
    for _ in range(3):
        index = fresh()
        for t in texts[:half]:
            route_patches(index, [t])

        def later(index: RoutingIndex = index) -> None:
            for t in texts[half:]:
                route_patches(index, [t])
        w, c = timed(later)
        steady_w.append((len(texts) - half) / w)
        steady_c.append((len(texts) - half) / c)
    figures["steady"] = statistics.median(steady_w)
    print(f"routing {'steady (new patches)':<22} median of 3: {figures['steady']:7.0f} "
          f"patches/s wall, {statistics.median(steady_c):7.0f} CPU")

    gm = None
    if args.kernel_tree:
        took = []
        with tempfile.TemporaryDirectory() as tmp:
            step = max(1, len(raws) // args.gm_patches)
            for i, raw in enumerate(raws[::step][:args.gm_patches]):
                p = Path(tmp) / f"{i}.patch"
                p.write_bytes(raw)
                w, _ = timed(lambda p=p: subprocess.run(
                    ["perl", "scripts/get_maintainer.pl", "--no-git", "--no-git-fallback",
                     "--no-rolestats", str(p)], cwd=args.kernel_tree, check=True,
                    capture_output=True))
                took.append(w)
        gm = statistics.median(took)
        print(f"get_maintainer.pl measured here: {gm:.3f} s/patch (median of {len(took)})")
    for label, seconds in (("quoted 0.35 s", QUOTED_GM_SECONDS), ("measured", gm)):
        if seconds:
            ratios = ", ".join(f"{k} {figures[k] * seconds:,.0f}x"
                               for k in ("cold", "steady", "repeat"))
            print(f"speed ratio vs get_maintainer.pl ({label}), wall clock: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
