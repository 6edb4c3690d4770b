"""A project's decision register: every decision, with where it came from, chained.

Each entry is sealed with the SHA-256 of its content and of the seal of the entry before
it, so editing, deleting or reordering an entry in the database breaks the chain from
that entry on; the project row keeps the register's length and last seal, so removing
the last entries shows too. ``verify`` names the first entry that does not match.

An entry is never edited: a correction is a new entry that names the one it amends.
Whoever can write to the database can still rebuild a whole consistent chain; the seal
of the last entry, printed on the register page and in the minutes, is what a reader
keeps to notice that (this is tamper-evident, not tamper-proof).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import agenda
from cocreate.errors import Conflict, Forbidden, Invalid, NotFound
from cocreate.events import DecisionRecorded, SessionEvent, VoteClosed
from cocreate.i18n import N_
from cocreate.journal import insert_events, next_seq, record_event, session_change
from cocreate.models import (
    GENESIS_HASH,
    MAX_NOTE_CHARS,
    MAX_PROPOSAL_CHARS,
    Comment,
    Decision,
    Facilitator,
    FollowUp,
    Outcome,
    Poll,
    PollOption,
    Project,
    Proposal,
    Session,
    iso_utc,
    key,
    utcnow,
)
from cocreate.needs import answered as answered_needs
from cocreate.needs import withheld_texts
from cocreate.projects import project_for, session_for
from cocreate.proposal_votes import tallies
from cocreate.proposals import proposal_in

# The content an entry's seal covers, in this order of meaning; changing what is sealed
# needs a new format number, and verify must keep reading the old one.
SEAL_FORMAT = 1
FACILITATORS_CALL = "facilitator"  # the method of a decision taken without a vote


def sealed_content(decision: Decision, amends_position: int | None) -> dict[str, Any]:
    """What an entry's seal covers: everything the register shows of it."""
    return {
        "format": SEAL_FORMAT,
        "project": decision.project_id,
        "position": decision.position,
        "session": decision.session_id,
        "proposal": decision.proposal_id,
        "poll": decision.poll_id,
        "amends": amends_position,
        "decided_by": decision.decided_by_id,
        "decided_at": iso_utc(decision.decided_at),
        "text": decision.proposal_text,
        "outcome": str(decision.outcome),
        "votes": [decision.votes_for, decision.votes_against, decision.votes_abstain],
        "method": decision.method,
        "summary": decision.summary,
        "electorate": decision.electorate_size,
        "turnout": decision.turnout,
        "quorum_met": decision.quorum_met,
        "ballots_sha256": decision.ballots_sha256,
        "note": decision.note,
        "provenance": decision.provenance,
    }


