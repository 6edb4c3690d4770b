"""The websocket side: one room per live session and process, fragments pushed down.

A socket first says hello with the last event number its page has seen; the room
brings itself up to date from the database, sends the socket what it missed (or a
fresh snapshot when too far behind), then streams. Each batch of events is rendered
once per audience and language and the same bytes are sent to every socket of that
group. A socket that falls too far behind is closed with 1013 and its phone reconnects.

- ``socket``: the endpoint (origin, who the socket is, its hello, its limits);
- ``hub``: the rooms, one per session with sockets, and the broker's nudges;
- ``wire``: a frame, and how it reaches a socket (in place into uvicorn's connection,
  else through the server's ``send``).
"""

from cocreate.live.hub import (
    BROKER_DOWN_POLL_S,
    BROKER_RETRY_MAX_S,
    BURST_EVENTS,
    COALESCE_BURST_S,
    COALESCE_S,
    MAX_CATCHUP_EVENTS,
    LiveHub,
    Room,
)
from cocreate.live.socket import (
    FLOOD_BURST,
    MAX_WS_MESSAGE_BYTES,
    live_app,
    live_endpoint,
    origin_allowed,
)
from cocreate.live.wire import (
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNSUPPORTED,
    SEND_QUEUE_FRAMES,
    Client,
    Frame,
)

__all__ = [
    "BROKER_DOWN_POLL_S",
    "BROKER_RETRY_MAX_S",
    "BURST_EVENTS",
    "CLOSE_NORMAL",
    "CLOSE_POLICY",
    "CLOSE_TOO_BIG",
    "CLOSE_TRY_AGAIN",
    "CLOSE_UNSUPPORTED",
    "COALESCE_BURST_S",
    "COALESCE_S",
    "FLOOD_BURST",
    "MAX_CATCHUP_EVENTS",
    "MAX_WS_MESSAGE_BYTES",
    "SEND_QUEUE_FRAMES",
    "Client",
    "Frame",
    "LiveHub",
    "Room",
    "live_app",
    "live_endpoint",
    "origin_allowed",
]
