"""The database goes away in the middle of a session, then comes back.

The test never stops the machine's shared PostgreSQL: the app reaches it through a TCP
relay that the test cuts (open connections reset, new ones refused) and restores, which
is what a database restart or a network failure looks like from the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
import websockets
from sqlmodel import col, select

from cocreate.database import Database
from cocreate.migrate import upgrade
from cocreate.models import Proposal, Vote
from cocreate.settings import Settings
from tests.conftest import (
    POSTGRES_URL,
    Server,
    empty_postgres,
    open_session_for,
    signed_in,
    start_server,
    tally_of,
)
from tests.outages import Relay, through

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="COCREATE_TEST_DATABASE_URL is not set")

RECOVERY_S = 20.0


@pytest.fixture
def migrated() -> str:
    empty_postgres(POSTGRES_URL)
    upgrade(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
async def relayed(migrated: str) -> AsyncIterator[tuple[Server, Relay]]:
    target = urlsplit(POSTGRES_URL)
    relay = Relay(target.hostname or "127.0.0.1", target.port or 5432)
    await relay.open()
    url = through(relay, POSTGRES_URL)
    settings = Settings(database_url=url, secret_key="test-secret-" + "x" * 32, default_locale="en")
    uv, task, base = await start_server(settings)
    db = Database(POSTGRES_URL)  # the test's own view, not through the relay
    try:
        yield Server(base_url=base, database_url=POSTGRES_URL, db=db), relay
    finally:
        uv.should_exit = True
        await task
        await db.dispose()
        with contextlib.suppress(AssertionError):
            await relay.cut()


async def test_database_outage_gives_clear_errors_loses_nothing_and_heals(
    relayed: tuple[Server, Relay],
) -> None:
    server, relay = relayed
    facilitator = await signed_in(server, "camille@example.org")
    open_session = await open_session_for(server, facilitator)
    awa, ben = await open_session.phone("Awa"), await open_session.phone("Ben")
    await awa.post(f"/s/{open_session.code}/proposals", {"text": "Un jardin partagé"})
    async with server.db.session() as db:
        pid = (await db.exec(select(Proposal.id))).one()
    live = await ben.socket(open_session.code, "phone", last_seq=await open_session.seq())
    acknowledged = await awa.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "for"})
    assert acknowledged.status_code == 200
    await live.until(lambda f: f'id="tally-{pid}"' in f)

    await relay.cut()
    page = await ben.get(f"/s/{open_session.code}")
    assert page.status_code == 503
    assert page.headers["retry-after"]
    assert "The service is briefly unavailable" in page.text
    assert "Traceback" not in page.text
    refused = await ben.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "against"})
    assert refused.status_code == 503
    assert "briefly unavailable" in refused.text
    health = await ben.http.get("/health")
    assert health.status_code == 503
    # A phone connecting now is told to come back later (1013: htmx retries).
    async with websockets.connect(
        f"{server.ws_base}/ws/{open_session.code}/phone",
        origin=server.base_url,  # type: ignore[arg-type]
        additional_headers={"Cookie": ben.cookie_header()},
    ) as ws:
        await ws.send(json.dumps({"last_seq": None}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1013

    await relay.restore()
    async with asyncio.timeout(RECOVERY_S):  # the service comes back by itself
        while (await ben.http.get("/health")).status_code != 200:  # noqa: ASYNC110 - polling a server
            await asyncio.sleep(0.2)
    again = await ben.post(f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "against"})
    assert again.status_code == 200
    # The phone that stayed connected sees it: its room healed too.
    frame = await live.until(
        lambda f: f'id="tally-{pid}"' in f and tally_of(f, pid)["against"] == 1, wait=RECOVERY_S
    )
    assert tally_of(frame, pid) == {"for": 1, "against": 1, "abstain": 0}
    async with server.db.session() as db:
        votes = (await db.exec(select(Vote.choice).where(col(Vote.superseded_at).is_(None)))).all()
    assert sorted(votes) == ["against", "for"]  # both acknowledged votes, nothing else
    await live.close()
    for device in open_session.devices:
        await device.close()
    assert isinstance(ben.http, httpx.AsyncClient)
