"""Pages for everyone: home (type a code), language switcher, health."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from cocreate import projects
from cocreate.i18n import LOCALES
from cocreate.urls import url
from cocreate.views.access import public_action, public_page
from cocreate.web import app_state, field, mounted, render, see_other


@public_page
async def home(request: Request) -> Response:
    return render(request, "home.html", code="", error=None)


@public_page
async def join_by_code(request: Request) -> Response:
    """The home page's form: a typed code leads to its session's join page."""
    code = projects.normalize_join_code(request.query_params.get("code", ""))
    if not code:
        return render(request, "home.html", status_code=422, code="", error="empty")
    return see_other(mounted(request, url("participant_session", code=code)))


@public_action
async def set_language(request: Request, form: FormData) -> Response:
    locale = field(form, "locale")
    if locale in LOCALES:
        request.session["locale"] = locale
    target = field(form, "next")
    # Only paths of this site: never an open redirect.
    if not target.startswith("/") or target.startswith("//"):
        target = url("home")
    return see_other(target)


@public_page
async def health(request: Request) -> Response:
    """For load balancers and container health checks: is the database reachable?"""
    async with app_state(request).db.session() as db:
        await db.exec(select(sa.literal(1)))
    return PlainTextResponse("ok")
