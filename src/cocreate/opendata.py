"""Open data: what a project did, as plain documents a script or a spreadsheet reads.

Two readers share these documents: the read-only JSON API (``views/api.py``, a token
per facilitator) and the downloads of a project's facilitator (CSV and JSON). The
serialisers are pure (rows in, ``dict`` out, ready for ``json.dumps``); the readers
gather the rows of one project its caller may read, in a read session.

What the documents hold, and what they leave out on purpose:

- Times are ISO 8601 in UTC to the second (``models.iso_utc``), dates ``YYYY-MM-DD``.
- Decimal numbers of indicators are given as stored (text, exact, as typed) and as a
  JSON number for convenience (``null`` when the text is not a finite number).
- Ballots are the anonymised files ``cocreate recount`` counts (``polls.ballot_file``):
  contents only, sorted, never a voter, a receipt or an order of casting.
- Contributions name no author (pseudonyms are often first names) and leave out what
  moderation hid and what was never approved (a duplicate merged into one of those, and
  the needs an idea answers among those, too): these files are meant to be published.
  The facilitator's own contributions CSV of a session keeps all of it.
- The register's entries leave out the needs hidden since they were copied
  (``register.shown_provenance``); ``withheld_needs`` says how many.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import minutes, polls, register
from cocreate.errors import NotFound
from cocreate.i18n import N_
from cocreate.minutes import CSV_COLUMNS, Cell, ContributionRow
from cocreate.models import (
    Decision,
    Facilitator,
    FollowUp,
    FollowUpUpdate,
    Indicator,
    IndicatorDecision,
    IndicatorMeasurement,
    Participant,
    Poll,
    PollOption,
    Project,
    Proposal,
    ProposalKind,
    Session,
    iso_utc,
    key,
)

Document = dict[str, Any]
# Numbers beyond this are not exact in a JSON reader's double: given as floats.
MAX_EXACT_JSON_INT = 2**53


def iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def decimal_number(text: str) -> int | float | None:
    """A stored decimal ("12.5", "3", "0,75" typed the French way) as a JSON number;
    None when it is not one, or not finite."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == value.to_integral_value() and abs(value) <= MAX_EXACT_JSON_INT:
        return int(value)
    number = float(value)
    return number if math.isfinite(number) else None


def measured(text: str | None) -> Document | None:
    """A decimal as stored and as a number: ``{"value": "12.5", "number": 12.5}``."""
    if text is None:
        return None
    return {"value": text, "number": decimal_number(text)}


# --- projects and sessions --------------------------------------------------------------


def session_status(session: Session) -> str:
    if session.closed_at is not None:
        return "closed"
    return "open" if session.opened_at is not None else "draft"


def project_document(project: Project) -> Document:
    return {
        "id": key(project),
        "title": project.title,
        "need": project.need,
        "territory": project.territory,
        "created_at": iso_utc(project.created_at),
        "decisions_published_at": iso(project.decisions_published_at),
        "register": {"length": project.register_length, "head": project.register_head},
    }


def session_document(session: Session) -> Document:
    return {
        "id": key(session),
        "project_id": session.project_id,
        "title": session.title,
        "place": session.place,
        "status": session_status(session),
        "created_at": iso_utc(session.created_at),
        "opened_at": iso(session.opened_at),
        "closed_at": iso(session.closed_at),
    }


def poll_document(poll: Poll, options: Sequence[PollOption]) -> Document:
    return {
        "id": key(poll),
        "question": poll.question,
        "method": poll.method,
        "rules": json.loads(poll.rules or "{}"),
        "secret": poll.secret,
        "binding": poll.binding,
        "options": [{"id": key(o), "label": o.label} for o in options],
        "opened_at": iso(poll.opened_at),
        "closed_at": iso(poll.closed_at),
        "previous_id": poll.previous_id,
        "electorate_size": poll.electorate_size,
        "quorum_met": poll.quorum_met,
        # Frozen at closing; None while the poll is open (no partial results here).
        "result": json.loads(poll.result) if poll.result else None,
        "ballots_sha256": poll.ballots_sha256,
    }


async def owned_project(*, db: AsyncSession, facilitator: Facilitator, project_id: int) -> Project:
    """The project if this facilitator runs it; NotFound otherwise, whether it exists or
    not, so that an API client learns nothing of other facilitators' projects."""
    project = await db.get(Project, project_id)
    if project is None or project.owner_id != facilitator.id:
        raise NotFound(N_("This project does not exist."))
    return project


