"""The websocket endpoint: ``/ws/{code}/{audience}``, news down only.

The handshake's origin is checked, the socket's place in the session found (phone,
projector or console), its hello read (the last event number its page saw), then the
socket enters its session's room and only reads: phones send nothing after the hello,
so reading notices a phone leaving and enforces the limits on what comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from urllib.parse import urlsplit

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from cocreate import projects
from cocreate.database import OUTAGES
from cocreate.errors import RuleError, UnknownCode
from cocreate.limits import TokenBucket
from cocreate.live.hub import Room
from cocreate.live.regions import Audience
from cocreate.live.wire import (
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNSUPPORTED,
    Client,
)
from cocreate.models import MAX_ID, Facilitator, Project, key, whole_number
from cocreate.participants import participant_id_in
from cocreate.web import (
    FACILITATOR_ID,
    app_state,
    client_of,
    cookie_is_current,
    locale_of,
    remembered_participant,
)

log = logging.getLogger(__name__)

MAX_WS_MESSAGE_BYTES = 1_024  # phones only ever send a hello
HELLO_TIMEOUT_S = 10.0
# Pages send nothing after their hello; a socket sending more than this is flooding.
FLOOD_BURST = 20
FLOOD_PER_S = 2.0


def origin_allowed(websocket: WebSocket, extra: frozenset[str]) -> bool:
    """Browsers always send Origin on a websocket handshake: it must be this site's."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return False
    origin = origin.rstrip("/")
    if origin in extra:
        return True
    host = websocket.headers.get("host", "")
    parts = urlsplit(origin)
    return parts.scheme in {"http", "https"} and parts.netloc == host


async def _identify(websocket: WebSocket, audience: Audience) -> tuple[int, bool, int | None]:
    """(session id, allowed, participant id) of a socket. Only numbers are read, in plain
    statements, and kept for the socket's life: ORM objects would cost every socket of a
    join storm a few KiB, and their loading most of its handshake."""
    async with app_state(websocket).db.session() as db:
        session_id, project_id, _ = await projects.session_numbers_by_code(
            db=db, code=websocket.path_params["code"]
        )
        if audience is Audience.SCREEN:
            return session_id, True, None
        if audience is Audience.PHONE:
            participant_id = await participant_id_in(
                db=db,
                session_id=session_id,
                participant_id=remembered_participant(websocket, session_id),
            )
            return session_id, participant_id is not None, participant_id
        facilitator_id = websocket.session.get(FACILITATOR_ID)
        facilitator = (
            await db.get(Facilitator, facilitator_id) if isinstance(facilitator_id, int) else None
        )
        project = await db.get(Project, project_id)
        owner = (
            facilitator is not None
            and cookie_is_current(websocket.session, facilitator)
            and project is not None
            and project.owner_id == key(facilitator)
        )
        return session_id, owner, None


async def _receive(websocket: WebSocket) -> str:
    """The next text message, bounded in size; binary frames are refused."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", CLOSE_NORMAL))
    text = message.get("text")
    if text is None:
        raise _Close(CLOSE_UNSUPPORTED, "text messages only")
    if len(text.encode()) > MAX_WS_MESSAGE_BYTES:
        raise _Close(CLOSE_TOO_BIG, "message too big")
    return str(text)


async def _read_hello(websocket: WebSocket) -> int | None:
    """The last event number the page saw; None asks for a full snapshot."""
    async with asyncio.timeout(HELLO_TIMEOUT_S):
        raw = await _receive(websocket)
    try:
        hello = json.loads(raw)
        last = hello.get("last_seq")
    except (ValueError, AttributeError):
        raise _Close(CLOSE_POLICY, "expected a hello message") from None
    if last is None or last == "":
        return None
    if isinstance(last, str):
        last = whole_number(last)  # None when it is none
    if not isinstance(last, int) or isinstance(last, bool) or not 0 <= last <= MAX_ID:
        raise _Close(CLOSE_POLICY, "last_seq must be a whole number")
    return last


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _LiveApp:
    """``/ws/{code}/{audience}`` as an ASGI app (the scope has path_params and session).

    An object, not a function: Starlette calls a route's function endpoint with a
    ``WebSocket`` but an object with (scope, receive, send), and the endpoint needs the
    server's own ``send`` (see ``live.wire``). Declared in the app's routes table, it is
    served there by ``app.LiveSockets``, past the HTTP stack; routed by Starlette, it
    works as well, only slower."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await live_endpoint(WebSocket(scope, receive, send), send)


live_app = _LiveApp()


async def live_endpoint(websocket: WebSocket, send: Send) -> None:
    """Phone, screen (projector) or console of one session. Frames go out through the
    server's own ``send``: the same message object for every socket of a group."""
    state = app_state(websocket)
    if not origin_allowed(websocket, state.settings.extra_origins()):
        # Cross-site handshakes are refused outright (HTTP 403): no socket is opened.
        await websocket.close(code=CLOSE_POLICY, reason="origin not allowed")
        return
    # From here on, refusals are close codes with a reason, after the handshake: a
    # refused handshake looks like a network failure (1006) that htmx retries forever.
    await websocket.accept()
    try:
        audience = Audience(websocket.path_params["audience"])
    except ValueError:
        await websocket.close(code=CLOSE_POLICY, reason="unknown audience")
        return
    guesses, who = state.limits.code_guesses, client_of(websocket)
    if guesses.exhausted(who):
        await websocket.close(code=CLOSE_POLICY, reason="too many unknown codes; wait")
        return
    try:
        session_id, allowed, participant_id = await _identify(websocket, audience)
    except RuleError as refused:
        if isinstance(refused, UnknownCode):
            guesses.take(who)
        await websocket.close(code=CLOSE_POLICY, reason="unknown session")
        return
    except OUTAGES as error:
        log.warning("live: database unavailable (%s); socket asked to retry", error)
        await websocket.close(code=CLOSE_TRY_AGAIN, reason="database unavailable")
        return
    if not allowed:
        await websocket.close(code=CLOSE_POLICY, reason="not allowed")
        return
    client = Client(audience, locale_of(websocket), participant_id, send)
    # From here on the socket keeps numbers (its Client), not the cookie's content: a
    # kilobyte per phone, kept for hours by thousands of them.
    websocket.scope.pop("session", None)
    room: Room | None = None
    heard = False  # the hello came (a timeout before it is the phone's, not the database's)
    try:
        last_seen = await _read_hello(websocket)
        heard = True
        room = await state.hub.enter(session_id, client)
        await room.catch_up(client, last_seen)
        # One task per socket, this one: frames are sent by the room (see Client), and
        # phones send nothing after the hello, so reading notices the phone leaving and
        # enforces the limits on what comes.
        await _receive(websocket)
        flood = TokenBucket(burst=FLOOD_BURST, per_second=FLOOD_PER_S)  # only if it sends
        while flood.take():
            await _receive(websocket)
        raise _Close(CLOSE_POLICY, "too many messages")
    except _Close as close:
        client.stop()
        await _close(websocket, close.code, close.reason)
    except OUTAGES as error:
        if isinstance(error, TimeoutError) and not heard:
            await _close(websocket, CLOSE_POLICY, "expected a hello message")
        else:
            log.warning("live: database unavailable (%s); socket asked to retry", error)
            await _close(websocket, CLOSE_TRY_AGAIN, "database unavailable")
    except (WebSocketDisconnect, RuntimeError, OSError) as gone:
        log.debug("live: a %s socket of session %s left: %r", audience, session_id, gone)
    finally:
        client.stop()
        if room is not None:
            await state.hub.release(room, client)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    if websocket.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=code, reason=reason)
