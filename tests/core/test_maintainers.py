"""MAINTAINERS parsing and file routing, with get_maintainer.pl's semantics."""

from __future__ import annotations

import pytest

from reviewbot.core.maintainers.routing import (
    RoutingIndex,
    expected_taker,
    glob_to_regex,
    pattern_depth,
    route,
)
from reviewbot.core.maintainers.sections import MaintainersError, parse_maintainers

SAMPLE = """\
List of maintainers
===================

\tM: *Mail* patches to: FullName <address@domain>
\tF: drivers/net/\tall files in and below drivers/net

ALPHA DRIVER
M:\tAlice Alpha <alice@example.org>
R:\tRita Reviewer <rita@example.org>
L:\talpha@lists.example.org
S:\tMaintained
T:\tgit git://example.org/alpha.git
F:\tdrivers/alpha/
X:\tdrivers/alpha/legacy/

ALPHA CORE
M:\tCarl Core <carl@example.org>
L:\tsubs@lists.example.org (subscribers-only)
L:\tmod@lists.example.org (moderated for non-subscribers)
S:\tSupported
F:\tdrivers/alpha/core/
F:\tinclude/linux/alpha*.h

GLOB SECTION
M:\tGina Glob <gina@example.org>
S:\tOdd Fixes
F:\tdrivers/*/gamma.c
F:\tDocumentation/*/beta

REGEX SECTION
M:\tNora N <nora@example.org>
S:\tMaintained
N:\t[^a-z]tegra

KEYWORD SECTION
M:\tKim K <kim@example.org>
S:\tMaintained
K:\t\\bfrobnicate\\b
K:\t(?i)widget
K:\talpha_probe|beta_probe

PLAIN FILE
M:\tPat Plain <pat@example.org>
S:\tMaintained
F:\tscripts/tool.py
F:\tarch/x86/Kconfig
F:\tdrivers/delta

LAST PATTERN WINS
M:\tLou Last <lou@example.org>
S:\tMaintained
F:\tnet/
F:\tnet/x/y/

THE REST
M:\tLinus Torvalds <torvalds@linux-foundation.org>
L:\tlinux-kernel@vger.kernel.org
S:\tBuried alive in reporters
F:\t*
F:\t*/
"""


@pytest.fixture(scope="module")
def index() -> RoutingIndex:
    return RoutingIndex(parse_maintainers(SAMPLE))


def names(index: RoutingIndex, path: str) -> list[tuple[str, int]]:
    return [(index.sections[sid].name, depth) for sid, depth in index.file_sections(path)]


def test_sections_are_runs_of_entries_named_by_the_line_before() -> None:
    """Indented preamble lines are text, not entries; each run gets the name above it."""
    m = parse_maintainers(SAMPLE)
    assert [s.name for s in m.sections] == [
        "ALPHA DRIVER", "ALPHA CORE", "GLOB SECTION", "REGEX SECTION", "KEYWORD SECTION",
        "PLAIN FILE", "LAST PATTERN WINS", "THE REST"]
    alpha = m.by_name("ALPHA DRIVER")
    assert alpha.maintainers == ("Alice Alpha <alice@example.org>",)
    assert alpha.reviewers == ("Rita Reviewer <rita@example.org>",)
    assert alpha.trees == ("git git://example.org/alpha.git",)
    assert alpha.status == "Maintained"
    assert alpha.line == 7
    assert m.by_name("ALPHA CORE").lists == ("subs@lists.example.org", "mod@lists.example.org")


def test_a_blank_line_does_not_end_a_section() -> None:
    """get_maintainer.pl skips blank lines, so entries after one still belong above."""
    m = parse_maintainers("ONE\nM:\ta <a@x>\n\nF:\tfoo/\nTWO\nF:\tbar/\n")
    assert m.by_name("ONE").files == ("foo/",)
    assert m.by_name("TWO").files == ("bar/",)


def test_text_without_entries_is_refused() -> None:
    """A file with no `X: value` line at all is not MAINTAINERS."""
    with pytest.raises(MaintainersError, match="no MAINTAINERS sections"):
        parse_maintainers("just some text\n\nand more\n")


def test_glob_conversion_and_depth_follow_get_maintainer() -> None:
    """`.` is literal, `*` is `.*`, `?` is `.`; depth counts `/`, +1 for a non-directory."""
    assert glob_to_regex("drivers/*/foo?.c") == r"drivers/.*/foo.\.c"
    assert pattern_depth("drivers/net/") == 2
    assert pattern_depth(r"drivers/net/foo\.c") == 3
    assert pattern_depth(".*/") == -1


def test_directory_pattern_matches_everything_below(index: RoutingIndex) -> None:
    """A trailing `/` covers all depths; deeper sections come first."""
    assert names(index, "drivers/alpha/core/x/y.c") == [
        ("ALPHA CORE", 3), ("ALPHA DRIVER", 2), ("THE REST", -1)]


def test_exclusion_drops_the_section_for_that_file(index: RoutingIndex) -> None:
    """X: is tested first and removes only its own section."""
    assert names(index, "drivers/alpha/legacy/old.c") == [("THE REST", -1)]


