"""Questionnaires on what became of a decision, and the participant's own link.

The facilitator opens and closes them from the decision's page; phones answer at
``/f/CODE``; a participant keeps ``/p/TOKEN`` to be recognised on any phone later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from cocreate import participants, surveys
from cocreate.models import Facilitator, FollowUp, Participant, Project, Session, Survey, key
from cocreate.urls import url
from cocreate.views.access import facilitator_action, public_action, public_page
from cocreate.views.participant import participant_action
from cocreate.web import (
    app_state,
    field,
    int_param,
    public_url,
    qr_svg,
    remember_participant,
    remembered_participant,
    render,
    see_other,
)


async def _survey_action(
    request: Request, facilitator: Facilitator, action: Callable[..., Awaitable[Survey]]
) -> Response:
    """Open or close the decision's questionnaire, then back to the decision's page."""
    project_id, decision_id = int_param(request, "project_id"), int_param(request, "decision_id")
    async with app_state(request).db.write() as db:
        await action(db=db, facilitator=facilitator, project_id=project_id, decision_id=decision_id)
    return see_other(url("decision", project_id=project_id, decision_id=decision_id) + "#survey")


@facilitator_action
async def open_survey(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    return await _survey_action(request, facilitator, surveys.open_survey)


@facilitator_action
async def close_survey(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    return await _survey_action(request, facilitator, surveys.close_survey)


async def _survey_page(request: Request, status_code: int = 200, **extra: object) -> Response:
    async with app_state(request).db.session() as db:
        asked = await surveys.by_code(db, request.path_params["code"])
        participant_id = remembered_participant(request, key(asked.session))
        participant = await participants.participant_in(
            db=db, session=asked.session, participant_id=participant_id
        )
        mine = await surveys.my_answer(db, asked.survey, participant_id) if participant else None
        follow_up = await db.get(FollowUp, key(asked.decision))
    return render(
        request,
        "participant/survey.html",
        status_code=status_code,
        asked=asked,
        decision=asked.decision,
        participant=participant,
        mine=mine,
        follow_up=follow_up,
        ratings=surveys.RATINGS,
        rating_labels=surveys.RATING_LABELS,
        today=app_state(request).templates.today(),
        **extra,
    )


@public_page
async def survey_page(request: Request) -> Response:
    return await _survey_page(request)


# The session's participants answer: the questionnaire's rule recognises them.
@public_action
async def answer_survey(request: Request, form: FormData) -> Response:
    async with app_state(request).db.write() as db:
        asked = await surveys.by_code(db, request.path_params["code"])
        await surveys.answer(
            db=db,
            asked=asked,
            participant_id=remembered_participant(request, key(asked.session)),
            rating=field(form, "rating"),
            comment=field(form, "comment"),
        )
    return see_other(url("survey_page", code=asked.survey.code) + "?thanks=1")


@public_page
async def survey_qr(request: Request) -> Response:
    async with app_state(request).db.session() as db:
        asked = await surveys.by_code(db, request.path_params["code"])
    return await qr_svg(request, public_url(request, url("survey_page", code=asked.survey.code)))


@participant_action
async def make_link(
    request: Request, form: FormData, session: Session, participant: Participant
) -> Response:
    """The participant asks for their own link, to come back on any phone."""
    async with app_state(request).db.write() as db:
        token = await surveys.participant_link(db, key(participant))
    return render(
        request,
        "participant/link.html",
        session=session,
        participant=participant,
        link=public_url(request, url("open_participant_link", token=token)),
    )


@public_page
async def open_link(request: Request) -> Response:
    """A participant's link. On the phone that already is them: what is asked of them
    now. On any other phone, nothing changes yet: a page says whom the phone would
    become (and whom it is now in that session, if anyone), with a button to confirm.
    A link previewed, prefetched, or sent by someone else, makes no phone anyone."""
    token = request.path_params["token"]
    async with app_state(request).db.session() as db:
        participant, session = await surveys.by_link(db, token)
        known = remembered_participant(request, key(session))
        if known != key(participant):
            current = await participants.participant_in(
                db=db, session=session, participant_id=known
            )
            return render(
                request,
                "participant/link_confirm.html",
                session=session,
                participant=participant,
                current=current,
                token=token,
            )
        asked = await surveys.open_surveys_of_session(db, key(session))
        project = await db.get(Project, session.project_id)
    return render(
        request,
        "participant/welcome_back.html",
        session=session,
        project=project,
        participant=participant,
        asked=asked,
    )


@public_action
async def confirm_link(request: Request, form: FormData) -> Response:
    """The phone, asked, becomes the participant whose link it is."""
    token = request.path_params["token"]
    async with app_state(request).db.session() as db:
        participant, session = await surveys.by_link(db, token)
    remember_participant(request, key(session), key(participant))
    return see_other(url("open_participant_link", token=token))
