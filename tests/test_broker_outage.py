"""The broker goes away while two servers share a session, then comes back.

Each process draws its own writes for its own phones at once, broker or not; while the
broker is away, the other process's writes reach its phones by reading the journal
(every ``hub.BROKER_DOWN_POLL_S``); once the broker is back, nudges flow again within
``hub.BROKER_RETRY_MAX_S``. Nothing is lost or shown twice.

Run for both brokers: a redis-server of the test's own, stopped and started again, and
PostgreSQL's LISTEN/NOTIFY reached through a TCP relay the test cuts (what a restart of
the broker's PostgreSQL looks like from the app; the data stays on the shared one).
The delays are printed (``pytest -s``) and reported by ``bench/broker_outage.py``; the
bounds asserted here are what users were promised (a second) with room for a busy CI
machine, and well under the five seconds of the database poll they replace.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import pytest

from cocreate import proposal_votes
from cocreate.database import Database
from cocreate.live import hub
from cocreate.migrate import upgrade
from cocreate.settings import Settings
from tests.conftest import (
    POSTGRES_URL,
    REDIS_URL,
    Browser,
    LiveSocket,
    OpenSession,
    Server,
    empty_postgres,
    frame_seq,
    open_session_for,
    signed_in,
    start_server,
)
from tests.outages import REDIS_SERVER, OwnRedis, Relay, through
from tests.test_live_session import proposal_id_of

pytestmark = pytest.mark.skipif(
    not (POSTGRES_URL and REDIS_URL),
    reason="COCREATE_TEST_DATABASE_URL and COCREATE_TEST_REDIS_URL are not set",
)

# Promised: a second. Asserted with room for a loaded machine, under the old 5 s poll.
OWN_BOUND_S = 1.0
OTHER_BOUND_S = 2.0


class Broker(Protocol):
    @property
    def url(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class RelayedListenNotify:
    """PostgreSQL as the broker, behind a relay: stopping it resets every connection the
    app has to it and refuses new ones, as a restart of that PostgreSQL would."""

    def __init__(self) -> None:
        target = urlsplit(POSTGRES_URL)
        self.relay = Relay(target.hostname or "127.0.0.1", target.port or 5432)

    @property
    def url(self) -> str:
        return through(self.relay, POSTGRES_URL)

    async def start(self) -> None:
        await self.relay.open()  # the same port again after a stop

    async def stop(self) -> None:
        await self.relay.cut()


@dataclass
class Delays:
    """Seconds from a write's answer to the frame that shows it on a phone."""

    own_during: float  # broker away: on a phone of the server that took the write
    other_during: float  # broker away: on a phone of the other server
    other_back: float  # the first write once the broker is back, on the other server
    other_after: float  # a second later: nudged through the broker again


async def shown_after(socket: LiveSocket, text: str, since: float) -> float:
    await socket.until_text(text, wait=15)
    return time.monotonic() - since


async def propose(phone: Browser, code: str, text: str) -> float:
    """Post a proposal from a phone; the time its answer came (the write is committed)."""
    answer = await phone.post(f"/s/{code}/proposals", {"text": text})
    assert answer.status_code == 200, answer.text
    return time.monotonic()


