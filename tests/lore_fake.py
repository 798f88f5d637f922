"""A fake public-inbox on 127.0.0.1 and a free port, for what the real one cannot do.

Used where a test must inject errors (429, 5xx, stalls, an answer cut off
mid-way), record request timing, or serve an answer far larger than the
corpus without holding it. Everything else runs against the real
public-inbox-httpd (tests/pi_server.py). The wire format is public-inbox's:
`POST /<list>/?x=m&q=...` answered by a gzipped mboxrd, 404 for no results.
"""

from __future__ import annotations

import gzip
import re
import threading
import time
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from reviewbot.adapters.sources.lore import received_at, split_mboxrd
from tests.conftest import DATA

SAMPLE_MBOX = (DATA / "mbox" / "rdma-sample.mboxrd").read_bytes()


@dataclass
class Seen:
    at: float
    method: str
    path: str
    query: dict[str, list[str]]
    user_agent: str


def as_public_inbox_mbox(raws: Iterable[bytes]) -> bytes:
    """mboxrd exactly as public-inbox writes it."""
    return b"".join(mboxrd_entry(raw) for raw in raws)


def mboxrd_entry(raw: bytes) -> bytes:
    head, sep, body = raw.partition(b"\n\n")
    body = re.sub(rb"^(>*From )", rb">\1", body, flags=re.M)
    return b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + head + sep + body + b"\n"


def rt_bounds(query: str) -> tuple[int, int]:
    """`rt:A..B` / `rt:A..` → inclusive epoch-second bounds."""
    low, _, high = query.removeprefix("rt:").partition("..")
    return int(low), int(high or 10**11)


def rt_search(raws: Iterable[bytes], cap: int | None = None) -> Callable[[str], bytes]:
    """A search that honours rt:A..B; with `cap`, it returns only the `cap` newest hits."""
    dated = sorted((int(t.timestamp()), r) for r in raws if (t := received_at(r)) is not None)

    def search(q: str) -> bytes:
        low, high = rt_bounds(q)
        hits = [r for t, r in dated if low <= t <= high]
        return as_public_inbox_mbox(hits[-cap:] if cap else hits)

    return search


@dataclass
class FakeLore:
    """A fake public-inbox: answers from a script, then with `search`, else `default`."""

    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    default: tuple[int, dict[str, str], bytes] = (200, {}, gzip.compress(SAMPLE_MBOX))
    stall: float = 0.0
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    search: Callable[[str], bytes] | None = None  # q -> mbox, instead of the default
    # q -> mbox pieces, sent gzipped with chunked transfer encoding as they come
    stream: Callable[[str], Iterator[bytes]] | None = None
    cut_after: int | None = None  # send only this many body bytes of the next answer, then close

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(handler.path)
        self.seen.append(
            Seen(time.monotonic(), handler.command, parsed.path,
                 urllib.parse.parse_qs(parsed.query), handler.headers.get("User-Agent", ""))
        )
        length = int(handler.headers.get("Content-Length") or 0)
        handler.rfile.read(length)
        if self.stall:
            time.sleep(self.stall)
        q = self.seen[-1].query.get("q", [""])[0]
        if self.stream is not None and not self.script:
            self._chunked(handler, self.stream(q))
            return
        status, headers, body = self.script.pop(0) if self.script else self.default
        if self.search is not None and status == 200 and headers == {}:
            mbox = self.search(q)
            status, headers, body = (200, {}, gzip.compress(mbox)) if mbox else (404, {}, b"")
        handler.send_response(status)
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if self.cut_after is not None and status == 200:
            cut, self.cut_after = self.cut_after, None
            handler.wfile.write(body[:cut])
            handler.wfile.flush()
            handler.close_connection = True
            return
        handler.wfile.write(body)

    def _chunked(self, handler: BaseHTTPRequestHandler, pieces: Iterator[bytes]) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/gzip")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        deflate = zlib.compressobj(1, zlib.DEFLATED, 31)

        def send(data: bytes) -> None:
            if data:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        for piece in pieces:
            send(deflate.compress(piece))
        send(deflate.flush())
        handler.wfile.write(b"0\r\n\r\n")


@contextmanager
def serve_fake() -> Iterator[FakeLore]:
    """A FakeLore serving /linux-rdma on 127.0.0.1 and a free port."""
    state = FakeLore()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # chunked answers need it

        def do_GET(self) -> None:
            state.answer(self)

        def do_POST(self) -> None:
            state.answer(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/linux-rdma"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def sample_search(cap: int | None = None) -> Callable[[str], bytes]:
    """rt_search over the 4-message sample mbox."""
    return rt_search(split_mboxrd(SAMPLE_MBOX), cap)
