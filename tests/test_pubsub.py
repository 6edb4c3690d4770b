"""One contract for every pub/sub backend: memory, Redis and PostgreSQL LISTEN/NOTIFY.

The Redis and PostgreSQL runs use the services named by COCREATE_TEST_REDIS_URL and
COCREATE_TEST_DATABASE_URL (`.ci/run` sets both); without them they are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from cocreate.pubsub import PubSub, from_url
from tests.conftest import POSTGRES_URL, REDIS_URL

BACKENDS = [
    pytest.param("memory://", id="memory"),
    pytest.param(
        REDIS_URL,
        id="redis",
        marks=pytest.mark.skipif(not REDIS_URL, reason="COCREATE_TEST_REDIS_URL is not set"),
    ),
    pytest.param(
        POSTGRES_URL,
        id="postgresql",
        marks=pytest.mark.skipif(not POSTGRES_URL, reason="COCREATE_TEST_DATABASE_URL is not set"),
    ),
]


@pytest.fixture(params=BACKENDS)
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[PubSub]:
    backend = from_url(request.param)
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.disconnect()


async def take(messages: AsyncIterator[str], count: int) -> list[str]:
    async def read() -> list[str]:
        return [await anext(messages) for _ in range(count)]

    return await asyncio.wait_for(read(), timeout=5)


async def test_subscribers_get_every_message_of_their_channel_in_order(broker: PubSub) -> None:
    channel, other = "session:test-1", "session:test-2"
    async with (
        broker.subscribe(channel) as first,
        broker.subscribe(channel) as second,
        broker.subscribe(other) as elsewhere,
    ):
        await asyncio.sleep(0.2)  # subscriptions reach the broker
        for n in range(1, 4):
            await broker.publish(channel, str(n))
        await broker.publish(other, "9")
        assert await take(first, 3) == ["1", "2", "3"]
        assert await take(second, 3) == ["1", "2", "3"]
        assert await take(elsewhere, 1) == ["9"]


async def test_a_message_nobody_listens_to_is_not_kept(broker: PubSub) -> None:
    channel = "session:test-3"
    await broker.publish(channel, "lost")  # nobody subscribed: pub/sub only nudges
    async with broker.subscribe(channel) as messages:
        await asyncio.sleep(0.2)
        await broker.publish(channel, "seen")
        assert await take(messages, 1) == ["seen"]


def test_unknown_schemes_are_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="memory://, redis:// or postgresql://"):
        from_url("kafka://broker")


@pytest.mark.skipif(not REDIS_URL, reason="COCREATE_TEST_REDIS_URL is not set")
async def test_redis_databases_keep_their_channels_apart() -> None:
    """Redis has one pub/sub space for all its numbered databases: two deployments kept
    apart by database number must not nudge each other's rooms."""
    parts = urlsplit(REDIS_URL)
    number = int(parts.path.strip("/") or 0)
    other_url = urlunsplit(parts._replace(path=f"/{(number + 8) % 16}"))
    ours, theirs = from_url(REDIS_URL), from_url(other_url)
    await ours.connect()
    await theirs.connect()
    try:
        async with ours.subscribe("session:1") as mine, theirs.subscribe("session:1") as other:
            await asyncio.sleep(0.2)
            await theirs.publish("session:1", "theirs")
            await ours.publish("session:1", "ours")
            assert await take(mine, 1) == ["ours"]
            assert await take(other, 1) == ["theirs"]
    finally:
        await ours.disconnect()
        await theirs.disconnect()
