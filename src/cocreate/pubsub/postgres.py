"""PostgreSQL LISTEN/NOTIFY: fan-out through the database, for those without Redis.

Like Redis, NOTIFY reaches only those listening at that moment: rooms catch up from the
database, so a dropped notification only delays a screen. A listening connection the
server closes (a restart, a failover) ends its subscription with an error, so the live
hub knows at once that it must read the journal until it has listened again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from cocreate.pubsub.memory import QUEUE_SIZE

PUBLISH_POOL_SIZE = 4  # connections publishing at once; a process listens on one more
CONNECT_TIMEOUT_S = 5.0


def _dsn(url: str) -> str:
    """asyncpg takes postgresql:// URLs; SQLAlchemy-style driver suffixes are dropped."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


class PostgresPubSub:
    def __init__(self, url: str) -> None:
        self.dsn = _dsn(url)
        self._pool: Any = None

    async def connect(self) -> None:
        self._pool = await asyncpg.create_pool(
            self.dsn, min_size=0, max_size=PUBLISH_POOL_SIZE, timeout=CONNECT_TIMEOUT_S
        )

    async def disconnect(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def publish(self, channel: str, message: str) -> None:
        if self._pool is None:
            raise RuntimeError("PostgresPubSub.connect() was not called")
        await self._pool.execute("SELECT pg_notify($1, $2)", channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        connection = await asyncpg.connect(self.dsn, timeout=CONNECT_TIMEOUT_S)
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=QUEUE_SIZE + 1)

        def nudge(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            if queue.qsize() >= QUEUE_SIZE:
                queue.get_nowait()  # a nudge: the oldest can go, the database has it all
            queue.put_nowait(payload)

        def lost(_connection: Any) -> None:
            queue.put_nowait(None)  # room kept for it: the queue holds one more

        try:
            connection.add_termination_listener(lost)
            await connection.add_listener(channel, nudge)
            yield _until_lost(queue)
        finally:
            # Dropped, not closed politely: a listening connection holds no transaction,
            # and a close that awaits could be cancelled halfway (the process stopping),
            # leaving the connection open.
            connection.terminate()


async def _until_lost(queue: asyncio.Queue[str | None]) -> AsyncIterator[str]:
    while (payload := await queue.get()) is not None:
        yield payload
    raise ConnectionError("the listening connection to PostgreSQL was closed")
