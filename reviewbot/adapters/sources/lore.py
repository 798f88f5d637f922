"""Source: a public-inbox archive over HTTP (lore.kernel.org or a mirror).

Polling searches `rt:<since - fudge>..` (received time, in epoch seconds so
no date parser is involved) and downloads the results as one gzipped mbox
(`POST ?x=m`). public-inbox 1.9 streams *every* match in that one answer (it
pages Xapian internally and ignores `o=` for mbox output; verified against
public-inbox-httpd serving the 2025 corpus), so "pages" here are received-time
windows: after each answer the window's upper bound moves down to the oldest
message received, and polling stops when a window brings nothing unseen. On
a complete server that is two requests; on a server that caps mbox results
it walks back until exhausted. `new.atom` (25 entries) is never relied upon.

All liblore use lives in this module and runs in one dedicated thread
(conventions §5). HTTP goes through liblore's LoreNode with an injected
requests session that adds the polite defaults liblore lacks: backoff on
429/5xx honouring Retry-After, a minimum interval, at most 2 in flight.
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import liblore
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

import reviewbot
from reviewbot.core.model import MessageId
from reviewbot.ports import Batch, RawMail

log = logging.getLogger(__name__)

T = TypeVar("T")

_UNESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)
_MSGID = re.compile(rb"^message-id:[ \t]*(?:\r?\n[ \t]+)*<?([^>\s]+)>?", re.I | re.M)
_RECEIVED = re.compile(rb"^received:((?:[^\n]*\n[ \t][^\n]*)*[^\n]*)", re.I | re.M)
# public-inbox's MsgTime::msg_received_at: "31 Dec 2025 18:14:08 +0000" in a Received header.
_RECEIVED_DATE = re.compile(
    rb"\s*([0-9]+\s+[a-zA-Z]+\s+[0-9]{2,4}\s+[0-9]+[^0-9][0-9]+(?:[^0-9][0-9]+)\s+[+-][0-9]+)"
)
_DATE = re.compile(rb"^date:((?:[^\n]*\n[ \t][^\n]*)*[^\n]*)", re.I | re.M)

# One thread for every liblore call in the process: liblore and b4 are
# synchronous and keep per-thread/global state (conventions §5).
_thread_lock = threading.Lock()
_thread: ThreadPoolExecutor | None = None


def _in_lore_thread(fn: Callable[[], T]) -> T:
    global _thread
    with _thread_lock:
        if _thread is None:
            _thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reviewbot-lore")
    return _thread.submit(fn).result()


class LoreError(RuntimeError):
    """The archive could not be read (after retries where retrying is allowed)."""


def quote_msgid(message_id: str) -> str:
    """A Message-ID as a URL path segment (`/` → %2F, as lore expects)."""
    return urllib.parse.quote(message_id.strip("<>"), safe="@")


def split_mboxrd(data: bytes) -> list[bytes]:
    """public-inbox's mboxrd output → the raw messages, byte for byte.

    public-inbox writes `From mboxrd@z ...`, the message, and one extra
    newline, and escapes every body line matching `>*From ` with one more `>`;
    so every line starting with `From ` is a separator.
    """
    if not data.strip():
        return []
    if not data.startswith(b"From "):
        raise LoreError("answer is not an mbox: it does not start with a 'From ' line")
    # bytes.find is ~10x faster than a MULTILINE regex over a 100 MB answer.
    starts = [0]
    at = data.find(b"\nFrom ")
    while at != -1:
        starts.append(at + 1)
        at = data.find(b"\nFrom ", at + 1)
    out: list[bytes] = []
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        first = data.index(b"\n", start) + 1
        # Drop the separator newline public-inbox adds after each message.
        stop = end - 1 if data[end - 1 : end] == b"\n" and end > first else end
        # Headers end at the first empty line, LF or CRLF.
        ends = (data.find(b"\n\n", first, stop), data.find(b"\n\r\n", first, stop))
        body = min((i for i in ends if i != -1), default=-1)
        if body != -1 and data.find(b">From ", body, stop) != -1:
            out.append(data[first:body] + _UNESCAPE.sub(rb"\1", data[body:stop]))
        else:
            out.append(data[first:stop])
    return out


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


def _polite_retry(min_interval: float, retries: int, max_retry_after: float) -> Retry:
    class PoliteRetry(Retry):
        """urllib3 Retry with a floor (min_interval) and a cap on Retry-After."""

        def get_retry_after(self, response: Any) -> float | None:
            after = super().get_retry_after(response)
            return None if after is None else min(after, max_retry_after)

        def get_backoff_time(self) -> float:
            return max(super().get_backoff_time(), min_interval)

        def sleep_for_retry(self, response: Any) -> bool:
            after = self.get_retry_after(response)
            if after is not None:
                time.sleep(max(after, min_interval))
                return True
            return False

    return PoliteRetry(
        total=retries,
        connect=retries,
        read=0,  # a read timeout on a big search is not worth repeating blindly
        status=retries,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=None,  # search is a POST, and idempotent
        backoff_factor=0.5,
        backoff_max=60.0,
        respect_retry_after_header=True,
        raise_on_status=False,  # liblore turns the final status into RemoteError
    )


class _PoliteSession(requests.Session):
    """At most `concurrency` requests in flight, `min_interval` s between starts."""

    def __init__(self, user_agent: str, min_interval: float, concurrency: int = 2) -> None:
        super().__init__()
        self.headers["User-Agent"] = user_agent
        self._slots = threading.BoundedSemaphore(concurrency)
        self._pace = threading.Lock()
        self._min_interval = min_interval
        self._last_start = 0.0

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        with self._slots:
            with self._pace:
                wait = self._last_start + self._min_interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self._last_start = time.monotonic()
            return super().request(method, url, *args, **kwargs)


class LoreSource:
    """New messages of one list on a public-inbox server, by received time.

    The cursor is the newest received time stored (ISO 8601); each poll asks
    again from `fudge` before it, so late-indexed mail is not missed (the
    store drops the duplicates). Without a cursor, polling starts at `since`,
    or at the archive's beginning when that is None (the whole list: give
    `since` for a big list on lore).
    """

    def __init__(
        self,
        base_url: str,
        list_name: str,
        *,
        since: datetime | None = None,
        batch_size: int = 200,
        min_interval: float = 0.1,
        user_agent: str | None = None,
        fudge: timedelta = timedelta(minutes=15),
        retries: int = 5,
        max_retry_after: float = 300.0,
        timeout: tuple[float, float] = (5.0, 30.0),
        cache_dir: str | None = None,
    ) -> None:
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        if min_interval < 0.1:
            raise ValueError("min_interval below 100 ms is impolite to lore")
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"base_url must be http(s)://host/list, not {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.list_name = list_name
        self.since = since
        self.batch_size = batch_size
        self.fudge = fudge
        agent = f"reviewbot/{reviewbot.__version__}"
        self.user_agent = f"{agent}+{user_agent}" if user_agent else agent
        self._min_interval = min_interval
        self._retries = retries
        self._max_retry_after = max_retry_after
        self._timeout = timeout
        self._cache_dir = cache_dir
        self._node: liblore.LoreNode | None = None

    @property
    def key(self) -> str:
        return f"lore:{self.list_name}"

    def _get_node(self) -> liblore.LoreNode:
        # Built lazily, inside the lore thread: no I/O in the constructor.
        if self._node is None:
            session = _PoliteSession(self.user_agent, self._min_interval)
            adapter = HTTPAdapter(
                max_retries=_polite_retry(self._min_interval, self._retries, self._max_retry_after)
            )
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            node = liblore.LoreNode(
                self.base_url,
                request_timeout=self._timeout,
                cache_dir=self._cache_dir,
                follow_upstream=False,
            )
            node.set_requests_session(session)
            self._node = node
        return self._node

    def close(self) -> None:
        """Close the HTTP session (a later poll opens a new one)."""
        node, self._node = self._node, None
        if node is not None:
            _in_lore_thread(node.close)

    def __enter__(self) -> LoreSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _search(self, query: str) -> bytes:
        # Not LoreNode.get_mbox_by_query: it POSTs the body "x=m", and
        # public-inbox 1.9 reads any body starting "x=" (not "x=0") as the
        # search form's "full threads" button, so every hit came back with
        # its whole thread (measured: 9 messages instead of 3 for one window).
        # An empty body gives exactly the hits; liblore still does the HTTP.
        url = f"{self.base_url}/?x=m&q={urllib.parse.quote_plus(query)}"

        def call() -> bytes:
            try:
                resp = self._get_node().request("POST", url, data=b"")
            except liblore.RemoteError as exc:
                raise LoreError(f"search {query!r} on {self.base_url} failed: {exc}") from exc
            try:
                if resp.status_code == 404:  # public-inbox: "No results found"
                    return b""
                if resp.status_code != 200:
                    raise LoreError(
                        f"search {query!r} on {self.base_url} failed: HTTP {resp.status_code}"
                    )
                try:
                    return gzip.decompress(resp.content)
                except (OSError, EOFError) as exc:
                    raise LoreError(f"search {query!r}: answer is not gzip: {exc}") from exc
            finally:
                resp.close()

        return _in_lore_thread(call)

    def fetch_thread(self, message_id: str) -> list[RawMail]:
        """The whole thread containing `message_id` (`/<msgid>/t.mbox.gz`)."""
        mid = message_id.strip().strip("<>")

        def call() -> bytes:
            try:
                return self._get_node().get_mbox_by_msgid(mid)
            except liblore.RemoteError as exc:
                raise LoreError(f"thread of <{mid}> on {self.base_url}: {exc}") from exc

        return [self._raw_mail(raw) for raw in split_mboxrd(_in_lore_thread(call))]

    def _raw_mail(self, raw: bytes, received: datetime | None = None) -> RawMail:
        mid = message_id_of(raw)
        origin = f"{self.base_url}/{quote_msgid(mid)}/raw" if mid else self.base_url
        return RawMail(raw, origin, received or received_at(raw))

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        start = self._start(cursor)
        lower = max(0, int(start.timestamp())) if start else 0
        found: dict[str, tuple[datetime | None, bytes]] = {}
        upper: int | None = None
        pages = 0
        while True:
            # Five digits or more: public-inbox reads the bound as epoch seconds.
            query = f"rt:{lower:05d}..{'' if upper is None else f'{upper:05d}'}"
            raws = split_mboxrd(self._search(query))
            pages += 1
            fresh: list[datetime | None] = []
            for raw in raws:
                # Without a Message-ID the bytes themselves are the identity.
                key = message_id_of(raw) or hashlib.sha256(raw).hexdigest()
                if key not in found:
                    found[key] = (received_at(raw), raw)
                    fresh.append(found[key][0])
            if not fresh:
                break
            times = [t for t in fresh if t is not None]
            oldest = int(min(times).timestamp()) if times else None
            if oldest is None or oldest <= lower or (upper is not None and oldest >= upper):
                break
            upper = oldest + int(self.fudge.total_seconds())
        log.info(
            "lore %s: %d messages since %s in %d requests", self.list_name, len(found), start, pages
        )
        yield from self._ordered_batches(found, cursor)

    def _start(self, cursor: str | None) -> datetime | None:
        if cursor:
            try:
                seen = datetime.fromisoformat(cursor)
            except ValueError as exc:
                raise ValueError(f"lore cursor is not an ISO time: {cursor!r}") from exc
            if seen.tzinfo is None:
                raise ValueError(f"lore cursor lacks a timezone: {cursor!r}")
            return seen - self.fudge
        return self.since - self.fudge if self.since else None

    def _ordered_batches(
        self, found: dict[str, tuple[datetime | None, bytes]], cursor: str | None
    ) -> Iterator[Batch]:
        epoch = datetime.min.replace(tzinfo=UTC)
        items = sorted(found.values(), key=lambda tr: tr[0] or epoch)
        # A received time in the future (a sender's bad clock in Received:)
        # must not push the cursor past mail the archive has yet to receive.
        now = datetime.now(UTC)
        newest = datetime.fromisoformat(cursor) if cursor else None
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            for when, _raw in chunk:
                if when is not None and when <= now and (newest is None or when > newest):
                    newest = when
            yield Batch(
                [self._raw_mail(raw, when) for when, raw in chunk],
                newest.isoformat() if newest else cursor,
            )
