"""Live fragments: what each audience's screen must swap after a batch of events.

A batch is read from the database once, then rendered once per audience and language;
the same bytes go to every socket of that group. Fragments are drawn from the current
state of the regions they touch, so replaying an event is harmless.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import agenda, contributions, moderation, polls, proxies
from cocreate.agenda import Stage
from cocreate.contributions import WallItem
from cocreate.events import (
    AgendaChanged,
    BallotCast,
    CommentAdded,
    DecisionRecorded,
    PollChanged,
    PollClosed,
    PollOpened,
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
    StepChanged,
    TimerChanged,
    VoteCast,
    VoteClosed,
)
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
from cocreate.templating import Templates


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
PROPOSAL_REGIONS = frozenset(
    {CARD_INSERT, COMMENTS, TALLY, HIDE, RESTORE, CLOSED, DECIDED, REDRAW, APPROVED, REACTIONS}
)
SESSION_WIDE = frozenset({DECISIONS, SESSION, STAGE, AGENDA, TIMER, ROOM, WITHDRAWN})
POLL_REGIONS = frozenset({POLL_CARD, POLL_TURNOUT})

_REGION_OF: dict[type[SessionEvent], tuple[str, ...]] = {
    ProposalAdded: (CARD_INSERT,),
    CommentAdded: (COMMENTS,),
    VoteCast: (TALLY,),
    ProposalHidden: (HIDE,),
    ProposalRestored: (RESTORE,),
    VoteClosed: (CLOSED,),
    DecisionRecorded: (DECIDED, DECISIONS),
    SessionClosed: (SESSION,),
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
}


K = TypeVar("K")
V = TypeVar("V")
SHARED_STAGE_SECONDS = 1.0  # a step's clock moves on without an event: read again after
SHARED_STAGE_ENTRIES = 1_000


class AtEventNumber(Generic[K, V]):
    """What was read or drawn for a session at an event number, served again while the
    session is still at that number, for at most ``seconds``.

    The event number is read before the value, so a value served is at least that
    recent, and whatever follows reaches its reader as any other change does (the
    socket catches up from there). ``seconds`` bounds what changes without an event.
    """

    def __init__(self, seconds: float, max_entries: int = SHARED_STAGE_ENTRIES) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[int, float, V]] = {}

    def get(self, key: K, seq: int) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != seq or time.monotonic() - entry[1] >= self.seconds:
            return None
        return entry[2]

    def keep(self, key: K, seq: int, value: V) -> None:
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: e for k, e in self._entries.items() if now - e[1] < self.seconds}
        self._entries[key] = (seq, now, value)


class SharedStages:
    """The part of a stage every phone (or screen) of a session sees alike, read once
    per event number and shared by the pages drawn meanwhile.

    A join storm loads thousands of phone pages of the same session within seconds, each
    with the same step, walls, polls and decisions: a dozen reads that were most of a
    join. An entry serves the pages of its session while the session is at the event
    number read before the entry (so the entry is at least that recent, and a page
    drawn from it catches up from there like any other), for at most a second. What
    is the phone's own (its votes, reactions, signatures) is read for each page.
    """

    def __init__(self) -> None:
        self._contexts: AtEventNumber[tuple[int, Audience], dict[str, Any]] = AtEventNumber(
            SHARED_STAGE_SECONDS
        )

    async def get(self, db: AsyncSession, session: Session, audience: Audience) -> dict[str, Any]:
        if audience is Audience.CONSOLE:  # hidden proposals and drafts: never shared
            return await _shared_context(db, session, audience)
        entry_key = (key(session), audience)
        context = self._contexts.get(entry_key, session.seq)
        if context is None:
            context = await _shared_context(db, session, audience)
            self._contexts.keep(entry_key, session.seq, context)
        return context


async def _shared_context(db: AsyncSession, session: Session, audience: Audience) -> dict[str, Any]:
    session_id = key(session)
    console = audience is Audience.CONSOLE
    return {
        "stage": await agenda.stage_of(db, session),
        "items": await contributions.wall(
            db=db, session_id=session_id, include_hidden=console, kind=ProposalKind.IDEA
        ),
        "needs": await contributions.wall(
            db=db, session_id=session_id, include_hidden=console, kind=ProposalKind.NEED
        ),
        "polls": await polls.poll_views(db=db, session_id=session_id, include_drafts=console),
        "decisions": await contributions.session_decisions(db=db, session_id=session_id),
    }


async def stage_context(
    db: AsyncSession,
    session: Session,
    audience: Audience,
    participant_id: int | None = None,
    *,
    newcomer: bool = False,
    shared: SharedStages | None = None,
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
            else await _shared_context(db, session, audience)
        ),
        "choices": {},
        "reactions_mine": {},
        "signed": set(),
        "identities": None,
        "withdrawn": [],
        "lazy_votes": True,
    }
    if participant_id is not None and newcomer:
        context |= {"identities": [None], "lazy_votes": False}
    elif participant_id is not None:
        voter = await db.get(Participant, participant_id)
        assert voter is not None
        context |= {
            "choices": await contributions.choices_of(
                db=db, session_id=session_id, participant_id=participant_id
            ),
            "reactions_mine": await contributions.reactions_of(
                db=db, session_id=session_id, participant_id=participant_id
            ),
            "signed": await polls.signed(db=db, voter=voter),
            "identities": await polls.identities(db=db, voter=voter),
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


async def panel_context(db: AsyncSession, session: Session) -> dict[str, object]:
    """What the console's agenda and room panels draw, read for a broadcast."""
    session_id = key(session)
    project = await db.get(Project, session.project_id)
    assert project is not None
    scripts = await db.exec(
        select(FacilitationScript)
        .where(FacilitationScript.owner_id == project.owner_id)
        .order_by(col(FacilitationScript.name))
    )
    return {
        "stage": await agenda.stage_of(db, session),
        "steps": await agenda.steps_of(db, session_id),
        "scripts": list(scripts.all()),
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
        for item in await contributions.wall(
            db=db, session_id=session.id, include_hidden=True, proposal_ids=proposal_ids
        )
    }
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
    if DECISIONS in touched:
        batch.decisions = await contributions.session_decisions(db=db, session_id=session.id)
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
    return batch


