"""What a batch of events touches on each audience's screen, read from the database.

A batch names the regions of the screen its events touch (a proposal's card, its
tally, the stage…); what those regions show is read once for the batch, then drawn
once per audience and language (``live.frames``). Regions are drawn from the current
state, not from the events, so replaying an event is harmless. The stage's reads
serve the pages too (``stage_context``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import (
    agenda,
    moderation,
    needs,
    polls,
    presenter,
    proposal_votes,
    proposals,
    proxies,
    register,
    wall,
)
from cocreate.agenda import Stage
from cocreate.events import (
    AgendaChanged,
    BallotCast,
    CommentAdded,
    DecisionRecorded,
    PollChanged,
    PollClosed,
    PollOpened,
    PresenterChanged,
    ProposalAdded,
    ProposalApproved,
    ProposalChanged,
    ProposalHidden,
    ProposalMerged,
    ProposalRestored,
    ProxyWithdrawn,
    ReactionCast,
    RoomChanged,
    SessionClosed,
    SessionEvent,
    SessionReopened,
    StepChanged,
    TimerChanged,
    VoteCast,
    VoteClosed,
)
from cocreate.figures import collation_key
from cocreate.models import (
    Comment,
    Decision,
    FacilitationScript,
    Participant,
    Project,
    Proposal,
    ProposalKind,
    Session,
    key,
)
from cocreate.polls import PollView
from cocreate.wall import WallCounts, WallItem


class SharedStage(Protocol):
    """Where a page may take what every screen of its audience sees alike, read a moment
    ago at the same event number (``cache.SharedStages``, which reads with
    ``shared_context`` below: it is named by shape here so neither imports the other)."""

    async def get(
        self, db: AsyncSession, session: Session, audience: Audience
    ) -> dict[str, Any]: ...


class Audience(enum.StrEnum):
    PHONE = "phone"
    SCREEN = "screen"
    CONSOLE = "console"


# Region keys a batch touches, in the order first touched.
CARD_INSERT = "card_insert"
COMMENTS = "comments"
TALLY = "tally"
HIDE = "hide"
RESTORE = "restore"
CLOSED = "closed"
DECIDED = "decided"
DECISIONS = "decisions"
SESSION = "session"
POLL_CARD = "poll_card"
POLL_TURNOUT = "poll_turnout"
REDRAW = "redraw"  # corrected, pinned, linked: the whole card
APPROVED = "approved"
MERGED = "merged"  # subject: the duplicate, which leaves; the one kept is redrawn
REACTIONS = "reactions"
STAGE = "stage"  # the room moved to another step: phones and projector redraw it all
AGENDA = "agenda"
TIMER = "timer"
ROOM = "room"
WITHDRAWN = "withdrawn"  # a proxy taken back: its holder's ballots for the principal go
PRESENTER = "presenter"  # what the projector shows: the facilitator's choice
PROPOSAL_REGIONS = frozenset(
    {CARD_INSERT, COMMENTS, TALLY, HIDE, RESTORE, CLOSED, DECIDED, REDRAW, APPROVED, REACTIONS}
)
SESSION_WIDE = frozenset({DECISIONS, SESSION, STAGE, AGENDA, TIMER, ROOM, WITHDRAWN, PRESENTER})
POLL_REGIONS = frozenset({POLL_CARD, POLL_TURNOUT})
# What changes the console's counters (contributions on the walls, votes cast).
COUNTED = frozenset({CARD_INSERT, HIDE, RESTORE, APPROVED, MERGED, TALLY})
# What changes the things the console's presenter panel offers to put on the projector
# (the step's proposals and polls), besides another step.
PRESENTABLE = frozenset({CARD_INSERT, HIDE, RESTORE, APPROVED, MERGED, REDRAW, POLL_CARD})

_REGION_OF: dict[type[SessionEvent], tuple[str, ...]] = {
    ProposalAdded: (CARD_INSERT,),
    CommentAdded: (COMMENTS,),
    VoteCast: (TALLY,),
    ProposalHidden: (HIDE,),
    ProposalRestored: (RESTORE,),
    VoteClosed: (CLOSED,),
    DecisionRecorded: (DECIDED, DECISIONS),
    SessionClosed: (SESSION,),
    SessionReopened: (SESSION,),
    PollChanged: (POLL_CARD,),
    PollOpened: (POLL_CARD,),
    BallotCast: (POLL_TURNOUT,),
    PollClosed: (POLL_CARD, DECISIONS),
    ProposalChanged: (REDRAW,),
    ProposalApproved: (APPROVED,),
    ProposalMerged: (MERGED,),
    ReactionCast: (REACTIONS,),
    StepChanged: (STAGE,),
    AgendaChanged: (AGENDA,),
    TimerChanged: (TIMER,),
    RoomChanged: (ROOM,),
    ProxyWithdrawn: (WITHDRAWN,),
    PresenterChanged: (PRESENTER,),
}


async def shared_context(db: AsyncSession, session: Session, audience: Audience) -> dict[str, Any]:
    session_id = key(session)
    console = audience is Audience.CONSOLE
    return {
        "stage": await agenda.stage_of(db, session),
        "items": await wall.wall(
            db=db, session_id=session_id, include_hidden=console, kind=ProposalKind.IDEA
        ),
        "needs": await wall.wall(
            db=db, session_id=session_id, include_hidden=console, kind=ProposalKind.NEED
        ),
        "polls": await polls.poll_views(db=db, session_id=session_id, include_drafts=console),
        "decisions": await register.session_decisions(db=db, session_id=session_id),
    }


async def stage_context(
    db: AsyncSession,
    session: Session,
    audience: Audience,
    participant_id: int | None = None,
    *,
    newcomer: bool = False,
    shared: SharedStage | None = None,
) -> dict[str, Any]:
    """What ``partials/stage.html`` draws for an audience: the step and every wall.

    With a participant, their own votes and reactions too (a page or a snapshot); without
    (a broadcast), their vote regions load themselves. With ``shared``, what every phone
    sees alike may come from a page drawn a moment ago at the same event number. A
    ``newcomer`` participant (joined by the request drawing the page) has nothing of
    their own yet: no votes, reactions or signatures, and votes only for themselves."""
    session_id = key(session)
    context: dict[str, Any] = {
        **(
            await shared.get(db, session, audience)
            if shared is not None
            else await shared_context(db, session, audience)
        ),
        "choices": {},
        "reactions_mine": {},
        "signed": set(),
        "identities": None,
        "withdrawn": [],
        "lazy_votes": True,
    }
    if participant_id is not None and newcomer:
        context |= {"identities": [None], "lazy_votes": False, "is_member": False}
    elif participant_id is not None:
        voter = await db.get(Participant, participant_id)
        assert voter is not None
        context |= {
            "choices": await proposal_votes.choices_of(
                db=db, session_id=session_id, participant_id=participant_id
            ),
            "reactions_mine": await proposals.reactions_of(
                db=db, session_id=session_id, participant_id=participant_id
            ),
            "signed": await polls.signed(db=db, voter=voter),
            "identities": await polls.identities(db=db, voter=voter),
            "is_member": voter.member_id is not None,
            "withdrawn": (
                await proxies.withdrawn_from(
                    db=db, session_id=session_id, holder_id=voter.member_id
                )
                if voter.member_id is not None
                else []
            ),
            "lazy_votes": False,
        }
    return context


@dataclass
class Batch:
    session: Session
    last_seq: int
    regions: list[tuple[str, int]]
    items: dict[int, WallItem]
    # For a proposal shown again: the visible proposal just above it on the wall.
    above: dict[int, int | None] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)
    polls: dict[int, PollView] = field(default_factory=dict)
    wall: list[WallItem] = field(default_factory=list)
    stage: Stage | None = None
    # Drawn only when a batch needs them: the whole stage, the console's panels.
    stage_context: dict[str, object] = field(default_factory=dict)
    console_context: dict[str, object] = field(default_factory=dict)
    merged: dict[int, int] = field(default_factory=dict)  # duplicate → the one kept
    # A proxy taken back: the open binding polls, whose ballots each phone loads again.
    binding_polls: list[PollView] = field(default_factory=list)
    # What the projector shows, and what the console's presenter panel offers.
    presenter_context: dict[str, object] = field(default_factory=dict)
    # The console's counters, read when a card came, went or was voted on.
    counts: WallCounts | None = None


async def panel_context(db: AsyncSession, session: Session) -> dict[str, object]:
    """What the console's agenda and room panels draw, read for a broadcast."""
    session_id = key(session)
    project = await db.get(Project, session.project_id)
    assert project is not None
    scripts = await db.exec(
        select(FacilitationScript).where(FacilitationScript.owner_id == project.owner_id)
    )
    return {
        "stage": await agenda.stage_of(db, session),
        "steps": await agenda.steps_of(db, session_id),
        "scripts": sorted(scripts.all(), key=lambda script: collation_key(script.name)),
        "polls": await polls.poll_views(db=db, session_id=session_id, include_drafts=True),
        "participants": await moderation.participants(db=db, session_id=session_id),
    }


