"""One room per live session and process, and the hub that keeps them.

A room reads every event committed in its session after the last one it drew, in
order, from the database; renders each batch once per audience and language; and
offers the same frame to every socket of a group. A socket joining is caught up first
(what it missed, or a fresh snapshot when too far behind), then receives the stream.
The hub nudges a room when its process commits a write, and carries nudges to and
from the other processes through the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time

from cocreate import events as ev
from cocreate import journal
from cocreate.database import OUTAGES, Database
from cocreate.live.frames import FragmentRenderer
from cocreate.live.regions import Audience, load_batch
from cocreate.live.wire import Client, Frame
from cocreate.models import Session, whole_number
from cocreate.participants import participant_count
from cocreate.pubsub import PubSub

log = logging.getLogger(__name__)

MAX_CATCHUP_EVENTS = 500  # further behind than this, a socket gets a snapshot instead
# Events drawn into one frame at most (a burst's quarter second at 3,000 votes/s is 750;
# more, after the database was away, are drawn a frame per this many).
MAX_FRAME_EVENTS = 5_000
COALESCE_S = 0.1  # events within 100 ms of the last frame are drawn in the next one
# A frame that carried more events than this was drawn during a burst (a room voting):
# the next waits COALESCE_BURST_S instead. Screens still move four times a second, and
# each frame not sent to every phone is CPU left for the votes (at 3,000 votes/s to
# 1,000 phones, the frames took a tenth of the server at one every 100 ms).
BURST_EVENTS = 20
COALESCE_BURST_S = 0.25
# After a frame that took t to draw and send, wait at least t * this before the next:
# under a stream of votes, fan-out to a crowded room takes at most half the CPU and
# the votes the other half (a frame every 0.5 s at 10,000 phones, 0.1 s at 1,000).
FLUSH_PAUSE_FACTOR = 1.0
PRESENCE_REFRESH_S = 1.0  # at most one redraw of the connected count a second
SAFETY_POLL_S = 5.0  # read the database this often even without a nudge
# While the broker is away, the other processes' events are found by reading the journal
# this often instead: their screens wait at most this (and a frame) for them.
BROKER_DOWN_POLL_S = 0.5
BROKER_RETRY_FIRST_S = 0.1  # first wait before resubscribing after a broker failure…
BROKER_RETRY_MAX_S = 1.0  # …doubling up to this: back within a second of the broker
PUBLISH_TIMEOUT_S = 2.0  # a nudge the broker has not taken by then is sent again later
NUDGES = "sessions"  # the broker's channel: "<session id> <event number> <process>"


class Room:
    """Every socket of one session in this process, and the one listener feeding them."""

    def __init__(self, hub: LiveHub, session_id: int) -> None:
        self.hub = hub
        self.session_id = session_id
        self.clients: set[Client] = set()  # sockets receiving the stream
        self.members: set[Client] = set()  # sockets keeping the room alive, joining ones too
        self.last_seq = 0
        self.lock = asyncio.Lock()
        self._nudged = asyncio.Event()
        self._presence_dirty = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        # Listening first: a nudge for an event committed after the read below is heard.
        await self.hub.listening()
        async with self.hub.db.session() as db:
            self.last_seq = await journal.last_number(db, self.session_id)
        self._tasks = [
            asyncio.create_task(self._flusher(), name=f"room-{self.session_id}-flush"),
            asyncio.create_task(self._presence(), name=f"room-{self.session_id}-presence"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        # gather, not a loop of awaits under suppress(CancelledError): a stop that is
        # itself cancelled must not swallow its own cancellation.
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def nudge(self) -> None:
        """Something was committed in the session: read and draw it in the next frame."""
        self._nudged.set()

    async def _flusher(self) -> None:
        while True:
            # The broker nudges the room for other processes' writes; while it is away,
            # the journal is read often enough that their screens barely notice.
            poll = SAFETY_POLL_S if self.hub.broker_up else BROKER_DOWN_POLL_S
            # asyncio.timeout, not wait_for: Python 3.11's wait_for returns the event
            # instead of raising when the room is stopped just as a nudge arrives, and
            # the room's stop (holding the hub's lock) would wait for it forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    await self._nudged.wait()
            self._nudged.clear()
            took = 0.0  # drawing only: waiting for the lock (sockets catching up) is not
            drawn = 0
            try:
                async with self.lock:
                    started = time.perf_counter()
                    drawn = await self._flush_locked()
                    took = time.perf_counter() - started
            except asyncio.CancelledError:
                raise
            except OUTAGES as error:  # drawn on the next poll, once the database is back
                log.warning("live: database unavailable for session %s: %s", self.session_id, error)
            except Exception:
                log.exception("live: could not draw events of session %s", self.session_id)
            tick = COALESCE_BURST_S if drawn > BURST_EVENTS else COALESCE_S
            await asyncio.sleep(max(tick, FLUSH_PAUSE_FACTOR * took))

    async def _read_events(
        self, after: int, limit: int
    ) -> tuple[Session | None, list[ev.SessionEvent]]:
        async with self.hub.db.session() as db:
            events = await journal.events_after(db, self.session_id, after, limit)
            # Read after the events: on PostgreSQL each statement sees what is committed
            # when it runs, and the session drawn (its current step…) must be at least as
            # recent as the newest event, never older.
            session = await db.get(Session, self.session_id)
            return session, events

    async def _flush_locked(self) -> int:
        """Draw every event committed since the last one drawn, and queue the frames;
        how many events were drawn."""
        drawn = 0
        while True:
            session, batch_events = await self._read_events(self.last_seq, MAX_FRAME_EVENTS)
            if session is None or not batch_events:
                return drawn
            async with self.hub.db.session() as db:
                batch = await load_batch(db, session, batch_events)
            frames: dict[tuple[Audience, str], Frame] = {}
            for client in list(self.clients):
                key = (client.audience, client.locale)
                if key not in frames:
                    frames[key] = Frame(self.hub.renderer.render_batch(batch, *key))
                client.offer(frames[key])
            self.last_seq = batch.last_seq
            drawn += len(batch_events)
            if len(batch_events) < MAX_FRAME_EVENTS:
                return drawn

    async def catch_up(self, client: Client, last_seen: int | None) -> None:
        """Send a joining socket what it missed, then let it receive the stream."""
        async with self.lock:
            if last_seen is not None and last_seen > self.last_seq:
                # The page is newer than what the room drew: draw up to it first. Level
                # or behind, no read is needed here: the flusher sends the socket every
                # event after the room's last, committed or yet to come.
                await self._flush_locked()
            behind = None if last_seen is None else self.last_seq - last_seen
            if behind is None or behind < 0 or behind > MAX_CATCHUP_EVENTS:
                async with self.hub.db.session() as db:
                    session = await db.get(Session, self.session_id, populate_existing=True)
                    assert session is not None
                    html = await self.hub.renderer.snapshot(
                        db, session, client.audience, client.locale, client.participant_id
                    )
                client.offer(Frame(html))
            elif behind > 0:
                assert last_seen is not None
                session, missed = await self._read_events(last_seen, behind)
                if session is not None and missed:
                    async with self.hub.db.session() as db:
                        batch = await load_batch(db, session, missed)
                    client.offer(
                        Frame(self.hub.renderer.render_batch(batch, client.audience, client.locale))
                    )
            self.clients.add(client)
        self._presence_dirty.set()

    def leave(self, client: Client) -> None:
        self.clients.discard(client)
        self._presence_dirty.set()

    def connected(self) -> int:
        return sum(1 for c in self.clients if c.audience is Audience.PHONE)

    def by_role(self) -> dict[Audience, int]:
        counts = dict.fromkeys(Audience, 0)
        for client in self.clients:
            counts[client.audience] += 1
        return counts

    async def _presence(self) -> None:
        while True:
            await self._presence_dirty.wait()
            self._presence_dirty.clear()
            try:
                await self._send_presence()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database away: try again a moment later
                log.warning("live: presence of session %s not drawn: %s", self.session_id, error)
                self._presence_dirty.set()
            await asyncio.sleep(PRESENCE_REFRESH_S)

    async def _send_presence(self) -> None:
        """The connected counts to the projector and the consoles (phones show none)."""
        count = self.connected()
        watchers = [c for c in self.clients if c.audience is not Audience.PHONE]
        joined = 0
        if any(c.audience is Audience.CONSOLE for c in watchers):
            async with self.hub.db.session() as db:
                joined = await participant_count(db=db, session_id=self.session_id)
        roles = self.by_role()
        frames: dict[tuple[Audience, str], Frame] = {}
        for client in watchers:
            key = (client.audience, client.locale)
            if key not in frames:
                frames[key] = Frame(self.hub.renderer.presence(*key, count, joined, roles))
            client.offer(frames[key])


class LiveHub:
    """This process's rooms and its link to the other processes; made in the lifespan,
    reached through ``request.state``.

    A write is drawn for this process's screens as soon as it is committed: ``publish``
    nudges the session's room here directly, broker or not. The broker only carries
    the nudge to the other processes, from a task of its own, so a broker that is slow
    or away never holds up the request that wrote. Each process listens to one channel
    for every session (one connection, however many rooms): a nudge names its session,
    its event number and the process that sent it, and a process ignores its own.

    While the broker is away, every room reads the journal every ``BROKER_DOWN_POLL_S``
    instead of every ``SAFETY_POLL_S``; the listener retries within ``BROKER_RETRY_MAX_S``
    and, once back, nudges every room at once (what the broker did not carry is read
    from the journal), and the nudges that could not be sent are sent then.
    """

    def __init__(self, *, db: Database, pubsub: PubSub, renderer: FragmentRenderer) -> None:
        self.db = db
        self.pubsub = pubsub
        self.renderer = renderer
        self.rooms: dict[int, Room] = {}
        self._room_lock = asyncio.Lock()
        self.origin = secrets.token_hex(8)  # this process, in the nudges it sends
        self.broker_up = False
        self._heard = asyncio.Event()  # the broker answered once, yes or no
        self._listener: asyncio.Task[None] | None = None
        self._outbox: dict[int, int] = {}  # session id → newest event number to announce
        self._outbox_filled = asyncio.Event()
        self._publisher: asyncio.Task[None] | None = None

    def publish(self, session_id: int, seq: int) -> None:
        """A write of the session was committed (call only after the commit): draw it
        for this process's screens now, and tell the other processes."""
        room = self.rooms.get(session_id)
        if room is not None:
            room.nudge()
        if seq > self._outbox.get(session_id, 0):
            self._outbox[session_id] = seq
        self._outbox_filled.set()
        if self._publisher is None:
            self._publisher = asyncio.create_task(self._send_nudges(), name="live-publish")

    def publish_all(self, session_id: int, events: list[ev.SessionEvent]) -> None:
        if events:
            self.publish(session_id, max(e.seq for e in events))

    async def _send_nudges(self) -> None:
        """Announce the newest event of each session written here, a message per
        session however many writes came meanwhile; kept and sent again while the
        broker does not take them."""
        failures = 0
        while True:
            await self._outbox_filled.wait()
            self._outbox_filled.clear()
            nudges, self._outbox = self._outbox, {}
            try:
                while nudges:
                    session_id, seq = next(iter(nudges.items()))
                    async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                        await self.pubsub.publish(NUDGES, f"{session_id} {seq} {self.origin}")
                    del nudges[session_id]
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # The writes are committed; the other processes read the journal often
                # while their broker is away, and get these nudges once it is back.
                if not failures:
                    log.warning("live: could not publish to the broker: %r", error)
                for session_id, seq in nudges.items():
                    self._outbox[session_id] = max(seq, self._outbox.get(session_id, 0))
                self._outbox_filled.set()
                await asyncio.sleep(min(BROKER_RETRY_MAX_S, BROKER_RETRY_FIRST_S * 2**failures))
                failures += 1

    async def listening(self) -> None:
        """Start following the broker if not yet; return once it answered (or failed)."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="live-listen")
        await self._heard.wait()

    async def _listen(self) -> None:
        failures = 0
        down_since = 0.0
        while True:
            try:
                async with self.pubsub.subscribe(NUDGES) as messages:
                    if failures:
                        log.warning("live: broker back after %.1f s", time.monotonic() - down_since)
                    self._broker_is(up=True)
                    failures = 0
                    async for message in messages:
                        self._heard_nudge(message)
                raise ConnectionError("the broker ended the subscription")
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self.broker_up or not self._heard.is_set():
                    down_since = time.monotonic()
                    log.warning(
                        "live: broker unavailable (%r); reading the journal every %.1f s",
                        error,
                        BROKER_DOWN_POLL_S,
                    )
                self._broker_is(up=False)
                await asyncio.sleep(min(BROKER_RETRY_MAX_S, BROKER_RETRY_FIRST_S * 2**failures))
                failures += 1

    def _broker_is(self, *, up: bool) -> None:
        """Up: every room reads what the broker did not carry, and the nudges kept are
        sent. Down: every room moves to the quick poll now, not at its next one."""
        changed = up != self.broker_up
        self.broker_up = up
        self._heard.set()
        if changed:
            for room in self.rooms.values():
                room.nudge()
            if up and self._outbox:
                self._outbox_filled.set()

    def _heard_nudge(self, message: str) -> None:
        parts = message.split(" ")
        if len(parts) != 3 or parts[2] == self.origin:
            return  # not a nudge of ours, or one this process sent (its rooms know)
        session_id = whole_number(parts[0])
        room = self.rooms.get(session_id) if session_id is not None else None
        if room is not None:
            room.nudge()

    async def enter(self, session_id: int, client: Client) -> Room:
        """The session's room, started if needed, kept alive until the client leaves."""
        async with self._room_lock:
            room = self.rooms.get(session_id)
            if room is None:
                room = Room(self, session_id)
                try:
                    await room.start()
                except BaseException:
                    await room.stop()
                    raise
                self.rooms[session_id] = room
                room.nudge()  # what was committed since its start read the session
            room.members.add(client)
            return room

    async def release(self, room: Room, client: Client) -> None:
        room.leave(client)
        async with self._room_lock:
            room.members.discard(client)
            if not room.members and self.rooms.get(room.session_id) is room:
                del self.rooms[room.session_id]
                await room.stop()

    async def close(self) -> None:
        for room in list(self.rooms.values()):
            await room.stop()
        self.rooms.clear()
        tasks = [task for task in (self._listener, self._publisher) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._listener = self._publisher = None

    def connected(self, session_id: int) -> int:
        room = self.rooms.get(session_id)
        return room.connected() if room else 0

    def connected_by_role(self, session_id: int) -> dict[Audience, int]:
        room = self.rooms.get(session_id)
        return room.by_role() if room else dict.fromkeys(Audience, 0)
