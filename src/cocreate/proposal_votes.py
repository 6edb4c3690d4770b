"""Votes on proposals: for, against or abstain on one proposal (consultative), and tallies.

Not a poll's ballot (``polls.py``). A change of mind supersedes the voter's current
vote, never overwrites it. The votes that arrive together are cast together, in one
write (``vote_all``), each refused alone if it must be; the facilitator closes a
proposal's vote.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import agenda
from cocreate.database import core
from cocreate.errors import Conflict, Forbidden, Invalid, NotFound, RuleError
from cocreate.events import SessionEvent, VoteCast, VoteClosed
from cocreate.i18n import N_
from cocreate.journal import insert_events, next_seq, record_event, session_change
from cocreate.models import Choice, Facilitator, Participant, Proposal, Session, Vote, key, utcnow
from cocreate.participants import JOIN_FIRST, REMOVED, ensure_open
from cocreate.projects import session_by_code, session_for
from cocreate.proposals import NO_SUCH_PROPOSAL, ensure_visible, proposal_in
from cocreate.steps import Action


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
