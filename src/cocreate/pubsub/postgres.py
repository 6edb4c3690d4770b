"""PostgreSQL LISTEN/NOTIFY: fan-out through the database, for those without Redis.

Like Redis, NOTIFY reaches only those listening at that moment: rooms catch up from the
database, so a dropped notification only delays a screen.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from cocreate.pubsub.memory import QUEUE_SIZE, drain

PUBLISH_POOL_SIZE = 4  # connections publishing at once; each room listens on its own


def _dsn(url: str) -> str:
    """asyncpg takes postgresql:// URLs; SQLAlchemy-style driver suffixes are dropped."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


class PostgresPubSub:
    def __init__(self, url: str) -> None:
        self.dsn = _dsn(url)
        self._pool: Any = None

    async def connect(self) -> None:
        self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=PUBLISH_POOL_SIZE)

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
        connection = await asyncpg.connect(self.dsn)
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)

        def nudge(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            if queue.full():
                queue.get_nowait()  # a nudge: the oldest can go, the database has it all
            queue.put_nowait(payload)

        await connection.add_listener(channel, nudge)
        try:
            yield drain(queue)
        finally:
            try:
                await connection.remove_listener(channel, nudge)
            finally:
                await connection.close()
