"""The app on a real SQLite file (or PostgreSQL), real HTTP clients and real websockets.

Each test gets a fresh database at the newest migration and the app `create_app` makes,
its lifespan running, with helpers that act as a facilitator, phones and a projector
would. The app is served in process (tests/inprocess.py) unless the test needs the wire:
tests marked `wire` (websockets, anything that needs a port) or `browser` get a uvicorn
server on a free loopback port, configured as `cocreate serve` is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import hypothesis
import pytest
import uvicorn
import websockets
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, select
from starlette.types import ASGIApp
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

import cocreate.app
from cocreate import accounts
from cocreate.app import create_app
from cocreate.database import Database, make_engine
from cocreate.heavy import HeavyWork
from cocreate.migrate import alembic_config, upgrade
from cocreate.models import Event, Session
from cocreate.sealed import BallotSeal
from cocreate.settings import Settings
from cocreate.web import unmasked_csrf
from tests.factories import PASSWORD, Factory
from tests.inprocess import InProcess

# The real-browser fixture (Chromium via Playwright) lives with its helpers.
pytest_plugins = ["tests.browsing"]

# Property tests assert results, never speed: on a loaded machine an example may take
# longer than Hypothesis's default deadline of 200 ms without anything being wrong.
hypothesis.settings.register_profile("cocreate", deadline=None)
hypothesis.settings.load_profile("cocreate")

# Argon2 at its production cost takes a quarter of a second per sign-in, and the suite
# signs in hundreds of times: in-process servers hash with argon2id at its lowest cost.
accounts._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class _SharedHeavyWork(HeavyWork):
    """Every server of the test session draws its QR codes and PDF files in the same
    worker process: each would otherwise spawn its own and import WeasyPrint again
    (seconds per test on a loaded machine). One process, not two: under pytest-xdist,
    a sheet of 5,000 QR codes must leave a core to the other worker's tests. Closed
    when the session ends."""

    def close(self) -> None:
        pass

    def close_for_good(self) -> None:
        super().close()


# The servers the tests start with `cocreate serve` (crash safety, scale-out) start their
# workers with the first heavy request, as the apps made here do: a warm-up at each of
# their starts would only add its CPU to the suite's.
os.environ.setdefault("COCREATE_WARM_UP", "false")
SHARED_HEAVY_WORK = _SharedHeavyWork(workers=1)
cocreate.app.HeavyWork = lambda: SHARED_HEAVY_WORK  # type: ignore[assignment,misc]
FRAME_TIMEOUT_S = 5.0
LEFTOVER_TASKS_TIMEOUT_S = 10.0  # for what a test left running to end once cancelled


# One TLS context for every client of the suite: httpx would otherwise load the system's
# CA bundle for each client it makes (30 ms of CPU), and the tests make thousands of them
# (the servers are plain HTTP on the loopback: it is never used to connect).
TLS = ssl.create_default_context()

# The servers' secret key: it signs cookies and seals secret ballots.
SECRET_KEY = "test-secret-" + "x" * 32


@dataclass
class Server:
    base_url: str
    database_url: str
    db: Database
    # How clients reach an app served in process; None for a server on the wire.
    transport: httpx.AsyncBaseTransport | None = None

    def client(self, **options: Any) -> httpx.AsyncClient:
        """An HTTP client of this server, wherever it is served."""
        options.setdefault("verify", TLS)
        return httpx.AsyncClient(base_url=self.base_url, transport=self.transport, **options)

    @property
    def ws_base(self) -> str:
        if self.transport is not None:
            raise RuntimeError("websockets need the wire: mark the test pytest.mark.wire")
        return self.base_url.replace("http://", "ws://")

    @property
    def seal(self) -> BallotSeal:
        """What the server seals secret ballots with (tests that call the domain directly)."""
        return BallotSeal(SECRET_KEY)


async def start_server(
    settings: Settings, port: int = 0
) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    return await serve_app(create_app(settings), port)


async def serve_app(app: ASGIApp, port: int = 0) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    """An ASGI app served by uvicorn on loopback, configured as `cocreate serve` is."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ws="websockets-sansio",
        ws_max_size=4096,
        ws_per_message_deflate=False,
        log_level="warning",
        lifespan="on",
        # A failed test may leave sockets open: shutting down must not wait for them.
        timeout_graceful_shutdown=5,
        # uvicorn closes a connection idle for 5 s; a request sent on it at that instant
        # is lost ("Server disconnected"). Browsers send it again, httpx does not, and a
        # loaded test machine leaves a test's clients idle that long: keep them open.
        timeout_keep_alive=120,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, f"http://127.0.0.1:{port}"


