"""Writes reach the screens in one place: once a write is committed, the writer announces
each live session it changed, with its newest event number (``Database.announce_with``).

No view publishes: a write that is rolled back announces nothing, and a write cannot
forget to announce, since taking an event number is what marks the session changed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from cocreate import journal
from cocreate.database import Database
from cocreate.errors import Conflict
from cocreate.i18n import N_
from cocreate.models import Session
from tests.factories import Factory


@dataclass
class Writer:
    """The bare database's writer, two open sessions, and what the writer announced."""

    db: Database
    session_id: int
    other_session_id: int
    announced: list[tuple[int, int]] = field(default_factory=list)
    said: asyncio.Event = field(default_factory=asyncio.Event)

    def announce(self, session_id: int, seq: int) -> None:
        self.announced.append((session_id, seq))
        self.said.set()

    async def seq(self) -> int:
        async with self.db.session() as db:
            session = await db.get(Session, self.session_id)
            assert session is not None
            return session.seq


@pytest.fixture
async def writer(factory: Factory, bare_db: Database) -> Writer:
    """Listening from after the sessions were made: only the test's writes are heard."""
    project = await factory.project()
    one, other = await factory.open_session(project), await factory.open_session(project)
    assert one.id is not None
    assert other.id is not None
    writer = Writer(bare_db, one.id, other.id)
    bare_db.announce_with(writer.announce)
    return writer


async def test_a_committed_write_is_announced_once_with_its_newest_event(
    writer: Writer,
) -> None:
    db, announced = writer.db, writer.announced
    before = await writer.seq()
    async with db.write() as write:
        await journal.next_seq(write, writer.session_id)
        newest = await journal.next_seq(write, writer.session_id, count=3)
        await write.commit()
    assert newest == before + 4
    assert announced == [(writer.session_id, newest)]


async def test_a_write_rolled_back_announces_nothing(
    writer: Writer,
) -> None:
    db, announced = writer.db, writer.announced
    before = await writer.seq()

    async def refused() -> None:
        async with db.write() as write, journal.session_change(write, writer.session_id):
            raise Conflict(N_("This session is already closed."))

    with pytest.raises(Conflict):
        await refused()
    async with db.write() as write:  # a rollback inside a write that then commits
        await journal.next_seq(write, writer.session_id)
        await write.rollback()
        await write.commit()
    assert announced == []
    assert await writer.seq() == before


async def test_what_a_write_committed_before_it_raised_is_announced(
    writer: Writer,
) -> None:
    """Its commit released its savepoint: that part is the group's, committed with it
    (the error reaches the caller at once; the group's commit follows)."""
    db, announced = writer.db, writer.announced
    taken: list[int] = []

    async def fails_after_its_commit() -> None:
        async with db.write() as write:
            taken.append(await journal.next_seq(write, writer.session_id))
            await write.commit()
            raise RuntimeError("after the commit")

    with pytest.raises(RuntimeError):
        await fails_after_its_commit()
    seq = taken[0]
    async with asyncio.timeout(5):  # the group's commit runs in a task
        await writer.said.wait()
    assert announced == [(writer.session_id, seq)]
    assert await writer.seq() == seq


async def test_writes_committed_together_announce_each_session_once(
    writer: Writer,
) -> None:
    db, announced = writer.db, writer.announced

    async def write(session_id: int) -> int:
        async with db.write() as write:
            seq = await journal.next_seq(write, session_id)
            await write.commit()
            return seq

    ids = [writer.session_id, writer.other_session_id] * 10
    taken = await asyncio.gather(*(write(session_id) for session_id in ids))
    newest = {
        session_id: max(s for i, s in zip(ids, taken, strict=True) if i == session_id)
        for session_id in set(ids)
    }
    assert dict(announced) == newest  # the newest number of each session is announced…
    assert len(announced) < len(ids)  # …once per group of writes, not once per write
