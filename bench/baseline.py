"""The baseline the app is compared with: the least a Python server can do for the same job.

A websocket server on the ``websockets`` library (asyncio API, no compression) accepts
the phones, reads each one's hello and keeps it; a tiny HTTP listener next to it takes
``POST /vote``, counts the vote, broadcasts with ``websockets.broadcast`` a fragment of
the same size as the app's vote frame carrying the same live-seq marker (so the phones
parse it exactly as the app's), then answers 200.

Why: absolute times on a shared machine drift by ±30 % from one run to the next, while
the ratio of the app to this baseline, measured side by side under the same load
generator, holds. Runs on uvloop when it is installed, as uvicorn runs the app, so that
the ratio is about the app's code rather than the event loop.

Run by bench/live.py: ``python bench/baseline.py --ws-port P --http-port Q --frame-bytes B``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from websockets.asyncio.server import ServerConnection, broadcast, serve

BACKLOG = 2048  # as uvicorn's: a storm of connections is not refused by a short queue
MAX_HEADERS_BYTES = 16 * 1024


def fragment(seq: int, size: int) -> str:
    """The live-seq marker of event ``seq``, padded with a comment to ``size`` bytes."""
    marker = f'<div id="live-seq" hx-swap-oob="true" data-seq="{seq}" hidden></div>'
    padding = size - len(marker) - len("<!---->")
    return marker + ("<!--" + "x" * padding + "-->" if padding >= 0 else "")


class Baseline:
    def __init__(self, frame_bytes: int) -> None:
        self.frame_bytes = frame_bytes
        self.votes = 0
        self.phones: set[ServerConnection] = set()

    async def phone(self, connection: ServerConnection) -> None:
        """Keep the phone once it has said hello, as the app does, until it leaves."""
        with contextlib.suppress(Exception):
            await connection.recv()
            self.phones.add(connection)
            await connection.wait_closed()
        self.phones.discard(connection)

    def vote(self) -> None:
        self.votes += 1
        broadcast(self.phones, fragment(self.votes, self.frame_bytes))

    async def http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Keep-alive HTTP/1.1, just enough for ``POST /vote`` and ``GET /health``."""
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if len(head) > MAX_HEADERS_BYTES:
                    break
                request_line, *lines = head.decode("latin-1").split("\r\n")
                length = 0
                for line in lines:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                method, path = request_line.split(" ")[:2]
                if method == "POST" and path == "/vote":
                    self.vote()
                    status, body = "200 OK", b"counted"
                elif path == "/health":
                    status, body = "200 OK", b"ok"
                else:
                    status, body = "404 Not Found", b"no such page"
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body
                )
        writer.close()


async def main(ws_port: int, http_port: int, frame_bytes: int) -> None:
    baseline = Baseline(frame_bytes)
    listener = await asyncio.start_server(baseline.http, "127.0.0.1", http_port, backlog=BACKLOG)
    async with (
        listener,
        serve(baseline.phone, "127.0.0.1", ws_port, compression=None, backlog=BACKLOG) as server,
    ):
        await server.serve_forever()


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ws-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--frame-bytes", type=int, required=True, help="the app's vote frame")
    args = parser.parse_args()
    coroutine = main(args.ws_port, args.http_port, args.frame_bytes)
    try:
        import uvloop
    except ImportError:
        asyncio.run(coroutine)
    else:
        uvloop.run(coroutine)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        run()
