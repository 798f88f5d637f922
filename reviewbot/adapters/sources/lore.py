"""Source: a public-inbox archive over HTTP (lore.kernel.org or a mirror).

Polling searches received time (`rt:<lower>..`, in epoch seconds so no date
parser is involved) and downloads the results as one gzipped mbox
(`POST ?x=m`). public-inbox 1.9 streams *every* match in that one answer,
newest-filed first (it pages Xapian internally and ignores `o=` for mbox
output; verified against public-inbox-httpd serving the 2025 corpus), so:

- the answer is read as a stream (lore_mbox.py) and handed out in batches of
  `batch_size`, so memory does not grow with the answer;
- a long range is walked as consecutive received-time *windows*, sized to
  about `window_target` messages each from what the previous window held;
  every batch's cursor names the window it came from, so an interrupted poll
  resumes at that window (the store skips what it already has);
- within a window, after each answer the upper bound moves down to the oldest
  message received, until an answer brings nothing unseen: a complete server
  needs two requests, one that caps mbox results is walked back to the end;
- now and then a poll looks further back, for mail filed late
  (lore_schedule.py: which look-backs, how often, and why).

`new.atom` (25 entries) is never relied upon.

All liblore use lives in this module and runs in one dedicated thread
(conventions §5), the reading of a streamed answer included. HTTP goes
through liblore's LoreNode with an injected requests session that adds the
polite defaults liblore lacks (lore_http.py): backoff on 429/5xx honouring
Retry-After; and every request passes a per-host gate: at most 2 in flight
from the process (a streamed answer holds its slot until it is closed), a
minimum interval between starts.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import liblore
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import HTTPError as Urllib3Error

import reviewbot
from reviewbot.adapters.sources.lore_http import host_gate, polite_retry
from reviewbot.adapters.sources.lore_mbox import (
    Gunzip,
    LoreError,
    MboxrdStream,
    message_id_of,
    received_at,
    split_mboxrd,
)
from reviewbot.adapters.sources.lore_schedule import (
    DEFAULT_TIERS,
    EPOCH,
    CursorError,
    LoreCursor,
    Tier,
    plan_poll,
)
from reviewbot.ports import Batch, Deletion, RawMail

__all__ = [
    "DEFAULT_TIERS",
    "CursorError",
    "LoreError",
    "LoreSource",
    "Tier",
    "message_id_of",
    "quote_msgid",
    "received_at",
    "split_mboxrd",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

_CHUNK = 64 * 1024  # bytes read from a streamed answer at a time

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


def quote_msgid(message_id: str) -> str:
    """A Message-ID as a URL path segment (`/` → %2F, as lore expects)."""
    return urllib.parse.quote(message_id.strip("<>"), safe="@")


def _next_span(span: int, count: int, target: int) -> int:
    """The next window's length: aimed at `target` messages, changed at most 4x a step."""
    factor = 4.0 if count == 0 else min(4.0, max(0.25, target / count))
    return max(60, int(span * factor))


