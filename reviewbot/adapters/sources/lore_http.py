"""Politeness towards lore: retries with backoff, and one gate per host.

urllib3's Retry (mounted on liblore's requests session) backs off on 429
and 5xx, honouring Retry-After up to a cap, never faster than the minimum
interval. The host gate bounds what this process asks of one server: at
most CONCURRENCY requests in flight, `min_interval` between their starts.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from urllib3.util.retry import Retry


def polite_retry(min_interval: float, retries: int, max_retry_after: float) -> Retry:
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


CONCURRENCY = 2  # conventions §4: at most 2 concurrent requests


class HostGate:
    """At most CONCURRENCY requests in flight to one host from this process, and at
    least a source's `min_interval` between their starts.

    Taken in the caller's thread, never in the lore thread, and held by a
    streamed answer until it is closed: its body is still in flight, while
    the lore thread goes on serving other sources' reads between its pieces.
    """

    def __init__(self) -> None:
        self._slots = threading.BoundedSemaphore(CONCURRENCY)
        self._pace = threading.Lock()
        self._last_start = 0.0

    @contextlib.contextmanager
    def slot(self, min_interval: float) -> Iterator[None]:
        with self._slots:
            with self._pace:
                wait = self._last_start + min_interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                self._last_start = time.monotonic()
            yield


_gates: dict[str, HostGate] = {}
_gates_lock = threading.Lock()


def host_gate(netloc: str) -> HostGate:
    """The gate shared by every LoreSource of this process that talks to `netloc`."""
    with _gates_lock:
        return _gates.setdefault(netloc, HostGate())
