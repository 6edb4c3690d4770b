"""The event journal: each live session's numbered events, written and read.

Every write to a live session takes the session's next event number first
(``next_seq``, the transaction's first write: it takes SQLite's write lock or locks the
session's row on PostgreSQL), writes its change and an ``Event`` row per event, and
commits. Taking a number notes the session in the write's transaction, and the writer
announces it to the live hub once the write is on disk (``database.events_taken``).
Rooms read the events after the last one they drew (``events_after``): the journal,
not the broker's nudges, is what screens are drawn from.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import events as ev
from cocreate.database import core, events_taken
from cocreate.events import SessionEvent
from cocreate.models import Event, Session, utcnow

E = TypeVar("E", bound=SessionEvent)


async def next_seq(db: AsyncSession, session_id: int, count: int = 1) -> int:
    """Take the session's next event number, or the next ``count`` of them (the last is
    returned), inside a write transaction."""
    result = await db.exec(
        sa.update(Session)
        .where(col(Session.id) == session_id)
        .values(seq=col(Session.seq) + count)
        .returning(col(Session.seq))
    )
    seq = int(result.scalar_one())
    events_taken(db, session_id, seq)  # the screens are told once the write is committed
    return seq


@asynccontextmanager
async def session_change(db: AsyncSession, session_id: int) -> AsyncIterator[tuple[Session, int]]:
    """One write to a live session: (the session read afresh, its next event number).

    Taking the number is the first write: on SQLite it takes the write lock, on
    PostgreSQL it locks the session's row, so the rules checked inside see no concurrent
    change. Anything raised inside, a broken rule included, rolls the whole write back.
    """
    try:
        seq = await next_seq(db, session_id)
        session = await db.get(Session, session_id, populate_existing=True)
        assert session is not None
        yield session, seq
    except BaseException:
        await db.rollback()
        raise


async def insert_events(db: AsyncSession, session_id: int, events: Sequence[SessionEvent]) -> None:
    """Write the event rows of changes (one statement, however many), without committing."""
    now = utcnow()
    await core(
        db,
        sa.insert(Event),
        [
            {
                "session_id": session_id,
                "seq": event.seq,
                "kind": event.kind,
                "subject_id": event.subject_id,
                "created_at": now,
            }
            for event in events
        ],
    )


async def record_event(
    db: AsyncSession, session_id: int, seq: int, cls: type[E], subject_id: int
) -> E:
    """Write the event row of a change, commit the change, and return the event."""
    event = cls(seq=seq, subject_id=subject_id)
    await insert_events(db, session_id, [event])
    await db.commit()
    return event


async def last_number(db: AsyncSession, session_id: int) -> int:
    """The number of the session's newest event (0 before the first, or no session)."""
    session = await db.get(Session, session_id)
    return session.seq if session else 0


async def events_after(
    db: AsyncSession, session_id: int, after: int, limit: int
) -> list[SessionEvent]:
    """The session's events numbered after ``after``, in order, ``limit`` at most."""
    rows = await db.exec(
        select(Event.kind, Event.seq, Event.subject_id)
        .where(Event.session_id == session_id, col(Event.seq) > after)
        .order_by(col(Event.seq))
        .limit(limit)
    )
    return [ev.from_row(k, s, sid) for k, s, sid in rows.all()]
