"""Engine and sessions. SQLite (WAL, foreign keys, busy timeout) by default; PostgreSQL by URL.

Reads use ``Database.session()``. Writes to a live session go through
``Database.write()``: one connection per process writes, the writes of everyone waiting
are committed together (group commit), and each writer resumes only once its write is
committed. On SQLite this removes the lock contention of many connections writing at
once (each waiting in the busy handler), and makes every commit durable (synchronous
FULL) at the cost of one disk sync per group instead of one per vote.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from functools import partial
from typing import Any

import aiosqlite
import sqlalchemy as sa
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as SyncSession
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 5_000  # writers wait this long for the lock before failing
SQLITE_POOL_SIZE = 20

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
    # FULL: a commit is on disk before anyone is told it happened (WAL synced each
    # commit); group commit keeps that to one sync per group of writes.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class _InlineSQLite(aiosqlite.Connection):
    """aiosqlite's connection, its statements run on the event loop's own thread.

    aiosqlite hands every statement to a thread of its own and back: about 0.3 ms of
    CPU per statement in thread switches, ten times what this app's statements cost
    SQLite itself (a page is a dozen statements, a vote as many). Run in place, a
    statement blocks the loop only for as long as SQLite works: in WAL mode readers
    never wait for a lock, and in a process all writes go through one writer
    (``Database.write``), so the only wait left is on another process writing the
    same file (the command line), bounded by the busy timeout. The thread remains,
    idle, to open and close the connection.
    """

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if fn == self._connection.commit:
            # A commit waits for the disk (synchronous=FULL): in the thread, the loop
            # serves everyone else meanwhile. Only the writer commits, once per group,
            # holding its lock: nobody else touches this connection until it is done.
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        return fn(*args, **kwargs)


def _inline_sqlite(path: str) -> Callable[[], Awaitable[aiosqlite.Connection]]:
    async def connect() -> aiosqlite.Connection:
        # Opened in aiosqlite's thread, used on the loop's: never at the same time.
        connector = partial(sqlite3.connect, path, check_same_thread=False)
        return await _InlineSQLite(connector, iter_chunk_size=64)

    return connect


def make_engine(url: str) -> AsyncEngine:
    target = async_url(url)
    if target.drivername == "sqlite+aiosqlite":
        engine = create_async_engine(
            target,
            async_creator=_inline_sqlite(target.database or ":memory:"),
            # Connections are a file handle each: keep enough that a busy minute does
            # not open and close them (and set their pragmas) again and again.
            pool_size=SQLITE_POOL_SIZE,
        )
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(target, pool_pre_ping=True)


@asynccontextmanager
async def closing(db: AsyncSession) -> AsyncIterator[AsyncSession]:
    """``async with AsyncSession`` without its close in a task of its own on SQLite.

    SQLAlchemy closes a session in a separate task, shielded, so that a cancellation
    cannot abandon a close halfway through its round trips. That task runs a turn of
    the event loop later: under load, after every other ready task, while the session
    keeps its connection (and the writer its lock). With statements run in place
    (SQLite here) a close has nothing to wait for and cannot be interrupted, so it is
    done at once; with a server database, SQLAlchemy's way stays.
    """
    if not isinstance(db.bind, AsyncConnection | AsyncEngine) or db.bind.dialect.name != "sqlite":
        async with db:
            yield db
        return
    try:
        yield db
    finally:
        await db.close()


class _Group:
    """One transaction on the writer's connection, shared by the writes made meanwhile."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()


class GroupCommit:
    """Writes run one at a time on one connection; those made while a group is open are
    committed together, and each waits for that commit before it returns.

    Each write is a savepoint inside the group's transaction: its ``commit()`` releases
    the savepoint, a broken rule rolls back that write alone. The group is committed by
    a task queued on the same lock as the writes, so every write already waiting when
    the group opened joins it (self-clocked: one write alone is committed at once, a
    crowd in as few commits as the database can take).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._lock = asyncio.Lock()
        self._group: _Group | None = None
        self._committers: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            group = await self._open()
            db = AsyncSession(
                bind=group.connection,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
            )
            async with closing(db):
                yield db  # a write that raises is rolled back to its savepoint here
        # Told nothing until the group is on disk; if the commit fails, nothing of the
        # group was written and every write in it gets the error.
        await asyncio.shield(group.committed)

    async def _open(self) -> _Group:
        if self._group is None:
            connection = await self._engine.connect()
            try:
                if connection.dialect.name == "sqlite":
                    # Explicitly, and taking the write lock now: the driver would begin
                    # only at the first INSERT/UPDATE, so the first savepoint's release
                    # would commit on its own.
                    await connection.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    await connection.begin()
            except BaseException:
                await connection.close()
                raise
            self._group = _Group(connection)
            committer = asyncio.create_task(self._commit(self._group))
            self._committers.add(committer)
            committer.add_done_callback(self._committers.discard)
        return self._group

    async def _commit(self, group: _Group) -> None:
        async with self._lock:  # after every write queued before this task
            self._group = None
            try:
                await group.connection.commit()
            except BaseException as error:
                group.committed.set_exception(error)
                group.committed.exception()  # retrieved: writers that left need not
                # The driver may still hold the failed transaction: never reuse it.
                with contextlib.suppress(*OUTAGES):
                    await group.connection.invalidate()
            else:
                group.committed.set_result(None)
            finally:
                with contextlib.suppress(*OUTAGES):
                    await group.connection.close()

    async def drain(self) -> None:
        """Wait for the groups being committed (at shutdown)."""
        while self._committers:
            await asyncio.gather(*self._committers, return_exceptions=True)


class WriteOutsideWriter(RuntimeError):
    """A read session tried to write: writes go through ``Database.write()``."""


READ_ONLY = "cocreate_read_only"  # the mark of a read session, in ``Session.info``


@sa.event.listens_for(SyncSession, "before_flush")
def _no_flush_when_reading(session: SyncSession, _context: Any, _instances: Any) -> None:
    if session.info.get(READ_ONLY) and (session.new or session.dirty or session.deleted):
        raise WriteOutsideWriter("this session only reads: write in Database.write()")


@sa.event.listens_for(SyncSession, "do_orm_execute")
def _no_statement_when_reading(state: ORMExecuteState) -> None:
    if state.session.info.get(READ_ONLY) and (
        state.is_insert or state.is_update or state.is_delete
    ):
        raise WriteOutsideWriter("this session only reads: write in Database.write()")


class Database:
    """The engine, a session factory and the group-commit writer; one per app, made in
    the lifespan.

    With ``reads_only_in_sessions`` (the app's), ``session()`` refuses to write: on
    SQLite a write there would wait for the writer's lock on the event loop itself, so
    the app makes sure none is ever tried. Tests and the command line, writing from
    their own process or their own instance, keep ordinary sessions.
    """

    def __init__(self, url: str, *, reads_only_in_sessions: bool = False) -> None:
        self.engine = make_engine(url)
        self._sessions = async_sessionmaker(
            self.engine,
            class_=AsyncSession,
            expire_on_commit=False,
            info={READ_ONLY: True} if reads_only_in_sessions else {},
        )
        self._writer = GroupCommit(self.engine)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        db = self._sessions()
        async with closing(db):
            yield db

    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session for one write (every write of the app goes through here),
        committed with the writes made at the same moment; leaving the block means the
        write is committed."""
        return self._writer.session()

    async def dispose(self) -> None:
        await self._writer.drain()
        await self.engine.dispose()
