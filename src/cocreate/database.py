"""Engine and sessions. SQLite (WAL, foreign keys, busy timeout) by default; PostgreSQL by URL.

On PostgreSQL, sessions are SQLAlchemy's ``AsyncSession`` over asyncpg. On SQLite they
are ``InlineSession``: the same interface, its statements run in place through the sync
driver, because on SQLite the asyncio layer costs more than the work it wraps (see
there). Reads use ``Database.session()``. Writes to a live session go through
``Database.write()``: one connection per process writes, the writes of everyone waiting
are committed together (group commit), and each writer resumes only once its write is
committed. On SQLite this removes the lock contention of many connections writing at
once (each waiting in the busy handler), and makes every commit durable (synchronous
FULL) at the cost of one disk sync per group instead of one per vote.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import ORMExecuteState
from sqlalchemy.orm import Session as SyncSession
from sqlalchemy.pool import NullPool
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")
log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5_000  # writers wait this long for the lock before failing
SQLITE_POOL_SIZE = 20


class DatabaseUnavailable(Exception):
    """The database cannot serve now: it is down or restarting, refuses connections,
    is full, read-only or busy past the timeout. Nothing of the action was kept; the
    same action may simply be tried again in a moment (the app answers 503)."""


# What the database being away looks like, once classified (``DatabaseUnavailable``:
# what ``Database`` raises for the driver's errors that mean it), and the socket's own
# errors (asyncpg lets those through as they are while connecting). Nothing was
# committed when one of these is raised: the user may simply retry.
OUTAGES: tuple[type[BaseException], ...] = (
    DatabaseUnavailable,
    ConnectionError,
    socket.gaierror,
    TimeoutError,
)

# PostgreSQL's SQLSTATEs (its manual, appendix A) that say the server cannot serve now,
# not that the statement is wrong: by class, then one by one.
UNAVAILABLE_SQLSTATE_CLASSES = frozenset(
    {
        "08",  # connection exception: refused, reset, lost in the middle of a statement
        "53",  # insufficient resources: disk full, out of memory, too many connections
    }
)
UNAVAILABLE_SQLSTATES = frozenset(
    {
        "57P01",  # admin_shutdown: a fast or smart shutdown ends the connection
        "57P02",  # crash_shutdown: another server process crashed, all are restarted
        "57P03",  # cannot_connect_now: starting up, shutting down, in recovery
        "57P05",  # idle_session_timeout
        "25006",  # read_only_sql_transaction: a standby (after a failover) or read-only
        "58030",  # io_error: the disk under the database failed
    }
)
# SQLite's primary result codes (sqlite.org/rescode.html) that say the same: another
# process holds the lock past the busy timeout, memory or disk is short, the file is
# read-only, cannot be opened or read or written.
UNAVAILABLE_SQLITE_CODES = frozenset(
    {
        5,  # SQLITE_BUSY: locked past the busy timeout
        6,  # SQLITE_LOCKED
        7,  # SQLITE_NOMEM
        8,  # SQLITE_READONLY: a read-only file, directory or file system
        10,  # SQLITE_IOERR: the disk failed a read, a write or a sync
        13,  # SQLITE_FULL: the disk (or the file's size limit) is full
        14,  # SQLITE_CANTOPEN
        15,  # SQLITE_PROTOCOL: the WAL's locks kept changing
    }
)


def is_outage(error: BaseException) -> bool:
    """Whether an error means the database is unavailable (try again later) rather
    than that the code or the data is wrong (a bug: 500)."""
    if isinstance(error, OUTAGES):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:  # the dialect saw the connection die under it
        return True
    original = error.orig
    if isinstance(original, sqlite3.Error):
        return (original.sqlite_errorcode & 0xFF) in UNAVAILABLE_SQLITE_CODES
    # asyncpg's errors as SQLAlchemy adapts them (and psycopg's) carry the SQLSTATE.
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if isinstance(state, str):
        return state[:2] in UNAVAILABLE_SQLSTATE_CLASSES or state in UNAVAILABLE_SQLSTATES
    return isinstance(original, ConnectionError | TimeoutError)


def _outage_in(error: BaseException) -> BaseException | None:
    """The outage an error is, or arose from: closing a session after a lost connection
    or a full disk fails too, and that second error must not hide the first."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if is_outage(current):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def unavailable(error: BaseException) -> DatabaseUnavailable:
    """A ``DatabaseUnavailable`` for an outage, of its own (one per request told)."""
    if isinstance(error, DatabaseUnavailable):
        cause = error.__cause__ or error
        fresh = DatabaseUnavailable(*error.args)
    else:
        cause = error
        fresh = DatabaseUnavailable(f"{type(error).__name__}: {error}".splitlines()[0])
    fresh.__cause__ = cause
    return fresh