async def owned_session(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int
) -> tuple[Session, Project]:
    """The session if its project is this facilitator's; NotFound otherwise (as above)."""
    session = await db.get(Session, session_id)
    project = await db.get(Project, session.project_id) if session is not None else None
    if session is None or project is None or project.owner_id != facilitator.id:
        raise NotFound(N_("This session does not exist."))
    return session, project


async def project_list(*, db: AsyncSession, facilitator: Facilitator) -> Document:
    rows = await db.exec(
        select(Project).where(Project.owner_id == key(facilitator)).order_by(col(Project.id))
    )
    return {"projects": [project_document(p) for p in rows.all()]}


async def _count(db: AsyncSession, statement: Any) -> int:
    return int((await db.exec(statement)).one())


async def project_detail(*, db: AsyncSession, project: Project) -> Document:
    """The project, and how many sessions, decisions and indicators it has."""
    pid = key(project)
    count = sa.func.count()
    return {
        **project_document(project),
        "counts": {
            "sessions": await _count(
                db, select(count).select_from(Session).where(Session.project_id == pid)
            ),
            "decisions": await _count(
                db, select(count).select_from(Decision).where(Decision.project_id == pid)
            ),
            "indicators": await _count(
                db, select(count).select_from(Indicator).where(Indicator.project_id == pid)
            ),
        },
    }


async def session_list(*, db: AsyncSession, project: Project) -> Document:
    rows = await db.exec(
        select(Session).where(Session.project_id == key(project)).order_by(col(Session.id))
    )
    return {"project_id": key(project), "sessions": [session_document(s) for s in rows.all()]}


async def session_detail(*, db: AsyncSession, session: Session) -> Document:
    """The session, who came (a count), what was contributed (counts of what the room
    saw), its polls once opened, and the decisions it took."""
    sid = key(session)
    count = sa.func.count()

    async def contributed(kind: ProposalKind) -> int:
        return await _count(
            db,
            select(count)
            .select_from(Proposal)
            .where(
                Proposal.session_id == sid,
                Proposal.kind == kind,
                col(Proposal.hidden_at).is_(None),
                col(Proposal.pending).is_(False),
                col(Proposal.merged_into_id).is_(None),
            ),
        )

    poll_rows = (
        await db.exec(
            select(Poll)
            .where(Poll.session_id == sid, col(Poll.opened_at).is_not(None))
            .order_by(col(Poll.id))
        )
    ).all()
    options: dict[int, list[PollOption]] = defaultdict(list)
    if poll_rows:
        for option in (
            await db.exec(
                select(PollOption)
                .where(col(PollOption.poll_id).in_([key(p) for p in poll_rows]))
                .order_by(col(PollOption.position), col(PollOption.id))
            )
        ).all():
            options[option.poll_id].append(option)
    decision_ids = (
        await db.exec(
            select(Decision.id).where(Decision.session_id == sid).order_by(col(Decision.position))
        )
    ).all()
    return {
        **session_document(session),
        "participants": await _count(
            db, select(count).select_from(Participant).where(Participant.session_id == sid)
        ),
        "contributions": {
            "needs": await contributed(ProposalKind.NEED),
            "ideas": await contributed(ProposalKind.IDEA),
        },
        "polls": [poll_document(p, options[key(p)]) for p in poll_rows],
        "decision_ids": [d for d in decision_ids if d is not None],
    }


# --- the decision register and its follow-up --------------------------------------------


def update_document(update: FollowUpUpdate) -> Document:
    return {
        "written_at": iso_utc(update.written_at),
        "status": str(update.status),
        "progress": update.progress,
        "note": update.note,
    }


def follow_up_document(follow_up: FollowUp, updates: Sequence[FollowUpUpdate]) -> Document:
    """Where carrying out a decision stands, and every update, oldest first."""
    return {
        "owner": follow_up.owner,
        "due_on": day(follow_up.due_on),
        "review_on": day(follow_up.review_on),
        "status": str(follow_up.status),
        "progress": follow_up.progress,
        "reason": follow_up.reason,
        "updated_at": iso_utc(follow_up.updated_at),
        "updates": [update_document(u) for u in updates],
    }


