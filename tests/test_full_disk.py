"""A full or read-only disk under an SQLite database while phones vote: votes are
refused with a readable 503 and Retry-After, the server keeps serving, and once the
disk is writable again votes are taken again, every acknowledged one is stored and
the file passes SQLite's integrity check.

Full: the database lives on a file system of its own, a small tmpfs mounted by the
test (as root), which the test then fills with a file of zeros, as a log or a backup
would fill a real disk: the WAL cannot grow past the free space and SQLite answers
SQLITE_FULL; deleting the file gives the space back. Where mounting is not allowed,
the database is capped instead (``PRAGMA max_page_count`` at its current size, set on
every connection the server takes from its pool, by the test alone): SQLITE_FULL as
well, from the database's size rather than the disk's.

Read-only: root ignores file permissions, and a file system with the database open
for writing refuses to be remounted read-only, so the test marks the database and
its WAL immutable (``chattr +i``): the kernel then refuses every write, even root's,
even through the file descriptors SQLite already holds (SQLITE_IOERR_WRITE), and
opening them for writing (SQLITE_READONLY), as on a disk remounted read-only after
errors. The shared-memory index stays writable: SQLite writes it through a memory
map, which an immutable file would answer with SIGBUS, killing the server, which is
not what a read-only disk does. Where the file system has no immutable flag, the
server's connections are made read-only instead (``PRAGMA query_only``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cocreate.database import Database, DatabaseUnavailable
from cocreate.settings import Settings
from tests.conftest import (
    ONCE,
    SECRET_KEY,
    OpenSession,
    Server,
    open_session_for,
    signed_in,
    start_server,
)
from tests.faults import Answers, check_nothing_acknowledged_lost, phones_in, stored_votes

pytestmark = ONCE  # SQLite files of their own, whichever database the suite runs on

PHONES = 20
VOTES_BETWEEN = 100  # acknowledged votes before the fault, and after it is repaired
REFUSALS = 20  # 503s seen before the fault is repaired
SMALL_DISK = "16m"  # room for the database and its WAL (up to 1,000 pages: 4 MiB)
FILLER_CHUNK = 1 << 16


class Disk:
    """Where the database lives, and the fault: ``break_()`` then ``repair()``."""

    how = ""
    database: Path

    def break_(self) -> None:
        raise NotImplementedError

    def repair(self) -> None:
        raise NotImplementedError


class OnEveryCheckout(Disk):
    """The fallbacks: a PRAGMA run on every connection of every pool as it is taken
    (the server's among them), from the test alone; ``broken`` says which."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.broken = False

    def pragma(self, connection: Any) -> str:
        raise NotImplementedError

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(self.pragma(dbapi_connection))

    def __enter__(self) -> OnEveryCheckout:
        sa.event.listen(sa.pool.Pool, "checkout", self._checkout)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(sa.pool.Pool, "checkout", self._checkout)

    def break_(self) -> None:
        self.broken = True

    def repair(self) -> None:
        self.broken = False


class SmallFileSystem(Disk):
    how = "a tmpfs filled up"

    def __init__(self, mountpoint: Path) -> None:
        self.mountpoint = mountpoint
        self.database = mountpoint / "cocreate.db"
        self.filler = mountpoint / "filler"

    def break_(self) -> None:
        zeros = bytes(FILLER_CHUNK)
        with self.filler.open("wb", buffering=0) as filler:
            while True:
                try:
                    filler.write(zeros)
                except OSError as full:
                    if full.errno != errno.ENOSPC:
                        raise
                    return

    def repair(self) -> None:
        self.filler.unlink(missing_ok=True)


class PageLimit(OnEveryCheckout):
    how = "max_page_count at the database's size"

    def pragma(self, connection: Any) -> str:
        if self.broken:
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            return f"PRAGMA max_page_count={pages}"
        return "PRAGMA max_page_count=4294967294"  # SQLite's default


@pytest.fixture
def full_disk(migrated_sqlite: Path, tmp_path: Path) -> Iterator[Disk]:
    mountpoint = Path(tempfile.mkdtemp(prefix="cocreate-disk-"))
    mount = ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK},mode=0700", "tmpfs"]
    mounted = subprocess.run([*mount, str(mountpoint)], capture_output=True).returncode == 0
    try:
        if mounted:
            disk: Disk = SmallFileSystem(mountpoint)
            shutil.copyfile(migrated_sqlite, disk.database)
            yield disk
            return
        with PageLimit(tmp_path / "cocreate.db") as limit:
            shutil.copyfile(migrated_sqlite, limit.database)
            yield limit
    finally:
        if mounted:
            subprocess.run(["umount", "--lazy", str(mountpoint)], check=True)
        mountpoint.rmdir()


