"""Rooms render each batch once per audience and language, whatever the number of sockets."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
import websockets
from sqlmodel import select
from starlette.types import Message

from cocreate import app, journal, projects, proposal_votes, proposals
from cocreate.database import Database
from cocreate.events import VoteCast
from cocreate.live.frames import FragmentRenderer
from cocreate.live.hub import BURST_EVENTS, COALESCE_BURST_S, COALESCE_S, LiveHub
from cocreate.live.regions import Audience, Batch
from cocreate.live.wire import CLOSE_TRY_AGAIN, SEND_QUEUE_FRAMES, Client, Frame
from cocreate.models import Choice, Event, Participant, Proposal, Session
from cocreate.pubsub.memory import MemoryPubSub
from cocreate.templating import Templates
from tests.conftest import OpenSession, serve_app
from tests.factories import Factory
from tests.test_wire import Sockets


class CountingRenderer(FragmentRenderer):
    def __init__(self, templates: Templates) -> None:
        super().__init__(templates)
        self.renders: list[tuple[Audience, str]] = []

    def render_batch(self, batch: Batch, audience: Audience, locale: str) -> str:
        self.renders.append((audience, locale))
        return super().render_batch(batch, audience, locale)


class Connection:
    """A phone's connection as the server's ``send`` sees it: takes frames at once while
    open, makes the sender wait while full."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.takes = asyncio.Event()
        self.takes.set()
        self.arrived = asyncio.Event()

    async def send(self, message: Message) -> None:
        await self.takes.wait()
        self.sent.append(message)
        self.arrived.set()

    async def until_sent(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.sent) < count:
                self.arrived.clear()
                await self.arrived.wait()

    def texts(self) -> list[str]:
        return [str(m.get("text", m.get("code"))) for m in self.sent]


def fake_client(audience: Audience, locale: str, connection: Connection | None = None) -> Client:
    send = (connection or Connection()).send
    return Client(audience=audience, locale=locale, participant_id=None, send=send)


async def test_a_batch_is_rendered_once_per_audience_and_language(
    open_session: OpenSession,
) -> None:
    phone = await open_session.phone("Olga")
    db = Database(open_session.server.database_url)
    renderer = CountingRenderer(Templates(timezone="Europe/Paris"))
    hub = LiveHub(db=db, pubsub=MemoryPubSub(), renderer=renderer)
    try:
        groups = [(Audience.PHONE, "fr")] * 40 + [(Audience.PHONE, "en")] * 10
        connections = [Connection() for _ in range(51)]
        clients = [
            fake_client(audience, locale, connection)
            for (audience, locale), connection in zip(
                [*groups, (Audience.SCREEN, "fr")], connections, strict=True
            )
        ]
        for client in clients:
            live_room = await hub.enter(open_session.session_id, client)
            await live_room.catch_up(client, await open_session.seq())

        async with db.session() as session_db:
            session = await session_db.get(Session, open_session.session_id)
            assert session is not None
            author = (await session_db.exec(select(Participant))).one()
            _, event = await proposals.propose(
                db=session_db, session=session, author=author, text="Rendue deux fois"
            )
        hub.publish(open_session.session_id, event.seq)

        async def event_frame(connection: Connection) -> str:
            while True:  # skip the projector's "people connected" frames
                for text in connection.texts():
                    if "Rendue deux fois" in text:
                        return text
                connection.arrived.clear()
                await connection.arrived.wait()

        async with asyncio.timeout(5):
            frames = {await event_frame(c) for c in connections}
        assert sorted(renderer.renders) == sorted(
            [(Audience.PHONE, "fr"), (Audience.PHONE, "en"), (Audience.SCREEN, "fr")]
        )
        assert len(frames) == 3  # the same bytes for every socket of a group
        assert all("Rendue deux fois" in frame for frame in frames)
    finally:
        await hub.close()
        await db.dispose()
        await phone.close()


async def test_a_frame_is_sent_in_place_when_the_connection_takes_it() -> None:
    connection = Connection()
    client = fake_client(Audience.PHONE, "fr", connection)
    client.offer(Frame("one"))
    # Sent before offer() returned: no task, no wake-up of the socket.
    assert connection.texts() == ["one"]
    assert client._sender is None


async def test_frames_wait_in_order_while_a_connection_is_full() -> None:
    connection = Connection()
    client = fake_client(Audience.PHONE, "fr", connection)
    connection.takes.clear()  # the phone's network stalls
    for n in range(5):
        client.offer(Frame(f"frame {n}"))
    assert connection.texts() == []
    connection.takes.set()
    await connection.until_sent(5)
    assert connection.texts() == [f"frame {n}" for n in range(5)]
    await asyncio.sleep(0)  # the sender task ends once the backlog is sent
    client.offer(Frame("after"))
    assert connection.texts()[-1] == "after"  # in place again