def test_star_stays_within_one_level(index: RoutingIndex) -> None:
    """Without a trailing `/`, the value must have as many `/` as the path."""
    assert ("GLOB SECTION", 3) in names(index, "drivers/zeta/gamma.c")
    assert ("GLOB SECTION", 3) not in names(index, "drivers/zeta/sub/gamma.c")
    assert ("ALPHA CORE", 3) in names(index, "include/linux/alpha_regs.h")
    assert ("ALPHA CORE", 3) not in names(index, "include/linux/alpha/regs.h")


def test_plain_value_is_a_prefix_at_the_same_depth(index: RoutingIndex) -> None:
    """get_maintainer.pl anchors only the start: arch/x86/Kconfig also covers Kconfig.cpu."""
    assert ("PLAIN FILE", 3) in names(index, "arch/x86/Kconfig.cpu")
    assert ("PLAIN FILE", 2) in names(index, "scripts/tool.py")
    assert ("PLAIN FILE", 2) not in names(index, "scripts/toolpy")


def test_plain_value_without_a_dot_is_taken_as_a_directory(index: RoutingIndex) -> None:
    """Without a tree to ask, drivers/delta covers drivers/delta/x.c like drivers/delta/."""
    assert ("PLAIN FILE", 2) in names(index, "drivers/delta/x.c")


def test_the_tree_decides_what_is_a_directory() -> None:
    """Given the tree's directories, a plain value that is no directory stays a file."""
    idx = RoutingIndex(parse_maintainers(SAMPLE), directories={"drivers/alpha"})
    assert [idx.sections[s].name for s, _ in idx.file_sections("drivers/delta/x.c")] == [
        "THE REST"]
    assert "PLAIN FILE" in [idx.sections[s].name for s, _ in idx.file_sections("drivers/delta")]


def test_n_regex_matches_anywhere_in_the_path_with_depth_zero(index: RoutingIndex) -> None:
    """N: is an unanchored regex; [^a-z]tegra skips 'integrator'."""
    assert ("REGEX SECTION", 0) in names(index, "drivers/gpu/host1x/tegra_x.c")
    assert ("REGEX SECTION", 0) not in names(index, "drivers/gpu/integrator.c")


def test_the_last_matching_pattern_of_a_section_sets_its_depth(index: RoutingIndex) -> None:
    """get_maintainer.pl overwrites the depth per matching line, in file order."""
    assert ("LAST PATTERN WINS", 3) in names(index, "net/x/y/z.c")
    assert ("LAST PATTERN WINS", 1) in names(index, "net/a.c")


def test_the_rest_matches_top_level_and_nested_files(index: RoutingIndex) -> None:
    """`*` takes top-level files and `*/` the rest; files only it claims are unowned.

    Sorted, "Makefile" comes before "drivers/...", so THE REST is seen first here.
    """
    r = route(index, ["Makefile", "fs/x.c", "drivers/alpha/a.c"])
    assert r.unowned == ("Makefile", "fs/x.c")
    assert [m.section.name for m in r.matches] == ["THE REST", "ALPHA DRIVER"]
    assert [m.section.name for m in r.subsystems] == ["ALPHA DRIVER"]


def test_route_lists_sections_per_file_in_sorted_file_order(index: RoutingIndex) -> None:
    """Files are taken sorted; each file's sections most specific first, first seen wins."""
    r = route(index, ["scripts/tool.py", "drivers/alpha/core/c.c"])
    assert r.files == ("drivers/alpha/core/c.c", "scripts/tool.py")
    assert [(m.section.name, m.depth, m.files) for m in r.matches] == [
        ("ALPHA CORE", 3, ("drivers/alpha/core/c.c",)),
        ("ALPHA DRIVER", 2, ("drivers/alpha/core/c.c",)),
        ("THE REST", -1, ("drivers/alpha/core/c.c", "scripts/tool.py")),
        ("PLAIN FILE", 2, ("scripts/tool.py",)),
    ]


def test_expected_taker_votes_by_file_for_sections_with_a_tree(index: RoutingIndex) -> None:
    """Each file votes for its most specific section with a T:; THE REST never takes."""
    r = route(index, ["drivers/alpha/core/c.c", "drivers/alpha/a.c", "scripts/tool.py",
                      "README"])
    taker = expected_taker(index, r)
    assert taker.section is not None and taker.section.name == "ALPHA DRIVER"
    assert taker.votes == (("ALPHA DRIVER", 2), ("PLAIN FILE", 1))
    assert taker.trees == ("git git://example.org/alpha.git",)
    assert taker.unowned == ("README",)


def test_nobody_takes_files_only_the_rest_claims(index: RoutingIndex) -> None:
    """A series of unowned files has no expected taker."""
    taker = expected_taker(index, route(index, ["README"]))
    assert taker.section is None and taker.votes == ()


def test_a_bad_n_regex_is_reported_with_its_line() -> None:
    """A broken N: pattern is refused at load with the MAINTAINERS line number."""
    with pytest.raises(MaintainersError, match="line 3: bad N: regex"):
        RoutingIndex(parse_maintainers("X\nM:\ta <a@x>\nN:\tfoo(\n"))


def test_plain_exclusion_without_a_dot_also_covers_a_directory() -> None:
    """X: net/old (no tree to ask) excludes net/old itself and everything below it."""
    idx = RoutingIndex(parse_maintainers("NET\nM:\ta <a@x>\nF:\tnet/\nX:\tnet/old\n"))
    assert idx.file_sections("net/old/a.c") == ()
    assert idx.file_sections("net/old") == ()
    assert idx.file_sections("net/new.c") == ((0, 1),)
