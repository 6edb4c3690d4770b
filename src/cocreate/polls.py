"""Polls in the database: preparing, opening (electorate and colleges frozen, quorum
checked), casting ballots in person or by proxy, closing and counting, consent rounds,
and what screens show of them.

Lifecycle: a facilitator creates a poll (editable while it is a draft), opens it — its
rules and options freeze — and closes it; closing counts the ballots with the pure tally
engine, from the very ballot file that ``ballot_file`` produces, and records the result
as a decision of the project (unless the poll is consultative). ``cocreate recount FILE``
runs the same count on that file.

Secret polls keep who voted (``VoterRegister``) and what was cast in two tables written
in one transaction: while the poll is open the ballot is sealed (``sealed.py``), so that
nothing the database's files keep of that transaction leads to what was cast; at closing
the ballots are opened and written in the order of their content, and the receipts apart
from them. Named polls keep the voter on the ballot, to publish who voted what after
closing.

A consultative poll (a "sondage") is counted and shown the same way, but decides
nothing: closing it records no decision in the register.

Electorate. A poll that is not binding: every participant of the session may vote once; the
electorate size is frozen at closing as the number of participants who joined the
session. A binding poll: the members on the roster when it opens (``PollElector``), each
once, in person or through the holder of their proxy; it opens only with its quorum, which
is counted again at closing (below it, the decision is deferred).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import agenda, proxies, register, roster, voting
from cocreate import ballot_file as ballot_format  # polls.ballot_file writes the file
from cocreate.database import core
from cocreate.errors import Conflict, Forbidden, Invalid, NotFound
from cocreate.events import (
    BallotCast,
    PollChanged,
    PollClosed,
    PollOpened,
    SessionEvent,
    StepChanged,
)
from cocreate.figures import collation_key
from cocreate.i18n import N_
from cocreate.journal import insert_events, next_seq, record_event, session_change
from cocreate.models import (
    MAX_OPTION_CHARS,
    MAX_POLL_OPTIONS,
    MAX_QUESTION_CHARS,
    Ballot,
    BallotReceipt,
    Decision,
    Facilitator,
    Member,
    Organisation,
    Outcome,
    Participant,
    Poll,
    PollElector,
    PollOption,
    Proposal,
    SealedBallot,
    Session,
    Step,
    VoterRegister,
    key,
    utcnow,
)
from cocreate.participants import participant_count, participant_may
from cocreate.projects import session_for
from cocreate.proposals import ensure_visible
from cocreate.sealed import BallotSeal, Unreadable
from cocreate.steps import Action

EXPORT_FORMAT = ballot_format.FORMAT
EXPORT_VERSION = ballot_format.VERSION
MAX_ROUNDS = 50  # consent rounds shown in a poll's history
# In a poll's rules: its facilitator confirmed opening it though a college is small.
SMALL_COLLEGES_CONFIRMED = "small_colleges_confirmed"
RECEIPT_BYTES = 6  # 12 hexadecimal characters: unguessable among a poll's ballots


@dataclass(frozen=True)
class PollDraft:
    """What a facilitator asks for; checked by ``create_poll`` and ``update_poll``."""

    question: str
    method: voting.Method
    rules: dict[str, Any]
    secret: bool
    options: list[str]  # free-text options, in order
    proposal_ids: list[int]  # proposals of the session offered as options, after those
    binding: bool = False  # members only, roster frozen at opening
    consultative: bool = False  # a "sondage": shows its result, records no decision
    quorum_percent: int = 0  # share of members present or represented; 0: no quorum
    # The facilitator ticked "open it even so" next to the list of small colleges.
    small_colleges_confirmed: bool = False


def _rules(draft: PollDraft) -> dict[str, Any]:
    if not 0 <= draft.quorum_percent <= 100:
        raise Invalid(N_("A quorum is a share between 0 and 100 %."))
    if draft.binding and draft.consultative:
        raise Invalid(
            N_(
                "A binding poll decides, a consultative one does not: choose binding or "
                "consultative."
            )
        )
    rules = dict(draft.rules)
    if draft.binding and draft.quorum_percent:
        rules["quorum_percent"] = draft.quorum_percent
    if draft.binding and draft.secret and draft.small_colleges_confirmed:
        rules[SMALL_COLLEGES_CONFIRMED] = True
    return rules


@dataclass(frozen=True)
class Quorum:
    """Members present or represented (by a present proxy holder), against the share the
    rules require."""

    electorate: int
    present: int
    percent: int

    @property
    def needed(self) -> int:
        # Smallest whole number of members reaching the share (exact integer arithmetic).
        return -(-self.electorate * self.percent // 100)

    @property
    def met(self) -> bool:
        return self.present >= self.needed


async def quorum(db: AsyncSession, poll: Poll) -> Quorum:
    """Members of a binding poll's electorate present at the session now."""
    electors = set(
        (await db.exec(select(PollElector.member_id).where(PollElector.poll_id == key(poll)))).all()
    )
    present = await roster.present_members(db=db, session_id=poll.session_id)
    present |= await proxies.represented(db=db, session_id=poll.session_id)
    percent = int(json.loads(poll.rules).get("quorum_percent", 0))
    return Quorum(electorate=len(electors), present=len(electors & present), percent=percent)


