"""The facilitator running a session: its agenda, the timer, the room, moderation.

Every action is a ``@console_action`` (views/access.py): a form post whose change the
domain writes with its event in one transaction, which every screen then follows; the
answer is the console region it changed (htmx), or the console itself (no JS).
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from cocreate import agenda, moderation, projects
from cocreate.errors import Invalid
from cocreate.events import SessionEvent
from cocreate.i18n import N_
from cocreate.models import Facilitator, whole_number
from cocreate.steps import Move
from cocreate.urls import url
from cocreate.views.access import Act, Panel, console_action, facilitator_page
from cocreate.views.facilitator import card_response, console_context
from cocreate.web import app_state, field, int_param, is_htmx, render, see_other


def panel(name: str, *, step_added: bool = False) -> Panel:
    """The console's agenda or room panel, redrawn; the console itself without JS. After
    a step was added, the agenda keeps its "add a step" panel open for the next one."""

    async def respond(request: Request, facilitator: Facilitator) -> Response:
        session_id = int_param(request, "session_id")
        if not is_htmx(request):
            added = "?added=step#step-add" if step_added else f"#{name}"
            return see_other(url("console", session_id=session_id) + added)
        context = await console_context(request, facilitator, session_id)
        return render(request, f"partials/{name}.html", step_added=step_added, **context)

    return respond


async def card(request: Request, facilitator: Facilitator) -> Response:
    return await card_response(
        request, int_param(request, "session_id"), int_param(request, "proposal_id")
    )


AGENDA = panel("agenda")
STEP_ADDED = panel("agenda", step_added=True)
ROOM = panel("room")
WALLS = panel("walls")  # after a merge two cards change: the console redraws its walls


# --- the agenda ------------------------------------------------------------------------


def _draft(form: FormData) -> agenda.StepDraft:
    return agenda.parse_step(
        kind=field(form, "kind"),
        title=field(form, "title"),
        prompt=field(form, "prompt"),
        minutes=field(form, "minutes"),
        auto_close=field(form, "auto_close") == "1",
        poll_id=field(form, "poll_id"),
        live_results=field(form, "live_results") == "1",
    )


@console_action(STEP_ADDED)
async def add_step(a: Act) -> SessionEvent:
    return await agenda.add_steps(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, drafts=[_draft(a.form)]
    )


@console_action(AGENDA)
async def edit_step(a: Act) -> SessionEvent:
    return await agenda.edit_step(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        step_id=a.param("step_id"),
        draft=_draft(a.form),
    )


@console_action(AGENDA)
async def move_step(a: Act) -> SessionEvent | None:
    direction = field(a.form, "direction")
    if direction not in ("up", "down"):
        raise Invalid(N_("Move a step up or down."))
    return await agenda.move_step(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        step_id=a.param("step_id"),
        up=direction == "up",
    )


@console_action(AGENDA)
async def delete_step(a: Act) -> SessionEvent:
    return await agenda.delete_step(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, step_id=a.param("step_id")
    )


@console_action(AGENDA)
async def go(a: Act) -> SessionEvent:
    try:
        move = Move(a.request.path_params["move"])
    except ValueError:
        raise Invalid(N_("Unknown move in the agenda.")) from None
    return await agenda.go(db=a.db, facilitator=a.facilitator, session_id=a.session_id, move=move)


@console_action(AGENDA)
async def timer(a: Act) -> SessionEvent:
    return await agenda.control_timer(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        op=str(a.request.path_params["op"]),
    )


@console_action(AGENDA)
async def reveal(a: Act) -> SessionEvent:
    return await agenda.reveal_results(db=a.db, facilitator=a.facilitator, session_id=a.session_id)


@console_action(AGENDA)
async def save_script(a: Act) -> None:
    await agenda.save_script(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, name=field(a.form, "name")
    )


@console_action(STEP_ADDED)
async def apply_script(a: Act) -> SessionEvent:
    script_id = whole_number(field(a.form, "script_id"))
    if script_id is None:
        raise Invalid(N_("Choose a facilitation script."))
    return await agenda.apply_script(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, script_id=script_id
    )


# --- the room --------------------------------------------------------------------------


@console_action(ROOM)
async def room_settings(a: Act) -> SessionEvent | None:
    return await moderation.set_room(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        locked=a.flag("locked") if "locked" in a.form else None,
        premoderation=a.flag("premoderation") if "premoderation" in a.form else None,
    )


@console_action(ROOM)
async def remove_participant(a: Act) -> SessionEvent | None:
    return await moderation.remove_participant(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        participant_id=a.param("participant_id"),
    )


@facilitator_page
async def people(request: Request, facilitator: Facilitator) -> Response:
    """Who has joined, read now (the console asks when its list is opened)."""
    session_id = int_param(request, "session_id")
    async with app_state(request).db.session() as db:
        session, _ = await projects.session_for(
            db=db, facilitator=facilitator, session_id=session_id
        )
        participants = await moderation.participants(db=db, session_id=session_id)
    return render(request, "partials/people.html", session=session, participants=participants)


# --- moderating proposals --------------------------------------------------------------


@console_action(card)
async def approve(a: Act) -> SessionEvent | None:
    return await moderation.approve(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        proposal_id=a.param("proposal_id"),
    )


@console_action(card)
async def pin(a: Act) -> SessionEvent | None:
    return await _set_pinned(a, pinned=True)


@console_action(card)
async def unpin(a: Act) -> SessionEvent | None:
    return await _set_pinned(a, pinned=False)


async def _set_pinned(a: Act, *, pinned: bool) -> SessionEvent | None:
    return await moderation.set_pinned(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        proposal_id=a.param("proposal_id"),
        pinned=pinned,
    )


@console_action(card)
async def edit_text(a: Act) -> SessionEvent | None:
    return await moderation.edit_text(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        proposal_id=a.param("proposal_id"),
        text=field(a.form, "text"),
    )


def _other_id(form: FormData, name: str, message: str) -> int:
    number = whole_number(field(form, name))
    if number is None:
        raise Invalid(message)
    return number


@console_action(WALLS)
async def merge(a: Act) -> SessionEvent:
    return await moderation.merge(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        duplicate_id=a.param("proposal_id"),
        into_id=_other_id(a.form, "into", N_("Choose the proposal to merge it into.")),
    )


@console_action(card)
async def link_need(a: Act) -> SessionEvent | None:
    return await moderation.link_need(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        proposal_id=a.param("proposal_id"),
        need_id=_other_id(a.form, "need", N_("Choose the need this proposal answers.")),
    )
