"""A lean phone for the load generator: a minimal HTTP/1.1 client and websocket client.

Why not httpx and the websockets library: with 10,000 phones in one process, a client
built on them spends more CPU than the server it measures, and the figures would then
describe the client. This one does only what a phone needs, on asyncio directly:

- ``HttpConnection``: one keep-alive HTTP/1.1 connection on asyncio streams, one request
  at a time, bodies framed by Content-Length (uvicorn always sends it; chunked bodies
  are read too, should a response ever stream).
- ``LiveSocket``: a websocket client as an ``asyncio.Protocol``: a hand-made handshake,
  masked text frames out, server frames parsed incrementally in ``data_received``
  (7/16/64-bit lengths, fragmented messages, pings answered, close codes recorded). A
  text frame costs one ``bytes.find`` for the live-seq marker and no copy.
- ``Watch``: who has seen which event number and when, shared by every socket, so that
  "until the last phone has it" is counted as frames arrive instead of by storing every
  frame of every phone (10,000 phones times thousands of frames would not fit).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
from bisect import bisect_right, insort
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import urlencode

# The marker every live frame of the app (and of the baseline) carries, first.
SEQ_MARKER = b'id="live-seq" hx-swap-oob="true" data-seq="'
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
CLOSE_ABNORMAL = 1006  # the connection went away without a close frame
CLOSE_NO_STATUS = 1005  # a close frame without a code
KEEPALIVE_S = 4.0  # uvicorn closes an idle keep-alive connection after 5 s: reopen before


class HttpError(Exception):
    """The server answered something a phone could not go on with."""


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names; the last value wins
    cookies: dict[str, str]
    body: bytes

    def between(self, start: bytes, end: bytes = b'"') -> str | None:
        """The text following ``start`` up to ``end``: a cheap way to read one attribute."""
        at = self.body.find(start)
        if at < 0:
            return None
        at += len(start)
        stop = self.body.find(end, at)
        return None if stop < 0 else self.body[at:stop].decode()


class HttpConnection:
    """One keep-alive HTTP/1.1 connection, used for one request at a time, like a tab's.

    It reopens itself when the server closed it or when it has been idle long enough for
    the server to be about to: a request is never sent on a connection that may close
    under it, so no request is ever retried and every vote sent is sent once."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used_at = 0.0

    async def request(
        self,
        method: str,
        path: str,
        *,
        cookie: str = "",
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        within_s: float = 60.0,
    ) -> Response:
        """Send one request and read its response, all within ``within_s`` seconds."""
        exchange = self._exchange(method, path, cookie, form, headers)
        return await asyncio.wait_for(exchange, within_s)

    async def _exchange(
        self,
        method: str,
        path: str,
        cookie: str,
        form: dict[str, str] | None,
        headers: dict[str, str] | None,
    ) -> Response:
        reader, writer = await self._connection()
        body = urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        if cookie:
            lines.append(f"Cookie: {cookie}")
        if form is not None:
            lines.append("Content-Type: application/x-www-form-urlencoded")
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        try:
            response = await read_response(reader)
        except BaseException:
            self.abort()  # half a response: this connection cannot be reused
            raise
        if response.headers.get("connection", "").lower() == "close":
            self.abort()
        self._used_at = time.monotonic()
        return response

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        stale = time.monotonic() - self._used_at > KEEPALIVE_S
        if self._reader is None or self._writer is None or stale or self._reader.at_eof():
            self.abort()
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    def abort(self) -> None:
        """Close at once with a reset: no TIME_WAIT left holding an ephemeral port."""
        if self._writer is not None:
            self._writer.transport.abort()
        self._reader = self._writer = None


