"""Writes to a live session are committed in groups, and each is answered only once it
is committed: many phones voting at once share a few commits, a refused write is rolled
back alone, and a failed commit fails every write of its group without keeping any."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col, func, select

from cocreate.database import Database, WriteOutsideWriter
from cocreate.models import Choice, Vote
from tests.conftest import OpenSession, tally_of


@pytest.fixture
async def scratch(tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    """A database of its own (a real SQLite file) with two small tables."""
    path = tmp_path / "scratch.db"
    with contextlib.closing(sqlite3.connect(path)) as raw:
        raw.executescript(
            """
            CREATE TABLE parent (id INTEGER PRIMARY KEY);
            CREATE TABLE child (
                id INTEGER PRIMARY KEY,
                parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED
            );
            INSERT INTO parent (id) VALUES (1);
            """
        )
    database = Database(f"sqlite:///{path}")
    try:
        yield database, path
    finally:
        await database.dispose()


def children(path: Path) -> list[int]:
    """What another process reading the file sees."""
    with contextlib.closing(sqlite3.connect(path)) as raw:
        return [row[0] for row in raw.execute("SELECT id FROM child ORDER BY id")]


async def add_child(database: Database, child_id: int, parent_id: int = 1) -> int:
    async with database.write() as db:
        await db.exec(  # type: ignore[call-overload]
            sa.text("INSERT INTO child (id, parent_id) VALUES (:id, :parent)"),
            params={"id": child_id, "parent": parent_id},
        )
        await db.commit()
    return child_id


def count_commits(database: Database) -> list[int]:
    commits: list[int] = []
    sa.event.listen(database.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


async def test_a_write_is_on_disk_when_its_block_ends(scratch: tuple[Database, Path]) -> None:
    database, path = scratch
    await add_child(database, 7)
    assert children(path) == [7]


async def test_writes_made_together_share_commits(scratch: tuple[Database, Path]) -> None:
    database, path = scratch
    commits = count_commits(database)
    done = await asyncio.gather(*(add_child(database, n) for n in range(1, 61)))
    assert sorted(done) == list(range(1, 61))
    assert children(path) == list(range(1, 61))
    # Counted on the engine that writes (none counted would mean the wrong one)...
    assert commits, "no commit seen: counting on an engine that does not write"
    # ...sixty writes, a handful of commits (one each without grouping): those queued
    # while a group is open join it.
    assert len(commits) <= 10, len(commits)


async def test_a_refused_write_is_rolled_back_alone(scratch: tuple[Database, Path]) -> None:
    database, path = scratch

    async def refused() -> None:
        async with database.write() as db:
            await db.exec(sa.text("INSERT INTO child (id, parent_id) VALUES (99, 1)"))  # type: ignore[call-overload]
            raise ValueError("a broken rule")

    results = await asyncio.gather(
        add_child(database, 1), refused(), add_child(database, 2), return_exceptions=True
    )
    assert results[0] == 1
    assert results[2] == 2
    assert isinstance(results[1], ValueError)
    assert children(path) == [1, 2]


async def test_a_failed_commit_fails_its_whole_group_and_keeps_nothing(
    scratch: tuple[Database, Path],
) -> None:
    database, path = scratch
    await add_child(database, 1)
    # The group's commit fails (a deferred foreign key checked at commit): every write in
    # it is told so, none is kept, and the writer goes on with the next group.
    results = await asyncio.gather(
        add_child(database, 2), add_child(database, 3, parent_id=404), add_child(database, 4),
        add_child(database, 5), return_exceptions=True,
    )  # fmt: skip
    failed = [r for r in results if isinstance(r, sa.exc.IntegrityError)]
    kept = [r for r in results if isinstance(r, int)]
    assert failed, results
    assert children(path) == [1, *kept]
    assert 3 not in kept
    await add_child(database, 6)
    assert children(path)[-1] == 6


async def test_phones_voting_at_once_are_all_counted(open_session: OpenSession) -> None:
    """Forty phones vote at the same moment: every acknowledged vote is stored and
    counted, once, and the tally every screen shows agrees."""
    author = await open_session.phone("Awa")
    await author.post(f"/s/{open_session.code}/proposals", {"text": "Une épicerie solidaire"})
    page = await author.get(f"/s/{open_session.code}")
    proposal_id = int(re.findall(r'id="proposal-(\d+)"', page.text)[0])
    phones = [await open_session.phone(f"Phone {n}") for n in range(40)]
    choices = ["for", "against", "abstain"]
    answers = await asyncio.gather(
        *(
            phone.post(
                f"/s/{open_session.code}/proposals/{proposal_id}/vote", {"choice": choices[n % 3]}
            )
            for n, phone in enumerate(phones)
        )
    )
    assert [a.status_code for a in answers] == [200] * 40
    async with open_session.server.db.session() as db:
        stored = (
            await db.exec(select(func.count()).where(col(Vote.proposal_id) == proposal_id))
        ).one()
    assert stored == 40
    screen = await open_session.projector()
    shown = await screen.get(f"/s/{open_session.code}/screen")
    assert tally_of(shown.text, proposal_id) == {"for": 14, "against": 13, "abstain": 13}


async def test_the_apps_read_sessions_refuse_to_write(tmp_path: Path) -> None:
    """On SQLite a write outside the writer would wait for its lock on the event loop:
    the app's read sessions refuse any, whether an ORM flush or a statement."""
    database = Database(f"sqlite:///{tmp_path / 'guarded.db'}", reads_only_in_sessions=True)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(Vote.metadata.create_all)
        with pytest.raises(WriteOutsideWriter):
            async with database.session() as db:
                await db.exec(sa.update(Vote).values(choice="for"))

        async def add_a_vote() -> None:
            async with database.session() as db:
                db.add(Vote(proposal_id=1, participant_id=1, choice=Choice.FOR))
                await db.commit()

        with pytest.raises(WriteOutsideWriter):
            await add_a_vote()
        async with database.write() as db:  # the writer may
            await db.exec(sa.update(Vote).values(choice="for"))
            await db.commit()
    finally:
        await database.dispose()


