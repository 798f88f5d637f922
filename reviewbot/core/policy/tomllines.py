"""Line numbers of TOML keys, for `file:line` errors: tomllib reports no positions.

Shared by the policy files' and the settings file's validation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\".]+(?:\s*\.\s*[A-Za-z0-9_\-\"]+)*)\s*=")


def _split_key(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip('"') for part in dotted.split("."))


def line_index(text: str) -> dict[tuple[str, ...], int]:
    """Map key paths to the first line (1-based) defining them.

    tomllib reports no positions for keys, so scan the text: good enough for
    the plain `[table]` / `key = value` layout the README shows. Array-of-table
    entries get path elements "name#0", "name#1", ...
    """
    index: dict[tuple[str, ...], int] = {}
    seen_arrays: dict[tuple[str, ...], int] = {}
    current: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            path = _split_key(header.group(2))
            if header.group(1) == "[[":
                n = seen_arrays.get(path, 0)
                seen_arrays[path] = n + 1
                index.setdefault(path, number)
                path = (*path[:-1], f"{path[-1]}#{n}")
            current = path
            index.setdefault(path, number)
            continue
        key = _KEY.match(line)
        if key:
            index.setdefault((*current, *_split_key(key.group(1))), number)
    return index


def line_of(index: Mapping[tuple[str, ...], int], path: tuple[str, ...]) -> int:
    # Fall back to the enclosing table, then to line 1.
    while path:
        if path in index:
            return index[path]
        path = path[:-1]
    return 1
