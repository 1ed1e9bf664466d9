"""Worker processes that may die: one file that crashes its worker costs that file, not the run.

`ProcessPoolExecutor` breaks as a whole when one of its workers dies (a
native parser that overflows its stack on deeply nested code, the kernel's
out-of-memory killer): every pending call fails with `BrokenProcessPool`
and nothing says which input was to blame. `run_isolated` keeps its own
workers instead. Each one is given a few items at a time and answers each
item as soon as it is done, so when a worker dies the parent knows exactly
which item it was working on: that item's result is `died(item, reason)`,
the items it had not started go back to the queue, and a new worker takes
over. Results are the same for any number of workers.

Workers ignore SIGINT: an interrupt reaches the parent (the whole process
group gets it), which stops them all. Workers never write files; the parent
does, as results arrive (see `flyteres.migrate.writes`).

Workers are forked when the parent is single-threaded on Linux (they start in
a few milliseconds with everything already imported); otherwise they come from
a fork server (forking a threaded process can deadlock), which imports what
`preload` names once.
"""

from __future__ import annotations

import contextlib
import faulthandler
import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import DefaultContext, ForkContext, ForkServerContext, SpawnContext
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Generic, TypeVar, cast

__all__ = ["death_reason", "memory_share", "run_isolated"]

T = TypeVar("T")
R = TypeVar("R")


def death_reason(exitcode: int | None) -> str:
    """How a worker process ended, in words ("killed by SIGSEGV", "exited with status 1")."""
    if exitcode is None:
        return "stopped answering"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exited with status {exitcode}"


def _serve(
    conn: Connection,
    func: Callable[[T], R],
    initializer: Callable[[], None] | None,
    inherited: Sequence[int],
    memory: int | None,
) -> None:
    """A worker's loop: take a batch of (index, item), answer each with (index, ok, result)."""
    # A forked worker holds copies of the parent's ends of its siblings' pipes: closed here,
    # or a sibling would never see its pipe close when the parent dies, and would wait forever.
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The parent reports a crash with the file it was on; a traceback dump from here is noise.
    faulthandler.disable()
    if memory is not None:
        _limit_memory(memory)
    if initializer is not None:
        initializer()
    while True:
        try:
            batch: list[tuple[int, T]] | None = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if batch is None:
            return
        for index, item in batch:
            try:
                answer: tuple[int, bool, object] = (index, True, func(item))
            except Exception as exc:  # the function is meant never to raise; say what did
                answer = (index, False, f"{type(exc).__name__}: {exc}")
            try:
                conn.send(answer)
            except (BrokenPipeError, OSError):
                return


def _limit_memory(limit: int) -> None:
    """Cap this process's address space (RLIMIT_AS); never above the limit already set."""
    try:
        import resource  # noqa: PLC0415 - POSIX only

        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        # A forked worker starts with its parent's address space: never cap below that.
        with contextlib.suppress(OSError, ValueError, IndexError):
            with open("/proc/self/statm") as fh:
                current = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            limit = max(limit, current + 256 * 1024 * 1024)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # not on this system: the worker runs without a cap


