"""The phone: join with a name, propose, comment, vote. Every form works without JS too."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from functools import partial, wraps
from typing import Any

from markupsafe import escape
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from cocreate import action_keys, agenda, participants, projects, proposal_votes, proposals, wall
from cocreate.errors import Forbidden, Invalid, NotFound, Throttled
from cocreate.i18n import N_
from cocreate.live.regions import Audience, stage_context
from cocreate.models import (
    Choice,
    Participant,
    Project,
    ProposalKind,
    Session,
    key,
    whole_number,
)
from cocreate.participants import JOIN_FIRST
from cocreate.projects import SessionNumbers
from cocreate.urls import url
from cocreate.views.access import Endpoint, public_action, public_page, wearing
from cocreate.web import (
    app_state,
    client_of,
    field,
    for_visitor,
    int_param,
    is_htmx,
    locale_of,
    mounted,
    read_form,
    remember_participant,
    remembered_participant,
    remembers_a_participant,
    render,
    render_for_all,
    see_other,
)


async def _identify(db: AsyncSession, request: Request) -> tuple[Session, Participant | None]:
    session = await projects.session_by_code(db=db, code=request.path_params["code"])
    participant = await participants.participant_in(
        db=db, session=session, participant_id=remembered_participant(request, key(session))
    )
    return session, participant


async def _session_and_participant(request: Request) -> tuple[Session, Participant | None]:
    async with app_state(request).db.session() as db:
        return await _identify(db, request)


async def require_participant(request: Request) -> tuple[Session, Participant]:
    session, participant = await _session_and_participant(request)
    if participant is None:
        raise Forbidden(JOIN_FIRST)
    return session, participant


ParticipantPage = Callable[[Request, Session, Participant], Awaitable[Response]]
ParticipantAction = Callable[[Request, FormData, Session, Participant], Awaitable[Response]]


def participant_page(handler: ParticipantPage) -> Endpoint:
    """A part of a session's phone page, for the phone that joined that session (of the
    path's ``{code}``): others get 403 (views/access.py has the whole family)."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        session, participant = await require_participant(request)
        return await handler(request, session, participant)

    return wearing("participant_page", endpoint)


def participant_action(handler: ParticipantAction) -> Endpoint:
    """A form posted by the phone that joined the session: its CSRF token is checked,
    then the phone recognised (others get 403)."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        form = await read_form(request)
        session, participant = await require_participant(request)
        return await handler(request, form, session, participant)

    return wearing("participant_action", endpoint)


async def first_time(
    db: AsyncSession, form: FormData, session: Session, participant: Participant
) -> bool:
    """Whether the action this form sends is stored for the first time: a phone sending
    again what got no answer (or a double tap) sends the same key, and is answered as
    the first time without storing it twice (``action_keys``). A form without a key
    (a plain form, a script) is always a first time."""
    action_key = action_keys.parse(field(form, action_keys.FIELD))
    if action_key is None:
        return True
    claimed = await action_keys.claim(
        db, session_id=key(session), action_key=action_key, participant_id=key(participant)
    )
    return claimed.first


def session_url(request: Request, session: Session) -> str:
    """The phone's page of a session found by its code (so it has one)."""
    assert session.join_code is not None
    return mounted(request, url("participant_session", code=session.join_code))


# A project's title or need, edited, shows on the pages of arriving phones after this
# at most (the session's own changes are events: on the very next page).
PHONE_PAGE_SECONDS = 1.0
# Pages kept at most (tens of KiB each): past this, those over a second old are dropped.
PHONE_PAGE_ENTRIES = 200
JOIN_PAGE = "participant/join.html"
SESSION_PAGE = "participant/session.html"
VOTE_ANSWER = "partials/vote.html"
# Stands for an arriving phone's name in the session page drawn for all of them.
NAME_MARK = "name-mark-" + secrets.token_hex(16)


