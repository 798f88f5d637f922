"""Route files and patches to MAINTAINERS sections, as scripts/get_maintainer.pl does.

get_maintainer.pl turns each F:/X: value into a regex (`.` literal, `*` -> `.*`,
`?` -> `.`), adds a trailing `/` when the value names a directory of the kernel tree,
and matches it anchored at the start of the path; a value without a trailing `/`
must also have as many `/` as the path (so `*` stays within one level). A section
with a matching X: is dropped for that file. The match depth is the number of `/` in
the value, plus one when it does not end in `/`, or -1 for a leading `*`; N: matches
count 0. When several F:/N: of one section match, the last one in the file sets the
depth. Each file's sections go out most specific first; K: sections come after all
files. Rather than try ~8,000 regexes per file, literal values are looked up by
directory prefix, and globs are tried only under their literal leading directory.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from reviewbot.core.maintainers.keywords import KeywordMatcher, LiteralFinderFactory
from reviewbot.core.maintainers.patchscan import PatchScan, scan_patch
from reviewbot.core.maintainers.sections import Maintainers, MaintainersError, Section

_MEMO_LIMIT = 200_000
_GLOB_META = re.compile(r"[\\^$*+?{}\[\]|()]")


def glob_to_regex(value: str) -> str:
    """get_maintainer.pl's conversion of an F:/X: value to a regex (in its order)."""
    return value.replace(".", r"\.").replace("*", ".*").replace("?", ".")


def pattern_depth(regex: str) -> int:
    """How specific a converted F: value is (get_maintainer's $value_pd)."""
    if regex.startswith(".*"):
        return -1
    return regex.count("/") + (0 if regex.endswith("/") else 1)


class _Glob:
    """A converted F:/X: value that needs a regex; compiled on first use, since most
    are never tried and compiling all ~1,400 would take most of the load time."""

    __slots__ = ("_regex", "depth", "line", "order", "raw", "rx", "sid", "slashes")

    def __init__(self, rx: str, sid: int, line: int, raw: str) -> None:
        self.rx, self.sid, self.order, self.line, self.raw = rx, sid, line, line, raw
        self.slashes = -1 if rx.endswith("/") else rx.count("/")  # -1: any depth below
        self.depth = pattern_depth(rx)
        self._regex: re.Pattern[str] | None = None

    def matches(self, path: str) -> bool:
        if self._regex is None:
            try:
                self._regex = re.compile(self.rx)
            except re.error as err:
                raise MaintainersError(
                    f"MAINTAINERS line {self.line}: bad pattern {self.raw!r}: {err}") from err
        return (self._regex.match(path) is not None
                and (self.slashes < 0 or path.count("/") == self.slashes))


def _may_be_directory(rx: str) -> bool:
    """Without a tree: get_maintainer.pl's -d can only succeed for a value that has no
    wildcard and no `.` (escaped as `\\.` it names no real directory)."""
    return not rx.endswith("/") and not _GLOB_META.search(rx)


# (section index, line number of the matching F:/N:, depth)
_Hit = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class SectionMatch:
    """A section a patch routes to, and why."""

    section: Section
    depth: int  # most specific match over the files; 0 for N:, -1 for a leading `*`
    files: tuple[str, ...]  # the files it matched (empty when only K: matched)
    keyword: bool  # a K: regex matched the patch content


@dataclass(frozen=True, slots=True)
class RouteResult:
    files: tuple[str, ...]
    matches: tuple[SectionMatch, ...]  # get_maintainer.pl order
    unowned: tuple[str, ...]  # files that only THE REST claims

    @property
    def subsystems(self) -> tuple[SectionMatch, ...]:
        """The matches without THE REST, which is not a subsystem."""
        return tuple(m for m in self.matches if not m.section.is_catch_all)


