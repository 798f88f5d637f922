"""Subject lines -> Subject: prefixes, version, counter, flags. Pure.

Real subjects stack reply markers and bracket groups in any order
("RE: [EXTERNAL] Re: [PATCH][v2] x", "Re: (subset) [PATCH 0/4] x"), so the
parser peels markers and groups off the front until the summary starts.
"""

from __future__ import annotations

import re
from functools import lru_cache

from reviewbot.core.model import Subject

# Reply and forward markers as mail clients in several languages write them.
_REPLY = frozenset({"re", "aw", "sv", "vs", "antw", "odp", "res", "ynt", "回复", "答复", "回覆"})
_FORWARD = frozenset({"fwd", "fw", "tr", "wg", "rv", "转发"})
_MARKER = re.compile(r"([^\s:\[\]()]{1,6})(?:\[\d+\])?\s*[:：]\s*", re.IGNORECASE)
_PAREN_PREFIX = re.compile(r"\((subset|resend)\)\s*", re.IGNORECASE)
_GROUP = re.compile(r"\[([^\[\]]*)\]\s*")
_SPLIT = re.compile(r"[\s,]+")
# Tokens are lower-cased before these run.
_COUNTER = re.compile(r"(?:patch)?(\d{1,4})/(\d{1,4})")
_VERSION = re.compile(r"(?:patch)?v(\d{1,3})(?:\.(\d{1,3}))?\??")
_WS = re.compile(r"\s+")
_PULL_WORDS = frozenset({"pull", "pull-request", "pull_request", "pullrequest"})


@lru_cache(maxsize=16384)
def parse_subject(raw: str) -> Subject:
    """Parse a decoded Subject header (folding whitespace is collapsed).

    Cached: a thread's replies repeat its subject (5,733 distinct subjects
    among the corpus' 8,487 mails), and Subject is immutable.
    """
    text = _WS.sub(" ", raw).strip()
    rest = text
    is_reply = is_forward = False
    tokens: list[str] = []
    while True:
        if rest[:1] == "[":
            g = _GROUP.match(rest)
            if g is None:
                break
            tokens.extend(t for t in _SPLIT.split(g.group(1)) if t)
            rest = rest[g.end() :]
            continue
        m = _MARKER.match(rest)
        if m is not None and m.group(1).lower() in _REPLY:
            is_reply = True
            rest = rest[m.end() :]
            continue
        if m is not None and m.group(1).lower() in _FORWARD:
            is_forward = True
            rest = rest[m.end() :]
            continue
        p = _PAREN_PREFIX.match(rest)
        if p is not None:
            rest = rest[p.end() :]
            if p.group(1).lower() == "resend":
                tokens.append("resend")
            continue
        g = _GROUP.match(rest)
        if g is not None:
            tokens.extend(t for t in _SPLIT.split(g.group(1)) if t)
            rest = rest[g.end() :]
            continue
        break
    return _from_tokens(text, rest.strip(), tokens, is_reply, is_forward)


def _from_tokens(
    text: str, title: str, tokens: list[str], is_reply: bool, is_forward: bool
) -> Subject:
    tokens = _join_x_of_n(tokens)
    tags: list[str] = []
    version = 1
    label = "1"
    counter: int | None = None
    total: int | None = None
    is_patch = is_rfc = is_resend = is_pull = is_autosel = False
    saw_version = False
    prev = ""
    for tok in tokens:
        low = tok.lower().rstrip(":")
        if not low:
            continue
        c = _COUNTER.fullmatch(low) if low[-1].isdigit() else None
        if c is not None and counter is None:
            counter, total = int(c.group(1)), int(c.group(2))
            if low.startswith("patch"):
                is_patch = True
                if "patch" not in tags:
                    tags.append("patch")
            prev = low
            continue
        v = _VERSION.fullmatch(low) if "v" in low else None
        if v is not None and not saw_version:
            saw_version = True
            version = int(v.group(1))
            label = v.group(1) + (f".{v.group(2)}" if v.group(2) is not None else "")
            if low.startswith("patch"):
                is_patch = True
                if "patch" not in tags:
                    tags.append("patch")
            prev = low
            continue
        if low in ("patch", "patches"):
            is_patch = True
        elif low == "rfc":
            is_rfc = True
        elif low == "resend":
            is_resend = True
        elif low == "autosel":
            is_autosel = True
        elif low in _PULL_WORDS:
            is_pull = True
        elif low == "request" and prev == "pull":
            prev = low
            continue  # "[pull request]" reads as one word
        if low not in tags:
            tags.append(low)
        prev = low
    # "[RFC v2 1/3]", "[iwl-next v3 00/24]", "[net-next 2/7]": no PATCH word,
    # but a counter, version or RFC marks them as patch postings all the same.
    if not is_patch and (counter is not None or saw_version or is_rfc) and not is_pull:
        is_patch = True
    return Subject(
        raw=text,
        title=title,
        tags=tuple(tags),
        version=version,
        version_label=label,
        counter=counter,
        total=total,
        is_reply=is_reply,
        is_forward=is_forward,
        is_patch=is_patch,
        is_rfc=is_rfc,
        is_resend=is_resend,
        is_pull=is_pull,
        is_autosel=is_autosel,
    )


def _join_x_of_n(tokens: list[str]) -> list[str]:
    """"[PATCH 2 of 5]" (Mercurial style, patchwork#126) reads as "2/5"."""
    if not any(t.lower() == "of" for t in tokens):
        return tokens
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if (i + 2 < len(tokens) and tokens[i].isdigit() and tokens[i + 1].lower() == "of"
                and tokens[i + 2].isdigit()):
            out.append(f"{tokens[i]}/{tokens[i + 2]}")
            i += 3
            continue
        out.append(tokens[i])
        i += 1
    return out