def _question(raw: str) -> str:
    question = raw.strip()
    if not question:
        raise Invalid(N_("Write the question the poll asks."))
    if len(question) > MAX_QUESTION_CHARS:
        raise Invalid(N_("A question has at most %(max)d characters."), max=MAX_QUESTION_CHARS)
    return question


async def _option_rows(
    db: AsyncSession, session_id: int, draft: PollDraft
) -> list[tuple[str, int | None]]:
    labels: list[tuple[str, int | None]] = []
    for raw in draft.options:
        label = raw.strip()
        if len(label) > MAX_OPTION_CHARS:
            raise Invalid(N_("An option has at most %(max)d characters."), max=MAX_OPTION_CHARS)
        if label:
            labels.append((label, None))
    for proposal_id in dict.fromkeys(draft.proposal_ids):
        proposal = await db.get(Proposal, proposal_id)
        if proposal is None or proposal.session_id != session_id:
            raise NotFound(N_("This proposal does not exist in this session."))
        ensure_visible(proposal)  # hidden or waiting: the room would read it on the ballot
        labels.append((proposal.text[:MAX_OPTION_CHARS], proposal_id))
    if draft.method in voting.OPTIONLESS:
        return []
    if len(labels) < 2:
        raise Invalid(N_("A poll between options needs at least two options."))
    if len(labels) > MAX_POLL_OPTIONS:
        raise Invalid(N_("A poll has at most %(max)d options."), max=MAX_POLL_OPTIONS)
    if len({label for label, _ in labels}) != len(labels):
        raise Invalid(N_("Two options have the same text."))
    seats = int(draft.rules.get("seats", 1))
    if seats > len(labels):
        raise Invalid(N_("%(seats)d seats to fill need at least %(seats)d options."), seats=seats)
    return labels


async def _draft_poll(
    db: AsyncSession, facilitator: Facilitator, session_id: int, poll_id: int
) -> tuple[Session, Poll]:
    session, _ = await session_for(db=db, facilitator=facilitator, session_id=session_id)
    poll = await db.get(Poll, poll_id, populate_existing=True)
    if poll is None or poll.session_id != session_id:
        raise NotFound(N_("This poll does not exist in this session."))
    return session, poll


async def create_poll(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, draft: PollDraft
) -> tuple[Poll, SessionEvent]:
    await session_for(db=db, facilitator=facilitator, session_id=session_id)
    question = _question(draft.question)
    async with session_change(db, session_id) as (session, seq):
        if session.closed_at is not None:
            raise Conflict(N_("This session is closed."))
        options = await _option_rows(db, session_id, draft)
        poll = Poll(
            session_id=session_id,
            question=question,
            method=draft.method.value,
            rules=voting.canonical(_rules(draft)),
            secret=draft.secret,
            binding=draft.binding,
            consultative=draft.consultative,
        )
        db.add(poll)
        await db.flush()
        for position, (label, proposal_id) in enumerate(options):
            db.add(
                PollOption(
                    poll_id=key(poll), position=position, label=label, proposal_id=proposal_id
                )
            )
        event = await record_event(db, session_id, seq, PollChanged, key(poll))
    return poll, event


