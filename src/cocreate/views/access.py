"""Who may call a handler, and what it is handed: the decorators every handler wears.

Every endpoint of the route table (``app.py``) is a function under one of these. The
decorator checks who is calling, refuses the others as the table below says, and hands
the handler what it checked; a form post is handed its form once the CSRF token is
checked, so no handler can forget it.

=========================  ========================================  =====================
decorator                  who may call                              the handler gets
=========================  ========================================  =====================
``@public_page``           anyone                                    request
``@public_action``         anyone, posting a form                    request, form
``@participant_page``      the phone that joined the session of      request, session,
                           ``{code}`` (403 otherwise)                participant
``@participant_action``    the same, posting a form                  request, form,
                                                                     session, participant
``@facilitator_page``      a signed-in facilitator (others are       request, facilitator
                           sent to the sign-in page)
``@facilitator_action``    a signed-in facilitator, posting a form   request, form,
                           (403 otherwise)                           facilitator
``@facilitator_upload(n)`` the same, the form holding one file of    request, form,
                           ``n`` bytes at most                       facilitator
``@facilitator_download``  a signed-in facilitator asking for a      request, facilitator
                           file (403 otherwise, not a sign-in page)
``@console_action(panel)`` as ``@facilitator_action``; one change    ``Act``; returns the
                           to the session ``{session_id}``, written  change's event
                           in one transaction, then the console
                           region ``panel`` redrawn
``@api_read``              an API token (401 otherwise)              request, caller;
                                                                     returns the document
=========================  ========================================  =====================

The participant's pair is defined with the phone's pages (``views/participant.py``),
where a phone is recognised, and ``@api_read`` with the API (``views/api.py``), where a
token is. Two of a participant's posts wear ``@public_action``, the write recognising
the phone itself: a vote on a proposal (its batch reads every voter at once: one read
fewer on the busiest path) and the answer to a questionnaire.

A decorator says *who* is calling, never what they may do to which object: that is the
domain's rule, which refuses a facilitator's change to another's session (403) as it
refuses a vote on a closed proposal. tests/test_authorization_matrix.py holds the whole
policy; tests/test_access.py checks that every route's handler wears one of these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import TypeVar
from urllib.parse import quote

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from cocreate.errors import Forbidden
from cocreate.events import SessionEvent
from cocreate.i18n import N_
from cocreate.models import Facilitator
from cocreate.urls import url
from cocreate.web import (
    app_state,
    current_facilitator,
    field,
    int_param,
    read_form,
    see_other,
)

Endpoint = Callable[[Request], Awaitable[Response]]
PublicAction = Callable[[Request, FormData], Awaitable[Response]]
FacilitatorPage = Callable[[Request, Facilitator], Awaitable[Response]]
FacilitatorAction = Callable[[Request, FormData, Facilitator], Awaitable[Response]]

E = TypeVar("E", bound=Endpoint)
_WORN: dict[object, str] = {}  # endpoint -> the decorator it wears


def wearing(kind: str, endpoint: E) -> E:
    """Note that ``endpoint`` wears the decorator named ``kind`` (see ``worn_by``)."""
    _WORN[endpoint] = kind
    return endpoint


def worn_by(endpoint: object) -> str | None:
    """The decorator of this family an endpoint wears, if any."""
    return _WORN.get(endpoint)


# --- anyone -----------------------------------------------------------------------------


def public_page(handler: Endpoint) -> Endpoint:
    """A page (or a file) anyone may ask for. What it shows may still depend on who asks
    (``current_facilitator``) or on a rule (a register is public once published)."""
    return wearing("public_page", handler)


def public_action(handler: PublicAction) -> Endpoint:
    """A form anyone may post; the handler gets it once its CSRF token is checked."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        return await handler(request, await read_form(request))

    return wearing("public_action", endpoint)


# --- facilitators -----------------------------------------------------------------------


async def _facilitator_or_403(request: Request) -> Facilitator:
    facilitator = await current_facilitator(request)
    if facilitator is None:
        raise Forbidden(N_("Only the session's facilitator can do this."))
    return facilitator


def facilitator_page(handler: FacilitatorPage) -> Endpoint:
    """A page for signed-in facilitators: others are sent to the sign-in form, which
    brings them back here."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        facilitator = await current_facilitator(request)
        if facilitator is None:
            return see_other(url("login_page") + "?next=" + quote(request.url.path))
        return await handler(request, facilitator)

    return wearing("facilitator_page", endpoint)


def facilitator_action(handler: FacilitatorAction) -> Endpoint:
    """A form post for signed-in facilitators: others get 403, not a redirect."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        facilitator = await _facilitator_or_403(request)
        return await handler(request, await read_form(request), facilitator)

    return wearing("facilitator_action", endpoint)


def facilitator_upload(max_bytes: int) -> Callable[[FacilitatorAction], Endpoint]:
    """``@facilitator_action`` for a form holding one file of ``max_bytes`` at most (the
    handler closes the form: the file may be spooled to disk)."""

    def decorate(handler: FacilitatorAction) -> Endpoint:
        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            facilitator = await _facilitator_or_403(request)
            form = await read_form(request, max_files=1, max_part_size=max_bytes)
            return await handler(request, form, facilitator)

        return wearing("facilitator_upload", endpoint)

    return decorate


def facilitator_download(handler: FacilitatorPage) -> Endpoint:
    """A file for signed-in facilitators (minutes, exports): others get 403, as a link
    to a file opens no page to sign in on."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        return await handler(request, await _facilitator_or_403(request))

    return wearing("facilitator_download", endpoint)


# --- the console's actions on one session ------------------------------------------------


@dataclass(frozen=True)
class Act:
    """One facilitator's change to one session, as the domain needs it."""

    db: AsyncSession  # the write transaction the change is made in
    facilitator: Facilitator
    session_id: int
    form: FormData
    request: Request

    def param(self, name: str) -> int:
        return int_param(self.request, name)

    def flag(self, name: str) -> bool:
        return field(self.form, name) == "1"


Change = Callable[[Act], Awaitable[SessionEvent | None]]
Panel = Callable[[Request, Facilitator], Awaitable[Response]]


def console_action(panel: Panel) -> Callable[[Change], Endpoint]:
    """A console button or form changing the session ``{session_id}``: the change is
    written in one transaction (its event reaches every screen once committed), then
    ``panel`` answers with the part of the console it changed."""

    def decorate(change: Change) -> Endpoint:
        @wraps(change)
        async def endpoint(request: Request) -> Response:
            facilitator = await _facilitator_or_403(request)
            form = await read_form(request)
            session_id = int_param(request, "session_id")
            async with app_state(request).db.write() as db:
                await change(Act(db, facilitator, session_id, form, request))
            return await panel(request, facilitator)

        return wearing("console_action", endpoint)

    return decorate
