"""Who to mail, in get_maintainer.pl's words: `Name <address>` lines and bare lists.

Reproduces `get_maintainer.pl --no-git --no-git-fallback --no-rolestats`: M: and R:
in section order (a name or address already taken is skipped), then the lists that
are not subscribers-only; every entry goes through .mailmap and is deduplicated by
name, then by address; Linus Torvalds (THE REST's "chief penguin") is dropped.

Addresses named inside .yaml files the patch touches (DT bindings list their
maintainers) are added too when the caller can read those files from the kernel tree
(`in_file`, from `file_emails`). Not reproduced: --fixes (signers of the commits named
in Fixes:, from git history; get_maintainer.pl skips it outside a git checkout).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from reviewbot.core.maintainers.routing import RouteResult

_CHIEF_PENGUINS = (("Linus Torvalds", "torvalds@linux-foundation.org"),)
_MUST_QUOTE = re.compile(r"[^\w \-]", re.ASCII)
_TRIM = re.compile(r"^\s+|\s+$")
_QUOTES = re.compile(r'^"|"$')


def escape_name(name: str) -> str:
    if _MUST_QUOTE.search(name):
        name = '"' + re.sub(r'(?<!\\)"', r'\\"', name) + '"'
    return name


@functools.lru_cache(maxsize=1 << 16)  # the same few thousand addresses, over and over
def parse_email(text: str) -> tuple[str, str]:
    """get_maintainer.pl's parse_email: (quoted-if-needed name, address)."""
    name = address = ""
    if m := re.match(r"^([^<]+)<(.+@.*)>.*$", text):
        name, address = m.group(1), m.group(2)
    elif (m := re.match(r"^\s*<(.+@\S*)>.*$", text)) or (m := re.match(r"^(.+@\S*).*$", text)):
        address = m.group(1)
    name = escape_name(_QUOTES.sub("", _TRIM.sub("", name)))
    return name, _TRIM.sub("", address)


@functools.lru_cache(maxsize=1 << 16)
def format_email(name: str, address: str) -> str:
    name = escape_name(_QUOTES.sub("", _TRIM.sub("", name)))
    address = _TRIM.sub("", address)
    return f"{name} <{address}>" if name else address


@dataclass(frozen=True, slots=True)
class Mailmap:
    """A .mailmap, as get_maintainer.pl reads it (keys: address or `Name <address>`)."""

    names: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    _memo: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def canonical(self, email: str) -> str:
        found = self._memo.get(email)
        if found is None:
            found = self._memo[email] = self._canonical(email)
        return found

    def _canonical(self, email: str) -> str:
        name, address = parse_email(email)
        key = format_email(name, address)
        if key in self.names or key in self.addresses:
            name = self.names.get(key, name)
            address = self.addresses.get(key, address)
        else:
            name = self.names.get(address, name)
            address = self.addresses.get(address, address)
        return format_email(name, address)


_NO_MAILMAP = Mailmap()


def parse_mailmap(text: str) -> Mailmap:
    names: dict[str, str] = {}
    addresses: dict[str, str] = {}
    for raw in text.split("\n"):
        line = _TRIM.sub("", re.sub(r"#.*$", "", raw))
        if not line:
            continue
        if m := re.match(r"^([^<]+)<([^>]+)>$", line):
            name, addr = parse_email(f"{m.group(1).rstrip()} <{m.group(2)}>")
            names[addr] = name
        elif m := re.match(r"^<([^>]+)>\s*<([^>]+)>$", line):
            addresses[m.group(2)] = m.group(1)
        elif m := re.match(r"^(.+)<([^>]+)>\s*<([^>]+)>$", line):
            name, addr = parse_email(f"{m.group(1).rstrip()} <{m.group(2)}>")
            names[m.group(3)] = name
            addresses[m.group(3)] = addr
        elif m := re.match(r"^(.+)<([^>]+)>\s*(.+)\s*<([^>]+)>$", line):
            name, addr = parse_email(f"{m.group(1).rstrip()} <{m.group(2)}>")
            wname, waddr = parse_email(f"{m.group(3).rstrip()} <{m.group(4)}>")
            key = format_email(wname, waddr)
            names[key] = name
            addresses[key] = addr
    return Mailmap(names, addresses)


def _list_address(value: str) -> tuple[str, str]:
    m = re.match(r"^(.*?)([^\s]+)\s+(.*)$", value)
    return (m.group(2), m.group(3)) if m else (value, "")


