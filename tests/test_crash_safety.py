"""A crash never loses a vote: the real server, killed with SIGKILL while phones vote.

The server runs as its own process (`cocreate serve`) on a SQLite file. Twenty phones
vote as fast as the server answers, each changing its mind at every vote, until 1,000
votes have been acknowledged; meanwhile the server is killed three times, at different
moments, and started again on the same file. A phone whose request went unanswered
sends the same vote again once the server is back, as a person would tap again.

What must hold at the end: every acknowledged vote is stored, in order, once (a vote
committed before the kill and sent again is not stored twice); each phone has exactly
one current vote, its last acknowledged one; every vote has its event; the database
passes SQLite's integrity and foreign-key checks.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cocreate.demo import ensure_demo
from cocreate.models import Choice
from tests.conftest import ONCE, TLS, Browser, Server
from tests.outages import free_port

PHONES = 20
VOTES = 1_000
KILLS_AT = (120, 430, 790)  # acknowledged votes when each SIGKILL comes
CHOICES = (Choice.FOR, Choice.AGAINST, Choice.ABSTAIN)  # a change of mind every vote
START_TIMEOUT_S = 30.0


class ServerProcess:
    """`cocreate serve` on a file database; killed with SIGKILL, started again."""

    def __init__(self, database: Path, workdir: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.address = ["--host", "127.0.0.1", "--port", str(self.port)]
        self.log = workdir / "server.log"
        self.env = os.environ | {
            "COCREATE_DATABASE_URL": f"sqlite:///{database}",
            "COCREATE_PUBSUB_URL": "memory://",
            # The same key across restarts: the phones' cookies stay valid.
            "COCREATE_SECRET_KEY": "crash-test-" + "x" * 32,
            "COCREATE_DEFAULT_LOCALE": "en",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def _launch(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "cocreate", "serve", *self.address],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    async def start(self) -> None:
        self.process = self._launch()
        async with httpx.AsyncClient(base_url=self.base_url, verify=TLS) as probe:
            for _ in range(int(START_TIMEOUT_S / 0.05)):
                assert self.process.poll() is None, self.log.read_text()
                try:
                    if (await probe.get("/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"the server did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@pytest.fixture
async def crashable(tmp_path: Path, migrated_sqlite: Path) -> AsyncIterator[ServerProcess]:
    # Always a SQLite file, also when the suite runs on PostgreSQL: a file, killed.
    database = tmp_path / "crash.db"
    shutil.copyfile(migrated_sqlite, database)
    await ensure_demo(f"sqlite:///{database}")
    server = ServerProcess(database, tmp_path)
    await server.start()
    try:
        yield server
    finally:
        server.stop()


class Acknowledged:
    """How many votes the phones have been told of, and a way to wait for a number."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Condition()

    async def add(self) -> None:
        async with self._changed:
            self.count += 1
            self._changed.notify_all()

    async def reach(self, count: int) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.count >= count)


class Phone:
    """A phone voting again and again on one proposal; what it was told is kept."""

    def __init__(self, browser: Browser, code: str, proposal_id: int) -> None:
        self.browser = browser
        self.path = f"/s/{code}/proposals/{proposal_id}/vote"
        self.acknowledged: list[str] = []

    async def vote(self, acknowledged: Acknowledged) -> None:
        while acknowledged.count < VOTES:
            choice = CHOICES[len(self.acknowledged) % len(CHOICES)]
            try:
                answer = await self.browser.post(self.path, {"choice": choice})
            except httpx.TransportError:
                # No answer: the server is down. Tap again (the same vote) shortly.
                await asyncio.sleep(0.05)
                continue
            assert answer.status_code == 200, answer.text
            assert f'value="{choice}" class="vote-{choice}" aria-pressed="true"' in answer.text
            self.acknowledged.append(choice)
            await acknowledged.add()


@ONCE
async def test_no_acknowledged_vote_is_lost_or_counted_twice_across_kills(
    crashable: ServerProcess, tmp_path: Path
) -> None:
    server = Server(crashable.base_url, "", db=None)  # type: ignore[arg-type]
    database = tmp_path / "crash.db"
    code = sqlite3.connect(database).execute("SELECT join_code FROM session").fetchone()[0]

    author = Browser(server)
    await author.get(f"/s/{code}")
    await author.post(f"/s/{code}/join", {"display_name": "Autrice"}, htmx=False)
    assert (await author.post(f"/s/{code}/proposals", {"text": "Un jardin"})).status_code == 200
    proposal_id = sqlite3.connect(database).execute("SELECT max(id) FROM proposal").fetchone()[0]

    phones = []
    for number in range(PHONES):
        browser = Browser(server)
        await browser.get(f"/s/{code}")
        joined = await browser.post(f"/s/{code}/join", {"display_name": f"Phone {number}"})
        assert joined.status_code == 200
        phones.append(Phone(browser, code, proposal_id))

    acknowledged = Acknowledged()
    voting = [asyncio.create_task(phone.vote(acknowledged)) for phone in phones]
    try:
        for moment in KILLS_AT:
            await asyncio.wait_for(acknowledged.reach(moment), timeout=60)
            crashable.kill()  # in the middle of the phones' votes, whatever it was doing
            await crashable.start()
        await asyncio.wait_for(asyncio.gather(*voting), timeout=120)
    finally:
        for task in voting:
            task.cancel()
        for phone in phones:
            await phone.browser.close()
        await author.close()
    crashable.stop()

    with sqlite3.connect(database) as check:
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert check.execute("PRAGMA foreign_key_check").fetchall() == []
        names = dict(check.execute("SELECT id, display_name FROM participant").fetchall())
        stored: dict[str, list[tuple[str, bool]]] = {}
        for participant_id, choice, current in check.execute(
            "SELECT participant_id, choice, superseded_at IS NULL FROM vote "
            "WHERE proposal_id = ? ORDER BY id",
            (proposal_id,),
        ):
            stored.setdefault(names[participant_id], []).append((choice, bool(current)))
        votes = check.execute("SELECT count(*) FROM vote").fetchone()[0]
        events = check.execute("SELECT count(*) FROM event WHERE kind = 'vote_cast'").fetchone()[0]

    assert sum(len(phone.acknowledged) for phone in phones) >= VOTES
    for number, phone in enumerate(phones):
        rows = stored[f"Phone {number}"]
        # Every vote the phone was told of is stored, in order, once; nothing else.
        assert [choice for choice, _ in rows] == phone.acknowledged
        # One current vote: the last one acknowledged.
        assert [current for _, current in rows] == [False] * (len(rows) - 1) + [True]
    assert votes == events  # each vote committed with its event
    assert "Traceback" not in crashable.log.read_text()