@public_page
async def session_page(request: Request) -> Response:
    """The phone's page: the join form until the phone has a name, then the session."""
    code = request.path_params["code"]
    async with app_state(request).db.session() as db:
        if _arriving(request) and code == projects.normalize_join_code(code):
            # The join page, as every arriving phone of this language sees it until the
            # session's next event (a join storm is thousands of them).
            numbers = await projects.session_numbers_by_code(db=db, code=code)
            return for_visitor(request, await _join_page(request, db, numbers))
        # One read session for the whole page: the busiest page of a phone reloading.
        session, project = await projects.session_and_project_by_code(db=db, code=code)
        if session.join_code != code:
            return see_other(session_url(request, session))
        participant = await participants.participant_in(
            db=db, session=session, participant_id=remembered_participant(request, key(session))
        )
        if participant is None:
            return render(
                request, "participant/join.html", session=session, project=project, name=""
            )
        return await _phone_page(request, db, session, project, participant)


def _arriving(request: Request) -> bool:
    """A phone that has taken part nowhere yet: the pages drawn for every arriving phone
    are its pages too. Never a signed-in facilitator's (their pages carry their menu)."""
    return not remembers_a_participant(request) and _drawn_for_all_fits(request)


def _drawn_for_all_fits(request: Request) -> bool:
    return request.session.get("facilitator_id") is None


async def _join_page(request: Request, db: AsyncSession, numbers: SessionNumbers) -> str:
    """The join page drawn for every phone of this language (``render_for_all``), read
    and drawn once per event number of the session and second."""
    pages, entry = app_state(request).phone_pages, (JOIN_PAGE, numbers.id, locale_of(request))
    page = pages.get(entry, numbers.seq)
    if page is None:
        session, project = await projects.session_and_project_by_code(
            db=db, code=request.path_params["code"]
        )
        page = render_for_all(request, JOIN_PAGE, session=session, project=project, name="")
        pages.keep(entry, numbers.seq, page)
    return page


async def _newcomer_page(
    request: Request, session: Session, project: Project, participant: Participant
) -> Response:
    """The session page of a phone that has just joined by name: the same for every
    phone joining at this event number in this language, but for its name and token.
    Drawn once (a second at most) with marks where those go; a newcomer has no votes,
    reactions or signatures of its own yet."""
    state, session_id, seq = app_state(request), key(session), session.seq
    entry = (SESSION_PAGE, session_id, locale_of(request))
    page = state.phone_pages.get(entry, seq)
    if page is None:
        stand_in = Participant(id=key(participant), session_id=session_id, display_name=NAME_MARK)
        async with state.db.session() as db:
            context = await stage_context(
                db, session, Audience.PHONE, key(stand_in), newcomer=True, shared=state.stages
            )
        page = render_for_all(
            request, SESSION_PAGE, **_page_of(request, session, project, stand_in, seq), **context
        )
        state.phone_pages.keep(entry, seq, page)
    return for_visitor(request, page.replace(NAME_MARK, escape(participant.display_name)))


async def _phone_page(
    request: Request,
    db: AsyncSession,
    session: Session,
    project: Project,
    participant: Participant,
    *,
    newcomer: bool = False,
) -> Response:
    """The session as this phone sees it. A ``newcomer`` (joined by this very request)
    has no votes, reactions or signatures yet: nothing of its own to read."""
    seq = session.seq  # read before the state: the page is at least that recent
    context = await stage_context(
        db,
        session,
        Audience.PHONE,
        key(participant),
        newcomer=newcomer,
        shared=app_state(request).stages,
    )
    return render(
        request, SESSION_PAGE, **_page_of(request, session, project, participant, seq), **context
    )


def _page_of(
    request: Request, session: Session, project: Project, participant: Participant, seq: int
) -> dict[str, Any]:
    """What the session page draws besides the stage."""
    return {
        "page_path": session_url(request, session),
        "session": session,
        "project": project,
        "participant": participant,
        "seq": seq,
        "text": "",
        "error": None,
    }


