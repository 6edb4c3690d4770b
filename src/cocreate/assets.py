"""The app's static files, as a phone on a slow network should get them.

Each file is addressed by a name carrying a digest of its content
(``js/cocreate.3f2a9c1d7e0b.js``, from ``static("js/cocreate.js")``): a browser keeps it
for a year without asking again (``Cache-Control: immutable``), and a new version of the
file is a new name. Text files are sent compressed, with Brotli where the library is at
hand (WeasyPrint's fonts bring it) and the browser takes it, else gzip; each file is read
and compressed once, at its first request. A file asked by its plain name (an old page,
a link from elsewhere) is served too, to be checked again at each use.

HTML pages are compressed too (``CompressPages``), each answer with its CSRF token
masked afresh so that compression gives nothing away (BREACH; see SECURITY.md).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

try:
    _brotli: Any = importlib.import_module("brotli")
except ImportError:  # pragma: no cover - depends on the extras installed
    _brotli = None

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
COMPRESSED_TYPES = ("text/", "application/javascript", "image/svg+xml", "application/json")
DIGEST_CHARS = 12


@dataclass
class Asset:
    path: Path
    name: str  # "js/cocreate.js"
    addressed: str  # "js/cocreate.3f2a9c1d7e0b.js"
    media_type: str
    etag: str
    _bodies: dict[str, bytes] = field(default_factory=dict)

    def body(self, encoding: str) -> bytes:
        """The file in ``encoding`` ("br", "gzip" or "identity"), made at first use."""
        if encoding not in self._bodies:
            raw = self._bodies.setdefault("identity", self.path.read_bytes())
            if encoding == "br" and _brotli is not None:
                self._bodies["br"] = _brotli.compress(raw, quality=11)
            elif encoding == "gzip":
                self._bodies["gzip"] = gzip.compress(raw, compresslevel=9, mtime=0)
            else:
                return raw
        return self._bodies[encoding]

    @property
    def compressible(self) -> bool:
        return self.media_type.startswith(COMPRESSED_TYPES)


def _addressed(name: str, digest: str) -> str:
    folder, _, file = name.rpartition("/")
    stem, dot, suffix = file.rpartition(".")
    if not stem:  # no suffix: "LICENSE"
        stem, dot, suffix = suffix, "", ""
    named = f"{stem}.{digest}{dot}{suffix}" if dot else f"{file}.{digest}"
    return f"{folder}/{named}" if folder else named


class Assets:
    """The files under ``directory``, known by their plain and their addressed names; an
    ASGI app serving them (mounted at ``/static``)."""

    def __init__(self, directory: Path) -> None:
        self._by_name: dict[str, Asset] = {}
        self._by_address: dict[str, Asset] = {}
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:DIGEST_CHARS]
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if media_type.startswith("text/") or media_type == "application/javascript":
                media_type += "; charset=utf-8"
            asset = Asset(path, name, _addressed(name, digest), media_type, f'"{digest}"')
            self._by_name[name] = asset
            self._by_address[asset.addressed] = asset

    def address(self, name: str) -> str:
        """The name to link a file by: its addressed name (its plain one if unknown)."""
        asset = self._by_name.get(name)
        return asset.addressed if asset else name

    def file(self, name: str) -> Asset | None:
        """A file known by its addressed or its plain name (None: not one of ours)."""
        return self._by_address.get(name) or self._by_name.get(name)

    def addresses(self) -> dict[str, str]:
        return {name: asset.addressed for name, asset in self._by_name.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        response = self.response(_route_path(scope), scope["method"], Headers(scope=scope))
        await response(scope, receive, send)

    def response(self, path: str, method: str, headers: Headers) -> Response:
        if method not in ("GET", "HEAD"):
            return Response("Method Not Allowed", 405, {"Allow": "GET, HEAD"})
        name = path.lstrip("/")
        asset = self._by_address.get(name)
        cache = IMMUTABLE
        if asset is None:
            asset, cache = self._by_name.get(name), REVALIDATE
        if asset is None:
            return Response("Not Found", 404, media_type="text/plain")
        common = {"Cache-Control": cache, "ETag": asset.etag, "Vary": "Accept-Encoding"}
        if asset.etag in headers.get("if-none-match", ""):
            return Response(status_code=304, headers=common)
        encoding = _encoding(headers.get("accept-encoding", "")) if asset.compressible else None
        body = asset.body(encoding or "identity")
        if encoding is not None:
            common["Content-Encoding"] = encoding
        if method == "HEAD":
            common["Content-Length"] = str(len(body))
            body = b""
        return Response(body, 200, common, media_type=asset.media_type)


def _encoding(accepted: str) -> str | None:
    """What the browser takes of ours: Brotli first, then gzip (a q of 0 refuses)."""
    offered: dict[str, float] = {}
    for part in accepted.split(","):
        token, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        offered[token.strip().lower()] = quality
    if _brotli is not None and offered.get("br", 0) > 0:
        return "br"
    if offered.get("gzip", 0) > 0:
        return "gzip"
    return None


def _route_path(scope: Scope) -> str:
    """The path under the mount point (as Starlette's own static files read it)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :]
    return path


# Pages are compressed fast (gzip's first level: a fraction of a millisecond for a phone's
# page, which shrinks about ten times), each answer its own: their CSRF token is masked
# afresh for each (``web.csrf_token``), so compression gives nothing away (BREACH).
PAGE_MIN_BYTES = 1024
PAGE_LEVEL = 1


class CompressPages:
    """ASGI middleware: an HTML page sent in one piece goes gzip-compressed to a browser
    that takes it. Streams, files and anything already compressed go as they are."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _takes_gzip(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def compressing(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = Headers(raw=message["headers"])
                page = headers.get("content-type", "").startswith("text/html")
                if page and "content-encoding" not in headers:
                    start = message  # held until its body says whether it is one piece
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held, start = start, None
            body: bytes = message.get("body", b"")
            if message.get("more_body", False) or len(body) < PAGE_MIN_BYTES:
                await send(held)
                await send(message)
                return
            packed = gzip.compress(body, compresslevel=PAGE_LEVEL, mtime=0)
            headers = MutableHeaders(raw=list(held["headers"]))
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(packed))
            headers.add_vary_header("Accept-Encoding")
            await send({**held, "headers": headers.raw})
            await send({"type": "http.response.body", "body": packed})

        await self.app(scope, receive, compressing)


def _takes_gzip(headers: Headers) -> bool:
    for part in headers.get("accept-encoding", "").split(","):
        token, _, params = part.strip().partition(";")
        if token.strip().lower() == "gzip":
            return params.strip().replace(" ", "") not in ("q=0", "q=0.0")
    return False
