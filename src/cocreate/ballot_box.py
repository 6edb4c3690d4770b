"""The ballot box: votes on proposals written in batches, each acknowledged after its commit.

A general assembly votes in bursts: hundreds of phones within a second. Written one
by one, each vote is a dozen statements (who votes, the session, its step, the
proposal, the previous vote, the new one, its event); most of that is the same for
every vote of the burst. The box takes every ballot that arrived while the previous
batch was being written and casts them together (``contributions.vote_all``): the
rules read once, the votes and events written with a few statements, one commit. Each
phone still waits for the commit of its own vote, and a refused ballot gets its own
error without refusing the others. One voter alone is written at once, as before.
"""

from __future__ import annotations

import asyncio
import logging

from cocreate.contributions import Ballot, CastVote, vote_all
from cocreate.database import Database
from cocreate.errors import RuleError
from cocreate.live import LiveHub
from cocreate.models import key

log = logging.getLogger(__name__)

BATCH_LIMIT = 500  # ballots per write: enough for any burst, short enough to hold the lock


class BallotBox:
    def __init__(self, db: Database, hub: LiveHub) -> None:
        self._db = db
        self._hub = hub
        self._waiting: list[tuple[Ballot, asyncio.Future[CastVote]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def cast(self, ballot: Ballot) -> CastVote:
        """Cast a vote; returns once it is committed, raises the rule that refused it."""
        future: asyncio.Future[CastVote] = asyncio.get_running_loop().create_future()
        self._waiting.append((ballot, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all())
        return await future

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:BATCH_LIMIT]
                del self._waiting[:BATCH_LIMIT]
                # A phone that gave up (its request was cancelled) is not voted for.
                await self._write([(b, f) for b, f in batch if not f.done()])
        finally:
            self._writer = None
            for _, future in self._waiting:  # only if the server is stopping
                future.cancel()
            self._waiting.clear()

    async def _write(self, batch: list[tuple[Ballot, asyncio.Future[CastVote]]]) -> None:
        if not batch:
            return
        try:
            async with self._db.write() as db:
                outcomes = await vote_all(db, [ballot for ballot, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as error:  # nothing of the batch was kept: each phone is told
            log.warning("ballot box: a batch of %d votes failed: %r", len(batch), error)
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        latest: dict[int, int] = {}
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, RuleError):
                if not future.done():
                    future.set_exception(outcome)
                continue
            if outcome.event is not None:  # else the same choice again: nothing written
                session_id = key(outcome.session)
                latest[session_id] = max(latest.get(session_id, 0), outcome.event.seq)
            if not future.done():
                future.set_result(outcome)
        for session_id, seq in latest.items():
            await self._hub.publish(session_id, seq)
