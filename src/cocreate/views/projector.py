"""The room's big screen: join code and QR, people connected, the wall, decisions;
and presenter mode, the facilitator choosing what it shows (``presenter.py``)."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from cocreate import presenter, projects
from cocreate.errors import Invalid, RuleError
from cocreate.events import SessionEvent
from cocreate.i18n import N_
from cocreate.live.regions import Audience, presenter_context, stage_context
from cocreate.models import Facilitator, Session, key
from cocreate.urls import url
from cocreate.views.access import Act, console_action, public_page
from cocreate.views.participant import session_url
from cocreate.web import (
    app_state,
    current_facilitator,
    field,
    int_param,
    is_htmx,
    public_url,
    qr_svg,
    render,
    render_large,
    see_other,
)


def join_url(request: Request, session: Session) -> str:
    """The absolute link a phone opens: from COCREATE_PUBLIC_URL, else this request's host."""
    return public_url(request, session_url(request, session))


@public_page
async def screen(request: Request) -> Response:
    code = request.path_params["code"]

    facilitator = await current_facilitator(request)

    async def read(db: AsyncSession) -> tuple[Session, dict[str, Any], bool]:
        session = await projects.session_by_code(db=db, code=code)
        context = await stage_context(db, session, Audience.SCREEN)
        context |= await presenter_context(db, session)
        return session, context, await _runs(db, facilitator, session)

    # The whole wall, read and drawn off the loop: thousands of cards in a large room.
    session, context, runs = await app_state(request).db.read_apart(read)
    assert session.id is not None
    # The projector's own keyboard drives it (← →) for the session's facilitator only.
    keys = (
        {move: url("present_move", session_id=session.id, move=move) for move in ("back", "next")}
        if runs and session.closed_at is None
        else None
    )
    return await render_large(
        request,
        "projector/screen.html",
        session=session,
        seq=session.seq,
        join_url=join_url(request, session),
        connected=app_state(request).hub.connected(session.id),
        audience="screen",
        presenter_keys=keys,
        **context,
    )


@public_page
async def qr_code(request: Request) -> Response:
    """The join link as an SVG QR code, drawn on the server."""
    async with app_state(request).db.session() as db:
        session = await projects.session_by_code(db=db, code=request.path_params["code"])
    return await qr_svg(request, join_url(request, session))


async def _runs(db: AsyncSession, facilitator: Facilitator | None, session: Session) -> bool:
    """Whether the one signed in runs this session (and so may drive its projector)."""
    if facilitator is None:
        return False
    try:
        await projects.session_for(db=db, facilitator=facilitator, session_id=key(session))
    except RuleError:
        return False
    return True


async def presenter_panel(request: Request, facilitator: Facilitator) -> Response:
    """The console's presenter panel, redrawn; the console itself without JS."""
    session_id = int_param(request, "session_id")
    if not is_htmx(request):
        return see_other(url("console", session_id=session_id) + "#presenter")
    async with app_state(request).db.session() as db:
        session, _ = await projects.session_for(
            db=db, facilitator=facilitator, session_id=session_id
        )
        context: dict[str, Any] = {"session": session, **await presenter_context(db, session)}
    return render(request, "partials/presenter.html", **context)


@console_action(presenter_panel)
async def present(a: Act) -> SessionEvent:
    return await presenter.present(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        shown=presenter.parse(field(a.form, "shown")),
    )


@console_action(presenter_panel)
async def present_move(a: Act) -> SessionEvent:
    move = str(a.request.path_params["move"])
    if move not in ("back", "next"):
        raise Invalid(N_("Move the projector back or next."))
    return await presenter.step_through(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, forward=move == "next"
    )