def seal(prev_hash: str, content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


async def append(db: AsyncSession, decision: Decision) -> Decision:
    """Give a new decision its place and seal in its project's register, inside the
    caller's write transaction (which commits it). Taking the place is the first write
    to the project's row: two decisions of one project are sealed one after the other."""
    taken = await db.exec(
        sa.update(Project)
        .where(col(Project.id) == decision.project_id)
        .values(register_length=col(Project.register_length) + 1)
        .returning(col(Project.register_length), col(Project.register_head))
    )
    position, head = taken.one()
    amends_position = None
    if decision.amends_id is not None:
        amended = await db.get(Decision, decision.amends_id)
        assert amended is not None
        assert amended.project_id == decision.project_id
        amends_position = amended.position
    # Sealed to the second: what every database stores and gives back alike.
    decision.decided_at = utcnow().replace(microsecond=0)
    decision.position = position
    decision.prev_hash = head
    decision.entry_hash = seal(head, sealed_content(decision, amends_position))
    db.add(decision)
    await db.exec(
        sa.update(Project)
        .where(col(Project.id) == decision.project_id)
        .values(register_head=decision.entry_hash)
    )
    return decision


# --- where a decision came from -------------------------------------------------------


async def provenance(
    db: AsyncSession, *, proposal_ids: Sequence[int], poll: Poll | None = None
) -> str:
    """The chain behind a decision, copied as JSON: the needs each proposal answers (those
    the room sees), the proposals and their comments, then the poll with its rules and
    its result."""
    texts: dict[int, str] = {}
    needs: dict[int, list[str]] = {pid: [] for pid in proposal_ids}
    comments: dict[int, list[str]] = {pid: [] for pid in proposal_ids}
    if proposal_ids:
        for proposal in (
            await db.exec(select(Proposal).where(col(Proposal.id).in_(proposal_ids)))
        ).all():
            texts[key(proposal)] = proposal.text
        # The needs the room sees: hidden or waiting ones are never copied.
        for proposal_id, linked in (await answered_needs(db, proposal_ids, withheld=False)).items():
            needs[proposal_id].extend(need.text for need in linked)
        for comment in (
            await db.exec(
                select(Comment)
                .where(col(Comment.proposal_id).in_(proposal_ids))
                .order_by(col(Comment.id))
            )
        ).all():
            comments[comment.proposal_id].append(comment.text)
    document: dict[str, Any] = {
        "proposals": [
            {
                "id": pid,
                "text": texts.get(pid, ""),
                "needs": needs[pid],
                "comments": comments[pid],
            }
            for pid in proposal_ids
        ]
    }
    if poll is not None:
        options = (
            await db.exec(
                select(PollOption.label)
                .where(PollOption.poll_id == key(poll))
                .order_by(col(PollOption.position))
            )
        ).all()
        document["poll"] = {
            "question": poll.question,
            "method": poll.method,
            "rules": json.loads(poll.rules or "{}"),
            "secret": poll.secret,
            "binding": poll.binding,
            "options": list(options),
            "opened_at": iso_utc(poll.opened_at) if poll.opened_at else None,
            "closed_at": iso_utc(poll.closed_at) if poll.closed_at else None,
            "result": json.loads(poll.result) if poll.result else None,
        }
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


async def poll_provenance(db: AsyncSession, poll: Poll) -> str:
    proposal_ids = (
        await db.exec(
            select(PollOption.proposal_id)
            .where(PollOption.poll_id == key(poll), col(PollOption.proposal_id).is_not(None))
            .order_by(col(PollOption.position))
        )
    ).all()
    return await provenance(db, proposal_ids=[p for p in proposal_ids if p is not None], poll=poll)


# --- a session's decision on a proposal -----------------------------------------------


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
            provenance=await provenance(db, proposal_ids=[proposal_id]),
        )
        await append(db, decision)
        events.append(await record_event(db, session_id, seq, DecisionRecorded, proposal_id))
    await db.refresh(decision)
    return decision, events


# --- decisions written on the register itself -----------------------------------------


async def decision_in(
    *, db: AsyncSession, facilitator: Facilitator, project_id: int, decision_id: int
) -> Decision:
    """An entry of a project the facilitator runs: 404 if the project has no such entry,
    403 if the project is someone else's."""
    await project_for(db=db, facilitator=facilitator, project_id=project_id)
    decision = await db.get(Decision, decision_id)
    if decision is None or decision.project_id != project_id:
        raise NotFound(N_("This decision does not exist."))
    return decision


def _wording(text: str, note: str) -> tuple[str, str]:
    text, note = text.strip(), note.strip()
    if not text:
        raise Invalid(N_("Write what was decided."))
    if len(text) > MAX_PROPOSAL_CHARS:
        raise Invalid(
            N_("What was decided has at most %(max)d characters."), max=MAX_PROPOSAL_CHARS
        )
    if len(note) > MAX_NOTE_CHARS:
        raise Invalid(N_("The note has at most %(max)d characters."), max=MAX_NOTE_CHARS)
    return text, note


