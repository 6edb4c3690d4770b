"""The facilitator: sign in, projects, sessions, the live console, decisions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData, QueryParams
from starlette.requests import Request
from starlette.responses import Response

from cocreate import (
    accounts,
    agenda,
    moderation,
    polls,
    projects,
    proposal_votes,
    proxies,
    register,
    roster,
    wall,
)
from cocreate.errors import RuleError
from cocreate.i18n import N_
from cocreate.live.regions import presenter_context
from cocreate.models import (
    DEFAULT_PROXY_CAP,
    Facilitator,
    ProposalKind,
    Session,
    key,
    whole_number,
)
from cocreate.urls import url
from cocreate.views.access import (
    facilitator_action,
    facilitator_page,
    public_action,
    public_page,
)
from cocreate.views.projector import join_url
from cocreate.web import (
    FACILITATOR_ID,
    SESSION_VERSION,
    Limits,
    app_state,
    client_of,
    current_facilitator,
    field,
    int_param,
    is_htmx,
    locale_of,
    render,
    render_large,
    see_other,
    translate_error,
)


@public_page
async def login_page(request: Request) -> Response:
    return render(request, "facilitator/login.html", email="", error=None, next=_next(request))


def _next(request: Request, target: str = "") -> str:
    target = target or request.query_params.get("next", "")
    return target if target.startswith("/") and not target.startswith("//") else url("projects")


def _sign_in_refused(
    request: Request, form: FormData, status: int, message: str, **params: Any
) -> Response:
    """The sign-in page again, with what was typed (but the password) and why."""
    return render(
        request,
        "facilitator/login.html",
        status_code=status,
        email=field(form, "email"),
        error=app_state(request).templates.gettext(locale_of(request), message, **params),
        next=_next(request, field(form, "next")),
    )


def _spend_sign_in(limits: Limits, client: str, account: tuple[str, str]) -> int:
    """Count a sign-in attempt before its password is checked: 0 when it may go on,
    else the seconds to wait. Checked and spent with no await in between, so attempts
    sent at once cannot all pass the check before any is counted."""
    if limits.sign_ins.exhausted(client) or limits.sign_ins_per_account.exhausted(account):
        return max(
            1, limits.sign_ins.retry_after(client), limits.sign_ins_per_account.retry_after(account)
        )
    limits.sign_ins.take(client)
    limits.sign_ins_per_account.take(account)
    return 0


@public_action
async def login(request: Request, form: FormData) -> Response:
    email = field(form, "email")
    password = field(form, "password")
    limits = app_state(request).limits
    client = client_of(request)
    account = (client, email.strip().casefold())
    seconds = _spend_sign_in(limits, client, account)
    if seconds:
        # Refused before the password is hashed: guessing costs the server nothing more.
        response = _sign_in_refused(
            request, form, 429, N_("Too many failed sign-ins. Try again in %(n)d s."), n=seconds
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    async with app_state(request).db.session() as db:
        facilitator = await accounts.authenticate(db=db, email=email, password=password)
    if facilitator is None:
        return _sign_in_refused(request, form, 400, N_("Wrong e-mail or password."))
    # Only failed sign-ins are limited: a right password gives its attempt back.
    limits.sign_ins.give_back(client)
    limits.sign_ins_per_account.give_back(account)
    if accounts.needs_rehash(facilitator):
        # Stronger settings since this hash was made: store one made with them (Argon2
        # works for tens of milliseconds: in a thread, outside the writer).
        new_hash = await asyncio.to_thread(accounts.hash_password, password)
        async with app_state(request).db.write() as db:
            await accounts.store_hash(
                db=db, facilitator_id=key(facilitator), password_hash=new_hash
            )
    _new_cookie_session(request, facilitator.id, facilitator.session_version)
    return see_other(_next(request, field(form, "next")))


def _new_cookie_session(
    request: Request, facilitator_id: int | None = None, version: int = 0
) -> None:
    """A new cookie session (and CSRF token) for a new identity, or for nobody; the
    chosen language is kept."""
    locale = request.session.get("locale")
    request.session.clear()
    if locale:
        request.session["locale"] = locale
    if facilitator_id is not None:
        request.session[FACILITATOR_ID] = facilitator_id
        request.session[SESSION_VERSION] = version


@public_action
async def logout(request: Request, form: FormData) -> Response:
    """Sign out: every cookie of the account issued until now stops working, those
    of other browsers and any copy of this one included."""
    facilitator = await current_facilitator(request)
    if facilitator is not None:
        async with app_state(request).db.write() as db:
            await accounts.revoke_sessions(db=db, facilitator_id=key(facilitator))
    _new_cookie_session(request)
    return see_other(url("home"))


def _password_page(
    request: Request, facilitator: Facilitator, *, status: int = 200, error: str | None = None
) -> Response:
    return render(
        request,
        "facilitator/password.html",
        status_code=status,
        facilitator=facilitator,
        error=error,
        changed=request.query_params.get("changed") == "1" and error is None,
        min_chars=accounts.MIN_PASSWORD_CHARS,
        max_chars=accounts.MAX_PASSWORD_CHARS,
    )


@facilitator_page
async def password_page(request: Request, facilitator: Facilitator) -> Response:
    return _password_page(request, facilitator)


@facilitator_action
async def change_password(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    """A new password, given the current one: every other cookie of the account stops
    working; this browser stays signed in with a new one. The current password is
    checked under the sign-in limits (a borrowed cookie must not become a way to
    guess it)."""
    state = app_state(request)
    templates, locale = state.templates, locale_of(request)
    client = client_of(request)
    account = (client, facilitator.email)
    seconds = _spend_sign_in(state.limits, client, account)
    if seconds:
        message = templates.gettext(
            locale, N_("Too many failed sign-ins. Try again in %(n)d s."), n=seconds
        )
        response = _password_page(request, facilitator, status=429, error=message)
        response.headers["Retry-After"] = str(seconds)
        return response
    if not await accounts.password_is(facilitator, field(form, "current_password")):
        message = templates.gettext(locale, N_("The current password is wrong."))
        return _password_page(request, facilitator, status=400, error=message)
    state.limits.sign_ins.give_back(client)
    state.limits.sign_ins_per_account.give_back(account)
    try:
        password_hash = await accounts.new_password_hash(
            field(form, "new_password"), field(form, "repeat_password")
        )
        async with state.db.write() as db:
            version = await accounts.replace_password(
                db=db,
                facilitator_id=key(facilitator),
                password_hash=password_hash,
                replaced=facilitator.password_hash,
            )
    except RuleError as error:
        message = translate_error(templates, locale, error)
        return _password_page(request, facilitator, status=error.status_code, error=message)
    _new_cookie_session(request, key(facilitator), version)
    return see_other(url("password_page") + "?changed=1")


@facilitator_page
async def project_list(request: Request, facilitator: Facilitator) -> Response:
    async with app_state(request).db.session() as db:
        items = await projects.projects_of(db=db, owner=facilitator)
    return render(
        request,
        "facilitator/projects.html",
        facilitator=facilitator,
        projects=items,
        error=None,
        values={},
    )


@facilitator_action
async def create_project(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    values = {k: field(form, k) for k in ("title", "need", "territory")}
    async with app_state(request).db.write() as db:
        try:
            project = await projects.create_project(db=db, owner=facilitator, **values)
        except RuleError as error:
            items = await projects.projects_of(db=db, owner=facilitator)
            message = translate_error(app_state(request).templates, locale_of(request), error)
            return render(
                request,
                "facilitator/projects.html",
                status_code=error.status_code,
                facilitator=facilitator,
                projects=items,
                error=message,
                values=values,
            )
    return see_other(url("project", project_id=key(project)))


@facilitator_page
async def project_page(request: Request, facilitator: Facilitator) -> Response:
    async with app_state(request).db.session() as db:
        project = await projects.project_for(
            db=db, facilitator=facilitator, project_id=int_param(request, "project_id")
        )
        sessions = await projects.sessions_of(db=db, project=project)
    return render(
        request,
        "facilitator/project.html",
        facilitator=facilitator,
        project=project,
        sessions=sessions,
        error=None,
    )


@facilitator_action
async def create_session(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    async with app_state(request).db.write() as db:
        session = await projects.create_session(
            db=db,
            facilitator=facilitator,
            project_id=int_param(request, "project_id"),
            title=field(form, "title"),
            place=field(form, "place"),
        )
    return see_other(url("console", session_id=key(session)))


@facilitator_action
async def publish_decisions(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    project_id = int_param(request, "project_id")
    async with app_state(request).db.write() as db:
        await projects.set_decisions_published(
            db=db,
            facilitator=facilitator,
            project_id=project_id,
            published=field(form, "published") == "1",
        )
    return see_other(url("project", project_id=project_id))


async def console_context(
    request: Request, facilitator: Facilitator, session_id: int
) -> dict[str, Any]:
    """Everything the console shows; its panels are drawn from the same context. Read
    apart from the loop: a session's wall can hold thousands of contributions."""

    async def read(db: AsyncSession) -> dict[str, Any]:
        session, project = await projects.session_for(
            db=db, facilitator=facilitator, session_id=session_id
        )
        seq = session.seq
        items = await wall.wall(
            db=db, session_id=session_id, include_hidden=True, kind=ProposalKind.IDEA
        )
        needs = await wall.wall(
            db=db, session_id=session_id, include_hidden=True, kind=ProposalKind.NEED
        )
        decisions = await register.session_decisions(db=db, session_id=session_id)
        poll_list = await polls.poll_views(db=db, session_id=session_id, include_drafts=True)
        proxy_log = await proxies.log(db=db, session_id=session_id)
        organisation = await roster.find_organisation(db=db, facilitator=facilitator)
        has_roster = (
            organisation is not None
            and await roster.member_count(db=db, organisation=organisation) > 0
        )
        small_colleges = (
            await polls.small_colleges(db=db, organisation=organisation) if organisation else []
        )
        present = await roster.present_members(db=db, session_id=session_id)
        stage = await agenda.stage_of(db, session)
        steps = await agenda.steps_of(db, session_id)
        wall.assign_steps([*items, *needs], steps)
        scripts = await agenda.scripts_of(db=db, facilitator=facilitator)
        people = await moderation.participants(db=db, session_id=session_id)
        return {
            "session": session,
            "project": project,
            "seq": seq,
            "items": items,
            "needs": needs,
            "decisions": decisions,
            "polls": poll_list,
            "proxy_log": proxy_log,
            "has_roster": has_roster,
            "small_colleges": small_colleges,
            "members_present": len(present),
            "proxy_cap": organisation.proxy_cap if organisation else DEFAULT_PROXY_CAP,
            "proposals": [item for item in items if item.shown],
            "stage": stage,
            "steps": steps,
            "scripts": scripts,
            "participants": people,
            "joined": len(people),
            **await presenter_context(db, session),
            "counts": await wall.counts(db, session_id),
        }

    context = await app_state(request).db.read_apart(read)
    view = wall_view(request)
    context["items"] = wall.sorted_wall(context["items"], view.sort)
    context["needs"] = wall.sorted_wall(context["needs"], view.sort)
    session = context["session"]
    hub = app_state(request).hub
    return {
        **context,
        "facilitator": facilitator,
        "signed": set(),
        "identities": None,
        "connected": hub.connected(session_id),
        "roles": hub.connected_by_role(session_id),
        "join_url": join_url(request, session) if session.join_code else "",
        "reopenable": projects.reopenable(session, ZoneInfo(app_state(request).settings.timezone)),
        "audience": "console",
        "choices": {},
        "reactions_mine": {},
        "wall_sort": view.sort,
        "wall_filter": view.filter,
        "wall_view_error": view.error,
    }


