"""What happens inside a live session: hiding a proposal, recording a decision.

Each action is one transaction: it takes the session's next event number first (which
locks the session for writers), checks the rules against fresh state, writes the change
and its ``Event`` row, and commits. Nobody publishes: once the write is on disk, the
writer announces the session changed to every screen (``Database.announce_with``).
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import register
from cocreate.errors import Conflict, Invalid
from cocreate.events import (
    DecisionRecorded,
    SessionEvent,
    VoteClosed,
)
from cocreate.i18n import N_
from cocreate.journal import insert_events, next_seq, record_event, session_change
from cocreate.models import (
    MAX_NOTE_CHARS,
    Decision,
    Facilitator,
    Outcome,
    key,
    utcnow,
)
from cocreate.projects import session_for
from cocreate.proposal_votes import tallies
from cocreate.proposals import proposal_in

# --- facilitator's moderation and decisions -----------------------------------------


def parse_outcome(raw: str) -> Outcome:
    try:
        return Outcome(raw)
    except ValueError:
        raise Invalid(N_("Choose adopted, rejected or deferred.")) from None


async def record_decision(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    proposal_id: int,
    outcome: Outcome,
    note: str,
) -> tuple[Decision, list[SessionEvent]]:
    """Close the vote if still open and record its outcome, with the counts, as a decision."""
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise Invalid(N_("The note has at most %(max)d characters."), max=MAX_NOTE_CHARS)
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    events: list[SessionEvent] = []
    async with session_change(db, session_id) as (session, seq):
        proposal = await proposal_in(db, session, proposal_id)
        existing = await db.exec(select(Decision.id).where(Decision.proposal_id == proposal_id))
        if existing.first() is not None:
            raise Conflict(N_("A decision is already recorded for this proposal."))
        if proposal.vote_closed_at is None:
            proposal.vote_closed_at = utcnow()
            db.add(proposal)
            closed = VoteClosed(seq=seq, subject_id=proposal_id)
            await insert_events(db, session_id, [closed])
            events.append(closed)
            seq = await next_seq(db, session_id)
        tally = (await tallies(db=db, proposal_ids=[proposal_id]))[proposal_id]
        decision = Decision(
            project_id=session.project_id,
            session_id=session_id,
            proposal_id=proposal_id,
            decided_by_id=key(facilitator),
            proposal_text=proposal.text,
            outcome=outcome,
            votes_for=tally.votes_for,
            votes_against=tally.votes_against,
            votes_abstain=tally.votes_abstain,
            note=note,
            provenance=await register.provenance(db, proposal_ids=[proposal_id]),
        )
        await register.append(db, decision)
        events.append(await record_event(db, session_id, seq, DecisionRecorded, proposal_id))
    await db.refresh(decision)
    return decision, events


async def session_decisions(*, db: AsyncSession, session_id: int) -> list[Decision]:
    result = await db.exec(
        select(Decision)
        .where(Decision.session_id == session_id)
        .order_by(col(Decision.decided_at).desc(), col(Decision.id).desc())
    )
    return list(result.all())
