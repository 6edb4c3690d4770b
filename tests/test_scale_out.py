"""Two server processes behind one session: PostgreSQL for data, Redis or PostgreSQL
LISTEN/NOTIFY for live fan-out. A phone on one server sees what a phone on the other did.

Runs when COCREATE_TEST_DATABASE_URL and COCREATE_TEST_REDIS_URL name the services
(`.ci/run` sets both). Each server here is its own app — its own rooms, its own broker
connections — exactly as two processes would be.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from cocreate.database import Database
from cocreate.migrate import upgrade
from cocreate.settings import Settings
from tests.conftest import (
    POSTGRES_URL,
    REDIS_URL,
    TLS,
    Server,
    empty_postgres,
    open_session_for,
    signed_in,
    start_server,
    tally_of,
)
from tests.outages import free_port
from tests.test_live_session import proposal_id_of

START_S = 60  # for `cocreate serve` to answer /health

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="COCREATE_TEST_DATABASE_URL and COCREATE_TEST_REDIS_URL are not set",
)


@pytest.fixture(params=["redis", "postgresql"])
async def two_servers(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Server, Server]]:
    # Both run their own event loop (Alembic's async engine): off this one.
    await asyncio.to_thread(empty_postgres, POSTGRES_URL)
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
    open_session = await open_session_for(one, facilitator)
    phone_one = await open_session.phone("Sur un")
    session_on_two = type(open_session)(
        two, facilitator, open_session.project_id, open_session.session_id, open_session.code
    )
    phone_two = await session_on_two.phone("Sur deux")
    try:
        seq = await open_session.seq()
        live_one = await phone_one.socket(open_session.code, "phone", last_seq=seq)
        live_two = await phone_two.socket(open_session.code, "phone", last_seq=seq)

        await phone_one.post(
            f"/s/{open_session.code}/proposals", {"text": "Proposée sur le serveur un"}
        )
        frame = await live_two.until_text("Proposée sur le serveur un")
        assert 'hx-swap-oob="afterbegin:#wall"' in frame

        pid = await proposal_id_of(open_session, "Proposée sur le serveur un")
        await phone_two.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "for"})
        await live_one.until(lambda f: f'id="tally-{pid}"' in f and tally_of(f, pid)["for"] == 1)
        await live_one.close()
        await live_two.close()
    finally:
        for device in (facilitator, phone_one, phone_two):
            await device.close()


class ServeProcess:
    """`cocreate serve` in a process of its own, as an operator runs it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "COCREATE_PORT": str(self.port)}
        self.process: asyncio.subprocess.Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "cocreate", "serve"),
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        # A fresh interpreter imports the program first: seconds on a busy machine, so the
        # wait is long, but a process that exits is reported at once.
        deadline = time.monotonic() + START_S
        async with httpx.AsyncClient(verify=TLS) as client:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"cocreate serve exited ({self.process.returncode})")
                try:
                    if (await client.get(f"{self.base_url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"cocreate serve did not start within {START_S} s")

    async def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 15)
            self.process = None


@pytest.mark.parametrize("broker", ["redis", "postgresql"])
async def test_two_cocreate_serve_processes_share_a_session(broker: str) -> None:
    await asyncio.to_thread(empty_postgres, POSTGRES_URL)
    await asyncio.to_thread(upgrade, POSTGRES_URL)
    env = {
        "COCREATE_DATABASE_URL": POSTGRES_URL,
        "COCREATE_PUBSUB_URL": REDIS_URL if broker == "redis" else POSTGRES_URL,
        "COCREATE_SECRET_KEY": "process-secret-" + "w" * 32,
        "COCREATE_DEFAULT_LOCALE": "en",
    }
    processes = [ServeProcess(env), ServeProcess(env)]
    db = Database(POSTGRES_URL)
    devices = []
    try:
        await asyncio.gather(*(p.start() for p in processes))
        one, two = (
            Server(base_url=p.base_url, database_url=POSTGRES_URL, db=db) for p in processes
        )
        facilitator = await signed_in(one, "camille@example.org")
        open_session = await open_session_for(one, facilitator)
        phone_one = await open_session.phone("Un")
        phone_two = await type(open_session)(
            two, facilitator, open_session.project_id, open_session.session_id, open_session.code
        ).phone("Deux")
        devices = [facilitator, phone_one, phone_two]
        live_two = await phone_two.socket(
            open_session.code, "phone", last_seq=await open_session.seq()
        )
        await phone_one.post(
            f"/s/{open_session.code}/proposals", {"text": "Vue par un autre processus"}
        )
        await live_two.until_text("Vue par un autre processus", wait=3)  # well before any poll
        await live_two.close()
    finally:
        for device in devices:
            await device.close()
        for process in processes:
            await process.stop()
        await db.dispose()
