"""A real PostgreSQL restarted under load: every answer is a vote taken or a clear
"try again", and no acknowledged vote is lost.

The machine's shared PostgreSQL is never touched: the test makes a cluster of its own
(initdb, as the ``postgres`` user when run as root, on a free port, fsync off), serves
the app on it, and restarts it twice with ``pg_ctl`` while thirty phones vote as fast
as the server answers: ``-m fast`` (open connections ended with 57P01, new ones
refused with 57P03 "shutting down" or "starting up", then by the closed port), then
``-m immediate`` (the server killed, crash recovery when it starts again).

What must hold: every answer is 200 or 503 with Retry-After and a readable message
(no 500, no connection dropped without an answer); every acknowledged vote is stored,
in order, once, and nothing else; ``/health`` says 503 while the database is away and
200 again by itself. The figures (503s, longest wait, time unavailable) are printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cocreate.database import Database
from cocreate.migrate import upgrade
from cocreate.settings import Settings
from tests.conftest import ONCE, SECRET_KEY, Server, open_session_for, signed_in, start_server
from tests.faults import (
    Answers,
    Health,
    check_nothing_acknowledged_lost,
    phones_in,
    stored_votes,
)
from tests.outages import free_port

PHONES = 30
VOTES_BETWEEN = 150  # acknowledged votes before each restart, and after the last one
RESTARTS = ("fast", "immediate")
IN_CI = os.environ.get("CI") == "true"
PG_TIMEOUT_S = 30  # pg_ctl's own wait for a start or a stop


def _bindir() -> Path | None:
    """PostgreSQL's server programs: where pg_config says, else Debian's place."""
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidate = Path(found.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


@dataclass
class Cluster:
    """A PostgreSQL of the test's own: made, started, restarted, removed."""

    bindir: Path
    home: Path
    as_user: list[str]  # ["runuser", "-u", "postgres", "--"] as root, else nothing
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        data, log = str(self.home / "data"), str(self.home / "server.log")
        command = [str(self.bindir / "pg_ctl"), "-D", data, "-l", log, "-w", *args]
        subprocess.run(
            [*self.as_user, *command, "-t", str(PG_TIMEOUT_S)],
            check=True,
            capture_output=True,
        )

    def make(self) -> None:
        initdb = [str(self.bindir / "initdb"), "-D", str(self.home / "data")]
        options = ["-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
        subprocess.run([*self.as_user, *initdb, *options], check=True, capture_output=True)
        server = (
            f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self.pg_ctl("-o", server, "start")  # restarts keep these options (postmaster.opts)

    def restart(self, mode: str) -> float:
        """Restart, and how long pg_ctl took (the database away at least as long)."""
        started = time.perf_counter()
        self.pg_ctl("-m", mode, "restart")
        return time.perf_counter() - started

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("-m", "immediate", "stop")


def _unusable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run the restart test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    bindir = _bindir()
    if bindir is None:
        _unusable("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    assert bindir is not None
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unusable("running as root and there is no postgres user to run PostgreSQL as")
        if not shutil.which("runuser"):
            _unusable("running as root and runuser is missing")
        as_user = ["runuser", "-u", "postgres", "--"]
    # Not under pytest's tmp_path: its parents are root's alone, closed to postgres.
    home = Path(tempfile.mkdtemp(prefix="cocreate-pg-"))
    if as_user:
        shutil.chown(home, "postgres")
    cluster = Cluster(bindir=bindir, home=home, as_user=as_user, port=free_port())
    try:
        cluster.make()
        upgrade(cluster.url)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
async def server_on_own_postgres(own_postgres: Cluster) -> AsyncIterator[Server]:
    settings = Settings(database_url=own_postgres.url, secret_key=SECRET_KEY, default_locale="en")
    uv, task, base = await start_server(settings)
    db = Database(own_postgres.url)  # the test's own view
    try:
        yield Server(base_url=base, database_url=own_postgres.url, db=db)
    finally:
        uv.should_exit = True
        await task
        await db.dispose()


@ONCE  # a PostgreSQL of its own, whichever database the suite runs on
async def test_a_postgresql_restart_under_load_answers_503_and_loses_no_vote(
    server_on_own_postgres: Server, own_postgres: Cluster
) -> None:
    server = server_on_own_postgres
    facilitator = await signed_in(server, "camille@example.org")
    open_session = await open_session_for(server, facilitator)
    proposal_id, phones = await phones_in(open_session, PHONES)
    health = Health(await open_session.phone("Sonde"))

    answers, stop = Answers(), asyncio.Event()
    voting = [asyncio.create_task(phone.vote(answers, stop)) for phone in phones]
    watching = asyncio.create_task(health.watch(stop))
    restarts: dict[str, float] = {}
    try:
        for mode in RESTARTS:
            await asyncio.wait_for(answers.reach(answers.acknowledged + VOTES_BETWEEN), 60)
            # In a thread: the server (on this loop) keeps answering the phones meanwhile.
            restarts[mode] = await asyncio.to_thread(own_postgres.restart, mode)
            back = time.perf_counter()
            await asyncio.wait_for(health.healthy_after(back), 30)  # by itself
        await asyncio.wait_for(answers.reach(answers.acknowledged + VOTES_BETWEEN), 60)
    finally:
        stop.set()
        await asyncio.gather(*voting, watching)
        for device in open_session.devices:
            await device.close()

    print(
        f"\nrestart: pg_ctl took {', '.join(f'{m} {s:.2f} s' for m, s in restarts.items())}; "
        f"answers {dict(answers.statuses)}; longest wait for an answer "
        f"{answers.longest_wait_s:.2f} s; /health said 503 for {health.unavailable_s():.2f} s"
    )
    assert answers.dropped == []
    assert health.dropped == []
    assert answers.unexpected == []  # no 500, nor anything else
    assert answers.refusals_without_retry_after == 0
    assert answers.unreadable_refusals == []
    assert set(answers.statuses) <= {200, 503}
    assert answers.statuses[503] > 0  # the restarts did reach the phones
    assert any(status == 503 for _, status in health.said)
    assert health.said[-1][1] == 200

    check_nothing_acknowledged_lost(phones, await stored_votes(open_session, proposal_id))
