"""What is left of a session: the printable minutes and the contributions as CSV, for
the session's facilitator only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cocreate import minutes
from cocreate.models import Facilitator
from cocreate.views.facilitator import facilitator_action, facilitator_page
from cocreate.web import app_state, int_param, render


@facilitator_page
async def minutes_page(request: Request, facilitator: Facilitator) -> Response:
    async with app_state(request).db.session() as db:
        record = await minutes.gather(
            db=db, facilitator=facilitator, session_id=int_param(request, "session_id")
        )
    return render(
        request,
        "facilitator/minutes.html",
        minutes=record,
        session=record.session,
        project=record.project,
        audience="minutes",
    )


@facilitator_action  # a download: someone signed out or not the facilitator gets 403
async def contributions_csv(request: Request, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    async with app_state(request).db.session() as db:
        rows = await minutes.contribution_rows(
            db=db, facilitator=facilitator, session_id=session_id
        )
    # With a byte-order mark, spreadsheets in French read the accents right.
    body = minutes.to_csv(rows).encode("utf-8-sig")
    return Response(
        body,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="session-{session_id}-contributions.csv"',
            "Cache-Control": "no-store",
        },
    )
