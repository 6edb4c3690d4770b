"""The member roster in the console, its printable sheet of voting codes, and members
joining a session with their code."""

from __future__ import annotations

from sqlmodel import col, select
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cocreate import projects, qr, roster
from cocreate.errors import Invalid, RuleError, Throttled, UnknownMemberCode
from cocreate.i18n import N_
from cocreate.models import (
    Facilitator,
    Member,
    Organisation,
    Project,
    Session,
    key,
    whole_number,
)
from cocreate.roster import ROSTER_FILE_BYTES
from cocreate.urls import url
from cocreate.views.access import (
    facilitator_action,
    facilitator_page,
    facilitator_upload,
    public_action,
    public_page,
)
from cocreate.views.participant import session_url
from cocreate.web import (
    app_state,
    count_guess,
    field,
    locale_of,
    public_url,
    remember_participant,
    remembered_participant,
    render,
    render_large,
    see_other,
    translate_error,
)

# QR codes a worker draws in one go (about a second of CPU): a sheet's chunks take
# their turn with other heavy work.
SHEET_CHUNK = 200


async def _roster_page(request: Request, facilitator: Facilitator, **extra: object) -> Response:
    async with app_state(request).db.write() as db:
        organisation = await roster.organisation_for(db=db, facilitator=facilitator)
        people = await roster.member_lines(db=db, organisation=organisation)
        groups = await roster.colleges(db=db, organisation=organisation)
    context: dict[str, object] = {"report": None, "error": None, "status_code": 200}
    context.update(extra)
    status = int(str(context.pop("status_code")))
    return await render_large(  # thousands of members: drawn off the loop
        request,
        "facilitator/roster.html",
        status_code=status,
        facilitator=facilitator,
        organisation=organisation,
        members=people,
        colleges=groups,
        college_names={key(c): c.name for c in groups},
        **context,
    )


@facilitator_page
async def roster_page(request: Request, facilitator: Facilitator) -> Response:
    return await _roster_page(request, facilitator)


def _text_of(raw: bytes) -> str:
    if len(raw) > ROSTER_FILE_BYTES:
        raise Invalid(N_("The file is too large."))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")  # spreadsheets saved on Windows
    except UnicodeDecodeError:
        raise Invalid(N_("The file is not text (save it as CSV).")) from None


@facilitator_upload(ROSTER_FILE_BYTES)
async def import_roster(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    try:
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            text = _text_of(await upload.read(ROSTER_FILE_BYTES + 1))
        else:
            text = field(form, "csv")
    finally:
        await form.close()  # an uploaded file is spooled to disk: let it go
    templates, locale = app_state(request).templates, locale_of(request)
    try:
        async with app_state(request).db.write() as db:
            report = await roster.import_roster(db=db, facilitator=facilitator, text=text)
    except Invalid as error:  # the file as a whole: unreadable (400) or unusable (422)
        message = translate_error(templates, locale, error)
        return await _roster_page(
            request, facilitator, error=message, status_code=error.status_code
        )
    if report.errors:
        lines = [
            templates.gettext(locale, N_("Line %(line)d:"), line=line)
            + " "
            + templates.gettext(locale, message, **params)
            for line, message, params in report.errors
        ]
        return await _roster_page(
            request, facilitator, error="\n".join(lines[:50]), status_code=422
        )
    return await _roster_page(request, facilitator, report=report)


@facilitator_action
async def save_member(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    templates, locale = app_state(request).templates, locale_of(request)
    async with app_state(request).db.write() as db:
        report = await roster.save_member(
            db=db,
            facilitator=facilitator,
            **{name: field(form, name) for name in ("name", "number", "email", "college")},
        )
    if report.errors:
        _, message, params = report.errors[0]
        error = templates.gettext(locale, message, **params)
        return await _roster_page(request, facilitator, error=error, status_code=422)
    return await _roster_page(request, facilitator, report=report)


@facilitator_action
async def set_colleges(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    weights: dict[int, int] = {}
    for name in form:
        if name.startswith("weight-"):
            college_id = whole_number(name.removeprefix("weight-"))
            weight = whole_number(field(form, name).strip())
            if college_id is None or weight is None:
                raise Invalid(N_("College weights must add up to 100 %."))
            weights[college_id] = weight
    async with app_state(request).db.write() as db:
        await roster.set_college_weights(db=db, facilitator=facilitator, weights=weights)
    return see_other(url("roster"))


@facilitator_action
async def set_settings(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    cap = whole_number(field(form, "proxy_cap").strip())
    if cap is None:
        raise Invalid(
            N_("A member may hold between 0 and %(max)d proxies."), max=roster.MAX_PROXY_CAP
        )
    async with app_state(request).db.write() as db:
        await roster.set_proxy_cap(db=db, facilitator=facilitator, cap=cap)
    return see_other(url("roster"))


@facilitator_page
async def voting_sheet(request: Request, facilitator: Facilitator) -> Response:
    """A printable sheet: one card per member, with their code and its QR code (drawn
    in worker processes: 5,000 of them take tens of seconds of CPU)."""
    async with app_state(request).db.write() as db:
        organisation = await roster.organisation_for(db=db, facilitator=facilitator)
        people = await roster.member_lines(db=db, organisation=organisation)
    urls = [public_url(request, url("member_link", code=member.voting_code)) for member in people]
    svgs = await app_state(request).heavy.map(qr.card_svgs, urls, chunk=SHEET_CHUNK)
    cards = list(zip(people, urls, svgs, strict=True))
    return await render_large(
        request, "facilitator/sheet.html", organisation=organisation, cards=cards
    )


@public_page
async def member_link(request: Request) -> Response:
    """A member's personal QR code: into the session their organisation has open now."""
    code = projects.normalize_join_code(request.path_params["code"])
    async with app_state(request).db.session() as db:
        member = (await db.exec(select(Member).where(Member.voting_code == code))).first()
        if member is None or member.archived_at is not None:
            raise UnknownMemberCode(roster.NOT_ON_ROSTER)
        organisation = await db.get(Organisation, member.organisation_id)
        assert organisation is not None
        open_sessions = list(
            (
                await db.exec(
                    select(Session)
                    .join(Project, col(Project.id) == col(Session.project_id))
                    .where(
                        Project.owner_id == organisation.owner_id,
                        col(Session.opened_at).is_not(None),
                        col(Session.closed_at).is_(None),
                    )
                    .order_by(col(Session.opened_at).desc())
                )
            ).all()
        )
    return render(
        request, "participant/member_link.html", member=member, sessions=open_sessions, code=code
    )


@public_action
async def join_as_member(request: Request, form: FormData) -> Response:
    state = app_state(request)
    async with state.db.session() as db:
        session, project = await projects.session_and_project_by_code(
            db=db, code=request.path_params["code"]
        )
    phone = remembered_participant(request, key(session))
    try:
        async with state.db.write() as db:
            arrival = await roster.join_as_member(
                db=db, session=session, code=field(form, "voting_code"), phone_participant_id=phone
            )
    except Throttled:
        raise
    except RuleError as refused:
        if phone is not None:
            raise  # from the session page: said in its message region
        # From the join page: said there, beside the field, the page as it was.
        count_guess(request, refused)
        message = translate_error(state.templates, locale_of(request), refused)
        return render(
            request,
            "participant/join.html",
            status_code=refused.status_code,
            session=session,
            project=project,
            name="",
            member_error=message,
            voting_code=field(form, "voting_code"),  # as typed, to mend
        )
    remember_participant(request, key(session), key(arrival.participant))
    return see_other(session_url(request, session))
