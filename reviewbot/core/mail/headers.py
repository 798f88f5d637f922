"""RFC 5322 header block -> the few fields reviewbot needs. Pure, no I/O.

A hand-rolled header pass because the email package parses the whole message
line by line, which costs more than everything else put together; the body is
only handed to the email package when MIME actually needs it (see body.py).
"""

from __future__ import annotations

import binascii
import codecs
import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

# Headers collected; anything else is skipped without decoding.
WANTED = frozenset(
    {
        "from",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "content-type",
        "content-transfer-encoding",
        "auto-submitted",
        "x-pr-tracked-message-id",
        "x-launchpad-notification-type",
    }
)

# "\n" + name rather than a ^ anchor: sre then skips to newlines at C speed
# instead of trying the alternation at every character.
_WANTED_HEADER_SRC = (
    r"\n(?=[" + "".join(sorted({w[0] for w in WANTED})) + r"])"
    r"(" + "|".join(sorted(WANTED)) + r")[ \t]*:[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)"
)
_WANTED_HEADER = re.compile(_WANTED_HEADER_SRC)
_WANTED_HEADER_I = re.compile(_WANTED_HEADER_SRC, re.IGNORECASE)
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")
_ANGLE_ID = re.compile(r"<([^<>]*)>")
_WS = re.compile(r"\s+")
_ID_SEPARATORS = re.compile(r"[\s,]+")
_ADDR_IN_ANGLES = re.compile(r"^(.*?)<\s*([^<>]*?)\s*>")
_SIMPLE_ADDR = re.compile(r"([A-Za-z][\w.'-]*(?: [A-Za-z][\w.'-]*)*) <([^<>\s@]+@[^<>\s@]+)>$")
_BARE_ADDR = re.compile(r"[^\s<>()\"',;:]+@[^\s<>()\"',;:]+")


def split_headers(raw: bytes) -> tuple[bytes, bytes]:
    """Header block and body, split at the first empty line (LF or CRLF)."""
    i = raw.find(b"\n\n")
    cr = raw.find(b"\r", 0, i if i != -1 else len(raw))
    j = raw.find(b"\r\n\r\n", 0, i if i != -1 else len(raw)) if cr != -1 else -1
    if j != -1:
        return raw[:j], raw[j + 4 :]
    if i == -1:
        return raw, b""
    return raw[:i], raw[i + 2 :]


def decode_header_block(block: bytes, warnings: list[str]) -> str:
    """Headers should be ASCII; raw UTF-8 (RFC 6532) is common, Latin-1 happens."""
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append("header block is not UTF-8; decoded as Latin-1")
        return block.decode("latin-1")


def parse_header_block(text: str) -> dict[str, str]:
    """Wanted headers, unfolded; the first occurrence wins (later copies are
    usually transport noise)."""
    out: dict[str, str] = {}
    src = "\n" + text
    low = src.lower()
    # Match on the lower-cased copy (faster than re.IGNORECASE), slice values
    # from the original; if lower-casing changed the length, match directly.
    same = len(low) == len(src)
    for m in (_WANTED_HEADER if same else _WANTED_HEADER_I).finditer(low if same else src):
        key = m.group(1) if same else m.group(1).lower()
        if key not in out:
            value = src[m.start(2) : m.end(2)]
            if "\n" in value:
                value = value.replace("\r\n", "").replace("\n", "")
            out[key] = value.strip()
    return out


def lookup_codec(charset: str) -> str | None:
    """Python codec name for a MIME charset, or None if unknown."""
    cs = charset.strip().strip('"').lower()
    if cs in ("", "unknown-8bit", "x-unknown", "unknown"):
        return None
    if cs in ("us-ascii", "ascii", "ansi_x3.4-1968"):
        return "utf-8"  # mislabelled 8-bit text is almost always UTF-8
    try:
        return codecs.lookup(cs).name
    except LookupError:
        return None


def decode_text(data: bytes, charset: str | None, warnings: list[str]) -> str:
    """Bytes -> str with the declared charset; bad or unknown ones get UTF-8
    with replacement and a warning, never an exception."""
    codec = lookup_codec(charset) if charset else "utf-8"
    if codec is None:
        warnings.append(f"unknown charset {charset!r}; decoded as UTF-8")
        codec = "utf-8"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        warnings.append(f"text is not valid {codec}; undecodable bytes replaced")
        return data.decode(codec, errors="replace")
    except LookupError:  # pragma: no cover - lookup_codec already checked
        return data.decode("utf-8", errors="replace")


def _decode_word(m: re.Match[str], warnings: list[str]) -> str:
    charset, enc, text = m.group(1), m.group(2), m.group(3)
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
    try:
        if enc in "bB":
            data = binascii.a2b_base64(text + "=" * (-len(text) % 4))
        else:
            data = binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        warnings.append(f"undecodable encoded word {m.group(0)!r}")
        return m.group(0)
    return decode_text(data, charset, warnings)


def decode_words(value: str, warnings: list[str]) -> str:
    """RFC 2047 encoded words; whitespace between adjacent words is dropped."""
    if "=?" not in value:
        return value
    value = _BETWEEN_WORDS.sub(r"\1\2", value)
    return _ENCODED_WORD.sub(lambda m: _decode_word(m, warnings), value)


def collapse(value: str) -> str:
    """Folding leaves runs of blanks ("for  MPV"): one space each."""
    return _WS.sub(" ", value).strip()


