"""In-process pub/sub: every subscriber of a channel gets its own bounded queue."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

QUEUE_SIZE = 1_000  # messages kept for a slow subscriber before the oldest is dropped


class MemoryPubSub:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        self._subscribers.clear()

    async def publish(self, channel: str, message: str) -> None:
        for queue in self._subscribers.get(channel, ()):
            if queue.full():
                # A nudge: dropping the oldest is safe, the listener reads the database.
                queue.get_nowait()
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers[channel].add(queue)
        try:
            yield drain(queue)
        finally:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(queue)
                if not subscribers:
                    del self._subscribers[channel]


async def drain(queue: asyncio.Queue[str]) -> AsyncIterator[str]:
    while True:
        yield await queue.get()