def get_maintainer_lines(result: RouteResult, mailmap: Mailmap | None = None,
                         in_file: Sequence[str] = ()) -> list[str]:
    """The output lines of get_maintainer.pl --no-git --no-git-fallback --no-rolestats.

    `in_file`: addresses get_maintainer.pl would read from touched .yaml files.
    """
    mm = mailmap or _NO_MAILMAP
    people: list[str] = []
    names: set[str] = set()
    addrs: set[str] = set()
    lists: list[str] = []
    seen_lists: set[str] = set()

    def push(value: str) -> None:
        name, address = parse_email(value)
        if not address or (name and name.lower() in names) or address.lower() in addrs:
            return
        people.append(format_email(name, address))
        if name:
            names.add(name.lower())
        addrs.add(address.lower())

    for match in result.matches:
        for e in match.section.entries:
            if e.letter in "MR":
                push(e.value)
            elif e.letter == "L":
                address, remark = _list_address(e.value)
                if "subscribers-only" not in remark and address.lower() not in seen_lists:
                    seen_lists.add(address.lower())
                    lists.append(address)
    dedup = _Deduplicator(mm)
    people = [dedup(e) for e in people]
    lists = [dedup(e) for e in lists]
    for cname, caddr in _CHIEF_PENGUINS:
        chief = re.compile(format_email(cname, caddr))
        people = [p for p in people if not chief.search(p)]
    for addr in dict.fromkeys(in_file):
        push(mm.canonical(addr))
    return list(dict.fromkeys([*people, *lists]))


# get_maintainer.pl's maintainers_in_file() regex; \p{L} is spelled [^\W\d_].
_FILE_EMAIL = re.compile(
    r"""(?:[^\W\d_]|["' ,.+-])*\s*,*\s*[(<{]?[A-Za-z0-9_.+-]+@[A-Za-z0-9.-]+\.[A-Za-z0-9]+[)>}]?""")
_ADDR_IN_TEXT = re.compile(r"[(<{]?([A-Za-z0-9_.+-]+@[A-Za-z0-9.-]+)[)>}]?")
_NAME_SPLIT = re.compile(r"[^\w',.+-]|[\d_]")


def file_emails(text: str) -> list[str]:
    """The addresses get_maintainer.pl finds in a touched .yaml file (clean_file_emails)."""
    out = []
    for found in _FILE_EMAIL.findall(text):
        name, address = parse_email(_ADDR_IN_TEXT.sub(r"<\1>", found))
        name = re.sub(r'^"(.*)"$', r"\1", name)
        words = _NAME_SPLIT.split(name)
        while words and words[-1] == "":  # Perl's split drops trailing empty fields
            words.pop()
        words = [w for w in words if not re.fullmatch(r"['.,+-]", w)]
        if len(words) > 2:
            first, middle, last = words[-3:]
            initial = ((len(first) == 1 and first.isalpha()) or (len(first) == 2
                       and first.endswith(".")) or len(middle) == 1
                       or (len(middle) == 2 and middle.endswith(".")))
            name = f"{first} {middle} {last}" if initial else f"{middle} {last}"
        else:
            name = " ".join(words)
        if name[-1:] in (",", "."):
            name = name[:-1]
        if name[:1] in (",", "."):
            name = name[1:]
        out.append(format_email(name, address))
    return list(dict.fromkeys(out))


class _Deduplicator:
    """get_maintainer.pl's deduplicate_email: one spelling per name and per address."""

    def __init__(self, mailmap: Mailmap) -> None:
        self.mailmap = mailmap
        self.by_name: dict[str, tuple[str, str]] = {}
        self.by_address: dict[str, tuple[str, str]] = {}

    def __call__(self, email: str) -> str:
        email = self.mailmap.canonical(format_email(*parse_email(email)))
        name, address = parse_email(email)
        if name and name.lower() in self.by_name:
            name, address = self.by_name[name.lower()]
        elif address.lower() in self.by_address:
            name, address = self.by_address[address.lower()]
        else:
            self.by_name[name.lower()] = (name, address)
            self.by_address[address.lower()] = (name, address)
        return self.mailmap.canonical(format_email(name, address))


def addresses(lines: Iterable[str]) -> set[str]:
    """The bare, lower-cased addresses of get_maintainer-style lines."""
    return {parse_email(line)[1].lower() for line in lines}
