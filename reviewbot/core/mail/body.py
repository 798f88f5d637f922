"""The readable body of a mail as (bytes, charset) parts. Pure, no I/O.

Most list mail is one text/plain part in 7bit/8bit: that body is used as is.
Quoted-printable and base64 single parts are decoded with binascii; only
multipart mail goes through the email package, which is much slower.
"""

from __future__ import annotations

import binascii
import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message as EmailMessage

from reviewbot.core.mail.headers import parse_header_block

_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
# Parts whose text counts: the message itself and attached patches.
_TEXT_TYPES = frozenset({"text/plain", "text/x-patch", "text/x-diff", "text/patch", "text/diff"})
_BOUNDARY = re.compile(r"""boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))""", re.IGNORECASE)
_PATCH_NAME = re.compile(r"\.(?:patch|diff)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Part:
    data: bytes  # transfer-decoded, LF line ends
    charset: str | None


def content_type(value: str) -> tuple[str, str | None]:
    """("text/plain", "utf-8") from a Content-Type value; defaults per RFC 2045."""
    mime = value.split(";", 1)[0].strip().lower() or "text/plain"
    m = _CHARSET.search(value)
    return mime, (m.group(1) if m is not None else None)


def _lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n") if b"\r" in data else data


def body_parts(
    raw: bytes, body: bytes, ctype: str, cte: str, warnings: list[str]
) -> list[Part]:
    """Decoded text parts of a message whose header block has been split off."""
    mime, charset = content_type(ctype)
    if not mime.startswith("multipart/"):
        if mime not in _TEXT_TYPES and not mime.startswith("text/"):
            return []  # a lone attachment: nothing to read
        return _single(body, mime, charset, cte, warnings)
    parts = _multipart(body, ctype, warnings, 0)
    if parts is None:
        return _mime_parts(raw, warnings)
    if not parts:
        warnings.append("multipart message without a text/plain part")
    return parts


def _multipart(body: bytes, ctype: str, warnings: list[str], depth: int) -> list[Part] | None:
    """Text parts of a multipart body, or None to let the email package try.

    A boundary split is enough for list mail (signed mails, attached patches)
    and costs a fraction of email.message_from_bytes; anything unusual (no
    boundary, no delimiter, deep nesting, octet-stream parts) goes the slow way.
    """
    b = _BOUNDARY.search(ctype)
    if b is None or depth > 4:
        return None
    delim = b"\n--" + (b.group(1) or b.group(2)).encode("ascii", "replace")
    data = b"\n" + _lf(body)
    pos = data.find(delim)
    if pos == -1:
        return None
    out: list[Part] = []
    while True:
        line_end = data.find(b"\n", pos + 1)
        if data.startswith(b"--", pos + len(delim)) or line_end == -1:
            return out  # close delimiter (or a truncated message)
        nxt = data.find(delim, line_end)
        chunk = data[line_end + 1 : nxt if nxt != -1 else len(data)]
        head, content = _split_part(chunk)
        h = parse_header_block(head.decode("latin-1"))
        mime, charset = content_type(h.get("content-type", ""))
        if mime.startswith("multipart/"):
            inner = _multipart(content, h.get("content-type", ""), warnings, depth + 1)
            if inner is None:
                return None
            out.extend(inner)
        elif mime == "application/octet-stream":
            return None  # may be a .patch attachment: needs its filename
        elif mime in _TEXT_TYPES:
            out.extend(_single(content, mime, charset, h.get("content-transfer-encoding", ""),
                               warnings))
        if nxt == -1:
            return out
        pos = nxt


def _split_part(chunk: bytes) -> tuple[bytes, bytes]:
    """A MIME part's header block and content (a part may have no headers)."""
    if chunk.startswith(b"\n"):
        return b"", chunk[1:]
    i = chunk.find(b"\n\n")
    if i == -1:
        return chunk, b""
    return chunk[:i], chunk[i + 2 :]


def _single(
    body: bytes, mime: str, charset: str | None, cte: str, warnings: list[str]
) -> list[Part]:
    """One text part, transfer-decoded."""
    enc = cte.strip().lower()
    if enc in ("", "7bit", "8bit", "binary"):
        return [Part(_lf(body), charset)]
    if enc == "quoted-printable":
        return [Part(_lf(binascii.a2b_qp(_lf(body))), charset)]
    if enc == "base64":
        try:
            return [Part(_lf(binascii.a2b_base64(body)), charset)]
        except binascii.Error as e:
            warnings.append(f"bad base64 body ({e}); read as is")
            return [Part(_lf(body), charset)]
    warnings.append(f"unknown Content-Transfer-Encoding {cte!r}; read as is")
    return [Part(_lf(body), charset)]


def _mime_parts(raw: bytes, warnings: list[str]) -> list[Part]:
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    parts: list[Part] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if not _wanted(part):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        parts.append(Part(_lf(payload), part.get_content_charset()))
    if msg.defects:
        warnings.append("MIME defects: " + ", ".join(type(d).__name__ for d in msg.defects))
    if not parts:
        warnings.append("multipart message without a text/plain part")
    return parts


def _wanted(part: EmailMessage) -> bool:
    ctype = part.get_content_type()
    if ctype in _TEXT_TYPES:
        return True
    if ctype == "application/octet-stream":
        name = part.get_filename() or ""
        return _PATCH_NAME.search(name) is not None
    return False