# `make test-postgres` runs the suite on the PostgreSQL named here instead of SQLite files,
# with live fan-out through the Redis named here (when there is one) instead of memory://.
# Under pytest-xdist (`make test` runs two workers) each worker gets a database and a Redis
# database number of its own, so that emptying one between tests never pulls the floor
# from under a test of the other worker.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def for_this_worker(url: str, kind: str) -> str:
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    if kind == "postgres":
        return urlunsplit(parts._replace(path=f"{parts.path}_{WORKER}"))
    number = int(parts.path.strip("/") or 0) + int(WORKER.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{number % 16}"))


POSTGRES_URL = for_this_worker(os.environ.get("COCREATE_TEST_DATABASE_URL", ""), "postgres")
REDIS_URL = for_this_worker(os.environ.get("COCREATE_TEST_REDIS_URL", ""), "redis")
ON_POSTGRES = os.environ.get("COCREATE_TEST_ON") == "postgres"
# For tests whose subject does not depend on the database (what templates escape, what
# pages look like and how they are reached) or that make their own SQLite file (a crash):
# run once, in the SQLite run of the suite (CI runs the suite twice within 15 minutes).
ONCE = pytest.mark.skipif(
    ON_POSTGRES, reason="independent of the database: runs in the SQLite run of the suite"
)


@pytest.fixture(autouse=True)
async def _nothing_outlives_its_test() -> AsyncIterator[None]:
    """What a test leaves running (a server's task, a socket's reader, a timer) is cancelled
    when it ends, as closing the test's own event loop did when each test had one: the
    tests of a worker share a loop now (pyproject.toml), and nothing of one runs on into
    the next. Tasks that were there before the test began (a session fixture's, such as
    the browser's) are left alone."""
    before = asyncio.all_tasks()
    yield
    current = asyncio.current_task()
    left = [task for task in asyncio.all_tasks() if task not in before and task is not current]
    for task in left:
        task.cancel()
    if left:
        await asyncio.wait(left, timeout=LEFTOVER_TASKS_TIMEOUT_S)


@pytest.fixture(scope="session", autouse=True)
def _heavy_work_workers() -> Iterator[None]:
    yield
    SHARED_HEAVY_WORK.close_for_good()


@pytest.fixture(scope="session", autouse=True)
def _worker_database() -> None:
    """Create this worker's PostgreSQL database the first time it is needed."""
    if not (POSTGRES_URL and WORKER):
        return
    import asyncpg

    name = urlsplit(POSTGRES_URL).path.strip("/")
    shared = urlunsplit(urlsplit(POSTGRES_URL)._replace(path="/postgres"))

    async def create() -> None:
        connection = await asyncpg.connect(shared)
        try:
            exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())


