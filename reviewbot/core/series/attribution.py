"""Which trailers a patch of a series has earned (domain.md §3). Pure.

A patch's trailers are its own (from its body), then those given in replies
anywhere below it, then those given in replies to the cover letter, which
apply to every patch. Rules:

- a reply contributes only trailers naming its sender (same address, fuzzily,
  or same name), as b4 does without `--sloppy-trailers`: "Reviewed-by: X"
  typed by Y is hearsay, not X's review;
- bots never contribute trailers (their `| Reported-by:` suggestions included);
- a reply's Signed-off-by / Co-developed-by / Cc / Message-ID are not given to
  the patch (they belong to whatever the replier is sending);
- an author's own Reviewed-by/Acked-by (the patch author's or sender's
  address) is left out entirely, so every trailer that remains in
  `trailers` with `kind.is_review` is somebody else's review;
- duplicates (same kind and address, or same kind and value for utility
  trailers) keep their first occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from reviewbot.core.model import Message, Trailer, TrailerKind

_NOT_FROM_REPLIES = frozenset(
    {TrailerKind.SIGNED_OFF_BY, TrailerKind.CO_DEVELOPED_BY, TrailerKind.CC, TrailerKind.MESSAGE_ID}
)
_PLUS_PART = re.compile(r"\+[^@]*@")


def same_address(a: str, b: str) -> bool:
    """Addresses equal after b4's fuzzing: `+tag` dropped, one subdomain level ignored."""
    a, b = a.lower(), b.lower()
    if a == b:
        return True
    if "@" not in a or "@" not in b:
        return False
    a, b = _PLUS_PART.sub("@", a), _PLUS_PART.sub("@", b)
    if a == b:
        return True
    alocal, adom = a.split("@", 1)
    blocal, bdom = b.split("@", 1)
    if alocal != blocal or abs(adom.count(".") - bdom.count(".")) != 1:
        return False
    return adom.endswith("." + bdom) or bdom.endswith("." + adom)


def given_by_sender(trailer: Trailer, reply: Message) -> bool:
    """Does a person trailer in `reply` name the reply's own sender?"""
    if not trailer.kind.is_person:
        return True
    if trailer.email and same_address(trailer.email, reply.from_email):
        return True
    name = trailer.name.strip().lower()
    return bool(name) and name == reply.from_name.strip().lower()


def reply_trailers(reply: Message) -> list[Trailer]:
    """The trailers a reply gives to the message it answers."""
    if reply.is_bot:
        return []
    out = []
    for t in reply.trailers:
        if t.kind in _NOT_FROM_REPLIES or not given_by_sender(t, reply):
            continue
        out.append(t if t.source is not None else replace(t, source=reply.message_id))
    return out


def _key(t: Trailer) -> tuple[str, str]:
    return (t.kind.value, t.email if t.kind.is_person and t.email else t.value.lower())


def is_self_review(t: Trailer, authors: Iterable[str]) -> bool:
    return t.kind.is_review and any(a and same_address(t.email, a) for a in authors)


def merge(*sources: Iterable[Trailer], authors: Iterable[str] = ()) -> tuple[Trailer, ...]:
    """Concatenate trailer lists, dropping duplicates and the author's self-reviews."""
    authors = tuple(authors)
    seen: set[tuple[str, str]] = set()
    out: list[Trailer] = []
    for source in sources:
        for t in source:
            k = _key(t)
            if k in seen or is_self_review(t, authors):
                continue
            seen.add(k)
            out.append(t)
    return tuple(out)