class ImmutableFiles(Disk):
    how = "the database and its WAL immutable (chattr +i)"

    def __init__(self, database: Path) -> None:
        self.database = database
        self.files = [database, database.with_name(database.name + "-wal")]
        self.broken = False

    def break_(self) -> None:
        subprocess.run(["chattr", "+i", *map(str, self.files)], check=True)
        self.broken = True

    def repair(self) -> None:
        if self.broken:
            subprocess.run(["chattr", "-i", *map(str, self.files)], check=True)
            self.broken = False


class QueryOnly(OnEveryCheckout):
    how = "the server's connections read-only (PRAGMA query_only)"

    def pragma(self, connection: Any) -> str:
        return f"PRAGMA query_only={int(self.broken)}"


def _immutable_refuses_open_files(directory: Path) -> bool:
    """Whether ``chattr +i`` here stops writes through a file already open (ext4 and
    xfs do; tmpfs, for one, only refuses new openings)."""
    if not shutil.which("chattr"):
        return False
    probe = directory / "immutable-probe"
    with probe.open("wb", buffering=0) as opened:
        if subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode:
            return False
        try:
            opened.write(b"x")
        except PermissionError:
            return True
        finally:
            subprocess.run(["chattr", "-i", str(probe)], check=True)
    return False


@pytest.fixture
def read_only_disk(migrated_sqlite: Path, tmp_path: Path) -> Iterator[Disk]:
    database = tmp_path / "cocreate.db"
    shutil.copyfile(migrated_sqlite, database)
    if _immutable_refuses_open_files(tmp_path):
        immutable = ImmutableFiles(database)
        try:
            yield immutable
        finally:
            immutable.repair()  # else pytest could not remove the files
        return
    with QueryOnly(database) as query_only:
        yield query_only


@contextlib.asynccontextmanager
async def serving(database: Path) -> AsyncIterator[Server]:
    url = f"sqlite:///{database}"
    settings = Settings(database_url=url, secret_key=SECRET_KEY, default_locale="en")
    uv, task, base = await start_server(settings)
    db = Database(url)
    try:
        yield Server(base_url=base, database_url=url, db=db)
    finally:
        uv.should_exit = True
        await task
        await db.dispose()


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - waiting for the phones' answers
            await asyncio.sleep(0.02)