class FragmentRenderer:
    """Draws live regions with the page's own partials, as out-of-band swaps."""

    def __init__(self, templates: Templates, stages: SharedStages | None = None) -> None:
        self.templates = templates
        self.stages = stages or SharedStages()

    def _region(
        self,
        name: str,
        audience: Audience,
        locale: str,
        session: Session | None,
        **context: object,
    ) -> str:
        """One partial as an out-of-band swap, with the defaults a broadcast needs: no CSRF
        field (htmx sends the page's token as a header) and nobody's own vote."""
        defaults: dict[str, object] = {
            "my_choice": None,
            "my_reaction": None,
            "lazy_vote": False,
            "sent": False,
            "error": None,
            "text": "",
            "needs": [],
        }
        return self.templates.render(
            f"partials/{name}.html",
            locale=locale,
            audience=audience.value,
            oob=True,
            csrf_token=None,
            session=session,
            **(defaults | context),
        )

    @staticmethod
    def seq_marker(seq: int) -> str:
        return f'<div id="live-seq" hx-swap-oob="true" data-seq="{int(seq)}" hidden></div>'

    def render_batch(self, batch: Batch, audience: Audience, locale: str) -> str:
        parts = [self.seq_marker(batch.last_seq)]
        for region, pid in batch.regions:
            if region in POLL_REGIONS:
                parts += self._draw_poll(batch, region, batch.polls.get(pid), audience, locale)
                continue
            if region in SESSION_WIDE:
                parts += self._draw_session(batch, region, audience, locale)
                continue
            if region == MERGED:
                parts.append(f'<div id="proposal-{pid}" hx-swap-oob="delete"></div>')
                kept = batch.items.get(batch.merged.get(pid, 0))
                if kept is not None:
                    parts += self._draw(batch, REDRAW, kept, audience, locale)
                continue
            parts += self._draw(batch, region, batch.items.get(pid), audience, locale)
        return "".join(parts)

    def _draw_session(
        self, batch: Batch, region: str, audience: Audience, locale: str
    ) -> list[str]:
        """Regions of the whole session: the stage, the console's panels, the timer."""

        def draw(name: str, **context: object) -> str:
            return self._region(name, audience, locale, batch.session, **context)

        console = audience is Audience.CONSOLE
        if region == DECISIONS:
            return (
                [] if audience is Audience.PHONE else [draw("decisions", decisions=batch.decisions)]
            )
        if region == TIMER:
            return [draw("timer", stage=batch.stage)]
        if region == WITHDRAWN:
            return self._draw_withdrawn(batch, audience, locale)
        if region == SESSION:
            parts = [draw("session_status")]
            if not console:
                parts.append(draw("stage", **batch.stage_context))
            return parts
        if region == STAGE:
            if console:
                return [draw("agenda", **batch.console_context)]
            return [draw("stage", **batch.stage_context)]
        if not console:
            return []
        if region == AGENDA:
            return [draw("agenda", **batch.console_context)]
        return [draw("room", **batch.console_context)]  # ROOM

    def _card(
        self, batch: Batch, item: WallItem, audience: Audience, locale: str, *, oob: bool = False
    ) -> str:
        """A whole card; on a phone its vote region then loads the phone's own vote."""
        return self.templates.render(
            "partials/card.html",
            locale=locale,
            audience=audience.value,
            oob=oob,
            csrf_token=None,
            session=batch.session,
            stage=batch.stage,
            item=item,
            my_choice=None,
            my_reaction=None,
            lazy_vote=audience is Audience.PHONE,
        )

    def _draw(
        self,
        batch: Batch,
        region: str,
        item: WallItem | None,
        audience: Audience,
        locale: str,
    ) -> list[str]:
        """The fragments one touched region of a proposal needs on one audience's screens."""

        def draw(name: str, **context: object) -> str:
            return self._region(name, audience, locale, batch.session, stage=batch.stage, **context)

        phone, console = audience is Audience.PHONE, audience is Audience.CONSOLE
        if item is None:
            return []
        if not console and not item.shown and region != HIDE:
            return []
        if region == HIDE and not console:
            return [f'<div id="proposal-{item.id}" hx-swap-oob="delete"></div>']
        if region == APPROVED and console:
            region = REDRAW
        if region in (CARD_INSERT, RESTORE, APPROVED) and not (console and region == RESTORE):
            wall = "needs" if item.kind == ProposalKind.NEED else "wall"
            above = batch.above.get(item.id) if region != CARD_INSERT else None
            target = f"afterend:#proposal-{above}" if above else f"afterbegin:#{wall}"
            return [
                f'<div hx-swap-oob="{target}">{self._card(batch, item, audience, locale)}</div>'
            ]
        if region == REDRAW:
            return [self._card(batch, item, audience, locale, oob=True)]
        if region == TALLY:
            return [draw("tally", item=item)]
        if region == REACTIONS:
            return [draw("reaction_counts", item=item)]
        if region == COMMENTS:
            count = draw("comment_count", item=item)
            return [count] if audience is Audience.SCREEN else [draw("comments", item=item), count]
        if console:  # hidden, restored, vote closed, decided: the console redraws the card
            return [draw("card", item=item)]
        parts = [draw("status", item=item)]
        if phone and region == CLOSED:
            parts.append(draw("vote", item=item))
        return parts

    def _draw_withdrawn(self, batch: Batch, audience: Audience, locale: str) -> list[str]:
        """A proxy taken back: every phone loads its own ballots of the open binding
        polls again (as when one opens), the holder's without the principal's and
        saying why."""
        if audience is not Audience.PHONE:
            return []
        return [
            self._region(
                "ballots",
                audience,
                locale,
                batch.session,
                view=view,
                identities=None,
                signed=set(),
                withdrawn=[],
                reloading=True,
            )
            for view in batch.binding_polls
        ]

    def _draw_poll(
        self,
        batch: Batch,
        region: str,
        view: PollView | None,
        audience: Audience,
        locale: str,
    ) -> list[str]:
        """A poll's card when it appears, opens or closes; its turnout as ballots come in.
        Drafts are the console's only; phones and projector never see a running tally."""
        if view is None or (view.state == "draft" and audience is not Audience.CONSOLE):
            return []
        if region == POLL_TURNOUT:
            if view.state != "open":
                # Drawn as it is now: a closed card has no turnout line to update (its
                # close, in this frame or an earlier one, redraws the whole card).
                return []
            return [self._region("poll_turnout", audience, locale, batch.session, view=view)]
        card = self.templates.render(
            "partials/poll.html",
            locale=locale,
            audience=audience.value,
            oob=False,
            csrf_token=None,
            session=batch.session,
            stage=batch.stage,
            view=view,
            identities=None,  # a binding poll's card loads this phone's own ballots
            signed=set(),
        )
        # Inserted at the top; the page's script drops an older copy of the same card.
        return [f'<div hx-swap-oob="afterbegin:#polls">{card}</div>']

    def presence(
        self,
        audience: Audience,
        locale: str,
        connected: int,
        joined: int,
        roles: dict[Audience, int],
    ) -> str:
        return self._region(
            "presence", audience, locale, None, connected=connected, joined=joined, roles=roles
        )

    async def snapshot(
        self,
        db: AsyncSession,
        session: Session,
        audience: Audience,
        locale: str,
        participant_id: int | None,
    ) -> str:
        """Every live region afresh, for a socket too far behind to catch up event by event."""
        seq = session.seq  # read before the state: the state is at least this recent
        parts = [self.seq_marker(seq), self._region("session_status", audience, locale, session)]
        if audience is Audience.CONSOLE:
            context = await stage_context(db, session, audience)
            context |= await panel_context(db, session)
            for name in ("walls", "decisions", "agenda", "room", "polls"):
                parts.append(self._region(name, audience, locale, session, **context))
        else:
            context = await stage_context(db, session, audience, participant_id, shared=self.stages)
            parts.append(self._region("stage", audience, locale, session, **context))
        return "".join(parts)
