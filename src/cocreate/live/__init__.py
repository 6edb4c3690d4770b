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

Import from the modules themselves (``cocreate.live.hub``…): this package runs none of
them, so reading one of them never imports the endpoint and, through it, the web layer.
"""