async def update_poll(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    poll_id: int,
    draft: PollDraft,
) -> SessionEvent:
    """Change a draft poll. Once open, its rules, options and electorate are frozen."""
    await _draft_poll(db, facilitator, session_id, poll_id)
    question = _question(draft.question)
    async with session_change(db, session_id) as (_, seq):
        poll = await db.get(Poll, poll_id, populate_existing=True)
        assert poll is not None
        if poll.opened_at is not None:
            raise Conflict(
                N_("This poll is open: its rules, options and electorate can no longer change.")
            )
        options = await _option_rows(db, session_id, draft)
        await db.exec(sa.delete(PollOption).where(col(PollOption.poll_id) == poll_id))
        poll.question = question
        poll.method = draft.method.value
        poll.rules = voting.canonical(_rules(draft))
        poll.secret = draft.secret
        poll.binding = draft.binding
        poll.consultative = draft.consultative
        db.add(poll)
        for position, (label, proposal_id) in enumerate(options):
            db.add(
                PollOption(poll_id=poll_id, position=position, label=label, proposal_id=proposal_id)
            )
        return await record_event(db, session_id, seq, PollChanged, poll_id)


@dataclass(frozen=True)
class Opened:
    """A poll just opened: its events, and the step the agenda moved to for the room
    to see it (None: the agenda stayed where it was)."""

    events: list[SessionEvent]
    moved_to: Step | None


async def open_poll(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int, poll_id: int
) -> Opened:
    """Open a poll. A poll is never open where the room cannot see it: if the agenda
    runs a step that does not show polls, it moves to the poll's vote step (the one
    naming it, else one naming no poll) in the same write, as the facilitator who opens
    a poll means the room to vote now; with no such step, the poll stays a draft."""
    await _draft_poll(db, facilitator, session_id, poll_id)
    async with session_change(db, session_id) as (session, seq):
        poll = await db.get(Poll, poll_id, populate_existing=True)
        assert poll is not None
        if session.opened_at is None or session.closed_at is not None:
            raise Conflict(N_("Polls open only while the session is open."))
        if poll.opened_at is not None:
            raise Conflict(N_("This poll is already open."))
        steps = await agenda.steps_of(db, session_id)
        try:
            moved_to = agenda.vote_step_for(steps, session.current_step_id, poll_id)
        except agenda.NoVoteStep:
            current = next(s for s in steps if s.id == session.current_step_id)
            raise Conflict(
                N_(
                    "The agenda is on “%(step)s”, where phones and the projector show no "
                    "poll, and none of its vote steps would show this one. Add a vote step "
                    "for it to the agenda, or move the agenda to a vote step, then open it."
                ),
                step=current.title,
            ) from None
        if poll.binding:
            await _freeze_electorate(db, session, poll)
        poll.opened_at = utcnow()
        db.add(poll)
        if moved_to is None:
            return Opened([await record_event(db, session_id, seq, PollOpened, poll_id)], None)
        agenda.enter(db, session, steps, moved_to)
        events: list[SessionEvent] = [
            PollOpened(seq=seq, subject_id=poll_id),
            StepChanged(seq=await next_seq(db, session_id), subject_id=session_id),
        ]
        await insert_events(db, session_id, events)
        await db.commit()
        return Opened(events, moved_to)


async def _freeze_electorate(db: AsyncSession, session: Session, poll: Poll) -> None:
    """Snapshot the roster as the binding poll's electorate; refuse below the quorum."""
    organisation = await roster.organisation_of_session(db=db, session=session)
    electorate = await roster.members(db=db, organisation=organisation) if organisation else []
    if not electorate:
        raise Conflict(N_("A binding poll needs a member roster: import it first."))
    for member in electorate:
        db.add(PollElector(poll_id=key(poll), member_id=key(member), college_id=member.college_id))
    await db.flush()
    assert organisation is not None
    await _freeze_colleges(db, organisation, poll, electorate)
    counted = await quorum(db, poll)
    if not counted.met:
        raise Conflict(
            N_(
                "Quorum not reached: %(present)d members present out of %(electorate)d, "
                "%(needed)d needed."
            ),
            present=counted.present,
            electorate=counted.electorate,
            needed=counted.needed,
        )


