"""One person, several addresses: the alias map the backlog canonicalises actors with.

Two sources, in order:
- a .mailmap (the kernel's, when configured): `<new> <old>` and `Name <new> <old>` lines;
- the names people sign with: addresses that appear under the same full name
  (at least two words, compared case- and space-insensitively) are one person,
  e.g. "Leon Romanovsky" <leon@kernel.org> and <leonro@nvidia.com>. The canonical
  address is the one MAINTAINERS lists, else the one used most. One-word names
  ("root", "Bot") never merge. Two different people with the same full name would
  be merged (the 2025 linux-rdma corpus has at least one such pair, "Bin Liu"); it only
  matters when both take part in one series, and a mailmap entry wins.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from functools import lru_cache

from reviewbot.core.model import Message

_WORD = re.compile(r"[^\W\d_]+")


def mailmap_aliases(addresses: Mapping[str, str]) -> dict[str, str]:
    """A Mailmap's address table (keys `old` or `Name <old>`) -> {old: new}, lower-case."""
    out: dict[str, str] = {}
    for key, new in addresses.items():
        old = key[key.rfind("<") + 1:].rstrip(">") if "<" in key else key
        if old and new and old.lower() != new.lower():
            out[old.strip().lower()] = new.strip().lower()
    return out


@lru_cache(maxsize=65536)
def name_key(name: str) -> str | None:
    """The comparable form of a full name, or None when it does not say who someone is."""
    # Cached: every refresh keys the same few thousand MAINTAINERS names again.
    # Initials stay in the key ("Gustavo A. R. Silva" is not "Gustavo Silva"), but two
    # real words are needed before a name says who someone is.
    words = _WORD.findall(name.casefold())
    return " ".join(words) if sum(len(w) > 1 for w in words) >= 2 else None


def name_aliases(
    people: Iterable[tuple[str, str]],
    *,
    preferred: Collection[str] = (),
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """(display name, address) pairs -> {address: canonical address} for merged people.

    `base` (a mailmap's aliases) is applied first and kept; `preferred` holds the
    addresses MAINTAINERS lists, which win as canonical.
    """
    uses: Counter[tuple[str, str]] = Counter()
    for name, addr in people:
        key = name_key(name)
        if key is not None:
            uses[(key, addr)] += 1
    return aliases_from_uses(uses, preferred=preferred, base=base)


def aliases_from_uses(
    uses: Mapping[tuple[str, str], int],
    *,
    preferred: Collection[str] = (),
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """As name_aliases, from counted ((name key, address) -> uses) pairs."""
    base = {k.lower(): v.lower() for k, v in (base or {}).items()}
    want = {a.lower() for a in preferred}
    by_name: dict[str, Counter[str]] = {}
    for (key, addr), n in sorted(uses.items()):
        addr = addr.strip().lower()
        if n <= 0 or "@" not in addr:
            continue
        addr = base.get(addr, addr)
        by_name.setdefault(key, Counter())[addr] += n
    out = dict(base)
    for counts in by_name.values():
        if len(counts) < 2:
            continue
        listed = sorted(a for a in counts if a in want)
        # Most used, then alphabetical: deterministic whatever the input order.
        canon = listed[0] if len(listed) == 1 else min(counts, key=lambda a: (-counts[a], a))
        for addr in sorted(counts):
            if addr != canon:
                out.setdefault(addr, canon)
    return {a: _resolve(out, a) for a in out}


def _resolve(aliases: Mapping[str, str], addr: str) -> str:
    """Follow old -> new -> newer, so one lookup gives the final address."""
    seen = {addr}
    while addr in aliases and aliases[addr] not in seen:
        addr = aliases[addr]
        seen.add(addr)
    return addr


def person_uses(messages: Iterable[Message]) -> Counter[tuple[str, str]]:
    """(name key, address) -> uses: each mail's sender and the people its own trailers name."""
    uses: Counter[tuple[str, str]] = Counter()
    for m in messages:
        pairs = [(m.from_name, m.from_email)]
        pairs += [(t.name, t.email) for t in m.trailers if t.kind.is_person and t.email]
        for name, addr in pairs:
            key, addr = name_key(name), addr.strip().lower()
            if key is not None and "@" in addr:
                uses[(key, addr)] += 1
    return uses


def aliases_version(people_version: str, stamp: str) -> str:
    """The version of the alias map computed from the stored people (their version)
    under a backlog context (its stamp): a stored map of another version is stale."""
    return hashlib.sha1(f"{people_version}\0{stamp}".encode(),
                        usedforsecurity=False).hexdigest()