async def record_call(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    project_id: int,
    text: str,
    outcome: Outcome,
    note: str,
) -> Decision:
    """A decision taken without a vote in cocreate (by consensus, by the board…): the
    note says how."""
    text, note = _wording(text, note)
    if not note:
        raise Invalid(N_("Say how it was decided (by whom, in which meeting)."))
    await project_for(db=db, facilitator=facilitator, project_id=project_id)
    decision = Decision(
        project_id=project_id,
        decided_by_id=key(facilitator),
        proposal_text=text,
        outcome=outcome,
        votes_for=0,
        votes_against=0,
        votes_abstain=0,
        note=note,
        method=FACILITATORS_CALL,
        provenance=await provenance(db, proposal_ids=[]),
    )
    await append(db, decision)
    await db.commit()
    await db.refresh(decision)
    return decision


async def record_correction(
    *,
    db: AsyncSession,
    facilitator: Facilitator,
    project_id: int,
    decision_id: int,
    text: str,
    outcome: Outcome,
    note: str,
) -> Decision:
    """Correct an entry with a new one: its counts and its origin are the amended
    entry's, its wording and outcome are new, and the note says why."""
    text, note = _wording(text, note)
    if not note:
        raise Invalid(N_("Say why the decision is corrected."))
    amended = await decision_in(
        db=db, facilitator=facilitator, project_id=project_id, decision_id=decision_id
    )
    decision = Decision(
        project_id=amended.project_id,
        session_id=amended.session_id,
        amends_id=decision_id,
        decided_by_id=key(facilitator),
        proposal_text=text,
        outcome=outcome,
        votes_for=amended.votes_for,
        votes_against=amended.votes_against,
        votes_abstain=amended.votes_abstain,
        note=note,
        method=amended.method,
        summary=amended.summary,
        electorate_size=amended.electorate_size,
        turnout=amended.turnout,
        quorum_met=amended.quorum_met,
        ballots_sha256=amended.ballots_sha256,
        provenance=amended.provenance,
    )
    await append(db, decision)
    await db.commit()
    await db.refresh(decision)
    return decision


# --- reading the register ---------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A decision as the register shows it, with where it stands."""

    decision: Decision
    session_title: str | None  # None: decided outside a session
    provenance: dict[str, Any]
    follow_up: FollowUp | None
    amends: int | None = None  # the position of the entry it corrects
    corrected_by: list[int] = field(default_factory=list)  # positions of its corrections
    # Needs the entry copied that the room no longer sees (hidden since): left out of
    # ``provenance`` here, kept in the sealed copy.
    withheld_needs: int = 0
    # Its result waits for the facilitator's reveal (the vote step on it is running):
    # only its facilitator reads its outcome and counts until then.
    veiled: bool = False
    # A poll's decision: its result in the method's terms.
    result: MethodResult | None = None

    @property
    def needs(self) -> list[str]:
        """The needs the decided proposals answer, each once."""
        seen: list[str] = []
        for proposal in self.provenance.get("proposals", []):
            seen.extend(text for text in proposal.get("needs", []) if text not in seen)
        return seen


@dataclass(frozen=True)
class Register:
    project: Project
    entries: list[Entry]  # newest first
    verification: Verification

    def entry(self, decision_id: int) -> Entry:
        for entry in self.entries:
            if entry.decision.id == decision_id:
                return entry
        raise NotFound(N_("This decision does not exist."))


