"""Redis pub/sub: processes on several machines nudge each other's rooms.

Redis forgets a message nobody listens to, and a subscriber cut off misses what was
published meanwhile; that is fine here, since rooms read events from the database (and
read it often while the broker is away). Failures are reported at once, never retried
here: the live hub retries within a second and reads the journal meanwhile, where
redis-py's own retries would hold a subscription or a publish for seconds.

Redis shares one pub/sub space between all its numbered databases, so each channel is
named after the database of the URL: two deployments that keep their data apart with
``redis://host/1`` and ``redis://host/2`` keep their rooms' nudges apart too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub as RedisSubscription
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 5.0  # a publish; a subscription waits for messages without limit


class RedisPubSub:
    def __init__(self, url: str) -> None:
        self.url = url
        self._client: aioredis.Redis | None = None
        self._namespace = ""

    async def connect(self) -> None:
        self._client = aioredis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=COMMAND_TIMEOUT_S,
        )
        database = self._client.connection_pool.connection_kwargs.get("db", 0)
        self._namespace = f"db{database}:"

    async def disconnect(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            raise RuntimeError("RedisPubSub.connect() was not called")
        return self._client

    async def publish(self, channel: str, message: str) -> None:
        await self._redis().publish(self._namespace + channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[str]]:
        subscription = self._redis().pubsub()
        try:
            await subscription.subscribe(self._namespace + channel)
            yield _messages(subscription)
        finally:
            await subscription.aclose()


async def _messages(subscription: RedisSubscription) -> AsyncIterator[str]:
    async for message in subscription.listen():
        if message["type"] == "message":
            data = message["data"]
            yield data.decode() if isinstance(data, bytes) else str(data)