async def test_a_socket_that_cannot_keep_up_is_closed_to_reconnect() -> None:
    connection = Connection()
    client = fake_client(Audience.PHONE, "fr", connection)
    connection.takes.clear()
    client.offer(Frame("first"))  # waits for the connection
    for n in range(SEND_QUEUE_FRAMES):
        client.offer(Frame(f"frame {n}"))
    assert not client.too_slow
    client.offer(Frame("one too many"))
    assert client.too_slow
    client.offer(Frame("ignored"))
    connection.takes.set()
    await connection.until_sent(2)
    await asyncio.sleep(0.05)  # and nothing after
    # What was being sent goes out, then the close: nothing queued past the limit.
    assert connection.texts() == ["first", str(CLOSE_TRY_AGAIN)]
    assert connection.sent[-1]["reason"] == "too slow; reconnect"


async def test_a_phone_gone_is_sent_nothing_more() -> None:
    attempts: list[Message] = []

    async def gone(message: Message) -> None:
        attempts.append(message)
        raise OSError("the connection was closed")

    client = Client(audience=Audience.PHONE, locale="fr", participant_id=None, send=gone)
    client.offer(Frame("one"))
    client.offer(Frame("two"))
    assert isinstance(client.gone, OSError)
    assert len(attempts) == 1


async def test_concurrent_votes_are_all_counted_and_numbered_without_gaps(
    open_session: OpenSession,
) -> None:
    phones = [await open_session.phone(f"Votant {n}") for n in range(8)]
    await phones[0].post(f"/s/{open_session.code}/proposals", {"text": "Sous la charge"})
    async with open_session.server.db.session() as db:
        pid = (await db.exec(select(Proposal.id))).one()
    start = await open_session.seq()
    choices = ["for", "against", "abstain"]

    async def vote_three_times(n: int, phone: Any) -> None:
        for k in range(3):
            response = await phone.post(
                f"/s/{open_session.code}/proposals/{pid}/vote", {"choice": choices[(n + k) % 3]}
            )
            assert response.status_code == 200

    await asyncio.gather(*(vote_three_times(n, p) for n, p in enumerate(phones)))
    assert await open_session.seq() == start + 24
    async with open_session.server.db.session() as db:
        tally = (await proposal_votes.tallies(db=db, proposal_ids=[pid]))[pid]
        seqs = [e.seq for e in (await db.exec(select(Event))).all()]
    assert tally.total == 8  # one current vote per phone
    # Each phone's last choice was choices[(n + 2) % 3].
    expected = [choices[(n + 2) % 3] for n in range(8)]
    assert tally.votes_for == expected.count("for")
    assert tally.votes_against == expected.count("against")
    assert sorted(seqs) == list(range(1, max(seqs) + 1))


def test_join_codes_avoid_look_alikes() -> None:
    codes = {projects.new_join_code() for _ in range(500)}
    assert all(len(code) == 6 for code in codes)
    assert not set("".join(codes)) & set("0O1IL")
    assert len(codes) > 490
    assert projects.normalize_join_code(" ab-c 12d ") == "ABC12D"


def test_tally_shares_round_and_handle_no_votes() -> None:
    empty = proposal_votes.Tally()
    assert empty.share(Choice.FOR) == 0
    tally = proposal_votes.Tally(votes_for=2, votes_against=1, votes_abstain=0)
    assert tally.total == 3
    assert tally.share(Choice.FOR) == 67
    assert tally.share(Choice.AGAINST) == 33


def test_a_long_garbage_collection_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every screen waits while the collector runs: one that takes long enough to be
    noticed in the room is in the server's log, with its generation."""
    watch = app._SlowCollections()
    monkeypatch.setattr(app, "SLOW_COLLECTION_S", 0.0)
    with caplog.at_level(logging.WARNING, logger="cocreate.app"):
        watch("start", {"generation": 2, "collected": 0, "uncollectable": 0})
        watch("stop", {"generation": 2, "collected": 12, "uncollectable": 0})
    assert "garbage collection (generation 2, 12 objects freed)" in caplog.text
    monkeypatch.setattr(app, "SLOW_COLLECTION_S", 60.0)
    caplog.clear()
    watch("start", {"generation": 0, "collected": 0, "uncollectable": 0})
    watch("stop", {"generation": 0, "collected": 3, "uncollectable": 0})
    assert caplog.text == ""


