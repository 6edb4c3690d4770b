"""What happens inside a live session: votes on proposals, moderation, decisions.

Each action is one transaction: it takes the session's next event number first (which
locks the session for writers), checks the rules against fresh state, writes the change
and its ``Event`` row, and commits. Nobody publishes: once the write is on disk, the
writer announces the session changed to every screen (``Database.announce_with``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import agenda, needs, register
from cocreate.database import core
from cocreate.errors import Conflict, Forbidden, Invalid, NotFound, RuleError
from cocreate.events import (
    DecisionRecorded,
    ProposalHidden,
    ProposalRestored,
    SessionEvent,
    VoteCast,
    VoteClosed,
)
from cocreate.i18n import N_
from cocreate.journal import insert_events, next_seq, record_event, session_change
from cocreate.models import (
    MAX_NOTE_CHARS,
    Choice,
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
    Session,
    Vote,
    key,
    utcnow,
)
from cocreate.needs import LinkedNeed
from cocreate.participants import JOIN_FIRST, REMOVED, ensure_open
from cocreate.projects import session_by_code, session_for
from cocreate.proposals import NO_SUCH_PROPOSAL, ensure_visible, proposal_in
from cocreate.steps import Action

# --- votes on proposals ---------------------------------------------------------------


def parse_choice(raw: str) -> Choice:
    try:
        return Choice(raw)
    except ValueError:
        raise Invalid(N_("Choose for, against or abstain.")) from None


@dataclass(frozen=True)
class CastVote:
    """A vote as it was committed, with what the voter's phone redraws from it. No
    event: the voter's current vote already had this choice, and nothing was written
    (a phone retrying a vote whose answer it never got counts it once)."""

    event: SessionEvent | None
    session: Session
    stage: agenda.Stage
    proposal: Proposal  # the phone redraws its buttons; the tally reaches screens by broadcast


@dataclass(frozen=True)
class VoteOnProposal:
    """A phone's vote on a proposal, as its request asked for it (not a poll's ballot)."""

    code: str  # the session's join code, from the URL
    voter_in: Callable[[int], int | None]  # the phone's participant in a session, if any
    proposal_id: int
    choice: Choice


async def vote_all(
    db: AsyncSession, ballots: Sequence[VoteOnProposal]
) -> list[CastVote | RuleError]:
    """Cast many votes in one write (each ballot's outcome, in order); a change of mind
    supersedes the voter's current vote, never overwrites it.

    Each ballot meets the rules of a vote cast alone (the session open, its step
    allowing votes, the voter in it and not removed, the proposal visible and its vote
    open), read once for all; a refused ballot gets its own error and the others are
    cast. Each vote has its event, numbered in the order the ballots came.
    """
    by_code: dict[str, dict[int, VoteOnProposal]] = defaultdict(dict)
    for index, ballot in enumerate(ballots):
        by_code[ballot.code][index] = ballot
    outcomes: dict[int, CastVote | RuleError] = {}
    for code, in_session in by_code.items():
        outcomes.update(await _vote_in(db, code, in_session))
    await db.commit()
    return [outcomes[index] for index in range(len(ballots))]


@dataclass(frozen=True)
class _Accepted:
    ballot: VoteOnProposal
    voter_id: int
    proposal: Proposal


async def _vote_in(
    db: AsyncSession, code: str, ballots: dict[int, VoteOnProposal]
) -> dict[int, CastVote | RuleError]:
    try:
        # Locked first (PostgreSQL's row; on SQLite the writer holds the file's lock), so
        # the rules read below cannot change before the votes are written.
        session = await session_by_code(db=db, code=code, lock=True)
        ensure_open(session)
        stage = await agenda.require(db, session, Action.VOTE)
    except RuleError as refused:
        return dict.fromkeys(ballots, refused)
    checked = await _check_ballots(db, session, ballots)
    accepted = await _changes(
        db, {index: it for index, it in checked.items() if isinstance(it, _Accepted)}
    )
    events = await _write_votes(db, session, accepted)
    return {
        index: CastVote(events.get(index), session, stage, it.proposal)
        if isinstance(it, _Accepted)
        else it
        for index, it in checked.items()
    }


async def _changes(db: AsyncSession, accepted: dict[int, _Accepted]) -> dict[int, _Accepted]:
    """The ballots that change their voter's current vote, in order: a ballot with the
    choice already current (a second tap, a phone retrying a vote whose answer was lost)
    is answered as cast and writes nothing."""
    if not accepted:
        return accepted
    pairs = {(key(it.proposal), it.voter_id) for it in accepted.values()}
    current: dict[tuple[int, int], str] = {
        (proposal_id, voter_id): choice
        for proposal_id, voter_id, choice in await db.exec(
            select(Vote.proposal_id, Vote.participant_id, Vote.choice).where(
                sa.tuple_(col(Vote.proposal_id), col(Vote.participant_id)).in_(list(pairs)),
                col(Vote.superseded_at).is_(None),
            )
        )
    }
    changes = {}
    for index, it in accepted.items():
        pair = (key(it.proposal), it.voter_id)
        if current.get(pair) != it.ballot.choice:
            current[pair] = it.ballot.choice
            changes[index] = it
    return changes


async def _check_ballots(
    db: AsyncSession, session: Session, ballots: dict[int, VoteOnProposal]
) -> dict[int, _Accepted | RuleError]:
    session_id = key(session)
    voter_ids = {index: ballot.voter_in(session_id) for index, ballot in ballots.items()}
    # Voter id -> when removed (None: taking part), in a plain read.
    voters: dict[int, datetime | None] = {
        voter_id: removed_at
        for voter_id, removed_at in await core(
            db,
            sa.select(col(Participant.id), col(Participant.removed_at)).where(
                col(Participant.id).in_(set(voter_ids.values()) - {None}),
                col(Participant.session_id) == session_id,
            ),
        )
    }
    proposals = {
        proposal.id: proposal
        for proposal in await db.exec(
            select(Proposal)
            .where(
                col(Proposal.id).in_({b.proposal_id for b in ballots.values()}),
                Proposal.session_id == session_id,
            )
            .execution_options(populate_existing=True)
        )
    }
    checked: dict[int, _Accepted | RuleError] = {}
    for index, ballot in ballots.items():
        voter_id = voter_ids[index]
        proposal = proposals.get(ballot.proposal_id)
        try:
            if voter_id is None or voter_id not in voters:
                raise Forbidden(JOIN_FIRST)
            if voters[voter_id] is not None:
                raise Forbidden(REMOVED)
            if proposal is None:
                raise NotFound(NO_SUCH_PROPOSAL)
            ensure_visible(proposal)
            if proposal.vote_closed_at is not None:
                raise Conflict(N_("The vote on this proposal is closed."))
        except RuleError as refused:
            checked[index] = refused
        else:
            checked[index] = _Accepted(ballot, voter_id, proposal)
    return checked


async def _write_votes(
    db: AsyncSession, session: Session, accepted: dict[int, _Accepted]
) -> dict[int, VoteCast]:
    """The votes, the voters' previous votes superseded, and one event per vote: a few
    statements for the whole batch."""
    if not accepted:
        return {}
    session_id, now = key(session), utcnow()
    last = await next_seq(db, session_id, count=len(accepted))
    events = {
        index: VoteCast(seq=last - len(accepted) + 1 + n, subject_id=key(it.proposal))
        for n, (index, it) in enumerate(accepted.items())
    }
    # A voter who changed their mind within the batch: the last ballot is the current vote.
    current = {(it.proposal.id, it.voter_id): index for index, it in accepted.items()}
    await core(
        db,
        sa.update(Vote)
        .where(
            sa.tuple_(col(Vote.proposal_id), col(Vote.participant_id)).in_(list(current)),
            col(Vote.superseded_at).is_(None),
        )
        .values(superseded_at=now),
    )
    await core(
        db,
        sa.insert(Vote),
        [
            {
                "proposal_id": it.proposal.id,
                "participant_id": it.voter_id,
                "choice": it.ballot.choice,
                "cast_at": now,
                "superseded_at": None if current[it.proposal.id, it.voter_id] == index else now,
            }
            for index, it in accepted.items()
        ],
    )
    await insert_events(db, session_id, list(events.values()))
    return events


async def current_choice(
    *, db: AsyncSession, proposal_id: int, participant_id: int
) -> Choice | None:
    result = await db.exec(
        select(Vote.choice).where(
            Vote.proposal_id == proposal_id,
            Vote.participant_id == participant_id,
            col(Vote.superseded_at).is_(None),
        )
    )
    choice = result.first()
    return Choice(choice) if choice is not None else None


async def choices_of(
    *, db: AsyncSession, session_id: int, participant_id: int
) -> dict[int, Choice]:
    """A participant's current vote on each proposal of the session."""
    result = await db.exec(
        select(Vote.proposal_id, Vote.choice)
        .join(Proposal, col(Proposal.id) == col(Vote.proposal_id))
        .where(
            Proposal.session_id == session_id,
            Vote.participant_id == participant_id,
            col(Vote.superseded_at).is_(None),
        )
    )
    return {pid: Choice(choice) for pid, choice in result.all()}


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


async def close_vote(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, proposal_id: int
) -> SessionEvent | None:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    async with session_change(db, session_id) as (session, seq):
        proposal = await proposal_in(db, session, proposal_id)
        if proposal.vote_closed_at is not None:
            await db.rollback()
            return None
        proposal.vote_closed_at = utcnow()
        db.add(proposal)
        return await record_event(db, session_id, seq, VoteClosed, proposal_id)


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


# --- reading: tallies and the wall --------------------------------------------------


@dataclass
class Tally:
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0

    @property
    def total(self) -> int:
        return self.votes_for + self.votes_against + self.votes_abstain

    def share(self, choice: Choice) -> int:
        """Percentage of votes cast for a choice, rounded, for the bars."""
        if not self.total:
            return 0
        count = {
            Choice.FOR: self.votes_for,
            Choice.AGAINST: self.votes_against,
            Choice.ABSTAIN: self.votes_abstain,
        }[choice]
        return round(100 * count / self.total)


async def tallies(*, db: AsyncSession, proposal_ids: Iterable[int]) -> dict[int, Tally]:
    ids = list(proposal_ids)
    counts: dict[int, Tally] = {pid: Tally() for pid in ids}
    if not ids:
        return counts
    rows = await db.exec(
        select(Vote.proposal_id, Vote.choice, sa.func.count())
        .where(col(Vote.proposal_id).in_(ids), col(Vote.superseded_at).is_(None))
        .group_by(col(Vote.proposal_id), col(Vote.choice))
    )
    for pid, choice, n in rows.all():
        setattr(counts[pid], f"votes_{Choice(choice).value}", n)
    return counts


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
