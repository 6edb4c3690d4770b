"""What is left of a session and a project: the printable minutes (a page and a PDF), the
contributions as CSV, and a project's open data as CSV or JSON, for their facilitator
only."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from cocreate import minutes, opendata, pdf, projects
from cocreate.i18n import LOCALES, N_
from cocreate.models import Facilitator
from cocreate.views.access import facilitator_download, facilitator_page
from cocreate.web import RuleErrorResponse, app_state, int_param, locale_of, render_large

log = logging.getLogger(__name__)
# The minutes' templates, with what they extend, import and include: a server that warms
# up compiles them at its start (app.py), not on the first minutes asked for.
MINUTES_TEMPLATES = (
    "facilitator/minutes.html",
    "base.html",
    "macros.html",
    "partials/decision_result.html",
    "partials/poll_result.html",
    "partials/charts.html",
)


def _minutes(request: Request, facilitator: Facilitator) -> Awaitable[minutes.Minutes]:
    """The record of a session, read off the loop: a large assembly's is seconds of work."""
    session_id = int_param(request, "session_id")
    return app_state(request).db.read_apart(
        lambda db: minutes.gather(db=db, facilitator=facilitator, session_id=session_id)
    )


@facilitator_page
async def minutes_page(request: Request, facilitator: Facilitator) -> Response:
    record = await _minutes(request, facilitator)
    return await render_large(
        request,
        "facilitator/minutes.html",
        minutes=record,
        session=record.session,
        project=record.project,
        audience="minutes",
    )


@facilitator_download
async def minutes_pdf(request: Request, facilitator: Facilitator) -> Response:
    """The minutes as a PDF, in the language asked for (``?lang=fr``) or the reader's."""
    lang = request.query_params.get("lang") or locale_of(request)
    if lang not in LOCALES:
        raise RuleErrorResponse(400, N_("The minutes exist in French (fr) and English (en)."))
    session_id = int_param(request, "session_id")
    record = await _minutes(request, facilitator)
    # Drawn off the loop: the page in a thread, its layout (seconds for a large
    # assembly) in a worker process.
    html = await asyncio.to_thread(
        app_state(request).templates.render,
        "facilitator/minutes.html",
        locale=lang,
        request=request,
        csrf_token="",  # nothing of the reader's session goes into the file
        facilitator_id=None,
        page_path=request.url.path,
        minutes=record,
        session=record.session,
        project=record.project,
        audience="minutes",
    )
    try:
        body = await app_state(request).heavy.run(pdf.html_to_pdf, html)
    except pdf.PdfUnavailable as error:
        log.warning("no PDF minutes: the PDF engine cannot load (%s)", error)
        raise RuleErrorResponse(
            503, N_("This server cannot make PDF files: print the minutes page instead.")
        ) from error
    name = f"session-{session_id}-minutes-{lang}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@facilitator_download
async def contributions_csv(request: Request, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    rows = await app_state(request).db.read_apart(
        lambda db: minutes.contribution_rows(db=db, facilitator=facilitator, session_id=session_id)
    )
    # With a byte-order mark, spreadsheets in French read the accents right. Written
    # in a thread: thousands of contributions are a second of work.
    body = await asyncio.to_thread(lambda: minutes.to_csv(rows).encode("utf-8-sig"))
    return Response(
        body,
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="session-{session_id}-contributions.csv"',
            "Cache-Control": "no-store",
        },
    )


@facilitator_download
async def open_data(request: Request, facilitator: Facilitator) -> Response:
    """One dataset of a project (``opendata.DATASETS``), as CSV or JSON, to publish.

    CSV: UTF-8 with a byte-order mark (spreadsheets in French read the accents right),
    every cell neutralised against formulas. JSON: the documents the API serves."""
    project_id = int_param(request, "project_id")
    name, fmt = request.path_params["dataset"], request.path_params["fmt"]
    if name not in opendata.DATASETS or fmt not in opendata.FORMATS:
        raise RuleErrorResponse(404, N_("This page does not exist."))

    async def read(db: AsyncSession) -> opendata.Document:
        project = await projects.project_for(db=db, facilitator=facilitator, project_id=project_id)
        return await opendata.dataset(db=db, facilitator=facilitator, project=project, name=name)

    document = await app_state(request).db.read_apart(read)
    # Written in a thread: a project's thousands of rows are a second of work.
    if fmt == "csv":
        body = await asyncio.to_thread(lambda: opendata.to_csv(name, document).encode("utf-8-sig"))
        media_type = "text/csv; charset=utf-8"
    else:
        body = await asyncio.to_thread(lambda: opendata.to_json(document).encode())
        media_type = "application/json"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="project-{project_id}-{name}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )
