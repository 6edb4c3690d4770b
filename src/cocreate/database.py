"""Engine and sessions. SQLite (WAL, foreign keys, busy timeout) by default; PostgreSQL by URL."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 5_000  # writers wait this long for the lock before failing

# What the database being away looks like: the driver's errors once connected (wrapped by
# SQLAlchemy), and the socket's own while connecting (asyncpg lets those through as they
# are). Nothing was committed when one of these is raised: the user may simply retry.
OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    socket.gaierror,
    TimeoutError,
)


def async_url(url: str) -> sa.URL:
    """The URL with an asyncio driver: users write sqlite:// or postgresql://."""
    parsed = sa.make_url(url)
    if parsed.drivername == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+asyncpg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> AsyncEngine:
    target = async_url(url)
    engine = create_async_engine(target, pool_pre_ping=not target.drivername.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """The engine and a session factory; one per app, made in the lifespan."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as db:
            yield db

    async def dispose(self) -> None:
        await self.engine.dispose()