@dataclass(frozen=True)
class WallView:
    """How the console orders and filters its walls, and what was wrong in the asking."""

    sort: wall.Sort
    filter: wall.Filter
    error: str | None


def wall_view(request: Request) -> WallView:
    """The order and filter the console asked for in its address (``?sort=&filter=``);
    a panel redrawn after a form (htmx) keeps those of the page it is on. An unknown
    value falls back to the default, and the page says so."""
    query = request.query_params
    if "sort" not in query and "filter" not in query and "hx-current-url" in request.headers:
        query = QueryParams(urlsplit(request.headers["hx-current-url"]).query)
    error = None
    try:
        sort = wall.Sort(query.get("sort") or wall.Sort.NEWEST)
    except ValueError:
        sort, error = wall.Sort.NEWEST, N_("Unknown order: the walls are shown newest first.")
    chosen = wall.Filter.parse(query.get("filter"))
    if chosen is None:
        chosen, error = wall.Filter(), N_("Unknown filter: every card is shown.")
    return WallView(sort, chosen, error)


@facilitator_page
async def console(request: Request, facilitator: Facilitator) -> Response:
    context = await console_context(request, facilitator, int_param(request, "session_id"))
    # A poll just opened moved the agenda to its vote step (views.polls.open_poll).
    moved = whole_number(request.query_params.get("step_moved", ""))
    step_moved = next((s for s in context["steps"] if s.id == moved), None)
    # Back from adding a step without JavaScript: the next one can be added at once.
    step_added = request.query_params.get("added") == "step"
    return await render_large(
        request,
        "facilitator/console.html",
        step_moved=step_moved,
        step_added=step_added,
        **context,
    )