async def read(*, db: AsyncSession, project_id: int, reader: Facilitator | None) -> Register:
    """A project's register, for its facilitator always, for anyone once published;
    each entry's provenance without the needs the room no longer sees, and for anyone
    but its facilitator, the entries whose result waits for a reveal marked ``veiled``."""
    project = await db.get(Project, project_id)
    if project is None:
        raise NotFound(N_("This project does not exist."))
    is_owner = reader is not None and reader.id == project.owner_id
    if not is_owner and project.decisions_published_at is None:
        raise Forbidden(N_("The facilitator has not published these decisions."))
    rows = (
        await db.exec(
            select(Decision, Session.title)
            .outerjoin(Session, col(Session.id) == col(Decision.session_id))
            .where(Decision.project_id == project_id)
        )
    ).all()
    decisions = [d for d, _ in rows]
    follow_ups = await follow_up_of(db, [key(d) for d in decisions])
    positions = {key(d): d.position for d in decisions}
    corrections: dict[int, list[int]] = {}
    for d in sorted(decisions, key=lambda d: d.position):
        if d.amends_id is not None:
            corrections.setdefault(d.amends_id, []).append(d.position)
    sessions = sorted({d.session_id for d in decisions if d.session_id is not None})
    withheld = await withheld_texts(db, sessions)
    veiled = frozenset() if is_owner else await _veiled(db, sessions, decisions)
    results = await method_results(db, decisions)
    entries = []
    for d, title in sorted(rows, key=lambda row: (row[0].position, key(row[0])), reverse=True):
        origin, left_out = shown_provenance(
            json.loads(d.provenance or "{}"),
            withheld.get(d.session_id, frozenset()) if d.session_id is not None else frozenset(),
        )
        entries.append(
            Entry(
                decision=d,
                session_title=title,
                provenance=origin,
                follow_up=follow_ups.get(key(d)),
                amends=positions.get(d.amends_id) if d.amends_id is not None else None,
                corrected_by=corrections.get(key(d), []),
                withheld_needs=left_out,
                veiled=key(d) in veiled,
                result=results.get(key(d)),
            )
        )
    return Register(project, entries, check(project, decisions))


async def _veiled(
    db: AsyncSession, session_ids: Sequence[int], decisions: Sequence[Decision]
) -> frozenset[int]:
    """The entries whose result a running vote step still hides (``Stage.veiled``)."""
    running = (
        await db.exec(
            select(Session).where(
                col(Session.id).in_(session_ids), col(Session.current_step_id).is_not(None)
            )
        )
    ).all()
    veiled: set[int] = set()
    for session in running:
        stage = await agenda.stage_of(db, session)
        veiled |= stage.veiled(d for d in decisions if d.session_id == session.id)
    return frozenset(veiled)


def shown_provenance(
    provenance: dict[str, Any], withheld: frozenset[str]
) -> tuple[dict[str, Any], int]:
    """A provenance as the register shows it: without the needs the room no longer sees
    (``withheld``), and how many were left out. The sealed copy is not touched."""
    if not withheld:
        return provenance, 0
    left_out = 0
    proposals = []
    for proposal in provenance.get("proposals", []):
        copied = proposal.get("needs", [])
        kept = [text for text in copied if text not in withheld]
        left_out += len(copied) - len(kept)
        proposals.append({**proposal, "needs": kept})
    return {**provenance, "proposals": proposals}, left_out


async def follow_up_of(db: AsyncSession, decision_ids: Sequence[int]) -> dict[int, FollowUp]:
    if not decision_ids:
        return {}
    rows = await db.exec(select(FollowUp).where(col(FollowUp.decision_id).in_(decision_ids)))
    return {row.decision_id: row for row in rows.all()}


async def session_decisions(*, db: AsyncSession, session_id: int) -> list[Decision]:
    """A session's decisions, newest first, as its screens and minutes list them."""
    result = await db.exec(
        select(Decision)
        .where(Decision.session_id == session_id)
        .order_by(col(Decision.decided_at).desc(), col(Decision.id).desc())
    )
    return list(result.all())


# --- checking the chain ----------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    project_id: int
    entries: int  # entries found
    head: str  # the seal of the last entry found
    first_bad: int | None = None  # position of the first entry that does not match
    decision_id: int | None = None  # that entry's decision, when it exists
    reason: str = ""  # in English, for the command line and the logs

    @property
    def intact(self) -> bool:
        return self.first_bad is None