async def _freeze_colleges(
    db: AsyncSession, organisation: Organisation, poll: Poll, electorate: Sequence[Member]
) -> None:
    """A binding poll of an organisation with weighted colleges is counted per college: the
    weights and each college's electorate freeze with the poll's rules. A secret one opens
    with a college of 1 or 2 members only if its facilitator confirmed it when preparing
    it; the confirmation stays in the rules only when it was needed."""
    rules = json.loads(poll.rules)
    confirmed = rules.pop(SMALL_COLLEGES_CONFIRMED, False)
    poll.rules = voting.canonical(rules)
    groups = await roster.colleges(db=db, organisation=organisation)
    if not any(c.weight_percent for c in groups) or poll.method == voting.Method.CONSENT.value:
        return  # consent needs no weights: one objection, from any college, is enough
    if sum(c.weight_percent for c in groups) != 100:
        raise Conflict(N_("College weights must add up to 100 %: set them on the members page."))
    if any(m.college_id is None for m in electorate):
        raise Conflict(N_("Every member needs a college when colleges are weighted."))
    rules["colleges"] = {
        str(key(c)): {
            "name": c.name,
            "weight": c.weight_percent,
            "electorate": sum(1 for m in electorate if m.college_id == c.id),
        }
        for c in groups
    }
    small = [c for c in rules["colleges"].values() if 0 < c["electorate"] < voting.SMALL_COLLEGE]
    if poll.secret and small:
        if not confirmed:
            # Their ballots carry their college: one or two members' votes could be told apart.
            raise Conflict(
                N_(
                    "This secret poll is weighed by college, and these colleges have fewer "
                    "than %(min)d members: %(colleges)s. Their votes could be told apart, so "
                    "it opens only if you confirm it: prepare the poll again and tick the "
                    "confirmation."
                ),
                min=voting.SMALL_COLLEGE,
                colleges=", ".join(f"{c['name']} ({c['electorate']})" for c in small),
            )
        rules[SMALL_COLLEGES_CONFIRMED] = True
    poll.rules = voting.canonical(rules)


async def small_colleges(*, db: AsyncSession, organisation: Organisation) -> list[tuple[str, int]]:
    """The colleges, with their number of members, that would make a secret poll weighed
    by college need the facilitator's confirmation to open: 1 or 2 members."""
    groups = await roster.colleges(db=db, organisation=organisation)
    if not any(c.weight_percent for c in groups):
        return []  # not weighed by college: ballots carry no college
    sizes = await roster.college_sizes(db=db, organisation=organisation)
    return [
        (c.name, sizes.get(key(c), 0))
        for c in groups
        if 0 < sizes.get(key(c), 0) < voting.SMALL_COLLEGE
    ]


async def poll_options(db: AsyncSession, poll_id: int) -> list[PollOption]:
    result = await db.exec(
        select(PollOption).where(PollOption.poll_id == poll_id).order_by(col(PollOption.position))
    )
    return list(result.all())


def ballot_form(poll: Poll, options: Sequence[PollOption]) -> voting.BallotForm:
    return voting.BallotForm(
        method=voting.Method(poll.method),
        rules=json.loads(poll.rules),
        options=[str(key(o)) for o in options],
    )


@dataclass(frozen=True)
class Receipt:
    code: str
    event: SessionEvent


