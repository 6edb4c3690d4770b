"""The facilitator running a session: its agenda, the timer, the room, moderation.

Every action is a form post: the domain writes the change and its event, the view
publishes it so every screen follows, then answers with the console region it
changed (htmx) or sends the browser back to the console (no JS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession
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
from cocreate.views.facilitator import (
    card_response,
    console_context,
    facilitator_action,
    facilitator_page,
)
from cocreate.web import app_state, field, int_param, is_htmx, read_form, render, see_other


@dataclass(frozen=True)
class Act:
    """One facilitator action on one session, as the domain needs it."""

    db: AsyncSession
    facilitator: Facilitator
    session_id: int
    form: FormData
    request: Request

    def param(self, name: str) -> int:
        return int_param(self.request, name)

    def flag(self, name: str) -> bool:
        return field(self.form, name) == "1"


Change = Callable[[Act], Awaitable[SessionEvent | None]]
Region = Callable[[Request, Facilitator], Awaitable[Response]]


def action(change: Change, respond: Region) -> Callable[[Request], Awaitable[Response]]:
    """A console form post: apply the change, publish its event, answer with a region."""

    @facilitator_action
    async def handler(request: Request, facilitator: Facilitator) -> Response:
        form = await read_form(request)
        session_id = int_param(request, "session_id")
        state = app_state(request)
        async with state.db.write() as db:
            await change(Act(db, facilitator, session_id, form, request))
        return await respond(request, facilitator)

    return handler


def panel(name: str) -> Region:
    """The console's agenda or room panel, redrawn; the console itself without JS."""

    async def respond(request: Request, facilitator: Facilitator) -> Response:
        session_id = int_param(request, "session_id")
        if not is_htmx(request):
            return see_other(url("console", session_id=session_id) + f"#{name}")
        context = await console_context(request, facilitator, session_id)
        return render(request, f"partials/{name}.html", **context)

    return respond


async def card(request: Request, facilitator: Facilitator) -> Response:
    return await card_response(
        request, int_param(request, "session_id"), int_param(request, "proposal_id")
    )


AGENDA = panel("agenda")
ROOM = panel("room")


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


async def _add_step(a: Act) -> SessionEvent:
    return await agenda.add_steps(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, drafts=[_draft(a.form)]
    )


async def _edit_step(a: Act) -> SessionEvent:
    return await agenda.edit_step(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        step_id=a.param("step_id"),
        draft=_draft(a.form),
    )


async def _move_step(a: Act) -> SessionEvent | None:
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


async def _delete_step(a: Act) -> SessionEvent:
    return await agenda.delete_step(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, step_id=a.param("step_id")
    )


async def _go(a: Act) -> SessionEvent:
    try:
        move = Move(a.request.path_params["move"])
    except ValueError:
        raise Invalid(N_("Unknown move in the agenda.")) from None
    return await agenda.go(db=a.db, facilitator=a.facilitator, session_id=a.session_id, move=move)


async def _timer(a: Act) -> SessionEvent:
    return await agenda.control_timer(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        op=str(a.request.path_params["op"]),
    )


async def _reveal(a: Act) -> SessionEvent:
    return await agenda.reveal_results(db=a.db, facilitator=a.facilitator, session_id=a.session_id)


async def _save_script(a: Act) -> None:
    await agenda.save_script(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, name=field(a.form, "name")
    )


async def _apply_script(a: Act) -> SessionEvent:
    script_id = whole_number(field(a.form, "script_id"))
    if script_id is None:
        raise Invalid(N_("Choose a facilitation script."))
    return await agenda.apply_script(
        db=a.db, facilitator=a.facilitator, session_id=a.session_id, script_id=script_id
    )


add_step = action(_add_step, AGENDA)
edit_step = action(_edit_step, AGENDA)
move_step = action(_move_step, AGENDA)
delete_step = action(_delete_step, AGENDA)
go = action(_go, AGENDA)
timer = action(_timer, AGENDA)
reveal = action(_reveal, AGENDA)
save_script = action(_save_script, AGENDA)
apply_script = action(_apply_script, AGENDA)


# --- the room --------------------------------------------------------------------------


async def _room_settings(a: Act) -> SessionEvent | None:
    return await moderation.set_room(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        locked=a.flag("locked") if "locked" in a.form else None,
        premoderation=a.flag("premoderation") if "premoderation" in a.form else None,
    )


async def _remove_participant(a: Act) -> SessionEvent | None:
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


room_settings = action(_room_settings, ROOM)
remove_participant = action(_remove_participant, ROOM)


# --- moderating proposals --------------------------------------------------------------


async def _approve(a: Act) -> SessionEvent | None:
    return await moderation.approve(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        proposal_id=a.param("proposal_id"),
    )


def _pinning(pinned: bool) -> Change:
    async def change(a: Act) -> SessionEvent | None:
        return await moderation.set_pinned(
            db=a.db,
            facilitator=a.facilitator,
            session_id=a.session_id,
            proposal_id=a.param("proposal_id"),
            pinned=pinned,
        )

    return change


async def _edit_text(a: Act) -> SessionEvent | None:
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


async def _merge(a: Act) -> SessionEvent:
    return await moderation.merge(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        duplicate_id=a.param("proposal_id"),
        into_id=_other_id(a.form, "into", N_("Choose the proposal to merge it into.")),
    )


async def _link_need(a: Act) -> SessionEvent | None:
    return await moderation.link_need(
        db=a.db,
        facilitator=a.facilitator,
        session_id=a.session_id,
        proposal_id=a.param("proposal_id"),
        need_id=_other_id(a.form, "need", N_("Choose the need this proposal answers.")),
    )


async def _wall(request: Request, facilitator: Facilitator) -> Response:
    """After a merge two cards change: the console redraws its walls."""
    return await panel("walls")(request, facilitator)


approve = action(_approve, card)
pin = action(_pinning(True), card)
unpin = action(_pinning(False), card)
edit_text = action(_edit_text, card)
merge = action(_merge, _wall)
link_need = action(_link_need, card)