# The longest tests (tens of seconds each), longest first: under pytest-xdist a long test
# dealt out last keeps one worker busy while the other has nothing left to do, and the two
# longest (the XSS battery, a minute; the 5,000-member sheet) go to different workers.
LONG_TESTS = (
    "test_xss.py",
    "test_heavy_pages.py",
    "test_crash_safety.py",
    "test_workshop_browser.py",
    "test_authorization_matrix.py",
    "test_input_sweep.py",
    "test_accessibility.py",
    "test_browser.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tallying is pure code (ballots in, result out): its tests run once. Long tests
    first, then the rest in their usual order."""
    for item in items:
        if item.path.parent.name == "tally":
            item.add_marker(ONCE)
    rank = {name: place for place, name in enumerate(LONG_TESTS)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_TESTS)))


def empty_postgres(url: str) -> None:
    async def reset() -> None:
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                await connection.exec_driver_sql("CREATE SCHEMA public")
        finally:
            await engine.dispose()

    asyncio.run(reset())


RESTART_DRAWN_SEQUENCES = (
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false)"
    " FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL"
)


class PostgresTables:
    """Empties the tables of this worker's PostgreSQL between tests, and restarts the
    sequences that handed out ids, over one connection kept for the whole run.

    `TRUNCATE` of every table took a tenth of a second per test (each table gets new
    files, synced at commit) where most tests write to a handful of tables and leave
    a few rows: a `DELETE` of every table, children first, in one round trip, takes a
    millisecond or two when they are (nearly) empty. Sequences are restarted only where
    one was drawn from (`pg_sequences` shows a last value), as `RESTART IDENTITY` did
    for all: ids start at 1 in each test. A schema not at the newest migration (a test
    of migrations or outages leaves one) is rebuilt, as before."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dsn = make_url(url).set(drivername="postgresql").render_as_string(False)
        self.head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        self.connection: Any = None
        # Children first; names from the metadata, not from input.
        tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
        deletes = [f'DELETE FROM "{name}"' for name in tables]  # noqa: S608
        self.emptying = ";\n".join([*deletes, RESTART_DRAWN_SEQUENCES])

    async def reset(self) -> None:
        """Every table empty, every sequence at its start, the schema at the newest
        migration. A connection lost meanwhile (the server restarted) is made anew."""
        import asyncpg

        try:
            await self._reset()
        except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
            await self.close()
            await self._reset()

    async def _reset(self) -> None:
        import asyncpg

        if self.connection is None or self.connection.is_closed():
            self.connection = await asyncpg.connect(self.dsn, statement_cache_size=0)
        try:
            version = await self.connection.fetchval("SELECT version_num FROM alembic_version")
        except asyncpg.UndefinedTableError:
            version = None
        if version != self.head:
            await asyncio.to_thread(empty_postgres, self.url)
            await asyncio.to_thread(upgrade, self.url)
        await self.connection.execute(self.emptying)

    async def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await self.connection.close()
            self.connection = None


@pytest.fixture(scope="session")
async def postgres_tables() -> AsyncIterator[PostgresTables | None]:
    """This worker's PostgreSQL when the suite runs on it (else None)."""
    if not ON_POSTGRES:
        yield None
        return
    assert POSTGRES_URL, "COCREATE_TEST_DATABASE_URL must name the PostgreSQL to test on"
    tables = PostgresTables(POSTGRES_URL)
    try:
        yield tables
    finally:
        await tables.close()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated once; each test starts from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "cocreate.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
async def database_url(
    tmp_path: Path, migrated_sqlite: Path, postgres_tables: PostgresTables | None
) -> str:
    """A fresh database at the newest migration, for each test."""
    if postgres_tables is not None:
        await postgres_tables.reset()
        return POSTGRES_URL
    path = tmp_path / "cocreate.db"
    shutil.copyfile(migrated_sqlite, path)
    return f"sqlite:///{path}"


@pytest.fixture
async def bare_db(database_url: str) -> AsyncIterator[Database]:
    """The database alone, no app: for domain rules a test calls directly."""
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def factory(bare_db: Database) -> Factory:
    """Domain factories on the bare database (tests/factories.py)."""
    return Factory(bare_db)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        pubsub_url=REDIS_URL if ON_POSTGRES and REDIS_URL else "memory://",
        secret_key=SECRET_KEY,
        default_locale="en",
    )


# The address clients of an app served in process send their requests to.
IN_PROCESS_URL = "http://127.0.0.1:8000"


