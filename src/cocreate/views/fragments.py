"""Live fragments: what each audience's screen must swap after a batch of events.

A batch is read from the database once, then rendered once per audience and language;
the same bytes go to every socket of that group. Fragments are drawn from the current
state of the regions they touch, so replaying an event is harmless.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from cocreate import contributions, polls
from cocreate.contributions import WallItem
from cocreate.events import (
    BallotCast,
    CommentAdded,
    DecisionRecorded,
    PollChanged,
    PollClosed,
    PollOpened,
    ProposalAdded,
    ProposalHidden,
    ProposalRestored,
    SessionClosed,
    SessionEvent,
    VoteCast,
    VoteClosed,
)
from cocreate.models import Comment, Decision, Proposal, Session, key
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
PROPOSAL_REGIONS = frozenset({CARD_INSERT, COMMENTS, TALLY, HIDE, RESTORE, CLOSED, DECIDED})
SESSION_WIDE = frozenset({DECISIONS, SESSION})
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
}


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
    proposal_ids = {pid for region, pid in regions if region in PROPOSAL_REGIONS}
    items = {
        item.id: item
        for item in await contributions.wall(
            db=db, session_id=session.id, include_hidden=True, proposal_ids=proposal_ids
        )
    }
    batch = Batch(session=session, last_seq=events[-1].seq, regions=list(regions), items=items)
    for region, pid in regions:
        if region == RESTORE:
            above = await db.exec(
                select(Proposal.id)
                .where(
                    Proposal.session_id == session.id,
                    col(Proposal.id) > pid,
                    col(Proposal.hidden_at).is_(None),
                )
                .order_by(col(Proposal.id))
                .limit(1)
            )
            batch.above[pid] = above.first()
    if any(region == DECISIONS for region, _ in regions):
        batch.decisions = await contributions.session_decisions(db=db, session_id=session.id)
    poll_ids = {pid for region, pid in regions if region in POLL_REGIONS}
    if poll_ids:
        views = await polls.poll_views(
            db=db, session_id=session.id, include_drafts=True, poll_ids=sorted(poll_ids)
        )
        batch.polls = {view.id: view for view in views}
    if any(region == SESSION for region, _ in regions):
        # A closed session closes every vote: phones redraw each vote region.
        batch.wall = await contributions.wall(db=db, session_id=session.id, include_hidden=False)
    return batch


class FragmentRenderer:
    """Draws live regions with the page's own partials, as out-of-band swaps."""

    def __init__(self, templates: Templates) -> None:
        self.templates = templates

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
            "lazy_vote": False,
            "sent": False,
            "error": None,
            "text": "",
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
            item = batch.items.get(pid) if region in PROPOSAL_REGIONS else None
            parts += self._draw(batch, region, item, audience, locale)
        return "".join(parts)

    def _draw(
        self,
        batch: Batch,
        region: str,
        item: WallItem | None,
        audience: Audience,
        locale: str,
    ) -> list[str]:
        """The fragments one touched region needs on one audience's screens."""

        def draw(name: str, **context: object) -> str:
            return self._region(name, audience, locale, batch.session, **context)

        phone, console = audience is Audience.PHONE, audience is Audience.CONSOLE
        if region == SESSION:
            parts = [draw("session_status")]
            if phone:  # a closed session closes every form on the phones
                parts.append(draw("propose_form"))
                for each in batch.wall:
                    parts += [draw("vote", item=each), draw("comment_form", proposal_id=each.id)]
            return parts
        if region == DECISIONS:
            return [] if phone else [draw("decisions", decisions=batch.decisions)]
        if item is None or (item.hidden and not console and region != HIDE):
            return []
        if region == HIDE and not console:
            return [f'<div id="proposal-{item.id}" hx-swap-oob="delete"></div>']
        if region in (CARD_INSERT, RESTORE) and not (console and region == RESTORE):
            above = batch.above.get(item.id) if region == RESTORE else None
            target = f"afterend:#proposal-{above}" if above else "afterbegin:#wall"
            # A restored card loads this phone's own vote when it lands.
            card = self.templates.render(
                "partials/card.html",
                locale=locale,
                audience=audience.value,
                oob=False,
                csrf_token=None,
                session=batch.session,
                item=item,
                my_choice=None,
                lazy_vote=region == RESTORE,
            )
            return [f'<div hx-swap-oob="{target}">{card}</div>']
        if region == TALLY:
            return [draw("tally", item=item)]
        if region == COMMENTS:
            count = draw("comment_count", item=item)
            return [count] if audience is Audience.SCREEN else [draw("comments", item=item), count]
        if console:  # hidden, restored, vote closed, decided: the console redraws the card
            return [draw("card", item=item)]
        parts = [draw("status", item=item)]
        if phone and region == CLOSED:
            parts.append(draw("vote", item=item))
        return parts

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
            return [self._region("poll_turnout", audience, locale, batch.session, view=view)]
        card = self.templates.render(
            "partials/poll.html",
            locale=locale,
            audience=audience.value,
            oob=False,
            csrf_token=None,
            session=batch.session,
            view=view,
            identities=None,  # a binding poll's card loads this phone's own ballots
            signed=set(),
        )
        # Inserted at the top; the page's script drops an older copy of the same card.
        return [f'<div hx-swap-oob="afterbegin:#polls">{card}</div>']

    def presence(self, audience: Audience, locale: str, connected: int, joined: int) -> str:
        return self._region("presence", audience, locale, None, connected=connected, joined=joined)

    async def snapshot(
        self,
        db: AsyncSession,
        session: Session,
        audience: Audience,
        locale: str,
        participant_id: int | None,
    ) -> str:
        """Every live region afresh, for a socket too far behind to catch up event by event."""
        session_id = key(session)
        seq = session.seq  # read before the state: the state is at least this recent
        items = await contributions.wall(
            db=db, session_id=session_id, include_hidden=audience is Audience.CONSOLE
        )
        choices = (
            await contributions.choices_of(
                db=db, session_id=session_id, participant_id=participant_id
            )
            if participant_id is not None
            else {}
        )
        parts = [
            self.seq_marker(seq),
            self._region("wall", audience, locale, session, items=items, choices=choices),
            self._region("session_status", audience, locale, session),
        ]
        if audience is not Audience.PHONE:
            decisions = await contributions.session_decisions(db=db, session_id=session_id)
            parts.append(self._region("decisions", audience, locale, session, decisions=decisions))
        return "".join(parts)
