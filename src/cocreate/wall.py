"""The wall: a session's needs and proposals as each audience may see them.

A read model (nothing here writes): each proposal (or need) as its card shows it, with
its authors, tally, reactions, comments, the needs it answers, what was merged into it
and its decision. The console, the phones, the projector and the minutes read it here.
"""

from __future__ import annotations

import bisect
import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import needs
from cocreate.models import (
    Comment,
    Decision,
    Participant,
    Proposal,
    ProposalKind,
    ProposalReaction,
    ProposalRevision,
    Reaction,
    Step,
    Vote,
)
from cocreate.needs import LinkedNeed
from cocreate.proposal_votes import Tally, tallies


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
    # The console's only: the step of the agenda that was running when it was written.
    step_id: int | None = None

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

    @property
    def support(self) -> int:
        """How much the room backs it: votes for, and agreements in a discussion."""
        return self.tally.votes_for + self.reactions.agree

    @property
    def discussion(self) -> tuple[int, int]:
        """How much the room talked about it: comments, then reactions of any kind."""
        return len(self.comments), self.reactions.total


class Sort(enum.StrEnum):
    """The console's orders for its walls (``?sort=``). The page's script sorts cards
    that arrive live the same way, from the same figures (``data-*`` of each card)."""

    NEWEST = "newest"  # waiting for approval first, then pinned, then newest
    SUPPORT = "support"  # most votes for and agreements first
    DISCUSSED = "discussed"  # most comments first, then most reactions


def sorted_wall(items: Sequence[WallItem], sort: Sort) -> list[WallItem]:
    """The items in the console's chosen order; ties go to the newest."""
    if sort is Sort.SUPPORT:
        return sorted(items, key=lambda item: (-item.support, -item.id))
    if sort is Sort.DISCUSSED:
        return sorted(items, key=lambda item: (-item.discussion[0], -item.discussion[1], -item.id))
    return sorted(items, key=lambda item: (not item.pending, not item.pinned, -item.id))


@dataclass(frozen=True)
class Filter:
    """Which cards the console shows (``?filter=``): all, those waiting for approval,
    the hidden ones, or those written during one step of the agenda (``step-ID``)."""

    name: str = "all"
    step_id: int | None = None

    @classmethod
    def parse(cls, raw: str | None) -> Filter | None:
        """The filter a query string names (all when absent), None if it names none."""
        if raw is None or raw in ("", "all"):
            return cls()
        if raw in ("pending", "hidden"):
            return cls(raw)
        prefix, _, number = raw.partition("-")
        if prefix == "step" and number.isdigit() and len(number) < 10:
            return cls("step", int(number))
        return None

    @property
    def value(self) -> str:
        return f"step-{self.step_id}" if self.name == "step" else self.name

    def keeps(self, item: WallItem) -> bool:
        if self.name == "pending":
            return item.pending
        if self.name == "hidden":
            return item.hidden
        if self.name == "step":
            return item.step_id == self.step_id
        return True


def assign_steps(items: Iterable[WallItem], steps: Iterable[Step]) -> None:
    """Note on each item the step that was running when it was written: the last one
    entered before it (a step entered again keeps its first start)."""
    started = sorted(
        (step.started_at, step.id) for step in steps if step.started_at and step.id is not None
    )
    starts: list[datetime] = [at for at, _ in started]
    for item in items:
        index = bisect.bisect_right(starts, item.proposal.created_at) - 1
        item.step_id = started[index][1] if index >= 0 else None


@dataclass
class WallCounts:
    """The console's live counters: contributions on the walls and votes cast."""

    ideas: int = 0
    needs: int = 0
    pending: int = 0
    hidden: int = 0
    votes: int = 0


async def counts(db: AsyncSession, session_id: int) -> WallCounts:
    """What the console's counters show, read now (merged duplicates are not counted:
    they live on in the proposal they were merged into)."""
    result = WallCounts()
    rows = await db.exec(
        select(
            Proposal.kind,
            col(Proposal.pending),
            col(Proposal.hidden_at).is_not(None),
            sa.func.count(),
        )
        .where(Proposal.session_id == session_id, col(Proposal.merged_into_id).is_(None))
        .group_by(col(Proposal.kind), col(Proposal.pending), col(Proposal.hidden_at).is_not(None))
    )
    for kind, pending, hidden, n in rows.all():
        if kind == ProposalKind.NEED:
            result.needs += n
        else:
            result.ideas += n
        result.pending += n if pending else 0
        result.hidden += n if hidden else 0
    votes = await db.exec(
        select(sa.func.count())
        .select_from(Vote)
        .join(Proposal, col(Proposal.id) == col(Vote.proposal_id))
        .where(Proposal.session_id == session_id, col(Vote.superseded_at).is_(None))
    )
    result.votes = votes.one()
    return result


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
