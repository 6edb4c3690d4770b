"""Polls over HTTP: the facilitator prepares, opens and closes them; phones vote; anyone
with the session's code reads a closed poll's result and downloads its ballots."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from cocreate import agenda, polls, projects, proxies, voting, wall
from cocreate.errors import Forbidden, Invalid, NotFound
from cocreate.events import SessionEvent
from cocreate.i18n import N_
from cocreate.models import (
    Facilitator,
    Member,
    Participant,
    Poll,
    Project,
    ProposalKind,
    Session,
    key,
    whole_number,
)
from cocreate.sealed import BallotSeal
from cocreate.urls import url
from cocreate.views.access import facilitator_action, facilitator_page, public_action, public_page
from cocreate.views.participant import participant_action, participant_page
from cocreate.web import (
    app_state,
    current_facilitator,
    field,
    form_fields,
    go_to,
    int_param,
    is_htmx,
    render,
)


def _draft(form: FormData) -> polls.PollDraft:
    method = voting.parse_method(field(form, "method"))
    rules_form = {
        name: field(form, name)
        for name in (
            "majority",
            "abstentions_expressed",
            "blank_expressed",
            "seats",
            "points",
            "cap",
            "max_score",
        )
    }
    proposal_ids = []
    for raw in form.getlist("proposal"):
        proposal_id = None if isinstance(raw, UploadFile) else whole_number(raw)
        if proposal_id is None:
            raise NotFound(N_("This proposal does not exist in this session."))
        proposal_ids.append(proposal_id)
    return polls.PollDraft(
        question=field(form, "question"),
        method=method,
        rules=voting.parse_rules(method, rules_form),
        secret=field(form, "secret") == "1",
        options=field(form, "options").splitlines(),
        proposal_ids=proposal_ids,
        binding=field(form, "binding") == "1",
        consultative=field(form, "consultative") == "1",
        quorum_percent=_percent(field(form, "quorum_percent")),
        small_colleges_confirmed=field(form, "small_colleges") == "1",
    )


def _percent(raw: str) -> int:
    percent = whole_number(raw.strip() or "0")
    if percent is None or percent > 100:
        raise Invalid(N_("A quorum is a share between 0 and 100 %."))
    return percent


def _console(request: Request, session_id: int, query: str = "") -> Response:
    return go_to(request, url("console", session_id=session_id) + query + "#polls")


@facilitator_page
async def poll_proposals(request: Request, facilitator: Facilitator) -> Response:
    """The proposals a poll being prepared may take as options, read now (the console
    asks when its form opens: proposals keep coming while the console stays open); those
    the form had ticked stay ticked."""
    session_id = int_param(request, "session_id")
    ticked = {
        number
        for raw in request.query_params.getlist("proposal")
        if (number := whole_number(raw)) is not None
    }
    async with app_state(request).db.session() as db:
        session, _ = await projects.session_for(
            db=db, facilitator=facilitator, session_id=session_id
        )
        items = await wall.wall(
            db=db, session_id=session_id, include_hidden=True, kind=ProposalKind.IDEA
        )
    return render(
        request,
        "partials/poll_proposals.html",
        session=session,
        proposals=[item for item in items if item.shown],
        ticked=ticked,
    )


@facilitator_action
async def create_poll(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    state = app_state(request)
    async with state.db.write() as db:
        await polls.create_poll(
            db=db, facilitator=facilitator, session_id=session_id, draft=_draft(form)
        )
    return _console(request, session_id)


async def _close(
    db: AsyncSession, facilitator: Facilitator, session_id: int, poll_id: int, seal: BallotSeal
) -> list[SessionEvent]:
    _, event = await polls.close_poll(
        db=db, facilitator=facilitator, session_id=session_id, poll_id=poll_id, seal=seal
    )
    return [event]


PollStep = Callable[
    [AsyncSession, Facilitator, int, int, BallotSeal], Awaitable[list[SessionEvent]]
]


async def _poll_step(request: Request, facilitator: Facilitator, step: PollStep) -> Response:
    """A console button that moves a poll along (open, close): every screen follows."""
    session_id = int_param(request, "session_id")
    state = app_state(request)
    async with state.db.write() as db:
        await step(db, facilitator, session_id, int_param(request, "poll_id"), state.seal)
    return _console(request, session_id)


@facilitator_action
async def open_poll(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    """Open a poll; if the agenda had to move for the room to see it, the console says
    to which step (``?step_moved=``)."""
    session_id = int_param(request, "session_id")
    async with app_state(request).db.write() as db:
        opened = await polls.open_poll(
            db=db,
            facilitator=facilitator,
            session_id=session_id,
            poll_id=int_param(request, "poll_id"),
        )
    if opened.moved_to is None:
        return _console(request, session_id)
    return _console(request, session_id, f"?step_moved={key(opened.moved_to)}")


@facilitator_action
async def close_poll(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    return await _poll_step(request, facilitator, _close)


def _as_member(raw: str) -> int | None:
    """The principal a proxy holder votes for (a member id), or None for their own vote."""
    if not raw:
        return None
    member_id = whole_number(raw)
    if member_id is None:
        raise NotFound(N_("No member has this number."))
    return member_id


@facilitator_action
async def next_round(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    state = app_state(request)
    async with state.db.write() as db:
        await polls.next_consent_round(
            db=db,
            facilitator=facilitator,
            session_id=session_id,
            poll_id=int_param(request, "poll_id"),
            question=field(form, "question"),
        )
    return _console(request, session_id)


@participant_action
async def cast_ballot(
    request: Request, form: FormData, session: Session, participant: Participant
) -> Response:
    poll_id = int_param(request, "poll_id")
    as_member = _as_member(field(form, "as_member"))
    state = app_state(request)
    async with state.db.write() as db:
        receipt = await polls.cast_ballot(
            db=db,
            session=session,
            voter=participant,
            poll_id=poll_id,
            form=form_fields(form),
            seal=state.seal,
            as_member=as_member,
        )
    async with state.db.session() as db:
        views = await polls.poll_views(
            db=db, session_id=key(session), include_drafts=False, poll_ids=[poll_id]
        )
        principal = (
            await db.get(Member, as_member)
            if as_member is not None and as_member != participant.member_id
            else None
        )
    if not is_htmx(request):
        return render(
            request,
            "polls/receipt.html",
            session=session,
            view=views[0],
            receipt=receipt.code,
            as_member=principal,
        )
    return render(
        request,
        "partials/ballot.html",
        session=session,
        view=views[0],
        receipt=receipt.code,
        voted=True,
        as_member=principal,
    )


@participant_page
async def my_ballots(request: Request, session: Session, participant: Participant) -> Response:
    """This phone's ballots for one poll: its own, and one per proxy it holds."""
    poll_id = int_param(request, "poll_id")
    async with app_state(request).db.session() as db:
        views = await polls.poll_views(
            db=db, session_id=key(session), include_drafts=False, poll_ids=[poll_id]
        )
        if not views:
            raise NotFound(N_("This poll does not exist in this session."))
        signed = await polls.signed(db=db, voter=participant)
        identities = await polls.identities(db=db, voter=participant)
        withdrawn = (
            await proxies.withdrawn_from(
                db=db, session_id=key(session), holder_id=participant.member_id
            )
            if participant.member_id is not None
            else []
        )
    return render(
        request,
        "partials/ballots.html",
        session=session,
        view=views[0],
        identities=identities,
        signed=signed,
        withdrawn=withdrawn,
        is_member=participant.member_id is not None,
    )