def check(project: Project, entries: Iterable[Decision]) -> Verification:
    """Walk the register in order of position and stop at the first entry that breaks
    the chain: a position out of sequence, a seal that is not the previous entry's, a
    content that does not match its own seal, or fewer entries than the project counts."""
    pid = key(project)
    ordered = sorted(entries, key=lambda d: (d.position, key(d)))
    positions = {key(d): d.position for d in ordered}
    expected_prev = GENESIS_HASH
    for number, decision in enumerate(ordered, start=1):
        amends = positions.get(decision.amends_id) if decision.amends_id is not None else None
        if decision.position != number:
            reason = (
                f"entry {number} is missing or out of place "
                f"(found decision {key(decision)} at position {decision.position})"
            )
        elif decision.prev_hash != expected_prev:
            reason = f"entry {number} is not chained to entry {number - 1}"
        elif decision.entry_hash != seal(decision.prev_hash, sealed_content(decision, amends)):
            reason = f"entry {number} does not match its seal: its content was changed"
        else:
            expected_prev = decision.entry_hash
            continue
        return Verification(pid, len(ordered), expected_prev, number, key(decision), reason)
    if project.register_length != len(ordered):
        # Fewer entries: the last ones were removed; more: some were added unsealed.
        number = min(project.register_length, len(ordered)) + 1
        extra = ordered[number - 1] if number <= len(ordered) else None
        return Verification(
            pid,
            len(ordered),
            expected_prev,
            number,
            key(extra) if extra is not None else None,
            f"the register has {len(ordered)} entries where the project sealed "
            f"{project.register_length}: entry {number} "
            + ("is missing" if extra is None else "was not sealed by the project"),
        )
    if project.register_head != expected_prev:
        return Verification(
            pid,
            len(ordered),
            expected_prev,
            len(ordered),
            key(ordered[-1]) if ordered else None,
            f"entry {len(ordered)} is not the last entry the project sealed",
        )
    return Verification(pid, len(ordered), expected_prev)


async def verify(db: AsyncSession, project_id: int) -> Verification:
    project = await db.get(Project, project_id, populate_existing=True)
    if project is None:
        raise NotFound(N_("This project does not exist."))
    # As stored now, not as this session may have loaded them before.
    entries = (
        await db.exec(
            select(Decision)
            .where(Decision.project_id == project_id)
            .execution_options(populate_existing=True)
        )
    ).all()
    return check(project, entries)


# --- a decision's result in its method's own terms --------------------------------------


@dataclass(frozen=True)
class Placed:
    """An option where the count placed it, with its figure as the method reads it
    (approvals, points, average score, duels won, majority grade, last-round votes)."""

    label: str
    figure: str  # in the stored result's notation; pages write it with ``|figure``
    won: bool


@dataclass(frozen=True)
class Round:
    """A round of an instant-runoff count, or a stage of a single transferable vote."""

    votes: list[tuple[str, str]]  # (option, votes), most first
    eliminated: list[str]
    elected: list[str]


@dataclass(frozen=True)
class MethodResult:
    """A poll's decision as its method tells it: for and against for a motion, winners
    and ranking for a choice between options, merit grades for majority judgment, rounds
    for IRV and STV, objections for consent."""

    method: str
    ballots: int
    winners: list[str]
    ranking: list[Placed]
    rounds: list[Round] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # yes/no and consent
    objections: list[str] = field(default_factory=list)
    stand_asides: list[str] = field(default_factory=list)
    max_score: int | None = None
    quota: str | None = None
    # Ties the count settled: (the options tied, "lot" or the method's own rule).
    ties: list[tuple[list[str], str]] = field(default_factory=list)
    weighted: bool = False  # weighed by college: a motion's tie is on weighted shares

    @property
    def has_for_against(self) -> bool:
        return self.method == "yes_no"


def _votes(value: Any) -> str:
    """An instant-runoff round's count: ballots, or (weighted by college) a share of the
    assembly, in the notation of the stored result ("12", "12.5 %"): pages write it in
    their language with the ``figure`` filter."""
    return str(value) if isinstance(value, int) else f"{float(value) * 100:.1f} %"


