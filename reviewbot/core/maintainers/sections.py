"""The kernel MAINTAINERS file as frozen section objects.

Parsing follows scripts/get_maintainer.pl (Linux 6.12, v0.26) line for line, because
routing must agree with it exactly: a line `X:<ws>value` is an entry, any other
non-blank, non-`#` line is text, and a section is a run of entries named by the text
line just before it. Blank lines do not end a section; only a text line does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ENTRY_RE = re.compile(r"^([A-Z]):\s*(.*)")
_SKIP_RE = re.compile(r"^\s*$|^\s*#")

THE_REST = "THE REST"


class MaintainersError(ValueError):
    """The MAINTAINERS text cannot be used (e.g. it has no sections at all)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One `X: value` line. `tvi` is its index in get_maintainer.pl's @typevalue list,
    which sets the order in which K: matches are reported."""

    letter: str
    value: str
    line: int
    tvi: int


@dataclass(frozen=True, slots=True)
class Section:
    """One MAINTAINERS section, values exactly as written (whitespace-trimmed on the left)."""

    name: str
    index: int  # position among sections, file order
    line: int  # 1-based line number of the name line
    entries: tuple[Entry, ...] = field(repr=False)

    def values(self, letter: str) -> tuple[str, ...]:
        return tuple(e.value for e in self.entries if e.letter == letter)

    @property
    def maintainers(self) -> tuple[str, ...]:
        return self.values("M")

    @property
    def reviewers(self) -> tuple[str, ...]:
        return self.values("R")

    @property
    def lists(self) -> tuple[str, ...]:
        """List addresses without the "(moderated for non-subscribers)" remarks."""
        return tuple(v.split(None, 1)[0] for v in self.values("L") if v.strip())

    @property
    def status(self) -> str | None:
        """The last S: value, as get_maintainer.pl uses it for the role."""
        s = self.values("S")
        return s[-1] if s else None

    @property
    def trees(self) -> tuple[str, ...]:
        return self.values("T")

    @property
    def git_urls(self) -> tuple[str, ...]:
        """The URLs of the `T: git URL [branch]` entries (quilt, hg trees are skipped)."""
        return tuple(parts[1] for parts in (v.split() for v in self.trees)
                     if len(parts) > 1 and parts[0] == "git")

    @property
    def patchwork(self) -> tuple[str, ...]:
        return self.values("Q")

    @property
    def files(self) -> tuple[str, ...]:
        return self.values("F")

    @property
    def excludes(self) -> tuple[str, ...]:
        return self.values("X")

    @property
    def regexes(self) -> tuple[str, ...]:
        return self.values("N")

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.values("K")

    @property
    def is_catch_all(self) -> bool:
        """THE REST matches every file; it is not a subsystem."""
        return self.name == THE_REST

    @property
    def is_maintained(self) -> bool:
        """S: says someone looks after it (get_maintainer's range_is_maintained)."""
        return any(re.search("maintain|support", s, re.I) for s in self.values("S"))


@dataclass(frozen=True, slots=True)
class Maintainers:
    sections: tuple[Section, ...]

    def by_name(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(f"no MAINTAINERS section named {name!r}")


def parse_maintainers(text: str) -> Maintainers:
    """Parse MAINTAINERS text (the whole file) into sections."""
    sections: list[Section] = []
    name: str | None = None
    name_line = 0
    pending: list[Entry] = []
    tvi = 0

    def close() -> None:
        # get_maintainer.pl treats every run of entries as a section, named by the
        # text line before it; a run with no text line before it has no name.
        if pending:
            sections.append(Section(name or "", len(sections), name_line, tuple(pending)))
            pending.clear()

    for lineno, line in enumerate(text.split("\n"), 1):
        m = ENTRY_RE.match(line)
        if m:
            pending.append(Entry(m.group(1), m.group(2), lineno, tvi))
            tvi += 1
        elif not _SKIP_RE.match(line):
            close()
            name, name_line = line, lineno
            tvi += 1
    close()
    if not sections:
        raise MaintainersError("no MAINTAINERS sections found (no 'X: value' lines)")
    return Maintainers(tuple(sections))
