"""What is left of a session: its minutes (procès-verbal) and its contributions as rows.

The minutes gather what a printed record of the meeting shows: who ran it, who came,
the agenda, the needs and ideas shown with their counts, poll results and decisions.
The rows list every need, idea and comment, hidden and merged ones included, for a
spreadsheet. Both are for the session's facilitator only (``session_for`` checks).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import agenda, participants, polls, projects, proxies, register, roster, wall
from cocreate.database import core
from cocreate.figures import collation_key
from cocreate.models import (
    Comment,
    Decision,
    Facilitator,
    Member,
    Participant,
    Project,
    Proposal,
    ProposalKind,
    Session,
    Step,
    iso_utc,
    key,
)
from cocreate.steps import KIND_LABELS, StepKind
from cocreate.wall import WallItem

# --- the minutes ----------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaLine:
    """One step of the agenda as the minutes list it."""

    number: int  # 1-based, in agenda order
    kind: StepKind
    label: str  # the kind's name, marked for translation (the template translates it)
    title: str
    minutes: int | None  # planned; None: no timer
    started_at: datetime | None  # None: the room never reached it

    @property
    def started(self) -> bool:
        return self.started_at is not None


@dataclass(frozen=True)
class Contributions:
    """Needs or ideas of a session: those the room saw, and how many it did not."""

    shown: list[WallItem]  # oldest first
    hidden: int  # hidden by moderation
    pending: int  # still waiting for approval (never shown)
    # Ideas answering each need (for needs), by need id.
    answered_by: dict[int, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Minutes:
    session: Session
    project: Project
    facilitator_name: str
    joined: int  # participants who joined, removed ones included
    members_present: list[roster.MemberLine]  # joined with their voting code, by name
    members_represented: list[roster.MemberLine]  # absent, their proxy's holder present
    roster_size: int | None  # members on the organisation's roster (None: no roster)
    proxy_log: list[proxies.ProxyLine]
    steps: list[AgendaLine]
    needs: Contributions
    ideas: Contributions
    poll_views: list[polls.PollView]  # opened ones, oldest first
    decisions: list[Decision]  # oldest first
    # The result of each poll's decision in its method's terms, by decision id.
    results: dict[int, register.MethodResult] = field(default_factory=dict)


def agenda_lines(steps: Sequence[Step]) -> list[AgendaLine]:
    lines = []
    for number, step in enumerate(steps, start=1):
        kind = StepKind(step.kind)
        lines.append(
            AgendaLine(
                number=number,
                kind=kind,
                label=KIND_LABELS[kind],
                title=step.title,
                minutes=step.duration_s // 60 if step.duration_s else None,
                started_at=step.started_at,
            )
        )
    return lines


def _contributions(items: Iterable[WallItem], answers: Iterable[WallItem] = ()) -> Contributions:
    ordered = sorted(items, key=lambda item: item.id)
    shown = [item for item in ordered if item.shown]
    answered_by: dict[int, list[int]] = defaultdict(list)
    for idea in sorted(answers, key=lambda item: item.id):
        if idea.shown:
            for need_id, _ in idea.needs:
                answered_by[need_id].append(idea.id)
    return Contributions(
        shown=shown,
        hidden=sum(item.hidden for item in ordered),
        pending=sum(item.pending and not item.hidden for item in ordered),
        answered_by=dict(answered_by),
    )


async def _members(db: AsyncSession, ids: set[int]) -> list[roster.MemberLine]:
    """The members with these ids, by name, as plain rows (an assembly of thousands)."""
    if not ids:
        return []
    rows = await core(
        db,
        sa.select(*roster.MEMBER_LINE)
        .where(col(Member.id).in_(sorted(ids)))
        .order_by(col(Member.id)),
    )
    lines = [roster.MemberLine(*row) for row in rows.all()]
    return sorted(lines, key=lambda m: collation_key(m.name))


async def gather(*, db: AsyncSession, facilitator: Facilitator, session_id: int) -> Minutes:
    """Everything the minutes show; NotFound or Forbidden unless the facilitator runs it."""
    session, project = await projects.session_for(
        db=db, facilitator=facilitator, session_id=session_id
    )
    needs = await wall.wall(
        db=db, session_id=session_id, include_hidden=True, kind=ProposalKind.NEED
    )
    ideas = await wall.wall(
        db=db, session_id=session_id, include_hidden=True, kind=ProposalKind.IDEA
    )
    present = await roster.present_members(db=db, session_id=session_id)
    represented = await proxies.represented(db=db, session_id=session_id)
    organisation = await roster.organisation_of_session(db=db, session=session)
    poll_list = await polls.poll_views(db=db, session_id=session_id, include_drafts=False)
    decisions = await register.session_decisions(db=db, session_id=session_id)
    return Minutes(
        session=session,
        project=project,
        facilitator_name=facilitator.display_name,
        joined=await participants.participant_count(db=db, session_id=session_id),
        members_present=await _members(db, present),
        members_represented=await _members(db, represented),
        roster_size=(
            await roster.member_count(db=db, organisation=organisation)
            if organisation is not None
            else None
        ),
        proxy_log=await proxies.log(db=db, session_id=session_id),
        steps=agenda_lines(await agenda.steps_of(db, session_id)),
        needs=_contributions(needs, answers=ideas),
        ideas=_contributions(ideas),
        poll_views=sorted(poll_list, key=lambda view: view.id),
        decisions=sorted(decisions, key=lambda d: (d.decided_at, key(d))),
        results=await register.method_results(db, decisions),
    )


# --- the contributions as CSV ---------------------------------------------------------

CSV_COLUMNS = (
    "type",
    "id",
    "parent_id",
    "author",
    "text",
    "created_at",
    "status",
    "votes_for",
    "votes_against",
    "votes_abstain",
    "agree",
    "disagree",
    "pass",
    "answers_needs",
)
# What a spreadsheet would read as the start of a formula (or a DDE call).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | None


@dataclass(frozen=True)
class ContributionRow:
    """One need, idea or comment, as a line of the export."""

    type: str  # "need", "idea" or "comment"
    id: int
    parent_id: int | None  # the proposal a comment is on
    author: str
    text: str
    created_at: datetime
    status: str  # "shown", "hidden", "pending" or "merged into N"
    votes_for: int | None = None
    votes_against: int | None = None
    votes_abstain: int | None = None
    agree: int | None = None
    disagree: int | None = None
    pass_: int | None = None
    answers_needs: tuple[int, ...] = ()
    # The room sees it now (a merged duplicate: in the one it lives on in); not a column.
    published: bool = False

    def cells(self) -> list[Cell]:
        return [
            self.type,
            self.id,
            self.parent_id,
            self.author,
            self.text,
            iso_utc(self.created_at),
            self.status,
            self.votes_for,
            self.votes_against,
            self.votes_abstain,
            self.agree,
            self.disagree,
            self.pass_,
            " ".join(str(n) for n in self.answers_needs),
        ]


def _published(items: dict[int, WallItem]) -> set[int]:
    """Proposals the room sees now: shown, or merged (never hidden nor waiting) into
    one the room sees."""

    def seen(pid: int) -> bool:
        followed: set[int] = set()
        current: int | None = pid
        while current is not None and current in items and current not in followed:
            followed.add(current)
            proposal = items[current].proposal
            if proposal.hidden_at is not None or proposal.pending:
                return False
            if proposal.merged_into_id is None:
                return True
            current = proposal.merged_into_id
        return False

    return {pid for pid in items if seen(pid)}


def status_of(proposal: Proposal) -> str:
    if proposal.merged_into_id is not None:
        return f"merged into {proposal.merged_into_id}"
    if proposal.hidden_at is not None:
        return "hidden"
    if proposal.pending:
        return "pending"
    return "shown"


async def contribution_rows(
    *, db: AsyncSession, facilitator: Facilitator, session_id: int
) -> list[ContributionRow]:
    """Needs, then ideas, each followed by its comments, oldest first; merged duplicates,
    hidden and waiting ones included. A comment's status is its proposal's."""
    await projects.session_for(db=db, facilitator=facilitator, session_id=session_id)
    ids = (await db.exec(select(Proposal.id).where(Proposal.session_id == session_id))).all()
    # Given ids, the wall lists merged duplicates too (it leaves them out otherwise).
    items = await wall.wall(
        db=db,
        session_id=session_id,
        include_hidden=True,
        proposal_ids=[pid for pid in ids if pid is not None],
    )
    comments: dict[int, list[tuple[Comment, str]]] = defaultdict(list)
    if items:
        for comment, name in (
            await db.exec(
                select(Comment, Participant.display_name)
                .join(Participant, col(Participant.id) == col(Comment.author_id))
                .where(col(Comment.proposal_id).in_([item.id for item in items]))
                .order_by(col(Comment.id))
            )
        ).all():
            comments[comment.proposal_id].append((comment, name))
    kinds = {ProposalKind.NEED: 0, ProposalKind.IDEA: 1}
    published = _published({item.id: item for item in items})
    rows: list[ContributionRow] = []
    for item in sorted(items, key=lambda item: (kinds[item.proposal.kind], item.id)):
        status = status_of(item.proposal)
        answers = sorted(
            [need_id for need_id, _ in item.needs] + [n.id for n in item.withheld_needs]
        )
        rows.append(
            ContributionRow(
                type=str(item.proposal.kind),
                id=item.id,
                parent_id=None,
                author=item.author,
                text=item.proposal.text,
                created_at=item.proposal.created_at,
                status=status,
                votes_for=item.tally.votes_for,
                votes_against=item.tally.votes_against,
                votes_abstain=item.tally.votes_abstain,
                agree=item.reactions.agree,
                disagree=item.reactions.disagree,
                pass_=item.reactions.pass_,
                answers_needs=tuple(answers),
                published=item.id in published,
            )
        )
        rows.extend(
            ContributionRow(
                type="comment",
                id=key(comment),
                parent_id=item.id,
                author=name,
                text=comment.text,
                created_at=comment.created_at,
                status=status,
                published=item.id in published,
            )
            for comment, name in comments[item.id]
        )
    return rows


def neutralise(value: Cell) -> str:
    """A cell as text a spreadsheet shows as typed: a would-be formula gets a quote."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A header, then rows, every cell through ``neutralise``: no text someone wrote is
    run by a spreadsheet as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return out.getvalue()


def to_csv(rows: Iterable[ContributionRow]) -> str:
    return csv_text(CSV_COLUMNS, (row.cells() for row in rows))