async def test_frames_are_written_in_place_on_uvicorn_and_wait_while_it_is_full() -> None:
    sockets = Sockets()
    server, task, base = await serve_app(sockets)
    try:
        async with websockets.connect(base.replace("http", "ws"), compression=None) as phone:
            await asyncio.wait_for(sockets.accepted.wait(), 5)
            client = sockets.clients[0]
            # The server `cocreate serve` runs: frames skip the ASGI message. Were
            # uvicorn to change, this fails rather than the fan-out silently slowing.
            wire = client._wire
            assert wire is not None
            written = Frame("un é")
            written.message = {"type": "websocket.send", "text": "through send"}
            client.offer(written)
            assert await asyncio.wait_for(phone.recv(), 5) == "un é"  # not through send
            wire.pause_writing()  # as the transport does when the phone's buffer is full
            for n in range(3):
                client.offer(Frame(f"attente {n}"))
            assert client._sender is not None  # waiting for the connection, in order
            wire.resume_writing()
            assert [await asyncio.wait_for(phone.recv(), 5) for _ in range(3)] == [
                f"attente {n}" for n in range(3)
            ]
            await asyncio.sleep(0)
            client.offer(Frame("de nouveau"))
            assert client._sender is None
            assert await asyncio.wait_for(phone.recv(), 5) == "de nouveau"
        async with asyncio.timeout(5):  # the phone left: the next frame finds it gone
            while client.gone is None:
                client.offer(Frame("personne"))
                await asyncio.sleep(0.01)
    finally:
        server.should_exit = True
        await task


async def test_while_a_room_votes_its_frames_are_spaced_out(open_session: OpenSession) -> None:
    """A frame drawn from a burst (more than BURST_EVENTS events) makes the room wait
    COALESCE_BURST_S before the next: screens still move, and the CPU goes to votes."""
    phone = await open_session.phone("Rosa")
    await phone.post(f"/s/{open_session.code}/proposals", {"text": "Une rafale"})
    async with open_session.server.db.session() as db:
        proposal_id = (await db.exec(select(Proposal.id))).one()
    db = Database(open_session.server.database_url)
    hub = LiveHub(
        db=db, pubsub=MemoryPubSub(), renderer=FragmentRenderer(Templates(timezone="UTC"))
    )
    arrivals: dict[int, float] = {}
    connection = Connection()

    async def send(message: Message) -> None:
        text = str(message.get("text", ""))
        if 'id="live-seq"' in text:
            seq = int(text.split('data-seq="', 1)[1].split('"', 1)[0])
            arrivals[seq] = asyncio.get_running_loop().time()
        await connection.send(message)

    async def write_votes(count: int) -> int:
        async with db.write() as write:
            last = await journal.next_seq(write, open_session.session_id, count=count)
            await journal.insert_events(
                write,
                open_session.session_id,
                [VoteCast(seq=last - count + 1 + n, subject_id=proposal_id) for n in range(count)],
            )
            await write.commit()
        hub.publish(open_session.session_id, last)
        return last

    try:
        client = Client(audience=Audience.SCREEN, locale="en", participant_id=None, send=send)
        live_room = await hub.enter(open_session.session_id, client)
        await live_room.catch_up(client, await open_session.seq())
        burst = await write_votes(BURST_EVENTS + 10)
        async with asyncio.timeout(5):
            while burst not in arrivals:
                await connection.until_sent(len(connection.sent) + 1)
        after = await write_votes(1)
        async with asyncio.timeout(5):
            while after not in arrivals:
                await connection.until_sent(len(connection.sent) + 1)
        assert arrivals[after] - arrivals[burst] >= COALESCE_BURST_S - 0.01
    finally:
        await hub.close()
        await db.dispose()
        await phone.close()


async def test_a_room_stopped_just_as_a_nudge_arrives_stops(
    factory: Factory, bare_db: Database
) -> None:
    """The last socket leaving a room stops it while holding the hub's lock: a nudge
    landing at that instant must not keep the room's flusher running (Python 3.11's
    wait_for returned the event instead of the cancellation, and every later socket of
    the session waited for the lock forever)."""
    session_id = (await factory.open_session()).id
    assert session_id is not None
    hub = LiveHub(
        db=bare_db, pubsub=MemoryPubSub(), renderer=FragmentRenderer(Templates(timezone="UTC"))
    )
    try:
        for turns in [n % 4 for n in range(12)]:
            client = fake_client(Audience.PHONE, "en")
            live_room = await hub.enter(session_id, client)
            await asyncio.sleep(COALESCE_S * 1.5)  # the flusher waits for a nudge
            live_room.nudge()
            for _ in range(turns):  # the nudge reaches the flusher's wait, or not yet
                await asyncio.sleep(0)
            async with asyncio.timeout(5):
                await hub.release(live_room, client)
            assert session_id not in hub.rooms
            still = [t for t in asyncio.all_tasks() if t.get_name().startswith("room-")]
            assert not still, f"{still} after {turns} turns"
    finally:
        await hub.close()
