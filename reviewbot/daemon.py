"""The composition root: wires settings, store and sources into poll loops.

One task per source polls on its interval (with jitter, so several daemons
and lists don't synchronise). Each poll runs the synchronous ingest in a
worker thread under that source's lock, and stops between batches when asked,
so SIGTERM never leaves half a batch: the store commits a batch and its
cursor together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from reviewbot.adapters.locks import SourceLocks
from reviewbot.adapters.systemd import Notifier
from reviewbot.ports import Batch, Source, Store
from reviewbot.service import IngestReport, ingest

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Poller:
    """One configured source and how often to poll it."""

    list_name: str
    source: Source
    interval: float  # seconds between polls
    jitter: float = 0.1  # up to this fraction of `interval` is added at random


@dataclass(slots=True)
class PollResult:
    list_name: str
    key: str
    report: IngestReport | None = None
    skipped: str | None = None  # why nothing ran (lock held elsewhere)
    error: str | None = None


class _Stoppable:
    """Wraps a Source so its batches end when `stop` is set (between batches)."""

    def __init__(self, source: Source, stop: threading.Event) -> None:
        self._source = source
        self._stop = stop

    @property
    def key(self) -> str:
        return self._source.key

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        for batch in self._source.batches(cursor):
            yield batch
            if self._stop.is_set():
                return


@dataclass
class Daemon:
    store: Store
    pollers: Sequence[Poller]
    locks: SourceLocks
    notifier: Notifier
    sleep_random: Callable[[], float] = random.random
    results: list[PollResult] = field(default_factory=list)  # newest last, bounded
    _stop_async: asyncio.Event = field(default_factory=asyncio.Event)
    _stop_thread: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        """Ask every loop to finish its current batch and return."""
        self._stop_thread.set()
        self._stop_async.set()

    def poll_once(self, poller: Poller) -> PollResult:
        """One poll of one source: lock, ingest to the end (or until stopped), unlock."""
        key = poller.source.key
        result = PollResult(poller.list_name, key)
        if not self.locks.try_acquire(key):
            result.skipped = "another reviewbot holds this source's lock"
            log.info("%s: skipped, %s", key, result.skipped)
            return result
        try:
            source = _Stoppable(poller.source, self._stop_thread)
            result.report = ingest(source, self.store, list_name=poller.list_name)
            log.info("%s: %s", key, result.report.summary(0).rsplit(" in ", 1)[0])
        except Exception as exc:  # one bad poll must never kill the daemon
            result.error = f"{type(exc).__name__}: {exc}"
            log.exception("%s: poll failed", key)
        finally:
            self.locks.release(key)
        self.results.append(result)
        del self.results[:-100]
        return result

    async def run_once(self) -> list[PollResult]:
        """Poll every source once, concurrently, and return what happened."""
        return list(await asyncio.gather(
            *(asyncio.to_thread(self.poll_once, p) for p in self.pollers)))

    async def run(self, *, once: bool = False) -> int:
        """Serve until stop() (SIGTERM/SIGINT); with `once`, one round and return."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            if once:
                results = await self.run_once()
                return 1 if any(r.error for r in results) else 0
            self.notifier.notify("READY=1\nSTATUS=polling")
            async with asyncio.TaskGroup() as tg:
                for poller in self.pollers:
                    tg.create_task(self._loop(poller))
                if self.notifier.watchdog_interval:
                    tg.create_task(self._watchdog(self.notifier.watchdog_interval))
            return 0
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("%s: finishing the current batch and stopping", sig.name)
        self.notifier.notify("STOPPING=1")
        self.stop()

    async def _loop(self, poller: Poller) -> None:
        while not self._stop_async.is_set():
            await asyncio.to_thread(self.poll_once, poller)
            delay = poller.interval * (1 + poller.jitter * self.sleep_random())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_async.wait(), delay)

    async def _watchdog(self, every: float) -> None:
        while not self._stop_async.is_set():
            self.notifier.notify("WATCHDOG=1")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_async.wait(), every)
