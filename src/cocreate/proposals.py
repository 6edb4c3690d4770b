"""Proposals and needs of a session, with the needs an idea answers, comments, reactions.

A need is said by the people concerned; an idea (a proposal) may answer needs the room
sees. A reaction (agree, disagree, pass) is a sense of the room, not a vote: votes on
proposals are ``proposal_votes``'s.

Each action is one transaction: it takes the session's next event number first (which
locks the session for writers), checks the rules against fresh state, writes the change
and its ``Event`` row, and commits. Nobody publishes: once the write is on disk, the
writer announces the session changed to every screen (``Database.announce_with``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import needs
from cocreate.errors import Conflict, Invalid, NotFound
from cocreate.events import CommentAdded, ProposalAdded, ReactionCast, SessionEvent
from cocreate.i18n import N_
from cocreate.journal import record_event, session_change
from cocreate.models import (
    MAX_COMMENT_CHARS,
    MAX_PROPOSAL_CHARS,
    Comment,
    Participant,
    Proposal,
    ProposalKind,
    ProposalNeed,
    ProposalReaction,
    Reaction,
    Session,
    clean_text,
    key,
    utcnow,
)
from cocreate.participants import participant_may
from cocreate.steps import Action

MAX_LINKED_NEEDS = 10

NO_SUCH_PROPOSAL = N_("This proposal does not exist in this session.")


async def propose(
    *,
    db: AsyncSession,
    session: Session,
    author: Participant,
    text: str,
    kind: ProposalKind = ProposalKind.IDEA,
    need_ids: Iterable[int] = (),
) -> tuple[Proposal, SessionEvent]:
    """Put an idea (or a need) on the wall; under pre-moderation it waits for approval."""
    if kind is ProposalKind.NEED:
        text = clean_text(
            text,
            max_chars=MAX_PROPOSAL_CHARS,
            empty=N_("Describe the need before sending it."),
            too_long=N_("A need has at most %(max)d characters (yours has %(count)d)."),
        )
    else:
        text = clean_text(
            text,
            max_chars=MAX_PROPOSAL_CHARS,
            empty=N_("Write your proposal before sending it."),
            too_long=N_("A proposal has at most %(max)d characters (yours has %(count)d)."),
        )
    answers = sorted(set(need_ids))
    if len(answers) > MAX_LINKED_NEEDS:
        raise Invalid(N_("Link a proposal to %(max)d needs at most."), max=MAX_LINKED_NEEDS)
    if answers and kind is ProposalKind.NEED:
        raise Invalid(N_("Only a proposal answers needs."))
    async with session_change(db, key(session)) as (session, seq):
        await participant_may(
            db, session, author, Action.NEED if kind is ProposalKind.NEED else Action.PROPOSE
        )
        await _check_needs(db, session, answers)
        proposal = Proposal(
            session_id=key(session),
            author_id=key(author),
            text=text,
            kind=kind,
            pending=session.premoderation,
        )
        db.add(proposal)
        await db.flush()
        db.add_all(ProposalNeed(proposal_id=key(proposal), need_id=n) for n in answers)
        event = await record_event(db, key(session), seq, ProposalAdded, key(proposal))
    return proposal, event


async def _check_needs(db: AsyncSession, session: Session, need_ids: list[int]) -> None:
    """Refuse, with its reason, a need an idea may not answer: one of another session,
    merged away, hidden, or waiting for approval (the room does not see those)."""
    if not need_ids:
        return
    found = await db.exec(select(Proposal).where(col(Proposal.id).in_(need_ids)))
    by_id = {proposal.id: proposal for proposal in found.all()}
    for need_id in need_ids:
        refused = needs.refusal(by_id.get(need_id), key(session))
        if refused is not None:
            raise refused


async def proposal_in(db: AsyncSession, session: Session, proposal_id: int) -> Proposal:
    """The proposal (or need), read afresh, if it is one of this session's."""
    proposal = await db.get(Proposal, proposal_id, populate_existing=True)
    if proposal is None or proposal.session_id != session.id:
        raise NotFound(NO_SUCH_PROPOSAL)
    return proposal


async def _visible_proposal(db: AsyncSession, session: Session, proposal_id: int) -> Proposal:
    proposal = await proposal_in(db, session, proposal_id)
    ensure_visible(proposal)
    return proposal


def ensure_visible(proposal: Proposal) -> None:
    """Refuse a proposal the room does not see: hidden, merged away or waiting."""
    if proposal.hidden_at is not None:
        raise Conflict(N_("The facilitator has hidden this proposal."))
    if proposal.merged_into_id is not None:
        raise Conflict(N_("This proposal was merged into another one."))
    if proposal.pending:
        raise Conflict(N_("This proposal is waiting for the facilitator's approval."))


async def comment(
    *, db: AsyncSession, session: Session, author: Participant, proposal_id: int, text: str
) -> tuple[Comment, SessionEvent]:
    text = clean_text(
        text,
        max_chars=MAX_COMMENT_CHARS,
        empty=N_("Write your comment before sending it."),
        too_long=N_("A comment has at most %(max)d characters (yours has %(count)d)."),
    )
    async with session_change(db, key(session)) as (session, seq):
        await participant_may(db, session, author, Action.COMMENT)
        await _visible_proposal(db, session, proposal_id)
        new = Comment(proposal_id=proposal_id, author_id=key(author), text=text)
        db.add(new)
        await db.flush()
        event = await record_event(db, key(session), seq, CommentAdded, key(new))
    return new, event


def parse_reaction(raw: str) -> Reaction:
    try:
        return Reaction(raw)
    except ValueError:
        raise Invalid(N_("Choose agree, disagree or pass.")) from None


async def react(
    *,
    db: AsyncSession,
    session: Session,
    who: Participant,
    proposal_id: int,
    reaction: Reaction,
) -> SessionEvent:
    """Agree, disagree or pass on a proposal; a new reaction replaces the previous one."""
    async with session_change(db, key(session)) as (session, seq):
        await participant_may(db, session, who, Action.REACT)
        await _visible_proposal(db, session, proposal_id)
        existing = (
            await db.exec(
                select(ProposalReaction).where(
                    ProposalReaction.proposal_id == proposal_id,
                    ProposalReaction.participant_id == key(who),
                )
            )
        ).first()
        row = existing or ProposalReaction(
            proposal_id=proposal_id, participant_id=key(who), reaction=reaction
        )
        row.reaction = reaction
        row.reacted_at = utcnow()
        db.add(row)
        return await record_event(db, key(session), seq, ReactionCast, proposal_id)


async def reaction_of(
    *, db: AsyncSession, proposal_id: int, participant_id: int
) -> Reaction | None:
    result = await db.exec(
        select(ProposalReaction.reaction).where(
            ProposalReaction.proposal_id == proposal_id,
            ProposalReaction.participant_id == participant_id,
        )
    )
    found = result.first()
    return Reaction(found) if found is not None else None


async def reactions_of(
    *, db: AsyncSession, session_id: int, participant_id: int
) -> dict[int, Reaction]:
    """A participant's current reaction to each proposal of the session."""
    result = await db.exec(
        select(ProposalReaction.proposal_id, ProposalReaction.reaction)
        .join(Proposal, col(Proposal.id) == col(ProposalReaction.proposal_id))
        .where(Proposal.session_id == session_id, ProposalReaction.participant_id == participant_id)
    )
    return {pid: Reaction(reaction) for pid, reaction in result.all()}