def method_result(result: dict[str, Any], labels: dict[str, str]) -> MethodResult:
    """A stored count (``voting.Count.as_json``), its option ids named by ``labels``."""
    method = str(result.get("method", ""))
    details: dict[str, Any] = result.get("details") or {}
    winners = [str(w) for w in result.get("winners", [])]

    def name(option: str) -> str:
        return labels.get(option, option)

    bars = {str(b["key"]): str(b["label"]) for b in result.get("bars", [])}
    order = [str(o) for o in details.get("ranking", [])]
    if method == "schulze":
        order = [str(o) for layer in details.get("ranking", []) for o in layer]
    if not order:
        order = list(bars)
    # The winners first (a tie the lot settled keeps them in one layer of the ranking).
    order = [o for o in order if o in winners] + [o for o in order if o not in winners]
    figures = dict(bars)
    if method == "judgment":
        profiles: dict[str, Any] = details.get("profiles", {})
        figures = {o: str(p.get("majority_grade", "")) for o, p in profiles.items()}
    ranking = [Placed(name(o), figures.get(o, ""), o in winners) for o in order]
    rounds: list[Round] = []
    if method == "irv":
        for each in details.get("rounds", []):
            counts: dict[str, Any] = each.get("counts", {})
            ordered = sorted(counts.items(), key=lambda kv: -Fraction(str(kv[1])))
            out = each.get("eliminated")
            gone = out if isinstance(out, list) else [out] if out else []
            rounds.append(
                Round([(name(o), _votes(v)) for o, v in ordered], [name(o) for o in gone], [])
            )
    elif method == "stv":
        for stage in details.get("stages", []):
            shown: dict[str, str] = stage.get("shown", {})
            ordered = sorted(
                shown.items(), key=lambda kv: -Fraction(str(stage.get("votes", {}).get(kv[0], 0)))
            )
            excluded = stage.get("excluded")
            gone = excluded if isinstance(excluded, list) else [excluded] if excluded else []
            rounds.append(
                Round(
                    [(name(o), v) for o, v in ordered],
                    [name(o) for o in gone],
                    [name(o) for o in stage.get("elected", [])],
                )
            )
    return MethodResult(
        method=method,
        ballots=int(result.get("ballots", 0)),
        winners=[name(w) for w in winners],
        ranking=ranking,
        rounds=rounds,
        counts={k: int(v) for k, v in (result.get("counts") or {}).items()},
        objections=[str(r) for r in details.get("objections", []) if r],
        stand_asides=[str(r) for r in details.get("stand_asides", []) if r],
        max_score=int(details["max"]) if method == "score" and "max" in details else None,
        quota=str(details["quota"]) if method == "stv" and "quota" in details else None,
        ties=[
            ([name(str(o)) for o in tie.get("options", [])], str(tie.get("broken_by", "")))
            for tie in result.get("ties", [])
        ],
        weighted="colleges" in details or bool(details.get("weighted")),
    )


async def method_results(
    db: AsyncSession, decisions: Iterable[Decision]
) -> dict[int, MethodResult]:
    """By decision id, the result of each decision a closed poll recorded."""
    by_poll = {d.poll_id: key(d) for d in decisions if d.poll_id is not None}
    if not by_poll:
        return {}
    found = (await db.exec(select(Poll).where(col(Poll.id).in_(list(by_poll))))).all()
    options = (
        await db.exec(select(PollOption).where(col(PollOption.poll_id).in_(list(by_poll))))
    ).all()
    labels: dict[int, dict[str, str]] = {}
    for option in options:
        labels.setdefault(option.poll_id, {})[str(key(option))] = option.label
    return {
        by_poll[key(poll)]: method_result(json.loads(poll.result), labels.get(key(poll), {}))
        for poll in found
        if poll.result
    }