async def cast_ballot(
    *,
    db: AsyncSession,
    session: Session,
    voter: Participant,
    poll_id: int,
    form: voting.Form,
    seal: BallotSeal,
    as_member: int | None = None,
) -> Receipt:
    """Sign the register and drop the ballot in the box, in one transaction.

    A voter has one ballot per poll, final once cast; a second one is refused even when
    both arrive at once (the register's unique key decides). In a binding poll a proxy
    holder casts one ballot per principal, naming them with ``as_member``. A secret
    poll's ballot is sealed with its receipt until the poll closes.
    """
    async with session_change(db, key(session)) as (session, seq):
        poll = await db.get(Poll, poll_id, populate_existing=True)
        if poll is None or poll.session_id != session.id:
            raise NotFound(N_("This poll does not exist in this session."))
        await participant_may(db, session, voter, Action.VOTE)
        if poll.opened_at is None:
            raise Conflict(N_("This poll is not open yet."))
        if poll.closed_at is not None:
            raise Conflict(N_("This poll is closed."))
        shape = ballot_form(poll, await poll_options(db, poll_id))
        content = voting.parse_ballot(shape, form)
        member_id = await _elector(db, poll, voter, as_member) if poll.binding else None
        if member_id is not None and "colleges" in shape.rules:
            # Counted per college: the ballot says which, never who.
            college = await db.exec(
                select(PollElector.college_id).where(
                    PollElector.poll_id == poll_id, PollElector.member_id == member_id
                )
            )
            content = {"college": str(college.one()), "vote": content}
        signed = select(VoterRegister.id).where(VoterRegister.poll_id == poll_id)
        if member_id is None:
            signed = signed.where(
                VoterRegister.participant_id == key(voter), col(VoterRegister.member_id).is_(None)
            )
        else:
            signed = signed.where(VoterRegister.member_id == member_id)
        if (await db.exec(signed)).first() is not None:
            raise Conflict(N_("You have already voted in this poll."))
        db.add(VoterRegister(poll_id=poll_id, participant_id=key(voter), member_id=member_id))
        if poll.secret:
            receipt = _receipt()
            db.add(
                SealedBallot(
                    id=secrets.token_hex(16),
                    poll_id=poll_id,
                    sealed=seal.seal(
                        poll_id=poll_id,
                        capacity=voting.max_ballot_bytes(shape),
                        content=voting.canonical(content),
                        receipt=receipt,
                    ),
                )
            )
        else:
            receipt = await _new_receipt(db, poll_id)
            db.add(BallotReceipt(poll_id=poll_id, code=receipt))
            db.add(
                Ballot(
                    id=secrets.token_hex(16),
                    poll_id=poll_id,
                    content=voting.canonical(content),
                    voter_id=key(voter),
                )
            )
        try:
            event = await record_event(db, key(session), seq, BallotCast, poll_id)
        except IntegrityError:
            raise Conflict(N_("You have already voted in this poll.")) from None
    return Receipt(code=receipt, event=event)


def _receipt() -> str:
    return secrets.token_hex(RECEIPT_BYTES).upper()


async def _new_receipt(db: AsyncSession, poll_id: int) -> str:
    """A receipt code that no other ballot of this poll has (a named poll's receipts are
    stored as they are cast; two alike among 2^48 are unlikely, but not impossible)."""
    while True:
        code = _receipt()
        taken = await db.exec(
            select(BallotReceipt.code).where(
                BallotReceipt.poll_id == poll_id, BallotReceipt.code == code
            )
        )
        if taken.first() is None:
            return code


async def _unseal(db: AsyncSession, poll: Poll, seal: BallotSeal) -> None:
    """At closing, a secret poll's ballot box is opened: its sealed ballots are replaced
    by ballots in the order of their content, each with a new random id, and by receipts
    in the order of their codes, written together, so that none of them keeps the place,
    the transaction or the order in which it was cast."""
    poll_id = key(poll)
    sealed = (
        await db.exec(select(SealedBallot.sealed).where(SealedBallot.poll_id == poll_id))
    ).all()
    try:
        # A few milliseconds per thousand ballots: off the loop, which serves the room.
        opened = await asyncio.to_thread(seal.open_all, poll_id=poll_id, sealed=sealed)
    except Unreadable:
        raise Conflict(
            N_(
                "This poll's ballots were sealed with another secret key: restart the "
                "server with the secret key it had when the poll opened, then close it."
            )
        ) from None
    # Ballots cast before ballots were sealed (a poll open during the upgrade) are
    # rewritten with the others.
    earlier = (await db.exec(select(Ballot.content).where(Ballot.poll_id == poll_id))).all()
    kept = set(
        (await db.exec(select(BallotReceipt.code).where(BallotReceipt.poll_id == poll_id))).all()
    )
    await db.exec(sa.delete(SealedBallot).where(col(SealedBallot.poll_id) == poll_id))
    await db.exec(sa.delete(Ballot).where(col(Ballot.poll_id) == poll_id))
    contents = sorted([content for content, _ in opened] + list(earlier))
    if contents:
        await core(
            db,
            sa.insert(Ballot),
            [
                {"id": secrets.token_hex(16), "poll_id": poll_id, "content": c, "voter_id": None}
                for c in contents
            ],
        )
    receipts = sorted({receipt for _, receipt in opened} - kept)
    if receipts:
        await core(
            db, sa.insert(BallotReceipt), [{"poll_id": poll_id, "code": r} for r in receipts]
        )


