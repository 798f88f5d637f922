"""Threading: which postings form one series, and where each reply hangs.

Pure and order-free: every decision depends only on the set of messages
(union-find edges come from each message's own headers, and every tie is
broken by (date, Message-ID)), so any arrival order gives the same groups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta

from reviewbot.core.model import Message, MessageId, MessageKind

# Patchwork's window for pairing unthreaded patches of one sender.
UNTHREADED_WINDOW = timedelta(minutes=20)


def is_posting(msg: Message) -> bool:
    """A patch or cover letter as its author sent it (not a reply, not a pull)."""
    if msg.kind not in (MessageKind.PATCH, MessageKind.COVER):
        return False
    subj = msg.subject
    return not (subj.is_reply or subj.is_forward or subj.is_pull)


def slot(msg: Message) -> int:
    """Position in the series: 0 for a cover letter, 1 for a lone patch."""
    if msg.kind is MessageKind.COVER:
        return 0
    return msg.subject.counter if msg.subject.counter is not None else 1


def total(msg: Message) -> int:
    """N of n/N; `[PATCH 6/5]` counts as 6, a lone patch as 1."""
    n = msg.subject.total or 1
    return max(n, slot(msg))


def declared_total(msg: Message) -> int:
    """N as written in the subject (what the sender's tooling stamped on every part)."""
    return msg.subject.total or 1


def order_key(msg: Message) -> tuple[datetime, str]:
    """Deterministic tie-break: Date: first, Message-ID second."""
    return (msg.date, msg.message_id)


def nearest_refs(msg: Message) -> Iterator[MessageId]:
    """Ancestors nearest first: In-Reply-To, then References newest first."""
    seen: set[MessageId] = {msg.message_id}
    chain = ((msg.in_reply_to,) if msg.in_reply_to else ()) + tuple(reversed(msg.references))
    for ref in chain:
        if ref not in seen:
            seen.add(ref)
            yield ref


def thread_root(msg: Message) -> MessageId | None:
    if msg.references:
        return msg.references[0]
    return msg.in_reply_to


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:  # path compression
            nxt = parent.get(x, x)
            parent[x] = root
            x = nxt
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller name wins so the result never depends on call order.
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo


def _compatible(child: Message, parent: Message) -> bool:
    """Can `child` sit in the same series as the posting it replies to?"""
    if declared_total(child) != declared_total(parent):
        return False
    if child.from_email != parent.from_email:  # someone else's patch in the thread
        return False
    if slot(parent) >= slot(child):  # covers and 1/N are never below another posting
        return False
    cl, pl = child.subject.version_label, parent.subject.version_label
    # b4 too: an unversioned patch under a versioned cover letter takes its version.
    return cl == pl or (cl == "1" and parent.kind is MessageKind.COVER)


def _has_no_threading(msg: Message) -> bool:
    return msg.in_reply_to is None and not msg.references


def group_postings(postings: Mapping[MessageId, Message]) -> list[list[Message]]:
    """Split postings into series: each group holds at most one message per slot.

    1. Threading: a patch joins the nearest posting up its reference chain when
       that one is compatible (same version and total, lower slot); an
       incompatible posting (an older version, another series) makes it a root,
       so a new series sent In-Reply-To an old thread stays a new series.
    2. Otherwise (no ancestor posting is present, as in a cross-posted series
       of which this list got only some patches, or the nearest one is of
       another version or total), patches sharing a thread root, sender,
       version and total are grouped: siblings of a v2 sent below v1, or a 1/2 and 2/2
       sent below an unrelated single patch.
    3. Unthreaded postings of one sender, version and total within 20 minutes
       are merged, as Patchwork does.
    """
    uf = _UnionFind()
    for msg in postings.values():
        uf.find(msg.message_id)
        if msg.kind is MessageKind.COVER:
            continue
        joined = False
        for ref in nearest_refs(msg):
            anc = postings.get(ref)
            if anc is None:
                continue  # absent, or a reply: look further up
            if _compatible(msg, anc):
                uf.union(msg.message_id, anc.message_id)
                joined = True
            break
        root = thread_root(msg)
        if not joined and root is not None:
            label = msg.subject.version_label
            key = f"{root}\0{label}\0{declared_total(msg)}\0{msg.from_email}"
            uf.union(msg.message_id, "\0virtual\0" + key)

    clusters: dict[str, list[Message]] = defaultdict(list)
    for msg in postings.values():
        clusters[uf.find(msg.message_id)].append(msg)

    groups: list[list[Message]] = []
    for members in clusters.values():
        groups.extend(_split_slot_collisions(members))
    return _merge_unthreaded(groups)


def _split_slot_collisions(members: list[Message]) -> list[list[Message]]:
    """Keep the earliest posting per slot; later duplicates become series of their own."""
    members = sorted(members, key=order_key)
    kept: dict[int, Message] = {}
    evicted: list[list[Message]] = []
    for msg in members:
        if slot(msg) in kept:
            evicted.append([msg])
        else:
            kept[slot(msg)] = msg
    return [list(kept.values()), *evicted]


def _merge_unthreaded(groups: list[list[Message]]) -> list[list[Message]]:
    buckets: dict[tuple[str, str, int], list[list[Message]]] = defaultdict(list)
    out: list[list[Message]] = []
    for group in groups:
        head = group[0]
        if declared_total(head) > 1 and all(_has_no_threading(m) for m in group):
            key = (head.from_email, head.subject.version_label, declared_total(head))
            buckets[key].append(group)
        else:
            out.append(group)
    for bucket in buckets.values():
        bucket.sort(key=lambda g: min(order_key(m) for m in g))
        current: list[Message] = []
        for group in bucket:
            slots = {slot(m) for m in current}
            last = max((m.date for m in current), default=None)
            first = min(m.date for m in group)
            near = last is not None and first - last <= UNTHREADED_WINDOW
            if near and not slots & {slot(m) for m in group}:
                current.extend(group)
            else:
                if current:
                    out.append(current)
                current = list(group)
        if current:
            out.append(current)
    return out


def attach_replies(
    by_id: Mapping[MessageId, Message], anchors: Mapping[MessageId, object]
) -> dict[MessageId, MessageId]:
    """Map every non-anchor message to the nearest anchor up its reference chain.

    Anchors are the series' postings. A reply whose direct parent is absent
    still finds its patch through References; a reply to a known reply
    follows that reply's own chain.
    """
    memo: dict[MessageId, MessageId | None] = {}

    def resolve(mid: MessageId, depth: int) -> MessageId | None:
        if mid in anchors:
            return mid
        if mid in memo:
            return memo[mid]
        memo[mid] = None  # cycle guard
        found: MessageId | None = None
        msg = by_id.get(mid)
        if msg is not None and depth < 200:
            for ref in nearest_refs(msg):
                if ref in anchors:
                    found = ref
                    break
                if ref in by_id:
                    found = resolve(ref, depth + 1)
                    if found is not None:
                        break
        memo[mid] = found
        return found

    out: dict[MessageId, MessageId] = {}
    for mid in by_id:
        if mid in anchors:
            continue
        target = resolve(mid, 0)
        if target is not None:
            out[mid] = target
    return out
