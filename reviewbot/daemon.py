"""The composition root: wires settings, store and sources into poll loops.

One task per source polls on its interval (with jitter, so several daemons
and lists don't synchronise). Each poll runs the synchronous ingest in a
worker thread under that source's lock, and stops between batches when asked,
so SIGTERM never leaves half a batch: the store commits a batch and its
cursor together.

Watched trees (applied detection) have their own loops and intervals, under
per-tree locks ("tree:<source>"). A one-shot round polls the sources first,
then the trees, so commits are matched against the mail just ingested.

Every poll logs one INFO line (source, new mails, series touched, duration), or
one ERROR line naming the source. SIGHUP reloads the settings, policies and
MAINTAINERS (`reloader`): a bad edit is logged and the running set stays. Polls
run in daemon threads, so SIGTERM is honoured within `stop_timeout` seconds even
when a git or HTTP call is still waiting: the unfinished batch is simply not
committed, and is read again next time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from reviewbot.adapters.kernel.policy_files import PolicyStore, ReloadResult
from reviewbot.adapters.system.systemd import Notifier
from reviewbot.config import DEFAULT_STOP_TIMEOUT
from reviewbot.core.policy.model import PolicySet
from reviewbot.ports import Batch, PollLog, Source, SourceLocks, Store, Tree, TreeStore
from reviewbot.service.backlog.ingest import IngestReport, ingest
from reviewbot.service.backlog.parsing import ParsePool
from reviewbot.service.backlog.refresh import RefreshReport
from reviewbot.service.trees.applied import TreeReport, poll_tree

log = logging.getLogger(__name__)
T = TypeVar("T")


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


@dataclass(frozen=True)
class Reload:
    """What a SIGHUP built from the edited files, swapped in only when all of it is good."""

    pollers: Sequence[Poller]
    tree_pollers: Sequence[TreePoller]
    policies: PolicyStore | None
    apply: Callable[[], None]  # swaps the new settings and backlog context into the app
    stop_timeout: float = DEFAULT_STOP_TIMEOUT


def poll_line(key: str, r: IngestReport, seconds: float) -> str:
    """The INFO line of one source poll."""
    return (f"poll {key}: {r.new} new mails ({r.messages} read, {r.duplicates} duplicates, "
            f"{r.quarantined} quarantined, {r.deleted} deleted), "
            f"{r.series or 0} series touched in {seconds:.1f} s")


def tree_line(key: str, r: TreeReport, seconds: float) -> str:
    """The INFO line of one tree poll."""
    return (f"poll {key}: {r.commits} new commits, {r.matched} matched ({r.added} new), "
            f"{r.dropped} dropped in {seconds:.1f} s")


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
    # loops run beside the pollers until stop (the mail loops: service.mail.schedule.MailLoops.run)
    background: Sequence[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = ()
    # each poll's outcome and every stored batch, for health and metrics (adapters/sql/polllog)
    poll_log: PollLog | None = None
    http: AbstractAsyncContextManager[object] | None = None  # started before READY=1
    # SIGHUP: rebuild from the files (raises with the reason to keep the running set)
    reloader: Callable[[], Reload] | None = None
    on_policies: Callable[[PolicySet], None] | None = None  # a policy edit was accepted
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    results: list[PollResult] = field(default_factory=list)  # newest last, bounded
    abandoned: int = 0  # polls still running when the daemon stopped (see serve())
    _stop_async: asyncio.Event = field(default_factory=asyncio.Event)
    _stop_thread: threading.Event = field(default_factory=threading.Event)
    _first_round: set[int] = field(default_factory=set)  # source pollers that polled once
    _mail_ready: asyncio.Event = field(default_factory=asyncio.Event)
    _refreshing: threading.Lock = field(default_factory=threading.Lock)
    _reload_asked: asyncio.Event = field(default_factory=asyncio.Event)
    _generation: asyncio.Event = field(default_factory=asyncio.Event)  # set: loops end
    _tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    _inflight: set[asyncio.Future[Any]] = field(default_factory=set)

    def stop(self) -> None:
        """Ask every loop to finish its current batch and return."""
        self._stop_thread.set()
        self._stop_async.set()

    def request_reload(self) -> None:
        """What SIGHUP does: the serving loop reloads at its next turn."""
        self._reload_asked.set()

    def _mark(self, key: str, list_name: str, error: str | None = None, *,
              ended: bool = True) -> None:
        """Record a poll's end (or, not `ended`, a stored batch); a failure to record is
        no poll error."""
        if self.poll_log is None:
            return
        try:
            if ended:
                self.poll_log.record(key, list_name, datetime.now(UTC), error)
            else:
                self.poll_log.progress(key, list_name, datetime.now(UTC))
        except Exception as exc:  # the log is for reporting: never fatal
            log.warning("%s: could not record the poll: %s", key, exc)

    def _failed(self, result: PollResult, exc: Exception, what: str) -> None:
        result.error = f"{type(exc).__name__}: {exc}"
        log.error("%s %s failed: %s", what, result.key, result.error)
        log.debug("%s %s: traceback", what, result.key, exc_info=True)

    def poll_once(self, poller: Poller) -> PollResult:
        """One poll of one source: lock, ingest to the end (or until stopped), unlock."""
        key = poller.source.key
        result = PollResult(poller.list_name, key)
        if not self.locks.try_acquire(key):
            result.skipped = "another reviewbot holds this source's lock"
            log.info("poll %s: skipped, %s", key, result.skipped)
            return result
        started = time.monotonic()
        try:
            source = _Stoppable(poller.source, self._stop_thread)
            result.report = ingest(source, self.store, list_name=poller.list_name,
                                   refresher=self.refresh if self.refresher else None,
                                   pool=self.pool,
                                   progress=lambda _: self._mark(key, poller.list_name,
                                                                 ended=False))
            log.info("%s", poll_line(key, result.report, time.monotonic() - started))
        except Exception as exc:  # one bad poll must never kill the daemon
            self._failed(result, exc, "poll")
        finally:
            self.locks.release(key)
        self._mark(key, poller.list_name, result.error)
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
            log.info("poll %s: skipped, %s", key, result.skipped)
            return result
        started = time.monotonic()
        try:
            result.tree_report = poll_tree(poller.tree, self.trees, datetime.now(UTC))
            if self.refresher is not None and result.tree_report.added:
                self.refresh()
            log.info("%s", tree_line(key, result.tree_report, time.monotonic() - started))
        except Exception as exc:  # one bad tree must never kill the daemon
            self._failed(result, exc, "tree poll")
        finally:
            self.locks.release(key)
        self._mark(key, "", result.error)
        self.results.append(result)
        del self.results[:-100]
        return result

    def _in_thread(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Run `fn` in a daemon thread: unlike asyncio.to_thread's workers, a thread still
        waiting on git or the network does not keep the process alive after SIGTERM."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()

        def settle(value: Any, exc: BaseException | None) -> None:
            if not fut.done():
                fut.set_exception(exc) if exc is not None else fut.set_result(value)

        def work() -> None:
            try:
                value, exc = fn(*args), None
            except BaseException as err:  # handed to the awaiting task
                value, exc = None, err
            with contextlib.suppress(RuntimeError):  # the loop is gone: we are exiting
                loop.call_soon_threadsafe(settle, value, exc)

        threading.Thread(target=work, name=f"reviewbot-{fn.__name__}", daemon=True).start()
        self._inflight.add(fut)
        fut.add_done_callback(self._inflight.discard)
        return fut

    async def run_once(self) -> list[PollResult]:
        """Poll every source once, concurrently, then every tree; return what happened."""
        results = list(await asyncio.gather(
            *(self._in_thread(self.poll_once, p) for p in self.pollers)))
        if not self._stop_thread.is_set():
            results.extend(await asyncio.gather(
                *(self._in_thread(self.poll_tree_once, t) for t in self.tree_pollers)))
        return results

    async def run(self, *, once: bool = False) -> int:
        """Serve until stop() (SIGTERM/SIGINT); with `once`, one round and return."""
        loop = asyncio.get_running_loop()
        handlers: list[tuple[signal.Signals, Callable[[], None]]] = [
            (signal.SIGTERM, lambda: self._on_signal(signal.SIGTERM)),
            (signal.SIGINT, lambda: self._on_signal(signal.SIGINT)),
            (signal.SIGHUP, self.request_reload)]
        for sig, handler in handlers:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, handler)
        helpers: list[asyncio.Task[None]] = []
        background: list[asyncio.Task[None]] = []
        try:
            if once:
                results = await self._bounded(self.run_once())
                return 1 if results is None or any(r.error for r in results) else 0
            async with self.http or contextlib.nullcontext():  # bound before READY=1
                self.notifier.notify("READY=1\nSTATUS=polling")
                if self.policies is not None:
                    helpers.append(asyncio.create_task(
                        self._policy_loop(self.policy_check_interval)))
                if self.notifier.watchdog_interval:
                    helpers.append(asyncio.create_task(
                        self._watchdog(self.notifier.watchdog_interval)))
                # the mail loops end on stop, after the mail they are sending
                background += [asyncio.create_task(task(self._stop_async))
                              for task in self.background]
                self._start_loops()
                while not self._stop_async.is_set():
                    await _first(self._stop_async.wait(), self._reload_asked.wait())
                    if self._reload_asked.is_set() and not self._stop_async.is_set():
                        self._reload_asked.clear()
                        await self._reload()
                await self._bounded(asyncio.gather(*self._tasks.values(), *background,
                                                   return_exceptions=True))
            return 0
        finally:
            for task in (*helpers, *self._tasks.values(), *background):
                task.cancel()
            for sig, _ in handlers:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            if self.pool is not None:
                self.pool.close()

    async def _bounded(self, work: Awaitable[T]) -> T | None:
        """`work`, but once stopping, no longer than stop_timeout for polls still running."""
        task = asyncio.ensure_future(work)
        while not task.done():
            await _first(task, self._stop_async.wait())
            if self._stop_async.is_set() and not task.done():
                _, pending = await asyncio.wait({task}, timeout=self.stop_timeout)
                if pending:
                    self.abandoned = len(self._inflight)
                    log.warning("stopping without %d poll(s) still running after %.0f s: "
                                "their unfinished batch is read again next time",
                                self.abandoned, self.stop_timeout)
                    task.add_done_callback(lambda t: t.cancelled() or t.exception())
                    task.cancel()
                    return None
        return task.result()

    def _start_loops(self) -> None:
        """One loop per source and per tree; a reload's new loop for a source starts only
        after the old one for it finished its poll (one poll per source at a time)."""
        self._generation = asyncio.Event()
        for poller in self.pollers:
            self._spawn(poller.source.key, self._loop, poller)
        for tree_poller in self.tree_pollers:
            self._spawn(tree_poller.key, self._tree_loop, tree_poller)
        if not self.pollers and not self.tree_pollers:
            log.warning("no sources or trees configured: idle until a reload (SIGHUP) "
                        "brings some")

    def _spawn(self, key: str, loop_fn: Callable[[Any, asyncio.Event], Awaitable[None]],
               poller: Any) -> None:
        previous, generation = self._tasks.get(key), self._generation

        async def after_previous() -> None:
            if previous is not None:
                await asyncio.wait({previous})
            await loop_fn(poller, generation)

        self._tasks[key] = asyncio.create_task(after_previous())

    async def _reload(self) -> None:
        if self.reloader is None:
            log.info("SIGHUP: nothing to reload")
            return
        self.notifier.notify(f"RELOADING=1\nSTATUS=reloading\n"
                             f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")
        log.info("SIGHUP: reloading settings, policies and MAINTAINERS")
        try:
            new = await asyncio.to_thread(self.reloader)
        except Exception as exc:
            log.error("reload failed, still running the previous settings: %s", exc)
        else:
            self._generation.set()  # the old loops end after their current poll
            self.pollers, self.tree_pollers = new.pollers, new.tree_pollers
            self.policies, self.stop_timeout = new.policies, new.stop_timeout
            new.apply()
            self._tasks = {k: t for k, t in self._tasks.items() if not t.done()}
            self._start_loops()
            log.info("reloaded: %d sources, %d trees", len(self.pollers), len(self.tree_pollers))
        self.notifier.notify("READY=1\nSTATUS=polling")

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("%s: finishing the current batch and stopping", sig.name)
        self.notifier.notify("STOPPING=1")
        self.stop()

    async def _sleep(self, seconds: float, generation: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_first(self._stop_async.wait(), generation.wait()), seconds)

    def _running(self, generation: asyncio.Event) -> bool:
        return not (self._stop_async.is_set() or generation.is_set())

    async def _loop(self, poller: Poller, generation: asyncio.Event) -> None:
        while self._running(generation):
            await self._in_thread(self.poll_once, poller)
            self._first_round.add(id(poller))
            if len(self._first_round) >= len(self.pollers):
                self._mail_ready.set()
            await self._sleep(poller.interval * (1 + poller.jitter * self.sleep_random()),
                              generation)

    async def _tree_loop(self, poller: TreePoller, generation: asyncio.Event) -> None:
        # Commits are matched against stored mail: let every list catch up once
        # first, or a fresh install would find the commits before the postings.
        if self.pollers:
            await _first(self._stop_async.wait(), self._mail_ready.wait(), generation.wait())
        while self._running(generation):
            await self._in_thread(self.poll_tree_once, poller)
            await self._sleep(poller.interval * (1 + poller.jitter * self.sleep_random()),
                              generation)

    def reload_policies(self) -> ReloadResult | None:
        """Pick up edited policy files; a bad edit keeps the last good set (and logs why)."""
        if self.policies is None:
            return None
        result = self.policies.reload_if_changed()
        if result.applied and self.on_policies is not None:
            self.on_policies(self.policies.current)
        return result

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


async def _first(*waits: Awaitable[Any]) -> None:
    """Return when the first of `waits` is done; the others are cancelled (a task that
    was passed in is left running)."""
    futures = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for f, w in zip(futures, waits, strict=True):
            if f is not w and not f.done():
                f.cancel()