async def _elector(db: AsyncSession, poll: Poll, voter: Participant, as_member: int | None) -> int:
    """The member whose vote this is in a binding poll: the voter, or a principal whose
    proxy the voter holds; refused unless that member is in the poll's electorate."""
    member_id = voter.member_id
    if member_id is not None and as_member is not None and as_member != member_id:
        principals = await proxies.principals_of(
            db=db, session_id=poll.session_id, holder_id=member_id
        )
        if as_member not in {key(m) for m in principals}:
            raise Forbidden(N_("You do not hold this member's proxy."))
        member_id = as_member
    if member_id is not None:
        on_roster = await db.exec(
            select(PollElector.id).where(
                PollElector.poll_id == key(poll), PollElector.member_id == member_id
            )
        )
        if on_roster.first() is not None:
            return member_id
    raise Forbidden(
        N_(
            "Only members on the roster when the poll opened vote in it: "
            "join with your voting code."
        )
    )


async def has_voted(*, db: AsyncSession, poll_id: int, participant_id: int) -> bool:
    result = await db.exec(
        select(VoterRegister.id).where(
            VoterRegister.poll_id == poll_id, VoterRegister.participant_id == participant_id
        )
    )
    return result.first() is not None


async def signed(*, db: AsyncSession, voter: Participant) -> set[tuple[int, int | None]]:
    """(poll, member) for every vote this participant signed: member None for their own
    vote, else the principal whose proxy they used."""
    result = await db.exec(
        select(VoterRegister.poll_id, VoterRegister.member_id).where(
            VoterRegister.participant_id == key(voter)
        )
    )
    return {
        (poll_id, None if member_id in (None, voter.member_id) else member_id)
        for poll_id, member_id in result.all()
    }


async def identities(*, db: AsyncSession, voter: Participant) -> list[Member | None]:
    """Whom this phone votes for in binding polls: itself (None), then its principals."""
    if voter.member_id is None:
        return [None]
    principals = await proxies.principals_of(
        db=db, session_id=voter.session_id, holder_id=voter.member_id
    )
    return [None, *principals]


async def turnout(*, db: AsyncSession, poll_id: int) -> int:
    result = await db.exec(
        select(sa.func.count()).select_from(VoterRegister).where(VoterRegister.poll_id == poll_id)
    )
    return int(result.one())


def export_document(
    poll: Poll, options: Sequence[PollOption], contents: Sequence[str], electorate: int | None
) -> dict[str, Any]:
    """The anonymised ballots of a poll, as ``cocreate recount`` reads them.

    Schema (version 1): ``format``, ``version``, ``poll`` (``question``, ``method``,
    ``rules``, ``secret``, ``electorate_size``, ``options``: [{``id``, ``label``}] in the
    poll's order) and ``ballots``: every ballot's canonical content, sorted, so that the
    file says nothing about the order in which they were cast.
    """
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "poll": {
            "question": poll.question,
            "method": poll.method,
            "rules": json.loads(poll.rules),
            "secret": poll.secret,
            "electorate_size": electorate,
            "options": [{"id": str(key(o)), "label": o.label} for o in options],
        },
        "ballots": [json.loads(c) for c in sorted(contents)],
    }


