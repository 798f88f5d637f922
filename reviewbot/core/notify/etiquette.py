"""The outgoing-mail rules (conventions.md §3) as one checker any template's output
can be run through. Pure: bytes in, a list of problems out (empty: fine).

build_message() refuses a mail with problems; tests run every template's
output through check_message() too, with hostile inputs (long titles, names
that look like trailers, Re: stacks).
"""

from __future__ import annotations

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from reviewbot.core.mail.trailers import parse_trailers

MAX_WIDTH = 80  # no body line wider, URLs exempt
KEY_HEADER = "X-Reviewbot-Key"
MARKER = "reviewbot"  # in every Message-ID we make
REQUIRED = ("From", "To", "Date", "Subject", "Message-ID", "MIME-Version", "Auto-Submitted",
            "X-Mailer", KEY_HEADER)

RE_PREFIX = re.compile(r"^\s*(?:re\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_DOUBLE_RE = re.compile(r"^\s*re\s*(?:\[\d+\])?\s*:\s*re\s*(?:\[\d+\])?\s*:", re.IGNORECASE)
_GENERIC_BY = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*-by:", re.IGNORECASE)
_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def looks_like_trailer(line: str) -> bool:
    """Would b4 or reviewbot take this line as a trailer (`Reviewed-by: ...`, `Fixes: ...`)?"""
    return bool(parse_trailers(line)) or _GENERIC_BY.match(line) is not None


def too_wide(line: str, limit: int = MAX_WIDTH) -> bool:
    """Wider than `limit` once the URLs in it are not counted."""
    if len(line) <= limit:
        return False
    return len(line) - sum(len(u) for u in _URL.findall(line)) > limit


def check_message(raw: bytes) -> list[str]:
    """Every way `raw` breaks the outgoing-mail rules, in a stable order."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    problems = _headers(msg)
    if msg.is_multipart():
        return [*problems, f"multipart ({msg.get_content_type()}): one text/plain part only"]
    if msg.get_content_type() != "text/plain":
        problems.append(f"Content-Type {msg.get_content_type()}, not text/plain")
    if (msg.get_content_charset() or "").lower() != "utf-8":
        problems.append(f"charset {msg.get_content_charset()}, not utf-8")
    if not raw.isascii():
        problems.append("8-bit bytes in the raw mail (non-ASCII must be encoded)")
    try:
        body = msg.get_content()
    except (LookupError, UnicodeDecodeError) as exc:
        return [*problems, f"body does not decode: {exc}"]
    for n, line in enumerate(str(body).replace("\r\n", "\n").split("\n"), 1):
        if too_wide(line):
            problems.append(f"body line {n}: {len(line)} columns (at most {MAX_WIDTH}, "
                            "URLs exempt): " + line[:40])
        if looks_like_trailer(line):
            problems.append(f"body line {n} looks like a trailer (prefix it with '| '): "
                            + line[:40])
    return problems


def _headers(msg: EmailMessage) -> list[str]:
    problems = [f"no {name} header" for name in REQUIRED if msg[name] is None]
    for name in msg:
        low = name.lower()
        if low.startswith("list-") or low == "precedence":
            problems.append(f"{name} header: never sent (we are not a list, nor bulk)")
    if (auto := msg["Auto-Submitted"]) is not None and str(auto) != "auto-generated":
        problems.append(f"Auto-Submitted is {auto!s}, not auto-generated")
    if (mailer := msg["X-Mailer"]) is not None and not str(mailer).startswith("reviewbot/"):
        problems.append(f"X-Mailer {mailer!s} is not reviewbot/<version>")
    mid = str(msg["Message-ID"] or "").strip()
    if mid and (not (mid.startswith("<") and mid.endswith(">")) or MARKER not in mid
                or "/" in mid or mid.count("@") != 1):
        problems.append(f"Message-ID {mid} is not ours (<{MARKER}...@domain>, no '/')")
    subject = str(msg["Subject"] or "")
    if _DOUBLE_RE.match(subject):
        problems.append(f"Subject {subject!r} stacks Re:")
    reply_to = msg["In-Reply-To"]
    if reply_to is not None:
        refs = str(msg["References"] or "").split()
        if not refs or refs[-1] != str(reply_to).strip():
            problems.append("References must end with the In-Reply-To target")
        if not RE_PREFIX.match(subject):
            problems.append("a reply's Subject starts with 'Re: '")
    elif msg["References"] is not None:
        problems.append("References without In-Reply-To")
    return problems
