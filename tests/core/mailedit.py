"""Real mails with headers taken out or changed, for the bad-Date tests."""

from __future__ import annotations

import re


def without(raw: bytes, *names: str) -> bytes:
    """`raw` with every header called one of `names` (and its folded lines) removed."""
    head, sep, body = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    out: list[bytes] = []
    skipping = False
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                out.append(line)
            continue
        skipping = any(line.lower().startswith(n.lower().encode() + b":") for n in names)
        if not skipping:
            out.append(line)
    return b"\n".join(out) + sep + body


def with_date(raw: bytes, value: str) -> bytes:
    return re.sub(rb"(?m)^Date:[^\n]*", b"Date: " + value.encode(), raw, count=1)