@public_action
async def join(request: Request, form: FormData) -> Response:
    """Join with a name. The plain form is answered with a redirect to the session page;
    under htmx with the session page itself, the address staying the session's (a reload
    loads it again): one round trip less for a phone on a poor network, and for the
    server in a join storm."""
    state = app_state(request)
    _count_join(request)
    arrival = participants.Arrival(
        request.path_params["code"],
        field(form, "display_name"),
        partial(remembered_participant, request),
        action_keys.parse(field(form, action_keys.FIELD)),
    )
    # Written with the phones joining at the same moment (a join storm), once committed.
    arrived = await state.arrivals.submit(arrival)
    session, project, participant = arrived.session, arrived.project, arrived.participant
    remember_participant(request, key(session), key(participant))
    url = session_url(request, session)
    if not is_htmx(request):
        return see_other(url)
    # The session as read in the write: its event number was read before anything the
    # page draws, so the page is at least that recent (the socket brings what follows).
    if arrived.newcomer and _drawn_for_all_fits(request):
        response = await _newcomer_page(request, session, project, participant)
    else:  # renamed (their votes are drawn), or a facilitator (their menu): for them alone
        async with state.db.session() as db:
            response = await _phone_page(
                request, db, session, project, participant, newcomer=arrived.newcomer
            )
    response.headers["HX-Replace-Url"] = url
    return response


def _count_join(request: Request) -> None:
    """Joins from one client address are limited: a room behind one Wi-Fi address gets
    its phones in at once (``Limits.joins``), a script making participants does not."""
    joins = app_state(request).limits.joins
    if joins is None:
        return
    who = client_of(request)
    if not joins.take(who):
        raise Throttled(
            N_("Too many phones joined from this address just now. Try again in %(n)d s."),
            retry_after=max(1, joins.retry_after(who)),
        )


def _need_ids(form: FormData) -> list[int]:
    ids = [
        whole_number(value) if isinstance(value, str) else None for value in form.getlist("need")
    ]
    if None in ids:
        raise Invalid(N_("Choose needs from the list."))
    return [need_id for need_id in ids if need_id is not None]


@participant_action
async def propose(
    request: Request, form: FormData, session: Session, participant: Participant
) -> Response:
    state = app_state(request)
    async with state.db.write() as db:
        if await first_time(db, form, session, participant):
            await proposals.propose(
                db=db,
                session=session,
                author=participant,
                text=field(form, "text"),
                need_ids=_need_ids(form),
            )
    async with state.db.session() as db:
        needs = await wall.wall(
            db=db, session_id=key(session), include_hidden=False, kind=ProposalKind.NEED
        )
    if not is_htmx(request):
        return see_other(session_url(request, session))
    return render(
        request,
        "partials/propose_form.html",
        session=session,
        needs=needs,
        text="",
        error=None,
        sent=True,
    )


@participant_action
async def describe_need(
    request: Request, form: FormData, session: Session, participant: Participant
) -> Response:
    state = app_state(request)
    async with state.db.write() as db:
        if await first_time(db, form, session, participant):
            await proposals.propose(
                db=db,
                session=session,
                author=participant,
                text=field(form, "text"),
                kind=ProposalKind.NEED,
            )
    if not is_htmx(request):
        return see_other(session_url(request, session))
    return render(
        request,
        "partials/need_form.html",
        session=session,
        text="",
        need_sent=True,
    )


@participant_action
async def react(
    request: Request, form: FormData, session: Session, participant: Participant
) -> Response:
    proposal_id = int_param(request, "proposal_id")
    reaction = proposals.parse_reaction(field(form, "reaction"))
    state = app_state(request)
    async with state.db.write() as db:
        await proposals.react(
            db=db, session=session, who=participant, proposal_id=proposal_id, reaction=reaction
        )
    async with state.db.session() as db:
        fresh = await db.get(Session, key(session))
        assert fresh is not None
        stage = await agenda.stage_of(db, fresh)
        items = await wall.wall(
            db=db, session_id=key(session), include_hidden=False, proposal_ids=[proposal_id]
        )
    if not is_htmx(request):
        return see_other(session_url(request, session) + f"#proposal-{proposal_id}")
    return render(
        request,
        "partials/reactions.html",
        session=fresh,
        stage=stage,
        item=items[0],
        my_reaction=reaction,
    )


