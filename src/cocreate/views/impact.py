"""A project's impact: indicators in three families, their measurements drawn as
charts, the decisions they relate to, and what the people concerned answered."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from cocreate import impact, register, surveys
from cocreate.errors import Invalid
from cocreate.i18n import N_
from cocreate.models import Facilitator, IndicatorFamily, whole_number
from cocreate.urls import url
from cocreate.views.access import facilitator_action, public_page
from cocreate.web import (
    app_state,
    current_facilitator,
    day_field,
    field,
    int_param,
    render,
    see_other,
)


@public_page
async def impact_page(request: Request) -> Response:
    """Indicators and answers: the facilitator always, anyone once decisions are public."""
    reader = await current_facilitator(request)
    async with app_state(request).db.session() as db:
        found = await register.read(
            db=db, project_id=int_param(request, "project_id"), reader=reader
        )
        indicators = await impact.indicators_of(db, found.project)
        answered = await surveys.results_of(db, [e.decision.id or 0 for e in found.entries])
    entries = {e.decision.id: e for e in found.entries}
    return render(
        request,
        "impact.html",
        project=found.project,
        indicators=indicators,
        entries=found.entries,
        answered=[(entries[decision_id], results) for decision_id, results in answered.items()],
        is_owner=reader is not None and reader.id == found.project.owner_id,
        families=list(IndicatorFamily),
        family_labels=impact.FAMILY_LABELS,
        family_hints=impact.FAMILY_HINTS,
        rating_labels=surveys.RATING_LABELS,
        today=app_state(request).templates.today(),
    )


def _required_day(form: FormData, name: str) -> date:
    day = day_field(form, name)
    if day is None:
        raise Invalid(N_("Give the date of the measurement."))
    return day


def _back(request: Request, anchor: str = "") -> Response:
    return see_other(url("impact", project_id=int_param(request, "project_id")) + anchor)


@facilitator_action
async def add_indicator(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    async with app_state(request).db.write() as db:
        indicator = await impact.add_indicator(
            db=db,
            facilitator=facilitator,
            project_id=int_param(request, "project_id"),
            family=impact.parse_family(field(form, "family")),
            name=field(form, "name"),
            unit=field(form, "unit"),
            baseline=field(form, "baseline"),
            target=field(form, "target"),
        )
    return _back(request, f"#indicator-{indicator.id}")


@facilitator_action
async def add_measurement(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    async with app_state(request).db.write() as db:
        await impact.record_measurement(
            db=db,
            facilitator=facilitator,
            project_id=int_param(request, "project_id"),
            indicator_id=int_param(request, "indicator_id"),
            measured_on=_required_day(form, "measured_on"),
            value=field(form, "value"),
            note=field(form, "note"),
        )
    return _back(request, f"#indicator-{int_param(request, 'indicator_id')}")


@facilitator_action
async def link_decisions(request: Request, form: FormData, facilitator: Facilitator) -> Response:
    ids = []
    for raw in form.getlist("decision"):
        number = whole_number(raw) if isinstance(raw, str) else None
        if number is None:
            raise Invalid(N_("Choose decisions of this project."))
        ids.append(number)
    async with app_state(request).db.write() as db:
        await impact.link_decisions(
            db=db,
            facilitator=facilitator,
            project_id=int_param(request, "project_id"),
            indicator_id=int_param(request, "indicator_id"),
            decision_ids=ids,
        )
    return _back(request, f"#indicator-{int_param(request, 'indicator_id')}")
