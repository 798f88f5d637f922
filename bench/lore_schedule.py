"""Which lore look-back schedule loses nothing, and what it costs.

Replays the shared 2025 corpus' real arrival order (epoch commit times)
against the shipped LoreSource polling every 5 minutes (tests/lore_replay.py:
no server, the HTTP answer comes from an in-memory archive searchable by
received time), once per candidate schedule, and prints per schedule: the
Message-IDs never fetched, messages downloaded per distinct message (the
bandwidth lore pays), requests per poll, and the worst delay between filing
and fetching. Then the smallest single-tier span that loses nothing, for a
few periods. These figures justify DEFAULT_TIERS (adapters/sources/lore_schedule.py).

Usage: .venv/bin/python bench/lore_schedule.py [--corpus PATH] [--interval MINUTES] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reviewbot.adapters.sources.lore import DEFAULT_TIERS, Tier  # noqa: E402
from tests.lore_replay import Arrival, corpus_arrivals, replay  # noqa: E402

CORPUS = Path(os.environ.get("REVIEWBOT_SHARED", ROOT.parent / "shared")) / "corpus" / \
    "linux-rdma-2025.git"
H, D = timedelta(hours=1), timedelta(days=1)

CANDIDATES: list[tuple[str, tuple[Tier, ...]]] = [
    ("none (before: 15-min overlap only)", ()),
    ("1d every 1h", (Tier(H, D),)),
    ("3d every 1d", (Tier(D, 3 * D),)),
    ("7d every 1d", (Tier(D, 7 * D),)),
    ("1d every 1h + 30d every 1d (the issue's example)", (Tier(H, D), Tier(D, 30 * D))),
    ("1d every 6h + 7d every 1d", (Tier(6 * H, D), Tier(D, 7 * D))),
    ("DEFAULT_TIERS: 1d/6h + 7d/1d + 60d/7d", DEFAULT_TIERS),
]


def _label(tiers: tuple[Tier, ...]) -> str:
    return " + ".join(f"{t.name}/{t.every}" for t in tiers) or "none"


def _row(name: str, arrivals: list[Arrival], tiers: tuple[Tier, ...], interval: timedelta) -> None:
    start = time.monotonic()
    r = replay(arrivals, interval=interval, tiers=tiers)
    print(f"| {name} | {len(r.lost)} | {r.served / len(arrivals):.1f} | "
          f"{r.requests / r.polls:.2f} | {r.worst_delay / 3600:.1f} h | "
          f"{time.monotonic() - start:.0f} s |", flush=True)


def _smallest_span(arrivals: list[Arrival], every: timedelta, interval: timedelta) -> timedelta:
    """Bisect (to the hour) the shortest span that, run every `every`, loses nothing."""
    low, high = timedelta(0), 60 * D
    while high - low > H:
        mid = low + (high - low) / 2
        if replay(arrivals, interval=interval, tiers=(Tier(every, mid),)).lost:
            low = mid
        else:
            high = mid
    return high


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--interval", type=float, default=5.0, help="poll interval, minutes")
    ap.add_argument("--quick", action="store_true", help="skip the smallest-span search")
    args = ap.parse_args()
    interval = timedelta(minutes=args.interval)
    arrivals = corpus_arrivals(args.corpus)
    print(f"{len(arrivals)} distinct Message-IDs, polled every {args.interval:g} min\n")
    print("| schedule | lost | downloaded per message | requests per poll | worst delay | run |")
    print("|---|---|---|---|---|---|")
    for name, tiers in CANDIDATES:
        _row(name, arrivals, tiers, interval)
    if not args.quick:
        print("\nsmallest span losing nothing, one tier:")
        for every in (H, 6 * H, D):
            span = _smallest_span(arrivals, every, interval)
            print(f"  every {every}: {span.total_seconds() / 86400:.2f} days")


if __name__ == "__main__":
    main()