def export_bytes(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def recount(data: bytes) -> voting.Count:
    """Count an exported ballot file, checked by ``cocreate.ballot_file.read``
    (BallotFileError, a ValueError, when it cannot be counted). The lot, if a tie needs one,
    is seeded by the file's SHA-256, so anyone recounting the same file draws the same lot."""
    return ballot_format.count(ballot_format.read(data))


async def ballot_file(db: AsyncSession, poll: Poll) -> bytes:
    options = await poll_options(db, key(poll))
    contents = (await db.exec(select(Ballot.content).where(Ballot.poll_id == key(poll)))).all()
    return export_bytes(export_document(poll, options, list(contents), poll.electorate_size))


async def close_poll(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    poll_id: int,
    seal: BallotSeal,
) -> tuple[Decision | None, SessionEvent]:
    """Close the poll, open its ballot box if secret, count it from its own export, and
    record the decision (None: a consultative poll, which decides nothing)."""
    await _draft_poll(db, facilitator, session_id, poll_id)
    async with session_change(db, session_id) as (session, seq):
        poll = await db.get(Poll, poll_id, populate_existing=True)
        assert poll is not None
        if poll.opened_at is None:
            raise Conflict(N_("This poll was never opened."))
        if poll.closed_at is not None:
            raise Conflict(N_("This poll is already closed."))
        poll.closed_at = utcnow()
        counted_quorum = await quorum(db, poll) if poll.binding else None
        if counted_quorum is not None:
            poll.electorate_size = counted_quorum.electorate
            poll.quorum_met = counted_quorum.met if counted_quorum.percent else None
        else:
            poll.electorate_size = await participant_count(db=db, session_id=session_id)
        if poll.secret:
            await _unseal(db, poll, seal)
        data = await ballot_file(db, poll)
        counted = recount(data)
        poll.result = voting.canonical(counted.as_json())
        poll.ballots_sha256 = hashlib.sha256(data).hexdigest()
        db.add(poll)
        voters = await turnout(db=db, poll_id=poll_id)
        labels = {str(key(o)): o.label for o in await poll_options(db, poll_id)}
        decision = (
            None
            if poll.consultative
            else Decision(
                project_id=session.project_id,
                session_id=session_id,
                poll_id=poll_id,
                decided_by_id=key(facilitator),
                proposal_text=poll.question,
                # Below the quorum the assembly could not decide: the question comes back later.
                outcome=(
                    Outcome.DEFERRED
                    if poll.quorum_met is False
                    else Outcome.ADOPTED
                    if counted.adopted is not False
                    else Outcome.REJECTED
                ),
                votes_for=counted.counts.get("for", 0),
                votes_against=counted.counts.get("against", 0),
                votes_abstain=counted.counts.get("abstain", 0),
                method=poll.method,
                # The options chosen; a motion's "winner" is a choice (for, consent),
                # which the outcome already says.
                summary=""
                if counted.method in voting.OPTIONLESS
                else ", ".join(labels.get(w, w) for w in counted.winners),
                electorate_size=poll.electorate_size,
                turnout=voters,
                quorum_met=poll.quorum_met,
                ballots_sha256=poll.ballots_sha256,
                provenance=await register.poll_provenance(db, poll),
            )
        )
        if decision is not None:  # a consultative poll decides nothing
            await register.append(db, decision)
        event = await record_event(db, session_id, seq, PollClosed, poll_id)
    if decision is not None:
        await db.refresh(decision)
    return decision, event


async def next_consent_round(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    session_id: int,
    poll_id: int,
    question: str,
) -> tuple[Poll, list[SessionEvent]]:
    """After objections, the amended proposal goes to a new consent round, opened at once
    with the same rules; the earlier rounds stay as they were."""
    _, previous = await _draft_poll(db, facilitator, session_id, poll_id)
    if previous.method != voting.Method.CONSENT.value or previous.closed_at is None:
        raise Conflict(N_("A new round follows a closed consent round."))
    if previous.result and json.loads(previous.result).get("adopted"):
        raise Conflict(N_("Consent was given: there is nothing to amend."))
    following = await db.exec(select(Poll.id).where(Poll.previous_id == poll_id))
    if following.first() is not None:
        raise Conflict(N_("This round already has a next round."))
    draft = PollDraft(
        question=question,
        method=voting.Method.CONSENT,
        rules={k: v for k, v in json.loads(previous.rules).items() if k == "quorum_percent"},
        secret=previous.secret,
        options=[],
        proposal_ids=[],
        binding=previous.binding,
        consultative=previous.consultative,
        quorum_percent=int(json.loads(previous.rules).get("quorum_percent", 0)),
    )
    poll, created = await create_poll(
        db=db, facilitator=facilitator, session_id=session_id, draft=draft
    )
    poll.previous_id = poll_id
    db.add(poll)
    await db.commit()
    opened = await open_poll(
        db=db, facilitator=facilitator, session_id=session_id, poll_id=key(poll)
    )
    return poll, [created, *opened.events]


async def rounds(*, db: AsyncSession, poll: Poll) -> list[Poll]:
    """A consent poll's earlier rounds, first round first."""
    chain: list[Poll] = []
    previous_id = poll.previous_id
    while previous_id is not None and len(chain) < MAX_ROUNDS:
        previous = await db.get(Poll, previous_id)
        if previous is None:
            break
        chain.append(previous)
        previous_id = previous.previous_id
    return chain[::-1]


async def session_polls(*, db: AsyncSession, session_id: int) -> list[Poll]:
    result = await db.exec(
        select(Poll).where(Poll.session_id == session_id).order_by(col(Poll.id).desc())
    )
    return list(result.all())


async def counted_receipts(*, db: AsyncSession, poll: Poll) -> list[str]:
    """After closing: every counted receipt code, sorted, without choices."""
    if poll.closed_at is None:
        return []
    result = await db.exec(
        select(BallotReceipt.code)
        .where(BallotReceipt.poll_id == key(poll))
        .order_by(col(BallotReceipt.code))
    )
    return list(result.all())


@dataclass
class PollView:
    """A poll as screens show it."""

    poll: Poll
    options: list[PollOption]
    turnout: int
    result: dict[str, Any] | None  # the stored count, once closed

    @property
    def id(self) -> int:
        return key(self.poll)

    @property
    def method(self) -> voting.Method:
        return voting.Method(self.poll.method)

    @property
    def rules(self) -> dict[str, Any]:
        rules: dict[str, Any] = json.loads(self.poll.rules)
        return rules

    @property
    def state(self) -> str:
        if self.poll.closed_at is not None:
            return "closed"
        return "open" if self.poll.opened_at is not None else "draft"

    @property
    def ballots_for_facilitator_only(self) -> bool:
        """A secret poll whose count withheld a small college's figures: its ballot file
        would tell them, so it goes to the facilitator only (docs/ballot-file.md)."""
        details = (self.result or {}).get("details") or {}
        return self.poll.secret and bool(details.get("small_colleges"))

    def label(self, option_id: str) -> str:
        for option in self.options:
            if str(option.id) == option_id:
                return option.label
        return option_id

    def option_labels(self, option_ids: Sequence[str]) -> list[str]:
        """The options' labels, to be joined as the page's language lists them
        (the ``listing`` filter)."""
        return [self.label(o) for o in option_ids]


async def poll_views(
    *,
    db: AsyncSession,
    session_id: int,
    include_drafts: bool,
    poll_ids: Sequence[int] | None = None,
) -> list[PollView]:
    query = select(Poll).where(Poll.session_id == session_id).order_by(col(Poll.id).desc())
    if not include_drafts:
        query = query.where(col(Poll.opened_at).is_not(None))
    if poll_ids is not None:
        query = query.where(col(Poll.id).in_(list(poll_ids)))
    views = []
    for poll in (await db.exec(query)).all():
        views.append(
            PollView(
                poll=poll,
                options=await poll_options(db, key(poll)),
                turnout=await turnout(db=db, poll_id=key(poll)),
                result=json.loads(poll.result) if poll.result else None,
            )
        )
    return views


async def named_ballots(*, db: AsyncSession, poll: Poll) -> list[tuple[str, Any]]:
    """After a named poll closes: who voted what, by name."""
    if poll.secret or poll.closed_at is None:
        return []
    rows = await db.exec(
        select(Participant.display_name, Ballot.content)
        .join(Participant, col(Participant.id) == col(Ballot.voter_id))
        .where(Ballot.poll_id == key(poll))
        .order_by(col(Participant.id))
    )
    named = [(name, json.loads(content)) for name, content in rows.all()]
    return sorted(named, key=lambda row: collation_key(row[0]))
