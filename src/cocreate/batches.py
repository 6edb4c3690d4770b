"""Writes of one kind made in batches, each writer told its own outcome after the commit.

A general assembly acts in bursts: hundreds of phones voting, or joining, within a
second. Written one by one, each such write costs a transaction, a savepoint and the
same few reads (the session, its rules) as every other of the burst, and SQLAlchemy's
bookkeeping of a statement costs many times what SQLite spends on it. A batch takes
every request that arrived while the previous batch was being written and writes them
together, in one write: the shared reads once, the rows with a statement each, one
commit. Each request still waits for the commit of its own
write, and a refused one gets its own error without refusing the others. A request
alone is written at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.database import Database, is_outage, unavailable
from cocreate.errors import RuleError

log = logging.getLogger(__name__)

BATCH_LIMIT = 500  # requests per write: enough for any burst, short enough to hold the lock

Request = TypeVar("Request")
Outcome = TypeVar("Outcome")
WriteAll = Callable[[AsyncSession, list[Request]], Awaitable[Sequence[Outcome | RuleError]]]


class WriteBatches(Generic[Request, Outcome]):
    """``submit`` a request; ``write_all`` writes a batch of them in one write and
    returns an outcome (or the rule that refused it) per request, in order."""

    def __init__(self, db: Database, write_all: WriteAll[Request, Outcome], what: str) -> None:
        self._db = db
        self._write_all = write_all
        self._what = what  # for the log: "votes", "joins"
        self._waiting: list[tuple[Request, asyncio.Future[Outcome]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, request: Request) -> Outcome:
        """Write a request; returns once it is committed, raises the rule that refused it."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((request, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:BATCH_LIMIT]
                del self._waiting[:BATCH_LIMIT]
                # A phone that gave up (its request was cancelled) is not written for.
                await self._write([(r, f) for r, f in batch if not f.done()])
        finally:
            self._writer = None
            for _, future in self._waiting:  # only if the server is stopping
                future.cancel()
            self._waiting.clear()

    async def _write(self, batch: list[tuple[Request, asyncio.Future[Outcome]]]) -> None:
        if not batch:
            return
        try:
            async with self._db.write() as db:
                outcomes = await self._write_all(db, [request for request, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as error:  # nothing of the batch was kept: each phone is told
            log.warning("a batch of %d %s failed: %r", len(batch), self._what, error)
            outage = is_outage(error)  # then each phone is answered 503, try again
            for _, future in batch:
                if not future.done():
                    # An error of its own for each: raised in hundreds of requests, one
                    # exception would gather all their tracebacks (and frames).
                    future.set_exception(unavailable(error) if outage else error)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():
                continue
            if isinstance(outcome, RuleError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