def memory_share(workers: int, fraction: float = 0.75) -> int | None:
    """`fraction` of the machine's memory shared among `workers` (None where it is not known)."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return int(total * fraction / max(1, workers)) if total > 0 else None


@dataclass
class _Worker(Generic[T]):
    process: BaseProcess
    conn: Connection
    busy: deque[tuple[int, T]] = field(default_factory=deque)


def _context() -> DefaultContext | ForkContext | ForkServerContext | SpawnContext:
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def run_isolated(  # noqa: PLR0915 - one supervisor loop; its helpers share its state
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    workers: int,
    died: Callable[[T, str], R],
    done: Callable[[int, R], None] | None = None,
    initializer: Callable[[], None] | None = None,
    preload: Sequence[str] = (),
    batch: int = 1,
    memory: int | None = None,
) -> list[R]:
    """`[func(item) for item in items]`, computed by up to `workers` worker processes.

    `func` and `initializer` must be importable module-level functions. An item
    whose worker dies (or whose call raises) gets `died(item, reason)` instead.
    `done(index, result)` runs in this process as each result arrives (in
    completion order), so the caller can act on it at once. Up to `batch` items
    are handed to a worker at a time (fewer messages for many small items).
    `memory` caps each worker's address space in bytes (where the system allows):
    an item that needs more fails alone, as a worker that dies does.
    """
    results: list[R | None] = [None] * len(items)
    if not items:
        return []
    context = _context()
    if preload and isinstance(context, ForkServerContext):
        context.set_forkserver_preload(list(preload))
    queue: deque[tuple[int, T]] = deque(enumerate(items))
    pool: list[_Worker[T]] = []
    remaining = len(items)

    def finish(index: int, result: R) -> None:
        nonlocal remaining
        results[index] = result
        remaining -= 1
        if done is not None:
            done(index, result)

    def start() -> None:
        parent, child = context.Pipe()
        # Only a forked child has the parent's descriptors under the same numbers.
        inherited = [w.conn.fileno() for w in pool] + [parent.fileno()] if isinstance(context, ForkContext) else []
        process = context.Process(target=_serve, args=(child, func, initializer, inherited, memory), daemon=True)
        process.start()
        child.close()
        pool.append(_Worker(process, parent))

    def feed(worker: _Worker[T]) -> None:
        if worker.busy or not queue:
            return
        size = max(1, min(batch, len(queue) // (2 * len(pool)) or 1))
        taken = [queue.popleft() for _ in range(min(size, len(queue)))]
        worker.busy.extend(taken)
        with contextlib.suppress(BrokenPipeError, OSError):  # it died; its sentinel says so below
            worker.conn.send(taken)

    def receive(worker: _Worker[T]) -> bool:
        """Take one answer; False when the worker's end is closed (it died)."""
        try:
            index, ok, payload = worker.conn.recv()
        except (EOFError, OSError):
            return False
        expected, item = worker.busy.popleft()
        assert index == expected, "a worker answers its items in order"
        finish(index, cast("R", payload) if ok else died(item, f"internal error: {payload}"))
        return True

    def bury(worker: _Worker[T]) -> None:
        """A worker ended: take what it answered, charge the item it was on, requeue the rest."""
        while worker.busy and worker.conn.poll() and receive(worker):
            pass
        worker.process.join()
        worker.conn.close()
        pool.remove(worker)
        if worker.busy:
            index, item = worker.busy.popleft()
            finish(index, died(item, f"its worker process died ({death_reason(worker.process.exitcode)})"))
            queue.extendleft(reversed(worker.busy))

    finished = False
    terminated = _TerminateAsException()
    try:
        for _ in range(min(workers, len(items))):
            start()
        for worker in pool:
            feed(worker)
        while remaining:
            by_conn = {id(w.conn): w for w in pool}
            by_sentinel = {w.process.sentinel: w for w in pool}
            ready = wait([*(w.conn for w in pool), *by_sentinel])
            ended: list[_Worker[T]] = []
            for handle in ready:
                if isinstance(handle, int):
                    ended.append(by_sentinel[handle])
                    continue
                worker = by_conn[id(handle)]
                if worker.busy and receive(worker):
                    feed(worker)
                elif worker not in ended:
                    ended.append(worker)
            for worker in ended:
                if worker in pool and (not worker.process.is_alive() or worker.conn.closed):
                    bury(worker)
                elif worker in pool:
                    # Its pipe closed but the process lingers: end it and charge its item.
                    worker.process.kill()
                    bury(worker)
            while queue and len(pool) < workers and len(pool) < remaining:
                start()
            for worker in pool:
                feed(worker)
        finished = True
    finally:
        terminated.restore()
        for worker in pool:
            # Interrupted (or the caller's `done` raised): stop at once, do not wait for a long file.
            if not finished:
                worker.process.kill()
                continue
            try:
                worker.conn.send(None)
            except (BrokenPipeError, OSError):
                worker.process.kill()
        for worker in pool:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.conn.close()
        terminated.deliver()  # SIGTERM came: end as it would have, now that the workers are gone
    return cast("list[R]", results)  # every slot was filled above


class _Terminated(BaseException):
    """SIGTERM arrived while workers ran (raised so they are stopped on the way out)."""


class _TerminateAsException:
    """While workers run, SIGTERM (when it would simply end the process) raises `_Terminated`,
    so the workers are stopped first; `deliver` then ends the process by SIGTERM as it would have."""

    def __init__(self) -> None:
        self.previous: signal.Handlers | None = None
        self.received = False
        if threading.current_thread() is threading.main_thread() and (
            signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        ):
            self.previous = signal.SIG_DFL
            signal.signal(signal.SIGTERM, self._raise)

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        self.received = True
        raise _Terminated

    def restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
            self.previous = None

    def deliver(self) -> None:
        if self.received:
            signal.raise_signal(signal.SIGTERM)
