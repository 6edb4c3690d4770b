"""The room's big screen: join code and QR, people connected, the wall, decisions."""

from __future__ import annotations

import io

import segno
from starlette.requests import Request
from starlette.responses import Response

from cocreate import projects
from cocreate.models import Session
from cocreate.views.fragments import Audience, stage_context
from cocreate.web import app_state, render


def join_url(request: Request, session: Session) -> str:
    """The absolute link a phone opens: from COCREATE_PUBLIC_URL, else this request's host."""
    path = request.url_for("participant_session", code=session.join_code).path
    base = app_state(request).settings.public_url.rstrip("/")
    if not base:
        base = f"{request.url.scheme}://{request.url.netloc}"
    return base + path


async def screen(request: Request) -> Response:
    async with app_state(request).db.session() as db:
        session = await projects.session_by_code(db=db, code=request.path_params["code"])
        assert session.id is not None
        seq = session.seq
        context = await stage_context(db, session, Audience.SCREEN)
    return render(
        request,
        "projector/screen.html",
        session=session,
        seq=seq,
        join_url=join_url(request, session),
        connected=app_state(request).hub.connected(session.id),
        audience="screen",
        oob=False,
        **context,
    )


async def qr_code(request: Request) -> Response:
    """The join link as an SVG QR code, drawn on the server."""
    async with app_state(request).db.session() as db:
        session = await projects.session_by_code(db=db, code=request.path_params["code"])
    buffer = io.BytesIO()
    segno.make(join_url(request, session), error="m").save(
        buffer, kind="svg", scale=10, border=2, dark="#111", light="#fff", xmldecl=False
    )
    return Response(
        buffer.getvalue(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600"},
    )
