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

import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping

_WORD = re.compile(r"[^\W\d_]+")


def mailmap_aliases(addresses: Mapping[str, str]) -> dict[str, str]:
    """A Mailmap's address table (keys `old` or `Name <old>`) -> {old: new}, lower-case."""
    out: dict[str, str] = {}
    for key, new in addresses.items():
        old = key[key.rfind("<") + 1:].rstrip(">") if "<" in key else key
        if old and new and old.lower() != new.lower():
            out[old.strip().lower()] = new.strip().lower()
    return out


def _name_key(name: str) -> str | None:
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
    base = {k.lower(): v.lower() for k, v in (base or {}).items()}
    want = {a.lower() for a in preferred}
    uses: dict[str, Counter[str]] = {}
    for name, addr in people:
        key = _name_key(name)
        addr = addr.strip().lower()
        if key is None or "@" not in addr:
            continue
        addr = base.get(addr, addr)
        uses.setdefault(key, Counter())[addr] += 1
    out = dict(base)
    for counts in uses.values():
        if len(counts) < 2:
            continue
        listed = sorted(a for a in counts if a in want)
        # Most used, then alphabetical: deterministic whatever the input order.
        canon = listed[0] if len(listed) == 1 else min(counts, key=lambda a: (-counts[a], a))
        for addr in counts:
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