def parse_address(value: str, warnings: list[str]) -> tuple[str, str]:
    """(name, lower-cased address) from `Name <a@b>`, `a@b (Name)` or `a@b`.

    Tolerates blanks inside the angle brackets (`< a@b >`) and quoting.
    """
    simple = _SIMPLE_ADDR.match(value)
    if simple is not None:  # the common `Name <a@b>`: one regex, no clean-up
        return simple.group(1), simple.group(2).lower()
    value = collapse(decode_words(value, warnings))
    m = _ADDR_IN_ANGLES.match(value)
    if m is not None:
        name, addr = m.group(1), m.group(2)
        addr = addr.replace(" ", "")
    else:
        b = _BARE_ADDR.search(value)
        if b is None:
            return clean_name(value), ""
        addr = b.group(0)
        rest = value[: b.start()] + value[b.end() :]
        name = rest.strip().strip("()")
    return clean_name(name), addr.strip().lower()


def clean_name(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return collapse(name.strip("'"))


def parse_msgid(value: str) -> str | None:
    """One Message-ID without brackets; tolerates blanks and missing brackets."""
    m = _ANGLE_ID.search(value)
    mid = m.group(1) if m is not None else value
    mid = _WS.sub("", mid)
    return mid or None


def parse_msgids(value: str) -> list[str]:
    """All Message-IDs in In-Reply-To/References, tolerating comments, commas
    and missing brackets; duplicates dropped, order kept."""
    if not value:
        return []
    found = _ANGLE_ID.findall(value)
    if not found:
        found = [t for t in _ID_SEPARATORS.split(value) if "@" in t]
    out: list[str] = []
    seen: set[str] = set()
    for mid in found:
        if " " in mid or "\t" in mid:
            mid = "".join(mid.split())
        if mid and mid not in seen:
            seen.add(mid)
            out.append(mid)
    return out


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_FAST_DATE = re.compile(
    r"(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s+([+-])(\d{2})(\d{2})\b"
)


def parse_date(value: str, warnings: list[str]) -> datetime | None:
    """Date header -> aware UTC datetime, or None if unusable.

    Offsets beyond what any zone uses (+1600, +1900 occur in the corpus) are
    still applied as written: that is what the sender's clock claimed.
    """
    m = _FAST_DATE.match(value.strip())
    if m is not None:
        mon = _MONTHS.get(m.group(2).lower())
        if mon is not None:
            minutes = int(m.group(8)) * 60 + int(m.group(9))
            if m.group(7) == "-":
                minutes = -minutes
            return _build(
                int(m.group(3)),
                mon,
                int(m.group(1)),
                int(m.group(4)),
                int(m.group(5)),
                int(m.group(6) or 0),
                minutes * 60,
                warnings,
            )
    t = parsedate_tz(value)
    if t is None:
        return None
    offset = t[9]
    if offset is None:
        warnings.append(f"Date without a zone, taken as UTC: {value!r}")
        offset = 0
    year = t[0]
    if year < 100:  # two-digit years, as RFC 5322 section 4.3 says
        year += 2000 if year < 50 else 1900
    return _build(year, t[1], t[2], t[3], t[4], t[5], offset, warnings)


def _build(
    year: int, mon: int, day: int, hh: int, mm: int, ss: int, offset: int, warnings: list[str]
) -> datetime | None:
    if abs(offset) >= 24 * 3600:
        warnings.append(f"Date offset {offset // 60:+d} minutes out of range, taken as UTC")
        offset = 0
    elif abs(offset) > 14 * 3600:
        warnings.append(f"odd Date offset {offset // 3600:+d}h (no such zone)")
    try:
        tz = timezone(timedelta(seconds=offset)) if offset else UTC
        if ss == 60:
            ss = 59  # leap second
        return datetime(year, mon, day, hh, mm, ss, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


# public-inbox's MsgTime::msg_received_at: the date at the end of a Received
# header ("...; Tue, 31 Dec 2025 18:14:08 +0000"), hh:mm:ss and a numeric zone.
_RECEIVED_HEADER = re.compile(r"\nreceived[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)", re.IGNORECASE)
_RECEIVED_DATE = re.compile(
    r"([0-9]+\s+[a-zA-Z]+\s+[0-9]{2,4}\s+[0-9]+[^0-9][0-9]+[^0-9][0-9]+\s+[+-][0-9]+)"
)


def received_date(header_text: str) -> datetime | None:
    """The date of the first Received: header that holds a readable one, as
    public-inbox dates mail (the top header is the last hop: the list's server)."""
    if "eceived" not in header_text:
        return None
    scratch: list[str] = []
    for m in _RECEIVED_HEADER.finditer("\n" + header_text.replace("\r\n", "\n")):
        d = _RECEIVED_DATE.search(" ".join(m.group(1).split()))
        when = parse_date(d.group(1), scratch) if d is not None else None
        if when is not None:
            return when
    return None


_FROM_LINE = re.compile(rb"^From [^ \t]*[ \t]+(.+?)\s*$")
# public-inbox and b4 write every separator as "From mboxrd@z Thu Jan  1 00:00:00 1970":
# the epoch says nothing about when the mail arrived.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def from_line_date(line: bytes) -> datetime | None:
    """The delivery time on an mbox `From sender Mon Jan  6 10:00:00 2025` line, or None
    (no date, unreadable, or the epoch placeholder of public-inbox's mboxrd exports)."""
    m = _FROM_LINE.match(line.rstrip(b"\r\n"))
    if m is None:
        return None
    t = parsedate_tz(m.group(1).decode("ascii", "replace"))
    if t is None:
        return None
    when = _build(t[0], t[1], t[2], t[3], t[4], t[5], t[9] or 0, [])
    return None if when is None or when <= _EPOCH else when