async def vote_through_a_fault(disk: Disk) -> tuple[Answers, OpenSession, int, list[Any]]:
    """Phones vote; the disk breaks; once the phones have seen it, it is repaired; the
    phones vote on. What they were answered, and what is stored, are for the caller."""
    async with serving(disk.database) as server:
        facilitator = await signed_in(server, "camille@example.org")
        open_session = await open_session_for(server, facilitator)
        try:
            proposal_id, phones = await phones_in(open_session, PHONES)
            answers, stop = Answers(), asyncio.Event()
            voting = [asyncio.create_task(phone.vote(answers, stop)) for phone in phones]
            try:
                await asyncio.wait_for(answers.reach(VOTES_BETWEEN), 60)
                disk.break_()
                acknowledged_at_break = answers.acknowledged
                await _until(lambda: answers.statuses[503] >= REFUSALS, 60)
                console = await open_session.facilitator.get(
                    f"/sessions/{open_session.session_id}/console"
                )
                acknowledged_while_broken = answers.acknowledged - acknowledged_at_break
                disk.repair()
                await asyncio.wait_for(answers.reach(answers.acknowledged + VOTES_BETWEEN), 60)
            finally:
                stop.set()
                await asyncio.gather(*voting)
                disk.repair()
            stored = await stored_votes(open_session, proposal_id)
        finally:  # a failure above leaves no phone connection open for another test
            for device in open_session.devices:
                await device.close()
    print(
        f"\n{disk.how}: answers {dict(answers.statuses)}; votes taken after the fault "
        f"(in space already had): {acknowledged_while_broken}; longest wait for an answer "
        f"{answers.longest_wait_s:.2f} s; the console meanwhile: {console.status_code}"
    )
    assert answers.dropped == []
    assert answers.unexpected == []  # no 500, nor anything else
    assert answers.refusals_without_retry_after == 0
    assert answers.unreadable_refusals == []
    assert set(answers.statuses) <= {200, 503}
    assert console.status_code in {200, 503}  # reading may work on, or be refused clearly
    check_nothing_acknowledged_lost(phones, stored)
    with contextlib.closing(sqlite3.connect(disk.database)) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert check.execute("PRAGMA foreign_key_check").fetchall() == []
        votes = check.execute("SELECT count(*) FROM vote").fetchone()[0]
        events = check.execute("SELECT count(*) FROM event WHERE kind = 'vote_cast'").fetchone()[0]
    assert votes == events  # each vote committed with its event, none half-written
    return answers, open_session, proposal_id, phones


async def test_a_full_disk_refuses_votes_with_503_and_keeps_every_acknowledged_one(
    full_disk: Disk,
) -> None:
    await vote_through_a_fault(full_disk)


async def test_a_read_only_database_refuses_votes_with_503_and_keeps_every_acknowledged_one(
    read_only_disk: Disk,
) -> None:
    await vote_through_a_fault(read_only_disk)


async def insert(db: Database, value: int) -> None:
    async with db.write() as writing:
        await writing.exec(sa.text("INSERT INTO probe VALUES (:x)"), params={"x": value})
        await writing.commit()


async def test_connections_opened_while_the_file_was_read_only_are_not_kept_after(
    read_only_disk: Disk,
) -> None:
    """SQLite opens a file it may not write read-only and keeps it so: a connection the
    pool opened during the fault (for a page read) would refuse every write once the
    disk is repaired, until a restart, had it been given back to the pool."""
    if not isinstance(read_only_disk, ImmutableFiles):
        pytest.skip("needs a file system with the immutable flag")
    with contextlib.closing(sqlite3.connect(read_only_disk.database)) as setup:
        setup.execute("CREATE TABLE probe (x INTEGER)")
        setup.commit()
        db = Database(f"sqlite:///{read_only_disk.database}")
        try:
            db.sync_engine.dispose()  # the pool empty: the reads below open connections
            read_only_disk.break_()
            async with db.session() as one, db.session() as two:  # pages read meanwhile
                for reading in (one, two):
                    assert (await reading.exec(sa.text("SELECT count(*) FROM probe"))).one() == (0,)
            with pytest.raises(DatabaseUnavailable):  # a vote meanwhile: refused
                await insert(db, 1)
            read_only_disk.repair()
            await asyncio.sleep(0.1)  # the refused group's commit task has ended
            for value in (2, 3, 4):
                await insert(db, value)
            async with db.session() as reading:
                rows = (await reading.exec(sa.text("SELECT x FROM probe ORDER BY x"))).all()
            assert [x for (x,) in rows] == [2, 3, 4]
        finally:
            read_only_disk.repair()
            await db.dispose()
