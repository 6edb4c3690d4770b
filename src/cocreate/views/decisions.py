"""A project's decision register: every decision, where it came from, where it stands.

The facilitator records decisions taken outside a vote, corrects entries with new ones
and writes the follow-up; once the register is published, anyone can read it.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from cocreate import follow_up, register, surveys
from cocreate.errors import Forbidden, Invalid
from cocreate.i18n import N_
from cocreate.models import Facilitator, FollowUpStatus, Outcome, key, whole_number
from cocreate.urls import url
from cocreate.views.access import facilitator_action, public_page
from cocreate.web import (
    app_state,
    current_facilitator,
    day_field,
    field,
    int_param,
    public_url,
    render,
    see_other,
)


async def _register(request: Request) -> tuple[register.Register, bool]:
    reader = await current_facilitator(request)
    async with app_state(request).db.session() as db:
        found = await register.read(
            db=db, project_id=int_param(request, "project_id"), reader=reader
        )
    return found, reader is not None and reader.id == found.project.owner_id


@public_page
async def register_page(request: Request) -> Response:
    """A project's decisions, newest first: its facilitator always, anyone once published."""
    found, is_owner = await _register(request)
    return render(
        request,
        "decisions.html",
        project=found.project,
        entries=found.entries,
        verification=found.verification,
        is_owner=is_owner,
        today=app_state(request).templates.today(),
        outcomes=list(Outcome),
    )


@public_page
async def decision_page(request: Request) -> Response:
    """One entry: its provenance, its seal, its corrections and its follow-up."""
    # The whole register: the page states whether the chain up to this entry holds.
    found, is_owner = await _register(request)
    decision_id = int_param(request, "decision_id")
    entry = found.entry(decision_id)
    if entry.veiled:
        raise Forbidden(N_("The facilitator has not revealed the results yet."))
    async with app_state(request).db.session() as db:
        updates = await follow_up.history(db, decision_id) if entry.follow_up else []
        asked = (await surveys.results_of(db, [decision_id])).get(decision_id, [])
    survey = asked[0].survey if asked and asked[0].survey.closed_at is None else None
    return render(
        request,
        "decision.html",
        project=found.project,
        entry=entry,
        decision=entry.decision,
        updates=updates,
        verification=found.verification,
        is_owner=is_owner,
        today=app_state(request).templates.today(),
        statuses=list(FollowUpStatus),
        status_labels=follow_up.STATUS_LABELS,
        outcomes=list(Outcome),
        survey=survey,
        survey_url=public_url(request, url("survey_page", code=survey.code)) if survey else "",
        asked=asked,
        rating_labels=surveys.RATING_LABELS,
    )


def _status(raw: str) -> FollowUpStatus:
    try:
        return FollowUpStatus(raw)
    except ValueError:
        raise Invalid(N_("Choose a status from the list.")) from None


def _progress(raw: str) -> int:
    value = whole_number(raw.strip().removesuffix("%").strip() or "0")
    if value is None or value > 100:
        raise Invalid(N_("Progress is a percentage, from 0 to 100."))
    return value


@facilitator_action
async def record_call(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    project_id = int_param(request, "project_id")
    async with app_state(request).db.write() as db:
        decision = await register.record_call(
            db=db,
            facilitator=facilitator,
            project_id=project_id,
            text=field(form, "text"),
            outcome=register.parse_outcome(field(form, "outcome")),
            note=field(form, "note"),
        )
    return see_other(url("decision", project_id=project_id, decision_id=key(decision)))


@facilitator_action
async def correct(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    async with app_state(request).db.write() as db:
        decision = await register.record_correction(
            db=db,
            facilitator=facilitator,
            project_id=int_param(request, "project_id"),
            decision_id=int_param(request, "decision_id"),
            text=field(form, "text"),
            outcome=register.parse_outcome(field(form, "outcome")),
            note=field(form, "note"),
        )
    return see_other(url("decision", project_id=decision.project_id, decision_id=key(decision)))


@facilitator_action
async def update_follow_up(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    change = follow_up.Change(
        owner=field(form, "owner"),
        due_on=day_field(form, "due_on"),
        review_on=day_field(form, "review_on"),
        status=_status(field(form, "status")),
        progress=_progress(field(form, "progress")),
        note=field(form, "note"),
    )
    project_id = int_param(request, "project_id")
    decision_id = int_param(request, "decision_id")
    async with app_state(request).db.write() as db:
        await follow_up.update(
            db=db,
            facilitator=facilitator,
            project_id=project_id,
            decision_id=decision_id,
            change=change,
        )
    return see_other(url("decision", project_id=project_id, decision_id=decision_id) + "#follow-up")
