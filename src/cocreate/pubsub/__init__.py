"""Publish/subscribe façade; the backend is chosen by URL: memory://, redis://, postgresql://.

Messages only nudge listeners: the database stays the truth, so a backend may drop
messages (as Redis pub/sub and PostgreSQL NOTIFY do when nobody listens) without loss.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[str]: ...


class PubSub(Protocol):
    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def publish(self, channel: str, message: str) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[str]]: ...


def from_url(url: str) -> PubSub:
    """The backend for a URL; drivers are imported only when their backend is chosen
    (extras ``cocreate[redis]`` and ``cocreate[postgres]``)."""
    scheme = url.split("://", 1)[0]
    if scheme == "memory":
        from cocreate.pubsub.memory import MemoryPubSub

        return MemoryPubSub()
    if scheme in {"redis", "rediss"}:
        from cocreate.pubsub.redis import RedisPubSub

        return RedisPubSub(url)
    if scheme.startswith("postgres"):
        from cocreate.pubsub.postgres import PostgresPubSub

        return PostgresPubSub(url)
    raise ValueError(
        f"unsupported COCREATE_PUBSUB_URL scheme {scheme!r}: "
        "use memory://, redis:// or postgresql://"
    )
