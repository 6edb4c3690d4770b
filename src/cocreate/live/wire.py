"""The way frames reach a phone: drawn once, written in place to every socket.

A ``Frame`` is the text of a frame as an ASGI message and as bytes; a ``Client`` is one
socket and how frames are sent to it. Under ``cocreate serve`` (uvicorn's
websockets-sansio protocol) a frame is written straight into uvicorn's connection, as
its own ``send`` would write it; under any other server, or when uvicorn's connection
is not as this module expects, through the server's public ``send``. The private parts
of uvicorn used are listed in ``UVICORN_ATTRIBUTES``; tests/test_wire.py fails the day
they change.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Awaitable, Generator
from typing import TYPE_CHECKING, Any

from starlette.types import Message, Send
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import InvalidState

if TYPE_CHECKING:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    from cocreate.live.regions import Audience

SEND_QUEUE_FRAMES = 256  # frames waiting for a slow phone before it is dropped

# Close codes (RFC 6455 and the IANA registry); 1013 makes htmx's ws extension retry.
CLOSE_POLICY = 1008
CLOSE_UNSUPPORTED = 1003
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013
CLOSE_NORMAL = 1000

# What the in-place write reads of a uvicorn connection, none of it public: its
# websockets protocol (`conn`: send_text, data_to_send), its asyncio transport, the
# event its `send` waits on while the transport is paused, and its two closing flags.
UVICORN_ATTRIBUTES = ("conn", "transport", "writable", "close_sent", "disconnected")


def _uvicorn_class() -> type[WebSocketsSansIOProtocol] | None:
    """The protocol `cocreate serve` runs, if uvicorn still has it where it was."""
    try:
        from uvicorn.protocols.websockets.websockets_sansio_impl import (
            WebSocketsSansIOProtocol,
        )
    except ImportError:  # uvicorn moved it: every frame takes the public `send`
        return None
    return WebSocketsSansIOProtocol


_UVICORN_CONNECTION = _uvicorn_class()


class Frame:
    """A text frame, drawn once and sent as it is to every socket of a group: its ASGI
    message, and its text encoded once for the sockets written in place (see Client)."""

    __slots__ = ("data", "message")

    def __init__(self, html: str) -> None:
        self.message: Message = {"type": "websocket.send", "text": html}
        self.data = html.encode()


def uvicorn_connection(send: Send) -> WebSocketsSansIOProtocol | None:
    """The connection behind a socket's ``send`` when it is a connection of uvicorn's
    websockets-sansio protocol (the one ``cocreate serve`` runs) with every attribute
    the in-place write uses, else None: frames then go through ``send``."""
    connection = getattr(send, "__self__", None)
    if _UVICORN_CONNECTION is None or type(connection) is not _UVICORN_CONNECTION:
        return None
    if not all(hasattr(connection, name) for name in UVICORN_ATTRIBUTES):
        return None
    return connection


def _start(awaitable: Awaitable[None]) -> Awaitable[None] | None:
    """Run an awaitable by hand until it first waits: None if it finished without
    waiting, else an awaitable that finishes it (to be awaited in a task).

    A server's ``send`` waits only while the connection's buffer is full; run in place,
    sending a frame to a phone that takes it costs no task switch. An exception raised
    before the first wait propagates here."""
    steps = awaitable.__await__()
    try:
        waiting_on = steps.send(None)
    except StopIteration:
        return None
    return _finish(steps, waiting_on)


@types.coroutine
def _finish(steps: Generator[Any, Any, None], waiting_on: Any) -> Generator[Any, Any, None]:
    """The rest of an awaitable stopped by hand at ``waiting_on`` (what it yielded to
    its event loop, usually a future): wait for that as a task would have, then resume
    the awaitable where it stopped."""
    try:
        yield waiting_on
    except BaseException:
        steps.close()
        raise
    yield from steps


class Client:
    """One socket: who is watching, and the way frames reach it.

    Frames are sent by whoever draws them (the room, in its own loop over every socket
    of a group) through the server's own ``send``, in place, as long as the phone's
    connection takes them at once: no task and no wake-up per socket and frame, as
    ``websockets.broadcast`` does. Only a phone whose connection is full gets a task
    of its own, for as long as it stays full, with the frames drawn meanwhile queued
    behind it in order; one that falls ``SEND_QUEUE_FRAMES`` behind is closed with
    1013 once its connection takes the close (its page reconnects and catches up).

    Under uvicorn's websockets-sansio protocol, a frame the connection takes at once
    is written as that ``send`` writes it (framed by the connection's websockets
    protocol, handed to its transport), without what the ASGI message costs for each
    socket: a coroutine, the message read, the text encoded again. That is what
    ``websockets.broadcast`` does, and made the fan-out to 5,000 phones a quarter
    faster. Anything else (another server, a full connection, a closing one) takes
    the ASGI ``send``, which waits or raises as the server sees fit.
    """

    __slots__ = (
        "_backlog",
        "_send",
        "_sender",
        "_wire",
        "audience",
        "gone",
        "locale",
        "participant_id",
        "too_slow",
    )

    def __init__(
        self, audience: Audience, locale: str, participant_id: int | None, send: Send
    ) -> None:
        self.audience = audience
        self.locale = locale
        self.participant_id = participant_id
        self._send = send
        self._wire = uvicorn_connection(send)
        self._backlog: list[Message] = []  # behind a send waiting for the phone's connection
        self._sender: asyncio.Task[None] | None = None  # only while the connection is full
        self.too_slow = False  # fell SEND_QUEUE_FRAMES behind: to be closed with 1013
        self.gone: BaseException | None = None  # why frames can no longer be sent

    def offer(self, frame: Frame) -> None:
        """Send a frame now if the connection takes it, else queue it behind the others."""
        if self.gone is not None or self.too_slow:
            return
        if self._sender is None and self._written(frame):
            return
        message = frame.message
        if self._sender is not None:
            if len(self._backlog) >= SEND_QUEUE_FRAMES:
                self.too_slow = True
                self._backlog.clear()  # never sent: the reconnect catches the phone up
            else:
                self._backlog.append(message)
            return
        try:
            rest = _start(self._send(message))
        except Exception as error:  # the phone left (the server's send raises)
            self.gone = error
            return
        if rest is not None:
            self._sender = asyncio.create_task(self._send_queued(rest))

    def _written(self, frame: Frame) -> bool:
        """Write the frame in place if the connection is uvicorn's and takes it now (as
        its ``send`` would, once accepted); False if it must go through ``send``."""
        wire = self._wire
        if wire is None or not wire.writable.is_set() or wire.close_sent or wire.disconnected:
            return False
        try:
            wire.conn.send_text(frame.data)
        except InvalidState as closing:  # the phone's close arrived: it is leaving
            self.gone = closing
            return True
        wire.transport.write(b"".join(wire.conn.data_to_send()))
        return True

    async def _send_queued(self, rest: Awaitable[None]) -> None:
        try:
            await rest
            while self._backlog and not self.too_slow:
                await self._send(self._backlog.pop(0))
            if self.too_slow:
                await self._send(_close_message(CLOSE_TRY_AGAIN, "too slow; reconnect"))
        except Exception as error:
            self.gone = error
        finally:
            self._sender = None

    def stop(self) -> None:
        """The socket is ending: nothing more is sent to it."""
        if self.gone is None:
            self.gone = WebSocketDisconnect(CLOSE_NORMAL)
        self._backlog.clear()
        if self._sender is not None:
            self._sender.cancel()


def _close_message(code: int, reason: str) -> Message:
    return {"type": "websocket.close", "code": code, "reason": reason}
