"""Two server processes behind one session: PostgreSQL for data, Redis or PostgreSQL
LISTEN/NOTIFY for live fan-out. A phone on one server sees what a phone on the other did.

Runs when COCREATE_TEST_DATABASE_URL and COCREATE_TEST_REDIS_URL name the services
(`.ci/run` sets both). Each server here is its own app — its own rooms, its own broker
connections — exactly as two processes would be.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from cocreate.database import Database
from cocreate.migrate import upgrade
from cocreate.settings import Settings
from tests.conftest import (
    Server,
    _empty_postgres,
    open_room,
    signed_in,
    start_server,
    tally_of,
)
from tests.test_live_session import proposal_id_of

POSTGRES_URL = os.environ.get("COCREATE_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("COCREATE_TEST_REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="COCREATE_TEST_DATABASE_URL and COCREATE_TEST_REDIS_URL are not set",
)


@pytest.fixture(params=["redis", "postgresql"])
async def two_servers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Server, Server]]:
    # Both run their own event loop (Alembic's async engine): off this one.
    await asyncio.to_thread(_empty_postgres, POSTGRES_URL)
    await asyncio.to_thread(upgrade, POSTGRES_URL)
    pubsub_url = REDIS_URL if request.param == "redis" else POSTGRES_URL
    settings = Settings(
        database_url=POSTGRES_URL,
        pubsub_url=pubsub_url,
        secret_key="shared-secret-" + "y" * 32,
        default_locale="en",
    )
    running = [await start_server(settings) for _ in range(2)]
    servers = []
    for _, _, base in running:
        servers.append(Server(base_url=base, database_url=POSTGRES_URL, db=Database(POSTGRES_URL)))
    try:
        yield servers[0], servers[1]
    finally:
        for server in servers:
            await server.db.dispose()
        for uv, task, _ in running:
            uv.should_exit = True
            await task


async def test_a_phone_on_each_server_sees_the_other(two_servers: tuple[Server, Server]) -> None:
    one, two = two_servers
    facilitator = await signed_in(one, "camille@example.org")
    room = await open_room(one, facilitator)
    phone_one = await room.phone("Sur un")
    room_on_two = type(room)(two, facilitator, room.project_id, room.session_id, room.code)
    phone_two = await room_on_two.phone("Sur deux")
    try:
        seq = await room.seq()
        live_one = await phone_one.socket(room.code, "phone", last_seq=seq)
        live_two = await phone_two.socket(room.code, "phone", last_seq=seq)

        await phone_one.post(f"/s/{room.code}/proposals", {"text": "Proposée sur le serveur un"})
        frame = await live_two.until_text("Proposée sur le serveur un")
        assert 'hx-swap-oob="afterbegin:#wall"' in frame

        pid = await proposal_id_of(room, "Proposée sur le serveur un")
        await phone_two.post(f"/s/{room.code}/proposals/{pid}/vote", {"choice": "for"})
        await live_one.until(lambda f: f'id="tally-{pid}"' in f and tally_of(f, pid)["for"] == 1)
        await live_one.close()
        await live_two.close()
    finally:
        for device in (facilitator, phone_one, phone_two):
            await device.close()
