"""A fast multi-literal search for K: keywords: Aho-Corasick from ahocorasick-rs.

The pure core finds K: required literals by whitespace tokens (see core.keywords);
this adapter answers the same question in one compiled pass over the text, which
makes routing several times faster. Without the package, None: the core's own search.
"""

from __future__ import annotations

from collections.abc import Sequence, Set

from reviewbot.core.maintainers.keywords import LiteralFinder, LiteralFinderFactory


def aho_corasick_finder(literals: Sequence[str]) -> LiteralFinder:
    import ahocorasick_rs

    words = list(literals)
    if not words:
        return lambda _text: frozenset()
    automaton = ahocorasick_rs.AhoCorasick(words)

    def find(lowered: str) -> Set[str]:
        # overlapping=True: every occurrence, so a literal inside another is not hidden.
        return {words[i] for i, _, _ in automaton.find_matches_as_indexes(
            lowered, overlapping=True)}
    return find


def best_literal_finder() -> LiteralFinderFactory | None:
    """The Aho-Corasick finder if ahocorasick-rs is installed, else None."""
    try:
        import ahocorasick_rs  # noqa: F401
    except ImportError:
        return None
    return aho_corasick_finder
