"""The facilitator's hand on the room: approve what waits under pre-moderation, pin,
hide and restore, correct typos (the author's words are kept), merge duplicates, link
ideas to needs, lock the room, remove a participant.

Each is one transaction with its event, like every change to a live session.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import needs
from cocreate.errors import Conflict, Invalid, NotFound
from cocreate.events import (
    ProposalApproved,
    ProposalChanged,
    ProposalHidden,
    ProposalMerged,
    ProposalRestored,
    RoomChanged,
    SessionEvent,
)
from cocreate.figures import collation_key
from cocreate.i18n import N_
from cocreate.journal import record_event, session_change
from cocreate.models import (
    MAX_PROPOSAL_CHARS,
    Comment,
    Decision,
    Facilitator,
    Participant,
    Proposal,
    ProposalKind,
    ProposalNeed,
    ProposalReaction,
    ProposalRevision,
    Vote,
    clean_text,
    utcnow,
)
from cocreate.projects import session_for
from cocreate.proposals import proposal_in


async def approve(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, proposal_id: int
) -> SessionEvent | None:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        proposal = await proposal_in(db, session, proposal_id)
        if not proposal.pending:
            await db.rollback()
            return None
        proposal.pending = False
        db.add(proposal)
        return await record_event(db, session_id, seq, ProposalApproved, proposal_id)


async def set_pinned(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    proposal_id: int,
    pinned: bool,
) -> SessionEvent | None:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        proposal = await proposal_in(db, session, proposal_id)
        if (proposal.pinned_at is not None) == pinned:
            await db.rollback()
            return None
        proposal.pinned_at = utcnow() if pinned else None
        db.add(proposal)
        return await record_event(db, session_id, seq, ProposalChanged, proposal_id)


async def set_hidden(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    proposal_id: int,
    hidden: bool,
) -> SessionEvent | None:
    """Hide or restore a proposal; None when it already was so (nothing to tell)."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        proposal = await proposal_in(db, session, proposal_id)
        if (proposal.hidden_at is not None) == hidden:
            await db.rollback()
            return None
        proposal.hidden_at = utcnow() if hidden else None
        db.add(proposal)
        kind = ProposalHidden if hidden else ProposalRestored
        return await record_event(db, session_id, seq, kind, proposal_id)


async def edit_text(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    proposal_id: int,
    text: str,
) -> SessionEvent | None:
    """Correct a proposal's text; the text it replaces is kept in its history."""
    text = clean_text(
        text,
        max_chars=MAX_PROPOSAL_CHARS,
        empty=N_("A proposal cannot be empty: hide it instead."),
        too_long=N_("A proposal has at most %(max)d characters (yours has %(count)d)."),
    )
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        proposal = await proposal_in(db, session, proposal_id)
        if proposal.text == text:
            await db.rollback()
            return None
        decided = await db.exec(select(Decision.id).where(Decision.proposal_id == proposal_id))
        if decided.first() is not None:
            raise Conflict(N_("A decision was recorded on this text: it can no longer change."))
        db.add(ProposalRevision(proposal_id=proposal_id, text=proposal.text))
        proposal.text = text
        proposal.edited_at = utcnow()
        db.add(proposal)
        return await record_event(db, session_id, seq, ProposalChanged, proposal_id)


