"""CPU-heavy work off the event loop: QR codes and PDF files, drawn in worker processes.

A thread would not do. Python runs one thread at a time: while a thread draws, the
loop gets its turn back only every few milliseconds, at every socket it writes to
(measured here: a round trip on the loop took 31 ms instead of 0.1 ms while a thread
drew QR codes; a live frame to 300 phones would take seconds). A worker process
draws on a core of its own; the loop only sends it the inputs and reads the output.

At most ``HEAVY_WORKERS`` pieces of work run at once; the others wait in the pool's
queue, so memory and CPU stay bounded whatever the number of requests. A long job
(a roster's sheet of QR codes) is cut into chunks that take their turn with the
rest, so a sheet of 20,000 members does not hold back a PDF asked for meanwhile.
The workers start with the first heavy request, or with the server when its ``warm_up``
setting is on (``cocreate serve`` turns it on; the tests' many apps leave it off); each
loads the PDF engine as it starts, without holding up its first job (``warm_up_worker``).

Workers are spawned (a fresh interpreter; a fork would copy the server's threads in
the middle of their work), which imports the program's main module again, as
``multiprocessing`` does: ``cocreate serve``, uvicorn and gunicorn guard theirs; a
script of one's own that starts the app must run it under
``if __name__ == "__main__":``.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar, cast

log = logging.getLogger(__name__)

# At most two: the loop stays one of three busy threads at worst, and the system shares
# the cores among them (workers at a lower priority starved on a busy machine: a
# two-page PDF waited past the tests' ten seconds behind other programs).
HEAVY_WORKERS = max(1, min(2, os.cpu_count() or 1))
CACHED_RESULTS = 256  # small results remembered by ``run_cached`` (a QR code: 10 KiB)
T = TypeVar("T")
R = TypeVar("R")


def warm_up_worker() -> None:
    """Run first in each new worker process: loads the PDF engine in a thread of the
    worker, while the worker already takes its first piece of work (a QR code does not
    wait for it). Loading WeasyPrint, its fonts and the stylesheet took longer than
    making the PDF itself: the first minutes of a server now skip that."""
    from cocreate import pdf

    threading.Thread(target=pdf.warm_up, name="cocreate-pdf-warm-up", daemon=True).start()


class HeavyWork:
    """A pool of worker processes for CPU-bound functions (importable, with arguments
    and results that pickle)."""

    def __init__(self, workers: int = HEAVY_WORKERS) -> None:
        self.workers = workers
        self._pool: Executor | None = None
        self._cache: OrderedDict[tuple[object, object], object] = OrderedDict()
        self._starting: Future[int] | None = None  # the worker ``start`` started

    def _executor(self) -> Executor:
        if self._pool is None:
            try:
                self._pool = ProcessPoolExecutor(
                    self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=warm_up_worker,
                )
            except (OSError, ImportError, NotImplementedError) as error:
                # No process pool on this system (no shared semaphores): a thread is
                # still off the loop, if not off its core.
                log.warning("heavy work runs in a thread: no process pool here (%s)", error)
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="cocreate-heavy")
        return self._pool

    def start(self) -> Future[int]:
        """Start a worker now, loading the PDF engine as it starts (``warm_up_worker``),
        instead of with the first heavy request: the server's lifespan calls it when
        ``warm_up`` is set. Returns at once; the worker gets ready while the server
        already answers.

        One worker: the pool gives work to an idle worker before it starts another, so
        the first PDF goes to this one; a second starts (and warms) when two pieces of
        work come at once. Two warming together on a two-core machine split the CPU
        with each other and with the server, and the first PDF waited longer.

        The answer is the started worker's process id, once it is up."""
        self._starting = self._executor().submit(os.getpid)
        return self._starting

    async def run(self, function: Callable[[T], R], argument: T) -> R:
        """``function(argument)`` in a worker."""
        starting = self._starting
        if starting is not None:
            # Asked while the started worker is still starting: wait for it rather than
            # have the pool start a second one beside it (each loading the PDF engine,
            # on the same cores), which made the first PDF slower, not faster.
            if not starting.done():
                await asyncio.wait([asyncio.wrap_future(starting)])
                await self._counted_idle()
            self._starting = None
        pool = self._executor()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, function, argument)
        except BrokenProcessPool:
            # A worker died (killed for memory, say): the next request gets a new pool.
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise

    async def _counted_idle(self) -> None:
        """Until the pool counts the started worker as idle: it does so just after its
        answer, and work given in between would start a second worker. (The pool's own
        count: no public one, as for its list of workers in ``close``.)"""
        idle = getattr(self._pool, "_idle_worker_semaphore", None)
        if idle is None:
            return
        for _ in range(100):
            if idle.acquire(blocking=False):
                idle.release()
                return
            await asyncio.sleep(0.01)

    async def run_cached(self, function: Callable[[T], R], argument: T) -> R:
        """``run``, remembering the last ``CACHED_RESULTS`` answers: a link's QR code
        asked for again and again (by every projector, or by a script) is drawn once."""
        entry = (function, argument)
        if entry in self._cache:
            self._cache.move_to_end(entry)
            return cast(R, self._cache[entry])
        result = await self.run(function, argument)
        self._cache[entry] = result
        if len(self._cache) > CACHED_RESULTS:
            self._cache.popitem(last=False)
        return result

    async def map(
        self, function: Callable[[list[T]], list[R]], items: Sequence[T], *, chunk: int
    ) -> list[R]:
        """``function`` over ``items`` cut in chunks, in order: at most one chunk per
        worker of this job's waits in the queue at a time, so other jobs interleave."""
        parts = [list(items[start : start + chunk]) for start in range(0, len(items), chunk)]
        done: list[list[R]] = [[] for _ in parts]
        pending = iter(enumerate(parts))

        async def lane() -> None:
            for index, part in pending:
                done[index] = await self.run(function, part)

        await asyncio.gather(*(lane() for _ in range(min(self.workers, len(parts)))))
        return [result for part in done for result in part]

    def close(self) -> None:
        """Queued work is dropped and workers still drawing are stopped: the server
        is going away, nobody waits for their answer."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # (Python 3.14's terminate_workers; before it, the pool's own list of them.)
        workers = list(pool._processes.values()) if isinstance(pool, ProcessPoolExecutor) else []
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()