async def load_batch(db: AsyncSession, session: Session, events: list[SessionEvent]) -> Batch:
    assert session.id is not None
    assert events
    comment_ids = [e.subject_id for e in events if isinstance(e, CommentAdded)]
    proposal_of_comment: dict[int, int] = {}
    if comment_ids:
        rows = await db.exec(
            select(Comment.id, Comment.proposal_id).where(col(Comment.id).in_(comment_ids))
        )
        proposal_of_comment = {cid: pid for cid, pid in rows.all() if cid is not None}
    regions: dict[tuple[str, int], None] = {}
    for event in events:
        subject = event.subject_id
        if isinstance(event, CommentAdded):
            if subject not in proposal_of_comment:
                continue
            subject = proposal_of_comment[subject]
        for region in _REGION_OF[type(event)]:
            key = (region, 0 if region in SESSION_WIDE else subject)
            regions.setdefault(key, None)
    # A need hidden, shown again, approved or merged: the ideas answering it say so.
    changed = [pid for region, pid in regions if region in (HIDE, RESTORE, APPROVED, MERGED)]
    for idea_id in await needs.answering(db, changed):
        regions.setdefault((REDRAW, idea_id), None)
    touched = {region for region, _ in regions}
    merged: dict[int, int] = {}
    duplicates = [pid for region, pid in regions if region == MERGED]
    if duplicates:
        pairs = await db.exec(
            select(Proposal.id, Proposal.merged_into_id).where(col(Proposal.id).in_(duplicates))
        )
        merged = {dup: kept for dup, kept in pairs.all() if dup is not None and kept is not None}
    proposal_ids = {pid for region, pid in regions if region in PROPOSAL_REGIONS}
    proposal_ids |= set(merged.values())
    items = {
        item.id: item
        for item in await wall.wall(
            db=db, session_id=session.id, include_hidden=True, proposal_ids=proposal_ids
        )
    }
    if items:
        # The console files each card under the step it was written in.
        wall.assign_steps(items.values(), await agenda.steps_of(db, session.id))
    batch = Batch(
        session=session,
        last_seq=events[-1].seq,
        regions=list(regions),
        items=items,
        stage=await agenda.stage_of(db, session),
        merged=merged,
    )
    for region, pid in regions:
        if region in (RESTORE, APPROVED) and pid in items:
            above = await db.exec(
                select(Proposal.id)
                .where(
                    Proposal.session_id == session.id,
                    Proposal.kind == items[pid].proposal.kind,
                    col(Proposal.id) > pid,
                    col(Proposal.hidden_at).is_(None),
                    col(Proposal.pending).is_(False),
                    col(Proposal.merged_into_id).is_(None),
                )
                .order_by(col(Proposal.id))
                .limit(1)
            )
            batch.above[pid] = above.first()
    if touched & COUNTED:
        batch.counts = await wall.counts(db, session.id)
    if DECISIONS in touched:
        batch.decisions = await register.session_decisions(db=db, session_id=session.id)
    poll_ids = {pid for region, pid in regions if region in POLL_REGIONS}
    if poll_ids:
        views = await polls.poll_views(
            db=db, session_id=session.id, include_drafts=True, poll_ids=sorted(poll_ids)
        )
        batch.polls = {view.id: view for view in views}
    if WITHDRAWN in touched:
        views = await polls.poll_views(db=db, session_id=session.id, include_drafts=False)
        batch.binding_polls = [v for v in views if v.poll.binding and v.state == "open"]
    if touched & {STAGE, SESSION}:
        # A new step, or a closed session: phones and projector redraw the whole stage.
        batch.stage_context = await stage_context(db, session, Audience.PHONE)
    if touched & {STAGE, AGENDA, ROOM, TIMER}:
        batch.console_context = await panel_context(db, session)
    if touched & ({STAGE, PRESENTER} | PRESENTABLE):
        batch.presenter_context = await presenter_context(db, session)
    return batch


async def presenter_context(db: AsyncSession, session: Session) -> dict[str, object]:
    """What the projector's presenter region and the console's presenter panel draw."""
    return {
        "presented": presenter.shown_of(session),
        "presenter_choices": await presenter.choices(db, session),
    }