async def read_response(reader: asyncio.StreamReader) -> Response:
    """Status line, headers (Set-Cookie kept apart), then the body as framed."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise HttpError(f"not an HTTP response: {status_line!r}")
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        headers[name] = value
        if name == "set-cookie":
            pair = value.split(";", 1)[0]
            cookie_name, _, cookie_value = pair.partition("=")
            cookies[cookie_name.strip()] = cookie_value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        body = await reader.read()  # framed by the connection's end
    return Response(int(parts[1]), headers, cookies, body)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # no trailers are ever sent
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


# --- who has seen what ------------------------------------------------------------------


@dataclass
class Reach:
    """How far one event number has travelled: to how many sockets, first and last when."""

    seq: int
    count: int = 0
    first: float = 0.0
    last: float = 0.0
    frame_bytes: int = 0  # the size of the first frame that carried it

    def arrive(self, now: float, size: int) -> None:
        if self.count == 0:
            self.first = now
            self.frame_bytes = size
        self.count += 1
        self.last = now


@dataclass
class Watch:
    """The event numbers being timed, and how far each has reached.

    A number must be expected before the frames that carry it can arrive (register it
    before sending the vote): each socket then counts it once, in the first frame whose
    number is at or past it, which is "the phone has it"."""

    targets: list[int] = field(default_factory=list)
    reach: dict[int, Reach] = field(default_factory=dict)
    frames: int = 0  # every live frame every socket received
    frame_bytes: int = 0
    open: int = 0  # sockets through the handshake and not closed since

    def expect(self, seq: int) -> Reach:
        if seq not in self.reach:
            insort(self.targets, seq)
            self.reach[seq] = Reach(seq)
        return self.reach[seq]

    def forget(self) -> None:
        self.targets.clear()
        self.reach.clear()

    def advance(self, before: int, after: int, now: float, size: int) -> None:
        """A socket that had seen up to ``before`` now has ``after``."""
        self.frames += 1
        self.frame_bytes += size
        targets = self.targets
        at = bisect_right(targets, before)
        while at < len(targets) and targets[at] <= after:
            self.reach[targets[at]].arrive(now, size)
            at += 1


# --- websockets ------------------------------------------------------------------------


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One final frame from a client: masked, as RFC 6455 requires of clients."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    key = os.urandom(4)
    stream = (key * (size // 4 + 1))[:size]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        size, "little"
    )
    return header + key + masked


def accept_for(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + WS_GUID).digest())


class LiveSocket(asyncio.Protocol):
    """One phone's websocket: records how far it has seen, answers pings, notes closes."""

    __slots__ = (
        "_buffer",
        "_counted",
        "_fragments",
        "_key",
        "_request",
        "close_code",
        "frames",
        "opened",
        "seen",
        "seen_at",
        "transport",
        "watch",
    )

    def __init__(self, watch: Watch, request: bytes, key: bytes, seen: int) -> None:
        self.watch = watch
        self._request = request
        self._key = key
        self._buffer = b""  # bytes not parsed yet: the handshake's, then a partial frame's
        self._fragments: list[bytes] | None = None  # a fragmented message being assembled
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.seen = seen  # the highest event number this phone has
        self.seen_at = 0.0  # when it got it
        self.frames = 0
        self.close_code: int | None = None
        self._counted = False  # in ``watch.open``

    @property
    def is_open(self) -> bool:
        return self._counted

    def _closed(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
        if self._counted:
            self._counted = False
            self.watch.open -= 1

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed(CLOSE_ABNORMAL)
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        if not self.opened.done():
            data = self._handshake(data)
        if data:
            self._frames(data)

    def _handshake(self, data: bytes) -> bytes:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            self._buffer = data
            return b""
        head = data[:end].split(b"\r\n")
        status = head[0].split(b" ", 2)
        accept = accept_for(self._key)
        if len(status) < 2 or status[1] != b"101":
            return self._refuse(f"handshake refused: {head[0].decode('latin-1')}")
        fields = (line.partition(b":") for line in head[1:])
        if not any(
            k.strip().lower() == b"sec-websocket-accept" and v.strip() == accept
            for k, _, v in fields
        ):
            return self._refuse("handshake without the right Sec-WebSocket-Accept")
        self.opened.set_result(None)
        self._counted = True
        self.watch.open += 1
        return data[end + 4 :]

    def _refuse(self, reason: str) -> bytes:
        self.opened.set_exception(ConnectionError(reason))
        self.abort()
        return b""

    def _frames(self, data: bytes) -> None:
        """Parse every complete frame in ``data``; keep the incomplete tail for later."""
        at, size = 0, len(data)
        while size - at >= 2:
            first, second = data[at], data[at + 1]
            length, start = second & 0x7F, at + 2
            if length == 126:
                if size - at < 4:
                    break
                length, start = int.from_bytes(data[at + 2 : at + 4], "big"), at + 4
            elif length == 127:
                if size - at < 10:
                    break
                length, start = int.from_bytes(data[at + 2 : at + 10], "big"), at + 10
            if second & 0x80:  # servers never mask; a masked frame is a broken server
                self.abort()
                return
            end = start + length
            if end > size:
                break
            self._frame(first & 0x80, first & 0x0F, data, start, end)
            at = end
        if at < size:
            self._buffer = data[at:]

    def _frame(self, fin: int, opcode: int, data: bytes, start: int, end: int) -> None:
        if opcode in (OP_TEXT, OP_BINARY):
            if fin:
                self._message(data, start, end)
            else:
                self._fragments = [data[start:end]]
        elif opcode == OP_CONTINUATION and self._fragments is not None:
            self._fragments.append(data[start:end])
            if fin:
                whole = b"".join(self._fragments)
                self._fragments = None
                self._message(whole, 0, len(whole))
        elif opcode == OP_PING:
            self._send(OP_PONG, data[start:end])
        elif opcode == OP_CLOSE:
            code = int.from_bytes(data[start : start + 2], "big") if end - start >= 2 else 0
            self._closed(code or CLOSE_NO_STATUS)
            self._send(OP_CLOSE, data[start : start + 2])
            if self.transport is not None:
                self.transport.close()

    def _message(self, data: bytes, start: int, end: int) -> None:
        """One whole message: note the event number it brings, if it is news."""
        self.frames += 1
        at = data.find(SEQ_MARKER, start, end)
        if at < 0:
            return
        at += len(SEQ_MARKER)
        stop = data.find(b'"', at, end)
        seq = int(data[at:stop])
        if seq > self.seen:
            now = time.perf_counter()
            self.watch.advance(self.seen, seq, now, end - start)
            self.seen, self.seen_at = seq, now

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(client_frame(opcode, payload))

    def send_text(self, text: str) -> None:
        self._send(OP_TEXT, text.encode())

    def abort(self) -> None:
        """Drop the connection with a reset: the end of a run, nothing left in TIME_WAIT."""
        if self.transport is not None:
            self.transport.abort()


async def open_socket(
    host: str,
    port: int,
    path: str,
    *,
    origin: str,
    cookie: str,
    watch: Watch,
    seen: int = 0,
    within_s: float = 60.0,
) -> LiveSocket:
    """Connect and complete the handshake (no extensions offered: no compression)."""
    key = base64.b64encode(os.urandom(16))
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key.decode()}",
        "Sec-WebSocket-Version: 13",
        f"Origin: {origin}",
    ]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    connecting = loop.create_connection(lambda: LiveSocket(watch, request, key, seen), host, port)
    _, socket = await asyncio.wait_for(connecting, within_s)
    try:
        await asyncio.wait_for(asyncio.shield(socket.opened), within_s)
    except BaseException:
        socket.abort()
        raise
    return socket
