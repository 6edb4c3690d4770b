"""Suivi: carrying out what was decided, until it is done or abandoned.

Each decision has at most one follow-up (owner, due date, review date, status, progress)
and every change to it is kept as a dated update, so the project can show where each
decision stands and how it got there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate.errors import Conflict, Invalid
from cocreate.i18n import N_
from cocreate.models import (
    MAX_NOTE_CHARS,
    MAX_OWNER_CHARS,
    Facilitator,
    FollowUp,
    FollowUpStatus,
    FollowUpUpdate,
    Outcome,
    key,
    utcnow,
)
from cocreate.register import decision_in

STATUS_LABELS = {
    FollowUpStatus.PLANNED: N_("Planned"),
    FollowUpStatus.IN_PROGRESS: N_("In progress"),
    FollowUpStatus.DONE: N_("Done"),
    FollowUpStatus.ABANDONED: N_("Abandoned"),
}
FINISHED = frozenset({FollowUpStatus.DONE, FollowUpStatus.ABANDONED})


@dataclass(frozen=True)
class Change:
    """What the facilitator writes in the follow-up form."""

    owner: str
    due_on: date | None
    review_on: date | None
    status: FollowUpStatus
    progress: int  # percent
    note: str  # the dated update; for an abandoned decision, why


def checked(change: Change, previous: FollowUp | None) -> Change:
    """The change as it will be stored, or Invalid naming the broken rule: an abandoned
    decision needs a reason, a done one is carried out in full (100 %)."""
    change = replace(change, owner=change.owner.strip(), note=change.note.strip())
    if len(change.owner) > MAX_OWNER_CHARS:
        raise Invalid(N_("The owner's name has at most %(max)d characters."), max=MAX_OWNER_CHARS)
    if len(change.note) > MAX_NOTE_CHARS:
        raise Invalid(N_("The update has at most %(max)d characters."), max=MAX_NOTE_CHARS)
    if not 0 <= change.progress <= 100:
        raise Invalid(N_("Progress is a percentage, from 0 to 100."))
    newly_abandoned = change.status is FollowUpStatus.ABANDONED and (
        previous is None or previous.status != FollowUpStatus.ABANDONED
    )
    if newly_abandoned and not change.note:
        raise Invalid(N_("Say why the decision is abandoned."))
    if change.status is FollowUpStatus.DONE:
        change = replace(change, progress=100)
    return change


async def update(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    project_id: int,
    decision_id: int,
    change: Change,
) -> FollowUp:
    """Write the decision's follow-up as it now stands, and keep the update."""
    decision = await decision_in(
        db=db, facilitator=facilitator, project_id=project_id, decision_id=decision_id
    )
    if decision.outcome == Outcome.REJECTED:
        raise Conflict(N_("A rejected proposal has nothing to carry out."))
    current = await db.get(FollowUp, decision_id, with_for_update=True)
    change = checked(change, current)
    now = utcnow()
    follow_up = current or FollowUp(decision_id=decision_id)
    follow_up.owner = change.owner
    follow_up.due_on = change.due_on
    follow_up.review_on = change.review_on
    follow_up.status = change.status
    follow_up.progress = change.progress
    follow_up.updated_at = now
    if change.status is FollowUpStatus.ABANDONED and change.note:
        follow_up.reason = change.note
    elif change.status is not FollowUpStatus.ABANDONED:
        follow_up.reason = ""
    db.add(follow_up)
    db.add(
        FollowUpUpdate(
            decision_id=decision_id,
            written_by_id=key(facilitator),
            written_at=now,
            status=change.status,
            progress=change.progress,
            note=change.note,
        )
    )
    await db.commit()
    await db.refresh(follow_up)
    return follow_up


async def history(db: AsyncSession, decision_id: int) -> list[FollowUpUpdate]:
    """The decision's updates, newest first."""
    rows = await db.exec(
        select(FollowUpUpdate)
        .where(FollowUpUpdate.decision_id == decision_id)
        .order_by(col(FollowUpUpdate.written_at).desc(), col(FollowUpUpdate.id).desc())
    )
    return list(rows.all())


def overdue(follow_up: FollowUp | None, today: date) -> bool:
    return (
        follow_up is not None
        and follow_up.status not in FINISHED
        and follow_up.due_on is not None
        and follow_up.due_on < today
    )
