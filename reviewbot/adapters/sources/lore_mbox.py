"""public-inbox's gzipped mboxrd answers, read as a stream, back to raw mail.

A search answer can hold a whole list (hundreds of MB), so nothing here
needs the whole answer in memory: `Gunzip` inflates in bounded pieces and
`MboxrdStream` hands out each message as soon as the next separator (or the
end) shows it complete. `split_mboxrd` is the same on one bytes object.
"""

from __future__ import annotations

import email.utils
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime

from reviewbot.core.model import MessageId

_UNESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)
_MSGID = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)*<?([^>\s]+)>?", re.I | re.M)
_RECEIVED = re.compile(rb"^received:((?:[^\n]*\n[ \t][^\n]*)*[^\n]*)", re.I | re.M)
# public-inbox's MsgTime::msg_received_at: "31 Dec 2025 18:14:08 +0000" in a Received header.
_RECEIVED_DATE = re.compile(
    rb"\s*([0-9]+\s+[a-zA-Z]+\s+[0-9]{2,4}\s+[0-9]+[^0-9][0-9]+(?:[^0-9][0-9]+)\s+[+-][0-9]+)"
)
_DATE = re.compile(rb"^date:((?:[^\n]*\n[ \t][^\n]*)*[^\n]*)", re.I | re.M)

# Inflate at most this much per step: a 64 KiB gzip chunk of highly repetitive
# mail could otherwise expand to tens of MB at once.
_INFLATE_STEP = 1 << 20


class LoreError(RuntimeError):
    """The archive could not be read (after retries where retrying is allowed), or its
    answer is not what public-inbox writes (not an mbox, not gzip, cut short)."""


class Gunzip:
    """Inflates a gzip stream fed in chunks; plain (already decoded) input passes through.

    public-inbox sends `application/gzip` without Content-Encoding, but a proxy
    may decode it on the way, so the first two bytes decide.
    """

    def __init__(self) -> None:
        self._inflate: zlib._Decompress | None = None
        self._plain: bool | None = None
        self._head = b""

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._plain is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._plain = not data.startswith(b"\x1f\x8b")
        if self._plain:
            yield data
            return
        while data:
            if self._inflate is None or self._inflate.eof:
                # A new gzip member (concatenated members are valid gzip).
                self._inflate = zlib.decompressobj(wbits=31)
            try:
                out = self._inflate.decompress(data, _INFLATE_STEP)
                while out:
                    yield out
                    out = self._inflate.decompress(self._inflate.unconsumed_tail, _INFLATE_STEP)
            except zlib.error as exc:
                raise LoreError(f"answer is not gzip: {exc}") from exc
            data = self._inflate.unused_data if self._inflate.eof else b""

    def finish(self) -> Iterator[bytes]:
        """The end of the input: refuses a gzip stream cut short (a dropped connection)."""
        if self._plain is None and self._head:
            yield self._head  # one byte cannot be gzip
        elif self._inflate is not None and not self._inflate.eof:
            raise LoreError("answer ended before the end of its gzip stream")


def _unescape(msg: bytes) -> bytes:
    """One `From `-line-led piece of mboxrd (separator newline included) → the message."""
    nl = msg.find(b"\n")
    if nl == -1:
        return b""  # a bare separator line: no message
    first, end = nl + 1, len(msg)
    # Drop the separator newline public-inbox adds after each message.
    stop = end - 1 if msg[end - 1 :] == b"\n" and end > first else end
    # Headers end at the first empty line, LF or CRLF.
    ends = (msg.find(b"\n\n", first, stop), msg.find(b"\n\r\n", first, stop))
    body = min((i for i in ends if i != -1), default=-1)
    if body != -1 and msg.find(b">From ", body, stop) != -1:
        return msg[first:body] + _UNESCAPE.sub(rb"\1", msg[body:stop])
    return msg[first:stop]


class MboxrdStream:
    """public-inbox's mboxrd, fed in pieces → the raw messages, byte for byte.

    public-inbox writes `From mboxrd@z ...`, the message, and one extra
    newline, and escapes every body line matching `>*From ` with one more `>`;
    so every line starting with `From ` is a separator. Only the message not
    yet complete is held between pieces.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._scan = 1  # where the next separator search starts in _buf
        self._checked = False

    def _check(self) -> bool:
        if not self._checked:
            if len(self._buf) < 5 or not self._buf.strip():
                return False
            if not self._buf.startswith(b"From "):
                raise LoreError("answer is not an mbox: it does not start with a 'From ' line")
            self._checked = True
        return True

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        if not self._check():
            return []
        buf, out, start = self._buf, [], 0
        # bytearray.find is ~10x faster than a MULTILINE regex over a 100 MB answer.
        at = buf.find(b"\nFrom ", self._scan)
        while at != -1:
            if msg := _unescape(bytes(buf[start : at + 1])):
                out.append(msg)
            start = at + 1
            at = buf.find(b"\nFrom ", start + 1)
        del buf[:start]
        # A separator may straddle the next piece: rescan the last 5 bytes.
        self._scan = max(1, len(buf) - 5)
        return out

    def close(self) -> list[bytes]:
        """The last message, once the answer has ended."""
        if not self._buf.strip():
            return []
        if not self._checked and not self._buf.startswith(b"From "):
            raise LoreError("answer is not an mbox: it does not start with a 'From ' line")
        buf, self._buf = bytes(self._buf), bytearray()
        msg = _unescape(buf)
        return [msg] if msg else []


def split_mboxrd(data: bytes) -> list[bytes]:
    """A whole public-inbox mboxrd answer → the raw messages, byte for byte."""
    if not data.strip():
        return []
    stream = MboxrdStream()
    return stream.feed(data) + stream.close()


def _head(raw: bytes) -> bytes:
    end = raw.find(b"\n\n")
    return raw if end == -1 else raw[:end]


def message_id_of(raw: bytes) -> MessageId | None:
    m = _MSGID.search(_head(raw))
    return MessageId(m.group(1).decode("utf-8", "replace")) if m else None


def received_at(raw: bytes) -> datetime | None:
    """The archive's received time, computed as public-inbox indexes `rt:`.

    The first Received header holding a parseable date wins; else Date:.
    """
    head = _head(raw).replace(b"\r\n", b"\n")
    for m in _RECEIVED.finditer(head):
        d = _RECEIVED_DATE.search(m.group(1).replace(b"\n", b" "))
        if d and (when := _parse_date(d.group(1))):
            return when
    for m in _DATE.finditer(head):
        if when := _parse_date(m.group(1).strip()):
            return when
    return None


def _parse_date(value: bytes) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(value.decode("ascii", "replace"))
    except (ValueError, TypeError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)