@facilitator_action
async def open_session(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    async with app_state(request).db.write() as db:
        await projects.open_session(db=db, facilitator=facilitator, session_id=session_id)
    return see_other(url("console", session_id=session_id))


@facilitator_action
async def close_session(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    state = app_state(request)
    async with state.db.write() as db:
        await projects.close_session(db=db, facilitator=facilitator, session_id=session_id)
    return see_other(url("console", session_id=session_id))


@facilitator_action
async def reopen_session(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    """Open again a session closed by mistake, the same day (refused with a reason later)."""
    session_id = int_param(request, "session_id")
    state = app_state(request)
    async with state.db.write() as db:
        await projects.reopen_session(
            db=db,
            facilitator=facilitator,
            session_id=session_id,
            zone=ZoneInfo(state.settings.timezone),
        )
    return see_other(url("console", session_id=session_id))


async def card_response(request: Request, session_id: int, proposal_id: int) -> Response:
    """The console's card of one proposal, or back to the console without JS."""
    if not is_htmx(request):
        return see_other(url("console", session_id=session_id) + f"#proposal-{proposal_id}")
    async with app_state(request).db.session() as db:
        session = await db.get(Session, session_id)
        assert session is not None
        items = await wall.wall(
            db=db, session_id=session_id, include_hidden=True, proposal_ids=[proposal_id]
        )
        stage = await agenda.stage_of(db, session)
    return render(
        request,
        "partials/card.html",
        item=items[0],
        session=session,
        stage=stage,
        audience="console",
        my_choice=None,
        my_reaction=None,
        lazy_vote=False,
    )


def _moderation(hidden: bool) -> Callable[[Request], Awaitable[Response]]:
    @facilitator_action
    async def action(request: Request, form: FormData, facilitator: Facilitator) -> Response:
        session_id = int_param(request, "session_id")
        proposal_id = int_param(request, "proposal_id")
        state = app_state(request)
        async with state.db.write() as db:
            await moderation.set_hidden(
                db=db,
                facilitator=facilitator,
                session_id=session_id,
                proposal_id=proposal_id,
                hidden=hidden,
            )
        return await card_response(request, session_id, proposal_id)

    return action


hide_proposal = _moderation(hidden=True)
restore_proposal = _moderation(hidden=False)


@facilitator_action
async def close_vote(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    proposal_id = int_param(request, "proposal_id")
    state = app_state(request)
    async with state.db.write() as db:
        await proposal_votes.close_vote(
            db=db, facilitator=facilitator, session_id=session_id, proposal_id=proposal_id
        )
    return await card_response(request, session_id, proposal_id)


@facilitator_action
async def record_decision(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    proposal_id = int_param(request, "proposal_id")
    outcome = register.parse_outcome(field(form, "outcome"))
    state = app_state(request)
    async with state.db.write() as db:
        await register.record_decision(
            db=db,
            facilitator=facilitator,
            session_id=session_id,
            proposal_id=proposal_id,
            outcome=outcome,
            note=field(form, "note"),
        )
    return await card_response(request, session_id, proposal_id)
