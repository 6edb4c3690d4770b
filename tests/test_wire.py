"""Frames written straight into uvicorn's connection, and the public ``send`` otherwise.

The in-place write (``live.wire``) reads private parts of uvicorn's websockets-sansio
protocol. These tests fail the day uvicorn renames or retypes one of them, rather than
the fan-out silently taking the slower path or raising in a room's loop; and they show
that a connection that is not exactly uvicorn's takes the public ``send``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import websockets
from starlette.types import Message
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.server import ServerProtocol

from cocreate.live import wire
from cocreate.live.regions import Audience
from cocreate.live.wire import Client, Frame
from tests.conftest import serve_app


class Sockets:
    """An ASGI app keeping each accepted socket's Client, made with the server's own
    ``send`` as the live endpoint makes it."""

    def __init__(self) -> None:
        self.clients: list[Client] = []
        self.accepted = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        assert scope["type"] == "websocket"
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        self.clients.append(Client(Audience.PHONE, "fr", None, send))
        self.accepted.set()
        while (await receive())["type"] != "websocket.disconnect":
            pass


async def _one_phone(check: Any) -> None:
    """Serve ``Sockets`` on uvicorn as ``cocreate serve`` does, connect one phone, and
    run ``check(client, phone)``."""
    sockets = Sockets()
    server, task, base = await serve_app(sockets)
    try:
        async with websockets.connect(base.replace("http", "ws"), compression=None) as phone:
            await asyncio.wait_for(sockets.accepted.wait(), 5)
            await check(sockets.clients[0], phone)
    finally:
        server.should_exit = True
        await task


async def test_uvicorn_connections_have_what_frames_are_written_into() -> None:
    """Every private part of uvicorn the in-place write uses, with the type it relies on."""

    async def check(client: Client, phone: Any) -> None:
        wire_ = client._wire
        assert wire_ is not None, "uvicorn's connection is no longer written in place"
        assert type(wire_) is WebSocketsSansIOProtocol
        assert set(wire.UVICORN_ATTRIBUTES) == {
            "conn",
            "transport",
            "writable",
            "close_sent",
            "disconnected",
        }
        assert isinstance(wire_.conn, ServerProtocol)
        assert callable(wire_.conn.send_text)
        assert callable(wire_.conn.data_to_send)
        assert isinstance(wire_.transport, asyncio.Transport)
        assert isinstance(wire_.writable, asyncio.Event)
        assert wire_.writable.is_set()
        assert wire_.close_sent is False
        assert wire_.disconnected is False
        # The frame written in place is the frame the phone reads, not the message.
        written = Frame("un é")
        written.message = {"type": "websocket.send", "text": "through send"}
        client.offer(written)
        assert await asyncio.wait_for(phone.recv(), 5) == "un é"
        # `writable` is what uvicorn's own send waits on while the transport is paused.
        wire_.pause_writing()
        assert not wire_.writable.is_set()
        wire_.resume_writing()
        assert wire_.writable.is_set()
        await phone.close()
        # And `disconnected` says when the phone left (a flag, with no event to await).
        async with asyncio.timeout(5):
            while not wire_.disconnected:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

    await _one_phone(check)


@pytest.mark.parametrize(
    "change",
    ["an attribute renamed", "the class moved"],
)
async def test_a_uvicorn_connection_not_as_expected_takes_the_public_send(
    change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if change == "an attribute renamed":
        monkeypatch.setattr(wire, "UVICORN_ATTRIBUTES", (*wire.UVICORN_ATTRIBUTES, "renamed"))
    else:
        monkeypatch.setattr(wire, "_UVICORN_CONNECTION", None)

    async def check(client: Client, phone: Any) -> None:
        assert client._wire is None
        through_send = Frame("not written in place")
        through_send.message = {"type": "websocket.send", "text": "through send"}
        client.offer(through_send)
        assert await asyncio.wait_for(phone.recv(), 5) == "through send"

    await _one_phone(check)


async def test_another_servers_connection_takes_the_public_send() -> None:
    sent: list[Message] = []

    class Connection:
        async def send(self, message: Message) -> None:
            sent.append(message)

    async def plain_send(message: Message) -> None:
        sent.append(message)

    for send in (Connection().send, plain_send):
        client = Client(Audience.PHONE, "fr", None, send)
        assert client._wire is None
        frame = Frame("par send")
        client.offer(frame)
        assert sent.pop() is frame.message  # the group's one message object, as it is