class LoreSource:
    """Mail of one list on a public-inbox server, by received time.

    The cursor (lore_schedule.LoreCursor) holds the newest received time
    stored; each poll asks again from `fudge` before it, and the look-back
    `tiers` now and then from further back, for mail the archive filed late
    (the store drops the duplicates). Without a cursor, polling starts at
    `since`, or at the archive's beginning when that is None (the whole list:
    give `since` for a big list on lore, or mirror its epochs).
    `clock` is the wall clock that schedules the look-backs.
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
        tiers: Sequence[Tier] = DEFAULT_TIERS,
        window_target: int = 1000,
        first_window: timedelta = timedelta(days=1),
        retries: int = 5,
        max_retry_after: float = 300.0,
        timeout: tuple[float, float] = (5.0, 30.0),
        cache_dir: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if since is not None and since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, not {batch_size}")
        if window_target < 1:
            raise ValueError(f"window_target must be positive, not {window_target}")
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
        self.tiers = tuple(tiers)
        self.window_target = window_target
        self.first_window = first_window
        agent = f"reviewbot/{reviewbot.__version__}"
        self.user_agent = f"{agent}+{user_agent}" if user_agent else agent
        self._clock = clock
        self._min_interval = min_interval
        self._retries = retries
        self._max_retry_after = max_retry_after
        self._timeout = timeout
        self._cache_dir = cache_dir
        self._node: liblore.LoreNode | None = None
        self._gate = host_gate(parsed.netloc)

    @property
    def key(self) -> str:
        return f"lore:{self.list_name}"

    def _get_node(self) -> liblore.LoreNode:
        # Built lazily, inside the lore thread: no I/O in the constructor.
        if self._node is None:
            session = requests.Session()
            session.headers["User-Agent"] = self.user_agent
            adapter = HTTPAdapter(
                max_retries=polite_retry(self._min_interval, self._retries, self._max_retry_after)
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

    def _answer(self, query: str) -> Iterator[bytes]:
        """The raw messages of one search, read as they arrive (newest filed first)."""
        # Not LoreNode.get_mbox_by_query: it POSTs the body "x=m", and
        # public-inbox 1.9 reads any body starting "x=" (not "x=0") as the
        # search form's "full threads" button, so every hit came back with
        # its whole thread (measured: 9 messages instead of 3 for one window).
        # An empty body gives exactly the hits; liblore still does the HTTP.
        url = f"{self.base_url}/?x=m&q={urllib.parse.quote_plus(query)}"
        where = f"search {query!r} on {self.base_url}"

        def open_stream() -> requests.Response:
            try:
                return self._get_node().request("POST", url, data=b"", stream=True)
            except liblore.RemoteError as exc:
                raise LoreError(f"{where} failed: {exc}") from exc

        with self._gate.slot(self._min_interval):
            response = _in_lore_thread(open_stream)
            try:
                if response.status_code == 404:  # public-inbox: "No results found"
                    return
                if response.status_code != 200:
                    raise LoreError(f"{where} failed: HTTP {response.status_code}")
                chunks = response.iter_content(_CHUNK)

                def read() -> bytes | None:
                    try:
                        return next(chunks, None)
                    except (requests.RequestException, Urllib3Error) as exc:
                        raise LoreError(f"{where} broke off: {exc}") from exc

                gunzip, mbox = Gunzip(), MboxrdStream()
                while (chunk := _in_lore_thread(read)) is not None:
                    for piece in gunzip.feed(chunk):
                        yield from mbox.feed(piece)
                for piece in gunzip.finish():
                    yield from mbox.feed(piece)
                yield from mbox.close()
            finally:
                _in_lore_thread(response.close)

    def fetch_thread(self, message_id: str) -> list[RawMail]:
        """The whole thread containing `message_id` (`/<msgid>/t.mbox.gz`)."""
        mid = message_id.strip().strip("<>")

        def call() -> bytes:
            try:
                return self._get_node().get_mbox_by_msgid(mid)
            except liblore.RemoteError as exc:
                raise LoreError(f"thread of <{mid}> on {self.base_url}: {exc}") from exc

        with self._gate.slot(self._min_interval):
            data = _in_lore_thread(call)
        return [self._raw_mail(raw) for raw in split_mboxrd(data)]

    def _raw_mail(self, raw: bytes) -> RawMail:
        return self._mail(raw, message_id_of(raw), received_at(raw))

    def _mail(self, raw: bytes, mid: str | None, received: datetime | None) -> RawMail:
        origin = f"{self.base_url}/{quote_msgid(mid)}/raw" if mid else self.base_url
        return RawMail(raw, origin, received)

    def _window(self, start: int, end: int | None) -> Iterator[RawMail]:
        """Every message received in [start, end] (end None: open), each once."""
        # Keys (not bytes) of what this window handed out, with received times. A
        # later answer asks only up to (its oldest + fudge), so keys received
        # after that are dropped: answers come newest first, so this stays small
        # however big the window (memory must not grow with the answer).
        seen: dict[str, int | None] = {}
        room = 1024
        fudge = int(self.fudge.total_seconds())
        upper = end
        while True:
            # Five digits or more: public-inbox reads the bound as epoch seconds.
            query = f"rt:{start:05d}..{'' if upper is None else f'{upper:05d}'}"
            fresh, oldest = 0, None
            for raw in self._answer(query):
                mid = message_id_of(raw)
                # Without a Message-ID the bytes themselves are the identity.
                key = mid or hashlib.sha256(raw).hexdigest()
                if key in seen:
                    continue
                fresh += 1
                when = received_at(raw)
                at = None if when is None else int(when.timestamp())
                if at is not None:
                    oldest = at if oldest is None else min(oldest, at)
                seen[key] = at
                if len(seen) > room and oldest is not None:
                    keep = oldest + fudge
                    seen = {k: t for k, t in seen.items() if t is None or t <= keep}
                    room = max(1024, 2 * len(seen))
                yield self._mail(raw, mid, when)
            if not fresh or oldest is None or oldest <= start:
                return
            next_upper = oldest + fudge if end is None else min(oldest + fudge, end)
            if upper is not None and next_upper >= upper:
                return
            upper = next_upper

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        """Batches of `batch_size`, window after window; each cursor is valid once stored."""
        now = self._clock()
        # A bad stored cursor raises CursorError (a ValueError) before any request.
        plan = plan_poll(LoreCursor.parse(cursor), now=now, since=self.since,
                         fudge=self.fudge, tiers=self.tiers)
        state, newest = plan.cursor, plan.cursor.newest
        now_ts, start = int(now.timestamp()), int(plan.lower.timestamp())
        # A whole archive (no since, no cursor) gives no rate to size windows
        # by, and growing them from 1970 ends in one window holding everything.
        span = None if plan.lower == EPOCH else int(self.first_window.total_seconds())
        pending: list[RawMail | Deletion] = []
        messages = windows = 0

        def at(when: int) -> datetime:
            return datetime.fromtimestamp(when, UTC)

        while True:
            end = None if span is None or start + span > now_ts else start + span - 1
            count = 0
            windows += 1
            for mail in self._window(start, end):
                # A full batch waits for the next message, so the poll's last
                # batch carries the final cursor (no empty batch after it).
                if len(pending) >= self.batch_size:
                    yield Batch(pending, replace(state, newest=newest, resume=at(start)).format())
                    pending = []
                count += 1
                pending.append(mail)
                when = mail.received
                # A received time in the future (a sender's bad clock in
                # Received:) must not move the cursor past mail yet to come.
                if when is not None and when <= now and (newest is None or when > newest):
                    newest = when
            messages += count
            if end is None or span is None:
                break
            start, span = end + 1, _next_span(span, count, self.window_target)
            if pending:
                yield Batch(pending, replace(state, newest=newest, resume=at(start)).format())
                pending = []
        final = replace(state, newest=newest, resume=None).format()
        log.info("lore %s: %d messages received since %s, %d windows%s", self.list_name,
                 messages, plan.lower.isoformat(), windows,
                 f", look-backs {', '.join(plan.tiers)}" if plan.tiers else "")
        if pending or (final is not None and final != cursor):
            yield Batch(pending, final)
