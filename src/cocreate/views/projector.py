"""The room's big screen: join code and QR, people connected, the wall, decisions."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from cocreate import projects
from cocreate.live.regions import Audience, stage_context
from cocreate.models import Session
from cocreate.views.access import public_page
from cocreate.views.participant import session_url
from cocreate.web import app_state, public_url, qr_svg, render_large


def join_url(request: Request, session: Session) -> str:
    """The absolute link a phone opens: from COCREATE_PUBLIC_URL, else this request's host."""
    return public_url(request, session_url(request, session))


@public_page
async def screen(request: Request) -> Response:
    code = request.path_params["code"]

    async def read(db: AsyncSession) -> tuple[Session, dict[str, Any]]:
        session = await projects.session_by_code(db=db, code=code)
        return session, await stage_context(db, session, Audience.SCREEN)

    # The whole wall, read and drawn off the loop: thousands of cards in a large room.
    session, context = await app_state(request).db.read_apart(read)
    assert session.id is not None
    return await render_large(
        request,
        "projector/screen.html",
        session=session,
        seq=session.seq,
        join_url=join_url(request, session),
        connected=app_state(request).hub.connected(session.id),
        audience="screen",
        **context,
    )


@public_page
async def qr_code(request: Request) -> Response:
    """The join link as an SVG QR code, drawn on the server."""
    async with app_state(request).db.session() as db:
        session = await projects.session_by_code(db=db, code=request.path_params["code"])
    return await qr_svg(request, join_url(request, session))