def entry_document(entry: register.Entry, updates: Sequence[FollowUpUpdate]) -> Document:
    """A register entry: what was decided, how, where it came from, its seal, and its
    follow-up."""
    d = entry.decision
    return {
        "id": key(d),
        "position": d.position,
        "project_id": d.project_id,
        "session_id": d.session_id,
        "session_title": entry.session_title,
        "proposal_id": d.proposal_id,
        "poll_id": d.poll_id,
        "decided_at": iso_utc(d.decided_at),
        "decided_by_id": d.decided_by_id,
        "text": d.proposal_text,
        "outcome": str(d.outcome),
        "method": d.method,
        "votes": {"for": d.votes_for, "against": d.votes_against, "abstain": d.votes_abstain},
        "summary": d.summary,
        "note": d.note,
        "electorate_size": d.electorate_size,
        "turnout": d.turnout,
        "quorum_met": d.quorum_met,
        "ballots_sha256": d.ballots_sha256,
        "amends_id": d.amends_id,
        "amends_position": entry.amends,
        "corrected_by": list(entry.corrected_by),
        "needs": entry.needs,
        "provenance": entry.provenance,
        "withheld_needs": entry.withheld_needs,
        "seal": {"prev_hash": d.prev_hash, "entry_hash": d.entry_hash},
        "follow_up": (
            follow_up_document(entry.follow_up, updates) if entry.follow_up is not None else None
        ),
    }


def verification_document(verification: register.Verification) -> Document:
    return {
        "intact": verification.intact,
        "entries": verification.entries,
        "head": verification.head,
        "first_bad": verification.first_bad,
        "decision_id": verification.decision_id,
        "reason": verification.reason,
    }


async def _updates(
    db: AsyncSession, decision_ids: Sequence[int]
) -> dict[int, list[FollowUpUpdate]]:
    found: dict[int, list[FollowUpUpdate]] = defaultdict(list)
    if decision_ids:
        for update in (
            await db.exec(
                select(FollowUpUpdate)
                .where(col(FollowUpUpdate.decision_id).in_(decision_ids))
                .order_by(col(FollowUpUpdate.written_at), col(FollowUpUpdate.id))
            )
        ).all():
            found[update.decision_id].append(update)
    return found


async def decisions(*, db: AsyncSession, facilitator: Facilitator, project: Project) -> Document:
    """The register, oldest entry first, with the check of its chain of seals."""
    found = await register.read(db=db, project_id=key(project), reader=facilitator)
    entries = sorted(found.entries, key=lambda e: (e.decision.position, key(e.decision)))
    updates = await _updates(db, [key(e.decision) for e in entries])
    return {
        "project_id": key(project),
        "verification": verification_document(found.verification),
        "decisions": [entry_document(e, updates[key(e.decision)]) for e in entries],
    }


async def follow_ups(*, db: AsyncSession, facilitator: Facilitator, project: Project) -> Document:
    """The decisions being carried out, with their follow-up and its history."""
    register_document = await decisions(db=db, facilitator=facilitator, project=project)
    return {
        "project_id": key(project),
        "follow_ups": [
            {
                "decision_id": entry["id"],
                "position": entry["position"],
                "text": entry["text"],
                "outcome": entry["outcome"],
                **entry["follow_up"],
            }
            for entry in register_document["decisions"]
            if entry["follow_up"] is not None
        ],
    }


# --- impact indicators ------------------------------------------------------------------


def indicator_document(
    indicator: Indicator,
    measurements: Sequence[IndicatorMeasurement],
    decision_ids: Sequence[int],
) -> Document:
    return {
        "id": key(indicator),
        "project_id": indicator.project_id,
        "family": str(indicator.family),
        "name": indicator.name,
        "unit": indicator.unit,
        "baseline": measured(indicator.baseline),
        "target": measured(indicator.target),
        "created_at": iso_utc(indicator.created_at),
        "decision_ids": sorted(decision_ids),
        "measurements": [
            {
                "id": key(m),
                "measured_on": m.measured_on.isoformat(),
                "value": measured(m.value),
                "note": m.note,
                "recorded_at": iso_utc(m.recorded_at),
            }
            for m in measurements
        ],
    }


async def indicators(*, db: AsyncSession, project: Project) -> Document:
    """The project's indicators, each with its measurements (oldest first) and the
    decisions whose impact it tells."""
    rows = (
        await db.exec(
            select(Indicator)
            .where(Indicator.project_id == key(project))
            .order_by(col(Indicator.id))
        )
    ).all()
    ids = [key(i) for i in rows]
    values: dict[int, list[IndicatorMeasurement]] = defaultdict(list)
    links: dict[int, list[int]] = defaultdict(list)
    if ids:
        for m in (
            await db.exec(
                select(IndicatorMeasurement)
                .where(col(IndicatorMeasurement.indicator_id).in_(ids))
                .order_by(col(IndicatorMeasurement.measured_on), col(IndicatorMeasurement.id))
            )
        ).all():
            values[m.indicator_id].append(m)
        for link in (
            await db.exec(
                select(IndicatorDecision).where(col(IndicatorDecision.indicator_id).in_(ids))
            )
        ).all():
            links[link.indicator_id].append(link.decision_id)
    return {
        "project_id": key(project),
        "indicators": [indicator_document(i, values[key(i)], links[key(i)]) for i in rows],
    }