@contextlib.contextmanager
def outages_named() -> Iterator[None]:
    """Raise ``DatabaseUnavailable`` for a driver error that means an outage; let the
    others (bugs, constraint violations) through as they are."""
    try:
        yield
    except DatabaseUnavailable:
        raise
    except Exception as error:
        outage = _outage_in(error)
        if outage is None or (outage is error and isinstance(error, OUTAGES)):
            raise  # a bug, or the socket's own error (already an outage): as it is
        raise unavailable(outage) from outage


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
    # What is deleted (a secret poll's sealed ballots once it is counted) is overwritten
    # with zeros in the file, freed pages included, instead of lingering where it was.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


# SQLite's result codes after which a connection is not to be trusted again: SQLite
# opens a file it may not write read-only and keeps it so, and after an I/O error the
# connection's view of the file is suspect. Such a connection, and every connection
# opened before it, is discarded (as a dropped one would be), so the disk once repaired
# is written through fresh connections instead of refused until a restart.
SQLITE_CODES_THAT_SPOIL_CONNECTIONS = frozenset({8, 10, 14})  # READONLY, IOERR, CANTOPEN


def _spoiled_sqlite_connection(context: sa.engine.ExceptionContext) -> None:
    original = context.original_exception
    if isinstance(original, sqlite3.Error) and (
        (original.sqlite_errorcode & 0xFF) in SQLITE_CODES_THAT_SPOIL_CONNECTIONS
    ):
        context.is_disconnect = True
        context.invalidate_pool_on_disconnect = True


def _sqlite_events(engine: sa.Engine) -> None:
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    sa.event.listen(engine, "handle_error", _spoiled_sqlite_connection)


def create_private(url: str | sa.URL) -> None:
    """Create an SQLite database file readable and writable by its owner only, before
    SQLite opens it: SQLite gives its WAL and shared-memory files the same permissions.
    A file that exists is left as it is."""
    parsed = sa.make_url(url)
    path = parsed.database
    if parsed.get_backend_name() != "sqlite" or not path or path == ":memory:":
        return
    if path.startswith("file:") or parsed.query.get("mode") == "memory":
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> AsyncEngine:
    """The asyncio engine of a URL. The app's sessions use it on PostgreSQL; on SQLite
    they use ``make_inline_engine``'s, and this one serves migrations, tests and tools."""
    target = async_url(url)
    if target.drivername == "sqlite+aiosqlite":
        create_private(target)
        engine = create_async_engine(target)
        _sqlite_events(engine.sync_engine)
        return engine
    engine = create_async_engine(target, pool_pre_ping=True)
    sa.event.listen(engine.sync_engine, "do_connect", _connect_or_unavailable)
    return engine


