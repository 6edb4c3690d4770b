"""Participants: joining a session by name, and what every participant action checks first.

A phone that joined stays the same participant (its cookie says so): joining again
renames it, and a participant the facilitator removed cannot come back as someone new.
Phones joining together (a join storm) are written in one transaction; a refusal (an
unknown code, a locked room, a refused name) is its own phone's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import action_keys, agenda
from cocreate.database import core
from cocreate.errors import Conflict, Forbidden, RuleError
from cocreate.i18n import N_
from cocreate.models import MAX_NAME_CHARS, Participant, Project, Session, clean_text, key
from cocreate.projects import session_and_project_by_code
from cocreate.steps import Action

JOIN_FIRST = N_("Join the session with a name first.")
REMOVED = N_("The facilitator has removed you from this session.")


def ensure_open(session: Session) -> None:
    """Refuse any act of the room in a session not started yet, or closed."""
    if session.opened_at is None:
        raise Conflict(N_("This session has not started yet."))
    if session.closed_at is not None:
        raise Conflict(N_("This session is closed."))


async def participant_may(
    db: AsyncSession, session: Session, who: Participant, action: Action
) -> agenda.Stage:
    """The checks every participant action goes through, inside its write; the stage
    that allows the action."""
    ensure_open(session)
    fresh = await db.get(Participant, key(who), populate_existing=True)
    if fresh is None or fresh.removed_at is not None:
        raise Forbidden(REMOVED)
    return await agenda.require(db, session, action)


def ensure_can_join(session: Session) -> None:
    ensure_open(session)
    if session.locked_at is not None:
        raise Conflict(N_("The room is locked: nobody can join now. Ask the facilitator."))


async def join(*, db: AsyncSession, session: Session, display_name: str) -> Participant:
    ensure_can_join(session)
    participant = _newcomer(session, display_name)
    await _insert_participants(db, [participant])
    await db.commit()
    return participant


def _a_stranger(session_id: int) -> int | None:
    return None


@dataclass(frozen=True)
class Arrival:
    """A phone joining a session by name (its join code, as typed in the address)."""

    code: str
    display_name: str
    # The participant this phone already is in a session, if any (its cookie says): a
    # phone joining again is renamed, never made a second participant.
    known_in: Callable[[int], int | None] = _a_stranger
    # The key the phone gave this join (``action_keys``): a join sent twice (a double
    # tap, a retry after no answer) makes one participant, the phone's.
    action_key: str | None = None


@dataclass(frozen=True)
class Arrived:
    session: Session  # as read in the write: at least as recent as the participant
    project: Project
    participant: Participant
    newcomer: bool = True  # False: the phone was already this participant (renamed)


async def join_all(db: AsyncSession, arrivals: Sequence[Arrival]) -> list[Arrived | RuleError]:
    """Phones joining together (a join storm), in one write: each session read once,
    every new participant inserted by one statement. An unknown code, a locked room or
    a refused name refuses its phone alone.

    A phone that already is a participant of the session stays that participant: its
    join changes the name (a typo mended), in a locked room too, and a participant the
    facilitator removed is refused (the same phone cannot come back as someone new)."""
    sessions: dict[str, tuple[Session, Project] | RuleError] = {}
    for code in dict.fromkeys(arrival.code for arrival in arrivals):
        try:
            session, project = await session_and_project_by_code(db=db, code=code)
            ensure_open(session)
        except RuleError as refused:
            sessions[code] = refused
        else:
            sessions[code] = (session, project)
    outcomes: list[Arrived | RuleError] = []
    known: dict[int, int] = {}  # arrival's index -> the participant its phone already is
    for index, arrival in enumerate(arrivals):
        found = sessions[arrival.code]
        if isinstance(found, RuleError):
            outcomes.append(found)
            continue
        try:
            outcomes.append(Arrived(*found, _newcomer(found[0], arrival.display_name)))
        except RuleError as refused:
            outcomes.append(refused)
            continue
        participant_id = arrival.known_in(key(found[0]))
        if participant_id is not None:
            known[index] = participant_id
    claims, again = await _claim_joins(db, arrivals, outcomes, known)
    if known:
        await _rejoin(db, outcomes, known)
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, Arrived) and outcome.newcomer:
            try:
                ensure_can_join(outcome.session)
            except RuleError as refused:
                outcomes[index] = refused
    for index, first in again.items():  # the same join twice in this batch: one person
        outcome = outcomes[first]
        outcomes[index] = (
            replace(outcome, newcomer=False) if isinstance(outcome, Arrived) else outcome
        )
    newcomers = [o.participant for o in outcomes if isinstance(o, Arrived) and o.newcomer]
    await _insert_participants(db, newcomers)  # the twice-sent share the first one's row
    for index, claimed in claims.items():
        outcome = outcomes[index]
        if isinstance(outcome, Arrived):
            await action_keys.settle(db, claimed, participant_id=key(outcome.participant))
    await db.commit()
    return outcomes


async def _claim_joins(
    db: AsyncSession,
    arrivals: Sequence[Arrival],
    outcomes: list[Arrived | RuleError],
    known: dict[int, int],
) -> tuple[dict[int, action_keys.Claim], dict[int, int]]:
    """Claim the keys of the joins about to make a participant. A key claimed before
    (the same join, sent again) names the participant it made: the phone is that one
    (added to ``known``). Returns the first claims, to be settled with the participants
    made, and the joins sent twice within this batch (index -> the first one's)."""
    claims: dict[int, action_keys.Claim] = {}
    again: dict[int, int] = {}
    seen: dict[tuple[int, str], int] = {}
    for index, arrival in enumerate(arrivals):
        outcome = outcomes[index]
        if arrival.action_key is None or index in known or not isinstance(outcome, Arrived):
            continue
        session_id = key(outcome.session)
        first = seen.setdefault((session_id, arrival.action_key), index)
        if first != index:
            again[index] = first
            continue
        claimed = await action_keys.claim(
            db, session_id=session_id, action_key=arrival.action_key, participant_id=None
        )
        if claimed.participant_id is not None:
            known[index] = claimed.participant_id
        else:  # first, or claimed by a join refused then (a locked room): this one's now
            claims[index] = claimed
    return claims, again


async def _rejoin(
    db: AsyncSession, outcomes: list[Arrived | RuleError], known: dict[int, int]
) -> None:
    """Phones that already are participants of the session they join: renamed (or
    refused), in place of the newcomers ``join_all`` drew for them. A cookie naming
    nobody of this session (another database, a participant gone) joins as new."""
    rows = await db.exec(select(Participant).where(col(Participant.id).in_(set(known.values()))))
    present = {key(p): p for p in rows.all()}
    for index, participant_id in known.items():
        arrived = outcomes[index]
        assert isinstance(arrived, Arrived)
        participant = present.get(participant_id)
        if participant is None or participant.session_id != key(arrived.session):
            continue
        if participant.removed_at is not None:
            outcomes[index] = Forbidden(REMOVED)
        elif participant.member_id is not None:
            outcomes[index] = Conflict(N_("A member takes part under their name on the roster."))
        else:
            participant.display_name = arrived.participant.display_name
            db.add(participant)
            outcomes[index] = Arrived(arrived.session, arrived.project, participant, newcomer=False)


def _newcomer(session: Session, display_name: str) -> Participant:
    name = clean_text(
        display_name,
        max_chars=MAX_NAME_CHARS,
        empty=N_("Choose a name that others will see."),
        too_long=N_("This name is too long: at most %(max)d characters."),
    )
    return Participant(session_id=key(session), display_name=name)


async def _insert_participants(db: AsyncSession, participants: list[Participant]) -> None:
    """Plain INSERTs, in one statement, their ids given back in order: the busiest
    write of a join storm, and the ORM's unit of work costs more than the rest of it."""
    if not participants:
        return
    inserted = await core(
        db, _INSERT_PARTICIPANTS, [p.model_dump(exclude={"id"}) for p in participants]
    )
    for participant, participant_id in zip(participants, inserted.scalars(), strict=True):
        participant.id = participant_id


_INSERT_PARTICIPANTS = sa.insert(Participant).returning(
    col(Participant.id), sort_by_parameter_order=True
)


async def participant_in(
    *, db: AsyncSession, session: Session, participant_id: int | None
) -> Participant | None:
    """The participant, if they belong to this session (cookies of other sessions do not)."""
    if participant_id is None:
        return None
    participant = await db.get(Participant, participant_id)
    if participant is None or participant.session_id != session.id:
        return None
    return participant


_PARTICIPANT_OF_SESSION = sa.select(col(Participant.id)).where(
    col(Participant.id) == sa.bindparam("participant_id"),
    col(Participant.session_id) == sa.bindparam("session_id"),
)


async def participant_id_in(
    *, db: AsyncSession, session_id: int, participant_id: int | None
) -> int | None:
    """``participant_in`` for a socket: the id alone, in a plain read."""
    if participant_id is None:
        return None
    found = await core(
        db, _PARTICIPANT_OF_SESSION, {"participant_id": participant_id, "session_id": session_id}
    )
    return found.scalar()


async def participant_count(*, db: AsyncSession, session_id: int) -> int:
    result = await db.exec(
        select(sa.func.count()).select_from(Participant).where(Participant.session_id == session_id)
    )
    return int(result.one())
