"""The room's big screen: join code and QR, people connected, the wall, decisions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cocreate import projects
from cocreate.models import Session
from cocreate.views.fragments import Audience, stage_context
from cocreate.web import app_state, public_url, qr_svg, render_large


def join_url(request: Request, session: Session) -> str:
    """The absolute link a phone opens: from COCREATE_PUBLIC_URL, else this request's host."""
    return public_url(request, request.url_for("participant_session", code=session.join_code).path)


async def screen(request: Request) -> Response:
    async with app_state(request).db.session() as db:
        session = await projects.session_by_code(db=db, code=request.path_params["code"])
        assert session.id is not None
        seq = session.seq
        context = await stage_context(db, session, Audience.SCREEN)
    return await render_large(  # the whole wall: thousands of cards in a large room
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
    return await qr_svg(request, join_url(request, session))
