"""The wall: a session's needs and proposals as each audience may see them.

A read model (nothing here writes): each proposal (or need) as its card shows it, with
its authors, tally, reactions, comments, the needs it answers, what was merged into it
and its decision. The console, the phones, the projector and the minutes read it here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

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