# --- contributions and ballots ----------------------------------------------------------


def contribution_document(session: Session, row: ContributionRow) -> Document:
    is_proposal = row.type != "comment"
    return {
        "session_id": key(session),
        "session_title": session.title,
        "type": row.type,
        "id": row.id,
        "parent_id": row.parent_id,
        "text": row.text,
        "created_at": iso_utc(row.created_at),
        "status": row.status,
        "votes": (
            {"for": row.votes_for, "against": row.votes_against, "abstain": row.votes_abstain}
            if is_proposal
            else None
        ),
        "reactions": (
            {"agree": row.agree, "disagree": row.disagree, "pass": row.pass_}
            if is_proposal
            else None
        ),
        "answers_needs": list(row.answers_needs),
    }


async def proposals(*, db: AsyncSession, facilitator: Facilitator, project: Project) -> Document:
    """Every published need and idea of every session, with its counts, and the comments
    on them; in order of session, then as each session's contributions CSV lists them."""
    sessions = (
        await db.exec(
            select(Session).where(Session.project_id == key(project)).order_by(col(Session.id))
        )
    ).all()
    documents: list[Document] = []
    for session in sessions:
        rows = await minutes.contribution_rows(
            db=db, facilitator=facilitator, session_id=key(session)
        )
        # What the room sees now, and of the needs an idea answers, those it sees.
        shown_needs = {row.id for row in rows if row.type == "need" and row.status == "shown"}
        documents.extend(
            contribution_document(
                session,
                replace(row, answers_needs=tuple(n for n in row.answers_needs if n in shown_needs)),
            )
            for row in rows
            if row.published
        )
    return {"project_id": key(project), "contributions": documents}


async def ballots(*, db: AsyncSession, project: Project) -> Document:
    """The anonymised ballot file of every closed poll of the project, as
    ``cocreate recount`` reads it (its SHA-256 is the one frozen at closing)."""
    closed = (
        await db.exec(
            select(Poll)
            .join(Session, col(Session.id) == col(Poll.session_id))
            .where(Session.project_id == key(project), col(Poll.closed_at).is_not(None))
            .order_by(col(Poll.id))
        )
    ).all()
    return {
        "project_id": key(project),
        "polls": [
            {
                "poll_id": key(poll),
                "session_id": poll.session_id,
                "binding": poll.binding,
                "closed_at": iso(poll.closed_at),
                "ballots_sha256": poll.ballots_sha256,
                "ballot_file": json.loads(await polls.ballot_file(db, poll)),
            }
            for poll in closed
        ],
    }


# --- the downloads: datasets in CSV and JSON --------------------------------------------


Rows = Callable[[Document], Iterable[list[Cell]]]


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _proposal_rows(document: Document) -> Iterable[list[Cell]]:
    for c in document["contributions"]:
        votes, reactions = c["votes"] or {}, c["reactions"] or {}
        yield [
            c["session_id"],
            c["session_title"],
            c["type"],
            c["id"],
            c["parent_id"],
            c["text"],
            c["created_at"],
            c["status"],
            votes.get("for"),
            votes.get("against"),
            votes.get("abstain"),
            reactions.get("agree"),
            reactions.get("disagree"),
            reactions.get("pass"),
            " ".join(str(n) for n in c["answers_needs"]),
        ]


def _ballot_rows(document: Document) -> Iterable[list[Cell]]:
    for p in document["polls"]:
        poll = p["ballot_file"]["poll"]
        for number, content in enumerate(p["ballot_file"]["ballots"], start=1):
            yield [
                p["poll_id"],
                p["session_id"],
                poll["question"],
                poll["method"],
                _flag(poll["secret"]),
                _flag(p["binding"]),
                p["closed_at"],
                p["ballots_sha256"],
                number,
                json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")),
            ]