@participant_action
async def comment(
    request: Request, form: FormData, session: Session, participant: Participant
) -> Response:
    proposal_id = int_param(request, "proposal_id")
    state = app_state(request)
    async with state.db.write() as db:
        if await first_time(db, form, session, participant):
            await proposals.comment(
                db=db,
                session=session,
                author=participant,
                proposal_id=proposal_id,
                text=field(form, "text"),
            )
    assert session.id is not None
    if not is_htmx(request):
        return see_other(session_url(request, session) + f"#proposal-{proposal_id}")
    async with state.db.session() as db:
        stage = await agenda.stage_of(db, session)
    return render(
        request,
        "partials/comment_form.html",
        stage=stage,
        session=session,
        proposal_id=proposal_id,
        sent=True,
    )


async def _vote_region(
    request: Request, session: Session, participant: Participant, proposal_id: int
) -> Response:
    async with app_state(request).db.session() as db:
        assert session.id is not None
        assert participant.id is not None
        items = await wall.wall(
            db=db, session_id=session.id, include_hidden=False, proposal_ids=[proposal_id]
        )
        if not items:
            raise NotFound(N_("This proposal does not exist in this session."))
        choice = await proposal_votes.current_choice(
            db=db, proposal_id=proposal_id, participant_id=participant.id
        )
        fresh = await db.get(Session, session.id)
        assert fresh is not None
        stage = await agenda.stage_of(db, fresh)
    return render(
        request,
        "partials/vote.html",
        item=items[0],
        session=fresh,
        stage=stage,
        my_choice=choice,
        lazy_vote=False,
    )


# A participant's vote, though anyone may post it: the batch that writes it recognises the
# voter (a phone that has not joined is refused there), one read fewer per vote.
@public_action
async def vote(request: Request, form: FormData) -> Response:
    ballot = proposal_votes.VoteOnProposal(
        code=request.path_params["code"],
        voter_in=partial(remembered_participant, request),
        proposal_id=int_param(request, "proposal_id"),
        choice=proposal_votes.parse_choice(field(form, "choice")),
    )
    # Written with the other votes of the moment, acknowledged after their commit.
    cast = await app_state(request).ballots.submit(ballot)
    if not is_htmx(request):
        return see_other(session_url(request, cast.session) + f"#proposal-{ballot.proposal_id}")
    return for_visitor(request, _vote_answer(request, cast, ballot.choice))


def _vote_answer(request: Request, cast: proposal_votes.CastVote, choice: Choice) -> str:
    """The voter's buttons, drawn from what the vote was checked against (it was open,
    the step allows it). Alike for every voter of a batch choosing the same in the same
    language but for the CSRF token: drawn once for them (``render_for_all``)."""
    pages, seq = app_state(request).phone_pages, cast.session.seq
    entry = (VOTE_ANSWER, key(cast.session), key(cast.proposal), choice, locale_of(request))
    answer = pages.get(entry, seq)
    if answer is None:
        answer = render_for_all(
            request,
            VOTE_ANSWER,
            item=wall.WallItem.alone(cast.proposal),
            session=cast.session,
            stage=cast.stage,
            my_choice=choice,
            lazy_vote=False,
        )
        pages.keep(entry, seq, answer)
    return answer


@participant_page
async def my_vote(request: Request, session: Session, participant: Participant) -> Response:
    """This phone's vote region for one proposal (loaded when a proposal reappears)."""
    return await _vote_region(request, session, participant, int_param(request, "proposal_id"))
