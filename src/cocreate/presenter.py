"""Presenter mode: the facilitator chooses what the room's projector shows.

By default the projector shows the current step (its walls, polls and decisions, paged
to fit). The facilitator may instead put one thing on it: the join screen, one proposal
with its comments, one poll's turnout or result, or the list of decisions; next and
previous walk through the things of the current step, as slides. The choice is stored
on the session and reaches every projector as an event (``PresenterChanged``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import agenda, polls, wall
from cocreate.errors import Conflict, Invalid
from cocreate.events import PresenterChanged, SessionEvent
from cocreate.i18n import N_
from cocreate.journal import record_event, session_change
from cocreate.models import Facilitator, ProposalKind, Session, key
from cocreate.projects import session_for
from cocreate.steps import StepKind


class View(enum.StrEnum):
    STEP = "step"  # the default: the current step, stored as no choice at all
    JOIN = "join"
    PROPOSAL = "proposal"
    TURNOUT = "turnout"
    RESULT = "result"
    DECISIONS = "decisions"


WITH_SUBJECT = frozenset({View.PROPOSAL, View.TURNOUT, View.RESULT})


@dataclass(frozen=True)
class Shown:
    """One thing the projector may show: a view and, for some, the proposal or poll."""

    view: View
    subject_id: int | None = None


@dataclass(frozen=True)
class Choice:
    """A thing of the current step as the console offers it: what and its label."""

    shown: Shown
    label: str


def shown_of(session: Session) -> Shown:
    """What the projector shows now (the current step when nothing was chosen)."""
    if session.presenting is None:
        return Shown(View.STEP)
    try:
        return Shown(View(session.presenting), session.presenting_id)
    except ValueError:
        return Shown(View.STEP)


async def choices(db: AsyncSession, session: Session) -> list[Choice]:
    """The things of the current step, in the order next and previous walk through
    them: the step itself, then its needs or proposals, its polls, its decisions."""
    session_id = key(session)
    stage = await agenda.stage_of(db, session)
    kind = stage.kind
    found = [Choice(Shown(View.STEP), "")]
    if kind in (None, StepKind.NEEDS):
        for item in await wall.wall(
            db=db, session_id=session_id, include_hidden=False, kind=ProposalKind.NEED
        ):
            found.append(Choice(Shown(View.PROPOSAL, item.id), item.proposal.text))
    if kind not in (StepKind.INFO, StepKind.NEEDS):
        for item in await wall.wall(
            db=db, session_id=session_id, include_hidden=False, kind=ProposalKind.IDEA
        ):
            found.append(Choice(Shown(View.PROPOSAL, item.id), item.proposal.text))
    if kind in (None, StepKind.VOTE):
        step_poll = stage.current.step.poll_id if stage.current else None
        for view in reversed(
            await polls.poll_views(db=db, session_id=session_id, include_drafts=False)
        ):
            if step_poll not in (None, view.id):
                continue
            state = View.TURNOUT if view.state == "open" else View.RESULT
            found.append(Choice(Shown(state, view.id), view.poll.question))
    if kind in (None, StepKind.VOTE, StepKind.DECISION):
        found.append(Choice(Shown(View.DECISIONS), ""))
    return found


async def _check(db: AsyncSession, session: Session, shown: Shown) -> None:
    session_id = key(session)
    if shown.view is View.PROPOSAL:
        items = await wall.wall(
            db=db,
            session_id=session_id,
            include_hidden=False,
            proposal_ids=[shown.subject_id or 0],
        )
        if not items:
            raise Invalid(N_("Choose a proposal the room can see."))
    elif shown.view in (View.TURNOUT, View.RESULT):
        views = await polls.poll_views(
            db=db, session_id=session_id, include_drafts=False, poll_ids=[shown.subject_id or 0]
        )
        if not views:
            raise Invalid(N_("Choose one of the session's open or closed polls."))
        if shown.view is View.TURNOUT and views[0].state != "open":
            raise Conflict(N_("This poll is closed: show its result instead."))
        if shown.view is View.RESULT and views[0].state != "closed":
            raise Conflict(N_("This poll has no result yet: close it first."))


def parse(value: str) -> Shown:
    """A choice from the console's form ("proposal:12", "join"…), or a clear refusal."""
    view, _, subject = value.strip().partition(":")
    try:
        chosen = View(view)
    except ValueError:
        raise Invalid(N_("Choose what the projector shows.")) from None
    if chosen not in WITH_SUBJECT:
        return Shown(chosen)
    if not subject.isdigit() or len(subject) > 12:
        raise Invalid(N_("Choose which proposal or poll the projector shows."))
    return Shown(chosen, int(subject))


async def present(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, shown: Shown
) -> SessionEvent:
    """Put one thing on the projector (``View.STEP``: back to the current step)."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        if session.closed_at is not None:
            raise Conflict(N_("This session is closed."))
        await _check(db, session, shown)
        _store(session, shown)
        db.add(session)
        return await record_event(db, session_id, seq, PresenterChanged, session_id)


async def step_through(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, forward: bool
) -> SessionEvent:
    """The next (or previous) thing of the current step on the projector."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        if session.closed_at is not None:
            raise Conflict(N_("This session is closed."))
        things = [choice.shown for choice in await choices(db, session)]
        current = shown_of(session)
        # From the join screen, or a thing gone since, the walk starts at the step.
        index = things.index(current) + (1 if forward else -1) if current in things else 0
        if not 0 <= index < len(things):
            raise Conflict(
                N_("This is the last thing of this step.")
                if forward
                else N_("This is the first thing of this step.")
            )
        _store(session, things[index])
        db.add(session)
        return await record_event(db, session_id, seq, PresenterChanged, session_id)


def _store(session: Session, shown: Shown) -> None:
    session.presenting = None if shown.view is View.STEP else shown.view.value
    session.presenting_id = shown.subject_id if shown.view in WITH_SUBJECT else None