async def test_sqlite_statements_run_in_place_and_commits_in_a_thread(
    scratch: tuple[Database, Path],
) -> None:
    """On SQLite, reads and writes run their statements on the event loop's thread (the
    asyncio layer cost more than SQLite's work); only the commit, which waits for the
    disk, runs in a thread while the loop serves the others."""
    database, path = scratch
    seen: list[tuple[str, int]] = []
    engine = database.sync_engine
    sa.event.listen(
        engine,
        "before_cursor_execute",
        lambda *_: seen.append(("statement", threading.get_ident())),
    )
    sa.event.listen(engine, "commit", lambda _conn: seen.append(("commit", threading.get_ident())))
    names: list[str] = []
    sa.event.listen(engine, "commit", lambda _conn: names.append(threading.current_thread().name))
    async with database.session() as db:
        assert (await db.exec(sa.text("SELECT count(*) FROM child"))).one() == (0,)  # type: ignore[call-overload]
    await add_child(database, 5)
    assert children(path) == [5]
    loop = threading.get_ident()
    statements = {thread for what, thread in seen if what == "statement"}
    commits = [thread for what, thread in seen if what == "commit"]
    assert statements == {loop}, seen
    assert commits, seen
    assert loop not in commits, seen
    assert all(name.startswith("cocreate-commit") for name in names), names


async def test_a_busy_thread_pool_does_not_hold_back_the_commits(
    scratch: tuple[Database, Path],
) -> None:
    """PDFs and password hashes are made in the loop's default thread pool: however
    busy it is, a write (a vote) is committed in its own thread without waiting."""
    database, path = scratch
    loop = asyncio.get_running_loop()
    # Every thread of the pool (and more tasks queued behind them) is held until the
    # write is done: a write that needed the pool would never be.
    release = threading.Event()
    busy = [loop.run_in_executor(None, release.wait, 30) for _ in range(64)]
    try:
        written = await asyncio.wait_for(add_child(database, 9), timeout=5)
    finally:
        release.set()
    assert written == 9
    assert children(path) == [9]
    assert all(await asyncio.gather(*busy))  # each was held until then, not timed out


async def test_many_read_sessions_held_across_awaits_never_block_the_loop(
    scratch: tuple[Database, Path],
) -> None:
    """SQLite's sessions check their connection out on the loop's own thread: a pool
    that made the 31st wait would stop the loop, and with it whoever was to give a
    connection back. Sixty pages each holding a read session across an await all finish."""
    database, _path = scratch

    pages = 60
    holding: list[int] = []
    all_holding = asyncio.Event()

    async def page() -> int:
        count = sa.text("SELECT count(*) FROM parent")
        async with database.session() as db:
            first = (await db.exec(count)).one()[0]  # type: ignore[call-overload]
            # The page waits for something else meanwhile: here, until all sixty hold
            # their session at once (a pool that made one wait would never get there).
            holding.append(1)
            if len(holding) == pages:
                all_holding.set()
            await all_holding.wait()
            return int(first + (await db.exec(count)).one()[0])  # type: ignore[call-overload]

    together = asyncio.gather(*(page() for _ in range(pages)))
    assert await asyncio.wait_for(together, timeout=5) == [2] * pages
