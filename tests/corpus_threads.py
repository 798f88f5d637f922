"""Cut whole threads out of the shared corpus for tests (read with one git process).

A "thread" here is a connected component of the In-Reply-To/References graph,
which is what lore's t.mbox.gz returns for a message: it includes new
revisions sent In-Reply-To older ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from functools import lru_cache
from pathlib import Path

from tests.corpus import read_corpus

_ID = re.compile(r"<([^<>\s]+)>")


def read_epoch(git_dir: Path) -> list[bytes]:
    """Every message of the epoch in arrival (commit) order."""
    return [m.raw for m in read_corpus(git_dir)]


@dataclass
class CorpusIndex:
    raw: dict[str, bytes] = field(default_factory=dict)  # first copy per Message-ID
    arrival: dict[str, int] = field(default_factory=dict)
    _parent: dict[str, str] = field(default_factory=dict)
    _members: dict[str, list[str]] = field(default_factory=dict)

    def _find(self, x: str) -> str:
        while self._parent.get(x, x) != x:
            x = self._parent[x]
        return x

    def thread(self, message_id: str) -> list[bytes]:
        """The raw messages of the thread holding `message_id`, in arrival order."""
        mids = self._members[self._find(message_id)]
        return [self.raw[m] for m in sorted(mids, key=self.arrival.__getitem__)]

    def thread_ids(self, message_id: str) -> list[str]:
        return sorted(self._members[self._find(message_id)], key=self.arrival.__getitem__)


@lru_cache(maxsize=2)
def load_index(git_dir: Path) -> CorpusIndex:
    idx = CorpusIndex()
    parser = BytesHeaderParser(policy=compat32)
    edges: list[tuple[str, str]] = []
    for n, data in enumerate(read_epoch(git_dir)):
        head = parser.parsebytes(data)
        found = _ID.findall(str(head.get("Message-ID", "")))
        if not found or found[0] in idx.raw:
            continue
        mid = found[0]
        idx.raw[mid] = data
        idx.arrival[mid] = n
        refs = _ID.findall(str(head.get("In-Reply-To", ""))) + _ID.findall(
            " ".join(str(v) for v in head.get_all("References", []))
        )
        edges.extend((mid, r) for r in refs)
    parent = idx._parent
    for a, b in edges:
        ra, rb = idx._find(a), idx._find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    for mid in idx.raw:
        idx._members.setdefault(idx._find(mid), []).append(mid)
    return idx