class RoutingIndex:
    """MAINTAINERS compiled for fast routing. Build once; route many.

    `directories` is the set of directories of the kernel tree the file belongs to
    (paths without a trailing `/`); get_maintainer.pl asks the tree whether a plain
    F: value is a directory. Without it, a plain value whose last component has no
    `.` is taken to be a directory (and a file: both ways match). `literal_finder`:
    see KeywordMatcher.
    """

    def __init__(self, maintainers: Maintainers,
                 directories: Collection[str] | None = None,
                 literal_finder: LiteralFinderFactory | None = None) -> None:
        self.maintainers = maintainers
        self.sections = maintainers.sections
        self._dirs: dict[str, list[_Hit]] = {}  # "a/b/" -> everything under it
        self._prefix: dict[str, list[_Hit]] = {}  # plain file value: prefix, same depth
        self._globs: dict[str, list[_Glob]] = {}  # keyed by literal leading directory
        self._excludes: dict[int, tuple[_Glob, ...]] = {}
        self._memo: dict[str, tuple[tuple[int, int], ...]] = {}
        regexes: list[tuple[re.Pattern[str], int, int]] = []
        for sec in self.sections:
            sid = sec.index
            xs = []
            for e in sec.entries:
                if e.letter in "FX":
                    rx = glob_to_regex(e.value)
                    if directories is not None and not rx.endswith("/") and rx in directories:
                        rx += "/"
                    if e.letter == "X":
                        xs.append(_Glob(rx, sid, e.line, e.value))
                        if directories is None and _may_be_directory(rx):
                            xs.append(_Glob(rx + "/", sid, e.line, e.value))
                    else:
                        self._add_file_pattern(rx, (sid, e.line, pattern_depth(rx)),
                                               directories is None, e.value)
                elif e.letter == "N":
                    try:
                        regexes.append((re.compile(e.value, re.X), sid, e.line))
                    except re.error as err:
                        raise MaintainersError(
                            f"line {e.line}: bad N: regex {e.value!r}: {err}") from err
            if xs:
                self._excludes[sid] = tuple(xs)
        self._regexes = tuple(regexes)
        # One pass of all N: together first: most paths match none of them.
        self._any_regex = re.compile("|".join(f"(?:{r.pattern}\n)" for r, _, _ in regexes),
                                     re.X) if regexes else None
        kws = [(e, s.index) for s in self.sections for e in s.entries if e.letter == "K"]
        self.keywords = KeywordMatcher((e for e, _ in kws), literal_finder)
        self.keyword_sections = {e.tvi: sid for e, sid in kws}

    def _add_file_pattern(self, rx: str, hit: _Hit, guess_dirs: bool, raw: str) -> None:
        literal = rx.replace("\\.", ".")
        if _GLOB_META.search(literal):
            # Keyed by the literal text before the first wildcard: only globs whose
            # literal start the path begins with are ever tried on it.
            first = _GLOB_META.search(raw)
            key = raw[:first.start()] if first else ""
            self._globs.setdefault(key, []).append(_Glob(rx, hit[0], hit[1], raw))
        elif literal.endswith("/"):
            self._dirs.setdefault(literal, []).append(hit)
        else:
            self._prefix.setdefault(literal, []).append(hit)
            if guess_dirs and _may_be_directory(rx):
                self._dirs.setdefault(literal + "/", []).append(hit)

    def file_sections(self, path: str) -> tuple[tuple[int, int], ...]:
        """(section index, depth) for one path, most specific first (ties: file order)."""
        # Patches touch the same files again and again; remember (bounded) answers.
        found = self._memo.get(path)
        if found is None:
            if len(self._memo) > _MEMO_LIMIT:
                self._memo.clear()
            found = self._memo[path] = tuple(self._file_sections(path))
        return found

    def _file_sections(self, path: str) -> list[tuple[int, int]]:
        hits: list[_Hit] = []
        dirs, prefix, globs = self._dirs, self._prefix, self._globs
        last_slash = path.rfind("/")
        for k in range(len(path) + 1):
            head = path[:k]
            if head in globs:
                hits += [(g.sid, g.order, g.depth) for g in globs[head] if g.matches(path)]
            if k and path[k - 1] == "/":
                if head in dirs:
                    hits += dirs[head]
            elif k > last_slash + 1 and head in prefix:
                hits += prefix[head]
        if self._any_regex is not None and self._any_regex.search(path):
            hits += [(sid, line, 0) for r, sid, line in self._regexes if r.search(path)]
        best: dict[int, tuple[int, int]] = {}  # sid -> (line, depth): the last line wins
        for sid, line, depth in hits:
            if sid not in best or line > best[sid][0]:
                best[sid] = (line, depth)
        out = [(sid, d) for sid, (_, d) in best.items() if not self._excluded(sid, path)]
        out.sort(key=lambda sd: (-sd[1], sd[0]))
        return out

    def _excluded(self, sid: int, path: str) -> bool:
        return any(x.matches(path) for x in self._excludes.get(sid, ()))