def needs_the_wire(request: pytest.FixtureRequest) -> bool:
    return any(request.node.get_closest_marker(name) for name in ("wire", "browser"))


@pytest.fixture
async def server(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Server]:
    db = Database(settings.database_url)
    if needs_the_wire(request):
        uv, task, base = await start_server(settings)
        try:
            yield Server(base_url=base, database_url=settings.database_url, db=db)
        finally:
            await db.dispose()
            uv.should_exit = True
            await task
        return
    # What uvicorn puts in front of the app: the loopback proxy's X-Forwarded-For and
    # -Proto are trusted (tests give each client its own address, or https, with them).
    app = ProxyHeadersMiddleware(create_app(settings), trusted_hosts="127.0.0.1")
    async with InProcess(app) as served:
        # A server error is answered 500 to the client, as uvicorn does, not raised here.
        transport = httpx.ASGITransport(app=served, raise_app_exceptions=False)
        try:
            yield Server(IN_PROCESS_URL, settings.database_url, db, transport)
        finally:
            await db.dispose()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
# Every place a page carries its CSRF token: the forms' fields and the body's header.
TOKEN_PLACES = re.compile(r'(name="csrf_token" value="|"X-CSRF-Token": ")[^"]+')


def same_token(a: str, b: str) -> bool:
    """Whether two tokens of pages stand for the same visitor's token: each answer masks
    it afresh (``web.csrf_token``), so two pages never carry the same characters."""
    return unmasked_csrf(a) == unmasked_csrf(b)


def without_tokens(html: str) -> str:
    """A page with its CSRF tokens blanked: two answers drawn alike then compare equal."""
    return TOKEN_PLACES.sub(r"\1…", html)


class Browser:
    """One device: its own cookies, like a phone or the facilitator's laptop."""

    def __init__(self, server: Server, *, language: str = "en") -> None:
        self.server = server
        self.http = server.client(
            headers={"Accept-Language": language},
            follow_redirects=False,
            timeout=10,
        )
        self.csrf = ""

    async def get(self, path: str, **kwargs: object) -> httpx.Response:
        response = await self.http.get(path, **kwargs)  # type: ignore[arg-type]
        if match := CSRF_RE.search(response.text):
            self.csrf = match.group(1)
        return response

    async def post(
        self, path: str, data: dict[str, str] | None = None, *, htmx: bool = True, csrf: bool = True
    ) -> httpx.Response:
        if not self.csrf:
            await self.get("/")
        form = dict(data or {})
        headers = {}
        if htmx:
            headers["HX-Request"] = "true"
        if csrf:
            form["csrf_token"] = self.csrf
        return await self.http.post(path, data=form, headers=headers)

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies.jar)

    async def socket(self, code: str, audience: str, *, last_seq: int | None = None) -> LiveSocket:
        ws = await websockets.connect(
            f"{self.server.ws_base}/ws/{code}/{audience}",
            origin=self.server.base_url,  # type: ignore[arg-type]
            additional_headers={"Cookie": self.cookie_header(), "Accept-Language": "en"},
            compression=None,
        )
        await ws.send(json.dumps({"last_seq": last_seq}))
        return LiveSocket(ws)

    async def close(self) -> None:
        await self.http.aclose()


@dataclass
class LiveSocket:
    ws: websockets.ClientConnection
    frames: list[str] = field(default_factory=list)

    async def until(self, predicate: Callable[[str], bool], wait: float = FRAME_TIMEOUT_S) -> str:
        """Read frames until one satisfies the predicate; fail the test after the timeout."""

        async def read() -> str:
            while True:
                frame = str(await self.ws.recv())
                self.frames.append(frame)
                if predicate(frame):
                    return frame

        return await asyncio.wait_for(read(), wait)

    async def until_text(self, text: str, wait: float = FRAME_TIMEOUT_S) -> str:
        return await self.until(lambda frame: text in frame, wait)

    async def quiet(self, seconds: float = 0.4) -> list[str]:
        """Frames that arrive within a short while (to check that nothing more comes)."""
        got: list[str] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while True:
                    frame = str(await self.ws.recv())
                    self.frames.append(frame)
                    got.append(frame)
        return got

    async def close(self) -> None:
        await self.ws.close()