async def measure(broker: Broker, settle_s: float = 0.5) -> tuple[Delays, dict[str, object]]:
    """Two servers, a phone with a socket on each; the broker stopped and started again.
    Returns the delays and what the test checks afterwards."""
    await asyncio.to_thread(empty_postgres, POSTGRES_URL)
    await asyncio.to_thread(upgrade, POSTGRES_URL)
    settings = Settings(
        database_url=POSTGRES_URL,
        pubsub_url=broker.url,
        secret_key="shared-secret-" + "w" * 32,
        default_locale="en",
    )
    running = [await start_server(settings) for _ in range(2)]
    one, two = (
        Server(base_url=base, database_url=POSTGRES_URL, db=Database(POSTGRES_URL))
        for _, _, base in running
    )
    open_session: OpenSession | None = None
    sockets: list[LiveSocket] = []
    try:
        facilitator = await signed_in(one, "camille@example.org")
        open_session = await open_session_for(one, facilitator)
        phone_one = await open_session.phone("Un")
        phone_two = await OpenSession(
            two, facilitator, open_session.project_id, open_session.session_id, open_session.code
        ).phone("Deux")
        open_session.devices.append(phone_two)
        seq = await open_session.seq()
        live_one = await phone_one.socket(open_session.code, "phone", last_seq=seq)
        live_two = await phone_two.socket(open_session.code, "phone", last_seq=seq)
        sockets = [live_one, live_two]
        written = await propose(phone_one, open_session.code, "Avant la panne")
        await live_two.until_text("Avant la panne")

        await broker.stop()  # both servers keep serving their phones
        await asyncio.sleep(settle_s)  # the outage as it lasts, not its first instant
        written = await propose(phone_one, open_session.code, "Pendant la panne")
        own_during, other_during = await asyncio.gather(
            shown_after(live_one, "Pendant la panne", written),
            shown_after(live_two, "Pendant la panne", written),
        )
        pid = await proposal_id_of(open_session, "Pendant la panne")
        voted = await phone_two.post(
            f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": "for"}
        )
        assert voted.status_code == 200

        await broker.start()
        written = await propose(phone_one, open_session.code, "Au retour")
        other_back = await shown_after(live_two, "Au retour", written)
        await asyncio.sleep(hub.BROKER_RETRY_MAX_S + 0.5)  # every listener is back
        written = await propose(phone_one, open_session.code, "Après la panne")
        other_after = await shown_after(live_two, "Après la panne", written)
        await live_two.quiet(0.5)

        async with one.db.session() as db:
            tally = (await proposal_votes.tallies(db=db, proposal_ids=[pid]))[pid]
        checks: dict[str, object] = {"frames": list(live_two.frames), "votes_for": tally.votes_for}
        return Delays(own_during, other_during, other_back, other_after), checks
    finally:
        for socket in sockets:
            await socket.close()
        for device in open_session.devices if open_session else []:
            await device.close()
        for server in (one, two):
            await server.db.dispose()
        for uv, task, _ in running:
            uv.should_exit = True
            await task


@pytest.fixture(
    params=[
        pytest.param(
            "redis",
            marks=pytest.mark.skipif(not REDIS_SERVER, reason="redis-server is not installed"),
        ),
        "postgresql",
    ]
)
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[Broker]:
    own: Broker = OwnRedis() if request.param == "redis" else RelayedListenNotify()
    await own.start()
    try:
        yield own
    finally:
        await own.stop()


async def test_a_broker_outage_keeps_every_screen_live_and_loses_nothing(broker: Broker) -> None:
    delays, checks = await measure(broker)
    print(f"\nbroker outage ({type(broker).__name__}): {delays}")
    # The process that took the write draws it at once, broker or not.
    assert delays.own_during < OWN_BOUND_S, delays
    # The other process reads the journal quickly while its broker is away…
    assert delays.other_during < OTHER_BOUND_S, delays
    # …and is current as soon as the broker is back, then nudged through it again.
    assert delays.other_back < OTHER_BOUND_S, delays
    assert delays.other_after < OTHER_BOUND_S, delays

    frames = checks["frames"]
    assert isinstance(frames, list)
    texts = ("Avant la panne", "Pendant la panne", "Au retour", "Après la panne")
    inserted = [t for t in texts for f in frames if "afterbegin:#wall" in f and t in f]
    assert inserted == list(texts)  # each once, in order
    seqs = [frame_seq(f) for f in frames if 'id="live-seq"' in f]
    assert seqs == sorted(seqs)
    assert len(seqs) == len(set(seqs))  # no event twice
    assert checks["votes_for"] == 1  # the vote cast during the outage is counted
