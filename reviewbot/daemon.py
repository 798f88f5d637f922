"""The composition root: wires settings, store and sources into poll loops.

One task per source polls on its interval (with jitter, so several daemons
and lists don't synchronise). Each poll runs the synchronous ingest in a
worker thread under that source's lock, and stops between batches when asked,
so SIGTERM never leaves half a batch: the store commits a batch and its
cursor together.

Watched trees (applied detection) have their own loops and intervals, under
per-tree locks ("tree:<source>"). A one-shot round polls the sources first,
then the trees, so commits are matched against the mail just ingested.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reviewbot.adapters.kernel.policy_files import PolicyStore, ReloadResult
from reviewbot.adapters.system.systemd import Notifier
from reviewbot.ports import Batch, PollLog, Source, SourceLocks, Store, Tree, TreeStore
from reviewbot.service.ingest import IngestReport, ingest
from reviewbot.service.parsing import ParsePool
from reviewbot.service.refresh import RefreshReport
from reviewbot.service.trees import TreeReport, poll_tree

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Poller:
    """One configured source and how often to poll it."""

    list_name: str
    source: Source
    interval: float  # seconds between polls
    jitter: float = 0.1  # up to this fraction of `interval` is added at random


@dataclass(frozen=True, slots=True)
class TreePoller:
    """One watched tree and how often to fetch it."""

    tree: Tree
    interval: float
    jitter: float = 0.1

    @property
    def key(self) -> str:
        return f"tree:{self.tree.source}"


@dataclass(slots=True)
class PollResult:
    list_name: str  # the list, or the tree's source for a tree poll
    key: str
    report: IngestReport | None = None
    tree_report: TreeReport | None = None
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
    tree_pollers: Sequence[TreePoller] = ()
    trees: TreeStore | None = None  # required when tree_pollers is not empty
    policies: PolicyStore | None = None  # loaded (valid) before the daemon is built
    # brings stored series up to date after each poll (None: ingest only, as in tests)
    refresher: Callable[[], RefreshReport] | None = None
    pool: ParsePool | None = None  # workers for big polls (a first ingest); closed on exit
    policy_check_interval: float = 60.0
    # loops run beside the pollers until stop (the mail loops: service.schedule.MailLoops.run)
    background: Sequence[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = ()
    poll_log: PollLog | None = None  # each source poll's outcome, for health and metrics
    http: AbstractAsyncContextManager[object] | None = None  # started before READY=1
    results: list[PollResult] = field(default_factory=list)  # newest last, bounded
    _stop_async: asyncio.Event = field(default_factory=asyncio.Event)
    _stop_thread: threading.Event = field(default_factory=threading.Event)
    _first_round: set[int] = field(default_factory=set)  # source pollers that polled once
    _mail_ready: asyncio.Event = field(default_factory=asyncio.Event)
    _refreshing: threading.Lock = field(default_factory=threading.Lock)

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
        started = time.monotonic()
        try:
            source = _Stoppable(poller.source, self._stop_thread)
            result.report = ingest(source, self.store, list_name=poller.list_name,
                                   refresher=self.refresh if self.refresher else None,
                                   pool=self.pool)
            log.info("%s: %s", key, result.report.summary(time.monotonic() - started))
        except Exception as exc:  # one bad poll must never kill the daemon
            result.error = f"{type(exc).__name__}: {exc}"
            log.exception("%s: poll failed", key)
        finally:
            self.locks.release(key)
        if self.poll_log is not None:
            try:
                self.poll_log.record(key, poller.list_name, datetime.now(UTC), result.error)
            except Exception as exc:  # the log is for reporting: never fatal
                log.warning("%s: recording the poll failed: %s", key, exc)
        self.results.append(result)
        del self.results[:-100]
        return result

    def refresh(self) -> RefreshReport:
        """One refresh at a time in this process (pollers run in threads)."""
        assert self.refresher is not None
        with self._refreshing:
            return self.refresher()

    def poll_tree_once(self, poller: TreePoller) -> PollResult:
        """One poll of one tree: lock, fetch, match, store, unlock. A failing tree never raises."""
        key = poller.key
        result = PollResult(poller.tree.source, key)
        if self.trees is None:
            raise RuntimeError("Daemon.trees is needed to poll trees")
        if not self.locks.try_acquire(key):
            result.skipped = "another reviewbot holds this tree's lock"
            log.info("%s: skipped, %s", key, result.skipped)
            return result
        try:
            result.tree_report = poll_tree(poller.tree, self.trees, datetime.now(UTC))
            if self.refresher is not None and result.tree_report.added:
                self.refresh()
        except Exception as exc:  # one bad tree must never kill the daemon
            result.error = f"{type(exc).__name__}: {exc}"
            log.exception("%s: tree poll failed", key)
        finally:
            self.locks.release(key)
        self.results.append(result)
        del self.results[:-100]
        return result

    async def run_once(self) -> list[PollResult]:
        """Poll every source once, concurrently, then every tree; return what happened."""
        results = list(await asyncio.gather(
            *(asyncio.to_thread(self.poll_once, p) for p in self.pollers)))
        if not self._stop_thread.is_set():
            results.extend(await asyncio.gather(
                *(asyncio.to_thread(self.poll_tree_once, t) for t in self.tree_pollers)))
        return results

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
            async with self.http or contextlib.nullcontext(), asyncio.TaskGroup() as tg:
                self.notifier.notify("READY=1\nSTATUS=polling")
                for poller in self.pollers:
                    tg.create_task(self._loop(poller))
                for tree_poller in self.tree_pollers:
                    tg.create_task(self._tree_loop(tree_poller))
                if self.policies is not None:
                    tg.create_task(self._policy_loop(self.policy_check_interval))
                for task in self.background:
                    tg.create_task(task(self._stop_async))
                if self.notifier.watchdog_interval:
                    tg.create_task(self._watchdog(self.notifier.watchdog_interval))
            return 0
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            if self.pool is not None:
                self.pool.close()

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("%s: finishing the current batch and stopping", sig.name)
        self.notifier.notify("STOPPING=1")
        self.stop()

    async def _loop(self, poller: Poller) -> None:
        while not self._stop_async.is_set():
            await asyncio.to_thread(self.poll_once, poller)
            self._first_round.add(id(poller))
            if len(self._first_round) >= len(self.pollers):
                self._mail_ready.set()
            delay = poller.interval * (1 + poller.jitter * self.sleep_random())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_async.wait(), delay)

    async def _tree_loop(self, poller: TreePoller) -> None:
        # Commits are matched against stored mail: let every list catch up once
        # first, or a fresh install would find the commits before the postings.
        if self.pollers:
            stop = asyncio.ensure_future(self._stop_async.wait())
            ready = asyncio.ensure_future(self._mail_ready.wait())
            await asyncio.wait({stop, ready}, return_when=asyncio.FIRST_COMPLETED)
            for f in (stop, ready):
                f.cancel()
        while not self._stop_async.is_set():
            await asyncio.to_thread(self.poll_tree_once, poller)
            delay = poller.interval * (1 + poller.jitter * self.sleep_random())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_async.wait(), delay)

    def reload_policies(self) -> ReloadResult | None:
        """Pick up edited policy files; a bad edit keeps the last good set (and logs why)."""
        return self.policies.reload_if_changed() if self.policies is not None else None

    async def _policy_loop(self, every: float) -> None:
        while not self._stop_async.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_async.wait(), every)
            if not self._stop_async.is_set():
                await asyncio.to_thread(self.reload_policies)

    async def _watchdog(self, every: float) -> None:
        while not self._stop_async.is_set():
            self.notifier.notify("WATCHDOG=1")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_async.wait(), every)
