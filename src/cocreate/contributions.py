"""What happens inside a live session: moderation, decisions, the wall.

Each action is one transaction: it takes the session's next event number first (which
locks the session for writers), checks the rules against fresh state, writes the change
and its ``Event`` row, and commits. Nobody publishes: once the write is on disk, the
writer announces the session changed to every screen (``Database.announce_with``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import needs, register
from cocreate.errors import Conflict, Invalid
from cocreate.events import (
    DecisionRecorded,
    ProposalHidden,
    ProposalRestored,
    SessionEvent,
    VoteClosed,
)
from cocreate.i18n import N_
from cocreate.journal import insert_events, next_seq, record_event, session_change
from cocreate.models import (
    MAX_NOTE_CHARS,
    Comment,
    Decision,
    Facilitator,
    Outcome,
    Participant,
    Proposal,
    ProposalKind,
    ProposalReaction,
    ProposalRevision,
    Reaction,
    key,
    utcnow,
)
from cocreate.needs import LinkedNeed
from cocreate.projects import session_for
from cocreate.proposal_votes import Tally, tallies
from cocreate.proposals import proposal_in

# --- facilitator's moderation and decisions -----------------------------------------


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


# --- reading: the wall --------------------------------------------------


@dataclass
class CommentView:
    id: int
    author: str
    text: str


@dataclass
class Reactions:
    agree: int = 0
    disagree: int = 0
    pass_: int = 0

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.pass_


@dataclass
class WallItem:
    """One proposal (or need) as screens show it: text, authors, tally, reactions,
    comments, the needs it answers, what was merged into it, its decision."""

    proposal: Proposal
    author: str
    tally: Tally
    comments: list[CommentView] = field(default_factory=list)
    decision: Decision | None = None
    reactions: Reactions = field(default_factory=Reactions)
    # Authors of duplicates merged into it, and their texts.
    co_authors: list[str] = field(default_factory=list)
    merged_from: list[str] = field(default_factory=list)
    needs: list[tuple[int, str]] = field(default_factory=list)  # those the room sees
    # The console's only: needs it answers that the room does not see (hidden, waiting).
    withheld_needs: list[LinkedNeed] = field(default_factory=list)
    revisions: list[str] = field(default_factory=list)  # earlier texts, oldest first

    @classmethod
    def alone(cls, proposal: Proposal) -> WallItem:
        """The proposal without the rest (a voter's buttons need no more of it)."""
        return cls(proposal, "", Tally())

    @property
    def id(self) -> int:
        assert self.proposal.id is not None
        return self.proposal.id

    @property
    def kind(self) -> str:
        return str(self.proposal.kind)

    @property
    def hidden(self) -> bool:
        return self.proposal.hidden_at is not None

    @property
    def pending(self) -> bool:
        return self.proposal.pending

    @property
    def pinned(self) -> bool:
        return self.proposal.pinned_at is not None

    @property
    def shown(self) -> bool:
        """On phones and the projector (not hidden, not waiting, not merged away)."""
        return not (self.hidden or self.pending or self.proposal.merged_into_id is not None)

    @property
    def vote_open(self) -> bool:
        return self.proposal.vote_closed_at is None

    @property
    def authors(self) -> str:
        return ", ".join(dict.fromkeys([self.author, *self.co_authors]))


async def wall(
    *,
    db: AsyncSession,
    session_id: int,
    include_hidden: bool,
    proposal_ids: Iterable[int] | None = None,
    kind: ProposalKind | None = None,
) -> list[WallItem]:
    """Proposals of a session, waiting ones first, then pinned, then newest, with
    everything screens show of them. ``include_hidden`` (the console) adds hidden and
    waiting ones; merged duplicates live on in the proposal they were merged into."""
    query = (
        select(Proposal, Participant.display_name)
        .join(Participant, col(Participant.id) == col(Proposal.author_id))
        .where(Proposal.session_id == session_id)
        # The console's moderation queue first (phones never see it), then pins.
        .order_by(
            col(Proposal.pending).desc(), col(Proposal.pinned_at).is_(None), col(Proposal.id).desc()
        )
    )
    if proposal_ids is None:
        query = query.where(col(Proposal.merged_into_id).is_(None))
    else:
        query = query.where(col(Proposal.id).in_(list(proposal_ids)))
    if not include_hidden:
        query = query.where(col(Proposal.hidden_at).is_(None), col(Proposal.pending).is_(False))
    if kind is not None:
        query = query.where(Proposal.kind == kind)
    rows = (await db.exec(query)).all()
    items = {p.id: WallItem(proposal=p, author=name, tally=Tally()) for p, name in rows}
    if not items:
        return []
    ids = [pid for pid in items if pid is not None]
    counts = await tallies(db=db, proposal_ids=ids)
    comments: dict[int, list[CommentView]] = defaultdict(list)
    for c, name in (
        await db.exec(
            select(Comment, Participant.display_name)
            .join(Participant, col(Participant.id) == col(Comment.author_id))
            .where(col(Comment.proposal_id).in_(ids))
            .order_by(col(Comment.id))
        )
    ).all():
        assert c.id is not None
        comments[c.proposal_id].append(CommentView(id=c.id, author=name, text=c.text))
    decisions = (await db.exec(select(Decision).where(col(Decision.proposal_id).in_(ids)))).all()
    for d in decisions:
        if d.proposal_id is not None:  # always, given the query; mypy cannot know
            items[d.proposal_id].decision = d
    for pid, reaction, n in (
        await db.exec(
            select(ProposalReaction.proposal_id, ProposalReaction.reaction, sa.func.count())
            .where(col(ProposalReaction.proposal_id).in_(ids))
            .group_by(col(ProposalReaction.proposal_id), col(ProposalReaction.reaction))
        )
    ).all():
        name = "pass_" if reaction == Reaction.PASS else str(reaction)
        setattr(items[pid].reactions, name, n)
    for source, name in (
        await db.exec(
            select(Proposal, Participant.display_name)
            .join(Participant, col(Participant.id) == col(Proposal.author_id))
            .where(col(Proposal.merged_into_id).in_(ids))
            .order_by(col(Proposal.id))
        )
    ).all():
        assert source.merged_into_id is not None
        items[source.merged_into_id].co_authors.append(name)
        if source.hidden_at is None and not source.pending:  # a text the room never saw
            items[source.merged_into_id].merged_from.append(source.text)
    # Every audience's items come from here (live frames draw phones' cards from the
    # console's read): the needs the room does not see are kept apart, for the console.
    for pid, linked in (await needs.answered(db, ids, withheld=include_hidden)).items():
        for need in linked:
            if need.shown:
                items[pid].needs.append((need.id, need.text))
            else:
                items[pid].withheld_needs.append(need)
    if include_hidden:
        for revised, text in (
            await db.exec(
                select(ProposalRevision.proposal_id, ProposalRevision.text)
                .where(col(ProposalRevision.proposal_id).in_(ids))
                .order_by(col(ProposalRevision.id))
            )
        ).all():
            items[revised].revisions.append(text)
    for item in items.values():
        item.tally = counts[item.id]
        item.comments = comments.get(item.id, [])
    return list(items.values())


async def comment_view(*, db: AsyncSession, comment_id: int) -> tuple[int, CommentView] | None:
    """(proposal id, comment) for one comment, as screens show it."""
    row = (
        await db.exec(
            select(Comment, Participant.display_name)
            .join(Participant, col(Participant.id) == col(Comment.author_id))
            .where(Comment.id == comment_id)
        )
    ).first()
    if row is None:
        return None
    c, name = row
    assert c.id is not None
    return c.proposal_id, CommentView(id=c.id, author=name, text=c.text)


async def session_decisions(*, db: AsyncSession, session_id: int) -> list[Decision]:
    result = await db.exec(
        select(Decision)
        .where(Decision.session_id == session_id)
        .order_by(col(Decision.decided_at).desc(), col(Decision.id).desc())
    )
    return list(result.all())
