"""Regenerate expected.json: get_maintainer.pl's output for a sample of corpus patches.

Run by hand (not by pytest). Needs the extracted linux-source-6.12 tree, e.g.
    mkdir -p /tmp/lsrc && tar xJf /usr/src/linux-source-6.12.tar.xz -C /tmp/lsrc
    .venv/bin/python tests/data/get_maintainer/generate.py /tmp/lsrc/linux-source-6.12

It keeps only message-ids and get_maintainer.pl's output lines, never patches or kernel
source. The sample is deterministic: stratified by subject prefix, seed 2025. It also
rewrites `mailmap`: the few lines of the tree's .mailmap that change an address of
MAINTAINERS (get_maintainer.pl maps every output address through .mailmap).
"""

from __future__ import annotations

import email.parser
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2].parent / "shared" / "corpus" / "linux-rdma-2025.git"
QUOTAS = {"rdma": 90, "mlx5": 60, "net": 60, "misc": 60}
ARGS = ["--no-git", "--no-git-fallback", "--no-rolestats"]


def corpus_messages(git_dir: Path) -> list[tuple[str, bytes]]:
    """(commit, raw message) for every commit, oldest first, one cat-file pass."""
    commits = subprocess.run(["git", "--git-dir", str(git_dir), "rev-list", "--reverse",
                              "master"], check=True, capture_output=True, text=True).stdout.split()
    batch = subprocess.run(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                           input="".join(f"{c}:m\n" for c in commits).encode(),
                           check=True, capture_output=True).stdout
    out, pos = [], 0
    for commit in commits:
        nl = batch.index(b"\n", pos)
        size = int(batch[pos:nl].split()[2])
        out.append((commit, batch[nl + 1:nl + 1 + size]))
        pos = nl + 1 + size + 1
    return out


def category(subject: str) -> str:
    s = subject.lower()
    if "mlx5" in s:
        return "mlx5"
    if re.search(r"\b(rdma|ib/|infiniband|ib_|rxe|siw|irdma|bnxt_re|mana_ib|hns|efa|erdma)", s):
        return "rdma"
    if re.search(r"\bnet\b|net-next|\bnet/|netdev|ethernet|mana", s):
        return "net"
    return "misc"


def write_mailmap(tree: Path) -> None:
    from reviewbot.core.maintainers.recipients import format_email, parse_email, parse_mailmap
    from reviewbot.core.maintainers.sections import parse_maintainers

    values = set()
    for sec in parse_maintainers((tree / "MAINTAINERS").read_text()).sections:
        for e in sec.entries:
            if e.letter in "MR":
                values.add(format_email(*parse_email(e.value)))
            elif e.letter == "L" and "@" in e.value.split()[0]:
                values.add(e.value.split()[0])
    keep = [line for line in (tree / ".mailmap").read_text().splitlines(keepends=True)
            if any(parse_mailmap(line).canonical(v) != v for v in values)]
    header = ("# The lines of Linux 6.12's .mailmap (Debian linux-source-6.12, 6.12.117) that "
              "change\n# an M:/R:/L: address of its MAINTAINERS: get_maintainer.pl passes "
              "every address of\n# its output through .mailmap. The rest of the file changes "
              "nothing in routing output.\n")
    (HERE / "mailmap").write_text(header + "".join(keep))


def main() -> int:
    tree = Path(sys.argv[1])
    parser = email.parser.BytesHeaderParser()
    msgs = corpus_messages(CORPUS)
    mids = Counter()
    cands: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for _commit, raw in msgs:
        hdr = parser.parsebytes(raw)
        mid = (hdr.get("Message-ID") or "").strip().strip("<>")
        mids[mid] += 1
        if b"\ndiff --git a/" not in raw or b"Content-Transfer-Encoding: base64" in raw:
            continue
        cands[category(str(hdr.get("Subject", "")))].append((mid, raw))
    rng = random.Random(2025)
    sample: list[tuple[str, bytes]] = []
    for cat, n in QUOTAS.items():
        pool = [(m, r) for m, r in cands[cat] if mids[m] == 1]
        sample += rng.sample(pool, min(n, len(pool)))
    expected: dict[str, list[str]] = {}
    took = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (mid, raw) in enumerate(sample):
            p = Path(tmp) / f"{i}.patch"
            p.write_bytes(raw)
            t0 = time.perf_counter()
            r = subprocess.run(["perl", "scripts/get_maintainer.pl", *ARGS, str(p)],
                               cwd=tree, capture_output=True, text=True, check=True)
            took.append(time.perf_counter() - t0)
            expected[mid] = r.stdout.splitlines()
    took.sort()
    meta = {"tool": "scripts/get_maintainer.pl 0.26 (linux-source-6.12 6.12.117)",
            "args": ARGS, "patches": len(expected),
            "median_seconds_per_patch": round(took[len(took) // 2], 3)}
    write_mailmap(tree)
    (HERE / "expected.json").write_text(json.dumps({"meta": meta, "expected": expected},
                                                   indent=1, sort_keys=True) + "\n")
    print(meta)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
