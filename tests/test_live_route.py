"""The websocket route is declared in the routes table, and served past the HTTP stack."""

from __future__ import annotations

from typing import Any

from starlette.routing import WebSocketRoute
from starlette.types import Message, Receive, Scope, Send

from cocreate import app
from cocreate.live.socket import live_app


def test_the_live_socket_is_a_route_of_the_table() -> None:
    sockets = [route for route in app.routes if isinstance(route, WebSocketRoute)]
    assert [(route.name, route.path) for route in sockets] == [("live", "/ws/{code}/{audience}")]
    # An ASGI app, not a function of a WebSocket: it is handed the server's own send.
    assert sockets[0].app is live_app


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Scope, Send]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls.append((scope, send))


async def _receive() -> Message:
    return {"type": "websocket.connect"}


async def _send(message: Message) -> None:
    pass


async def test_live_sockets_hand_the_tables_socket_routes_the_servers_own_send() -> None:
    endpoint, rest = _Recorder(), _Recorder()
    sockets = app.LiveSockets(
        rest,
        secret_key="k" * 32,
        max_age=60,
        sockets=[WebSocketRoute("/ws/{code}/{audience}", endpoint)],
    )

    def scope(kind: str, path: str) -> dict[str, Any]:
        return {"type": kind, "path": path, "root_path": "", "headers": []}

    await sockets(scope("websocket", "/ws/ABC234/phone"), _receive, _send)
    [(seen, send)] = endpoint.calls
    assert send is _send  # no layer in between
    assert seen["path_params"] == {"code": "ABC234", "audience": "phone"}
    assert seen["session"] == {}  # no cookie: an empty session, as SessionMiddleware's
    for kind, path in [
        ("websocket", "/ws/ABC234"),
        ("websocket", "/ws/ABC234/phone/more"),
        ("websocket", "/ws//phone"),
        ("websocket", "/elsewhere"),
        ("http", "/ws/ABC234/phone"),
    ]:
        await sockets(scope(kind, path), _receive, _send)
    assert len(endpoint.calls) == 1
    assert [seen["path"] for seen, _ in rest.calls] == [
        "/ws/ABC234",
        "/ws/ABC234/phone/more",
        "/ws//phone",
        "/elsewhere",
        "/ws/ABC234/phone",
    ]