def _connect_or_unavailable(
    dialect: sa.Dialect, _record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """Connect; a server that cannot be reached at all is an outage. asyncpg lets the
    socket's errors through as they are, and not all are ``ConnectionError``: a host
    with several addresses refusing them all is a plain ``OSError``."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as error:
        raise unavailable(error) from error


def make_inline_engine(url: str) -> sa.Engine | None:
    """The sync engine of an SQLite URL (the sessions' and the writer's), else None."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    create_private(parsed)
    engine = sa.create_engine(
        parsed.set(drivername="sqlite"),
        # Connections are a file handle each: keep enough that a busy minute does not
        # open and close them (and set their pragmas) again and again.
        pool_size=SQLITE_POOL_SIZE,
        # Checked out on the loop's own thread, so never waited for: a wait would stop
        # the loop, and with it every session that was to give one back. Past the pool,
        # a connection is opened, and closed when given back.
        max_overflow=-1,
        # Used on the loop's thread; only the writer's commit waits for the disk in a
        # thread of its own, while the writer's lock keeps everyone else off it.
        connect_args={"check_same_thread": False},
    )
    _sqlite_events(engine)
    return engine


class InlineSession(AsyncSession):
    """An ``AsyncSession`` whose statements run in place, through SQLite's sync driver.

    SQLAlchemy's asyncio layer runs each call in a greenlet of its own and each driver
    call of it as a coroutine awaited across greenlets: on SQLite, where a read takes a
    few microseconds, a session with one read cost 135 µs that way and 90 µs in place
    (the server's CPU for a health check with one read: 0.29 ms, then 0.21). Run in
    place, a statement blocks the loop for as long as SQLite works: in WAL mode readers
    never wait for a lock, and in a process every write goes through one writer
    (``Database.write``), which commits in a thread while the loop serves the others.
    The one wait left is the writer's for another process writing the same file (the
    command line, or a second worker), bounded by the busy timeout, as it was when
    aiosqlite's statements were run in place.

    The calls the app makes are run directly; any other falls back to ``AsyncSession``'s
    greenlet, which works as well on a sync driver (it never has anything to await).
    Code written for ``AsyncSession`` runs unchanged, except ``connection()``, which
    hands out an ``AsyncConnection`` that a sync engine cannot back: use ``core()``.
    Results are buffered, as ``AsyncSession``'s are.
    """

    def __init__(self, bind: sa.Engine | sa.Connection, **options: Any) -> None:
        super().__init__(**options)
        self.sync_session.bind = bind

    async def exec(self, statement: Any, **kw: Any) -> Any:
        return self.sync_session.exec(statement, **_buffered(kw))

    async def execute(self, statement: Any, *args: Any, **kw: Any) -> Any:
        return self.sync_session.execute(statement, *args, **_buffered(kw))

    async def scalar(self, statement: Any, *args: Any, **kw: Any) -> Any:
        return self.sync_session.scalar(statement, *args, **_buffered(kw))

    async def scalars(self, statement: Any, *args: Any, **kw: Any) -> Any:
        return self.sync_session.scalars(statement, *args, **_buffered(kw))

    async def get(self, *args: Any, **kw: Any) -> Any:
        return self.sync_session.get(*args, **kw)

    async def refresh(self, *args: Any, **kw: Any) -> None:
        self.sync_session.refresh(*args, **kw)

    async def delete(self, instance: object) -> None:
        self.sync_session.delete(instance)

    async def merge(self, *args: Any, **kw: Any) -> Any:
        return self.sync_session.merge(*args, **kw)

    async def flush(self, objects: Any = None) -> None:
        self.sync_session.flush(objects)

    async def commit(self) -> None:
        self.sync_session.commit()

    async def rollback(self) -> None:
        self.sync_session.rollback()

    async def close(self) -> None:
        self.sync_session.close()


# What AsyncSession adds to every execution: rows fetched before the result is returned.
_BUFFERED = sa.util.immutabledict({"prebuffer_rows": True})


def _buffered(options: dict[str, Any]) -> dict[str, Any]:
    extra = options.get("execution_options")
    options["execution_options"] = (
        sa.util.immutabledict(extra).union(_BUFFERED) if extra else _BUFFERED
    )
    return options


async def core(
    db: AsyncSession, statement: sa.Executable, params: Any = None
) -> sa.CursorResult[*tuple[Any, ...]]:
    """A Core statement on the session's connection and in its transaction, without the
    ORM's unit of work (the busiest reads and writes of a join storm or a vote)."""
    if isinstance(db, InlineSession):
        return db.sync_session.connection().execute(statement, params)
    connection = await db.connection()
    return await connection.execute(statement, params)


@asynccontextmanager
async def closing(db: AsyncSession) -> AsyncIterator[AsyncSession]:
    """``async with AsyncSession`` without its close in a task of its own on SQLite.

    SQLAlchemy closes a session in a separate task, shielded, so that a cancellation
    cannot abandon a close halfway through its round trips. That task runs a turn of
    the event loop later: under load, after every other ready task, while the session
    keeps its connection (and the writer its lock). With statements run in place
    (``InlineSession``) a close has nothing to wait for and cannot be interrupted, so
    it is done at once; with a server database, SQLAlchemy's way stays.
    """
    if not isinstance(db, InlineSession):
        async with db:
            yield db
        return
    try:
        yield db
    finally:
        await db.close()


# What a write changed in live sessions: each session with the newest event number the
# write took (``events_taken``, which ``journal.next_seq`` calls), noted in the write's
# ``Session.info``; kept when the write commits (its savepoint), dropped when it rolls
# back, and announced once the group that holds it is on disk (``Database.announce_with``).
_TAKEN = "cocreate_events_taken"
_KEPT = "cocreate_events_kept"

Announce = Callable[[int, int], None]  # (session id, newest event number), after commit


def events_taken(db: AsyncSession, session_id: int, seq: int) -> None:
    """The write took the session's event numbers up to ``seq``: once it is committed,
    the session's screens are told (every write goes through here: nothing to forget)."""
    _newest(db.info.setdefault(_TAKEN, {}), {session_id: seq})


def _newest(into: dict[int, int], more: dict[int, int]) -> None:
    for session_id, seq in more.items():
        if seq > into.get(session_id, 0):
            into[session_id] = seq


@sa.event.listens_for(SyncSession, "after_commit")
def _events_kept(session: SyncSession) -> None:
    taken = session.info.pop(_TAKEN, None)
    if taken:
        _newest(session.info.setdefault(_KEPT, {}), taken)


@sa.event.listens_for(SyncSession, "after_soft_rollback")
def _events_dropped(session: SyncSession, _previous: Any) -> None:
    session.info.pop(_TAKEN, None)


class _Group:
    """One transaction on the writer's connection, shared by the writes made meanwhile."""

    def __init__(self, connection: AsyncConnection | sa.Connection) -> None:
        self.connection = connection
        self.committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # The outage one of its writes met: the group is then rolled back whole.
        self.broken: BaseException | None = None
        self.events: dict[int, int] = {}  # what its writes changed, to announce


class GroupCommit:
    """Writes run one at a time on one connection; those made while a group is open are
    committed together, and each waits for that commit before it returns.

    Each write is a savepoint inside the group's transaction: its ``commit()`` releases
    the savepoint, a broken rule rolls back that write alone. The group is committed by
    a task queued on the same lock as the writes, so every write already waiting when
    the group opened joins it (self-clocked: one write alone is committed at once, a
    crowd in as few commits as the database can take).

    On SQLite the writes run in place on a sync connection (``InlineSession``) and the
    commit, which waits for the disk, in a thread; elsewhere on an ``AsyncConnection``.
    """

    def __init__(self, engine: AsyncEngine, inline: sa.Engine | None) -> None:
        self._engine = engine
        self._inline = inline
        # The commit's own thread (made at the first commit): in the loop's default
        # executor it could wait behind a PDF being drawn, and every vote with it.
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cocreate-commit")
        self._lock = asyncio.Lock()
        self._group: _Group | None = None
        self._committers: set[asyncio.Task[None]] = set()
        self.announce: Announce | None = None

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        with outages_named():
            async with self._lock:
                group = await self._open()
                if group.broken is not None:
                    raise unavailable(group.broken)
                options: dict[str, Any] = {
                    "join_transaction_mode": "create_savepoint",
                    "expire_on_commit": False,
                }
                connection = group.connection
                db = (
                    InlineSession(connection, **options)
                    if isinstance(connection, sa.Connection)
                    else AsyncSession(bind=connection, **options)
                )
                try:
                    async with closing(db):
                        try:
                            yield db  # a write that raises is rolled back to its savepoint
                        finally:  # what it committed before raising is the group's, too
                            _newest(group.events, db.info.get(_KEPT, {}))
                except Exception as error:
                    # A lost connection, a full disk or a failed write may have ended
                    # the group's transaction under its savepoints (SQLite rolls back
                    # the whole of it on SQLITE_FULL or SQLITE_IOERR): the writes after
                    # this one would run outside it, and those before be lost with it.
                    # The group is refused whole; each of its writers is told.
                    group.broken = group.broken or _outage_in(error)
                    raise
            # Told nothing until the group is on disk; if the commit fails, nothing of
            # the group was written and every write in it gets the error.
            await asyncio.shield(group.committed)

    async def _open(self) -> _Group:
        if self._group is None:
            self._group = _Group(await self._begin())
            committer = asyncio.create_task(self._commit(self._group))
            self._committers.add(committer)
            committer.add_done_callback(self._committers.discard)
        return self._group

    async def _begin(self) -> AsyncConnection | sa.Connection:
        if self._inline is not None:
            # Explicitly, and taking the write lock now: the driver would begin only at
            # the first INSERT/UPDATE, so the first savepoint's release would commit on
            # its own.
            inline = self._inline.connect()
            try:
                inline.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                inline.close()
                raise
            return inline
        connection = await self._engine.connect()
        try:
            await connection.begin()
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _commit(self, group: _Group) -> None:
        async with self._lock:  # after every write queued before this task
            self._group = None
            connection = group.connection
            try:
                if group.broken is not None:
                    raise unavailable(group.broken)
                await self._end(connection, "commit")
            except BaseException as error:
                group.committed.set_exception(error)
                group.committed.exception()  # retrieved: writers that left need not
                # The driver may still hold the failed transaction: never reuse it.
                with contextlib.suppress(*OUTAGES):
                    await self._end(connection, "invalidate")
            else:
                group.committed.set_result(None)
                self._announce(group.events)
            finally:
                with contextlib.suppress(*OUTAGES):
                    await self._end(connection, "close")

    def _announce(self, events: dict[int, int]) -> None:
        if self.announce is None:
            return
        for session_id, seq in events.items():
            try:
                self.announce(session_id, seq)
            except Exception:  # the writes are committed: a screen late is all it costs
                log.exception("could not announce event %s of session %s", seq, session_id)

    async def _end(
        self,
        connection: AsyncConnection | sa.Connection,
        step: Literal["commit", "invalidate", "close"],
    ) -> None:
        """Commit the group, discard its connection for good, or give it back to the
        pool. A sync connection's steps run in the commit's thread one after the other,
        so none starts while a commit this task stopped waiting for still runs."""
        if isinstance(connection, sa.Connection):
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._disk, getattr(connection, step))
        else:
            await getattr(connection, step)()

    async def drain(self) -> None:
        """Wait for the groups being committed, then let the commit's thread go (at
        shutdown)."""
        while self._committers:
            await asyncio.gather(*self._committers, return_exceptions=True)
        self._disk.shutdown(wait=False)


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
        self.engine = make_engine(url)  # an AsyncEngine: for migrations, tests, tools
        self._inline = make_inline_engine(url)  # SQLite: what sessions and writes use
        self._info = {READ_ONLY: True} if reads_only_in_sessions else {}
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False, info=self._info
        )
        self._writer = GroupCommit(self.engine, self._inline)

    @property
    def sync_engine(self) -> sa.Engine:
        """The engine under the sessions and the writer, for its events."""
        return self._inline if self._inline is not None else self.engine.sync_engine

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        db = (
            InlineSession(self._inline, expire_on_commit=False, info=dict(self._info))
            if self._inline is not None
            else self._sessions()
        )
        with outages_named():
            async with closing(db):
                yield db

    async def read_apart(self, read: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """A large read (the minutes, an export, the console or the projector of a
        session with thousands of contributions), in a thread with an event loop and a
        session of its own, while the loop serves the room: the statements and the
        ORM's work on thousands of rows take seconds of CPU, and on the loop every phone
        would wait as long. The thread takes turns with the loop for Python's lock, a
        few milliseconds at a time. On SQLite the session is an ordinary one (its
        statements run in place, in that thread); on PostgreSQL, whose connections
        belong to the loop that opened them, it has a connection of its own for the
        read (a few milliseconds to open: for heavy pages only)."""
        inline, url, info = self._inline, self.engine.url, dict(self._info)

        async def in_its_own_loop() -> T:
            if inline is not None:
                async with closing(InlineSession(inline, expire_on_commit=False, info=info)) as db:
                    return await read(db)
            engine = create_async_engine(url, poolclass=NullPool)
            try:
                async with AsyncSession(engine, expire_on_commit=False, info=info) as db:
                    return await read(db)
            finally:
                await engine.dispose()

        with outages_named():
            return await asyncio.to_thread(asyncio.run, in_its_own_loop())

    def announce_with(self, announce: Announce) -> None:
        """After each commit of the writer, ``announce(session id, newest event number)``
        for every live session its writes changed (the app gives the live hub's
        ``publish``): the one place where a write reaches the screens."""
        self._writer.announce = announce

    def write(self) -> AbstractAsyncContextManager[AsyncSession]:
        """A session for one write (every write of the app goes through here),
        committed with the writes made at the same moment; leaving the block means the
        write is committed."""
        return self._writer.session()

    async def dispose(self) -> None:
        await self._writer.drain()
        await self.engine.dispose()
        if self._inline is not None:
            self._inline.dispose()
