"""What get_maintainer.pl reads from a patch: the file names, and which lines K: sees.

get_maintainer.pl reads a patch (a raw mail is fine) line by line. File names come
from `diff --git`, `+++`/`---`, `rename from/to` and ` mode change` lines. With the
default --keywords, every other line before the first `+++`/`---` line (mail headers,
commit message, diffstat) is searched with each K: regex; after it, only the K: regex
glued behind `^[+-].*` is tried, so removed and added lines count, context does not
(unless a K: value has a top-level `|`, whose later branches then match any line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# The elsif chain of get_maintainer.pl, in its order; [^\S\n] keeps each to one line.
# Searched in "\n" + text so that the search can jump from newline to newline.
_SPECIAL_RE = re.compile(
    r"\n(?:"
    r" mode change [0-7]+ => [0-7]+ (?P<mode>\S+)[^\S\n]*$"
    r"|rename (?:from|to) (?P<rename>\S+)[^\S\n]*$"
    r"|diff --git a/(?P<a>\S+) b/(?P<b>\S+)[^\S\n]*$"
    r"|Fixes:[^\S\n]+(?P<fix>[0-9a-fA-F]{6,40})"
    r"|(?:\+\+\+|---)[^\S\n]+(?P<file>\S+)"
    r"|@@ -\d+,\d+"
    r")",
    re.M,
)


@dataclass(frozen=True, slots=True)
class PatchScan:
    """One patch as get_maintainer.pl sees it."""

    text: str
    files: tuple[str, ...]  # sorted, unique (get_maintainer's sort_and_uniq)
    fixes: tuple[str, ...]  # commit ids from `Fixes:` lines
    diff_start: int  # offset of the first +++/--- line; len(text) when none
    special: frozenset[int]  # offsets of lines consumed above: never keyword-searched


def scan_patch(text: str) -> PatchScan:
    """Find the files a patch touches and where its diff starts."""
    files: list[str] = []
    fixes: list[str] = []
    special: set[int] = set()
    diff_start = len(text)
    for m in _SPECIAL_RE.finditer("\n" + text):
        start = m.start()  # the line's offset in text: the "\n" is one before it
        special.add(start)
        g = m.lastgroup
        if g == "file":
            name = m.group("file")
            slash = name.find("/")
            files.append(name[slash + 1:] if slash >= 0 else name)
            diff_start = min(diff_start, start)
        elif g == "b":
            files += (m.group("a"), m.group("b"))
        elif g == "fix":
            fixes.append(m.group("fix"))
        elif g in ("mode", "rename"):
            files.append(m.group(g))
    return PatchScan(text, tuple(sorted(set(files))), tuple(dict.fromkeys(fixes)),
                     diff_start, frozenset(special))


def merge_scans(scans: Sequence[PatchScan]) -> tuple[str, ...]:
    """The files of a series, as get_maintainer.pl collects them over several patches."""
    return tuple(sorted({f for s in scans for f in s.files}))
