"""Literal strings a regex cannot match without: a cheap prefilter for K: regexes.

`str.__contains__` runs at memory speed while a regex search over a 15 kB patch does
not, so each K: regex is tried only when one of its required literals occurs in the
lower-cased patch. The parser is deliberately small and conservative: anything it
does not understand makes it give up (None), which means "always run the regex".
"""

from __future__ import annotations

# Escapes that stand for the character itself. Not "\ ": literals never hold
# whitespace, so that keywords can look them up token by token.
_LITERAL_ESCAPES = set("\\.+*?()[]{}|^$/-,\"'><#&~%@!=:;_")
_QUANT = set("?*+{")


class _GiveUp(Exception):
    pass


def required_literals(pattern: str, verbose: bool = True) -> tuple[str, ...] | None:
    """Lower-cased strings, one of which every match of `pattern` contains, or None."""
    try:
        alts, i = _alternation(pattern, 0, verbose)
    except (_GiveUp, IndexError):
        return None
    if i != len(pattern) or alts is None or not all(alts):
        return None
    return tuple(sorted(set(_minimal(alts))))


def _alternation(p: str, i: int, verbose: bool) -> tuple[list[str] | None, int]:
    out: list[str] | None = []
    while True:
        seq, i = _sequence(p, i, verbose)
        out = None if out is None or seq is None else out + seq
        if i < len(p) and p[i] == "|":
            i += 1
            continue
        return out, i


def _sequence(p: str, i: int, verbose: bool) -> tuple[list[str] | None, int]:
    candidates: list[list[str]] = []
    run = [""]  # the literal text just before i, one string per choice of small class

    def flush() -> None:
        nonlocal run
        if run != [""]:
            candidates.append(sorted({r.lower() for r in run}))
        run = [""]

    while i < len(p) and p[i] not in "|)":
        c = p[i]
        lit: str | None = None
        chars: str | None = None
        sub: list[str] | None = None
        if verbose and c in " \t\n\r\f\v":
            i += 1
            continue
        if verbose and c == "#":
            i = len(p)
            break
        if c == "\\":
            e = p[i + 1]
            i += 2
            if e in _LITERAL_ESCAPES:
                lit = e
        elif c == "[":
            start = i
            i = _skip_class(p, i)
            body = p[start + 1:i - 1]
            if body.isalnum() and len(body) <= 4:  # like [ch] or [57]: expand
                chars = body
        elif c == "(":
            i, sub, zero_width = _group(p, i, verbose)
            if zero_width:
                flush()
                continue
        elif c in _QUANT:
            raise _GiveUp  # a quantifier with nothing before it
        elif c in ".^$":
            i += 1
        else:
            lit = c
            i += 1
        optional, repeated, i = _quantifier(p, i)
        if (lit is not None or chars) and not optional:
            run = [r + x for r in run for x in (lit or chars or "")]
            if repeated or len(run) > 16:
                flush()
        else:
            flush()
            if sub is not None and not optional:
                candidates.append(sub)
    flush()
    if not candidates:
        return None, i
    return max(candidates, key=lambda alts: min(len(a) for a in alts)), i


def _minimal(alts: list[str]) -> list[str]:
    """Drop alternatives that contain another one: finding the shorter is enough."""
    return [a for a in alts if not any(b != a and b in a for b in alts)]


def _quantifier(p: str, i: int) -> tuple[bool, bool, int]:
    """(may be absent, may repeat, index after) for a quantifier at p[i], if any."""
    if i >= len(p) or p[i] not in _QUANT:
        return False, False, i
    c = p[i]
    if c == "{":
        end = p.index("}", i)
        body = p[i + 1:end]
        lo = body.split(",")[0]
        if not lo.isdigit():
            raise _GiveUp
        optional, repeated, i = lo == "0", True, end + 1
    else:
        optional, repeated, i = c in "?*", c in "*+", i + 1
    if i < len(p) and p[i] in "?+":  # lazy or possessive
        i += 1
    return optional, repeated, i


def _skip_class(p: str, i: int) -> int:
    i += 1
    if p[i] == "^":
        i += 1
    if p[i] == "]":
        i += 1
    while p[i] != "]":
        i += 2 if p[i] == "\\" else 1
    return i + 1


def _group(p: str, i: int, verbose: bool) -> tuple[int, list[str] | None, bool]:
    """Parse "(...)" at p[i]: (index after, its required literals, zero width)."""
    i += 1
    zero_width = False
    if p.startswith("?", i):
        if p.startswith(("?=", "?!", "?<=", "?<!"), i):
            zero_width = True
            i += 3 if p[i + 1] == "<" else 2
        elif p.startswith("?P<", i):
            i = p.index(">", i) + 1
        else:
            j = i + 1
            while p[j].isalpha() or p[j] == "-":
                j += 1
            if p[j] == ")":  # "(?i)": flags only, matches nothing
                return j + 1, None, True
            if p[j] != ":":
                raise _GiveUp
            i = j + 1
    alts, i = _alternation(p, i, verbose)
    if p[i] != ")":
        raise _GiveUp
    return i + 1, alts, zero_width
