"""K: entries: content regexes searched in a patch, with get_maintainer.pl's semantics.

See patchscan for which lines each K: regex is tried on. Every K: regex is tried only
on lines that hold one of its required literals (core.literals); whether a literal
occurs at all is answered per whitespace-separated token, and tokens recur from patch
to patch, so the answer for each token is remembered.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass

from reviewbot.core.maintainers.literals import required_literals
from reviewbot.core.maintainers.patchscan import PatchScan
from reviewbot.core.maintainers.sections import Entry, MaintainersError

_FLAGS_RE = re.compile(r"^\(\?([aiLmsux]+)\)")
_FLAG_BITS = {"i": re.I, "m": re.M, "s": re.S, "x": re.X, "a": re.A, "u": 0, "L": 0}
_TOKEN_MEMO_LIMIT = 1_000_000

LiteralFinder = Callable[[str], Set[str]]
"""Given a lower-cased text, the literals (of those it was built for) occurring in it."""
LiteralFinderFactory = Callable[[Sequence[str]], LiteralFinder]


def _perl_flags(value: str) -> tuple[str, int]:
    # Python 3.11 refuses a global "(?i)" after the "^[+-].*" prefix; a leading one
    # applies to the whole pattern in Perl, so lift it into compile flags.
    m = _FLAGS_RE.match(value)
    if not m:
        return value, 0
    flags = 0
    for c in m.group(1):
        flags |= _FLAG_BITS[c]
    return value[m.end():], flags


@dataclass(frozen=True, slots=True)
class _Keyword:
    tvi: int
    pre: re.Pattern[str]  # one line, before the diff
    post: re.Pattern[str]  # one line, in the diff: "^[+-].*" + value, unparenthesised
    pre_any: re.Pattern[str]  # multiline versions: a superset prefilter over a region
    post_any: re.Pattern[str]
    literals: tuple[str, ...] | None  # one must occur (lower-cased) for any match


class KeywordMatcher:
    """All K: entries of a MAINTAINERS file, ready to search patches.

    `finder` builds the multi-literal search; without one, a pure-Python search by
    whitespace tokens with a memo of tokens already seen is used. An adapter may pass
    a compiled multi-string matcher (Aho-Corasick) instead: same answers, faster.
    """

    def __init__(self, entries: Iterable[Entry],
                 finder: LiteralFinderFactory | None = None) -> None:
        kws: list[_Keyword] = []
        for e in entries:
            value, flags = _perl_flags(e.value)
            flags |= re.X  # get_maintainer.pl matches K: with /x
            try:
                kws.append(_Keyword(
                    e.tvi,
                    re.compile(value, flags),
                    re.compile(r"^[+-].*" + value, flags),
                    re.compile(value, flags | re.M),
                    re.compile(r"^[+-].*" + value, flags | re.M),
                    required_literals(value),
                ))
            except re.error as err:
                raise MaintainersError(f"line {e.line}: bad K: regex {e.value!r}: {err}") from err
        self._keywords = tuple(kws)
        self._literals = sorted({lit for k in kws for lit in k.literals or ()})
        self._clean: set[str] = set()  # tokens holding no literal
        self._dirty: dict[str, frozenset[str]] = {}  # token -> the literals it holds
        self._dirty_tokens: set[str] = set()
        self._find: LiteralFinder = finder(self._literals) if finder else self.present

    def __len__(self) -> int:
        return len(self._keywords)

    def present(self, lowered: str) -> set[str]:
        """The required literals occurring in a lower-cased text (none holds whitespace)."""
        tokens = set(lowered.split())
        # set.difference walks the small side; `-=` would walk all remembered tokens.
        new = tokens.difference(self._clean)
        if new:
            new = new.difference(self._dirty_tokens)
        if new:
            if len(self._clean) > _TOKEN_MEMO_LIMIT:  # bound the memo; it only saves time
                self._clean.clear()
            self._learn(list(new))
        out: set[str] = set()
        for t in tokens & self._dirty_tokens:
            out |= self._dirty[t]
        return out

    def _learn(self, new: list[str]) -> None:
        """Sort new tokens into clean and dirty: one find() pass per literal over them all,
        joined by newlines (a literal holds no whitespace, so it cannot straddle two)."""
        joined = "\n".join(new)
        starts = []
        pos = 0
        for t in new:
            starts.append(pos)
            pos += len(t) + 1
        held: dict[int, set[str]] = {}
        for lit in self._literals:
            at = joined.find(lit)
            while at >= 0:
                held.setdefault(bisect.bisect_right(starts, at) - 1, set()).add(lit)
                at = joined.find(lit, at + 1)
        for i, t in enumerate(new):
            if i in held:
                self._dirty[t] = frozenset(held[i])
                self._dirty_tokens.add(t)
            else:
                self._clean.add(t)

    def match(self, scan: PatchScan) -> list[int]:
        """The @typevalue indexes of the K: entries matching the patch."""
        text, cut, special = scan.text, scan.diff_start, scan.special
        lowered = text.lower()
        # Offsets in `lowered` are those of `text` only when lower() kept the length.
        aligned = len(lowered) == len(text)
        present = self._find(lowered)
        hits = []
        for kw in self._keywords:
            if kw.literals is not None and aligned:
                found = [lit for lit in kw.literals if lit in present]
                if found and _literal_lines(kw, found, text, lowered, cut, special):
                    hits.append(kw.tvi)
            elif (_any_line(kw.pre_any, kw.pre, text, 0, cut, special)
                    or _any_line(kw.post_any, kw.post, text, cut, len(text), special)):
                hits.append(kw.tvi)
        return hits


def _literal_lines(kw: _Keyword, literals: list[str], text: str, lowered: str, cut: int,
                   special: frozenset[int]) -> bool:
    """Try kw only on the lines holding one of its required literals."""
    tried: set[int] = set()
    for lit in literals:
        pos = lowered.find(lit)
        while pos >= 0:
            ls = text.rfind("\n", 0, pos) + 1
            le = text.find("\n", pos)
            le = len(text) if le < 0 else le + 1
            if ls not in tried:
                tried.add(ls)
                if ls not in special and (kw.pre if ls < cut else kw.post).search(text[ls:le]):
                    return True
            pos = lowered.find(lit, le)
    return False


def _any_line(any_re: re.Pattern[str], line_re: re.Pattern[str], text: str, start: int,
              end: int, special: frozenset[int]) -> bool:
    """Does line_re match one whole line (with its newline) of text[start:end]?

    any_re (the same regex in multiline mode over the region) finds every position where
    a one-line match could start, so only those lines are tried one by one.
    """
    pos = start
    while pos < end:
        m = any_re.search(text, pos, end)
        if m is None:
            return False
        ls = text.rfind("\n", 0, m.start()) + 1
        le = text.find("\n", m.start())
        le = len(text) if le < 0 else le + 1
        if ls not in special and line_re.search(text[ls:le]):
            return True
        pos = le
    return False
