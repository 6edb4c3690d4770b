"""Pages for everyone: home (type a code), language switcher, health."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import select
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from cocreate import projects
from cocreate.errors import Invalid, Throttled, UnknownCode
from cocreate.i18n import LOCALES, N_
from cocreate.urls import url
from cocreate.views.access import public_action, public_page
from cocreate.web import app_state, client_of, count_guess, field, mounted, render, see_other


@public_page
async def home(request: Request) -> Response:
    return render(request, "home.html", code="", error=None)


@public_page
async def join_by_code(request: Request) -> Response:
    """The home page's form: a typed code leads to its session's join page."""
    typed = request.query_params.get("code", "")
    code = projects.normalize_join_code(typed)
    if not code:
        return render(request, "home.html", status_code=422, code="", error="empty")
    # A code no session has is said here, beside the field, not on a page of its own;
    # it counts as a guess, as one typed in the address does (``limits``).
    guesses, who = app_state(request).limits.code_guesses, client_of(request)
    if guesses.exhausted(who):
        raise Throttled(
            N_("Too many unknown codes were tried from here. Try again in %(n)d s."),
            retry_after=max(1, guesses.retry_after(who)),
        )
    async with app_state(request).db.session() as db:
        try:
            await projects.session_numbers_by_code(db=db, code=code)
        except UnknownCode as unknown:
            count_guess(request, unknown)
            return render(request, "home.html", status_code=404, code=typed, error="unknown")
        except Invalid:  # not 6 characters
            return render(request, "home.html", status_code=422, code=typed, error="length")
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