@facilitator_action
async def record_proxy(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    async with app_state(request).db.write() as db:
        await proxies.record(
            db=db,
            facilitator=facilitator,
            session_id=session_id,
            principal_number=field(form, "principal"),
            holder_number=field(form, "holder"),
        )
    return go_to(request, url("console", session_id=session_id) + "#proxies")


@facilitator_action
async def revoke_proxy(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    session_id = int_param(request, "session_id")
    async with app_state(request).db.write() as db:
        await proxies.revoke(
            db=db,
            facilitator=facilitator,
            session_id=session_id,
            proxy_id=int_param(request, "proxy_id"),
        )
    return go_to(request, url("console", session_id=session_id) + "#proxies")


@public_action
async def declare_proxy(request: Request, form: FormData) -> Response:
    """A member gives their proxy, proving who they are with their own voting code."""
    async with app_state(request).db.write() as db:
        session = await projects.session_by_code(db=db, code=request.path_params["code"])
        proxy = await proxies.declare(
            db=db,
            session=session,
            voting_code=field(form, "voting_code"),
            holder_number=field(form, "holder"),
        )
        holder = await db.get(Member, proxy.holder_id)
    return render(request, "participant/proxy_given.html", session=session, holder=holder)


async def _closed_poll(request: Request) -> tuple[Session, polls.PollView, bool]:
    """A closed poll whose result may be shown, and whether the session's facilitator
    asks: they see it at once, the others once a vote step on it (if one is running)
    has revealed it."""
    facilitator = await current_facilitator(request)
    async with app_state(request).db.session() as db:
        session = await projects.session_by_code(db=db, code=request.path_params["code"])
        views = await polls.poll_views(
            db=db,
            session_id=key(session),
            include_drafts=False,
            poll_ids=[int_param(request, "poll_id")],
        )
        stage = await agenda.stage_of(db, session)
        project = await db.get(Project, session.project_id)
    if not views:
        raise NotFound(N_("This poll does not exist in this session."))
    if views[0].poll.closed_at is None:
        raise Forbidden(N_("The result is shown once the poll is closed."))
    runs_it = facilitator is not None and project is not None and project.owner_id == facilitator.id
    if stage.hides_poll(views[0].id, views[0].poll.closed_at) and not runs_it:
        raise Forbidden(N_("The facilitator has not revealed the results yet."))
    return session, views[0], runs_it


@public_page
async def result_page(request: Request) -> Response:
    session, view, runs_it = await _closed_poll(request)
    async with app_state(request).db.session() as db:
        poll = await db.get(Poll, view.id)
        assert poll is not None
        receipts = await polls.counted_receipts(db=db, poll=poll)
        named = await polls.named_ballots(db=db, poll=poll)
        earlier = [
            (p, json.loads(p.result) if p.result else None)
            for p in await polls.rounds(db=db, poll=poll)
        ]
    return render(
        request,
        "polls/result.html",
        session=session,
        view=view,
        receipts=receipts,
        named=named,
        earlier_rounds=earlier,
        runs_it=runs_it,
    )


@public_page
async def ballot_export(request: Request) -> Response:
    """The anonymised ballots of a closed poll: recount them with `cocreate recount`.
    Those of a secret poll in which a college cast one or two ballots go to its
    facilitator only: the file would tell those members' votes apart."""
    _, view, runs_it = await _closed_poll(request)
    if view.ballots_for_facilitator_only and not runs_it:
        raise Forbidden(
            N_(
                "The ballots of this poll are kept for its facilitator: a college cast fewer "
                "than %(min)d ballots, and the file would tell its members' votes apart. "
                "Ask the facilitator for a recount."
            ),
            min=voting.SMALL_COLLEGE,
        )
    async with app_state(request).db.session() as db:
        data = await polls.ballot_file(db, view.poll)
    return Response(
        data,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="poll-{view.id}-ballots.json"'},
    )