async def merge(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    duplicate_id: int,
    into_id: int,
) -> SessionEvent:
    """Merge a duplicate into another proposal of the same kind.

    The duplicate leaves the walls but is kept: its author is credited on the proposal
    it joins, which also takes its comments, reactions, needs and current votes. Where
    someone voted (or reacted) on both, their vote on the kept proposal stands and the
    other is superseded, so nobody counts twice."""
    if duplicate_id == into_id:
        raise Invalid(N_("Choose two different proposals to merge."))
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        duplicate = await proposal_in(db, session, duplicate_id)
        kept = await proposal_in(db, session, into_id)
        if duplicate.merged_into_id is not None or kept.merged_into_id is not None:
            raise Conflict(N_("This proposal was merged into another one."))
        if duplicate.kind != kept.kind:
            raise Invalid(N_("A need merges with a need, a proposal with a proposal."))
        decided = await db.exec(
            select(Decision.id).where(col(Decision.proposal_id).in_([duplicate_id, into_id]))
        )
        if decided.first() is not None:
            raise Conflict(N_("A decision was recorded on one of them: they can no longer merge."))
        now = utcnow()
        await db.exec(
            sa.update(Comment)
            .where(col(Comment.proposal_id) == duplicate_id)
            .values(proposal_id=into_id)
        )
        voters_of_kept = select(Vote.participant_id).where(
            Vote.proposal_id == into_id, col(Vote.superseded_at).is_(None)
        )
        await db.exec(
            sa.update(Vote)
            .where(
                col(Vote.proposal_id) == duplicate_id,
                col(Vote.superseded_at).is_(None),
                col(Vote.participant_id).in_(voters_of_kept),
            )
            .values(superseded_at=now)
        )
        await db.exec(
            sa.update(Vote)
            .where(col(Vote.proposal_id) == duplicate_id, col(Vote.superseded_at).is_(None))
            .values(proposal_id=into_id)
        )
        reacted_on_kept = select(ProposalReaction.participant_id).where(
            ProposalReaction.proposal_id == into_id
        )
        await db.exec(
            sa.delete(ProposalReaction).where(
                col(ProposalReaction.proposal_id) == duplicate_id,
                col(ProposalReaction.participant_id).in_(reacted_on_kept),
            )
        )
        await db.exec(
            sa.update(ProposalReaction)
            .where(col(ProposalReaction.proposal_id) == duplicate_id)
            .values(proposal_id=into_id)
        )
        if kept.kind == ProposalKind.IDEA:
            await _move_links(db, duplicate_id, into_id)
        else:  # ideas answering the duplicate need now answer the kept one
            await _move_need(db, duplicate_id, into_id)
        duplicate.merged_into_id = into_id
        db.add(duplicate)
        return await record_event(db, session_id, seq, ProposalMerged, duplicate_id)


async def _move_links(db: AsyncSession, duplicate_id: int, into_id: int) -> None:
    kept_needs = set(
        await db.exec(select(ProposalNeed.need_id).where(ProposalNeed.proposal_id == into_id))
    )
    for need_id in (
        await db.exec(select(ProposalNeed.need_id).where(ProposalNeed.proposal_id == duplicate_id))
    ).all():
        if need_id not in kept_needs:
            db.add(ProposalNeed(proposal_id=into_id, need_id=need_id))


async def _move_need(db: AsyncSession, duplicate_id: int, into_id: int) -> None:
    answering_kept = set(
        await db.exec(select(ProposalNeed.proposal_id).where(ProposalNeed.need_id == into_id))
    )
    for proposal_id in (
        await db.exec(select(ProposalNeed.proposal_id).where(ProposalNeed.need_id == duplicate_id))
    ).all():
        if proposal_id not in answering_kept:
            db.add(ProposalNeed(proposal_id=proposal_id, need_id=into_id))


async def link_need(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    proposal_id: int,
    need_id: int,
) -> SessionEvent | None:
    """Say that a proposal answers a need the room sees (the facilitator's call, on the
    console)."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        proposal = await proposal_in(db, session, proposal_id)
        # Hidden or waiting needs are refused: the room would read them on the idea.
        refused = needs.refusal(await db.get(Proposal, need_id), session_id)
        if refused is not None:
            raise refused
        if proposal.kind != ProposalKind.IDEA:
            raise Invalid(N_("Only a proposal answers needs."))
        if await db.get(ProposalNeed, (proposal_id, need_id)) is not None:
            await db.rollback()
            return None
        db.add(ProposalNeed(proposal_id=proposal_id, need_id=need_id))
        return await record_event(db, session_id, seq, ProposalChanged, proposal_id)


async def set_room(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    locked: bool | None = None,
    premoderation: bool | None = None,
) -> SessionEvent | None:
    """Lock or unlock the room, switch pre-moderation on or off."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        changed = False
        if locked is not None and (session.locked_at is not None) != locked:
            session.locked_at = utcnow() if locked else None
            changed = True
        if premoderation is not None and session.premoderation != premoderation:
            session.premoderation = premoderation
            changed = True
        if not changed:
            await db.rollback()
            return None
        db.add(session)
        return await record_event(db, session_id, seq, RoomChanged, session_id)


async def remove_participant(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, participant_id: int
) -> SessionEvent | None:
    """Remove someone from the session: they can no longer act; what they sent stays
    (hide it separately if it must go)."""
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (_, seq):
        participant = await db.get(Participant, participant_id, populate_existing=True)
        if participant is None or participant.session_id != session_id:
            raise NotFound(N_("This participant is not in this session."))
        if participant.removed_at is not None:
            await db.rollback()
            return None
        participant.removed_at = utcnow()
        db.add(participant)
        return await record_event(db, session_id, seq, RoomChanged, session_id)


async def participants(*, db: AsyncSession, session_id: int) -> list[Participant]:
    result = await db.exec(
        select(Participant)
        .where(Participant.session_id == session_id)
        .order_by(col(Participant.id))
    )
    return sorted(result.all(), key=lambda p: collation_key(p.display_name))
