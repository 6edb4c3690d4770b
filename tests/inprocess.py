"""The app served in process: its lifespan run as uvicorn runs it, its requests handed to
it by httpx without a socket in between.

For the rules a test checks through HTTP (what a page says, who may do what, what a form
refuses), a port, a server loop and a second set of connections add time and nothing
else. The lifespan is the real one (database, hub, write batches, heavy work), and each
request gets a copy of the state it yields, as under uvicorn. Websockets, real browsers,
crashes and several processes need the wire: see the `wire` marker in conftest.py.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Long enough for a loaded test machine; a lifespan that hangs still fails the test.
LIFESPAN_TIMEOUT_S = 30.0


class LifespanFailed(RuntimeError):
    """The app's lifespan refused to start (its message is the app's)."""


class InProcess:
    """`async with InProcess(app) as served:` runs the lifespan; `served` is the ASGI app
    to hand to `httpx.ASGITransport`, each request with its own copy of the state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.state: dict[str, Any] = {}
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._started = asyncio.Event()
        self._stopped = asyncio.Event()
        self._failure = ""
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app({**scope, "state": self.state.copy()}, receive, send)

    async def _receive(self) -> Message:
        return await self._inbox.get()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind.startswith("lifespan.startup."):
            if kind == "lifespan.startup.failed":
                self._failure = message.get("message") or "lifespan startup failed"
            self._started.set()
        elif kind.startswith("lifespan.shutdown."):
            self._stopped.set()

    async def _run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        try:
            await self.app(scope, self._receive, self._send)
        finally:
            self._started.set()
            self._stopped.set()

    async def __aenter__(self) -> InProcess:
        self._task = asyncio.create_task(self._run())
        await self._inbox.put({"type": "lifespan.startup"})
        async with asyncio.timeout(LIFESPAN_TIMEOUT_S):
            await self._started.wait()
        if self._task.done():
            self._task.result()  # the lifespan raised: say what
        if self._failure:
            await self._task
            raise LifespanFailed(self._failure)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._task is not None
        await self._inbox.put({"type": "lifespan.shutdown"})
        async with asyncio.timeout(LIFESPAN_TIMEOUT_S):
            await self._stopped.wait()
            await self._task