def _decision_rows(document: Document) -> Iterable[list[Cell]]:
    for d in document["decisions"]:
        follow = d["follow_up"] or {}
        yield [
            d["position"],
            d["id"],
            d["decided_at"],
            d["session_id"],
            d["session_title"],
            d["proposal_id"],
            d["poll_id"],
            d["text"],
            d["outcome"],
            d["method"],
            d["votes"]["for"],
            d["votes"]["against"],
            d["votes"]["abstain"],
            d["summary"],
            d["note"],
            d["electorate_size"],
            d["turnout"],
            _flag(d["quorum_met"]),
            d["ballots_sha256"],
            d["amends_position"],
            " ".join(str(n) for n in d["corrected_by"]),
            "\n".join(d["needs"]),
            follow.get("status"),
            follow.get("progress"),
            follow.get("owner"),
            follow.get("due_on"),
            follow.get("review_on"),
            d["seal"]["prev_hash"],
            d["seal"]["entry_hash"],
        ]


def _follow_up_rows(document: Document) -> Iterable[list[Cell]]:
    for f in document["follow_ups"]:
        for update in f["updates"]:
            yield [
                f["position"],
                f["decision_id"],
                f["text"],
                update["written_at"],
                update["status"],
                update["progress"],
                update["note"],
                f["owner"],
                f["due_on"],
                f["review_on"],
            ]


def _indicator_rows(document: Document) -> Iterable[list[Cell]]:
    for i in document["indicators"]:
        head = [
            i["id"],
            i["family"],
            i["name"],
            i["unit"],
            i["baseline"]["value"],
            i["target"]["value"] if i["target"] else None,
            " ".join(str(n) for n in i["decision_ids"]),
        ]
        if not i["measurements"]:
            yield [*head, None, None, None, None]
        for m in i["measurements"]:
            yield [*head, m["measured_on"], m["value"]["value"], m["note"], m["recorded_at"]]


@dataclass(frozen=True)
class Dataset:
    """One downloadable dataset: its CSV columns and how a document becomes rows."""

    columns: tuple[str, ...]
    rows: Rows


DATASETS: dict[str, Dataset] = {
    "proposals": Dataset(
        # The session's contributions CSV, with the session, and without authors.
        ("session_id", "session_title", *(c for c in CSV_COLUMNS if c != "author")),
        _proposal_rows,
    ),
    "ballots": Dataset(
        (
            "poll_id",
            "session_id",
            "question",
            "method",
            "secret",
            "binding",
            "closed_at",
            "ballots_sha256",
            "ballot_number",
            "ballot",
        ),
        _ballot_rows,
    ),
    "decisions": Dataset(
        (
            "position",
            "id",
            "decided_at",
            "session_id",
            "session_title",
            "proposal_id",
            "poll_id",
            "text",
            "outcome",
            "method",
            "votes_for",
            "votes_against",
            "votes_abstain",
            "summary",
            "note",
            "electorate_size",
            "turnout",
            "quorum_met",
            "ballots_sha256",
            "amends_position",
            "corrected_by",
            "needs",
            "follow_up_status",
            "follow_up_progress",
            "follow_up_owner",
            "follow_up_due_on",
            "follow_up_review_on",
            "prev_hash",
            "entry_hash",
        ),
        _decision_rows,
    ),
    "follow-up": Dataset(
        (
            "decision_position",
            "decision_id",
            "decision_text",
            "written_at",
            "status",
            "progress",
            "note",
            "owner",
            "due_on",
            "review_on",
        ),
        _follow_up_rows,
    ),
    "indicators": Dataset(
        (
            "indicator_id",
            "family",
            "name",
            "unit",
            "baseline",
            "target",
            "decision_ids",
            "measured_on",
            "value",
            "note",
            "recorded_at",
        ),
        _indicator_rows,
    ),
}
FORMATS = ("csv", "json")


async def dataset(
    *, db: AsyncSession, facilitator: Facilitator, project: Project, name: str
) -> Document:
    """The document of one dataset of a project its caller may read."""
    if name == "proposals":
        return await proposals(db=db, facilitator=facilitator, project=project)
    if name == "ballots":
        return await ballots(db=db, project=project)
    if name == "decisions":
        return await decisions(db=db, facilitator=facilitator, project=project)
    if name == "follow-up":
        return await follow_ups(db=db, facilitator=facilitator, project=project)
    if name == "indicators":
        return await indicators(db=db, project=project)
    raise NotFound(N_("This page does not exist."))


def to_csv(name: str, document: Document) -> str:
    """A dataset as CSV, formulas neutralised (``minutes.csv_text``)."""
    shape = DATASETS[name]
    return minutes.csv_text(shape.columns, shape.rows(document))


def to_json(document: Document) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
