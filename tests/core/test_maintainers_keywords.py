"""What get_maintainer.pl reads from a patch: file names, and the lines K: sees."""

from __future__ import annotations

import pytest

from reviewbot.core.maintainers.literals import required_literals
from reviewbot.core.maintainers.patchscan import scan_patch
from reviewbot.core.maintainers.routing import RoutingIndex, route, route_patches
from reviewbot.core.maintainers.sections import parse_maintainers

MAINT = """\
KEYWORD SECTION
M:\tKim K <kim@example.org>
S:\tMaintained
K:\t\\bfrobnicate\\b

SHOUTY
M:\tWil W <wil@example.org>
S:\tMaintained
K:\t(?i)widget

ALTERNATION
M:\tAl A <al@example.org>
S:\tMaintained
K:\talpha_probe|beta_probe

ANCHORED
M:\tAnn A <ann@example.org>
S:\tMaintained
K:\t^Anchored

THE REST
M:\tLinus Torvalds <torvalds@linux-foundation.org>
L:\tlinux-kernel@vger.kernel.org
S:\tBuried alive in reporters
F:\t*
F:\t*/
"""

HEADER = """\
From: Dev <dev@example.org>
Subject: [PATCH] foo: fix things

Fix things.

Signed-off-by: Dev <dev@example.org>
---
 drivers/foo/foo.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

"""


def diff(*lines: str, path: str = "drivers/foo/foo.c") -> str:
    body = "".join(line + "\n" for line in lines)
    return (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
            f"--- a/{path}\n+++ b/{path}\n@@ -1,3 +1,3 @@\n{body}")


@pytest.fixture(scope="module")
def index() -> RoutingIndex:
    return RoutingIndex(parse_maintainers(MAINT))


def keyword_sections(index: RoutingIndex, text: str) -> list[str]:
    return [m.section.name for m in route_patches(index, [text]).matches if m.keyword]


def test_files_come_from_diff_headers_sorted_and_unique() -> None:
    """diff --git, ---/+++ (first component dropped), renames and mode changes all count."""
    text = ("diff --git a/b/x.c b/b/y.c\nsimilarity index 90%\nrename from b/x.c\n"
            "rename to b/y.c\n--- a/b/x.c\n+++ b/b/y.c\n"
            "diff --git a/z.sh b/z.sh\n mode change 100644 => 100755 z.sh\n"
            "--- /dev/null\n+++ b/new/file.c\nFixes: 0123456789ab (\"x\")\n")
    scan = scan_patch(text)
    assert scan.files == ("b/x.c", "b/y.c", "dev/null", "new/file.c", "z.sh")
    assert scan.fixes == ("0123456789ab",)


def test_text_without_a_diff_has_no_files() -> None:
    """A cover letter or a reply names no files."""
    assert scan_patch("Subject: [PATCH 0/3] cover\n\nHello\n").files == ()


def test_keywords_match_the_commit_message_before_the_diff(index: RoutingIndex) -> None:
    """Before the first ---/+++ line every line is searched, headers included."""
    text = HEADER.replace("Fix things.", "Do not frobnicate twice.") + diff(" ctx")
    assert keyword_sections(index, text) == ["KEYWORD SECTION"]


def test_keywords_in_the_diff_count_only_on_added_or_removed_lines(index: RoutingIndex) -> None:
    """After the diff starts, K: is glued behind ^[+-].*: context lines do not count."""
    assert keyword_sections(index, HEADER + diff(" frobnicate(x);")) == []
    assert keyword_sections(index, HEADER + diff("-frobnicate(x);")) == ["KEYWORD SECTION"]
    assert keyword_sections(index, HEADER + diff("+\tfrobnicate(x);")) == ["KEYWORD SECTION"]


def test_a_top_level_alternation_escapes_the_diff_prefix(index: RoutingIndex) -> None:
    """'^[+-].*alpha_probe|beta_probe': the second branch matches context lines too."""
    assert keyword_sections(index, HEADER + diff(" alpha_probe();")) == []
    assert keyword_sections(index, HEADER + diff(" beta_probe();")) == ["ALTERNATION"]


def test_an_anchored_keyword_cannot_match_inside_the_diff(index: RoutingIndex) -> None:
    """'^[+-].*^Anchored' never matches; before the diff ^ is the line start."""
    assert keyword_sections(index, HEADER + diff("+Anchored")) == []
    assert keyword_sections(index, "Anchored here\n" + HEADER + diff(" x")) == ["ANCHORED"]


def test_leading_case_flag_applies_to_the_whole_keyword(index: RoutingIndex) -> None:
    """A Perl-style leading (?i) works after the ^[+-].* prefix too."""
    assert keyword_sections(index, HEADER + diff("+struct WIDGET w;")) == ["SHOUTY"]


def test_diff_header_lines_are_not_searched(index: RoutingIndex) -> None:
    """File-name lines are consumed as names, so a keyword in a path does not match."""
    text = HEADER + diff("+x", path="drivers/frobnicate/foo.c").replace(
        " drivers/foo/foo.c |", " x |")
    assert keyword_sections(index, text) == []


def test_keyword_sections_come_after_file_sections(index: RoutingIndex) -> None:
    """get_maintainer.pl adds K: sections once all files are done."""
    r = route(index, ["drivers/foo/foo.c"], HEADER + diff("+frobnicate();"))
    assert [(m.section.name, m.keyword) for m in r.matches] == [
        ("THE REST", False), ("KEYWORD SECTION", True)]


def test_required_literals_are_what_every_match_contains() -> None:
    """The prefilter literals: the longest required run, or one per alternative."""
    assert required_literals(r"\bfrobnicate\b") == ("frobnicate",)
    assert required_literals(r"\b(?i:clang|llvm)\b") == ("clang", "llvm")
    assert required_literals(r"fu[57]40") == ("fu540", "fu740")
    assert required_literals(r"(devm_)?gpio_(request|free)") == ("gpio_",)
    assert required_literals(r"phylink\.h|struct\s+phylink|>phylink_") == ("phylink",)


def test_required_literals_give_up_rather_than_guess() -> None:
    """Patterns with no required literal, or beyond the small parser, get None."""
    assert required_literals(r"[a-z]+\d") is None
    assert required_literals(r"a|.*") is None
    assert required_literals(r"(?<name>x)") is None
