"""Writes reach the screens in one place: once a write is committed, the writer announces
each live session it changed, with its newest event number (``Database.announce_with``).

No view publishes: a write that is rolled back announces nothing, and a write cannot
forget to announce, since taking an event number is what marks the session changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from cocreate import journal
from cocreate.database import Database
from cocreate.errors import Conflict
from cocreate.i18n import N_
from tests.conftest import Room, open_room


@pytest.fixture
async def writer(room: Room) -> AsyncIterator[tuple[Database, list[tuple[int, int]]]]:
    db = Database(room.server.database_url)
    announced: list[tuple[int, int]] = []
    db.announce_with(lambda session_id, seq: announced.append((session_id, seq)))
    yield db, announced
    await db.dispose()


async def test_a_committed_write_is_announced_once_with_its_newest_event(
    room: Room, writer: tuple[Database, list[tuple[int, int]]]
) -> None:
    db, announced = writer
    before = await room.seq()
    async with db.write() as write:
        await journal.next_seq(write, room.session_id)
        newest = await journal.next_seq(write, room.session_id, count=3)
        await write.commit()
    assert newest == before + 4
    assert announced == [(room.session_id, newest)]


async def test_a_write_rolled_back_announces_nothing(
    room: Room, writer: tuple[Database, list[tuple[int, int]]]
) -> None:
    db, announced = writer
    before = await room.seq()

    async def refused() -> None:
        async with db.write() as write, journal.session_change(write, room.session_id):
            raise Conflict(N_("This session is already closed."))

    with pytest.raises(Conflict):
        await refused()
    async with db.write() as write:  # a rollback inside a write that then commits
        await journal.next_seq(write, room.session_id)
        await write.rollback()
        await write.commit()
    assert announced == []
    assert await room.seq() == before


async def test_what_a_write_committed_before_it_raised_is_announced(
    room: Room, writer: tuple[Database, list[tuple[int, int]]]
) -> None:
    """Its commit released its savepoint: that part is the group's, committed with it
    (the error reaches the caller at once; the group's commit follows)."""
    db, announced = writer
    taken: list[int] = []

    async def fails_after_its_commit() -> None:
        async with db.write() as write:
            taken.append(await journal.next_seq(write, room.session_id))
            await write.commit()
            raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError):
        await fails_after_its_commit()
    seq = taken[0]
    async with asyncio.timeout(5):
        while not announced:  # noqa: ASYNC110 - the group's commit runs in a task
            await asyncio.sleep(0.01)
    assert announced == [(room.session_id, seq)]
    assert await room.seq() == seq


async def test_writes_committed_together_announce_each_session_once(
    room: Room, writer: tuple[Database, list[tuple[int, int]]]
) -> None:
    db, announced = writer
    other = await open_room(room.server, room.facilitator, title="Atelier B")

    async def write(session_id: int) -> int:
        async with db.write() as write:
            seq = await journal.next_seq(write, session_id)
            await write.commit()
            return seq

    ids = [room.session_id, other.session_id] * 10
    taken = await asyncio.gather(*(write(session_id) for session_id in ids))
    newest = {
        session_id: max(s for i, s in zip(ids, taken, strict=True) if i == session_id)
        for session_id in set(ids)
    }
    assert dict(announced) == newest  # the newest number of each session is announced…
    assert len(announced) < len(ids)  # …once per group of writes, not once per write