SEQ_RE = re.compile(r'id="live-seq" hx-swap-oob="true" data-seq="(\d+)"')
TALLY_RE = re.compile(
    r'tally-row--(for|against|abstain)">\s*<th scope="row">[^<]*</th>\s*'
    r'<td class="tally-count">(\d+)</td>'
)


def frame_seq(frame: str) -> int:
    match = SEQ_RE.search(frame)
    assert match, frame
    return int(match.group(1))


def tally_of(html: str, proposal_id: int) -> dict[str, int]:
    start = html.index(f'id="tally-{proposal_id}"')
    end = html.index("</table>", start)
    return {choice: int(n) for choice, n in TALLY_RE.findall(html[start:end])}


@dataclass
class OpenSession:
    """A facilitator with an open session, and helpers to bring phones in. (Not a room:
    in the code, a room is `live.Room`, the sockets of one session in one process.)"""

    server: Server
    facilitator: Browser
    project_id: int
    session_id: int
    code: str
    devices: list[Browser] = field(default_factory=list)

    async def phone(self, name: str) -> Browser:
        phone = Browser(self.server)
        self.devices.append(phone)
        page = await phone.get(f"/s/{self.code}")
        assert page.status_code == 200
        joined = await phone.post(f"/s/{self.code}/join", {"display_name": name}, htmx=False)
        assert joined.status_code == 303, joined.text
        await phone.get(f"/s/{self.code}")
        return phone

    async def projector(self) -> Browser:
        screen = Browser(self.server)
        self.devices.append(screen)
        await screen.get(f"/s/{self.code}/screen")
        return screen

    async def seq(self) -> int:
        async with self.server.db.session() as db:
            session = await db.get(Session, self.session_id)
            assert session is not None
            return session.seq

    async def event_count(self) -> int:
        async with self.server.db.session() as db:
            return len(
                (await db.exec(select(Event).where(Event.session_id == self.session_id))).all()
            )


async def signed_in(server: Server, email: str) -> Browser:
    async with server.db.session() as db:
        await accounts.add_facilitator(
            db=db, email=email, display_name=email.split("@")[0], password=PASSWORD
        )
    browser = Browser(server)
    await browser.get("/login")
    response = await browser.post("/login", {"email": email, "password": PASSWORD}, htmx=False)
    assert response.status_code == 303, response.text
    await browser.get("/projects")
    return browser


async def open_session_for(
    server: Server, facilitator: Browser, title: str = "Atelier"
) -> OpenSession:
    """A project of the facilitator's with a session, opened through the console's forms."""
    created = await facilitator.post(
        "/projects", {"title": title, "need": "Un besoin réel", "territory": "Lyon"}, htmx=False
    )
    assert created.status_code == 303, created.text
    project_id = int(created.headers["location"].rsplit("/", 1)[1])
    made = await facilitator.post(
        f"/projects/{project_id}/sessions", {"title": title + " 1"}, htmx=False
    )
    session_id = int(made.headers["location"].split("/")[2])
    opened = await facilitator.post(f"/sessions/{session_id}/open", htmx=False)
    assert opened.status_code == 303
    async with server.db.session() as db:
        session = await db.get(Session, session_id)
        assert session is not None
        assert session.join_code
        code = session.join_code
    await facilitator.get(f"/sessions/{session_id}/console")
    return OpenSession(server, facilitator, project_id, session_id, code, [facilitator])


@pytest.fixture
async def open_session(server: Server) -> AsyncIterator[OpenSession]:
    """Camille, signed in, with a session of a project of hers open to phones."""
    facilitator = await signed_in(server, "camille@example.org")
    opened = await open_session_for(server, facilitator)
    try:
        yield opened
    finally:
        for device in opened.devices:
            await device.close()
