"""The Aho-Corasick literal finder gives the core's answers, faster."""

from __future__ import annotations

from reviewbot.adapters.kernel.literal_finder import aho_corasick_finder, best_literal_finder
from reviewbot.core.maintainers.keywords import KeywordMatcher
from reviewbot.core.maintainers.sections import parse_maintainers

LITERALS = ["bpf", "clone_args", "kernel_clone_args", "xdp"]


def test_every_literal_is_found_even_inside_another() -> None:
    """Overlapping matches count: kernel_clone_args also holds clone_args."""
    find = aho_corasick_finder(LITERALS)
    assert find("struct kernel_clone_args a; xdp_bpf()") == {
        "kernel_clone_args", "clone_args", "xdp", "bpf"}
    assert find("nothing here") == set()


def test_no_literals_finds_nothing() -> None:
    """A MAINTAINERS without K: entries builds an empty finder."""
    assert aho_corasick_finder([])("bpf") == set()


def test_same_literals_as_the_pure_token_search() -> None:
    """The core's token search and Aho-Corasick agree on a text with tricky tokens."""
    maint = parse_maintainers("A\nM:\ta <a@x>\nK:\t\\bbpf\nK:\tclone_args\nK:\txdp\n")
    entries = [e for s in maint.sections for e in s.entries if e.letter == "K"]
    pure = KeywordMatcher(entries)
    text = "+\tstruct kernel_clone_args *a = xdp_bpf(x);\n-(bpf)\n"
    assert pure.present(text) == aho_corasick_finder(["bpf", "clone_args", "xdp"])(text)
    assert pure.present(text) == {"bpf", "clone_args", "xdp"}


def test_installed_package_is_used() -> None:
    """ahocorasick-rs is a dependency, so the loader picks Aho-Corasick."""
    assert best_literal_finder() is aho_corasick_finder
