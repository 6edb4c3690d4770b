"""What is read or drawn for a session at one event number, served again meanwhile.

A join storm loads thousands of pages of one session within seconds, each with the
same step, walls, polls and decisions: ``AtEventNumber`` keeps what was read or drawn
at an event number, ``SharedStages`` the part of a stage every phone (or screen) of a
session sees alike.
"""

from __future__ import annotations

import time
from typing import Any, Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.live.regions import Audience, shared_context
from cocreate.models import Session, key

K = TypeVar("K")
V = TypeVar("V")
SHARED_STAGE_SECONDS = 1.0  # a step's clock moves on without an event: read again after
SHARED_STAGE_ENTRIES = 1_000


class AtEventNumber(Generic[K, V]):
    """What was read or drawn for a session at an event number, served again while the
    session is still at that number, for at most ``seconds``.

    The event number is read before the value, so a value served is at least that
    recent, and whatever follows reaches its reader as any other change does (the
    socket catches up from there). ``seconds`` bounds what changes without an event.
    """

    def __init__(self, seconds: float, max_entries: int = SHARED_STAGE_ENTRIES) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[int, float, V]] = {}

    def get(self, key: K, seq: int) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != seq or time.monotonic() - entry[1] >= self.seconds:
            return None
        return entry[2]

    def keep(self, key: K, seq: int, value: V) -> None:
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: e for k, e in self._entries.items() if now - e[1] < self.seconds}
        self._entries[key] = (seq, now, value)


class SharedStages:
    """The part of a stage every phone (or screen) of a session sees alike, read once
    per event number and shared by the pages drawn meanwhile.

    A join storm loads thousands of phone pages of the same session within seconds, each
    with the same step, walls, polls and decisions: a dozen reads that were most of a
    join. An entry serves the pages of its session while the session is at the event
    number read before the entry (so the entry is at least that recent, and a page
    drawn from it catches up from there like any other), for at most a second. What
    is the phone's own (its votes, reactions, signatures) is read for each page.
    """

    def __init__(self) -> None:
        self._contexts: AtEventNumber[tuple[int, Audience], dict[str, Any]] = AtEventNumber(
            SHARED_STAGE_SECONDS
        )

    async def get(self, db: AsyncSession, session: Session, audience: Audience) -> dict[str, Any]:
        if audience is Audience.CONSOLE:  # hidden proposals and drafts: never shared
            return await shared_context(db, session, audience)
        entry_key = (key(session), audience)
        context = self._contexts.get(entry_key, session.seq)
        if context is None:
            context = await shared_context(db, session, audience)
            self._contexts.keep(entry_key, session.seq, context)
        return context