def route(index: RoutingIndex, files: Sequence[str],
          patch_text: str | Sequence[str] | None = None) -> RouteResult:
    """Route files, and the patch text(s) for K:, in get_maintainer.pl's order."""
    texts = [patch_text] if isinstance(patch_text, str) else list(patch_text or ())
    return route_scans(index, files, [scan_patch(t) for t in texts])


def route_patches(index: RoutingIndex, texts: Sequence[str]) -> RouteResult:
    """Route one patch or a series (several patch texts), files taken from the diffs."""
    scans = [scan_patch(t) for t in texts]
    return route_scans(index, [f for s in scans for f in s.files], scans)


def route_scans(index: RoutingIndex, files: Sequence[str],
                scans: Sequence[PatchScan]) -> RouteResult:
    depth: dict[int, int] = {}  # sid -> best depth, in first-seen order
    sec_files: dict[int, list[str]] = {}
    unowned = []
    sorted_files = tuple(sorted(set(files)))
    for f in sorted_files:
        matched = index.file_sections(f)
        if all(index.sections[sid].is_catch_all for sid, _ in matched):
            unowned.append(f)
        for sid, d in matched:
            depth[sid] = max(depth.get(sid, d), d)
            sec_files.setdefault(sid, []).append(f)
    tvis: set[int] = set()
    for s in scans:
        tvis.update(index.keywords.match(s))
    kw_sids = set()
    # get_maintainer.pl sorts the K: @typevalue indexes as strings, then adds them.
    for tvi in sorted(tvis, key=str):
        sid = index.keyword_sections[tvi]
        kw_sids.add(sid)
        depth.setdefault(sid, 0)
    matches = tuple(SectionMatch(index.sections[sid], d, tuple(sec_files.get(sid, ())),
                                 sid in kw_sids) for sid, d in depth.items())
    return RouteResult(sorted_files, matches, tuple(unowned))


@dataclass(frozen=True, slots=True)
class Taker:
    """Which section is expected to take (apply) a patch or series.

    Each file votes for its most specific section that names a tree (T:), or failing
    that its most specific section; K: matches and THE REST do not vote. A section with
    a tree beats one without; then most votes win; then the deeper match, then file order.
    """

    section: Section | None  # None when no subsystem owns any file
    votes: tuple[tuple[str, int], ...]  # (section name, files), most votes first
    unowned: tuple[str, ...]  # files only THE REST claims: nobody is expected to take them

    @property
    def trees(self) -> tuple[str, ...]:
        return self.section.trees if self.section else ()


def expected_taker(index: RoutingIndex, result: RouteResult) -> Taker:
    votes: dict[int, int] = {}
    depth: dict[int, int] = {}
    for f in result.files:
        owners = [(sid, d) for sid, d in index.file_sections(f)
                  if not index.sections[sid].is_catch_all]
        if not owners:
            continue
        with_tree = [o for o in owners if index.sections[o[0]].trees]
        sid, d = (with_tree or owners)[0]  # file_sections is most specific first
        votes[sid] = votes.get(sid, 0) + 1
        depth[sid] = max(depth.get(sid, d), d)
    ranked = sorted(votes, key=lambda s: (not index.sections[s].trees, -votes[s], -depth[s], s))
    return Taker(index.sections[ranked[0]] if ranked else None,
                 tuple((index.sections[s].name, votes[s]) for s in ranked), result.unowned)
